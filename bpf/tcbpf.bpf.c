// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tcbpf.bpf.c - the limiter: one tc program per direction, shared by every
 * device it is attached to. Settings and state are looked up by ifindex and
 * direction, so the CLI changes rates by rewriting maps, never programs.
 *
 *   ingress: packets arriving on the device, i.e. FROM the VM: policed.
 *   egress:  packets leaving through the device, i.e. TO the VM: policed
 *            (EDT pacing with fq where the device has it).
 *
 * A passing packet gets TC_ACT_UNSPEC / TCX_NEXT so that filters of other
 * users behind us still run; an excess packet is dropped.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "tcbpf.h"
#include "parse.h"
#include "bucket.h"
#include "classify.h"

#define TC_ACT_UNSPEC	(-1)
#define TC_ACT_SHOT	2

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCBPF_MAX_SLOTS);
	__type(key, struct tcbpf_key);
	__type(value, struct tcbpf_cfg);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcbpf_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TCBPF_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct tcbpf_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcbpf_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCBPF_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct tcbpf_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcbpf_stats SEC(".maps");

/*
 * Run both buckets of one class. Returns the departure time (>= now) when
 * the packet conforms, 0 when it must be dropped.
 */
static __always_inline __u64 buckets_take(const struct tcbpf_bucket_cfg *bc,
					  struct tcbpf_bucket_state *bs,
					  __u64 now, __u64 len)
{
	__u64 t_pkt = now, t_byte = now, cost = 0;

	if (bc->pps) {
		t_pkt = gcra_take(&bs->tat_pkts, now, bc->pkt_ns, bc->pburst_ns);
		if (!t_pkt)
			return 0;
	}
	if (bc->rate_bits_per_sec) {
		cost = bytes_cost_ns(len, bc->rate_bits_per_sec);
		t_byte = gcra_take(&bs->tat_bytes, now, cost, bc->burst_ns);
		if (!t_byte) {
			if (bc->pps)
				gcra_refund(&bs->tat_pkts, bc->pkt_ns);
			return 0;
		}
	}
	return t_pkt > t_byte ? t_pkt : t_byte;
}

static __always_inline int limit(struct __sk_buff *skb, __u32 dir)
{
	struct tcbpf_key key = { .ifindex = skb->ifindex, .dir = dir };
	struct tcbpf_counters *cnt;
	struct tcbpf_state *st;
	struct tcbpf_stats *stats;
	struct tcbpf_cfg *cfg;
	struct pkt pkt;
	__u64 len = skb->len, now;
	__u32 slot, cls;
	int pass = 1;

	cfg = bpf_map_lookup_elem(&tcbpf_cfg, &key);
	if (!cfg)
		return TC_ACT_UNSPEC;
	slot = cfg->slot;
	st = bpf_map_lookup_elem(&tcbpf_state, &slot);
	stats = bpf_map_lookup_elem(&tcbpf_stats, &slot);
	if (!st || !stats)
		return TC_ACT_UNSPEC;

	parse_skb(skb, &pkt);
	cls = classify(cfg, &pkt, dir);
	/* A constant index keeps the verifier's bounds simple. */
	if (cls == TCBPF_CLASS_ALLOW)
		cnt = &stats->cls[TCBPF_CLASS_ALLOW];
	else
		cnt = &stats->cls[TCBPF_CLASS_DEFAULT];

	if (cfg->mode != TCBPF_MODE_MONITOR) {
		now = bpf_ktime_get_ns();
		if (cls == TCBPF_CLASS_ALLOW)
			pass = !!buckets_take(&cfg->cls[TCBPF_CLASS_ALLOW],
					      &st->cls[TCBPF_CLASS_ALLOW], now, len);
		else
			pass = !!buckets_take(&cfg->cls[TCBPF_CLASS_DEFAULT],
					      &st->cls[TCBPF_CLASS_DEFAULT], now, len);
	}

	if (pass) {
		cnt->pass_pkts++;
		cnt->pass_bytes += len;
		return TC_ACT_UNSPEC;
	}
	cnt->drop_pkts++;
	cnt->drop_bytes += len;
	return TC_ACT_SHOT;
}

SEC("tc")
int tcbpf_ingress(struct __sk_buff *skb)
{
	return limit(skb, TCBPF_INGRESS);
}

SEC("tc")
int tcbpf_egress(struct __sk_buff *skb)
{
	return limit(skb, TCBPF_EGRESS);
}
