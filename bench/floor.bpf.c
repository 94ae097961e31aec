// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * floor.bpf.c - reference programs for bench/ppcost.c, run under
 * BPF_PROG_TEST_RUN next to tcbpf's own programs in the same process:
 *
 *   bench_empty   an empty tc program: the cost of test_run's loop itself
 *   bench_floor   the least a rate limiter must do per packet: one clock
 *                 read, one array-map lookup, one compare-and-swap
 *
 * and probes that take tcbpf's work apart, each "empty + one thing":
 *
 *   probe_ktime   bpf_ktime_get_ns()
 *   probe_array   an array lookup (in the floor's array)
 *   probe_hash    a hash lookup that hits (a tcbpf_cfg device entry)
 *   probe_cas     an array lookup and a compare-and-swap on the value
 *   probe_parse   tcbpf's own frame parser (bpf/parse.h), nothing else
 *   probe_div     a hash lookup and one 64-bit division by a value from
 *                 it, as tcbpf's bytes_cost_ns() did per packet before
 *                 it became a multiplication
 *
 * The maps are tcbpf's own definitions (bpf/maps.h), so the lookups are
 * into maps of exactly tcbpf's shape; never pinned: each bench process
 * gets private copies.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "tcbpf.h"
/* Unpinned; the bench writes tcbpf_cfg key {0, 1} for probe_hash. */
#define TCBPF_MAPS_PRIVATE
#include "maps.h"
#include "parse.h"

#define TC_ACT_UNSPEC	(-1)

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * The floor's array: one 32-byte timeline a slot, as tcbpf's state array
 * was until layout 3 (the floor stays the same program whatever tcbpf's
 * maps become).
 */
struct floor_state {
	__u64 tat[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct floor_state);
} floor_state SEC(".maps");

/* Slot of the array the floor and CAS probes use (set before load). */
const volatile __u32 bench_slot = 0;

SEC("tc")
int bench_empty(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

SEC("tc")
int bench_floor(struct __sk_buff *skb)
{
	__u32 slot = bench_slot;
	struct floor_state *st;
	__u64 now, old;

	now = bpf_ktime_get_ns();
	st = bpf_map_lookup_elem(&floor_state, &slot);
	if (!st)
		return TC_ACT_UNSPEC;
	old = st->tat[0];
	__sync_val_compare_and_swap(&st->tat[0], old, now);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int probe_ktime(struct __sk_buff *skb)
{
	/* The result must be used, or the call could be dropped. */
	return bpf_ktime_get_ns() ? TC_ACT_UNSPEC : 0;
}

SEC("tc")
int probe_array(struct __sk_buff *skb)
{
	__u32 slot = bench_slot;

	return bpf_map_lookup_elem(&floor_state, &slot) ? TC_ACT_UNSPEC : 0;
}

SEC("tc")
int probe_hash(struct __sk_buff *skb)
{
	struct tcbpf_key key = { .ifindex = skb->ifindex };

	return bpf_map_lookup_elem(&tcbpf_cfg, &key) ? TC_ACT_UNSPEC : 0;
}

SEC("tc")
int probe_cas(struct __sk_buff *skb)
{
	__u32 slot = bench_slot;
	struct floor_state *st;
	__u64 old;

	st = bpf_map_lookup_elem(&floor_state, &slot);
	if (!st)
		return TC_ACT_UNSPEC;
	old = st->tat[0];
	__sync_val_compare_and_swap(&st->tat[0], old, old + 1);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int probe_parse(struct __sk_buff *skb)
{
	struct pkt p;

	parse_skb(skb, &p);
	return p.flags & PKT_PORTS ? TC_ACT_UNSPEC : 0;
}

SEC("tc")
int probe_div(struct __sk_buff *skb)
{
	struct tcbpf_key key = { .ifindex = skb->ifindex };
	struct tcbpf_dev *d = bpf_map_lookup_elem(&tcbpf_cfg, &key);
	__u64 rate;

	if (!d)
		return TC_ACT_UNSPEC;
	rate = d->dir[0].id | 1;
	return (__u64)skb->len * 8 * 1000000000ULL / rate ? TC_ACT_UNSPEC : 0;
}

SEC("tc")
int probe_coarse(struct __sk_buff *skb)
{
	return bpf_ktime_get_coarse_ns() ? TC_ACT_UNSPEC : 0;
}
