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

/*
 * The tcbpf_info pin: a one-entry ARRAY map next to the maps that says
 * which map layout they have (TCBPF_LAYOUT of the tcbpf that made them),
 * which tcbpf version and which build of the programs are loaded. Layout
 * 1 (tcbpf 0.1) had none: maps without it are layout 1.
 */
#define TCBPF_INFO_NAME		"tcbpf_info"
/* Where an upgrade builds the new pins before they replace the old. */
#define TCBPF_STAGE_NAME	"upgrade"

struct tcbpf_info {
	__u32 layout;		/* TCBPF_LAYOUT */
	__u32 pad;
	__u64 build;		/* tcbpf_build_id() of the programs */
	char version[32];	/* TCBPF_VERSION, for messages */
};

/* What is pinned: layout 0 = nothing; build 0 and version "" unknown. */
struct tcbpf_pins {
	int layout;
	__u64 build;
	char version[32];
};

/* This tcbpf's version (debian/changelog's) and programs' build id. */
const char *tcbpf_version(void);
__u64 tcbpf_build_id(void);

/* Read the tcbpf_info pin under @root (layout 1 when only maps are there). */
int tcbpf_pins_probe(const char *root, struct tcbpf_pins *p);

/* Pin a tcbpf_info of this build under @root (replacing one there). */
int tcbpf_info_pin(const char *root);

/* The maps' names, index TCBPF_MAP_* (obj.c's order). */
enum { TCBPF_MAP_CFG, TCBPF_MAP_PROF, TCBPF_MAP_PCACHE, TCBPF_MAP_VNI,
       TCBPF_MAP_VNI_STATS, TCBPF_NMAPS };
const char *tcbpf_map_name(unsigned int i);

/*
 * Load the program trio of namespace @netns on the maps pinned under
 * @map_root (libbpf creates and pins there those missing) and pin it as
 * @prog_root/ns/<cookie>/prog_*. The daily load is both = the pin dir;
 * an upgrade stages new programs (and maps) elsewhere first.
 */
int tcbpf_load_ns(const char *map_root, const char *prog_root, __u64 netns);

/* Open the pinned program @prog (TCBPF_INGRESS...) of @netns under @root. */
int tcbpf_prog_get(const char *root, __u64 netns, int prog);

/* The cookies of the namespaces with a program trio under @root. */
int tcbpf_ns_list(const char *root, __u64 *cookies, int max);

/*
 * Move what @stage holds over the pins (rename: each pin is replaced at
 * once, never missing), tcbpf_info last, then remove @stage.
 */
int tcbpf_stage_commit(const char *stage);
/* Remove @stage and all in it. */
void tcbpf_stage_remove(const char *stage);

struct tcbpf {
	struct tcbpf_pins pins;	/* what tcbpf_open() found pinned */
	__u64 netns;		/* cookie of the namespace the programs serve */
	int cfg_fd;		/* the devices' entries */
	int prof_fd;		/* the settings profiles */
	int pcache_fd;		/* the CPUs' caches */
	int vni_fd;		/* per-VXLAN-network limits */
	int vni_stats_fd;	/* per-VXLAN-network counters */
	int set_fd;		/* tcbpf_set: changes entries in place */
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
 * on /sys/fs/bpf when needed). -ENOENT when absent and !@create; -ESTALE
 * when its layout is not this build's (t->pins says which: lib/upgrade.c).
 */
int tcbpf_open(struct tcbpf *t, bool create);
void tcbpf_close(struct tcbpf *t);

/* The maps only (no programs: prog_fd -1), e.g. to clean up after others;
 * -ENOENT also for maps of another layout (t->pins says which). */
int tcbpf_open_maps(struct tcbpf *t);

/* Remove the program pair of namespace @netns (no device there uses it). */
int tcbpf_unpin_ns(struct tcbpf *t, __u64 netns);

/* Remove the link pins of a device of namespace @netns that is gone. */
int tcbpf_forget_dev(struct tcbpf *t, __u64 netns, int ifindex);

/* Remove every pin (the caller knows no device uses the limiter). */
int tcbpf_unpin(struct tcbpf *t);


#endif
