/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * edt.h - Earliest Departure Time pacing on the bucket timelines.
 *
 * Instead of dropping what exceeds a bucket, stamp each packet with the
 * moment the bucket would have let it through and let the fq qdisc hold it
 * until then. On the GCRA timeline of bucket.h that moment is
 *
 *	departure = max(now, max(tat, now) + cost - max(tau, cost))
 *
 * so a full bucket still lets `burst` bytes go at once, and after that
 * packets leave at exactly the rate. The queue this builds is bounded: a
 * packet whose departure would lie more than `horizon` ahead is not queued
 * (the caller drops it), and past the ECN threshold the caller marks CE so
 * that ECN-capable senders slow down before anything is dropped.
 */
#ifndef TCBPF_EDT_H
#define TCBPF_EDT_H

#include "bucket.h"

/*
 * Advance the timeline at @tat by @cost. Returns the departure time
 * (>= now), or 0 when it would lie beyond now + @horizon.
 */
static __always_inline __u64 edt_take(__u64 *tat, __u64 now, __u64 cost,
				      __u64 tau, __u64 horizon)
{
	__u64 old, base, next, dep, span = tau > cost ? tau : cost;
	int i;

	for (i = 0; i < GCRA_RETRIES; i++) {
		old = READ_ONCE(*tat);
		base = old > now ? old : now;
		next = base + cost;
		dep = next - span;
		if ((__s64)(dep - now) < 0)
			dep = now;
		if (dep - now > horizon)
			return 0;
		if (__sync_val_compare_and_swap(tat, old, next) == old)
			return dep;
	}
	return 0;
}

#endif /* TCBPF_EDT_H */
