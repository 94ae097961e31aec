// SPDX-License-Identifier: GPL-2.0-only
/* maps.c - see maps.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "lib/maps.h"
#include "lib/bucket.h"
#include "util/clock.h"

static void key_of(struct tcbpf_key *key, const struct tcbpf *t, int ifindex)
{
	memset(key, 0, sizeof(*key));
	key->netns = t->netns;
	key->ifindex = ifindex;
}

/* The device's entry; a zeroed one and -ENOENT when it has none. */
static int dev_read(struct tcbpf *t, int ifindex, struct tcbpf_dev *dev)
{
	struct tcbpf_key key;

	key_of(&key, t, ifindex);
	if (!bpf_map_lookup_elem(t->cfg_fd, &key, dev))
		return 0;
	memset(dev, 0, sizeof(*dev));
	return -errno;
}

static int dev_write(struct tcbpf *t, int ifindex, const struct tcbpf_dev *dev)
{
	struct tcbpf_key key;

	key_of(&key, t, ifindex);
	if (!dev->dirs)
		return bpf_map_delete_elem(t->cfg_fd, &key) && errno != ENOENT ?
		       -errno : 0;
	if (bpf_map_update_elem(t->cfg_fd, &key, dev, BPF_ANY))
		return -errno;
	return 0;
}

int maps_get_dev(struct tcbpf *t, int ifindex, struct tcbpf_cfg cfg[TCBPF_NDIR],
		 bool have[TCBPF_NDIR])
{
	struct tcbpf_dev dev;
	int dir, err = dev_read(t, ifindex, &dev);

	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		have[dir] = !err && maps_dev_has(&dev, dir);
		cfg[dir] = dev.dir[dir];
	}
	return err;
}

int maps_put_dev(struct tcbpf *t, int ifindex,
		 const struct tcbpf_cfg cfg[TCBPF_NDIR])
{
	struct tcbpf_dev dev = { .dirs = (1U << TCBPF_NDIR) - 1 };
	int dir;

	for (dir = 0; dir < TCBPF_NDIR; dir++)
		dev.dir[dir] = cfg[dir];
	return dev_write(t, ifindex, &dev);
}

/* ------------------------------------------------------- VXLAN networks */

static void vni_key_of(struct tcbpf_vni_key *k, const struct tcbpf *t,
		       int ifindex, __u32 vni)
{
	memset(k, 0, sizeof(*k));
	k->netns = t->netns;
	k->ifindex = ifindex;
	k->vni = vni;
}

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
		 struct tcbpf_dev *dev)
{
	struct tcbpf_vni_key k;

	vni_key_of(&k, t, ifindex, vni);
	if (t->vni_fd < 0)
		return -ENOENT;
	if (bpf_map_lookup_elem(t->vni_fd, &k, dev))
		return -errno;
	return 0;
}

int maps_vni_put(struct tcbpf *t, int ifindex, __u32 vni,
		 const struct tcbpf_dev *dev)
{
	struct tcbpf_vni_key k;

	vni_key_of(&k, t, ifindex, vni);
	if (bpf_map_update_elem(t->vni_fd, &k, dev, BPF_ANY))
		return -errno;
	return 0;
}

int maps_vni_del(struct tcbpf *t, int ifindex, __u32 vni)
{
	struct tcbpf_vni_key k;

	vni_key_of(&k, t, ifindex, vni);
	if (bpf_map_delete_elem(t->vni_fd, &k))
		return -errno;
	return 0;
}

int maps_vni_foreach(struct tcbpf *t, int ifindex, maps_vni_cb_t cb, void *ctx)
{
	struct tcbpf_key dev;
	struct tcbpf_dev val;

	key_of(&dev, t, ifindex);
	return vni_walk(t, t->vni_fd, &dev, &val, cb, ctx);
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
	struct tcbpf_key dev;
	void *per;
	int err;

	key_of(&dev, t, ifindex);
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
	struct tcbpf_key key;

	key_of(&key, t, ifindex);
	vni_del_all(t, &key);
	if (bpf_map_delete_elem(t->cfg_fd, &key))
		return -errno;
	return 0;
}

int maps_get(struct tcbpf *t, int ifindex, int dir, struct tcbpf_cfg *cfg)
{
	struct tcbpf_dev dev;
	int err = dev_read(t, ifindex, &dev);

	if (err)
		return err;
	if (!maps_dev_has(&dev, dir))
		return -ENOENT;
	*cfg = dev.dir[dir];
	return 0;
}

int maps_put(struct tcbpf *t, int ifindex, int dir, const struct tcbpf_cfg *cfg)
{
	struct tcbpf_dev dev;
	int err = dev_read(t, ifindex, &dev);

	if (err && err != -ENOENT)
		return err;
	dev.dir[dir] = *cfg;
	dev.dirs |= 1U << dir;
	return dev_write(t, ifindex, &dev);
}

int maps_del(struct tcbpf *t, int ifindex, int dir)
{
	struct tcbpf_dev dev;
	int err = dev_read(t, ifindex, &dev);

	if (err)
		return err;
	if (!maps_dev_has(&dev, dir))
		return -ENOENT;
	dev.dirs &= ~(1U << dir);
	memset(&dev.dir[dir], 0, sizeof(dev.dir[dir]));
	return dev_write(t, ifindex, &dev);
}

/*
 * Every entry, read in batches of this many (one syscall each instead of
 * two per entry: 2000 at a thousand devices, ~3 ms, on every command).
 */
#define FOREACH_BATCH	256
#ifndef ENOTSUPP
#define ENOTSUPP	524	/* the kernel's: no batch operations */
#endif

/* The entries one by one: keys first, since deleting while walking
 * restarts get_next_key. For a kernel without batch lookups of hashes. */
static int foreach_keys(struct tcbpf *t, maps_cb_t cb, void *ctx)
{
	struct tcbpf_key *keys = NULL, *k, *prev = NULL;
	struct tcbpf_dev dev;
	int i, n = 0, err = 0;

	for (;;) {
		k = realloc(keys, (n + 1) * sizeof(*keys));
		if (!k) {
			free(keys);
			return -ENOMEM;
		}
		keys = k;
		if (bpf_map_get_next_key(t->cfg_fd, prev, &keys[n]))
			break;
		prev = &keys[n++];
	}
	for (i = 0; i < n && !err; i++) {
		if (bpf_map_lookup_elem(t->cfg_fd, &keys[i], &dev))
			continue;	/* deleted meanwhile */
		err = cb(t, &keys[i], &dev, ctx);
	}
	free(keys);
	return err;
}

int maps_foreach(struct tcbpf *t, maps_cb_t cb, void *ctx)
{
	struct tcbpf_key *keys = NULL, *k;
	struct tcbpf_dev *devs = NULL, *v;
	__u32 batch, cnt;
	bool first = true, last = false;
	size_t n = 0, i;
	int err = 0;

	/* All of it first, then the callbacks: they may delete. */
	while (!last) {
		k = realloc(keys, (n + FOREACH_BATCH) * sizeof(*keys));
		if (k)
			keys = k;
		v = realloc(devs, (n + FOREACH_BATCH) * sizeof(*devs));
		if (v)
			devs = v;
		if (!k || !v) {
			err = -ENOMEM;
			goto out;
		}
		cnt = FOREACH_BATCH;
		if (bpf_map_lookup_batch(t->cfg_fd, first ? NULL : &batch, &batch,
					 keys + n, devs + n, &cnt, NULL)) {
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
		free(devs);
		return foreach_keys(t, cb, ctx);
	}
	for (i = 0; i < n && !err; i++)
		err = cb(t, &keys[i], &devs[i], ctx);
out:
	free(keys);
	free(devs);
	return err;
}

bool maps_empty(struct tcbpf *t)
{
	struct tcbpf_key key;

	return bpf_map_get_next_key(t->cfg_fd, NULL, &key) != 0;
}

int maps_del_key(struct tcbpf *t, const struct tcbpf_key *key)
{
	vni_del_all(t, key);
	if (bpf_map_delete_elem(t->cfg_fd, key))
		return -errno;
	return 0;
}

static int mark_used(struct tcbpf *t, const struct tcbpf_key *key,
		     const struct tcbpf_dev *dev, void *used)
{
	int dir;

	for (dir = 0; dir < TCBPF_NDIR; dir++)
		if (maps_dev_has(dev, dir) && dev->dir[dir].slot < TCBPF_MAX_SLOTS)
			((unsigned char *)used)[dev->dir[dir].slot] = 1;
	return 0;
}

int maps_slots_used(struct tcbpf *t, unsigned char used[TCBPF_MAX_SLOTS])
{
	struct tcbpf_vni_key k, next;
	struct tcbpf_dev val;
	bool first = true;
	int err;

	memset(used, 0, TCBPF_MAX_SLOTS);
	err = maps_foreach(t, mark_used, used);
	/* VXLAN networks' limits take slots too: their map, walked once */
	while (!err && t->vni_fd >= 0 &&
	       !bpf_map_get_next_key(t->vni_fd, first ? NULL : &k, &next)) {
		first = false;
		k = next;
		if (!bpf_map_lookup_elem(t->vni_fd, &k, &val))
			mark_used(t, NULL, &val, used);
	}
	return err;
}

int maps_slot_reset(struct tcbpf *t, __u32 slot)
{
	struct tcbpf_state st = {};
	struct tcbpf_pcpu *zero;
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

int maps_read_stats(struct tcbpf *t, __u32 slot, struct tcbpf_stats *out)
{
	struct tcbpf_pcpu *per;
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
			o->wdrop_pkts += p->wdrop_pkts;
			o->wdrop_bytes += p->wdrop_bytes;
		}
	}
out:
	free(per);
	return err;
}

int maps_rescale(struct tcbpf *t, const struct tcbpf_cfg *old,
		 const struct tcbpf_cfg *new)
{
	struct tcbpf_state st;
	__u32 slot = new->slot;
	__u64 now;
	int c;

	if (bpf_map_lookup_elem(t->state_fd, &slot, &st))
		return -errno;
	now = mono_ns();
	for (c = 0; c < TCBPF_NCLASS; c++) {
		const struct tcbpf_bucket_cfg *o = &old->cls[c], *n = &new->cls[c];
		struct tcbpf_bucket_state *s = &st.cls[c];

		s->tat_bytes = bucket_rescale(s->tat_bytes, now, o->rate_bits_per_sec,
				       n->rate_bits_per_sec, n->burst_ns);
		/* Packet timelines scale inversely with the packet rate. */
		s->tat_pkts = bucket_rescale(s->tat_pkts, now, o->pps, n->pps,
				      n->pburst_ns);
	}
	if (bpf_map_update_elem(t->state_fd, &slot, &st, BPF_EXIST))
		return -errno;
	return 0;
}
