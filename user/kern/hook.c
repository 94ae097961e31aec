// SPDX-License-Identifier: GPL-2.0-only
/* hook.c - see hook.h. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/pkt_sched.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tcbpf.h"
#include "kern/hook.h"
#include "kern/obj.h"
#include "kern/netns.h"
#include "kern/qdisc.h"
#include "util/log.h"

/* Debian's uapi headers predate tcx (kernel 6.6). */
#define TCBPF_BPF_TCX_INGRESS	46
#define TCBPF_BPF_TCX_EGRESS	47
#ifndef BPF_F_BEFORE
#define BPF_F_BEFORE		(1U << 3)
#endif

static int tcx_type(int dir)
{
	return dir == TCBPF_INGRESS ? TCBPF_BPF_TCX_INGRESS : TCBPF_BPF_TCX_EGRESS;
}

/*
 * Pin of a tcx link: links/<netns cookie>_<ifindex>_{ingress,egress}, in
 * hex and decimal; ifindexes repeat across namespaces.
 */
static void link_pin_path(char *buf, size_t len, int ifindex, int dir)
{
	snprintf(buf, len, "%s/links/%llx_%d_%s", tcbpf_pin_dir(),
		 (unsigned long long)netns_self(), ifindex,
		 dir == TCBPF_INGRESS ? "ingress" : "egress");
}

static int tcx_attach(int ifindex, int dir, int prog_fd)
{
	/* In front of other tcx programs: we pass with TCX_NEXT, so they
	 * still run, but a limiter behind a TCX_PASS would never see packets. */
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = BPF_F_BEFORE);
	char path[PATH_MAX], links[PATH_MAX];
	int fd, err;

	fd = bpf_link_create(prog_fd, ifindex, tcx_type(dir), &opts);
	if (fd < 0)
		return -errno;
	if (mkdir(tcbpf_pin_path(links, sizeof(links), "links"), 0700) < 0 &&
	    errno != EEXIST) {
		err = -errno;
		goto fail;
	}
	link_pin_path(path, sizeof(path), ifindex, dir);
	unlink(path);
	if (bpf_obj_pin(fd, path) < 0) {
		err = -errno;
		pr_warn("cannot pin tcx link at %s: %s\n", path, strerror(-err));
		goto fail;
	}
	close(fd);
	return 0;
fail:
	bpf_link_detach(fd);
	close(fd);
	return err;
}

static int tcx_detach(int ifindex, int dir)
{
	char path[PATH_MAX];
	int fd;

	link_pin_path(path, sizeof(path), ifindex, dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	bpf_link_detach(fd);	/* fails harmlessly on a defunct link */
	close(fd);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static void tc_hook_init(struct bpf_tc_hook *h, int ifindex, int dir)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = ifindex;
	h->attach_point = dir == TCBPF_INGRESS ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

/*
 * The program id of the filter at tcbpf's pref/handle on @dir into @id:
 * 0 no such filter, 1 there is one, or a negative errno. @h is set up for
 * @ifindex and @dir either way.
 */
static int tc_query(int ifindex, int dir, struct bpf_tc_hook *h, __u32 *id)
{
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TCBPF_TC_HANDLE,
		    .priority = TCBPF_TC_PRIO);
	int err;

	tc_hook_init(h, ifindex, dir);
	libbpf_mute++;		/* "no such filter" is an answer here */
	err = bpf_tc_query(h, &opts);
	libbpf_mute--;
	if (err == -ENOENT || err == -EINVAL)
		return 0;
	if (err)
		return err;
	*id = opts.prog_id;
	return 1;
}

/* The name tcbpf's program for @dir has (any namespace's pair). */
static const char *tcbpf_name(int dir)
{
	return dir == TCBPF_INGRESS ? "tcbpf_ingress" : "tcbpf_egress";
}

/* The name of program @id ("" when it cannot be read). */
static void prog_name_of(__u32 id, char *name, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	name[0] = '\0';
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(name, len, "%s", info.name);
	close(fd);
}

/*
 * Whose filter sits at tcbpf's pref/handle on @dir: 0 none, 1 tcbpf's (a
 * program named tcbpf_ingress/tcbpf_egress, of any namespace's pair or an
 * older load), -EEXIST someone else's, described in @who. The pref/handle
 * alone proves nothing: anyone may have put a filter there.
 */
static int tc_owner(int ifindex, int dir, char *who, size_t len)
{
	char name[BPF_OBJ_NAME_LEN];
	struct bpf_tc_hook h;
	__u32 id;
	int err;

	err = tc_query(ifindex, dir, &h, &id);
	if (err <= 0)
		return err;
	prog_name_of(id, name, sizeof(name));
	if (!strcmp(name, tcbpf_name(dir)))
		return 1;
	snprintf(who, len, "%s filter pref %u handle 0x%x is someone else's "
		 "(bpf program id %u%s%s)", dir == TCBPF_INGRESS ? "ingress" :
		 "egress", TCBPF_TC_PRIO, TCBPF_TC_HANDLE, id,
		 name[0] ? " name " : "", name);
	return -EEXIST;
}

static int tc_attach(int ifindex, int dir, int prog_fd, bool *made_clsact,
		     char *why, size_t whylen)
{
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TCBPF_TC_HANDLE,
		    .priority = TCBPF_TC_PRIO, .prog_fd = prog_fd,
		    .flags = BPF_TC_F_REPLACE);
	struct bpf_tc_hook h;
	char who[160];
	int err;

	err = qdisc_has_clsact(ifindex);
	if (err < 0)
		return err;
	if (err == 2) {
		snprintf(why, whylen, "the device has a classic ingress qdisc, "
			 "which excludes clsact: remove it or use hook tcx");
		return -EBUSY;
	}
	if (err == 1) {
		/* REPLACE would silently take over a foreign filter. */
		err = tc_owner(ifindex, dir, who, sizeof(who));
		if (err == -EEXIST)
			snprintf(why, whylen, "%s: not replaced; remove it or "
				 "use hook tcx", who);
		if (err < 0)
			return err;
	} else {
		tc_hook_init(&h, ifindex, dir);
		h.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		err = bpf_tc_hook_create(&h);
		if (err && err != -EEXIST)
			return err;
		if (!err)
			*made_clsact = true;
	}
	tc_hook_init(&h, ifindex, dir);
	return bpf_tc_attach(&h, &opts);
}

static int tc_detach(int ifindex, int dir)
{
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TCBPF_TC_HANDLE,
		    .priority = TCBPF_TC_PRIO);
	struct bpf_tc_hook h;
	char who[160];
	int err;

	/* Without clsact there is no filter of ours: tc_owner() says 0. */
	err = tc_owner(ifindex, dir, who, sizeof(who));
	if (err == -EEXIST) {
		pr_debug("%s: left alone\n", who);
		return 0;
	}
	if (err <= 0)
		return err;
	tc_hook_init(&h, ifindex, dir);
	libbpf_mute++;
	err = bpf_tc_detach(&h, &opts);
	libbpf_mute--;
	/* No clsact or no such filter: nothing of ours is there. */
	if (err == -ENOENT || err == -EINVAL)
		return 0;
	return err;
}

int hook_attach(int ifindex, int dir, int hook, int prog_fd, bool *made_clsact,
		char *why, size_t whylen)
{
	why[0] = '\0';
	if (hook == TCBPF_HOOK_TCX)
		return tcx_attach(ifindex, dir, prog_fd);
	return tc_attach(ifindex, dir, prog_fd, made_clsact, why, whylen);
}

int hook_detach(int ifindex, int dir)
{
	int err1 = tcx_detach(ifindex, dir);
	int err2 = tc_detach(ifindex, dir);

	return err1 ? err1 : err2;
}

static bool tcx_has(int ifindex, int dir, __u32 prog_id)
{
	__u32 ids[64], cnt = 64, flags = 0, i;

	if (bpf_prog_query(ifindex, tcx_type(dir), 0, &flags, ids, &cnt))
		return false;
	for (i = 0; i < cnt && i < 64; i++)
		if (ids[i] == prog_id)
			return true;
	return false;
}

/* no clsact: ENOENT or EINVAL, like no filter (no qdisc dump: it costs
 * as much as the namespace has devices) */
static bool tc_has(int ifindex, int dir, __u32 prog_id)
{
	struct bpf_tc_hook h;
	__u32 id;

	return tc_query(ifindex, dir, &h, &id) == 1 && id == prog_id;
}

/* Is @id a program named as tcbpf's for @dir (any namespace's pair)? */
static bool tcbpf_prog(__u32 id, int dir)
{
	char name[BPF_OBJ_NAME_LEN];

	prog_name_of(id, name, sizeof(name));
	return !strcmp(name, tcbpf_name(dir));
}

int hook_mine(int ifindex, int dir)
{
	__u32 ids[64], cnt = 64, flags = 0, i;
	char who[160];
	int err;

	if (!bpf_prog_query(ifindex, tcx_type(dir), 0, &flags, ids, &cnt))
		for (i = 0; i < cnt && i < 64; i++)
			if (tcbpf_prog(ids[i], dir))
				return 1;
	/* tc_owner() asks for the one filter: no clsact is "none" too, and
	 * a qdisc dump would cost as much as the namespace has devices */
	err = tc_owner(ifindex, dir, who, sizeof(who));
	return err == -EEXIST ? 0 : err;
}

int hook_query(int ifindex, int dir, __u32 prog_id)
{
	if (tcx_has(ifindex, dir, prog_id))
		return TCBPF_HOOK_TCX;
	if (tc_has(ifindex, dir, prog_id))
		return TCBPF_HOOK_TC;
	return TCBPF_HOOK_NONE;
}

int hook_clsact_release(int ifindex)
{
	struct bpf_tc_hook h;
	int n_in, n_eg;

	if (qdisc_has_clsact(ifindex) != 1)
		return 0;
	n_in = qdisc_filter_count(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS));
	n_eg = qdisc_filter_count(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS));
	if (n_in < 0 || n_eg < 0)
		return n_in < 0 ? n_in : n_eg;
	if (n_in || n_eg) {
		pr_debug("clsact on ifindex %d still has %d+%d filters: kept\n",
			 ifindex, n_in, n_eg);
		return 0;
	}
	tc_hook_init(&h, ifindex, TCBPF_INGRESS);
	h.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	return bpf_tc_hook_destroy(&h);
}

bool hook_have_tcx(void)
{
	__u32 cnt = 0, flags = 0;

	/* lo always exists; tcx-less kernels reject the attach type. */
	return bpf_prog_query(1, TCBPF_BPF_TCX_INGRESS, 0, &flags, NULL, &cnt) == 0;
}

/* ------------------------------------------------------------ upgrades */

/* Which of tcbpf's programs @name is: TCBPF_INGRESS..PACE, or -1. */
static int prog_index(const char *name)
{
	static const char *const names[TCBPF_NPROG] = {
		"tcbpf_ingress", "tcbpf_egress", "tcbpf_pace" };
	int i;

	for (i = 0; i < TCBPF_NPROG; i++)
		if (!strcmp(name, names[i]))
			return i;
	return -1;
}

/*
 * bpf_link_update() replaces a tcx link's program in one step: packets see
 * the old program or the new, and the link never leaves the device.
 */
static int link_swap(const char *path, const int prog_fd[])
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char name[BPF_OBJ_NAME_LEN];
	int fd, idx, err = 0;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto out;
	}
	prog_name_of(info.prog_id, name, sizeof(name));
	idx = prog_index(name);
	if (idx < 0 || prog_fd[idx] < 0) {
		pr_warn("%s: link holds program id %u \"%s\": not tcbpf's\n",
			path, info.prog_id, name);
		err = -EPERM;
		goto out;
	}
	if (bpf_link_update(fd, prog_fd[idx], NULL))
		err = -errno;
	/* a link whose device went: nothing runs it, nothing to swap */
	if (err == -ENOLINK)
		err = 1;
out:
	close(fd);
	return err;
}

int hook_swap_links(__u64 netns, const int prog_fd[])
{
	char dir[PATH_MAX], path[PATH_MAX + 256], prefix[32];
	struct dirent *e;
	int n = 0, err = 0;
	DIR *d;

	snprintf(prefix, sizeof(prefix), "%llx_", (unsigned long long)netns);
	d = opendir(tcbpf_pin_path(dir, sizeof(dir), "links"));
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!err && (e = readdir(d))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		err = link_swap(path, prog_fd);
		if (err < 0)
			pr_warn("cannot swap the program of %s: %s\n", path,
				strerror(-err));
		n += !err;
		err = err < 0 ? err : 0;
	}
	closedir(d);
	return err ? err : n;
}

int hook_swap_tc(int ifindex, int dir, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TCBPF_TC_HANDLE,
		    .priority = TCBPF_TC_PRIO, .prog_fd = prog_fd,
		    .flags = BPF_TC_F_REPLACE);
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);
	char name[BPF_OBJ_NAME_LEN];
	struct bpf_tc_hook h;
	__u32 id;
	int err;

	err = tc_query(ifindex, dir, &h, &id);
	if (err <= 0)
		return err;
	/* tcbpf's filter holds a program of the name the new one has */
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &ilen))
		return -errno;
	prog_name_of(id, name, sizeof(name));
	if (strcmp(name, info.name))
		return 0;
	/* the same pref/handle, NLM_F_REPLACE: cls_bpf swaps the program
	 * of the filter in place */
	err = bpf_tc_attach(&h, &opts);
	return err ? err : 1;
}
