/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fuzz.h - what the fuzz harness (harness.bpf.c), the driver (fuzz.c) and
 * the reference (ref.py, which spells the same layout in struct formats)
 * agree on. Everything on the pipe is little-endian and packed.
 *
 * Driver -> reference, per batch:
 *   struct fuzz_batch, then n times { struct fuzz_rec, len frame bytes },
 *   then struct fuzz_totals.
 * Reference -> driver, per batch: struct fuzz_reply.
 */
#ifndef TCBPF_FUZZ_H
#define TCBPF_FUZZ_H

/* Top byte of the harness's cb[0]: proves the harness wrote it. */
#define FUZZ_MAGIC		0xf2
#define FUZZ_BATCH_MAGIC	0x7a55f2b0
/* Largest frame generated; test_run takes a page less skb overhead. */
#define FUZZ_FRAME_MAX		2048

enum fuzz_status {
	FUZZ_RAN = 0,		/* both programs ran */
	FUZZ_REFUSED = 1,	/* test_run refused the frame for both (EINVAL) */
	FUZZ_ERROR = 2,		/* anything else: an error or the two disagree */
};

#ifndef __bpf__
struct fuzz_batch {
	__u32 magic;
	__u32 n;
	__u64 first;		/* index of the first frame in the run */
} __attribute__((packed));

struct fuzz_rec {
	__u16 len;
	__u8 dir;		/* enum tcbpf_dir */
	__u8 status;		/* enum fuzz_status */
	__s32 err;		/* test_run's error, when not FUZZ_RAN */
	__u32 cb[4];		/* harness: see harness.bpf.c */
	__s32 verdict;		/* the real program's return value */
	/* What the real program's counters of direction @dir moved by, per class:
	 * pass_pkts, pass_bytes, drop_pkts, drop_bytes. */
	__u32 cnt[2][4];
} __attribute__((packed));

/* Counters of both directions since the run started (the entry's and the
 * CPUs' caches'): [dir][class][pass_pkts, pass_bytes, drop_pkts, drop_bytes]. */
struct fuzz_totals {
	__u64 c[2][2][4];
} __attribute__((packed));

struct fuzz_reply {
	__u32 checked;
	__u32 mismatches;
	__u32 refused;
} __attribute__((packed));

/* ref.py's BATCH, REC, TOTALS and REPLY struct formats have these sizes. */
_Static_assert(sizeof(struct fuzz_batch) == 16, "fuzz_batch");
_Static_assert(sizeof(struct fuzz_rec) == 60, "fuzz_rec");
_Static_assert(sizeof(struct fuzz_totals) == 128, "fuzz_totals");
_Static_assert(sizeof(struct fuzz_reply) == 12, "fuzz_reply");
#endif

#endif /* TCBPF_FUZZ_H */
