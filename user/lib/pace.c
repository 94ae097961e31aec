// SPDX-License-Identifier: GPL-2.0-only
/* pace.c - see pace.h. Policy only: requests go through kern/qdisc.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/pkt_sched.h>

#include "lib/pace.h"
#include "kern/qdisc.h"
#include "util/log.h"

#define NSEC_PER_MSEC		1000000ULL
#define NSEC_PER_SEC		1000000000ULL

/* sch_fq's defaults (net/sched/sch_fq.c, fq_init) */
#define FQ_DEF_LIMIT		10000U
#define FQ_DEF_FLOW_LIMIT	100U

#define SAVE_MAGIC		0x51424354U	/* "TCBQ" */
#define SAVE_VERSION		1

typedef unsigned __int128 u128;

static uint32_t sat_u32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/*
 * Every packet the pacer passes waits in fq until its departure time, at
 * most win = delay + horizon ahead of now, and the pacer has taken its
 * tokens already: whatever fq drops for its limits is lost to the VM's
 * rate. Per class, what it can have queued is at most what its buckets
 * admit in win:
 *
 *   bytes        = rate_bits / 8 * win / 1e9
 *   pkts         = ceil(bytes / frame)           (no packet bucket: frames
 *                                                 of mtu + 14, full size)
 *                = min(ceil(bytes / 60),         (a packet bucket bounds
 *                      ceil(pps * win / 1e9)      the count whatever the
 *                      + pburst)                  frame size)
 *   flow_limit   = max(pkts) + max(pkts) / 4 + 100   (one flow is in one
 *                                                 class; 25 % to spare,
 *                                                 plus fq's own default)
 *   limit        = max(2 * flow_limit, 10000)    (the flows share the rate;
 *                                                 never below fq's default)
 *   horizon      = win + win / 8 + 1 ms          (fq must not drop a stamp
 *                                                 the pacer made; <= 2^32 us)
 *   horizon_drop = 1                             (beyond it: a pacer bug, drop)
 *
 * Without a packet bucket, fq is sized for full frames: a flood of small
 * ones fills a flow's limit before its rate, and that flow gets less than
 * the rate (60-byte frames: 1/25 of it at worst; other flows keep
 * theirs). Sizing every clamp for 60-byte frames would let each device
 * queue 25 times as many skbs, about 15 bytes of kernel memory for every
 * byte of the window (1 Gbit/s x 400 ms: 750 MB); a packet bucket bounds
 * that, and the pps alert's clamp has one.
 *
 * 100 Mbit/s, 400 ms delay, no pacer horizon, mtu 1500: pkts 3,303,
 * flow_limit 4,228, limit 10,000, horizon 451 ms. With pps 20000 pburst
 * 100 as well: pkts 8,100, flow_limit 10,225, limit 20,450. Quanta stay
 * at fq's defaults.
 */
#define MIN_FRAME	60ULL

static uint64_t class_pkts(const struct pace_class *c, uint64_t win,
			   uint64_t frame)
{
	u128 bytes = (u128)c->rate_bits * win / (8 * NSEC_PER_SEC);
	u128 n = c->rate_bits ? (bytes + frame - 1) / frame : 0;

	if (c->pps) {
		u128 small = (bytes + MIN_FRAME - 1) / MIN_FRAME;
		u128 bound = ((u128)c->pps * win + NSEC_PER_SEC - 1) /
			     NSEC_PER_SEC + c->pburst;

		n = c->rate_bits && small < bound ? small : bound;
	}
	return n > UINT32_MAX ? UINT32_MAX : (uint64_t)n;
}

void pace_fq_params(const struct pace_class *cls, unsigned int ncls,
		    uint64_t delay_ns, uint64_t horizon_ns, uint32_t mtu,
		    struct fq_params *p)
{
	const u128 hz_max = (u128)UINT32_MAX * 1000;	/* 2^32 - 1 us */
	uint64_t win, frame, pkts = 0, n, flow;
	unsigned int i;
	u128 hz;

	memset(p, 0, sizeof(*p));
	win = delay_ns > UINT64_MAX - horizon_ns ? UINT64_MAX : delay_ns + horizon_ns;
	frame = (uint64_t)(mtu ? mtu : 1500) + 14;
	for (i = 0; i < ncls; i++) {
		n = class_pkts(&cls[i], win, frame);
		if (n > pkts)
			pkts = n;
	}

	flow = pkts + pkts / 4 + FQ_DEF_FLOW_LIMIT;
	p->flow_limit = sat_u32(flow);
	p->limit = sat_u32(2 * flow > FQ_DEF_LIMIT ? 2 * flow : FQ_DEF_LIMIT);

	hz = (u128)win + win / 8 + NSEC_PER_MSEC;
	p->horizon_ns = (uint64_t)(hz > hz_max ? hz_max : hz);
	p->horizon_cap = 0;
}

/* ---- the save file ---- */

struct save_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t flags;
	uint32_t handle;
	uint32_t parent;
	char kind[16];
	uint32_t opts_len;
	uint32_t stab_len;
};

#define SAVE_OPTS	0x1
#define SAVE_STAB	0x2

int pace_save_encode(const struct qdisc *q, void *buf, size_t len)
{
	size_t olen = q->opts ? q->opts_len : 0, slen = q->stab ? q->stab_len : 0;
	struct save_hdr h = {
		.magic = SAVE_MAGIC,
		.version = SAVE_VERSION,
		.flags = (q->opts ? SAVE_OPTS : 0) | (q->stab ? SAVE_STAB : 0),
		.handle = q->handle,
		.parent = q->parent,
		.opts_len = (uint32_t)olen,
		.stab_len = (uint32_t)slen,
	};
	size_t need = sizeof(h) + olen + slen;
	char *p = buf;

	if (olen > USHRT_MAX || slen > USHRT_MAX)
		return -EINVAL;		/* no attribute is that long */
	if (!buf)
		return (int)need;
	if (len < need)
		return -ENOSPC;
	memcpy(h.kind, q->kind, sizeof(h.kind));
	memcpy(p, &h, sizeof(h));
	if (olen)
		memcpy(p + sizeof(h), q->opts, olen);
	if (slen)
		memcpy(p + sizeof(h) + olen, q->stab, slen);
	return (int)need;
}

static int save_hdr_ok(const struct save_hdr *h, size_t len)
{
	return h->magic == SAVE_MAGIC && h->version == SAVE_VERSION &&
	       !(h->flags & ~(SAVE_OPTS | SAVE_STAB)) &&
	       ((h->flags & SAVE_OPTS) || !h->opts_len) &&
	       ((h->flags & SAVE_STAB) || !h->stab_len) &&
	       h->opts_len <= USHRT_MAX && h->stab_len <= USHRT_MAX &&
	       len == sizeof(*h) + h->opts_len + h->stab_len &&
	       h->kind[0] && strnlen(h->kind, sizeof(h->kind)) < sizeof(h->kind);
}

static int dup_bytes(const char *src, size_t len, void **p, size_t *plen)
{
	*p = malloc(len ? len : 1);
	if (!*p)
		return -ENOMEM;
	memcpy(*p, src, len);
	*plen = len;
	return 0;
}

int pace_save_decode(const void *buf, size_t len, struct qdisc *out)
{
	const char *p = buf;
	struct save_hdr h;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, p, sizeof(h));
	if (!save_hdr_ok(&h, len))
		return -EINVAL;
	out->handle = h.handle;
	out->parent = h.parent;
	memcpy(out->kind, h.kind, sizeof(out->kind));
	if (((h.flags & SAVE_OPTS) &&
	     dup_bytes(p + sizeof(h), h.opts_len, &out->opts, &out->opts_len)) ||
	    ((h.flags & SAVE_STAB) &&
	     dup_bytes(p + sizeof(h) + h.opts_len, h.stab_len, &out->stab,
		       &out->stab_len))) {
		qdisc_clear(out);
		return -ENOMEM;
	}
	return 0;
}

static void saved_path(char *buf, size_t len, int ifindex, __u64 netns)
{
	snprintf(buf, len, "%s/qdisc-%llu-%d", TCBPF_RUN_DIR,
		 (unsigned long long)netns, ifindex);
}

static int save_root(int ifindex, __u64 netns, const struct qdisc *q)
{
	char path[128], tmp[140];
	void *buf = NULL;
	int len, fd, err = 0;

	len = pace_save_encode(q, NULL, 0);
	if (len < 0)
		return len;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	pace_save_encode(q, buf, len);
	if (mkdir(TCBPF_RUN_DIR, 0700) < 0 && errno != EEXIST) {
		err = -errno;
		goto out;
	}
	saved_path(path, sizeof(path), ifindex, netns);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (write(fd, buf, len) != len || fsync(fd) < 0)
		err = errno ? -errno : -EIO;
	close(fd);
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	pr_debug("saved root qdisc %s of ifindex %d in %s\n", q->kind, ifindex,
		 path);
out:
	free(buf);
	return err;
}

/*
 * The device's root qdisc, moved into @root (free with qdisc_clear()),
 * for save_root(). detach puts back the root qdisc it saved: kind,
 * handle, options. Not a tree under it: child qdiscs someone added,
 * filters on the root, or classes of a qdisc whose classes are made one
 * by one. Replacing such a tree would lose it for good: -EBUSY, with what
 * is there in @err.
 */
static const char *const class_kinds[] = { "htb", "hfsc", "drr", "qfq", "cbq" };

static int root_for_fq(int ifindex, struct qdisc *out, char *err,
		       size_t errlen)
{
	struct qdisc *qs, *root = NULL;
	int i, n, ret, children = 0, filters = 0;
	bool classes = false;

	/* The kernel's own root has nothing to lose: one request for it.
	 * A list is a dump of every device in the namespace, which a
	 * thousand devices make quadratic: only for a root someone made. */
	ret = qdisc_root(ifindex, out);
	if (ret || qdisc_is_default(out))
		return ret;
	qdisc_clear(out);
	ret = qdisc_list(ifindex, &qs, &n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		if (qs[i].parent == TC_H_ROOT)
			root = &qs[i];
		else if (qs[i].parent != TC_H_INGRESS &&
			 !qdisc_is_default(&qs[i]))
			children++;
	}
	if (!root) {
		ret = -ENOENT;
		goto out;
	}
	if (qdisc_is_default(root))
		goto take;	/* the kernel's own: nothing to lose */
	ret = qdisc_filter_count(ifindex, TC_H_MAJ(root->handle));
	if (ret < 0)
		goto out;
	filters = ret;
	ret = 0;
	for (i = 0; i < (int)(sizeof(class_kinds) / sizeof(class_kinds[0])); i++)
		classes |= !strcmp(root->kind, class_kinds[i]);
	if (children || filters || classes) {
		char what[96] = "";
		size_t w = 0;

		if (classes)
			w += snprintf(what + w, sizeof(what) - w, "classes");
		if (children)
			w += snprintf(what + w, sizeof(what) - w, "%s%d child qdisc%s",
				      w ? (filters ? ", " : " and ") : "",
				      children, children == 1 ? "" : "s");
		if (filters)
			snprintf(what + w, sizeof(what) - w, "%s%d filter%s",
				 w ? " and " : "", filters, filters == 1 ? "" : "s");
		snprintf(err, errlen, "the root qdisc %s %x: has %s, which detach "
			 "could not put back: left alone", root->kind,
			 TC_H_MAJ(root->handle) >> 16, what);
		ret = -EBUSY;
		goto out;
	}
take:
	*out = *root;
	memset(root, 0, sizeof(*root));
out:
	qdisc_free(qs, n);
	return ret;
}

int pace_save_root(int ifindex, __u64 netns, char *err, size_t errlen)
{
	struct qdisc root;
	int ret;

	ret = root_for_fq(ifindex, &root, err, errlen);
	if (!ret) {
		ret = save_root(ifindex, netns, &root);
		qdisc_clear(&root);
	}
	if (ret && ret != -EBUSY)	/* -EBUSY: @err already says why */
		snprintf(err, errlen, "cannot save the root qdisc: %s",
			 strerror(-ret));
	return ret;
}

int pace_install(int ifindex, __u64 netns, const struct tcbpf_cfg *cfg,
		 bool owned, char *err, size_t errlen)
{
	struct pace_class cls[TCBPF_NCLASS];
	struct fq_params p;
	char path[128];
	int ret, c;

	/* fq must hold what either class can queue within delay + horizon,
	 * per flow and in all, or it drops what we paced. */
	for (c = 0; c < TCBPF_NCLASS; c++) {
		cls[c].rate_bits = cfg->cls[c].rate_bits_per_sec;
		cls[c].pps = cfg->cls[c].pps;
		cls[c].pburst = cfg->cls[c].pburst_pkts;
	}
	pace_fq_params(cls, TCBPF_NCLASS, cfg->delay_ns, cfg->horizon_ns, 0, &p);
	if (!owned) {
		ret = pace_save_root(ifindex, netns, err, errlen);
		if (ret)
			return ret;
	}
	ret = qdisc_fq_install(ifindex, &p, err, errlen);
	if (ret && !owned) {
		saved_path(path, sizeof(path), ifindex, netns);
		unlink(path);
	}
	return ret;
}

/* The save file at @path, whole, into @q. */
static int read_saved(const char *path, struct qdisc *q, char *err,
		      size_t errlen)
{
	size_t cap = sizeof(struct save_hdr) + 2 * USHRT_MAX;
	ssize_t len;
	char *buf;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	len = read(fd, buf, cap + 1);	/* one more: a longer file is corrupt */
	ret = len < 0 ? -errno : 0;
	close(fd);
	if (!ret)
		ret = pace_save_decode(buf, len, q);
	if (ret == -EINVAL)
		snprintf(err, errlen, "%s is corrupt", path);
	else if (ret)
		snprintf(err, errlen, "reading %s: %s", path, strerror(-ret));
	free(buf);
	return ret;
}

int pace_restore(int ifindex, __u64 netns, char *err, size_t errlen)
{
	struct qdisc q = {};
	char path[128];
	int ret;

	saved_path(path, sizeof(path), ifindex, netns);
	if (access(path, F_OK) < 0) {
		/* Nothing saved: give the device its default root back. */
		snprintf(err, errlen, "no saved root qdisc in %s", path);
		snprintf(q.kind, sizeof(q.kind), "noqueue");
		return qdisc_restore(ifindex, &q, err, errlen);
	}
	ret = read_saved(path, &q, err, errlen);
	if (ret)
		return ret;
	ret = qdisc_restore(ifindex, &q, err, errlen);
	qdisc_clear(&q);
	if (!ret)
		unlink(path);
	return ret;
}

void pace_forget(int ifindex, __u64 netns)
{
	char path[128];

	saved_path(path, sizeof(path), ifindex, netns);
	unlink(path);
}
