// SPDX-License-Identifier: GPL-2.0-only
/* maps.c - see maps.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <bpf/bpf.h>

#include "lib/maps.h"
#include "lib/bucket.h"
#include "util/clock.h"

/*
 * Which entry: a device's (vni1 0, in tcbpf_cfg) or one of its VXLAN
 * networks' (VNI + 1, in tcbpf_vni).
 */
struct ent {
	int fd;
	__u32 vni1;
	struct tcbpf_key key;
	struct tcbpf_vni_key vkey;
};

static void ent_dev(struct ent *e, const struct tcbpf *t,
		    const struct tcbpf_key *key)
{
	memset(e, 0, sizeof(*e));
	e->fd = t->cfg_fd;
	e->key.netns = key->netns;
	e->key.ifindex = key->ifindex;
}

static void ent_of(struct ent *e, const struct tcbpf *t, int ifindex)
{
	struct tcbpf_key key = { .netns = t->netns, .ifindex = ifindex };

	ent_dev(e, t, &key);
}

/* @key's entry (@vni1: 0 the device's, else its network's VNI + 1). */
static void ent_key_of(struct ent *e, const struct tcbpf *t,
		       const struct tcbpf_key *key, __u32 vni1)
{
	ent_dev(e, t, key);
	if (!vni1)
		return;
	e->fd = t->vni_fd;
	e->vni1 = vni1;
	e->vkey.netns = key->netns;
	e->vkey.ifindex = key->ifindex;
	e->vkey.vni = vni1 - 1;
}

static void ent_vni(struct ent *e, const struct tcbpf *t, int ifindex,
		    __u32 vni)
{
	struct tcbpf_key key = { .netns = t->netns, .ifindex = ifindex };

	ent_key_of(e, t, &key, vni + 1);
}

static const void *ent_key(const struct ent *e)
{
	return e->vni1 ? (const void *)&e->vkey : (const void *)&e->key;
}

static int ent_read(const struct ent *e, struct tcbpf_dev *v)
{
	if (e->fd < 0)
		return -ENOENT;
	if (bpf_map_lookup_elem(e->fd, ent_key(e), v)) {
		memset(v, 0, sizeof(*v));
		return -errno;
	}
	return 0;
}

/* ------------------------------------------------------------ profiles */

/*
 * The profiles as this process knows them: their contents, and for a
 * writer how many entry directions point at each, from one walk of every
 * entry (any namespace's, VXLAN networks' too). Under the lock file
 * (maps_hold()) both are read once per hold and then kept up to date by
 * this process's own writes; without it, the contents are read again by
 * every call that joins entries with them.
 */
static struct {
	bool held;			/* maps_hold() */
	bool valid;			/* prof[] */
	bool refs_valid;		/* ref[] */
	struct tcbpf_prof prof[TCBPF_MAX_PROFS];
	__u32 ref[TCBPF_MAX_PROFS];
	bool freed[TCBPF_MAX_PROFS];	/* by this hold: packets may still
					 * be reading it */
} profs;

void maps_forget(void)
{
	profs.valid = profs.refs_valid = false;
	memset(profs.freed, 0, sizeof(profs.freed));
}

void maps_hold(bool on)
{
	profs.held = on;
	maps_forget();
}

static void ref_dev(const struct tcbpf_dev *v, int by)
{
	int d;

	for (d = 0; d < TCBPF_NDIR; d++) {
		__u32 p = v->dir[d].prof;

		if (!(v->dirs & (1U << d)) || p >= TCBPF_MAX_PROFS)
			continue;
		if (by > 0) {
			profs.ref[p]++;
		} else if (profs.ref[p] && !--profs.ref[p]) {
			profs.freed[p] = true;
		}
	}
}

static int walk_raw(struct tcbpf *t, int fd, size_t ksize,
		    int (*cb)(struct tcbpf *t, const void *key,
			      const struct tcbpf_dev *v, void *ctx),
		    void *ctx);

static int ref_one(struct tcbpf *t, const void *key,
		   const struct tcbpf_dev *v, void *ctx)
{
	ref_dev(v, 1);
	return 0;
}

/* The profiles' contents: one batch lookup (an array's keys are 0..n). */
static int profs_read(struct tcbpf *t)
{
	__u32 out, cnt = TCBPF_MAX_PROFS, i;

	if (profs.held && profs.valid)
		return 0;
	profs.valid = false;
	if (bpf_map_lookup_batch(t->prof_fd, NULL, &out,
				 (__u32[TCBPF_MAX_PROFS]){ 0 }, profs.prof,
				 &cnt, NULL) && errno != ENOENT) {
		for (i = 0; i < TCBPF_MAX_PROFS; i++)
			if (bpf_map_lookup_elem(t->prof_fd, &i, &profs.prof[i]))
				return -errno;
	} else if (cnt != TCBPF_MAX_PROFS) {
		return -EIO;
	}
	profs.valid = true;
	return 0;
}

/* What a writer needs: the contents and who points at each. */
static int profs_refs(struct tcbpf *t)
{
	int err;

	if (profs.held && profs.refs_valid)
		return profs_read(t);
	profs.refs_valid = false;
	profs.valid = false;
	err = profs_read(t);
	if (err)
		return err;
	memset(profs.ref, 0, sizeof(profs.ref));
	err = walk_raw(t, t->cfg_fd, sizeof(struct tcbpf_key), ref_one, NULL);
	if (!err && t->vni_fd >= 0)
		err = walk_raw(t, t->vni_fd, sizeof(struct tcbpf_vni_key),
			       ref_one, NULL);
	if (err)
		return err;
	memset(profs.freed, 0, sizeof(profs.freed));
	profs.refs_valid = true;
	return 0;
}

/* The profile part of @cfg, as the maps hold it: no device flags. */
static void prof_of(struct tcbpf_prof *p, const struct tcbpf_cfg *cfg)
{
	__u32 i;

	memcpy(p, &cfg->prof, sizeof(*p));
	p->flags &= ~TCBPF_F_DEV;
	p->prof_pad = 0;
	for (i = 0; i < TCBPF_MAX_PORTS; i++)
		if (i >= p->nports)
			memset(&p->ports[i], 0, sizeof(p->ports[i]));
		else
			memset(p->ports[i].pad, 0, sizeof(p->ports[i].pad));
}

/*
 * The index of a profile equal to @want: one in use if there is, else a
 * free one (one that holds the same already, else one no packet of this
 * hold's changes may still be reading), written. Not referenced yet: the
 * caller counts it once its entry points there.
 */
static int prof_get(struct tcbpf *t, const struct tcbpf_prof *want)
{
	int i, pick = -1;
	__u32 k;

	for (i = 0; i < TCBPF_MAX_PROFS; i++)
		if (profs.ref[i] && !memcmp(&profs.prof[i], want, sizeof(*want)))
			return i;
	for (i = 0; i < TCBPF_MAX_PROFS; i++) {
		if (profs.ref[i])
			continue;
		if (!memcmp(&profs.prof[i], want, sizeof(*want)))
			return i;
		if (pick < 0 || (profs.freed[pick] && !profs.freed[i]))
			pick = i;
	}
	if (pick < 0)
		return -ENOSPC;
	k = pick;
	if (bpf_map_update_elem(t->prof_fd, &k, want, BPF_ANY))
		return -errno;
	profs.prof[pick] = *want;
	return pick;
}

/* ------------------------------------------------------------- entries */

/* A new direction's tag: random, never 0, and not in the cache entry of
 * @other (the device's other direction, 0 none). */
static __u64 new_id(__u64 other)
{
	__u64 id;

	do {
		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			id = mono_ns() * 0x9e3779b97f4a7c15ULL;
	} while (!id || (other && !((id ^ other) & (TCBPF_PCACHE - 1))));
	return id;
}

/* Join an entry's direction @d with its profile. */
static void join(struct tcbpf_cfg *c, const struct tcbpf_dev *v, int d)
{
	const struct tcbpf_ddir *dd = &v->dir[d];

	memset(c, 0, sizeof(*c));
	if (dd->prof < TCBPF_MAX_PROFS)
		c->prof = profs.prof[dd->prof];
	c->flags |= dd->flags & TCBPF_F_DEV;
	c->id = dd->id;
	c->hook = v->hook;
	c->pace_ifindex = dd->pace_ifindex;
	c->netns_ino = v->netns_ino;
	memcpy(c->ifname, v->ifname, sizeof(c->ifname));
}

static void join_dev(struct maps_dev *m, const struct tcbpf_dev *v)
{
	int d;

	m->dirs = v->dirs;
	for (d = 0; d < TCBPF_NDIR; d++)
		join(&m->dir[d], v, d);
}

static int set_run(struct tcbpf *t, struct tcbpf_set_args *a)
{
	/* a syscall program's context is copied back to ctx_in */
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = a, .ctx_size_in = sizeof(*a));

	if (t->set_fd < 0)
		return -EBADF;
	if (bpf_prog_test_run_opts(t->set_fd, &o))
		return -errno;
	return a->ret;
}

/*
 * Timelines of a direction that keeps going at new rates: its backlog is
 * held as time at the old rate, converted to the new one, capped at the
 * new burst.
 */
static void rescale(struct tcbpf_bucket_state tl[TCBPF_NCLASS],
		    const struct tcbpf_prof *o, const struct tcbpf_prof *n)
{
	__u64 now = mono_ns();
	int c;

	for (c = 0; c < TCBPF_NCLASS; c++) {
		const struct tcbpf_bucket_cfg *ob = &o->cls[c], *nb = &n->cls[c];

		tl[c].tat_bytes = bucket_rescale(tl[c].tat_bytes, now,
						 ob->rate_bits_per_sec,
						 nb->rate_bits_per_sec,
						 nb->burst_ns);
		/* packet timelines scale inversely with the packet rate */
		tl[c].tat_pkts = bucket_rescale(tl[c].tat_pkts, now, ob->pps,
						nb->pps, nb->pburst_ns);
	}
}

/*
 * Give entry @e the directions @dirs with settings @cfg (the others it
 * loses): a new entry, or the one there changed in place.
 */
static int ent_write(struct tcbpf *t, const struct ent *e, __u32 dirs,
		     const struct tcbpf_cfg cfg[TCBPF_NDIR])
{
	struct tcbpf_set_args a = {};
	int prof[TCBPF_NDIR] = { -1, -1 };
	struct tcbpf_prof want;
	struct tcbpf_dev cur, n;
	int d, first = dirs & 1 ? 0 : 1, err;
	bool had;

	if (!dirs) {
		if (bpf_map_delete_elem(e->fd, ent_key(e)) && errno != ENOENT)
			return -errno;
		return 0;
	}
	err = profs_refs(t);
	if (err)
		return err;
	had = !ent_read(e, &cur) && cur.dirs;
	for (d = 0; d < TCBPF_NDIR; d++) {
		if (!(dirs & (1U << d)))
			continue;
		prof_of(&want, &cfg[d]);
		prof[d] = prof_get(t, &want);
		if (prof[d] < 0)
			return prof[d];
		/* held until the entry is written: the other direction's
		 * search must not take it */
		profs.ref[prof[d]]++;
	}
	if (!had) {
		memset(&n, 0, sizeof(n));
		n.dirs = dirs;
		n.hook = cfg[first].hook;
		n.netns_ino = cfg[first].netns_ino;
		memcpy(n.ifname, cfg[first].ifname, sizeof(n.ifname));
		for (d = 0; d < TCBPF_NDIR; d++) {
			struct tcbpf_ddir *dd = &n.dir[d];

			if (!(dirs & (1U << d)))
				continue;
			dd->id = new_id(d ? n.dir[0].id : 0);
			dd->prof = prof[d];
			dd->flags = cfg[d].flags & TCBPF_F_DEV;
			dd->pace_ifindex = cfg[d].pace_ifindex;
		}
		err = bpf_map_update_elem(e->fd, ent_key(e), &n, BPF_ANY) ?
		      -errno : 0;
	} else {
		a.key = e->key;
		a.vni = e->vni1;
		a.dirs = dirs;
		a.set = dirs;
		a.hook = cfg[first].hook;
		for (d = 0; d < TCBPF_NDIR; d++) {
			const struct tcbpf_ddir *cd = &cur.dir[d];

			if (!(dirs & (1U << d)))
				continue;
			a.prof[d] = prof[d];
			a.flags[d] = cfg[d].flags & TCBPF_F_DEV;
			a.pace_ifindex[d] = cfg[d].pace_ifindex;
			if (!(cur.dirs & (1U << d)) || !cd->id) {
				a.id[d] = new_id(d ? a.id[0] : 0);
				continue;
			}
			a.id[d] = cd->id;
			memcpy(a.tl_old[d], cd->tl, sizeof(cd->tl));
			memcpy(a.tl_new[d], cd->tl, sizeof(cd->tl));
			/* other settings: the backlog at the new rates */
			if (cd->prof < TCBPF_MAX_PROFS && cd->prof != prof[d])
				rescale(a.tl_new[d], &profs.prof[cd->prof],
					&profs.prof[prof[d]]);
		}
		err = set_run(t, &a);
	}
	/* what the entry points at now */
	for (d = 0; d < TCBPF_NDIR; d++)
		if (prof[d] >= 0)
			profs.ref[prof[d]]--;
	if (err)
		return err;
	if (had)
		ref_dev(&cur, -1);
	memset(&n, 0, sizeof(n));
	n.dirs = dirs;
	for (d = 0; d < TCBPF_NDIR; d++)
		n.dir[d].prof = prof[d] < 0 ? 0 : prof[d];
	ref_dev(&n, 1);
	return 0;
}

static int ent_del(struct tcbpf *t, const struct ent *e)
{
	struct tcbpf_dev cur;
	bool had = !ent_read(e, &cur);

	if (bpf_map_delete_elem(e->fd, ent_key(e)))
		return -errno;
	if (had && profs.refs_valid)
		ref_dev(&cur, -1);
	return 0;
}

/*
 * Direction @d of entry @e in place (tcbpf_set), all else as it is: its
 * timelines moved to @tl (NULL: kept), @add added to its counters (NULL:
 * none).
 */
static int ent_adjust(struct tcbpf *t, const struct ent *e, int d,
		      const struct tcbpf_bucket_state tl[TCBPF_NCLASS],
		      const struct tcbpf_stats *add)
{
	struct tcbpf_set_args a = {};
	struct tcbpf_dev cur;
	int i, err = ent_read(e, &cur);

	if (err)
		return err;
	if (!(cur.dirs & (1U << d)))
		return -ENOENT;
	a.key = e->key;
	a.vni = e->vni1;
	a.dirs = cur.dirs;
	a.set = 1U << d;
	a.hook = cur.hook;
	for (i = 0; i < TCBPF_NDIR; i++) {
		a.id[i] = cur.dir[i].id;
		a.prof[i] = cur.dir[i].prof;
		a.flags[i] = cur.dir[i].flags;
		a.pace_ifindex[i] = cur.dir[i].pace_ifindex;
	}
	memcpy(a.tl_old[d], cur.dir[d].tl, sizeof(a.tl_old[d]));
	memcpy(a.tl_new[d], tl ? tl : cur.dir[d].tl, sizeof(a.tl_new[d]));
	if (add)
		a.add[d] = *add;
	return set_run(t, &a);
}

int maps_carry(struct tcbpf *t, const struct tcbpf_key *key, __u32 vni1,
	       __u32 dirs, const struct tcbpf_cfg cfg[TCBPF_NDIR],
	       const struct tcbpf_stats ctr[TCBPF_NDIR])
{
	struct ent e;
	int d, err;

	ent_key_of(&e, t, key, vni1);
	if (e.fd < 0)
		return -ENOENT;
	bpf_map_delete_elem(e.fd, ent_key(&e));
	err = ent_write(t, &e, dirs, cfg);
	for (d = 0; !err && d < TCBPF_NDIR; d++)
		if (dirs & (1U << d))
			err = ent_adjust(t, &e, d, NULL, &ctr[d]);
	return err;
}

int maps_carry_tl(struct tcbpf *t, const struct tcbpf_key *key, __u32 vni1,
		  int dir, const struct tcbpf_bucket_state tl[TCBPF_NCLASS])
{
	struct ent e;

	ent_key_of(&e, t, key, vni1);
	return ent_adjust(t, &e, dir, tl, NULL);
}

int maps_add(struct tcbpf *t, const struct tcbpf_key *key, __u32 vni1,
	     int dir, const struct tcbpf_stats *add)
{
	struct ent e;

	ent_key_of(&e, t, key, vni1);
	return ent_adjust(t, &e, dir, NULL, add);
}

/* ------------------------------------------------------------- devices */

int maps_get_dev(struct tcbpf *t, int ifindex, struct tcbpf_cfg cfg[TCBPF_NDIR],
		 bool have[TCBPF_NDIR])
{
	struct tcbpf_dev v;
	struct ent e;
	int d, err;

	ent_of(&e, t, ifindex);
	err = ent_read(&e, &v);
	if (!err)
		err = profs_read(t);
	for (d = 0; d < TCBPF_NDIR; d++) {
		have[d] = !err && (v.dirs & (1U << d));
		if (!err)
			join(&cfg[d], &v, d);
		else
			memset(&cfg[d], 0, sizeof(cfg[d]));
	}
	return err;
}

int maps_put_dev(struct tcbpf *t, int ifindex,
		 const struct tcbpf_cfg cfg[TCBPF_NDIR])
{
	struct ent e;

	ent_of(&e, t, ifindex);
	return ent_write(t, &e, (1U << TCBPF_NDIR) - 1, cfg);
}

int maps_get(struct tcbpf *t, int ifindex, int dir, struct tcbpf_cfg *cfg)
{
	struct tcbpf_cfg c[TCBPF_NDIR];
	bool have[TCBPF_NDIR];
	int err = maps_get_dev(t, ifindex, c, have);

	if (err)
		return err;
	if (!have[dir])
		return -ENOENT;
	*cfg = c[dir];
	return 0;
}

int maps_put(struct tcbpf *t, int ifindex, int dir, const struct tcbpf_cfg *cfg)
{
	struct tcbpf_cfg c[TCBPF_NDIR];
	bool have[TCBPF_NDIR];
	__u32 dirs = 1U << dir;
	struct ent e;
	int d, err = maps_get_dev(t, ifindex, c, have);

	if (err && err != -ENOENT)
		return err;
	for (d = 0; d < TCBPF_NDIR; d++)
		dirs |= have[d] ? 1U << d : 0;
	c[dir] = *cfg;
	ent_of(&e, t, ifindex);
	return ent_write(t, &e, dirs, c);
}

int maps_del(struct tcbpf *t, int ifindex, int dir)
{
	struct tcbpf_cfg c[TCBPF_NDIR];
	bool have[TCBPF_NDIR];
	__u32 dirs = 0;
	struct ent e;
	int d, err = maps_get_dev(t, ifindex, c, have);

	if (err)
		return err;
	if (!have[dir])
		return -ENOENT;
	for (d = 0; d < TCBPF_NDIR; d++)
		dirs |= have[d] && d != dir ? 1U << d : 0;
	ent_of(&e, t, ifindex);
	if (!dirs)
		return ent_del(t, &e);
	return ent_write(t, &e, dirs, c);
}

/* ------------------------------------------------------- VXLAN networks */

/*
 * Every entry of @fd (keyed by struct tcbpf_vni_key) of device @dev, the
 * keys read first so that @cb may delete. @val: a buffer of the map's
 * value size (per-CPU maps: all CPUs').
 */
static int vni_walk(struct tcbpf *t, int fd, const struct tcbpf_key *dev,
		    void *val, maps_vni_cb_t cb, void *ctx)
{
	struct tcbpf_vni_key *keys = NULL, *k, cur, next;
	int i, n = 0, err = 0;
	bool first = true;

	if (fd < 0)
		return 0;
	while (!bpf_map_get_next_key(fd, first ? NULL : &cur, &next)) {
		first = false;
		cur = next;
		if (cur.netns != dev->netns || cur.ifindex != dev->ifindex)
			continue;
		k = realloc(keys, (n + 1) * sizeof(*keys));
		if (!k) {
			free(keys);
			return -ENOMEM;
		}
		keys = k;
		keys[n++] = cur;
	}
	for (i = 0; i < n && !err; i++) {
		if (bpf_map_lookup_elem(fd, &keys[i], val))
			continue;	/* deleted meanwhile */
		err = cb(t, &keys[i], val, ctx);
	}
	free(keys);
	return err;
}

int maps_vni_get(struct tcbpf *t, int ifindex, __u32 vni,
		 struct maps_dev *dev)
{
	struct tcbpf_dev v;
	struct ent e;
	int err;

	ent_vni(&e, t, ifindex, vni);
	err = ent_read(&e, &v);
	if (!err)
		err = profs_read(t);
	if (err)
		return err;
	join_dev(dev, &v);
	return 0;
}

int maps_vni_put(struct tcbpf *t, int ifindex, __u32 vni,
		 const struct maps_dev *dev)
{
	struct ent e;

	ent_vni(&e, t, ifindex, vni);
	if (e.fd < 0)
		return -ENOENT;
	return ent_write(t, &e, dev->dirs, dev->dir);
}

int maps_vni_del(struct tcbpf *t, int ifindex, __u32 vni)
{
	struct ent e;

	ent_vni(&e, t, ifindex, vni);
	if (e.fd < 0)
		return -ENOENT;
	return ent_del(t, &e);
}

struct vni_join {
	maps_vni_cb_t cb;
	void *ctx;
};

static int vni_join_one(struct tcbpf *t, const struct tcbpf_vni_key *k,
			void *val, void *ctx)
{
	struct vni_join *j = ctx;
	struct maps_dev m;

	join_dev(&m, val);
	return j->cb(t, k, &m, j->ctx);
}

int maps_vni_foreach(struct tcbpf *t, int ifindex, maps_vni_cb_t cb, void *ctx)
{
	struct vni_join j = { .cb = cb, .ctx = ctx };
	struct tcbpf_key dev = { .netns = t->netns, .ifindex = ifindex };
	struct tcbpf_dev val;
	int err = profs_read(t);

	if (err)
		return err;
	return vni_walk(t, t->vni_fd, &dev, &val, vni_join_one, &j);
}

struct vni_sum {
	maps_vni_cb_t cb;
	void *ctx;
	int ncpus;
};

static int vni_sum_one(struct tcbpf *t, const struct tcbpf_vni_key *k,
		       void *val, void *ctx)
{
	const struct tcbpf_vni_ctr *per = val;
	struct vni_sum *s = ctx;
	struct tcbpf_vni_ctr sum = {};
	int cpu, d;

	for (cpu = 0; cpu < s->ncpus; cpu++) {
		for (d = 0; d < TCBPF_NDIR; d++) {
			sum.dir[d].pass_pkts += per[cpu].dir[d].pass_pkts;
			sum.dir[d].pass_bytes += per[cpu].dir[d].pass_bytes;
			sum.dir[d].drop_pkts += per[cpu].dir[d].drop_pkts;
			sum.dir[d].drop_bytes += per[cpu].dir[d].drop_bytes;
		}
	}
	return s->cb(t, k, &sum, s->ctx);
}

int maps_vni_stats(struct tcbpf *t, int ifindex, maps_vni_cb_t cb, void *ctx)
{
	struct vni_sum s = { .cb = cb, .ctx = ctx, .ncpus = t->ncpus };
	struct tcbpf_key dev = { .netns = t->netns, .ifindex = ifindex };
	void *per;
	int err;

	per = calloc(t->ncpus, sizeof(struct tcbpf_vni_ctr));
	if (!per)
		return -ENOMEM;
	err = vni_walk(t, t->vni_stats_fd, &dev, per, vni_sum_one, &s);
	free(per);
	return err;
}

static int vni_del_one(struct tcbpf *t, const struct tcbpf_vni_key *k,
		       void *val, void *fd)
{
	if (*(int *)fd == t->vni_fd && profs.refs_valid)
		ref_dev(val, -1);
	bpf_map_delete_elem(*(int *)fd, k);
	return 0;
}

/* A device's settings went: so do its networks' limits and counters. */
static void vni_del_all(struct tcbpf *t, const struct tcbpf_key *dev)
{
	int fds[] = { t->vni_fd, t->vni_stats_fd };
	void *buf = calloc(t->ncpus > 0 ? t->ncpus : 1,
			   sizeof(struct tcbpf_vni_ctr) > sizeof(struct tcbpf_dev) ?
			   sizeof(struct tcbpf_vni_ctr) : sizeof(struct tcbpf_dev));
	unsigned int i;

	if (!buf)
		return;
	for (i = 0; i < 2; i++)
		vni_walk(t, fds[i], dev, buf, vni_del_one, &fds[i]);
	free(buf);
}

int maps_del_dev(struct tcbpf *t, int ifindex)
{
	struct ent e;

	ent_of(&e, t, ifindex);
	vni_del_all(t, &e.key);
	return ent_del(t, &e);
}

int maps_del_key(struct tcbpf *t, const struct tcbpf_key *key)
{
	struct ent e;

	ent_dev(&e, t, key);
	vni_del_all(t, &e.key);
	return ent_del(t, &e);
}

/* ---------------------------------------------------------------- walks */

/*
 * Every entry, read in batches of this many (one syscall each instead of
 * two per entry: 2000 at a thousand devices, ~3 ms, on every command).
 */
#define FOREACH_BATCH	256
#ifndef ENOTSUPP
#define ENOTSUPP	524	/* the kernel's: no batch operations */
#endif

/* The entries one by one: keys first, since deleting while walking
 * restarts get_next_key. For a kernel without batch lookups of hashes.
 * Both kinds of key are 16 bytes. */
static int walk_keys(struct tcbpf *t, int fd, size_t ksize,
		     int (*cb)(struct tcbpf *t, const void *key,
			       const struct tcbpf_dev *v, void *ctx),
		     void *ctx)
{
	char *keys = NULL, *k, cur[16], next[16];
	struct tcbpf_dev v;
	int i, n = 0, err = 0;
	bool first = true;

	if (ksize != sizeof(cur))
		return -EINVAL;
	while (!bpf_map_get_next_key(fd, first ? NULL : cur, next)) {
		first = false;
		memcpy(cur, next, ksize);
		k = realloc(keys, (n + 1) * ksize);
		if (!k) {
			free(keys);
			return -ENOMEM;
		}
		keys = k;
		memcpy(keys + n++ * ksize, cur, ksize);
	}
	for (i = 0; i < n && !err; i++) {
		if (bpf_map_lookup_elem(fd, keys + i * ksize, &v))
			continue;	/* deleted meanwhile */
		err = cb(t, keys + i * ksize, &v, ctx);
	}
	free(keys);
	return err;
}

/* Every entry of @fd (keys of @ksize bytes), all read before @cb runs. */
static int walk_raw(struct tcbpf *t, int fd, size_t ksize,
		    int (*cb)(struct tcbpf *t, const void *key,
			      const struct tcbpf_dev *v, void *ctx),
		    void *ctx)
{
	struct tcbpf_dev *vals = NULL, *v;
	char *keys = NULL, *k;
	bool first = true, last = false;
	__u64 batch[2];		/* the kernel's cursor: the key size at most */
	__u32 cnt;
	size_t n = 0, i;
	int err = 0;

	/* All of it first, then the callbacks: they may delete. */
	while (!last) {
		k = realloc(keys, (n + FOREACH_BATCH) * ksize);
		if (k)
			keys = k;
		v = realloc(vals, (n + FOREACH_BATCH) * sizeof(*vals));
		if (v)
			vals = v;
		if (!k || !v) {
			err = -ENOMEM;
			goto out;
		}
		cnt = FOREACH_BATCH;
		if (bpf_map_lookup_batch(fd, first ? NULL : batch, batch,
					 keys + n * ksize, vals + n, &cnt, NULL)) {
			if (errno != ENOENT) {
				err = -errno;
				break;
			}
			last = true;	/* the rest, cnt of them */
		}
		first = false;
		n += cnt;
	}
	/* no batch lookups here, or a bucket over FOREACH_BATCH entries */
	if (err == -EINVAL || err == -EOPNOTSUPP || err == -ENOTSUPP ||
	    err == -ENOSPC) {
		free(keys);
		free(vals);
		return walk_keys(t, fd, ksize, cb, ctx);
	}
	for (i = 0; i < n && !err; i++)
		err = cb(t, keys + i * ksize, &vals[i], ctx);
out:
	free(keys);
	free(vals);
	return err;
}

struct dev_walk {
	maps_cb_t cb;
	void *ctx;
};

static int dev_one(struct tcbpf *t, const void *key,
		   const struct tcbpf_dev *v, void *ctx)
{
	struct dev_walk *w = ctx;
	struct maps_dev m;

	join_dev(&m, v);
	return w->cb(t, key, &m, w->ctx);
}

int maps_foreach(struct tcbpf *t, maps_cb_t cb, void *ctx)
{
	struct dev_walk w = { .cb = cb, .ctx = ctx };
	int err = profs_read(t);

	if (err)
		return err;
	return walk_raw(t, t->cfg_fd, sizeof(struct tcbpf_key), dev_one, &w);
}

bool maps_empty(struct tcbpf *t)
{
	struct tcbpf_key key;

	return bpf_map_get_next_key(t->cfg_fd, NULL, &key) != 0;
}

/* ------------------------------------------------------------- counters */

static void ctr_add(struct tcbpf_counters *o, const struct tcbpf_counters *p)
{
	o->pass_pkts += p->pass_pkts;
	o->pass_bytes += p->pass_bytes;
	o->drop_pkts += p->drop_pkts;
	o->drop_bytes += p->drop_bytes;
	o->mark_pkts += p->mark_pkts;
	o->wdrop_pkts += p->wdrop_pkts;
	o->wdrop_bytes += p->wdrop_bytes;
}

/* Tries before a reader gives up on a cache that keeps changing hands. */
#define READ_TRIES	64

int maps_read_stats(struct tcbpf *t, int ifindex, int dir,
		    struct tcbpf_stats *out)
{
	struct tcbpf_pc *s1, *s2, *pc;
	struct tcbpf_dev v;
	struct ent e;
	int cpu, c, try, err = -EAGAIN;
	__u32 i;

	memset(out, 0, sizeof(*out));
	ent_of(&e, t, ifindex);
	s1 = calloc(3 * (size_t)t->ncpus, sizeof(*s1));
	if (!s1)
		return -ENOMEM;
	pc = s1 + t->ncpus;
	s2 = pc + t->ncpus;
	/*
	 * The caches' seq, the entry, the caches, their seq again: when no
	 * seq moved, no cache handed counts in to the entry meanwhile.
	 */
	for (try = 0; try < READ_TRIES && err == -EAGAIN; try++) {
		err = ent_read(&e, &v);
		if (err)
			break;
		if (!(v.dirs & (1U << dir))) {
			err = -ENOENT;
			break;
		}
		i = v.dir[dir].id & (TCBPF_PCACHE - 1);
		if (bpf_map_lookup_elem(t->pcache_fd, &i, s1) ||
		    ent_read(&e, &v) ||
		    bpf_map_lookup_elem(t->pcache_fd, &i, pc) ||
		    bpf_map_lookup_elem(t->pcache_fd, &i, s2)) {
			err = -errno;
			break;
		}
		err = 0;
		for (cpu = 0; cpu < t->ncpus && !err; cpu++)
			if (s1[cpu].seq != s2[cpu].seq || (s1[cpu].seq & 1))
				err = -EAGAIN;
	}
	if (!err) {
		*out = v.dir[dir].ctr;
		for (cpu = 0; cpu < t->ncpus; cpu++)
			if (pc[cpu].tag == v.dir[dir].id)
				for (c = 0; c < TCBPF_NCLASS; c++)
					ctr_add(&out->cls[c], &pc[cpu].ctr.cls[c]);
	}
	free(s1);
	return err;
}
