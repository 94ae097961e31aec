/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * obj.h - the loaded limiter: pinned maps under TCBPF_PIN_DIR, shared by
 * every device and every tcbpf process, and one pinned program pair per
 * network namespace (its cookie in the programs' .rodata) under
 * <pin dir>/ns/<cookie>/. tcbpf_open() opens the pair of the calling
 * thread's namespace.
 */
#ifndef TCBPF_OBJ_H
#define TCBPF_OBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "tcbpf.h"

#define TCBPF_LOCK_FILE		"/run/tcbpf.lock"
/*
 * Where the pins live: TCBPF_PIN_DIR, or $TCBPF_PIN_DIR when set (any
 * directory on a bpffs, no "." in its names: bpffs refuses them): a test
 * keeps its own, never the machine's.
 */
const char *tcbpf_pin_dir(void);

/* @sub under the pin directory ("links", "ns", "tcbpf_cfg", ...). */
const char *tcbpf_pin_path(char *buf, size_t len, const char *sub);

/* Program indexes: the two directions', then the pacing ifb's egress one. */
#define TCBPF_PROG_PACE		TCBPF_NDIR
#define TCBPF_NPROG		(TCBPF_NDIR + 1)

struct tcbpf {
	__u64 netns;		/* cookie of the namespace the programs serve */
	int cfg_fd;
	int state_fd;
	int stats_fd;
	int vni_fd;		/* per-VXLAN-network limits */
	int vni_stats_fd;	/* per-VXLAN-network counters */
	int prog_fd[TCBPF_NPROG];	/* the pace program's -1 when a load
					 * of an older tcbpf has none */
	__u32 prog_id[TCBPF_NPROG];
	int ncpus;
	bool created;		/* this process loaded and pinned it */
};

/* Serialise tcbpf invocations that change something. Returns an fd. */
int tcbpf_lock(void);
void tcbpf_unlock(int fd);

/*
 * Find the pinned limiter, or with @create load and pin it (mounting bpffs
 * on /sys/fs/bpf when needed). -ENOENT when absent and !@create.
 */
int tcbpf_open(struct tcbpf *t, bool create);
void tcbpf_close(struct tcbpf *t);

/* The maps only (no programs: prog_fd -1), e.g. to clean up after others. */
int tcbpf_open_maps(struct tcbpf *t);

/* Remove the program pair of namespace @netns (no device there uses it). */
int tcbpf_unpin_ns(struct tcbpf *t, __u64 netns);

/* Remove the link pins of a device of namespace @netns that is gone. */
int tcbpf_forget_dev(struct tcbpf *t, __u64 netns, int ifindex);

/* Remove every pin (the caller knows no device uses the limiter). */
int tcbpf_unpin(struct tcbpf *t);


#endif
