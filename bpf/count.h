/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * count.h - what a packet weighs on the wire, and its class's counters.
 *
 * The buckets and the counters see the same weight, so what `tcbpf stats`
 * shows passing is what the rate was held against.
 */
#ifndef TCBPF_COUNT_H
#define TCBPF_COUNT_H

#include "parse.h"

struct wire {
	__u64 len;		/* bytes on the wire */
	__u64 segs;		/* frames on the wire, >= 1 */
};

/* What became of a packet. */
enum fate {
	FATE_PASS,
	FATE_MARK,		/* passed, marked CE */
	FATE_DROP,
	FATE_WOULD_DROP,	/* monitor: passed, the SPEC would drop it */
};

/*
 * A GSO/GRO packet is gso_segs frames on the wire, each with its own copy
 * of the headers, not one giant frame.
 */
static __always_inline void wire_of(struct wire *w,
				    const struct __sk_buff *skb,
				    const struct pkt *pkt)
{
	w->len = skb->len;
	w->segs = skb->gso_segs;
	if (w->segs > 1 && pkt->hdr_len)
		w->len += (w->segs - 1) * pkt->hdr_len;
	if (!w->segs)
		w->segs = 1;
}

/* Per-CPU counters: plain adds, the CLI sums the CPUs. */
static __always_inline void count(struct tcbpf_counters *c,
				  const struct wire *w, enum fate fate)
{
	if (fate == FATE_DROP) {
		c->drop_pkts += w->segs;
		c->drop_bytes += w->len;
		return;
	}
	if (fate == FATE_MARK)
		c->mark_pkts++;
	if (fate == FATE_WOULD_DROP) {
		c->wdrop_pkts += w->segs;
		c->wdrop_bytes += w->len;
	}
	c->pass_pkts += w->segs;
	c->pass_bytes += w->len;
}

#endif /* TCBPF_COUNT_H */
