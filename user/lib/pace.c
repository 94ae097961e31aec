// SPDX-License-Identifier: GPL-2.0-only
/* pace.c - see pace.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/pkt_sched.h>

#include "lib/pace.h"
#include "kern/nl.h"
#include "util/log.h"

static void saved_path(char *buf, size_t len, int ifindex, __u64 netns)
{
	snprintf(buf, len, "%s/qdisc-%llu-%d", TCBPF_RUN_DIR,
		 (unsigned long long)netns, ifindex);
}

static int save_root(int ifindex, __u64 netns, const struct nl_qdisc *q)
{
	char path[128], tmp[140];
	void *buf = NULL;
	int len, fd, err = 0;

	len = nl_qdisc_serialize(q, NULL, 0);
	if (len < 0)
		return len;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	nl_qdisc_serialize(q, buf, len);
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
 * The device's root qdisc, moved into @root (free with nl_qdisc_clear()),
 * for save_root(). detach puts back the root qdisc it saved: kind,
 * handle, options. Not a tree under it: child qdiscs someone added,
 * filters on the root, or classes of a qdisc whose classes are made one
 * by one. Replacing such a tree would lose it for good: -EBUSY, with what
 * is there in @err.
 */
static const char *const class_kinds[] = { "htb", "hfsc", "drr", "qfq", "cbq" };

static int root_for_fq(int ifindex, struct nl_qdisc *out, char *err,
		       size_t errlen)
{
	struct nl_qdisc *qs, *root = NULL;
	int i, n, ret, children = 0, filters = 0;
	bool classes = false;

	memset(out, 0, sizeof(*out));
	ret = nl_qdisc_list(ifindex, &qs, &n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		if (qs[i].parent == TC_H_ROOT)
			root = &qs[i];
		else if (qs[i].parent != TC_H_INGRESS &&
			 !nl_qdisc_is_default(&qs[i]))
			children++;
	}
	if (!root) {
		ret = -ENOENT;
		goto out;
	}
	if (nl_qdisc_is_default(root))
		goto take;	/* the kernel's own: nothing to lose */
	ret = nl_filter_count(ifindex, TC_H_MAJ(root->handle));
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
	nl_qdisc_free(qs, n);
	return ret;
}

int pace_install(int ifindex, __u64 netns, const struct tcbpf_cfg *cfg,
		 bool owned, char *err, size_t errlen)
{
	const struct tcbpf_bucket_cfg *def = &cfg->cls[TCBPF_CLASS_DEFAULT];
	const struct tcbpf_bucket_cfg *alw = &cfg->cls[TCBPF_CLASS_ALLOW];
	__u64 rate = def->rate_bits_per_sec > alw->rate_bits_per_sec ?
		     def->rate_bits_per_sec : alw->rate_bits_per_sec;
	struct nl_qdisc root;
	struct fq_params p;
	char path[128];
	int ret;

	/* fq must hold what the faster class can queue within delay +
	 * horizon, per flow and in all, or it drops what we paced. */
	fq_params_for(rate, cfg->delay_ns, cfg->horizon_ns, 0, &p);
	if (!owned) {
		ret = root_for_fq(ifindex, &root, err, errlen);
		if (!ret) {
			ret = save_root(ifindex, netns, &root);
			nl_qdisc_clear(&root);
		}
		if (ret) {
			if (ret != -EBUSY)	/* @err already says why */
				snprintf(err, errlen, "cannot save the root "
					 "qdisc: %s", strerror(-ret));
			return ret;
		}
	}
	ret = nl_fq_install(ifindex, &p, err, errlen);
	if (ret && !owned) {
		saved_path(path, sizeof(path), ifindex, netns);
		unlink(path);
	}
	return ret;
}

int pace_restore(int ifindex, __u64 netns, char *err, size_t errlen)
{
	struct nl_qdisc q = {};
	char path[128], buf[4096];
	ssize_t len;
	int fd, ret;

	saved_path(path, sizeof(path), ifindex, netns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		/* Nothing saved: give the device its default root back. */
		snprintf(err, errlen, "no saved root qdisc in %s", path);
		q.handle = 0;
		snprintf(q.kind, sizeof(q.kind), "noqueue");
		return nl_qdisc_restore(ifindex, &q, err, errlen);
	}
	len = read(fd, buf, sizeof(buf));
	close(fd);
	if (len < 0)
		return -errno;
	ret = nl_qdisc_deserialize(buf, len, &q);
	if (ret) {
		snprintf(err, errlen, "%s is corrupt", path);
		return ret;
	}
	ret = nl_qdisc_restore(ifindex, &q, err, errlen);
	nl_qdisc_clear(&q);
	if (!ret)
		unlink(path);
	return ret;
}
