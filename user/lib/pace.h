/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pace.h - the fq qdisc that honours the egress program's departure times:
 * tcbpf's policy for it.
 *
 * tcbpf installs fq as the device's root (mq + one fq per tx queue on a
 * multi-queue device), sized for the configured rate, delay and horizon
 * (pace_fq_params), and saves the root it replaced in a file under
 * TCBPF_RUN_DIR (pace_save_encode) so that detach, a later process, can
 * put it back.
 *
 * Owns: fq sizing, the save file's format and place, the rule that a
 * tree of qdiscs is never replaced. Not here: netlink, qdisc requests
 * and fq's option encoding (kern/qdisc.h).
 */
#ifndef TCBPF_PACE_H
#define TCBPF_PACE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "tcbpf.h"
#include "kern/qdisc.h"

#define TCBPF_RUN_DIR	"/run/tcbpf"

/*
 * Install or resize tcbpf's fq on @ifindex for egress settings @cfg.
 * @owned: tcbpf's fq is already there (only resize, the saved root stays).
 * -ENOENT (with the kernel's words in @err) when the kernel has no fq;
 * -EBUSY when the root is a tree of qdiscs, classes or filters that
 * pace_restore() could not rebuild (left untouched, described in @err).
 */
int pace_install(int ifindex, __u64 netns, const struct tcbpf_cfg *cfg,
		 bool owned, char *err, size_t errlen);

/*
 * Save @ifindex's root qdisc for pace_restore(): what pace_install()
 * does first when tcbpf's fq is not there yet. -EBUSY (described in
 * @err) when the root is a tree detach could not rebuild.
 */
int pace_save_root(int ifindex, __u64 netns, char *err, size_t errlen);

/* Put back the root qdisc saved by pace_install() and forget it. */
int pace_restore(int ifindex, __u64 netns, char *err, size_t errlen);

/* A class's buckets, as fq sizing needs them; 0 is "no such bucket". */
struct pace_class {
	uint64_t rate_bits;	/* bit/s */
	uint64_t pps;		/* packet/s */
	uint64_t pburst;	/* packets */
};

/*
 * Size fq for a pacer that stamps departure times at most @delay_ns (the
 * configured added delay) plus @horizon_ns (how far its own timeline may
 * run ahead before it drops) into the future, for the @ncls classes
 * @cls, on a device with @mtu (0: 1500): the frame size assumed for a
 * class without a packet bucket. See pace.c for the formula.
 */
void pace_fq_params(const struct pace_class *cls, unsigned int ncls,
		    uint64_t delay_ns, uint64_t horizon_ns, uint32_t mtu,
		    struct fq_params *p);

/*
 * A saved root qdisc as the bytes of its save file (host byte order:
 * written and read on one machine). Returns the length written, or the
 * length needed when @buf is NULL; -ENOSPC if @len is too small. The
 * options are kept as the kernel dumped them; qdisc_restore() knows how
 * to give them back.
 */
int pace_save_encode(const struct qdisc *q, void *buf, size_t len);
/* -EINVAL unless @buf holds exactly one encoded qdisc. Free with
 * qdisc_clear(). */
int pace_save_decode(const void *buf, size_t len, struct qdisc *out);

/* Forget what was saved for a device that is gone (its qdiscs went too). */
void pace_forget(int ifindex, __u64 netns);

#endif
