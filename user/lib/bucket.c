// SPDX-License-Identifier: GPL-2.0-only
/* bucket.c - see bucket.h. */
#include <stdint.h>
#include <string.h>

#include "lib/bucket.h"

#define NSEC_PER_SEC	1000000000ULL

__u64 muldiv(__u64 a, __u64 b, __u64 c)
{
	unsigned __int128 r = (unsigned __int128)a * b / c;

	return r > UINT64_MAX ? UINT64_MAX : (__u64)r;
}

void bucket_from(struct tcbpf_bucket_cfg *b, __u64 rate, __u64 burst,
		 __u64 pps, __u64 pburst)
{
	memset(b, 0, sizeof(*b));
	b->rate_bits_per_sec = rate;
	b->burst_bytes = burst;
	if (rate)
		b->burst_ns = muldiv(burst, 8 * NSEC_PER_SEC, rate);
	b->pps = pps;
	if (pps) {
		/* Default packet burst: a tenth of a second, at least one. */
		b->pburst_pkts = pburst ? pburst : (pps / 10 ? pps / 10 : 1);
		b->pkt_ns = NSEC_PER_SEC / pps;
		b->pburst_ns = muldiv(b->pburst_pkts, NSEC_PER_SEC, pps);
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
