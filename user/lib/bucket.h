/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bucket.h - the operator's rates and bursts as the data path's costs.
 *
 * bpf/bucket.h runs GCRA on nanoseconds: a burst is how long the rate
 * takes to send it (tau), a packet's cost how long it occupies the rate.
 * This is the one place those are derived, for the CLI and for the tests
 * and bench that feed the programs settings by hand. Pure arithmetic: no
 * maps, no messages.
 */
#ifndef TCBPF_LIB_BUCKET_H
#define TCBPF_LIB_BUCKET_H

#include <linux/types.h>
#include "tcbpf.h"
#include "lib/spec.h"

#define FRAME_MAX	1514	/* a full-size Ethernet frame, as tc counts it */

/* a * b / c without overflowing the product; saturates at UINT64_MAX. */
__u64 muldiv(__u64 a, __u64 b, __u64 c);

/*
 * Fill *b from rate (bits/s) and burst (bytes), pps and pburst (packets);
 * a zero rate or pps means no bucket of that kind. pburst 0 defaults to a
 * tenth of a second of packets, at least one. Derives what the data path
 * needs: the burst and packet costs in ns, the ns-per-byte multiplier and
 * the police batches, sized for bucket_cpus() CPUs so that all of them
 * together hold at most 0.5 % of a second's worth of the rate and a
 * quarter of the burst (bpf/bucket.h).
 */
void bucket_from(struct tcbpf_bucket_cfg *b, __u64 rate, __u64 burst,
		 __u64 pps, __u64 pburst);

/* The CPUs a batch size is shared by: the possible CPUs. */
int bucket_cpus(void);

/* What bpf/bucket.h charges for @len bytes at *b's rate, in ns. */
__u64 bucket_cost(const struct tcbpf_bucket_cfg *b, __u64 len);

/* Time on the wire of a full-size frame, or between packets at pps. */
__u64 frame_ns(const struct tcbpf_bucket_cfg *b);

/*
 * The EDT queue bounds of *cfg (horizon_ns, ecn_ns and their _SET flags):
 * as given in *d, else derived from the default class's rate, which
 * cfg->cls must already hold.
 */
void edt_derive(struct tcbpf_cfg *cfg, const struct spec_dir *d);

/*
 * A bucket's timeline @tat (ns, CLOCK_MONOTONIC) at @now carried over a
 * rate change: the backlog is held as time at the old rate, so convert it
 * to the new one, capped at the new burst @new_cap (ns). An empty bucket
 * stays empty.
 */
__u64 bucket_rescale(__u64 tat, __u64 now, __u64 old_rate, __u64 new_rate,
		     __u64 new_cap);

#endif
