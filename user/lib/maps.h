/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * maps.h - the one owner of tcbpf's three maps: settings by device
 * ({namespace cookie, ifindex}, both directions in one entry), bucket
 * state and per-CPU counters by slot. Nothing else in user/ calls
 * bpf_map_*() on them.
 */
#ifndef TCBPF_MAPS_H
#define TCBPF_MAPS_H

#include <stdbool.h>
#include <linux/types.h>
#include "tcbpf.h"
#include "kern/obj.h"

/*
 * Settings of both directions of @ifindex in the namespace @t was opened
 * in (t->netns): @have[dir] says which it has; -ENOENT when none.
 */
int maps_get_dev(struct tcbpf *t, int ifindex, struct tcbpf_cfg cfg[TCBPF_NDIR],
		 bool have[TCBPF_NDIR]);
/*
 * Write both directions at once: one map update, so the data path sees
 * the old settings or the new, never a mix.
 */
int maps_put_dev(struct tcbpf *t, int ifindex,
		 const struct tcbpf_cfg cfg[TCBPF_NDIR]);
int maps_del_dev(struct tcbpf *t, int ifindex);

/*
 * One direction: 0, or -ENOENT when it has no settings. maps_put() and
 * maps_del() rewrite the device's entry with the other direction as it
 * is (read, modify, write: under the lock file, where the CLI writes).
 */
int maps_get(struct tcbpf *t, int ifindex, int dir, struct tcbpf_cfg *cfg);
int maps_put(struct tcbpf *t, int ifindex, int dir, const struct tcbpf_cfg *cfg);
int maps_del(struct tcbpf *t, int ifindex, int dir);
/* Any namespace's device entry, e.g. one found by maps_foreach(). */
int maps_del_key(struct tcbpf *t, const struct tcbpf_key *key);

static inline bool maps_dev_has(const struct tcbpf_dev *dev, int dir)
{
	return dev->dirs & (1U << dir);
}

/*
 * Call @cb for every device entry (any namespace's: key->netns says
 * which). The entries are read first (in batches), so @cb may delete
 * entries (its own or others'). A non-zero return of @cb stops the walk
 * and is returned.
 */
typedef int (*maps_cb_t)(struct tcbpf *t, const struct tcbpf_key *key,
			 const struct tcbpf_dev *dev, void *ctx);
int maps_foreach(struct tcbpf *t, maps_cb_t cb, void *ctx);

/* No settings entry at all. */
bool maps_empty(struct tcbpf *t);

/* The slots the settings use: used[slot] = 1. */
int maps_slots_used(struct tcbpf *t, unsigned char used[TCBPF_MAX_SLOTS]);

/* Zero a slot's bucket state, counters and batched tokens. */
int maps_slot_reset(struct tcbpf *t, __u32 slot);

/*
 * VXLAN networks of a VXLAN underlay device (TCBPF_F_VXLAN): a network's
 * own limit (a struct tcbpf_dev with slots of its own, which
 * maps_slots_used() counts), and what each network carried. Deleting the
 * device (maps_del_dev(), maps_del_key()) deletes its networks' entries.
 */
int maps_vni_get(struct tcbpf *t, int ifindex, __u32 vni,
		 struct tcbpf_dev *dev);
int maps_vni_put(struct tcbpf *t, int ifindex, __u32 vni,
		 const struct tcbpf_dev *dev);
int maps_vni_del(struct tcbpf *t, int ifindex, __u32 vni);
/* @val: a struct tcbpf_dev (foreach) or struct tcbpf_vni_ctr summed over
 * the CPUs (stats). */
typedef int (*maps_vni_cb_t)(struct tcbpf *t, const struct tcbpf_vni_key *k,
			     void *val, void *ctx);
int maps_vni_foreach(struct tcbpf *t, int ifindex, maps_vni_cb_t cb, void *ctx);
int maps_vni_stats(struct tcbpf *t, int ifindex, maps_vni_cb_t cb, void *ctx);

/* Counters of a slot summed over CPUs. */
int maps_read_stats(struct tcbpf *t, __u32 slot, struct tcbpf_stats *out);

/*
 * Keep a bucket's fill level across a rate change: the backlog is held as
 * time at the old rate, so convert it to the new one, capped at its burst.
 */
int maps_rescale(struct tcbpf *t, const struct tcbpf_cfg *old,
		 const struct tcbpf_cfg *new);

#endif
