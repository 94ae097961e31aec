/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bucket.h - token buckets as GCRA timelines, lock-free across CPUs.
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
 *
 * Policing spends tokens in batches (buckets_police()): a CPU that finds
 * its own tokens (struct tcbpf_local, per CPU) short takes a batch of
 * them from the shared timeline with one compare-and-swap and spends it
 * without reading the clock or touching the shared line again. Every
 * token is taken from the timeline before it is spent, so what passes
 * never exceeds rate x time + burst; what a CPU holds and has not spent
 * yet is at most one batch, and user/lib/bucket.c sizes the batches so
 * that all CPUs' together stay under 0.5 % of a second's worth of the
 * rate and a quarter of the burst: a CPU whose traffic stops keeps its
 * tokens (the rate errs low by that much until it is spent), and after an
 * idle period the burst may be exceeded by as much. A bucket with less
 * room than a batch gives what it has, if that covers the packet, so a
 * batch never causes a drop the exact GCRA would not make (but tokens
 * another CPU holds are not lent). EDT always takes exactly (edt.h's
 * departure times stay exact per class).
 */
#ifndef TCBPF_BUCKET_H
#define TCBPF_BUCKET_H

#ifndef READ_ONCE
#define READ_ONCE(x)		(*(volatile typeof(x) *)&(x))
#endif

#include "clock.h"

#define NSEC_PER_SEC		1000000000ULL
/* CAS retries before giving up; contention beyond this is a verdict of
 * "no room", which errs on the side of the limit. */
#define GCRA_RETRIES		8

/*
 * Cost in ns of @len bytes: len * 8e9 / rate without a division, from the
 * multiplier user/lib/bucket.c derived (whole ns and 2^-32 ns per byte,
 * rounded up): floor(len * 8e9 / rate) whenever that division is exact,
 * at most 1 ns over otherwise. No overflow for len < 2^31.
 */
static __always_inline __u64 bytes_cost_ns(const struct tcbpf_bucket_cfg *bc,
					   __u64 len)
{
	return len * bc->byte_ns + ((len * bc->byte_ns_frac) >> 32);
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

/* What one packet asks of a class's buckets in EDT mode. */
struct take {
	__u64 now;
	__u64 len;		/* bytes */
	__u64 segs;		/* packets */
	__u64 ahead;		/* the horizon: refused beyond now + ahead */
};

/*
 * Both buckets of a class: @t->segs packets and @t->len bytes. Returns
 * the later of the two departures, 0 when either refuses. A packet token
 * already taken is given back when the byte bucket refuses, or a byte
 * flood would drain the packet bucket with frames that never left.
 * Global, so that the verifier checks its two retry loops once and not
 * for every path of the program that calls it (the arguments in @t: a
 * BPF call takes five).
 */
__noinline __u64 buckets_take(const struct tcbpf_bucket_cfg *bc,
			      struct tcbpf_bucket_state *bs,
			      const struct take *t)
{
	__u64 t_pkt, t_byte, pcost;

	if (!bc || !bs || !t)	/* may be NULL: verifier */
		return 0;
	t_pkt = t_byte = t->now;
	pcost = bc->pkt_ns * t->segs;
	if (bc->pps) {
		t_pkt = gcra_take(&bs->tat_pkts, t->now, pcost, bc->pburst_ns,
				  t->ahead);
		if (!t_pkt)
			return 0;
	}
	if (bc->rate_bits_per_sec) {
		t_byte = gcra_take(&bs->tat_bytes, t->now,
				   bytes_cost_ns(bc, t->len), bc->burst_ns,
				   t->ahead);
		if (!t_byte) {
			if (bc->pps)
				__sync_fetch_and_add(&bs->tat_pkts, -pcost);
			return 0;
		}
	}
	return t_pkt > t_byte ? t_pkt : t_byte;
}

/* What @n units cost: bytes at the rate, or packets at pps. */
static __always_inline __u64 units_cost(const struct tcbpf_bucket_cfg *bc,
					bool bytes, __u64 n)
{
	return bytes ? bytes_cost_ns(bc, n) : n * bc->pkt_ns;
}

/*
 * Police: take from the bucket at @tat as many whole units (bytes or
 * packets) as it has room for, at most @batch and at least @need (whose
 * cost @cost must fit), and charge exactly what they cost: what is left
 * of a unit stays in the bucket. Returns the units taken, 0 refused.
 * @cost <= batch's cost <= @tau (bucket.c).
 */
static __always_inline __u64 gcra_take_units(const struct tcbpf_bucket_cfg *bc,
					     bool bytes, __u64 *tat, __u64 now,
					     __u64 need, __u64 cost,
					     __u64 batch, __u64 tau)
{
	__u64 per_ns = bytes ? bc->ns_bytes : bc->ns_pkts;
	__u64 most = bytes ? bc->batch_ns : bc->batch_pns;
	__u64 old, base, room, n;
	int i;

	for (i = 0; i < GCRA_RETRIES; i++) {
		old = READ_ONCE(*tat);
		base = old > now ? old : now;
		if (base - now + cost > tau)
			return 0;
		room = tau - (base - now);
		room = room < most ? room : most;
		/* per_ns rounds down, so n units never cost more than room;
		 * room < 2^64 / per_ns (bucket.c) */
		n = (room * per_ns) >> 32;
		n = n < batch ? n : batch;
		n = n > need ? n : need;
		if (__sync_val_compare_and_swap(tat, old,
						base + units_cost(bc, bytes, n)) == old)
			return n;
	}
	return 0;
}

enum taken {
	TAKEN_NONE,		/* refused */
	TAKEN_LOCAL,		/* from this CPU's tokens */
	TAKEN_SHARED,		/* exactly its cost, from the timeline */
};

/*
 * Police @need units (@bytes, else packets) when this CPU's tokens do not
 * cover them: from the shared timeline @tat up to a batch, at least @need,
 * whole units charged at exactly their cost, and what the packet leaves
 * of them stays local. Without batches, exactly the packet's cost.
 */
static __always_inline enum taken police_shared(const struct tcbpf_bucket_cfg *bc,
						bool bytes, __u64 *tat,
						__u32 *local, __u64 need,
						__u64 *now)
{
	__u64 batch = bytes ? bc->batch_bytes : bc->batch_pkts;
	__u64 tau = bytes ? bc->burst_ns : bc->pburst_ns;
	__u64 cost, got;

	cost = units_cost(bc, bytes, need);
	if (!*now)
		*now = clock_now();
	if (batch <= need)
		return gcra_take(tat, *now, cost, tau, 0) ? TAKEN_SHARED :
							    TAKEN_NONE;
	/* Up to a batch, at least the packet: what the bucket has. */
	got = gcra_take_units(bc, bytes, tat, *now, need, cost, batch, tau);
	if (!got)
		return TAKEN_NONE;
	/* local < need <= got <= batch: what is left fits in 32 bits */
	*local += got - need;
	return TAKEN_LOCAL;
}

/*
 * The shared timeline's two units as functions of their own (global:
 * the verifier checks each once, not once for every path of the caller;
 * their retry loops multiplied the programs' states by ten). Only a CPU
 * whose batch ran out calls them.
 */
__noinline int police_shared_bytes(const struct tcbpf_bucket_cfg *bc,
				   __u64 *tat, __u32 *local, __u64 need,
				   __u64 *now)
{
	if (!bc || !tat || !local || !now)	/* may be NULL: verifier */
		return TAKEN_NONE;
	return police_shared(bc, true, tat, local, need, now);
}

__noinline int police_shared_pkts(const struct tcbpf_bucket_cfg *bc,
				  __u64 *tat, __u32 *local, __u64 need,
				  __u64 *now)
{
	if (!bc || !tat || !local || !now)
		return TAKEN_NONE;
	return police_shared(bc, false, tat, local, need, now);
}

/*
 * Police @need units: this CPU's tokens first, else the timeline. The
 * clock is read (into *@now, 0 until then) only when the timeline is, and
 * not even then when jiffies tell that the bucket is so deep in debt that
 * it is certainly not yet the moment the packet would conform (clock.h):
 * a flood's drops never leave this function.
 */
static __always_inline enum taken police_take(const struct tcbpf_bucket_cfg *bc,
					      bool bytes, __u64 *tat,
					      __u32 *local, __u64 need,
					      __u64 *now)
{
	if (*local >= need) {
		*local -= need;
		return TAKEN_LOCAL;
	}
	if (!*now) {
		__u64 tau = bytes ? bc->burst_ns : bc->pburst_ns;
		__u64 cost = units_cost(bc, bytes, need);
		__u64 due = READ_ONCE(*tat) + cost, span = tau > cost ? tau : cost;

		/* Refused at every moment before due - span. */
		if (due > span && clock_before(due - span))
			return TAKEN_NONE;
		*now = clock_now();
	}
	return bytes ? police_shared_bytes(bc, tat, local, need, now) :
		       police_shared_pkts(bc, tat, local, need, now);
}

/*
 * Both buckets of a class, policing: true when the packet may pass. A
 * packet token already taken is given back when the byte bucket refuses
 * (to where it came from).
 */
static __always_inline bool buckets_police(const struct tcbpf_bucket_cfg *bc,
					   struct tcbpf_bucket_state *bs,
					   struct tcbpf_local *lc, __u64 len,
					   __u64 segs)
{
	enum taken p = TAKEN_LOCAL;
	__u64 now = 0;

	if (bc->pps) {
		p = police_take(bc, false, &bs->tat_pkts, &lc->pkts, segs,
				&now);
		if (p == TAKEN_NONE)
			return false;
	}
	if (bc->rate_bits_per_sec &&
	    police_take(bc, true, &bs->tat_bytes, &lc->bytes, len,
			&now) == TAKEN_NONE) {
		if (p == TAKEN_LOCAL)
			lc->pkts += bc->pps ? segs : 0;
		else
			__sync_fetch_and_add(&bs->tat_pkts, -(bc->pkt_ns * segs));
		return false;
	}
	return true;
}

#endif /* TCBPF_BUCKET_H */
