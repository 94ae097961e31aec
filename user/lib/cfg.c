// SPDX-License-Identifier: GPL-2.0-only
/* cfg.c - see cfg.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "lib/cfg.h"
#include "lib/units.h"
#include "lib/names.h"
#include "util/log.h"

#define NSEC_PER_SEC	1000000000ULL
#define FRAME_MAX	1514	/* a full-size Ethernet frame, as tc counts it */

/* a * b / c without overflowing the product; saturates at UINT64_MAX. */
static __u64 muldiv(__u64 a, __u64 b, __u64 c)
{
	unsigned __int128 r = (unsigned __int128)a * b / c;

	return r > UINT64_MAX ? UINT64_MAX : (__u64)r;
}

static void bucket_from(struct tcbpf_bucket_cfg *b, __u64 rate, __u64 burst,
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

/* Time on the wire of a full-size frame, or between packets at pps. */
static __u64 frame_ns(const struct tcbpf_bucket_cfg *b)
{
	__u64 t = b->rate_bits_per_sec ?
		  muldiv(FRAME_MAX * 8, NSEC_PER_SEC, b->rate_bits_per_sec) : 0;

	return b->pkt_ns > t ? b->pkt_ns : t;
}

/*
 * EDT queue bounds unless given: the horizon (tbf's "latency") holds at
 * least 50 ms or four frames at the rate, whichever is longer; CE marks
 * start at a quarter of it, but never under two frames, so a single
 * packet in the queue is never marked.
 */
static void edt_derive(struct tcbpf_cfg *cfg, const struct spec_dir *d)
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

void cfg_from_spec(struct tcbpf_cfg *cfg, const struct spec_dir *d)
{
	cfg->mode = d->mode;
	cfg->delay_ns = d->delay;
	cfg->nports = d->nports;
	memset(cfg->ports, 0, sizeof(cfg->ports));
	memcpy(cfg->ports, d->ports, d->nports * sizeof(d->ports[0]));
	bucket_from(&cfg->cls[TCBPF_CLASS_DEFAULT], d->rate, d->burst,
		    d->pps, d->pburst);
	bucket_from(&cfg->cls[TCBPF_CLASS_ALLOW], d->allow_rate,
		    d->allow_burst, 0, 0);
	edt_derive(cfg, d);
}

void cfg_to_spec(struct spec_dir *d, const struct tcbpf_cfg *cfg)
{
	const struct tcbpf_bucket_cfg *def = &cfg->cls[TCBPF_CLASS_DEFAULT];
	const struct tcbpf_bucket_cfg *alw = &cfg->cls[TCBPF_CLASS_ALLOW];

	memset(d, 0, sizeof(*d));
	d->mode = cfg->mode;
	/* Pacing was wanted but the kernel had no fq, or the device's
	 * qdisc tree was in the way: still wanted. */
	if (cfg->flags & (TCBPF_F_NO_FQ | TCBPF_F_TREE_KEPT))
		d->mode = TCBPF_MODE_EDT;
	d->delay = cfg->delay_ns;
	/* Only what was given survives a change; derived bounds re-derive. */
	if (cfg->flags & TCBPF_F_LATENCY_SET) {
		d->latency = cfg->horizon_ns;
		d->set |= SPEC_LATENCY;
	}
	if (cfg->flags & TCBPF_F_ECN_SET) {
		d->ecn = cfg->ecn_ns;
		d->set |= SPEC_ECN;
	}
	d->nports = cfg->nports < TCBPF_MAX_PORTS ? cfg->nports : TCBPF_MAX_PORTS;
	memcpy(d->ports, cfg->ports, d->nports * sizeof(d->ports[0]));
	d->rate = def->rate_bits_per_sec;
	d->burst = def->burst_bytes;
	d->pps = def->pps;
	d->pburst = def->pburst_pkts;
	d->allow_rate = alw->rate_bits_per_sec;
	d->allow_burst = alw->burst_bytes;
}

int cfg_validate(struct spec_dir *d, int dir, const char *dev)
{
	char b1[32], b2[32];

	if (dir == TCBPF_INGRESS && d->mode == TCBPF_MODE_EDT) {
		pr_warn("%s ingress: mode edt: traffic from the VM has no queue "
			"to wait in; it can only be policed\n", dev);
		return -EUSAGE;
	}
	if (dir == TCBPF_INGRESS && (d->set & SPEC_DELAY) && d->delay) {
		pr_warn("%s ingress: \"delay %s\": only traffic to the VM "
			"(egress) can be delayed\n", dev,
			fmt_time(b1, sizeof(b1), d->delay));
		return -EUSAGE;
	}
	if (d->burst && d->burst < FRAME_MAX)
		pr_warn("warning: %s %s: burst %s is smaller than a full-size "
			"frame (%db): full-size frames pass only one at a time\n",
			dev, dir_name(dir), fmt_size(b1, sizeof(b1), d->burst),
			FRAME_MAX);
	if (d->allow_burst && d->allow_burst < FRAME_MAX)
		pr_warn("warning: %s %s: allow-burst %s is smaller than a "
			"full-size frame (%db)\n", dev, dir_name(dir),
			fmt_size(b2, sizeof(b2), d->allow_burst), FRAME_MAX);
	return 0;
}

void spec_from_cfg(struct spec *s, const struct tcbpf_cfg cfg[TCBPF_NDIR])
{
	int dir;

	memset(s, 0, sizeof(*s));
	s->hook = TCBPF_HOOK_NONE;	/* keep the hook the device has */
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		struct spec_dir *d = &s->dir[dir];

		cfg_to_spec(d, &cfg[dir]);
		d->set |= SPEC_RATE | SPEC_BURST | SPEC_PPS | SPEC_PBURST |
			  SPEC_ALLOW | SPEC_ALLOW_RATE | SPEC_ALLOW_BURST |
			  SPEC_MODE | SPEC_DELAY;
		/*
		 * Pacing that fell back to policing for want of fq: leave mode
		 * and delay to attach's defaults (pace, else police), or attach
		 * would insist on pacing and fail.
		 */
		if (cfg[dir].flags & (TCBPF_F_NO_FQ | TCBPF_F_TREE_KEPT))
			d->set &= ~(SPEC_MODE | SPEC_DELAY);
	}
}
