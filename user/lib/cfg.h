/* SPDX-License-Identifier: GPL-2.0-only */
/* cfg.h - settings in the maps: from a SPEC, back to a SPEC, slots, counters. */
#ifndef TCBPF_CFG_H
#define TCBPF_CFG_H

#include "tcbpf.h"
#include "lib/spec.h"
#include "kern/obj.h"

/* Settings of one direction as the maps hold them (derived fields filled). */
void cfg_from_spec(struct tcbpf_cfg *cfg, const struct spec_dir *d);
void cfg_to_spec(struct spec_dir *d, const struct tcbpf_cfg *cfg);

/* Lowest slot no cfg entry uses, avoiding @also (or -1); -ENOSPC if full. */
int cfg_free_slot(struct tcbpf *t, int also);

/* Zero a slot's bucket state and counters. */
int cfg_slot_reset(struct tcbpf *t, __u32 slot);

/* Counters of a slot summed over CPUs. */
int cfg_read_stats(struct tcbpf *t, __u32 slot, struct tcbpf_stats *out);

/*
 * Keep a bucket's fill level across a rate change: the backlog is held as
 * time at the old rate, so convert it to the new one, capped at its burst.
 */
int cfg_rescale_state(struct tcbpf *t, const struct tcbpf_cfg *old,
		      const struct tcbpf_cfg *new);

#endif
