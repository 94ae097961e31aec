// SPDX-License-Identifier: GPL-2.0-only
/* cfg.c - see cfg.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cfg.h"
#include "lib/bucket.h"
#include "lib/units.h"
#include "lib/names.h"
#include "util/log.h"

#define NSEC_PER_SEC	1000000000ULL

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
		/* A delay police or monitor does not enforce cannot be given
		 * (spec_validate refuses it): attach's default stands in, so
		 * only a non-default delay, unenforced anyway, is lost. */
		else if (d->mode != TCBPF_MODE_EDT && d->delay)
			d->set &= ~SPEC_DELAY;
		/* no packet bucket: "pps none", and a pburst would be refused */
		if (!d->pps)
			d->set &= ~SPEC_PBURST;
	}
}

void cfg_wanted(const struct spec *s, struct tcbpf_cfg cfg[TCBPF_NDIR])
{
	struct spec_dir dirs[TCBPF_NDIR];
	char err[256];
	int dir;

	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		spec_defaults(&dirs[dir], dir);
		if (dir == TCBPF_EGRESS)	/* to the VM, pace by default */
			dirs[dir].mode = TCBPF_MODE_EDT;
		spec_apply(&dirs[dir], &s->dir[dir]);
	}
	/* as attach checks it: also "delay" for both means egress */
	spec_validate(dirs, s, NULL, err, sizeof(err));
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		memset(&cfg[dir], 0, sizeof(cfg[dir]));
		cfg_from_spec(&cfg[dir], &dirs[dir]);
	}
}

bool cfg_same(const struct tcbpf_cfg *cur, const struct tcbpf_cfg *want)
{
	bool fell_back = cur->mode == TCBPF_MODE_POLICE &&
			 (cur->flags & (TCBPF_F_NO_FQ | TCBPF_F_TREE_KEPT));

	if (cur->mode != want->mode &&
	    !(want->mode == TCBPF_MODE_EDT && fell_back))
		return false;
	if (want->mode == TCBPF_MODE_EDT && !fell_back &&
	    (cur->horizon_ns != want->horizon_ns || cur->ecn_ns != want->ecn_ns))
		return false;
	return cur->delay_ns == want->delay_ns && cur->nports == want->nports &&
	       !memcmp(cur->ports, want->ports, sizeof(cur->ports)) &&
	       !memcmp(cur->cls, want->cls, sizeof(cur->cls));
}

bool cfg_tcp_burst_short(const struct tcbpf_cfg *cfg, int cls)
{
	const struct tcbpf_bucket_cfg *b = &cfg->cls[cls];

	return cfg->mode == TCBPF_MODE_POLICE && b->rate_bits_per_sec &&
	       b->burst_ns < SPEC_TCP_BURST_MS * 1000000ULL;
}
