/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * qdisc.h - qdiscs and filters on one device, over kern/nl.h: list them,
 * read the root, count filters, install a root (or mq with one child per
 * tx queue), delete it, put a saved one back; and fq's option encoding
 * (TCA_FQ_*, byte for byte what tc(8) sends). No tc(8).
 *
 * Not here: how big fq should be for a rate and a delay, and where a
 * saved root is kept between attach and detach (lib/pace.h: policy).
 *
 * Everything works in the caller's current network namespace. Functions
 * return 0 (or a count) on success and a negative errno on failure; none
 * prints. Those that change the device take an @err buffer (may be NULL)
 * that receives a one-line reason the caller can print, with the
 * kernel's extended-ack text when it sent one, e.g.
 * "fq at root: Specified qdisc kind is unknown".
 */
#ifndef TCBPF_QDISC_H
#define TCBPF_QDISC_H

#include <stddef.h>
#include <stdint.h>
#include <linux/pkt_sched.h>	/* TC_H_* for callers */

/* The handle tcbpf gives the root qdisc it installs ("7cbf:"): outside
 * the range the kernel hands out (8000: and up), so it never collides. */
#define QDISC_HANDLE		0x7cbf0000U

/* One qdisc as the kernel reports it. */
struct qdisc {
	uint32_t handle;	/* 0 (major 0): created by the kernel itself */
	uint32_t parent;	/* TC_H_ROOT, TC_H_INGRESS, or a class */
	char kind[16];		/* "noqueue", "mq", "tbf", "clsact", ... */
	void *opts;		/* raw TCA_OPTIONS payload (malloc'd), NULL if none */
	size_t opts_len;
	void *stab;		/* raw TCA_STAB payload (size table), NULL if none */
	size_t stab_len;
};

/* All qdiscs of one device (root, children, ingress/clsact), in the
 * kernel's order. *@out is malloc'd; free it with qdisc_free(). */
int qdisc_list(int ifindex, struct qdisc **out, int *n);
void qdisc_free(struct qdisc *q, int n);
/* Free what one struct owns (opts, stab) and zero it. */
void qdisc_clear(struct qdisc *q);

/* The device's root qdisc (parent TC_H_ROOT): "noqueue", "mq", "noop"
 * (device never up), ... Free with qdisc_clear(). */
int qdisc_root(int ifindex, struct qdisc *out);

/* 1 if @q is a qdisc the kernel made itself (handle major 0): deleting
 * tcbpf's root brings an equivalent one back. */
int qdisc_is_default(const struct qdisc *q);

/* 1 clsact, 2 classic ingress qdisc, 0 neither. */
int qdisc_has_clsact(int ifindex);

/*
 * Number of filters (any chain, priority, protocol, kind) at @parent, e.g.
 * TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS). A filter is one handle in the
 * kernel's dump; u32 hash tables are not filters. 0 for the egress side
 * of a classic ingress qdisc (the kernel would report its ingress
 * filters there) and when no qdisc is at @parent.
 */
int qdisc_filter_count(int ifindex, uint32_t parent);

/* The device's num_tx_queues (IFLA_NUM_TX_QUEUES; 1 if not reported). */
int qdisc_num_tx_queues(int ifindex);

/*
 * Install @kind with the raw TCA_OPTIONS payload @opts (may be NULL) as
 * tcbpf's root: replacing the root on a single-queue device, or as
 * "mq 7cbf:" with one @kind child per tx queue (parents 7cbf:1 ..
 * 7cbf:num_tx_queues; all of them, as a tap's active queue count changes
 * at run time) on a multi-queue device. Installing again over tcbpf's
 * own root changes the parameters in place.
 *
 * If a child fails, the root saved before is restored (qdisc_restore)
 * and the child's error returned: a kernel default root comes back as
 * it was; a classful user root comes back without its classes.
 */
int qdisc_install(int ifindex, const char *kind, const void *opts,
		  size_t opts_len, char *err, size_t errlen);

/* Delete the root qdisc with @handle; the kernel attaches its default. */
int qdisc_delete_root(int ifindex, uint32_t handle, char *err, size_t errlen);

/*
 * Put back a root qdisc saved with qdisc_root():
 *  - a kernel default (handle 0): delete the root, so the kernel attaches
 *    its default again (nothing to do if the root is a default already);
 *  - otherwise re-create kind, handle, options (qdisc_restore_opts) and
 *    a size table without data (one with a data table is left out: dumps
 *    carry only its header). A root that still has the saved handle and
 *    kind is left alone: it is the saved qdisc itself. Classes, children
 *    and filters of a classful qdisc are not saved and not restored.
 * The re-created qdisc dumps exactly as the saved one did, however many
 * times it goes round.
 */
int qdisc_restore(int ifindex, const struct qdisc *saved, char *err,
		  size_t errlen);

/*
 * The TCA_OPTIONS payload qdisc_restore() sends to re-create @q, in a
 * malloc'd *@opts (NULL if @q has none). A dump is not always what the
 * qdisc's init takes back to the same state: htb dumps a version its
 * init refuses, and codel and fq_codel dump their times in whole
 * microseconds rounded down from their own 1024 ns units, so replaying a
 * dump loses up to one unit per round trip (target 5ms, 4999us, 4998us,
 * ...). Those values are turned into the ones that give back the same
 * internal state; every other byte is the dump's.
 */
int qdisc_restore_opts(const struct qdisc *q, void **opts, size_t *len);

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

/* qdisc_install() of fq with @p. @p is checked against sch_fq's
 * limits first (-ERANGE, nothing sent). */
int qdisc_fq_install(int ifindex, const struct fq_params *p, char *err,
		     size_t errlen);
/* The TCA_OPTIONS payload qdisc_fq_install() sends for @p: its length,
 * or -ERANGE, or -ENOSPC if @len is too small (128 bytes always do). */
int qdisc_fq_opts(const struct fq_params *p, void *buf, size_t len, char *err,
		  size_t errlen);

#endif
