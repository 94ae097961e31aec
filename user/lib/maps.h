/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * maps.h - the one owner of tcbpf's maps (include/tcbpf.h, layout 3): a
 * device's entry by {namespace cookie, ifindex} (both directions, their
 * timelines and counters), the settings profiles the entries point at,
 * and the CPUs' caches of counts. Nothing else in user/ calls bpf_map_*()
 * on them. Writers hold the lock file (lib/limiter.c).
 */
#ifndef TCBPF_MAPS_H
#define TCBPF_MAPS_H

#include <stdbool.h>
#include <linux/types.h>
#include "tcbpf.h"
#include "kern/obj.h"

/* An entry as the CLI sees it: each direction's settings, joined. */
struct maps_dev {
	__u32 dirs;		/* bit 1 << dir: that direction has settings */
	struct tcbpf_cfg dir[TCBPF_NDIR];
};

static inline bool maps_dev_has(const struct maps_dev *dev, int dir)
{
	return dev->dirs & (1U << dir);
}

/*
 * Settings of both directions of @ifindex in the namespace @t was opened
 * in (t->netns): @have[dir] says which it has; -ENOENT when none.
 */
int maps_get_dev(struct tcbpf *t, int ifindex, struct tcbpf_cfg cfg[TCBPF_NDIR],
		 bool have[TCBPF_NDIR]);
/*
 * Write both directions at once. A device without an entry gets a new
 * one (counters and timelines from zero); one with an entry is changed
 * in place (tcbpf_set): a direction it had keeps its counters, and its
 * timelines are rescaled to the new rates, the backlog held as time at
 * the old rate converted to the new one, capped at the new burst.
 * -ENOSPC: every profile is in use by other settings (maps_forget(),
 * then forgetting vanished devices, may free some).
 */
int maps_put_dev(struct tcbpf *t, int ifindex,
		 const struct tcbpf_cfg cfg[TCBPF_NDIR]);
int maps_del_dev(struct tcbpf *t, int ifindex);

/*
 * One direction: 0, or -ENOENT when it has no settings. maps_put() and
 * maps_del() change the device's entry with the other direction as it is.
 */
int maps_get(struct tcbpf *t, int ifindex, int dir, struct tcbpf_cfg *cfg);
int maps_put(struct tcbpf *t, int ifindex, int dir, const struct tcbpf_cfg *cfg);
int maps_del(struct tcbpf *t, int ifindex, int dir);
/* Any namespace's device entry, e.g. one found by maps_foreach(). */
int maps_del_key(struct tcbpf *t, const struct tcbpf_key *key);

/*
 * Call @cb for every device entry (any namespace's: key->netns says
 * which). The entries are read first (in batches), so @cb may delete
 * entries (its own or others'). A non-zero return of @cb stops the walk
 * and is returned.
 */
typedef int (*maps_cb_t)(struct tcbpf *t, const struct tcbpf_key *key,
			 const struct maps_dev *dev, void *ctx);
int maps_foreach(struct tcbpf *t, maps_cb_t cb, void *ctx);

/* No settings entry at all. */
bool maps_empty(struct tcbpf *t);

/*
 * maps_hold(true) when this process takes the lock file, false when it
 * lets it go: while it holds it, what it knows of the profiles (their
 * contents, which are in use) is read once and kept; else the contents
 * are read again by each call. maps_forget(): read them again anyway
 * (e.g. after working on other maps).
 */
void maps_hold(bool on);
void maps_forget(void);

/*
 * VXLAN networks of a VXLAN underlay device (TCBPF_F_VXLAN): a network's
 * own limit (an entry of its own, as a device's), and what each network
 * carried. Deleting the device (maps_del_dev(), maps_del_key()) deletes
 * its networks' entries.
 */
int maps_vni_get(struct tcbpf *t, int ifindex, __u32 vni,
		 struct maps_dev *dev);
int maps_vni_put(struct tcbpf *t, int ifindex, __u32 vni,
		 const struct maps_dev *dev);
int maps_vni_del(struct tcbpf *t, int ifindex, __u32 vni);
/* @val: a struct maps_dev (foreach) or struct tcbpf_vni_ctr summed over
 * the CPUs (stats). */
typedef int (*maps_vni_cb_t)(struct tcbpf *t, const struct tcbpf_vni_key *k,
			     void *val, void *ctx);
int maps_vni_foreach(struct tcbpf *t, int ifindex, maps_vni_cb_t cb, void *ctx);
int maps_vni_stats(struct tcbpf *t, int ifindex, maps_vni_cb_t cb, void *ctx);

/*
 * What direction @dir of @ifindex counted: its entry's counters plus
 * what the CPUs' caches hold of it, read so that a packet is never
 * counted twice or missed by a cache handing its counts in meanwhile
 * (successive reads never go back). -ENOENT: no such direction.
 */
int maps_read_stats(struct tcbpf *t, int ifindex, int dir,
		    struct tcbpf_stats *out);

/*
 * Migration (lib/upgrade.c), into maps the programs do not use yet. The
 * entry of @key (@vni1: 0 a device, else VNI + 1) made anew with the
 * directions @dirs, settings @cfg and counters @ctr; then its timelines
 * (maps_carry_tl(): right before the programs are swapped, so that the
 * old programs' last moves are in), and what the old programs counted
 * until the swap (maps_add(), in place: the new programs' counts stay).
 */
int maps_carry(struct tcbpf *t, const struct tcbpf_key *key, __u32 vni1,
	       __u32 dirs, const struct tcbpf_cfg cfg[TCBPF_NDIR],
	       const struct tcbpf_stats ctr[TCBPF_NDIR]);
int maps_carry_tl(struct tcbpf *t, const struct tcbpf_key *key, __u32 vni1,
		  int dir, const struct tcbpf_bucket_state tl[TCBPF_NCLASS]);
int maps_add(struct tcbpf *t, const struct tcbpf_key *key, __u32 vni1,
	     int dir, const struct tcbpf_stats *add);

#endif
