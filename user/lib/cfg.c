// SPDX-License-Identifier: GPL-2.0-only
/* cfg.c - see cfg.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "lib/cfg.h"

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

int cfg_free_slot(struct tcbpf *t, int also)
{
	static unsigned char used[TCBPF_MAX_SLOTS];
	struct tcbpf_key key, *prev = NULL;
	struct tcbpf_cfg cfg;
	int i;

	memset(used, 0, sizeof(used));
	if (also >= 0 && also < TCBPF_MAX_SLOTS)
		used[also] = 1;
	while (bpf_map_get_next_key(t->cfg_fd, prev, &key) == 0) {
		if (bpf_map_lookup_elem(t->cfg_fd, &key, &cfg) == 0 &&
		    cfg.slot < TCBPF_MAX_SLOTS)
			used[cfg.slot] = 1;
		prev = &key;
	}
	for (i = 0; i < TCBPF_MAX_SLOTS; i++)
		if (!used[i])
			return i;
	return -ENOSPC;
}

int cfg_slot_reset(struct tcbpf *t, __u32 slot)
{
	struct tcbpf_state st = {};
	struct tcbpf_stats *zero;
	int err = 0;

	if (bpf_map_update_elem(t->state_fd, &slot, &st, BPF_ANY))
		return -errno;
	zero = calloc(t->ncpus, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	if (bpf_map_update_elem(t->stats_fd, &slot, zero, BPF_ANY))
		err = -errno;
	free(zero);
	return err;
}

int cfg_read_stats(struct tcbpf *t, __u32 slot, struct tcbpf_stats *out)
{
	struct tcbpf_stats *per;
	int cpu, c, err = 0;

	memset(out, 0, sizeof(*out));
	per = calloc(t->ncpus, sizeof(*per));
	if (!per)
		return -ENOMEM;
	if (bpf_map_lookup_elem(t->stats_fd, &slot, per)) {
		err = -errno;
		goto out;
	}
	for (cpu = 0; cpu < t->ncpus; cpu++) {
		for (c = 0; c < TCBPF_NCLASS; c++) {
			struct tcbpf_counters *o = &out->cls[c];
			struct tcbpf_counters *p = &per[cpu].cls[c];

			o->pass_pkts += p->pass_pkts;
			o->pass_bytes += p->pass_bytes;
			o->drop_pkts += p->drop_pkts;
			o->drop_bytes += p->drop_bytes;
			o->mark_pkts += p->mark_pkts;
		}
	}
out:
	free(per);
	return err;
}

static __u64 rescale(__u64 tat, __u64 now, __u64 old_rate, __u64 new_rate,
		     __u64 new_cap)
{
	__u64 level;

	if (tat <= now || !old_rate || !new_rate)
		return tat <= now ? tat : now;
	level = muldiv(tat - now, old_rate, new_rate);
	return now + (level < new_cap ? level : new_cap);
}

int cfg_rescale_state(struct tcbpf *t, const struct tcbpf_cfg *old,
		      const struct tcbpf_cfg *new)
{
	struct tcbpf_state st;
	struct timespec ts;
	__u32 slot = new->slot;
	__u64 now;
	int c;

	if (bpf_map_lookup_elem(t->state_fd, &slot, &st))
		return -errno;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
	for (c = 0; c < TCBPF_NCLASS; c++) {
		const struct tcbpf_bucket_cfg *o = &old->cls[c], *n = &new->cls[c];
		struct tcbpf_bucket_state *s = &st.cls[c];

		s->tat_bytes = rescale(s->tat_bytes, now, o->rate_bits_per_sec,
				       n->rate_bits_per_sec, n->burst_ns);
		/* Packet timelines scale inversely with the packet rate. */
		s->tat_pkts = rescale(s->tat_pkts, now, o->pps, n->pps,
				      n->pburst_ns);
	}
	if (bpf_map_update_elem(t->state_fd, &slot, &st, BPF_EXIST))
		return -errno;
	return 0;
}
