/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pace.h - the fq qdisc that honours the egress program's departure times.
 *
 * tcbpf installs fq as the device's root (mq + one fq per tx queue on a
 * multi-queue device), sized for the configured rate, delay and horizon,
 * and saves the root it replaced in a file under TCBPF_RUN_DIR so that
 * detach, a later process, can put it back.
 */
#ifndef TCBPF_PACE_H
#define TCBPF_PACE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "tcbpf.h"

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

/* Put back the root qdisc saved by pace_install() and forget it. */
int pace_restore(int ifindex, __u64 netns, char *err, size_t errlen);

#endif
