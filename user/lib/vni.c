// SPDX-License-Identifier: GPL-2.0-only
/* vni.c - see vni.h. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/vni.h"
#include "lib/cfg.h"
#include "lib/maps.h"
#include "kern/netns.h"

bool vni_underlay(const char *name, const struct spec *s)
{
	return s->vxlan_port || !strcmp(name, VNI_UNDERLAY_NAME);
}

void vni_dev_cfg(const char *name, const struct spec *s,
		 const struct tcbpf_cfg *old, struct tcbpf_cfg cfg[TCBPF_NDIR])
{
	__u16 port = s->vxlan_port;
	int dir;

	if (!vni_underlay(name, s) && !(old && (old->flags & TCBPF_F_VXLAN)))
		return;
	if (!port && old && (old->flags & TCBPF_F_VXLAN))
		port = old->vxlan_port;
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		cfg[dir].flags |= TCBPF_F_VXLAN;
		cfg[dir].vxlan_port = port ? port : TCBPF_VXLAN_PORT;
	}
}

void vni_name(__u32 vni, char *buf, size_t len)
{
	snprintf(buf, len, "%04x", vni);
}

/* The network's settings of @dir from @s: police unless it says. */
static int vni_dir(const struct spec *s, int dir, const char *name,
		   char *vn, struct spec_dir *d, char *msg, size_t len)
{
	spec_defaults(d, dir);
	/* the overlay's ports are not the underlay's: no allow class */
	d->nports = 0;
	spec_apply(d, &s->dir[dir]);
	if (d->mode == TCBPF_MODE_EDT) {
		snprintf(msg, len, "%s vni %s: \"mode edt\": an underlay network "
			 "can only be policed (or monitored)", name, vn);
		return -EINVAL;
	}
	if ((s->dir[dir].set & SPEC_ALLOW) && d->nports) {
		snprintf(msg, len, "%s vni %s: \"allow\": the ports inside a "
			 "VXLAN network are not the underlay's", name, vn);
		return -EINVAL;
	}
	return 0;
}

int vni_attach(struct tcbpf *t, int ifindex, const char *name,
	       const struct spec *s, char *msg, size_t len)
{
	struct tcbpf_cfg dcfg[TCBPF_NDIR];
	struct maps_dev dev = { .dirs = (1U << TCBPF_NDIR) - 1 };
	bool have[TCBPF_NDIR];
	struct spec_dir d;
	char vn[16];
	int dir, err;

	vni_name(s->vni, vn, sizeof(vn));
	if (maps_get_dev(t, ifindex, dcfg, have) ||
	    !(dcfg[have[0] ? 0 : 1].flags & TCBPF_F_VXLAN)) {
		snprintf(msg, len, "%s is not a VXLAN underlay with tcbpf: "
			 "\"tcbpf attach %s monitor\" (and \"vxlan-port N\" "
			 "unless it is named %s) first", name, name,
			 VNI_UNDERLAY_NAME);
		return -ENOENT;
	}
	/* a network it had keeps its counters, its timelines rescaled */
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		struct tcbpf_cfg *c = &dev.dir[dir];

		err = vni_dir(s, dir, name, vn, &d, msg, len);
		if (err)
			return err;
		memset(c, 0, sizeof(*c));
		cfg_from_spec(c, &d);
		c->hook = dcfg[have[0] ? 0 : 1].hook;
		c->netns_ino = netns_ino();
		snprintf(c->ifname, sizeof(c->ifname), "%s", name);
	}
	err = maps_vni_put(t, ifindex, s->vni, &dev);
	if (err)
		snprintf(msg, len, "%s vni %s: cannot write its limit: %s%s",
			 name, vn, strerror(-err), err == -ENOSPC ?
			 " (every settings profile is in use)" : "");
	return err;
}

int vni_detach(const char *name, __u32 vni, char *msg, size_t len)
{
	unsigned int ifindex = if_nametoindex(name);
	struct tcbpf t;
	char vn[16];
	int lock, err;

	vni_name(vni, vn, sizeof(vn));
	if (!ifindex) {
		snprintf(msg, len, "cannot find device \"%s\"", name);
		return -ENODEV;
	}
	lock = tcbpf_lock();
	if (lock < 0) {
		snprintf(msg, len, "cannot take the lock: %s", strerror(-lock));
		return lock;
	}
	err = tcbpf_open(&t, false);
	if (!err) {
		err = maps_vni_del(&t, ifindex, vni);
		tcbpf_close(&t);
	}
	tcbpf_unlock(lock);
	if (err == -ENOENT)
		snprintf(msg, len, "%s vni %s: no limit of its own", name, vn);
	else if (err)
		snprintf(msg, len, "%s vni %s: cannot remove its limit: %s",
			 name, vn, strerror(-err));
	return err;
}

/* ------------------------------------------------------------- counts */

struct counts {
	struct vni_count *v;
	int n;
};

static int count_one(struct tcbpf *t, const struct tcbpf_vni_key *k,
		     void *val, void *ctx)
{
	struct counts *c = ctx;
	struct vni_count *v = realloc(c->v, (c->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	c->v = v;
	v = &c->v[c->n++];
	memset(v, 0, sizeof(*v));
	v->vni = k->vni;
	v->c = *(const struct tcbpf_vni_ctr *)val;
	return 0;
}

static int limit_one(struct tcbpf *t, const struct tcbpf_vni_key *k,
		     void *val, void *ctx)
{
	const struct maps_dev *dev = val;
	struct counts *c = ctx;
	int i, dir;

	for (i = 0; i < c->n; i++) {
		if (c->v[i].vni != k->vni)
			continue;
		c->v[i].limited = true;
		for (dir = 0; dir < TCBPF_NDIR; dir++)
			c->v[i].mode[dir] = dev->dir[dir].mode;
	}
	return 0;
}

static int by_vni(const void *a, const void *b)
{
	const struct vni_count *x = a, *y = b;

	return x->vni < y->vni ? -1 : x->vni > y->vni;
}

int vni_counts(struct tcbpf *t, int ifindex, struct vni_count **out, int *n)
{
	struct counts c = {};
	int err;

	err = maps_vni_stats(t, ifindex, count_one, &c);
	if (!err)
		err = maps_vni_foreach(t, ifindex, limit_one, &c);
	if (err) {
		free(c.v);
		return err;
	}
	qsort(c.v, c.n, sizeof(*c.v), by_vni);
	*out = c.v;
	*n = c.n;
	return 0;
}

static __u64 delta(__u64 old, __u64 new)
{
	return new >= old ? new - old : new;	/* evicted, seen again */
}

static int by_rate(const void *a, const void *b)
{
	const struct vni_rate *x = a, *y = b;
	double bx = x->bps[0] + x->bps[1], by = y->bps[0] + y->bps[1];
	double px = x->pps[0] + x->pps[1], py = y->pps[0] + y->pps[1];

	if (bx != by)
		return bx < by ? 1 : -1;
	if (px != py)
		return px < py ? 1 : -1;
	return x->vni < y->vni ? -1 : x->vni > y->vni;
}

int vni_rates(const struct vni_count *old, int nold,
	      const struct vni_count *cur, int ncur, double secs,
	      struct vni_rate **out, int *n)
{
	struct vni_rate *r = calloc(ncur ? ncur : 1, sizeof(*r));
	int i, j, dir;

	if (!r)
		return -ENOMEM;
	for (i = 0; i < ncur; i++) {
		static const struct vni_count none;
		const struct vni_count *o = &none;

		for (j = 0; j < nold; j++)
			if (old[j].vni == cur[i].vni)
				o = &old[j];
		r[i].vni = cur[i].vni;
		for (dir = 0; dir < TCBPF_NDIR && secs > 0; dir++) {
			const struct tcbpf_vni_dir *a = &o->c.dir[dir];
			const struct tcbpf_vni_dir *b = &cur[i].c.dir[dir];
			__u64 db = delta(a->drop_bytes, b->drop_bytes);
			__u64 dp = delta(a->drop_pkts, b->drop_pkts);

			r[i].bps[dir] = (delta(a->pass_bytes, b->pass_bytes) +
					 db) * 8.0 / secs;
			r[i].pps[dir] = (delta(a->pass_pkts, b->pass_pkts) + dp) /
					secs;
			r[i].drop_bps[dir] = db * 8.0 / secs;
			r[i].drop_pps[dir] = dp / secs;
		}
	}
	qsort(r, ncur, sizeof(*r), by_rate);
	*out = r;
	*n = ncur;
	return 0;
}
