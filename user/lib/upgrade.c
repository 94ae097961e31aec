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
#include "lib/maps.h"
#include "kern/hook.h"
#include "kern/netns.h"
#include "kern/obj.h"
#include "lib/upgrade.h"
#include "util/log.h"
#include "util/msg.h"

#define MAX_NS		TCBPF_MAX_DEVS

/* A device's or VXLAN network's entry carried over from layout 1 or 2. */
struct carried {
	struct tcbpf_key key;	/* the device's */
	__u32 vni1;		/* 0 the device, else its network's VNI + 1 */
	__u32 dirs;
	__u32 slot[TCBPF_NDIR];	/* in the old maps */
	struct tcbpf_stats counted[TCBPF_NDIR];	/* what was carried */
};

struct up {
	char stage[PATH_MAX];
	const char *map_root;	/* the maps the new programs use */
	__u64 ns[MAX_NS];	/* namespaces to load programs for */
	int nns;
	int swapped;		/* ns[0..swapped) have (some) new programs */
	int ncpus;
	struct upgrade_report *r;
	/*
	 * Migration: the staged maps, and the entries carried over with
	 * their old slots and the counts carried, so that what the old
	 * programs count until the swap is added after it (late_counts()).
	 */
	struct tcbpf new;
	struct carried *c;
	int nc;
};

/* ------------------------------------------------ layouts 1 and 2 -> now */

/*
 * Layouts 1 and 2 have the same maps (2 only adds the tcbpf_info pin):
 * settings by device, and by slot the timelines and per-CPU counters.
 */
enum { V1_CFG, V1_STATE, V1_STATS, V1_VNI, V1_VNI_STATS, V1_NMAPS };

static const struct {
	const char *name;
	__u32 type, key, value;
} v1_maps[V1_NMAPS] = {
	[V1_CFG] = { "tcbpf_cfg", BPF_MAP_TYPE_HASH,
		     sizeof(struct tcbpf_v1_key), sizeof(struct tcbpf_v1_dev) },
	[V1_STATE] = { "tcbpf_state", BPF_MAP_TYPE_ARRAY, 4,
		       sizeof(struct tcbpf_v1_state) },
	[V1_STATS] = { "tcbpf_stats", BPF_MAP_TYPE_PERCPU_ARRAY, 4,
		       sizeof(struct tcbpf_v1_pcpu) },
	[V1_VNI] = { "tcbpf_vni", BPF_MAP_TYPE_HASH,
		     sizeof(struct tcbpf_v1_vni_key), sizeof(struct tcbpf_v1_dev) },
	[V1_VNI_STATS] = { "tcbpf_vni_stats", BPF_MAP_TYPE_LRU_PERCPU_HASH,
			   sizeof(struct tcbpf_v1_vni_key),
			   sizeof(struct tcbpf_v1_vni_ctr) },
};

/*
 * The one place that knows layout 1's settings and this build's: one
 * direction of a layout 1 entry into the CLI's view of this layout's
 * (lib/maps.c splits it into a profile and the entry's own).
 */
static void v1_cfg_convert(const struct tcbpf_v1_cfg *oc, struct tcbpf_cfg *nc)
{
	int c, p;

	memset(nc, 0, sizeof(*nc));
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

/* The stride of a per-CPU map's values in a lookup's buffer. */
static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* A slot's counters, summed over the CPUs (@per: ncpus values, 8-byte
 * aligned each). */
static void v1_counts(const char *per, int ncpus, struct tcbpf_stats *n)
{
	size_t sz = round8(sizeof(struct tcbpf_v1_pcpu));
	int cpu, c;

	memset(n, 0, sizeof(*n));
	for (cpu = 0; cpu < ncpus; cpu++) {
		const struct tcbpf_v1_pcpu *o = (const void *)(per + cpu * sz);

		for (c = 0; c < TCBPF_V1_NCLASS; c++) {
			n->cls[c].pass_pkts += o->cls[c].pass_pkts;
			n->cls[c].pass_bytes += o->cls[c].pass_bytes;
			n->cls[c].drop_pkts += o->cls[c].drop_pkts;
			n->cls[c].drop_bytes += o->cls[c].drop_bytes;
			n->cls[c].mark_pkts += o->cls[c].mark_pkts;
			n->cls[c].wdrop_pkts += o->cls[c].wdrop_pkts;
			n->cls[c].wdrop_bytes += o->cls[c].wdrop_bytes;
		}
	}
}

static void v1_vni_ctr_convert(const struct tcbpf_v1_vni_ctr *o,
			       struct tcbpf_vni_ctr *n)
{
	int i;

	for (i = 0; i < TCBPF_V1_NDIR; i++) {
		n->dir[i].pass_pkts = o->dir[i].pass_pkts;
		n->dir[i].pass_bytes = o->dir[i].pass_bytes;
		n->dir[i].drop_pkts = o->dir[i].drop_pkts;
		n->dir[i].drop_bytes = o->dir[i].drop_bytes;
	}
}

static int map_open_path(const char *path, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);
	int fd;

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

/* This layout's map @m (TCBPF_MAP_*) under @root. */
static int map_open(const char *root, unsigned int m, struct bpf_map_info *info)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", root, tcbpf_map_name(m));
	return map_open_path(path, info);
}

/* Layout 1's map @m (V1_*) pinned under the pin dir. */
static int v1_open(unsigned int m)
{
	struct bpf_map_info info;

	return map_open_path(tcbpf_pin_path((char[PATH_MAX]){ 0 }, PATH_MAX,
					    v1_maps[m].name), &info);
}

/* Are the pinned maps really layout 1's (or 2's: the same)? */
static bool is_layout1(char *why, size_t len)
{
	struct bpf_map_info info;
	char path[PATH_MAX];
	unsigned int m;
	int fd;

	for (m = 0; m < V1_NMAPS; m++) {
		fd = map_open_path(tcbpf_pin_path(path, sizeof(path),
						  v1_maps[m].name), &info);
		if (fd < 0) {
			seterr(why, len, "map %s: %s", v1_maps[m].name,
			       strerror(-fd));
			return false;
		}
		close(fd);
		if (info.type != v1_maps[m].type ||
		    info.key_size != v1_maps[m].key ||
		    info.value_size != v1_maps[m].value) {
			seterr(why, len, "map %s has type %u key %u value %u "
			       "bytes, not layout 1's", v1_maps[m].name,
			       info.type, info.key_size, info.value_size);
			return false;
		}
	}
	return true;
}

/* The staged maps as lib/maps.c sees them. */
static int stage_open(struct up *u)
{
	struct tcbpf *t = &u->new;
	int *fd[] = { &t->cfg_fd, &t->prof_fd, &t->pcache_fd, &t->vni_fd,
		      &t->vni_stats_fd };
	struct bpf_map_info info;
	char path[PATH_MAX + 32];
	unsigned int m;

	memset(t, 0, sizeof(*t));
	t->prog_fd[0] = t->prog_fd[1] = t->prog_fd[TCBPF_PROG_PACE] = -1;
	t->set_fd = -1;
	for (m = 0; m < TCBPF_NMAPS; m++)
		*fd[m] = -1;
	t->ncpus = u->ncpus;
	for (m = 0; m < TCBPF_NMAPS; m++) {
		*fd[m] = map_open(u->stage, m, &info);
		if (*fd[m] < 0)
			return *fd[m];
	}
	snprintf(path, sizeof(path), "%s/tcbpf_set", u->stage);
	t->set_fd = bpf_obj_get(path);
	return t->set_fd < 0 ? -errno : 0;
}

/*
 * Every entry of the old settings map @m (V1_CFG or V1_VNI) into the
 * staged maps, with the counters of its slots. The timelines follow
 * right before the swap (carry_tl_ns()).
 */
static int carry_entries(struct up *u, unsigned int m)
{
	size_t psz = round8(sizeof(struct tcbpf_v1_pcpu));
	union {
		struct tcbpf_v1_key dev;
		struct tcbpf_v1_vni_key vni;
	} k, next;
	struct tcbpf_cfg cfg[TCBPF_NDIR];
	struct tcbpf_stats ctr[TCBPF_NDIR];
	struct tcbpf_v1_dev o;
	struct carried *cv;
	bool first = true;
	int fd, sfd, d, err = 0;
	char *per;

	fd = v1_open(m);
	sfd = v1_open(V1_STATS);
	per = calloc(u->ncpus, psz);
	if (fd < 0 || sfd < 0 || !per) {
		err = fd < 0 ? fd : sfd < 0 ? sfd : -ENOMEM;
		goto out;
	}
	while (!err && !bpf_map_get_next_key(fd, first ? NULL : &k, &next)) {
		first = false;
		k = next;
		if (bpf_map_lookup_elem(fd, &k, &o))
			continue;	/* gone meanwhile */
		cv = realloc(u->c, (u->nc + 1) * sizeof(*cv));
		if (!cv) {
			err = -ENOMEM;
			break;
		}
		u->c = cv;
		cv = &u->c[u->nc];
		memset(cv, 0, sizeof(*cv));
		/* both keys start with the namespace cookie and ifindex */
		cv->key.netns = k.dev.netns;
		cv->key.ifindex = k.dev.ifindex;
		cv->vni1 = m == V1_VNI ? k.vni.vni + 1 : 0;
		cv->dirs = o.dirs & ((1U << TCBPF_NDIR) - 1);
		for (d = 0; d < TCBPF_NDIR; d++) {
			v1_cfg_convert(&o.dir[d], &cfg[d]);
			memset(&ctr[d], 0, sizeof(ctr[d]));
			cv->slot[d] = o.dir[d].slot;
			if (!(cv->dirs & (1U << d)) ||
			    bpf_map_lookup_elem(sfd, &cv->slot[d], per))
				continue;
			v1_counts(per, u->ncpus, &ctr[d]);
			cv->counted[d] = ctr[d];
		}
		err = maps_carry(&u->new, &cv->key, cv->vni1, cv->dirs, cfg, ctr);
		if (err) {
			pr_warn("map %s: cannot carry an entry over: %s\n",
				v1_maps[m].name, strerror(-err));
			break;
		}
		u->nc++;
		u->r->settings++;
	}
out:
	free(per);
	if (fd >= 0)
		close(fd);
	if (sfd >= 0)
		close(sfd);
	return err;
}

/* What each VXLAN network carried: the per-CPU counters as they are. */
static int carry_vni_stats(struct up *u)
{
	size_t osz = round8(sizeof(struct tcbpf_v1_vni_ctr));
	size_t nsz = round8(sizeof(struct tcbpf_vni_ctr));
	struct tcbpf_v1_vni_key k, next;
	struct tcbpf_vni_key nk;
	char *oval, *nval;
	bool first = true;
	int fd, cpu, err = 0;

	fd = v1_open(V1_VNI_STATS);
	oval = calloc(u->ncpus, osz);
	nval = calloc(u->ncpus, nsz);
	if (fd < 0 || !oval || !nval) {
		err = fd < 0 ? fd : -ENOMEM;
		goto out;
	}
	while (!err && !bpf_map_get_next_key(fd, first ? NULL : &k, &next)) {
		first = false;
		k = next;
		if (bpf_map_lookup_elem(fd, &k, oval))
			continue;	/* gone meanwhile (LRU) */
		memset(&nk, 0, sizeof(nk));
		nk.netns = k.netns;
		nk.ifindex = k.ifindex;
		nk.vni = k.vni;
		memset(nval, 0, u->ncpus * nsz);
		for (cpu = 0; cpu < u->ncpus; cpu++)
			v1_vni_ctr_convert((const void *)(oval + cpu * osz),
					   (void *)(nval + cpu * nsz));
		if (bpf_map_update_elem(u->new.vni_stats_fd, &nk, nval, 0))
			err = -errno;
	}
out:
	free(oval);
	free(nval);
	if (fd >= 0)
		close(fd);
	return err;
}

/*
 * After the swap: what the old programs counted between the copy and the
 * swap, added to the new entries in place (tcbpf_set: what the new
 * programs count meanwhile stays).
 */
static void late_counts(struct up *u)
{
	size_t psz = round8(sizeof(struct tcbpf_v1_pcpu));
	struct tcbpf_stats now, add;
	int fd, i, d, c, k;
	char *per;

	if (!u->nc)
		return;
	usleep(20 * 1000);	/* packets still inside an old program */
	fd = v1_open(V1_STATS);
	per = calloc(u->ncpus, psz);
	for (i = 0; fd >= 0 && per && i < u->nc; i++) {
		const struct carried *cv = &u->c[i];

		for (d = 0; d < TCBPF_NDIR; d++) {
			if (!(cv->dirs & (1U << d)) ||
			    bpf_map_lookup_elem(fd, &cv->slot[d], per))
				continue;
			v1_counts(per, u->ncpus, &now);
			for (c = 0; c < TCBPF_NCLASS; c++) {
				const __u64 *a = (const __u64 *)&now.cls[c];
				const __u64 *b = (const __u64 *)&cv->counted[d].cls[c];
				__u64 *n = (__u64 *)&add.cls[c];

				for (k = 0; k < (int)(sizeof(add.cls[c]) /
						      sizeof(__u64)); k++)
					n[k] = a[k] - b[k];
			}
			if (maps_add(&u->new, &cv->key, cv->vni1, d, &add))
				pr_warn("%s: late counts not carried over\n",
					"upgrade");
		}
	}
	free(per);
	if (fd >= 0)
		close(fd);
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
	return (dev->dirs && dev->hook == TCBPF_HOOK_TC) ||
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
	__u64 ino = dev->netns_ino;
	char *where = ctx;

	if (!on_tc(dev))
		return 0;
	if (netns_alive(ino, key->netns, where, PATH_MAX))
		return 1;
	pr_debug("namespace %llx (inode %llu) of %s not found: gone, its tc "
		 "hooks with it\n", (unsigned long long)key->netns,
		 (unsigned long long)ino, dev->ifname);
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
static void carry_tl_ns(struct up *u, __u64 ns)
{
	struct tcbpf_bucket_state tl[TCBPF_NCLASS];
	struct tcbpf_v1_state o;
	int fd, i, d, c;

	fd = v1_open(V1_STATE);
	for (i = 0; fd >= 0 && i < u->nc; i++) {
		const struct carried *cv = &u->c[i];

		if (cv->key.netns != ns)
			continue;
		for (d = 0; d < TCBPF_NDIR; d++) {
			if (!(cv->dirs & (1U << d)) ||
			    bpf_map_lookup_elem(fd, &cv->slot[d], &o))
				continue;
			for (c = 0; c < TCBPF_NCLASS; c++) {
				tl[c].tat_bytes = o.cls[c].tat_bytes;
				tl[c].tat_pkts = o.cls[c].tat_pkts;
			}
			if (maps_carry_tl(&u->new, &cv->key, cv->vni1, d, tl))
				pr_warn("slot %u: bucket state not carried "
					"over\n", cv->slot[d]);
		}
	}
	if (fd >= 0)
		close(fd);
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
		carry_tl_ns(u, ns);
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
	int fd, d, err = 0;

	*flags = 0;
	if (!is_layout1(NULL, 0))
		return -ESTALE;
	fd = v1_open(V1_CFG);
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
	char path[PATH_MAX];
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
	/* the entries with their counters; the bucket timelines are
	 * copied later, right before each swap */
	if (migrate && !err) {
		maps_forget();	/* what it knows is of the old maps */
		err = stage_open(u);
		if (!err)
			err = carry_entries(u, V1_CFG);
		if (!err)
			err = carry_entries(u, V1_VNI);
		if (!err)
			err = carry_vni_stats(u);
		if (err)
			seterr(msg, len, "cannot carry the settings and counters "
			       "over: %s", strerror(-err));
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
	tcbpf_close(&u->new);
	maps_forget();
	if (err) {
		/* nothing of it in use (swapped back, or never swapped) */
		tcbpf_stage_remove(u->stage);
		return err;
	}
	err = tcbpf_stage_commit(u->stage);
	if (err) {	/* the stage stays: its pins hold what is in use */
		seterr(msg, len, "the new programs are in use, but their pins "
		       "cannot replace the old ones in %s: %s", tcbpf_pin_dir(),
		       strerror(-err));
		return err;
	}
	/* the old maps this layout has none of by that name */
	if (migrate) {
		unlink(tcbpf_pin_path(path, sizeof(path), v1_maps[V1_STATE].name));
		unlink(tcbpf_pin_path(path, sizeof(path), v1_maps[V1_STATS].name));
	}
	return 0;
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
	} else if (p.layout != 1 && p.layout != 2) {
		return refuse(&p, NULL, msg, len);
	} else if (!is_layout1(why, sizeof(why))) {
		return refuse(&p, why, msg, len);
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->r = r;
	err = run(u, p.layout != TCBPF_LAYOUT, msg, len);
	free(u->c);
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
