// SPDX-License-Identifier: GPL-2.0-only
/*
 * qdisc.c - see qdisc.h. Qdisc, filter and link requests and how to read
 * their answers; the transport (socket, acks, extack, dumps) is
 * kern/nl.c's, fq sizing and the save file are lib/pace.c's.
 *
 * Each public call opens its own socket, so it acts in the namespace
 * the calling thread is in at that moment.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "kern/nl.h"
#include "kern/qdisc.h"

#define NSEC_PER_USEC		1000ULL

/* sch_fq's own limit (net/sched/sch_fq.c, fq_change) */
#define FQ_QUANTUM_MAX		(1U << 20)

#define HTB_VER			0x30011	/* sch_htb.c: dumped as is, init wants >> 16 */
#define CODEL_SHIFT		10	/* include/net/codel.h: 1 unit = 1024 ns */

/* ---- links ---- */

static int link_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[IFLA_MAX + 1];
	int *ntx = arg;
	uint32_t v;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nl_parse_msg(nlh, sizeof(struct ifinfomsg), tb, IFLA_MAX))
		return 0;
	*ntx = 1;
	if (tb[IFLA_NUM_TX_QUEUES] &&
	    mnl_attr_get_payload_len(tb[IFLA_NUM_TX_QUEUES]) >= sizeof(v)) {
		v = mnl_attr_get_u32(tb[IFLA_NUM_TX_QUEUES]);
		if (v > 1)
			*ntx = v > INT_MAX ? INT_MAX : (int)v;
	}
	return 0;
}

/* num_tx_queues of @ifindex; -ENODEV if there is no such device. */
static int link_tx_queues(struct nl_sock *s, int ifindex)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_req r;
	int err, ntx = 0;

	if (ifindex <= 0)
		return -ENODEV;
	err = nl_req_init(&r, RTM_GETLINK, 0, &ifi, sizeof(ifi), 64);
	if (err)
		return err;
	nl_req_put_u32(&r, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	err = nl_talk(s, &r, link_cb, &ntx);
	nl_req_free(&r);
	if (err)
		return err;
	return ntx ? ntx : -ENODEV;
}

int qdisc_num_tx_queues(int ifindex)
{
	struct nl_sock s;
	int ret;

	ret = nl_open(&s);
	if (ret)
		return ret;
	ret = link_tx_queues(&s, ifindex);
	nl_close(&s);
	return ret;
}

/* ---- listing qdiscs ---- */

struct qdisc_dump {
	int ifindex;
	struct qdisc *q;
	int n, cap;
};

void qdisc_clear(struct qdisc *q)
{
	if (!q)
		return;
	free(q->opts);
	free(q->stab);
	memset(q, 0, sizeof(*q));
}

void qdisc_free(struct qdisc *q, int n)
{
	int i;

	if (!q)
		return;
	for (i = 0; i < n; i++)
		qdisc_clear(&q[i]);
	free(q);
}

int qdisc_is_default(const struct qdisc *q)
{
	return TC_H_MAJ(q->handle) == 0;
}

static int qdisc_parse(const struct nlmsghdr *nlh, struct qdisc *q)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[TCA_MAX + 1];
	size_t klen;
	int err;

	memset(q, 0, sizeof(*q));
	if (nl_parse_msg(nlh, sizeof(*tcm), tb, TCA_MAX) || !tb[TCA_KIND])
		return -EBADMSG;
	klen = strnlen(mnl_attr_get_payload(tb[TCA_KIND]),
		       mnl_attr_get_payload_len(tb[TCA_KIND]));
	if (!klen || klen >= sizeof(q->kind))
		return -EBADMSG;
	memcpy(q->kind, mnl_attr_get_payload(tb[TCA_KIND]), klen);
	q->handle = tcm->tcm_handle;
	q->parent = tcm->tcm_parent;
	if (tb[TCA_OPTIONS]) {
		err = nl_attr_dup(tb[TCA_OPTIONS], &q->opts, &q->opts_len);
		if (err)
			return err;
	}
	if (tb[TCA_STAB]) {
		err = nl_attr_dup(tb[TCA_STAB], &q->stab, &q->stab_len);
		if (err) {
			qdisc_clear(q);
			return err;
		}
	}
	return 0;
}

static int qdisc_dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	struct qdisc_dump *d = arg;
	struct qdisc *nq;
	int err;

	if (nlh->nlmsg_type != RTM_NEWQDISC)
		return 0;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*tcm))
		return -EBADMSG;
	if (tcm->tcm_ifindex != d->ifindex)
		return 0;	/* the kernel dumps every device */
	if (d->n == d->cap) {
		nq = realloc(d->q, (d->cap ? 2 * d->cap : 8) * sizeof(*nq));
		if (!nq)
			return -ENOMEM;
		d->q = nq;
		d->cap = d->cap ? 2 * d->cap : 8;
	}
	err = qdisc_parse(nlh, &d->q[d->n]);
	if (err)
		return err;
	d->n++;
	return 0;
}

static void qdisc_dump_reset(void *arg)
{
	struct qdisc_dump *d = arg;

	qdisc_free(d->q, d->n);
	d->q = NULL;
	d->n = d->cap = 0;
}

static int qdisc_dump(struct nl_sock *s, int ifindex, struct qdisc_dump *d)
{
	struct tcmsg tcm = { .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex };
	struct nl_req r;
	int err;

	memset(d, 0, sizeof(*d));
	d->ifindex = ifindex;
	err = link_tx_queues(s, ifindex);	/* -ENODEV, not an empty list */
	if (err < 0)
		return err;
	err = nl_req_init(&r, RTM_GETQDISC, NLM_F_DUMP, &tcm, sizeof(tcm), 0);
	if (err)
		return err;
	err = nl_dump(s, &r, qdisc_dump_cb, d, qdisc_dump_reset);
	nl_req_free(&r);
	if (err)
		qdisc_dump_reset(d);
	return err;
}

int qdisc_list(int ifindex, struct qdisc **out, int *n)
{
	struct qdisc_dump d;
	struct nl_sock s;
	int ret;

	*out = NULL;
	*n = 0;
	ret = nl_open(&s);
	if (ret)
		return ret;
	ret = qdisc_dump(&s, ifindex, &d);
	nl_close(&s);
	if (ret)
		return ret;
	*out = d.q;
	*n = d.n;
	return 0;
}

/* Move the qdisc with @parent out of @d into @out; -ENOENT if none. */
static int take_qdisc(struct qdisc_dump *d, uint32_t parent, struct qdisc *out)
{
	int i;

	for (i = 0; i < d->n; i++) {
		if (d->q[i].parent != parent)
			continue;
		*out = d->q[i];
		memset(&d->q[i], 0, sizeof(d->q[i]));
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -ENOENT;
}

/* What one RTM_GETQDISC answers: the qdisc, if the kernel sent one. */
struct qdisc_get {
	struct qdisc *out;
	bool found;
};

static int qdisc_get_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct qdisc_get *g = arg;
	int err;

	if (nlh->nlmsg_type != RTM_NEWQDISC || g->found)
		return 0;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct tcmsg))
		return -EBADMSG;
	err = qdisc_parse(nlh, g->out);
	if (!err)
		g->found = true;
	return err;
}

/*
 * The one qdisc at @parent (TC_H_ROOT or TC_H_INGRESS) of @ifindex: a
 * request for it alone, not a dump, which the kernel makes of every
 * device of the namespace (a group of a thousand devices would read a
 * million qdiscs). -ENOENT if none is there, or only one a dump would
 * not show either (noop, the built-in: older kernels answer EINVAL for
 * it, newer ones nothing). NLM_F_ECHO: older kernels send the answer to
 * the requester only with it (and to RTNLGRP_TC listeners anyway).
 */
static int qdisc_get(struct nl_sock *s, int ifindex, uint32_t parent,
		     struct qdisc *out)
{
	struct tcmsg tcm = { .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex,
			     .tcm_parent = parent };
	struct qdisc_get g = { .out = out };
	struct nl_req r;
	int err;

	memset(out, 0, sizeof(*out));
	if (ifindex <= 0)
		return -ENODEV;
	err = nl_req_init(&r, RTM_GETQDISC, NLM_F_ECHO, &tcm, sizeof(tcm), 0);
	if (err)
		return err;
	err = nl_talk(s, &r, qdisc_get_cb, &g);
	nl_req_free(&r);
	if (err) {
		qdisc_clear(out);
		return err == -EINVAL ? -ENOENT : err;
	}
	return g.found ? 0 : -ENOENT;
}

static int root_qdisc(struct nl_sock *s, int ifindex, struct qdisc *out)
{
	return qdisc_get(s, ifindex, TC_H_ROOT, out);
}

int qdisc_root(int ifindex, struct qdisc *out)
{
	struct nl_sock s;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = nl_open(&s);
	if (ret)
		return ret;
	ret = root_qdisc(&s, ifindex, out);
	nl_close(&s);
	return ret;
}

static int has_clsact(struct nl_sock *s, int ifindex)
{
	struct qdisc q;
	int ret;

	/* clsact and ingress both sit at ffff:fff1 and exclude each other */
	ret = qdisc_get(s, ifindex, TC_H_INGRESS, &q);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	if (!strcmp(q.kind, "clsact"))
		ret = 1;
	else if (!strcmp(q.kind, "ingress"))
		ret = 2;
	qdisc_clear(&q);
	return ret;
}

int qdisc_has_clsact(int ifindex)
{
	struct nl_sock s;
	int ret;

	ret = nl_open(&s);
	if (ret)
		return ret;
	ret = has_clsact(&s, ifindex);
	nl_close(&s);
	return ret;
}

/* ---- filters ---- */

static int filter_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[TCA_MAX + 1];
	int *count = arg;

	if (nlh->nlmsg_type != RTM_NEWTFILTER)
		return 0;
	if (nl_parse_msg(nlh, sizeof(*tcm), tb, TCA_MAX))
		return -EBADMSG;
	/* Handle 0 is the classifier instance (chain, prio, protocol). */
	if (!tcm->tcm_handle)
		return 0;
	if (tb[TCA_KIND] && mnl_attr_get_payload_len(tb[TCA_KIND]) >= 4 &&
	    !memcmp(mnl_attr_get_payload(tb[TCA_KIND]), "u32", 4) &&
	    !TC_U32_NODE(tcm->tcm_handle))
		return 0;	/* a u32 hash table, not a filter */
	(*count)++;
	return 0;
}

static void count_reset(void *arg)
{
	*(int *)arg = 0;
}

static int filter_count(struct nl_sock *s, int ifindex, uint32_t parent)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = parent,
	};
	struct nl_req r;
	int err, count = 0;

	err = has_clsact(s, ifindex);	/* also: -ENODEV */
	if (err < 0)
		return err;
	/* The ingress qdisc's find() accepts any minor: an "egress" query
	 * would list its ingress filters. */
	if (err == 2 && TC_H_MAJ(parent) == TC_H_MAJ(TC_H_CLSACT) &&
	    TC_H_MIN(parent) == TC_H_MIN_EGRESS)
		return 0;
	err = nl_req_init(&r, RTM_GETTFILTER, NLM_F_DUMP, &tcm, sizeof(tcm), 0);
	if (err)
		return err;
	err = nl_dump(s, &r, filter_cb, &count, count_reset);
	nl_req_free(&r);
	return err ? err : count;
}

int qdisc_filter_count(int ifindex, uint32_t parent)
{
	struct nl_sock s;
	int ret;

	ret = nl_open(&s);
	if (ret)
		return ret;
	ret = filter_count(&s, ifindex, parent);
	nl_close(&s);
	return ret;
}

/* ---- changing qdiscs ---- */

/* RTM_NEWQDISC / RTM_DELQDISC; NULL @kind, @opts, @stab are left out. */
static int qdisc_req(struct nl_sock *s, uint16_t type, uint16_t flags,
		     int ifindex, uint32_t parent, uint32_t handle,
		     const char *kind, const void *opts, size_t opts_len,
		     const void *stab, size_t stab_len)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = parent,
		.tcm_handle = handle,
	};
	struct nl_req r;
	int err;

	err = nl_req_init(&r, type, flags, &tcm, sizeof(tcm),
			  3 * MNL_ATTR_HDRLEN + 32 + MNL_ALIGN(opts_len) +
			  MNL_ALIGN(stab_len));
	if (err)
		return err;
	if (kind)
		nl_req_put_strz(&r, TCA_KIND, kind);
	if (opts)
		nl_req_put(&r, TCA_OPTIONS, opts, opts_len);
	if (stab)
		nl_req_put(&r, TCA_STAB, stab, stab_len);
	err = nl_talk(s, &r, NULL, NULL);
	nl_req_free(&r);
	return err;
}

static int root_delete(struct nl_sock *s, int ifindex, uint32_t handle,
		       char *err, size_t errlen)
{
	char what[48];
	int ret;

	ret = qdisc_req(s, RTM_DELQDISC, 0, ifindex, TC_H_ROOT, handle,
			NULL, NULL, 0, NULL, 0);
	if (ret) {
		snprintf(what, sizeof(what), "deleting root qdisc %x:",
			 TC_H_MAJ(handle) >> 16);
		nl_kerr(err, errlen, s, ret, what);
	}
	return ret;
}

int qdisc_delete_root(int ifindex, uint32_t handle, char *err, size_t errlen)
{
	struct nl_sock s;
	int ret;

	ret = nl_open(&s);
	if (ret) {
		nl_errf(err, errlen, "netlink socket: %s", strerror(-ret));
		return ret;
	}
	ret = root_delete(&s, ifindex, handle, err, errlen);
	nl_close(&s);
	return ret;
}

/*
 * A size table can be re-created from a dump only without a data table:
 * the dump carries TCA_STAB_BASE alone, and the kernel wants
 * TCA_STAB_DATA whenever tsize > 0.
 */
static bool stab_restorable(const struct qdisc *q)
{
	const struct nlattr *tb[TCA_STAB_MAX + 1];
	struct tc_sizespec sz;

	if (!q->stab)
		return false;
	nl_parse_payload(q->stab, q->stab_len, tb, TCA_STAB_MAX);
	if (!tb[TCA_STAB_BASE] ||
	    mnl_attr_get_payload_len(tb[TCA_STAB_BASE]) < sizeof(sz))
		return false;
	memcpy(&sz, mnl_attr_get_payload(tb[TCA_STAB_BASE]), sizeof(sz));
	return sz.tsize == 0;
}

/*
 * The microseconds to send for a codel time the kernel dumped as @us.
 * codel keeps t = (us * 1000) >> 10 (units of 1024 ns) and dumps
 * floor(t * 1024 / 1000), which is one-to-one (1.024 > 1): the t behind
 * a dump is the smallest with t * 1024 >= us * 1000, and the smallest u
 * with (u * 1000) >> 10 == t gives it back. 5ms: t 4882, dumped 4999,
 * sent back as 5000.
 */
static uint32_t codel_us_for_dump(uint32_t us)
{
	uint64_t t = ((uint64_t)us * NSEC_PER_USEC + (1U << CODEL_SHIFT) - 1) >>
		     CODEL_SHIFT;
	uint64_t u = ((t << CODEL_SHIFT) + NSEC_PER_USEC - 1) / NSEC_PER_USEC;

	return u > UINT32_MAX ? UINT32_MAX : (uint32_t)u;
}

static void fix_u32(const struct nlattr *a, uint32_t (*fix)(uint32_t))
{
	uint32_t v;

	if (!a || mnl_attr_get_payload_len(a) != sizeof(v))
		return;
	memcpy(&v, mnl_attr_get_payload(a), sizeof(v));
	v = fix(v);
	memcpy(mnl_attr_get_payload(a), &v, sizeof(v));
}

/* The attributes codel and fq_codel dump in rounded microseconds. */
static void fix_codel(const char *kind, void *opts, size_t len)
{
	const struct nlattr *tb[TCA_FQ_CODEL_MAX + 1];

	if (!strcmp(kind, "fq_codel")) {
		nl_parse_payload(opts, len, tb, TCA_FQ_CODEL_MAX);
		fix_u32(tb[TCA_FQ_CODEL_TARGET], codel_us_for_dump);
		fix_u32(tb[TCA_FQ_CODEL_INTERVAL], codel_us_for_dump);
		fix_u32(tb[TCA_FQ_CODEL_CE_THRESHOLD], codel_us_for_dump);
	} else if (!strcmp(kind, "codel")) {
		nl_parse_payload(opts, len, tb, TCA_CODEL_MAX);
		fix_u32(tb[TCA_CODEL_TARGET], codel_us_for_dump);
		fix_u32(tb[TCA_CODEL_INTERVAL], codel_us_for_dump);
		fix_u32(tb[TCA_CODEL_CE_THRESHOLD], codel_us_for_dump);
	}
}

static void fix_htb(void *opts, size_t len)
{
	const struct nlattr *tb[TCA_HTB_MAX + 1];
	struct tc_htb_glob g;

	nl_parse_payload(opts, len, tb, TCA_HTB_MAX);
	if (!tb[TCA_HTB_INIT] ||
	    mnl_attr_get_payload_len(tb[TCA_HTB_INIT]) < sizeof(g))
		return;
	memcpy(&g, mnl_attr_get_payload(tb[TCA_HTB_INIT]), sizeof(g));
	if (g.version == HTB_VER)
		g.version = HTB_VER >> 16;
	memcpy(mnl_attr_get_payload(tb[TCA_HTB_INIT]), &g, sizeof(g));
}

int qdisc_restore_opts(const struct qdisc *q, void **opts, size_t *len)
{
	char *o;

	*opts = NULL;
	*len = 0;
	if (!q->opts)
		return 0;
	o = malloc(q->opts_len ? q->opts_len : 1);
	if (!o)
		return -ENOMEM;
	memcpy(o, q->opts, q->opts_len);
	if (!strcmp(q->kind, "htb"))
		fix_htb(o, q->opts_len);
	else
		fix_codel(q->kind, o, q->opts_len);
	*opts = o;
	*len = q->opts_len;
	return 0;
}

/*
 * The device's root into @cur, and whether a qdisc below it holds
 * @handle (it may have gone to one since it was saved). A kernel-made
 * @handle (major 0) cannot clash: the root alone is asked for then, not
 * a dump of every device in the namespace.
 */
static int root_and_clash(struct nl_sock *s, int ifindex, uint32_t handle,
			  struct qdisc *cur, bool *clash, char *err,
			  size_t errlen)
{
	struct qdisc_dump d;
	int i, ret;

	*clash = false;
	if (!TC_H_MAJ(handle)) {
		ret = root_qdisc(s, ifindex, cur);
		if (ret == -ENOENT)
			nl_errf(err, errlen, "device has no root qdisc");
		else if (ret)
			nl_kerr(err, errlen, s, ret, "reading the root qdisc");
		return ret;
	}
	ret = qdisc_dump(s, ifindex, &d);
	if (ret) {
		nl_kerr(err, errlen, s, ret, "listing qdiscs");
		return ret;
	}
	for (i = 0; i < d.n; i++)
		if (d.q[i].parent != TC_H_ROOT && d.q[i].handle == handle)
			*clash = true;
	ret = take_qdisc(&d, TC_H_ROOT, cur);
	qdisc_free(d.q, d.n);
	if (ret)
		nl_errf(err, errlen, "device has no root qdisc");
	return ret;
}

static int restore(struct nl_sock *s, int ifindex, const struct qdisc *saved,
		   char *err, size_t errlen)
{
	bool restorable = stab_restorable(saved), clash;
	struct qdisc cur;
	void *opts = NULL;
	size_t opts_len;
	char what[48];
	int ret;

	if (saved->parent != TC_H_ROOT || !saved->kind[0] ||
	    strnlen(saved->kind, sizeof(saved->kind)) == sizeof(saved->kind)) {
		nl_errf(err, errlen, "not a saved root qdisc");
		return -EINVAL;
	}
	ret = root_and_clash(s, ifindex, saved->handle, &cur, &clash, err,
			     errlen);
	if (ret)
		return ret;

	if (qdisc_is_default(saved)) {
		if (!qdisc_is_default(&cur))
			ret = root_delete(s, ifindex, cur.handle, err, errlen);
		goto out;
	}
	if (cur.handle == saved->handle && !strcmp(cur.kind, saved->kind))
		goto out;	/* the saved qdisc itself is still there */
	if (clash || cur.handle == saved->handle) {
		ret = root_delete(s, ifindex, cur.handle, err, errlen);
		if (ret)
			goto out;
	}
	ret = qdisc_restore_opts(saved, &opts, &opts_len);
	if (ret) {
		nl_errf(err, errlen, "%s", strerror(-ret));
		goto out;
	}
	ret = qdisc_req(s, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, ifindex,
			TC_H_ROOT, saved->handle, saved->kind, opts, opts_len,
			restorable ? saved->stab : NULL, saved->stab_len);
	free(opts);
	if (ret) {
		snprintf(what, sizeof(what), "%s %x: at root", saved->kind,
			 TC_H_MAJ(saved->handle) >> 16);
		nl_kerr(err, errlen, s, ret, what);
	}
out:
	qdisc_clear(&cur);
	return ret;
}

int qdisc_restore(int ifindex, const struct qdisc *saved, char *err,
		  size_t errlen)
{
	struct nl_sock s;
	int ret;

	ret = nl_open(&s);
	if (ret) {
		nl_errf(err, errlen, "netlink socket: %s", strerror(-ret));
		return ret;
	}
	ret = restore(&s, ifindex, saved, err, errlen);
	nl_close(&s);
	return ret;
}

/*
 * The mq half of install(): "mq 7cbf:" at the root, then @kind on each of
 * its classes. Grafting onto the classes of a kernel-made mq (handle 0)
 * would leave a root that deleting cannot reset, so tcbpf always makes
 * its own. On a child's failure the root @cur is put back.
 */
static int install_mq(struct nl_sock *s, int ifindex, int ntx,
		      const struct qdisc *cur, const char *kind,
		      const void *opts, size_t opts_len, char *err,
		      size_t errlen)
{
	char what[48], rerr[160];
	bool made = false;
	size_t n;
	int i, ret;

	if (cur->handle != QDISC_HANDLE || strcmp(cur->kind, "mq")) {
		ret = qdisc_req(s, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE,
				ifindex, TC_H_ROOT, QDISC_HANDLE, "mq",
				NULL, 0, NULL, 0);
		if (ret) {
			nl_kerr(err, errlen, s, ret, "mq at root");
			return ret;
		}
		made = true;
	}
	for (i = 0; i < ntx; i++) {
		/* Handle 0: the kernel picks one. Over a child of the same
		 * kind this changes it in place, else it replaces it. */
		ret = qdisc_req(s, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE,
				ifindex, TC_H_MAKE(QDISC_HANDLE, i + 1), 0,
				kind, opts, opts_len, NULL, 0);
		if (!ret)
			continue;
		snprintf(what, sizeof(what), "%s on %x:%x", kind,
			 QDISC_HANDLE >> 16, i + 1);
		nl_kerr(err, errlen, s, ret, what);
		if (made && restore(s, ifindex, cur, rerr, sizeof(rerr)) < 0 &&
		    err && errlen) {
			n = strlen(err);
			snprintf(err + n, errlen - n, "; putting back the root: %s",
				 rerr);
		}
		return ret;
	}
	return 0;
}

/* @cur, tcbpf's own root of another kind than @top: same handle, so the
 * kernel would refuse ("Invalid qdisc name"). Delete it; the default
 * comes back, and is the new @cur. */
static int drop_own_root(struct nl_sock *s, int ifindex, struct qdisc *cur,
			 char *err, size_t errlen)
{
	int ret;

	ret = root_delete(s, ifindex, cur->handle, err, errlen);
	qdisc_clear(cur);
	if (ret)
		return ret;
	ret = root_qdisc(s, ifindex, cur);
	if (ret)
		nl_kerr(err, errlen, s, ret, "root qdisc");
	return ret;
}

int qdisc_install(int ifindex, const char *kind, const void *opts,
		  size_t opts_len, char *err, size_t errlen)
{
	struct qdisc cur = { 0 };
	struct nl_sock s;
	char what[48];
	int ntx, ret;

	if (!kind || !kind[0] || strlen(kind) >= sizeof(cur.kind)) {
		nl_errf(err, errlen, "invalid qdisc kind");
		return -EINVAL;
	}
	ret = nl_open(&s);
	if (ret) {
		nl_errf(err, errlen, "netlink socket: %s", strerror(-ret));
		return ret;
	}
	ntx = link_tx_queues(&s, ifindex);
	if (ntx < 0) {
		ret = ntx;
		nl_kerr(err, errlen, &s, ret, "device");
		goto out;
	}
	ret = root_qdisc(&s, ifindex, &cur);
	if (ret) {
		nl_kerr(err, errlen, &s, ret, "root qdisc");
		goto out;
	}
	if (cur.handle == QDISC_HANDLE && strcmp(cur.kind, ntx > 1 ? "mq" : kind)) {
		ret = drop_own_root(&s, ifindex, &cur, err, errlen);
		if (ret)
			goto out;
	}
	if (ntx > 1) {
		ret = install_mq(&s, ifindex, ntx, &cur, kind, opts, opts_len,
				 err, errlen);
		goto out;
	}
	/* One request: it either replaces the root (or changes tcbpf's
	 * own in place) or changes nothing. */
	ret = qdisc_req(&s, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, ifindex,
			TC_H_ROOT, QDISC_HANDLE, kind, opts, opts_len, NULL, 0);
	if (ret) {
		snprintf(what, sizeof(what), "%s at root", kind);
		nl_kerr(err, errlen, &s, ret, what);
	}
out:
	qdisc_clear(&cur);
	nl_close(&s);
	return ret;
}

/* ---- fq ---- */

/* sch_fq_change()'s bounds, checked before anything is sent. */
static int fq_check(const struct fq_params *p, uint64_t horizon_us, char *err,
		    size_t errlen)
{
	if (p->quantum > FQ_QUANTUM_MAX) {
		nl_errf(err, errlen, "fq quantum %u: more than %u bytes",
			p->quantum, FQ_QUANTUM_MAX);
		return -ERANGE;
	}
	if (p->initial_quantum > INT_MAX) {
		nl_errf(err, errlen, "fq initial_quantum %u: more than %d bytes",
			p->initial_quantum, INT_MAX);
		return -ERANGE;
	}
	if (horizon_us > UINT32_MAX) {
		nl_errf(err, errlen, "fq horizon: more than %u us", UINT32_MAX);
		return -ERANGE;
	}
	if (p->maxrate_bytes >= UINT32_MAX) {
		nl_errf(err, errlen, "fq maxrate: %u bytes/s or more",
			UINT32_MAX);
		return -ERANGE;
	}
	return 0;
}

/*
 * fq's options (sch_fq.c fq_policy: all NLA_U32 but TCA_FQ_HORIZON_DROP,
 * NLA_U8), in the order tc(8) puts them, into the TCA_OPTIONS nest of
 * the scratch request @r. Units as fq_change() reads them: limits in
 * packets, quanta in bytes, TCA_FQ_FLOW_MAX_RATE in bytes/s (~0U:
 * unlimited), TCA_FQ_HORIZON and TCA_FQ_CE_THRESHOLD in microseconds.
 */
static int fq_put(const struct fq_params *p, struct nl_req *r, char *err,
		  size_t errlen, struct nlattr **nest)
{
	uint64_t horizon_us = (p->horizon_ns + NSEC_PER_USEC - 1) / NSEC_PER_USEC;
	uint8_t drop = !p->horizon_cap;
	int ret;

	if (p->horizon_ns > UINT64_MAX - NSEC_PER_USEC)
		horizon_us = UINT64_MAX;
	ret = fq_check(p, horizon_us, err, errlen);
	if (ret)
		return ret;
	*nest = nl_req_nest_start(r, TCA_OPTIONS);
	if (p->limit)
		nl_req_put_u32(r, TCA_FQ_PLIMIT, p->limit);
	if (p->flow_limit)
		nl_req_put_u32(r, TCA_FQ_FLOW_PLIMIT, p->flow_limit);
	if (p->quantum)
		nl_req_put_u32(r, TCA_FQ_QUANTUM, p->quantum);
	if (p->initial_quantum)
		nl_req_put_u32(r, TCA_FQ_INITIAL_QUANTUM, p->initial_quantum);
	if (p->maxrate_bytes)
		nl_req_put_u32(r, TCA_FQ_FLOW_MAX_RATE, (uint32_t)p->maxrate_bytes);
	if (p->have_ce_threshold)
		nl_req_put_u32(r, TCA_FQ_CE_THRESHOLD, p->ce_threshold_us);
	if (p->horizon_ns)
		nl_req_put_u32(r, TCA_FQ_HORIZON, (uint32_t)horizon_us);
	/* Always: a re-install over tcbpf's fq changes it in place. */
	nl_req_put(r, TCA_FQ_HORIZON_DROP, &drop, sizeof(drop));
	nl_req_nest_end(r, *nest);
	return r->err;
}

int qdisc_fq_opts(const struct fq_params *p, void *buf, size_t len, char *err,
		  size_t errlen)
{
	struct nlattr *nest = NULL;
	struct nl_req r;
	size_t n;
	int ret;

	/* At most 9 attributes of <= 8 bytes each. */
	ret = nl_req_init(&r, 0, 0, NULL, 0, 128);
	if (ret)
		return ret;
	ret = fq_put(p, &r, err, errlen, &nest);
	if (ret)
		goto out;
	n = mnl_attr_get_payload_len(nest);
	if (len < n) {
		nl_errf(err, errlen, "fq options: %zu bytes needed", n);
		ret = -ENOSPC;
		goto out;
	}
	memcpy(buf, mnl_attr_get_payload(nest), n);
	ret = (int)n;
out:
	nl_req_free(&r);
	return ret;
}

int qdisc_fq_install(int ifindex, const struct fq_params *p, char *err,
		     size_t errlen)
{
	char opts[128];
	int n;

	n = qdisc_fq_opts(p, opts, sizeof(opts), err, errlen);
	if (n < 0)
		return n;
	return qdisc_install(ifindex, "fq", opts, n, err, errlen);
}
