/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nl.h - a small rtnetlink client for tc qdiscs and filters: plain
 * NETLINK_ROUTE sockets, no libmnl, no tc(8). Everything operates in the
 * caller's current network namespace.
 *
 * All functions return 0 (or a count) on success and a negative errno on
 * failure; none prints. Those that change the device take an @err buffer
 * (may be NULL) that receives a one-line reason the caller can print,
 * with the kernel's extended-ack text when it sent one, e.g.
 * "fq at root: Specified qdisc kind is unknown".
 */
#ifndef TCBPF_NL_H
#define TCBPF_NL_H

#include <stddef.h>
#include <stdint.h>
#include <linux/pkt_sched.h>	/* TC_H_* for callers */

/* The handle tcbpf gives the root qdisc it installs ("7cbf:"): outside
 * the range the kernel hands out (8000: and up), so it never collides. */
#define NL_QDISC_HANDLE		0x7cbf0000U

/* One qdisc as the kernel reports it. */
struct nl_qdisc {
	uint32_t handle;	/* 0 (major 0): created by the kernel itself */
	uint32_t parent;	/* TC_H_ROOT, TC_H_INGRESS, or a class */
	char kind[16];		/* "noqueue", "mq", "tbf", "clsact", ... */
	void *opts;		/* raw TCA_OPTIONS payload (malloc'd), NULL if none */
	size_t opts_len;
	void *stab;		/* raw TCA_STAB payload (size table), NULL if none */
	size_t stab_len;
};

/* All qdiscs of one device (root, children, ingress/clsact), in the
 * kernel's order. *@out is malloc'd; free it with nl_qdisc_free(). */
int nl_qdisc_list(int ifindex, struct nl_qdisc **out, int *n);
void nl_qdisc_free(struct nl_qdisc *q, int n);
/* Free what one struct owns (opts, stab) and zero it. */
void nl_qdisc_clear(struct nl_qdisc *q);

/* The device's root qdisc (parent TC_H_ROOT): "noqueue", "mq", "noop"
 * (device never up), ... Free with nl_qdisc_clear(). */
int nl_root_qdisc(int ifindex, struct nl_qdisc *out);

/* 1 if @q is a qdisc the kernel made itself (handle major 0): deleting
 * tcbpf's root brings an equivalent one back. */
int nl_qdisc_is_default(const struct nl_qdisc *q);

/* 1 clsact, 2 classic ingress qdisc, 0 neither. */
int nl_has_clsact(int ifindex);

/*
 * Number of filters (any chain, priority, protocol, kind) at @parent, e.g.
 * TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS). A filter is one handle in the
 * kernel's dump; u32 hash tables are not filters. 0 for the egress side
 * of a classic ingress qdisc (the kernel would report its ingress
 * filters there) and when no qdisc is at @parent.
 */
int nl_filter_count(int ifindex, uint32_t parent);

/* The device's num_tx_queues (IFLA_NUM_TX_QUEUES; 1 if not reported). */
int nl_link_num_tx_queues(int ifindex);

/*
 * Install @kind with the raw TCA_OPTIONS payload @opts (may be NULL) as
 * tcbpf's root: replacing the root on a single-queue device, or as
 * "mq 7cbf:" with one @kind child per tx queue (parents 7cbf:1 ..
 * 7cbf:num_tx_queues; all of them, as a tap's active queue count changes
 * at run time) on a multi-queue device. Installing again over tcbpf's
 * own root changes the parameters in place.
 *
 * If a child fails, the root saved before is restored (nl_qdisc_restore)
 * and the child's error returned: a kernel default root comes back as
 * it was; a classful user root comes back without its classes.
 */
int nl_qdisc_install(int ifindex, const char *kind, const void *opts,
		     size_t opts_len, char *err, size_t errlen);

/* fq parameters. 0 in a field leaves the kernel default. */
struct fq_params {
	uint32_t limit;			/* packets (per band on kernels >= 6.7); 10000 */
	uint32_t flow_limit;		/* packets per flow; 100 */
	uint32_t quantum;		/* bytes, <= 1 MiB; 2 * (MTU + 14) */
	uint32_t initial_quantum;	/* bytes, <= INT_MAX; 10 * (MTU + 14) */
	uint64_t horizon_ns;		/* sent in us, rounded up; 10 s */
	int horizon_cap;		/* 1: beyond the horizon cap the departure
					 * time; 0: drop (kernel default) */
	int have_ce_threshold;		/* send ce_threshold_us (0 is valid) */
	uint32_t ce_threshold_us;	/* CE-mark packets queued longer */
	uint64_t maxrate_bytes;		/* per-flow cap, bytes/s, < 2^32 - 1 */
};

/*
 * Size fq for a pacer that stamps departure times at most @delay_ns (the
 * configured added delay) plus @horizon_ns (how far its own timeline may
 * run ahead before it drops) into the future, at @rate_bits bit/s, on a
 * device with @mtu (0: 1500). See nl.c for the formula.
 */
void fq_params_for(uint64_t rate_bits, uint64_t delay_ns, uint64_t horizon_ns,
		   uint32_t mtu, struct fq_params *p);

/* nl_qdisc_install() of fq with @p. @p is checked against sch_fq's
 * limits first (-ERANGE, nothing sent). */
int nl_fq_install(int ifindex, const struct fq_params *p, char *err,
		  size_t errlen);
/* The TCA_OPTIONS payload nl_fq_install() sends for @p: its length, or
 * -ERANGE, or -ENOSPC if @len is too small (128 bytes always do). */
int nl_fq_opts(const struct fq_params *p, void *buf, size_t len, char *err,
	       size_t errlen);

/*
 * Put back a root qdisc saved with nl_root_qdisc():
 *  - a kernel default (handle 0): delete the root, so the kernel attaches
 *    its default again (nothing to do if the root is a default already);
 *  - otherwise re-create kind, handle, TCA_OPTIONS and a size table
 *    without data (one with a data table is left out: dumps carry only
 *    its header). A root that still has the saved handle and kind is
 *    left alone: it is the saved qdisc itself. Classes, children and
 *    filters of a classful qdisc are not saved and not restored.
 */
int nl_qdisc_restore(int ifindex, const struct nl_qdisc *saved, char *err,
		     size_t errlen);

/*
 * A saved qdisc as bytes (host byte order, for a file under /run that
 * the detach process reads back). Returns the length written, or the
 * length needed when @buf is NULL; -ENOSPC if @len is too small.
 */
int nl_qdisc_serialize(const struct nl_qdisc *q, void *buf, size_t len);
/* -EINVAL unless @buf holds exactly one serialized qdisc. Free with
 * nl_qdisc_clear(). */
int nl_qdisc_deserialize(const void *buf, size_t len, struct nl_qdisc *out);

#endif
