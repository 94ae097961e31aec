// SPDX-License-Identifier: GPL-2.0-only
/* bucket.c - see bucket.h. */
#include <stdint.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "lib/bucket.h"

#define NSEC_PER_SEC	1000000000ULL
/*
 * Police batches (bpf/bucket.h): all CPUs together hold at most this
 * share of a second's worth of the rate, and of the burst, unspent.
 */
#define BATCH_SEC_NS	(NSEC_PER_SEC / 200)	/* 0.5 % of a second */
#define BATCH_BURST_DIV	4			/* a quarter of the burst */
/* Fewer per batch than this and batching saves nothing: take exactly. */
#define BATCH_MIN_BYTES	(2 * FRAME_MAX)
#define BATCH_MIN_PKTS	2
#define BATCH_MAX	(1U << 31)

__u64 muldiv(__u64 a, __u64 b, __u64 c)
{
	unsigned __int128 r = (unsigned __int128)a * b / c;

	return r > UINT64_MAX ? UINT64_MAX : (__u64)r;
}

int bucket_cpus(void)
{
	static int n;

	if (!n) {
		n = libbpf_num_possible_cpus();
		if (n < 1)
			n = 64;		/* unknown: err towards small batches */
	}
	return n;
}

__u64 bucket_cost(const struct tcbpf_bucket_cfg *b, __u64 len)
{
	return len * b->byte_ns + ((len * b->byte_ns_frac) >> 32);
}

/*
 * How long a CPU's batch may last at the rate: 0.5 % of a second and a
 * quarter of the burst, shared by all CPUs.
 */
static __u64 batch_span(__u64 tau, int cpus)
{
	__u64 span = BATCH_SEC_NS;

	if (span > tau / BATCH_BURST_DIV)
		span = tau / BATCH_BURST_DIV;
	return span / cpus;
}

/* Bytes: the multiplier (8e9 / rate ns per byte, 32.32 fixed point,
 * rounded up) and the batch, whose cost comes from the same multiplier. */
static void bytes_from(struct tcbpf_bucket_cfg *b, __u64 rate, int cpus)
{
	unsigned __int128 m = (((unsigned __int128)8 * NSEC_PER_SEC << 32) +
			       rate - 1) / rate;
	__u64 n;

	b->byte_ns = (__u64)(m >> 32);
	b->byte_ns_frac = (__u32)m;
	n = muldiv(batch_span(b->burst_ns, cpus), rate, 8 * NSEC_PER_SEC);
	if (n < BATCH_MIN_BYTES)
		return;
	b->batch_bytes = n < BATCH_MAX ? n : BATCH_MAX;
	b->batch_ns = bucket_cost(b, b->batch_bytes);
	/* A part of a batch back into bytes: batch_ns * ns_bytes < 2^64. */
	b->ns_bytes = muldiv(rate, 1ULL << 32, 8 * NSEC_PER_SEC);
	if (b->ns_bytes > UINT64_MAX / b->batch_ns)
		b->batch_bytes = b->batch_ns = b->ns_bytes = 0;
}

static void pkts_from(struct tcbpf_bucket_cfg *b, int cpus)
{
	__u64 n;

	if (!b->pkt_ns)
		return;
	n = batch_span(b->pburst_ns, cpus) / b->pkt_ns;
	if (n < BATCH_MIN_PKTS)
		return;
	b->batch_pkts = n < BATCH_MAX ? n : BATCH_MAX;
	b->batch_pns = b->batch_pkts * b->pkt_ns;
	b->ns_pkts = (1ULL << 32) / b->pkt_ns;
	if (b->ns_pkts > UINT64_MAX / b->batch_pns)
		b->batch_pkts = b->batch_pns = b->ns_pkts = 0;
}

void bucket_from(struct tcbpf_bucket_cfg *b, __u64 rate, __u64 burst,
		 __u64 pps, __u64 pburst)
{
	int cpus = bucket_cpus();

	memset(b, 0, sizeof(*b));
	b->rate_bits_per_sec = rate;
	b->burst_bytes = burst;
	if (rate) {
		b->burst_ns = muldiv(burst, 8 * NSEC_PER_SEC, rate);
		bytes_from(b, rate, cpus);
	}
	b->pps = pps;
	if (pps) {
		/* Default packet burst: a tenth of a second, at least one. */
		b->pburst_pkts = pburst ? pburst : (pps / 10 ? pps / 10 : 1);
		b->pkt_ns = NSEC_PER_SEC / pps;
		b->pburst_ns = muldiv(b->pburst_pkts, NSEC_PER_SEC, pps);
		pkts_from(b, cpus);
	}
}

__u64 frame_ns(const struct tcbpf_bucket_cfg *b)
{
	__u64 t = b->rate_bits_per_sec ?
		  muldiv(FRAME_MAX * 8, NSEC_PER_SEC, b->rate_bits_per_sec) : 0;

	return b->pkt_ns > t ? b->pkt_ns : t;
}

/*
 * The derived horizon (tbf's "latency") holds at least 50 ms or four
 * frames at the rate, whichever is longer; CE marks start at a quarter of
 * it, but never under two frames, so a single packet in the queue is never
 * marked.
 */
void edt_derive(struct tcbpf_cfg *cfg, const struct spec_dir *d)
{
	__u64 f = frame_ns(&cfg->cls[TCBPF_CLASS_DEFAULT]);

	cfg->flags &= ~(TCBPF_F_LATENCY_SET | TCBPF_F_ECN_SET);
	if ((d->set & SPEC_LATENCY) && d->latency) {
		cfg->horizon_ns = d->latency;
		cfg->flags |= TCBPF_F_LATENCY_SET;
	} else {
		cfg->horizon_ns = 50 * NSEC_PER_SEC / 1000;
		if (cfg->horizon_ns < 4 * f)
			cfg->horizon_ns = 4 * f;
	}
	if (d->set & SPEC_ECN) {
		cfg->ecn_ns = d->ecn;
		cfg->flags |= TCBPF_F_ECN_SET;
	} else {
		cfg->ecn_ns = cfg->horizon_ns / 4;
		if (cfg->ecn_ns < 2 * f)
			cfg->ecn_ns = 2 * f;
		if (cfg->ecn_ns > cfg->horizon_ns)
			cfg->ecn_ns = cfg->horizon_ns;
	}
}

__u64 bucket_rescale(__u64 tat, __u64 now, __u64 old_rate, __u64 new_rate,
		     __u64 new_cap)
{
	__u64 level;

	if (tat <= now || !old_rate || !new_rate)
		return tat <= now ? tat : now;
	level = muldiv(tat - now, old_rate, new_rate);
	return now + (level < new_cap ? level : new_cap);
}
