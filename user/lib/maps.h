/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * maps.h - the one owner of tcbpf's three maps: settings by {ifindex,
 * dir}, bucket state and per-CPU counters by slot. Nothing else in user/
 * calls bpf_map_*() on them.
 */
#ifndef TCBPF_MAPS_H
#define TCBPF_MAPS_H

#include <stdbool.h>
#include <linux/types.h>
#include "tcbpf.h"
#include "kern/obj.h"

/*
 * Settings of @dir of @ifindex in the namespace @t was opened in (t->netns):
 * 0, or -ENOENT when there are none.
 */
int maps_get(struct tcbpf *t, int ifindex, int dir, struct tcbpf_cfg *cfg);
int maps_put(struct tcbpf *t, int ifindex, int dir, const struct tcbpf_cfg *cfg);
int maps_del(struct tcbpf *t, int ifindex, int dir);
/* Any namespace's entry, e.g. one found by maps_foreach(). */
int maps_del_key(struct tcbpf *t, const struct tcbpf_key *key);

/*
 * Call @cb for every settings entry. The keys are read first, so @cb may
 * delete entries (its own or others'). A non-zero return of @cb stops the
 * walk and is returned.
 */
typedef int (*maps_cb_t)(struct tcbpf *t, const struct tcbpf_key *key,
			 const struct tcbpf_cfg *cfg, void *ctx);
int maps_foreach(struct tcbpf *t, maps_cb_t cb, void *ctx);

/* No settings entry at all. */
bool maps_empty(struct tcbpf *t);

/* Lowest slot no settings entry uses, avoiding @also (or -1); -ENOSPC. */
int maps_free_slot(struct tcbpf *t, int also);

/* Zero a slot's bucket state and counters. */
int maps_slot_reset(struct tcbpf *t, __u32 slot);

/* Counters of a slot summed over CPUs. */
int maps_read_stats(struct tcbpf *t, __u32 slot, struct tcbpf_stats *out);

/*
 * Keep a bucket's fill level across a rate change: the backlog is held as
 * time at the old rate, so convert it to the new one, capped at its burst.
 */
int maps_rescale(struct tcbpf *t, const struct tcbpf_cfg *old,
		 const struct tcbpf_cfg *new);

#endif
