/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bucket.h - token buckets as GCRA timelines, exact across CPUs.
 *
 * A bucket is one 64-bit "theoretical arrival time" (tat, ns): the moment
 * the bucket would be full again. A packet of cost c (its length at the
 * rate, in ns) moves tat to max(tat, now) + c; it may leave once that lies
 * no more than tau (the burst in ns) ahead, i.e. at
 *
 *	departure = max(now, max(tat, now) + c - max(tau, c))
 *
 * Policing wants departure == now or a drop; pacing (edt.h) accepts a
 * departure up to a horizon ahead. The move is a compare-and-swap, so two
 * CPUs on the same device never lose an update, and no lock is taken.
 *
 * A packet larger than the whole burst (a GSO super-packet at a low rate)
 * still passes when the bucket is full, driving tat into the future: the
 * long-term rate stays exact and such a packet is not dropped forever.
 */
#ifndef TCBPF_BUCKET_H
#define TCBPF_BUCKET_H

#ifndef READ_ONCE
#define READ_ONCE(x)		(*(volatile typeof(x) *)&(x))
#endif

#define NSEC_PER_SEC		1000000000ULL
/* CAS retries before giving up; contention beyond this is a verdict of
 * "no room", which errs on the side of the limit. */
#define GCRA_RETRIES		8

/* Cost in ns of @len bytes at @rate_bits bits/s; rate_bits != 0. */
static __always_inline __u64 bytes_cost_ns(__u64 len, __u64 rate_bits)
{
	return len * 8 * NSEC_PER_SEC / rate_bits;
}

/*
 * Take @cost from the bucket at @tat. Returns the departure time (>= now),
 * 0 when it would lie more than @ahead past now. The check comes before
 * the CAS, so a refused packet never moves the timeline.
 */
static __always_inline __u64 gcra_take(__u64 *tat, __u64 now, __u64 cost,
				       __u64 tau, __u64 ahead)
{
	__u64 old, next, wait, span = tau > cost ? tau : cost;
	int i;

	for (i = 0; i < GCRA_RETRIES; i++) {
		old = READ_ONCE(*tat);
		next = (old > now ? old : now) + cost;
		/* Compared before subtracting: a tau saturated near 2^64
		 * (a huge burst at a tiny rate) cannot wrap. */
		wait = next - now > span ? next - now - span : 0;
		if (wait > ahead)
			return 0;
		if (__sync_val_compare_and_swap(tat, old, next) == old)
			return now + wait;
	}
	return 0;
}

/*
 * Both buckets of a class: @segs packets and @len bytes. Returns the later
 * of the two departures, 0 when either refuses. A packet token already
 * taken is given back when the byte bucket refuses, or a byte flood would
 * drain the packet bucket with frames that never left.
 */
static __always_inline __u64 buckets_take(const struct tcbpf_bucket_cfg *bc,
					  struct tcbpf_bucket_state *bs,
					  __u64 now, __u64 len, __u64 segs,
					  __u64 ahead)
{
	__u64 t_pkt = now, t_byte = now, pcost = bc->pkt_ns * segs;

	if (bc->pps) {
		t_pkt = gcra_take(&bs->tat_pkts, now, pcost, bc->pburst_ns,
				  ahead);
		if (!t_pkt)
			return 0;
	}
	if (bc->rate_bits_per_sec) {
		t_byte = gcra_take(&bs->tat_bytes, now,
				   bytes_cost_ns(len, bc->rate_bits_per_sec),
				   bc->burst_ns, ahead);
		if (!t_byte) {
			if (bc->pps)
				__sync_fetch_and_add(&bs->tat_pkts, -pcost);
			return 0;
		}
	}
	return t_pkt > t_byte ? t_pkt : t_byte;
}

#endif /* TCBPF_BUCKET_H */
