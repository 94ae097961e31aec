/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bucket.h - token buckets as GCRA timelines, exact across CPUs.
 *
 * A bucket is one 64-bit "theoretical arrival time" (tat, ns): the moment
 * the bucket would be full again. A packet of cost c (its length at the
 * rate, in ns) conforms when max(tat, now) + c - now <= tau, tau being the
 * burst expressed in ns; it then moves tat to max(tat, now) + c. The move is
 * a compare-and-swap, so two CPUs policing the same device never lose an
 * update, and no lock is taken.
 *
 * The same timeline is the pacer's: max(tat, now) is the earliest departure
 * time of the packet under the rate (EDT).
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
 * Take @cost from the bucket at @tat. Returns the packet's departure time
 * (>= now) when it conforms, 0 when there is no room.
 */
static __always_inline __u64 gcra_take(__u64 *tat, __u64 now, __u64 cost,
				       __u64 tau)
{
	__u64 old, base, next, limit = tau > cost ? tau : cost;
	int i;

	for (i = 0; i < GCRA_RETRIES; i++) {
		old = READ_ONCE(*tat);
		base = old > now ? old : now;
		next = base + cost;
		if (next - now > limit)
			return 0;
		if (__sync_val_compare_and_swap(tat, old, next) == old)
			return base;
	}
	return 0;
}

/* Give back what gcra_take() took when a second bucket refused. */
static __always_inline void gcra_refund(__u64 *tat, __u64 cost)
{
	__sync_fetch_and_add(tat, -cost);
}

#endif /* TCBPF_BUCKET_H */
