/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * edt.h - Earliest Departure Time pacing on the bucket timelines.
 *
 * Instead of dropping what exceeds a bucket, stamp each packet with the
 * moment the bucket would have let it through (bucket.h's departure) and
 * let the fq qdisc hold it until then: a full bucket still lets `burst`
 * bytes go at once, after that packets leave at exactly the rate. The
 * queue this builds is bounded: a packet whose departure would lie more
 * than `horizon` ahead is dropped, and past the ECN threshold it is marked
 * CE so that ECN-capable senders slow down before anything is dropped.
 */
#ifndef TCBPF_EDT_H
#define TCBPF_EDT_H

#include "parse.h"

/* BPF_SKB_TSTAMP_DELIVERY_MONO (6.1) == BPF_SKB_CLOCK_MONOTONIC (6.11+) */
#define BPF_SKB_TSTAMP_DELIVERY_MONO_	1

/*
 * How far ahead bucket.h may place a departure: 0 when policing (conform
 * now or drop), the horizon when pacing. A zero horizon still paces, 1 ns
 * ahead at most, as it always has (the CLI never writes one).
 */
static __always_inline __u64 edt_horizon(const struct tcbpf_prof *cfg)
{
	if (cfg->mode != TCBPF_MODE_EDT)
		return 0;
	return cfg->horizon_ns ? cfg->horizon_ns : 1;
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
 * Pace a packet the buckets let leave at @dep: mark it CE when the queue
 * ahead of it is past the threshold (returns true when it did), and stamp
 * the departure time for fq, plus the class's extra delay. A timestamp
 * already on the skb (TCP's own pacing) is kept when later, unless it is
 * not a plausible monotonic departure time at all.
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
static __always_inline bool edt_pace(struct __sk_buff *skb,
				     const struct tcbpf_prof *cfg, __u32 cls,
				     const struct pkt *pkt, __u64 now,
				     __u64 dep)
{
	bool marked = cfg->ecn_ns && dep - now > cfg->ecn_ns &&
		      bpf_skb_ecn_set_ce(skb);
	__u64 cur = skb->tstamp;

	if (cls == TCBPF_CLASS_DEFAULT && !own_socket(skb, pkt))
		dep += cfg->delay_ns;
	if (cur > dep && cur - now <= cfg->horizon_ns + cfg->delay_ns)
		dep = cur;
	if (dep > now || cur > now)
		bpf_skb_set_tstamp(skb, dep, BPF_SKB_TSTAMP_DELIVERY_MONO_);
	return marked;
}

#endif /* TCBPF_EDT_H */
