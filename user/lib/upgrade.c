// SPDX-License-Identifier: GPL-2.0-only
/* upgrade.c - take over or migrate another tcbpf's pins (upgrade.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tcbpf.h"
#include "lib/layout_v1.h"
#include "kern/hook.h"
#include "kern/netns.h"
#include "kern/obj.h"
#include "lib/upgrade.h"
#include "util/log.h"
#include "util/msg.h"

#define MAX_NS		TCBPF_MAX_DEVS

struct up {
	char stage[PATH_MAX];
	const char *map_root;	/* the maps the new programs use */
	__u64 ns[MAX_NS];	/* namespaces to load programs for */
	int nns;
	int swapped;		/* ns[0..swapped) have (some) new programs */
	int ncpus;
	struct upgrade_report *r;
	/*
	 * Migration: the slots the settings use, and their layout 1 counters
	 * as copied, so that what the old programs count until the swap is
	 * added after it (late_counts()).
	 */
	bool used[TCBPF_MAX_SLOTS];
	__u64 slot_ns[TCBPF_MAX_SLOTS];	/* the namespace of a used slot */
	__u32 saved_slot[TCBPF_MAX_SLOTS];
	char *saved;		/* nsaved x cpus x one CPU's layout 1 value */
	int nsaved;
};

/* ------------------------------------------------------ layout 1 -> now */

/*
 * The one place that knows layout 1 and this build's layout: one entry of
 * layout 1's map @m (TCBPF_MAP_*; per-CPU maps: one CPU's value) into
 * this build's @nkey/@nval, which the caller zeroed. A layout change to
 * include/tcbpf.h changes this function (and TCBPF_LAYOUT), nothing else.
 */
static void layout1_convert(unsigned int m, const void *okey, const void *oval,
			    void *nkey, void *nval)
{
	int i, c, p;

	switch (m) {
	case TCBPF_MAP_CFG:
	case TCBPF_MAP_VNI: {
		const struct tcbpf_v1_dev *o = oval;
		struct tcbpf_dev *n = nval;

		if (m == TCBPF_MAP_CFG) {
			const struct tcbpf_v1_key *ok = okey;
			struct tcbpf_key *nk = nkey;

			nk->netns = ok->netns;
			nk->ifindex = ok->ifindex;
		} else {
			const struct tcbpf_v1_vni_key *ok = okey;
			struct tcbpf_vni_key *nk = nkey;

			nk->netns = ok->netns;
			nk->ifindex = ok->ifindex;
			nk->vni = ok->vni;
		}
		n->dirs = o->dirs;
		for (i = 0; i < TCBPF_V1_NDIR; i++) {
			const struct tcbpf_v1_cfg *oc = &o->dir[i];
			struct tcbpf_cfg *nc = &n->dir[i];

			nc->slot = oc->slot;
			nc->mode = oc->mode;
			nc->nports = oc->nports;
			nc->flags = oc->flags;
			for (c = 0; c < TCBPF_V1_NCLASS; c++) {
				const struct tcbpf_v1_bucket_cfg *ob = &oc->cls[c];
				struct tcbpf_bucket_cfg *nb = &nc->cls[c];

				nb->burst_ns = ob->burst_ns;
				nb->byte_ns = ob->byte_ns;
				nb->byte_ns_frac = ob->byte_ns_frac;
				nb->batch_bytes = ob->batch_bytes;
				nb->batch_ns = ob->batch_ns;
				nb->batch_pkts = ob->batch_pkts;
				nb->ns_bytes = ob->ns_bytes;
				nb->pkt_ns = ob->pkt_ns;
				nb->pburst_ns = ob->pburst_ns;
				nb->batch_pns = ob->batch_pns;
				nb->ns_pkts = ob->ns_pkts;
				nb->rate_bits_per_sec = ob->rate_bits_per_sec;
				nb->burst_bytes = ob->burst_bytes;
				nb->pps = ob->pps;
				nb->pburst_pkts = ob->pburst_pkts;
			}
			nc->delay_ns = oc->delay_ns;
			nc->horizon_ns = oc->horizon_ns;
			nc->ecn_ns = oc->ecn_ns;
			for (p = 0; p < TCBPF_V1_MAX_PORTS; p++) {
				nc->ports[p].lo = oc->ports[p].lo;
				nc->ports[p].hi = oc->ports[p].hi;
				nc->ports[p].protos = oc->ports[p].protos;
			}
			nc->hook = oc->hook;
			nc->vxlan_port = oc->vxlan_port;
			nc->pace_ifindex = oc->pace_ifindex;
			nc->netns_ino = oc->netns_ino;
			memcpy(nc->ifname, oc->ifname, sizeof(nc->ifname));
		}
		break;
	}
	case TCBPF_MAP_STATE: {
		const struct tcbpf_v1_state *o = oval;
		struct tcbpf_state *n = nval;

		*(__u32 *)nkey = *(const __u32 *)okey;
		for (c = 0; c < TCBPF_V1_NCLASS; c++) {
			n->cls[c].tat_bytes = o->cls[c].tat_bytes;
			n->cls[c].tat_pkts = o->cls[c].tat_pkts;
		}
		break;
	}
	case TCBPF_MAP_STATS: {
		const struct tcbpf_v1_pcpu *o = oval;
		struct tcbpf_pcpu *n = nval;

		*(__u32 *)nkey = *(const __u32 *)okey;
		for (c = 0; c < TCBPF_V1_NCLASS; c++) {
			n->cls[c].pass_pkts = o->cls[c].pass_pkts;
			n->cls[c].pass_bytes = o->cls[c].pass_bytes;
			n->cls[c].drop_pkts = o->cls[c].drop_pkts;
			n->cls[c].drop_bytes = o->cls[c].drop_bytes;
			n->cls[c].mark_pkts = o->cls[c].mark_pkts;
			n->cls[c].wdrop_pkts = o->cls[c].wdrop_pkts;
			n->cls[c].wdrop_bytes = o->cls[c].wdrop_bytes;
			n->tok[c].bytes = o->tok[c].bytes;
			n->tok[c].pkts = o->tok[c].pkts;
		}
		break;
	}
	case TCBPF_MAP_VNI_STATS: {
		const struct tcbpf_v1_vni_key *ok = okey;
		const struct tcbpf_v1_vni_ctr *o = oval;
		struct tcbpf_vni_key *nk = nkey;
		struct tcbpf_vni_ctr *n = nval;

		nk->netns = ok->netns;
		nk->ifindex = ok->ifindex;
		nk->vni = ok->vni;
		for (i = 0; i < TCBPF_V1_NDIR; i++) {
			n->dir[i].pass_pkts = o->dir[i].pass_pkts;
			n->dir[i].pass_bytes = o->dir[i].pass_bytes;
			n->dir[i].drop_pkts = o->dir[i].drop_pkts;
			n->dir[i].drop_bytes = o->dir[i].drop_bytes;
		}
		break;
	}
	}
}

/* Layout 1's maps: type, key and value sizes, as tcbpf 0.1 made them. */
static const struct {
	__u32 type, key, value;
} v1_maps[TCBPF_NMAPS] = {
	[TCBPF_MAP_CFG] = { BPF_MAP_TYPE_HASH, sizeof(struct tcbpf_v1_key),
			    sizeof(struct tcbpf_v1_dev) },
	[TCBPF_MAP_STATE] = { BPF_MAP_TYPE_ARRAY, 4,
			      sizeof(struct tcbpf_v1_state) },
	[TCBPF_MAP_STATS] = { BPF_MAP_TYPE_PERCPU_ARRAY, 4,
			      sizeof(struct tcbpf_v1_pcpu) },
	[TCBPF_MAP_VNI] = { BPF_MAP_TYPE_HASH, sizeof(struct tcbpf_v1_vni_key),
			    sizeof(struct tcbpf_v1_dev) },
	[TCBPF_MAP_VNI_STATS] = { BPF_MAP_TYPE_LRU_PERCPU_HASH,
				  sizeof(struct tcbpf_v1_vni_key),
				  sizeof(struct tcbpf_v1_vni_ctr) },
};

static int map_open(const char *root, unsigned int m, struct bpf_map_info *info)
{
	char path[PATH_MAX];
	__u32 len = sizeof(*info);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, tcbpf_map_name(m));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(info, 0, sizeof(*info));
	if (bpf_obj_get_info_by_fd(fd, info, &len)) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* Are the pinned maps really layout 1's? */
static bool is_layout1(char *why, size_t len)
{
	struct bpf_map_info info;
	unsigned int m;
	int fd;

	for (m = 0; m < TCBPF_NMAPS; m++) {
		fd = map_open(tcbpf_pin_dir(), m, &info);
		if (fd < 0) {
			seterr(why, len, "map %s: %s", tcbpf_map_name(m),
			       strerror(-fd));
			return false;
		}
		close(fd);
		if (info.type != v1_maps[m].type ||
		    info.key_size != v1_maps[m].key ||
		    info.value_size != v1_maps[m].value) {
			seterr(why, len, "map %s has type %u key %u value %u "
			       "bytes, not layout 1's", tcbpf_map_name(m),
			       info.type, info.key_size, info.value_size);
			return false;
		}
	}
	return true;
}

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static bool percpu(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/* The slots of converted settings @dev, counted as carried over. */
static void slots_used(struct up *u, __u64 netns, const struct tcbpf_dev *dev)
{
	int d;

	u->r->settings++;
	for (d = 0; d < TCBPF_NDIR; d++)
		if (dev->dirs & (1U << d) && dev->dir[d].slot < TCBPF_MAX_SLOTS) {
			u->used[dev->dir[d].slot] = true;
			u->slot_ns[dev->dir[d].slot] = netns;
		}
}

static void save_counts(struct up *u, const void *key, const void *val,
			size_t sz)
{
	__u32 slot = *(const __u32 *)key;

	if (slot >= TCBPF_MAX_SLOTS || !u->used[slot])
		return;
	if (!u->saved)
		u->saved = calloc(TCBPF_MAX_SLOTS, sz);
	if (!u->saved)
		return;		/* late counts lost: not worth failing */
	memcpy(u->saved + u->nsaved * sz, val, sz);
	u->saved_slot[u->nsaved++] = slot;
}

/* @n += @now - @then, counter by counter (all of them __u64). */
static void counters_add(struct tcbpf_pcpu *n, const struct tcbpf_pcpu *now,
			 const struct tcbpf_pcpu *then)
{
	const size_t k = sizeof(struct tcbpf_counters) / sizeof(__u64);
	size_t c, i;

	for (c = 0; c < TCBPF_NCLASS; c++) {
		__u64 *dst = (__u64 *)&n->cls[c];
		const __u64 *a = (const __u64 *)&now->cls[c];
		const __u64 *b = (const __u64 *)&then->cls[c];

		for (i = 0; i < k; i++)
			dst[i] += a[i] - b[i];
	}
}

/*
 * After the swap: what the old programs counted between the copy and the
 * swap, added to the new counters. The BPF side may bump a new counter
 * between our read and write of it; that window is microseconds, the one
 * it closes milliseconds.
 */
static void late_counts(struct up *u)
{
	size_t osz = round8(sizeof(struct tcbpf_v1_pcpu));
	size_t nsz = round8(sizeof(struct tcbpf_pcpu));
	struct tcbpf_pcpu a, b;
	struct bpf_map_info info;
	char *now = NULL, *cur = NULL;
	int ofd, nfd, i, c;
	__u32 key;

	if (!u->nsaved)
		return;
	usleep(20 * 1000);	/* packets still inside an old program */
	ofd = map_open(tcbpf_pin_dir(), TCBPF_MAP_STATS, &info);
	nfd = map_open(u->stage, TCBPF_MAP_STATS, &info);
	now = calloc(u->ncpus, osz);
	cur = calloc(u->ncpus, nsz);
	for (i = 0; ofd >= 0 && nfd >= 0 && now && cur && i < u->nsaved; i++) {
		key = u->saved_slot[i];
		if (bpf_map_lookup_elem(ofd, &key, now) ||
		    bpf_map_lookup_elem(nfd, &key, cur))
			continue;
		for (c = 0; c < u->ncpus; c++) {
			memset(&a, 0, sizeof(a));
			memset(&b, 0, sizeof(b));
			layout1_convert(TCBPF_MAP_STATS, &key, now + c * osz,
					&key, &a);
			layout1_convert(TCBPF_MAP_STATS, &key, u->saved +
					((size_t)i * u->ncpus + c) * osz, &key, &b);
			counters_add((struct tcbpf_pcpu *)(cur + c * nsz), &a, &b);
		}
		bpf_map_update_elem(nfd, &key, cur, 0);
	}
	free(now);
	free(cur);
	if (ofd >= 0)
		close(ofd);
	if (nfd >= 0)
		close(nfd);
}

/* Every entry of layout 1's map @m into the staged map of this layout. */
static int copy_map(struct up *u, unsigned int m)
{
	struct bpf_map_info oi, ni;
	int ofd, nfd, err = 0, cpus;
	bool pc;
	size_t ovs, nvs, c;
	char *okey, *nkey, *prev = NULL, *oval, *nval;

	ofd = map_open(tcbpf_pin_dir(), m, &oi);
	if (ofd < 0)
		return ofd;
	nfd = map_open(u->stage, m, &ni);
	if (nfd < 0) {
		close(ofd);
		return nfd;
	}
	pc = percpu(oi.type);
	cpus = pc ? u->ncpus : 1;
	ovs = pc ? round8(oi.value_size) : oi.value_size;
	nvs = pc ? round8(ni.value_size) : ni.value_size;
	okey = calloc(2, oi.key_size);
	nkey = calloc(1, ni.key_size);
	oval = calloc(cpus, ovs);
	nval = calloc(cpus, nvs);
	if (!okey || !nkey || !oval || !nval) {
		err = -ENOMEM;
		goto out;
	}
	/* arrays too: every index, the empty ones cost a lookup each */
	while (!bpf_map_get_next_key(ofd, prev, okey + oi.key_size)) {
		memcpy(okey, okey + oi.key_size, oi.key_size);
		prev = okey;
		if (bpf_map_lookup_elem(ofd, okey, oval))
			continue;	/* gone meanwhile (LRU) */
		memset(nkey, 0, ni.key_size);
		memset(nval, 0, (size_t)cpus * nvs);
		for (c = 0; c < (size_t)cpus; c++)
			layout1_convert(m, okey, oval + c * ovs, nkey,
					nval + c * nvs);
		if (bpf_map_update_elem(nfd, nkey, nval, 0)) {
			err = -errno;
			pr_warn("map %s: cannot carry an entry over: %s\n",
				tcbpf_map_name(m), strerror(-err));
			goto out;
		}
		/* devices and networks: what the report counts */
		if (m == TCBPF_MAP_CFG || m == TCBPF_MAP_VNI)
			/* both keys start with the namespace cookie */
			slots_used(u, *(const __u64 *)nkey,
				   (const struct tcbpf_dev *)nval);
		if (m == TCBPF_MAP_STATS)
			save_counts(u, okey, oval, (size_t)cpus * ovs);
	}
out:
	free(okey);
	free(nkey);
	free(oval);
	free(nval);
	close(ofd);
	close(nfd);
	return err;
}

/* ------------------------------------------------------------- programs */

static int ns_add(struct up *u, __u64 ns)
{
	int i;

	for (i = 0; i < u->nns; i++)
		if (u->ns[i] == ns)
			return 0;
	if (u->nns == MAX_NS)
		return -ENOSPC;
	u->ns[u->nns++] = ns;
	return 0;
}

/*
 * The namespaces to load programs for: those with a program trio pinned,
 * and those of devices with settings (their hooks hold programs).
 */
static int ns_collect(struct up *u)
{
	__u64 key[8];		/* any layout's key, up to 64 bytes */
	struct bpf_map_info info;
	int i, n, fd, err = 0;
	void *prev = NULL;

	n = tcbpf_ns_list(tcbpf_pin_dir(), u->ns, MAX_NS);
	if (n < 0)
		return n;
	u->nns = n;
	fd = map_open(tcbpf_pin_dir(), TCBPF_MAP_CFG, &info);
	if (fd < 0)
		return fd;
	if (info.key_size < sizeof(__u64) || info.key_size > sizeof(key))
		err = -EINVAL;
	/* every layout's key starts with the namespace cookie; the kernel
	 * reads @prev before it writes the next key over it */
	while (!err && !bpf_map_get_next_key(fd, prev, key)) {
		prev = key;
		err = ns_add(u, key[0]);
	}
	close(fd);
	if (err)
		return err;
	for (i = 0; i < u->nns; i++)
		if (!u->ns[i])
			return -EINVAL;
	return u->nns ? 0 : ns_add(u, netns_self());
}

static int progs_open(const char *root, __u64 ns, int fd[TCBPF_NPROG])
{
	int p;

	for (p = 0; p < TCBPF_NPROG; p++)
		fd[p] = tcbpf_prog_get(root, ns, p);
	return fd[TCBPF_INGRESS] < 0 ? fd[TCBPF_INGRESS] :
	       fd[TCBPF_EGRESS] < 0 ? fd[TCBPF_EGRESS] : 0;
}

static void progs_close(int fd[TCBPF_NPROG])
{
	int p;

	for (p = 0; p < TCBPF_NPROG; p++)
		if (fd[p] >= 0)
			close(fd[p]);
}

/*
 * Calls @fn for each device of namespace @ns with settings in the maps the
 * new programs use (their key and value in this build's layout).
 */
static int ns_devs(struct up *u, __u64 ns,
		   int (*fn)(struct up *u, const struct tcbpf_key *key,
			     const struct tcbpf_dev *dev, void *ctx),
		   void *ctx)
{
	struct tcbpf_key key, *prev = NULL;
	struct tcbpf_dev dev;
	char path[PATH_MAX];
	int cfg, err = 0;

	snprintf(path, sizeof(path), "%s/%s", u->map_root,
		 tcbpf_map_name(TCBPF_MAP_CFG));
	cfg = bpf_obj_get(path);
	if (cfg < 0)
		return -errno;
	while (!err && !bpf_map_get_next_key(cfg, prev, &key)) {
		prev = &key;
		if (key.netns == ns && !bpf_map_lookup_elem(cfg, &key, &dev))
			err = fn(u, &key, &dev, ctx);
	}
	close(cfg);
	return err;
}

static bool on_tc(const struct tcbpf_dev *dev)
{
	return (dev->dirs & 1 && dev->dir[0].hook == TCBPF_HOOK_TC) ||
	       (dev->dirs & 2 && dev->dir[1].hook == TCBPF_HOOK_TC) ||
	       dev->dir[TCBPF_INGRESS].pace_ifindex;
}

/*
 * Where a namespace with tc hooks is: 1 with its path ("": ours). One not
 * found is gone, as lib/gone.c judges it, and its hooks with it (one kept
 * only by a file descriptor keeps the old programs, on the old maps).
 */
static int find_where(struct up *u, const struct tcbpf_key *key,
		      const struct tcbpf_dev *dev, void *ctx)
{
	__u64 ino = dev->dir[dev->dirs & 1 ? 0 : 1].netns_ino;
	char *where = ctx;

	if (!on_tc(dev))
		return 0;
	if (netns_alive(ino, key->netns, where, PATH_MAX))
		return 1;
	pr_debug("namespace %llx (inode %llu) of %s not found: gone, its tc "
		 "hooks with it\n", (unsigned long long)key->netns,
		 (unsigned long long)ino, dev->dir[0].ifname);
	return 0;
}

/* tcbpf's tc filters of one device (and its pacing ifb's) swapped in place. */
static int swap_tc(struct up *u, const struct tcbpf_key *key,
		   const struct tcbpf_dev *dev, void *ctx)
{
	const int *fd = ctx;
	int d, rc = 0;

	if (!on_tc(dev))
		return 0;
	for (d = 0; d < TCBPF_NDIR && rc >= 0; d++) {
		rc = hook_swap_tc(key->ifindex, d, fd[d]);
		u->r->hooks += rc > 0;
	}
	if (rc >= 0 && dev->dir[TCBPF_INGRESS].pace_ifindex &&
	    fd[TCBPF_PROG_PACE] >= 0) {
		rc = hook_swap_tc(dev->dir[TCBPF_INGRESS].pace_ifindex,
				  TCBPF_EGRESS, fd[TCBPF_PROG_PACE]);
		u->r->hooks += rc > 0;
	}
	return rc < 0 ? rc : 0;
}

/*
 * The bucket timelines of @ns's devices, copied right before their
 * programs are swapped: what the old programs let pass between the copy
 * and the swap is let pass once more by the new ones, so that moment is
 * kept as short as can be.
 */
static void copy_state_ns(struct up *u, __u64 ns)
{
	struct tcbpf_v1_state o;
	struct tcbpf_state n;
	struct bpf_map_info info;
	int ofd, nfd;
	__u32 slot, nkey;

	ofd = map_open(tcbpf_pin_dir(), TCBPF_MAP_STATE, &info);
	nfd = map_open(u->stage, TCBPF_MAP_STATE, &info);
	for (slot = 0; ofd >= 0 && nfd >= 0 && slot < TCBPF_MAX_SLOTS; slot++) {
		if (!u->used[slot] || u->slot_ns[slot] != ns ||
		    bpf_map_lookup_elem(ofd, &slot, &o))
			continue;
		memset(&n, 0, sizeof(n));
		layout1_convert(TCBPF_MAP_STATE, &slot, &o, &nkey, &n);
		if (bpf_map_update_elem(nfd, &nkey, &n, 0))
			pr_warn("slot %u: bucket state not carried over: %s\n",
				slot, strerror(errno));
	}
	if (ofd >= 0)
		close(ofd);
	if (nfd >= 0)
		close(nfd);
}

/*
 * Every hook of namespace @ns to the programs pinned under @root, from
 * inside it when it has tc hooks (found first: the swaps follow at once);
 * with @state the bucket timelines first. The number swapped.
 */
static int swap_ns(struct up *u, __u64 ns, const char *root, bool state)
{
	char where[PATH_MAX] = "";
	int fd[TCBPF_NPROG], self = -1, hooks = u->r->hooks, tc, n, err;

	err = progs_open(root, ns, fd);
	tc = err ? 0 : ns_devs(u, ns, find_where, where);
	if (!err && tc < 0)
		err = tc;
	if (!err && tc > 0 && where[0]) {
		self = netns_push(where);
		err = self < 0 ? self : 0;
	}
	if (!err && state)
		copy_state_ns(u, ns);
	n = err ? 0 : hook_swap_links(ns, fd);
	if (n < 0)
		err = n;
	else
		u->r->hooks += n;
	if (!err && tc > 0)
		err = ns_devs(u, ns, swap_tc, fd);
	if (self >= 0)
		netns_pop(self);
	progs_close(fd);
	return err ? err : u->r->hooks - hooks;
}

/* This build's programs for every namespace, pinned in the stage. */
static int load_all(struct up *u, char *msg, size_t len)
{
	int i, err = 0;

	for (i = 0; i < u->nns && !err; i++) {
		err = tcbpf_load_ns(u->map_root, u->stage, u->ns[i]);
		if (err)
			seterr(msg, len, "cannot load this tcbpf's programs "
			       "for namespace %llx: %s", (unsigned long long)
			       u->ns[i], strerror(-err));
	}
	if (err)
		return err;
	u->r->namespaces = u->nns;
	return 0;
}

/* Swap every namespace's hooks; a failure swaps the old programs back. */
static int swap_all(struct up *u, char *msg, size_t len)
{
	int i, n, err = 0;

	for (i = 0; i < u->nns && !err; i++) {
		u->swapped = i + 1;
		n = swap_ns(u, u->ns[i], u->stage, u->map_root == u->stage);
		if (n < 0)
			err = n;
	}
	if (!err)
		return 0;
	seterr(msg, len, "cannot swap the programs of namespace %llx: %s; "
	       "the old programs are back in place and in use",
	       (unsigned long long)u->ns[u->swapped - 1], strerror(-err));
	for (i = 0; i < u->swapped; i++)
		swap_ns(u, u->ns[i], tcbpf_pin_dir(), false);
	return err;
}

int upgrade_forget_v1(__u64 netns, __u32 ifindex, __u32 *flags)
{
	struct tcbpf_v1_key key = { .netns = netns, .ifindex = ifindex };
	struct tcbpf_v1_dev dev;
	struct bpf_map_info info;
	int fd, d, err = 0;

	*flags = 0;
	if (!is_layout1(NULL, 0))
		return -ESTALE;
	fd = map_open(tcbpf_pin_dir(), TCBPF_MAP_CFG, &info);
	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &key, &dev) ||
	    bpf_map_delete_elem(fd, &key))
		err = -errno;
	for (d = 0; !err && d < TCBPF_V1_NDIR; d++)
		if (dev.dirs & (1U << d))
			*flags |= dev.dir[d].flags;
	close(fd);
	return err;
}

/* ---------------------------------------------------------------- driver */

static int refuse(const struct tcbpf_pins *p, const char *why, char *msg,
		  size_t len)
{
	char ver[48] = "";

	if (p->version[0])
		snprintf(ver, sizeof(ver), ", tcbpf %s", p->version);
	if (p->layout > TCBPF_LAYOUT)
		seterr(msg, len, "the limiter pinned in %s has map layout %d%s, "
		       "newer than this tcbpf's %d (tcbpf %s): use that "
		       "version (or a newer one), or detach its clamps with "
		       "it first", tcbpf_pin_dir(), p->layout, ver,
		       TCBPF_LAYOUT, tcbpf_version());
	else
		seterr(msg, len, "the limiter pinned in %s has map layout %d%s "
		       "which this tcbpf (%s, layout %d) cannot migrate%s%s: "
		       "detach its clamps with the version that made them, "
		       "then attach them with this one (tcbpf apply "
		       "re-attaches the recorded ones)", tcbpf_pin_dir(),
		       p->layout, ver, tcbpf_version(), TCBPF_LAYOUT,
		       why ? ": " : "", why ? why : "");
	return -EPROTO;
}

/*
 * Stage, load, (copy), swap, commit. A failure before the swap leaves the
 * old pins alone; one during it swaps back (swap_all); the stage goes.
 */
static int run(struct up *u, bool migrate, char *msg, size_t len)
{
	/* the bucket timelines are copied later, right before each swap */
	static const unsigned int order[] = {
		TCBPF_MAP_CFG, TCBPF_MAP_VNI, TCBPF_MAP_STATS,
		TCBPF_MAP_VNI_STATS };
	unsigned int i, m;
	int err;

	tcbpf_pin_path(u->stage, sizeof(u->stage), TCBPF_STAGE_NAME);
	tcbpf_stage_remove(u->stage);	/* an upgrade killed half way */
	if (mkdir(u->stage, 0700) < 0) {
		err = -errno;
		seterr(msg, len, "cannot create %s: %s", u->stage,
		       strerror(-err));
		return err;
	}
	u->map_root = migrate ? u->stage : tcbpf_pin_dir();
	u->ncpus = libbpf_num_possible_cpus();
	err = u->ncpus < 0 ? u->ncpus : ns_collect(u);
	if (err)
		seterr(msg, len, "cannot list what is pinned in %s: %s",
		       tcbpf_pin_dir(), strerror(-err));
	if (!err)
		err = load_all(u, msg, len);
	/* the settings first: the slots they use are those whose counters
	 * late_counts() completes */
	for (i = 0; migrate && !err && i < sizeof(order) / sizeof(order[0]); i++) {
		m = order[i];
		err = copy_map(u, m);
		if (err)
			seterr(msg, len, "cannot carry map %s over: %s",
			       tcbpf_map_name(m), strerror(-err));
	}
	if (!err) {
		err = tcbpf_info_pin(u->stage);
		if (err)
			seterr(msg, len, "cannot pin %s/%s: %s", u->stage,
			       TCBPF_INFO_NAME, strerror(-err));
	}
	if (!err)
		err = swap_all(u, msg, len);
	if (!err && migrate)
		late_counts(u);
	if (err) {
		/* nothing of it in use (swapped back, or never swapped) */
		tcbpf_stage_remove(u->stage);
		return err;
	}
	err = tcbpf_stage_commit(u->stage);
	if (err)	/* the stage stays: its pins hold what is in use */
		seterr(msg, len, "the new programs are in use, but their pins "
		       "cannot replace the old ones in %s: %s", tcbpf_pin_dir(),
		       strerror(-err));
	return err;
}

int upgrade_run(bool takeover, struct upgrade_report *r, char *msg,
		size_t len)
{
	struct tcbpf_pins p;
	struct up *u;
	char why[160];
	int err;

	memset(r, 0, sizeof(*r));
	err = tcbpf_pins_probe(tcbpf_pin_dir(), &p);
	if (err) {
		seterr(msg, len, "cannot read %s/%s: %s", tcbpf_pin_dir(),
		       TCBPF_INFO_NAME, strerror(-err));
		return err;
	}
	r->from_layout = p.layout;
	snprintf(r->from_version, sizeof(r->from_version), "%s", p.version);
	if (!p.layout)
		return 0;
	if (p.layout == TCBPF_LAYOUT) {
		r->did = p.build == tcbpf_build_id() ? UPGRADE_CURRENT :
			 UPGRADE_OTHER_BUILD;
		if (r->did == UPGRADE_CURRENT || !takeover)
			return 0;
	} else if (p.layout != 1) {
		return refuse(&p, NULL, msg, len);
	} else if (!is_layout1(why, sizeof(why))) {
		return refuse(&p, why, msg, len);
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->r = r;
	err = run(u, p.layout != TCBPF_LAYOUT, msg, len);
	free(u->saved);
	if (!err) {
		r->did = p.layout != TCBPF_LAYOUT ? UPGRADE_MIGRATED :
			 UPGRADE_TAKEOVER;
		pr_debug("upgrade from layout %d (%s): %d namespaces, %d hooks "
			 "swapped, %d settings carried over\n", p.layout,
			 p.version[0] ? p.version : "version unknown",
			 r->namespaces, r->hooks, r->settings);
	}
	free(u);
	return err;
}
