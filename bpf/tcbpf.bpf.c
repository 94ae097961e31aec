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
/*
 * Packet headers (ethhdr, iphdr, ...) are UAPI: their layout never moves,
 * so no CO-RE relocations for them. Without any, libbpf need not read and
 * parse the kernel's BTF at each load (~60 ms here, ten times that under
 * emulation).
 */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "tcbpf.h"
#include "parse.h"
#include "bucket.h"
#include "edt.h"
#include "classify.h"

#define TC_ACT_UNSPEC	(-1)
#define TC_ACT_SHOT	2
/* BPF_SKB_TSTAMP_DELIVERY_MONO (6.1) == BPF_SKB_CLOCK_MONOTONIC (6.11+) */
#define BPF_SKB_TSTAMP_DELIVERY_MONO_	1

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
 * Run both buckets of one class. Policing: returns now when the packet
 * conforms, 0 when it must be dropped. EDT (@horizon != 0): returns the
 * packet's departure time, 0 when that lies beyond the horizon.
 */
static __always_inline __u64 buckets_take(const struct tcbpf_bucket_cfg *bc,
					  struct tcbpf_bucket_state *bs,
					  __u64 now, __u64 len, __u64 segs,
					  __u64 horizon)
{
	__u64 t_pkt = now, t_byte = now, cost, pcost = bc->pkt_ns * segs;

	if (bc->pps) {
		t_pkt = horizon ?
			edt_take(&bs->tat_pkts, now, pcost, bc->pburst_ns, horizon) :
			gcra_take(&bs->tat_pkts, now, pcost, bc->pburst_ns);
		if (!t_pkt)
			return 0;
	}
	if (bc->rate_bits_per_sec) {
		cost = bytes_cost_ns(len, bc->rate_bits_per_sec);
		t_byte = horizon ?
			edt_take(&bs->tat_bytes, now, cost, bc->burst_ns, horizon) :
			gcra_take(&bs->tat_bytes, now, cost, bc->burst_ns);
		if (!t_byte) {
			if (bc->pps)
				gcra_refund(&bs->tat_pkts, pcost);
			return 0;
		}
	}
	if (!horizon)
		return now;
	return t_pkt > t_byte ? t_pkt : t_byte;
}

/*
 * A TCP or UDP socket of this host sent @skb: the skb still holds it, and
 * its local port is the packet's source port (BPF_PROG_TEST_RUN's skbs
 * carry a dummy socket without a port).
 */
static __always_inline bool own_socket(const struct __sk_buff *skb,
				       const struct pkt *pkt)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk || !pkt->sport)
		return false;
	if (pkt->l4proto != IPPROTO_TCP && pkt->l4proto != IPPROTO_UDP)
		return false;
	return sk->src_port == pkt->sport;
}

/*
 * Pace: stamp the departure time for fq, plus the class's extra delay.
 * A timestamp already on the skb (TCP's own pacing) is kept when later,
 * unless it is not a plausible monotonic departure time at all.
 *
 * The delay skips packets that a socket of this host still owns (the
 * hypervisor's own connections; routed and bridged traffic has no socket
 * here): what the qdisc holds stays charged to its socket, so TCP small
 * queues (~2 packets per socket below TCP) would cap a connection at ~2
 * packets per delay, and a UDP socket at its sndbuf per delay, whatever
 * the rate. netem escapes that by orphaning what it holds; a tc program
 * cannot. Such packets are still paced at the class's rate. Pings (ping
 * and raw sockets) are probes, not bulk: delayed like everyone's, so a
 * ping from the hypervisor shows the delay.
 */
static __always_inline void edt_stamp(struct __sk_buff *skb,
				      const struct tcbpf_cfg *cfg, __u32 cls,
				      const struct pkt *pkt, __u64 now,
				      __u64 dep)
{
	__u64 cur = skb->tstamp;

	if (cls == TCBPF_CLASS_DEFAULT && !own_socket(skb, pkt))
		dep += cfg->delay_ns;
	if (cur > dep && cur - now <= cfg->horizon_ns + cfg->delay_ns)
		dep = cur;
	if (dep > now || cur > now)
		bpf_skb_set_tstamp(skb, dep, BPF_SKB_TSTAMP_DELIVERY_MONO_);
}

static __always_inline int limit(struct __sk_buff *skb, __u32 dir)
{
	struct tcbpf_key key = { .ifindex = skb->ifindex, .dir = dir };
	struct tcbpf_bucket_state *bs;
	const struct tcbpf_bucket_cfg *bc;
	struct tcbpf_counters *cnt;
	struct tcbpf_state *st;
	struct tcbpf_stats *stats;
	struct tcbpf_cfg *cfg;
	struct pkt pkt;
	__u64 len, segs, now, dep, horizon = 0;
	__u32 slot, cls;

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

	/*
	 * Count what goes on the wire: a GSO/GRO packet is gso_segs frames,
	 * each with its own copy of the headers, not one giant frame.
	 */
	len = skb->len;
	segs = skb->gso_segs;
	if (segs > 1 && pkt.hdr_len)
		len += (segs - 1) * pkt.hdr_len;
	if (!segs)
		segs = 1;
	/* Constant indexes keep the verifier's bounds simple. */
	if (cls == TCBPF_CLASS_ALLOW) {
		cnt = &stats->cls[TCBPF_CLASS_ALLOW];
		bc = &cfg->cls[TCBPF_CLASS_ALLOW];
		bs = &st->cls[TCBPF_CLASS_ALLOW];
	} else {
		cnt = &stats->cls[TCBPF_CLASS_DEFAULT];
		bc = &cfg->cls[TCBPF_CLASS_DEFAULT];
		bs = &st->cls[TCBPF_CLASS_DEFAULT];
	}

	if (cfg->mode == TCBPF_MODE_MONITOR)
		goto pass;

	now = bpf_ktime_get_ns();
	if (cfg->mode == TCBPF_MODE_EDT)
		horizon = cfg->horizon_ns ? cfg->horizon_ns : 1;
	dep = buckets_take(bc, bs, now, len, segs, horizon);
	if (!dep)
		goto drop;
	if (horizon) {
		/* Queue building past the threshold: ask the sender to back
		 * off (CE) before the horizon forces a drop. */
		if (cfg->ecn_ns && dep - now > cfg->ecn_ns &&
		    bpf_skb_ecn_set_ce(skb))
			cnt->mark_pkts++;
		edt_stamp(skb, cfg, cls, &pkt, now, dep);
	}
pass:
	cnt->pass_pkts += segs;
	cnt->pass_bytes += len;
	return TC_ACT_UNSPEC;
drop:
	cnt->drop_pkts += segs;
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
