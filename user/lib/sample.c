// SPDX-License-Identifier: GPL-2.0-only
/* sample.c - see sample.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sample.h"
#include "lib/maps.h"
#include "kern/hook.h"
#include "util/clock.h"

const char *const rate_name[RATE_N] = { "seen", "passed", "dropped",
					 "would_drop" };

struct walk {
	struct sample_set *s;
	unsigned int flags;
};

static struct dev_sample *sample_slot(struct sample_set *s, int ifindex,
				      const char *name)
{
	struct dev_sample *d;
	int i;

	for (i = 0; i < s->n; i++)
		if (s->devs[i].ifindex == ifindex)
			return &s->devs[i];
	d = realloc(s->devs, (s->n + 1) * sizeof(*d));
	if (!d)
		return NULL;
	s->devs = d;
	d = &s->devs[s->n++];
	memset(d, 0, sizeof(*d));
	d->ifindex = ifindex;
	snprintf(d->ifname, sizeof(d->ifname), "%s", name);
	netid_of_name(d->ifname, d->netid, sizeof(d->netid));
	return d;
}

/* One direction of a device found by the walk. */
static void sample_dir(struct tcbpf *t, struct walk *w, struct dev_sample *d,
		       const struct tcbpf_cfg *cfg, int dir)
{
	d->have[dir] = true;
	d->cfg[dir] = *cfg;
	d->prog_id[dir] = t->prog_id[dir];
	if ((w->flags & SAMPLE_STATS) &&
	    maps_read_stats(t, d->ifindex, dir, &d->st[dir]))
		d->have[dir] = false;
}

static int sample_one(struct tcbpf *t, const struct tcbpf_key *key,
		      const struct maps_dev *dev, void *ctx)
{
	struct walk *w = ctx;
	char name[IF_NAMESIZE];
	const char *ifname;
	struct dev_sample *d;
	bool here;
	int dir;

	/* ifindexes mean something only in their own namespace */
	if (key->netns != t->netns)
		return 0;
	ifname = dev->dir[maps_dev_has(dev, TCBPF_INGRESS) ?
			  TCBPF_INGRESS : TCBPF_EGRESS].ifname;
	here = if_indextoname(key->ifindex, name) &&
	       !strncmp(name, ifname, sizeof(dev->dir[0].ifname));
	if (!here && !(w->flags & SAMPLE_GONE))
		return 0;
	d = sample_slot(w->s, key->ifindex, ifname);
	if (!d)
		return -ENOMEM;
	d->here = here;
	for (dir = 0; dir < TCBPF_NDIR; dir++)
		if (maps_dev_has(dev, dir))
			sample_dir(t, w, d, &dev->dir[dir], dir);
	/* a VXLAN underlay: what each network carried */
	free(d->vnis);
	d->vnis = NULL;
	d->nvni = 0;
	if ((w->flags & SAMPLE_STATS) &&
	    (d->cfg[d->have[0] ? 0 : 1].flags & TCBPF_F_VXLAN) &&
	    vni_counts(t, key->ifindex, &d->vnis, &d->nvni))
		d->nvni = 0;
	/* per device: a slow walk must not skew its interval */
	d->mono_ns = mono_ns();
	return 0;
}

static int sample_cmp(const void *a, const void *b)
{
	const struct dev_sample *x = a, *y = b;

	return strcmp(x->ifname, y->ifname);
}

int sample_read(struct tcbpf *t, unsigned int flags, struct sample_set *s)
{
	struct walk w = { .s = s, .flags = flags };
	int i, d, err = 0;

	memset(s, 0, sizeof(*s));
	if (t)
		err = maps_foreach(t, sample_one, &w);
	if (err) {
		sample_free(s);
		return err;
	}
	for (i = 0; (flags & SAMPLE_HOOKS) && i < s->n; i++)
		for (d = 0; d < TCBPF_NDIR; d++)
			s->devs[i].hook_seen[d] = s->devs[i].here ?
				hook_query(s->devs[i].ifindex, d, t->prog_id[d]) :
				TCBPF_HOOK_NONE;
	/* one timestamp for the whole set: the reads take microseconds */
	s->mono_ns = mono_ns();
	s->real_ns = real_ns();
	qsort(s->devs, s->n, sizeof(*s->devs), sample_cmp);
	return 0;
}

void sample_free(struct sample_set *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		free(s->devs[i].vnis);
	free(s->devs);
	s->devs = NULL;
	s->n = 0;
}

const struct dev_sample *sample_find(const struct sample_set *s, int ifindex,
				     const char *name)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->devs[i].ifindex == ifindex &&
		    !strcmp(s->devs[i].ifname, name))
			return &s->devs[i];
	return NULL;
}

const struct dev_sample *sample_by_name(const struct sample_set *s,
					const char *name)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->devs[i].ifname, name))
			return &s->devs[i];
	return NULL;
}

double sample_secs(const struct dev_sample *old, const struct dev_sample *new)
{
	return new->mono_ns > old->mono_ns ?
	       (new->mono_ns - old->mono_ns) / 1e9 : 0;
}

static __u64 delta(__u64 old, __u64 new)
{
	return new >= old ? new - old : new;	/* reset: counts from zero */
}

void rate_between(const struct dev_sample *old, const struct dev_sample *new,
		  double secs, int dir, int cls, struct rate *r)
{
	bool reset = old->cfg[dir].id != new->cfg[dir].id;
	__u64 pb = 0, pp = 0, db = 0, dp = 0, wb = 0, wp = 0;
	int c;

	memset(r, 0, sizeof(*r));
	if (secs <= 0 || !old->have[dir] || !new->have[dir])
		return;
	for (c = 0; c < TCBPF_NCLASS; c++) {
		const struct tcbpf_counters *o = &old->st[dir].cls[c];
		const struct tcbpf_counters *n = &new->st[dir].cls[c];

		if (cls >= 0 && c != cls)
			continue;
		pb += reset ? n->pass_bytes : delta(o->pass_bytes, n->pass_bytes);
		pp += reset ? n->pass_pkts : delta(o->pass_pkts, n->pass_pkts);
		db += reset ? n->drop_bytes : delta(o->drop_bytes, n->drop_bytes);
		dp += reset ? n->drop_pkts : delta(o->drop_pkts, n->drop_pkts);
		wb += reset ? n->wdrop_bytes :
		      delta(o->wdrop_bytes, n->wdrop_bytes);
		wp += reset ? n->wdrop_pkts : delta(o->wdrop_pkts, n->wdrop_pkts);
	}
	r->bps[RATE_PASSED] = pb * 8.0 / secs;
	r->pps[RATE_PASSED] = pp / secs;
	r->bps[RATE_DROPPED] = db * 8.0 / secs;
	r->pps[RATE_DROPPED] = dp / secs;
	r->bps[RATE_WOULD_DROP] = wb * 8.0 / secs;
	r->pps[RATE_WOULD_DROP] = wp / secs;
	r->bps[RATE_SEEN] = (pb + db) * 8.0 / secs;
	r->pps[RATE_SEEN] = (pp + dp) / secs;
}
