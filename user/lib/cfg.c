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
