/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pcache.h - each CPU's cache of counts and batched tokens (tcbpf_pcache).
 *
 * A device's counters and timelines live in its entry, shared by the
 * CPUs; a CPU adds to them through its cache, so that two CPUs flooding
 * one device do not share a cache line per packet. The cache is direct
 * mapped: a direction's tag (its id) has one place, and a packet of
 * another direction there first hands the counts in to their entry
 * (atomic adds, the entry found again by the key the cache entry keeps,
 * and only if it still has that tag), gives the tokens it holds back to
 * the timelines, and takes the place over. seq is odd meanwhile, so that
 * a reader of entry + caches never counts the same packet twice.
 */
#ifndef TCBPF_PCACHE_H
#define TCBPF_PCACHE_H

#include "bucket.h"

#ifndef WRITE_ONCE
#define WRITE_ONCE(x, v)	(*(volatile typeof(x) *)&(x) = (v))
#endif
#define barrier()		asm volatile("" ::: "memory")

/* Counts handed in: atomic adds, other CPUs hand theirs in too. */
static __always_inline void ctr_add(struct tcbpf_counters *to,
				    const struct tcbpf_counters *c)
{
	if (c->pass_pkts) {
		__sync_fetch_and_add(&to->pass_pkts, c->pass_pkts);
		__sync_fetch_and_add(&to->pass_bytes, c->pass_bytes);
	}
	if (c->drop_pkts) {
		__sync_fetch_and_add(&to->drop_pkts, c->drop_pkts);
		__sync_fetch_and_add(&to->drop_bytes, c->drop_bytes);
	}
	if (c->mark_pkts)
		__sync_fetch_and_add(&to->mark_pkts, c->mark_pkts);
	if (c->wdrop_pkts) {
		__sync_fetch_and_add(&to->wdrop_pkts, c->wdrop_pkts);
		__sync_fetch_and_add(&to->wdrop_bytes, c->wdrop_bytes);
	}
}

/*
 * Hand what @pc holds in to its owner's entry, if that direction still
 * has the tag (the same attach): the counts, and the unspent tokens back
 * to the timelines (at the owner's present rates).
 */
static __always_inline void pc_handin(struct tcbpf_pc *pc)
{
	struct tcbpf_dev *e = ent_lookup(pc->key.netns, pc->key.ifindex,
					 pc->vni);
	__u32 dir = pc->key.pad & 1;
	const struct tcbpf_prof *p;
	struct tcbpf_ddir *dd;
	int c;

	if (!e)
		return;		/* detached: its counts went with it */
	dd = &e->dir[dir];
	if (dd->id != pc->tag)
		return;		/* so was that direction */
	for (c = 0; c < TCBPF_NCLASS; c++)
		ctr_add(&dd->ctr.cls[c], &pc->ctr.cls[c]);
	p = prof_lookup(dd);
	if (!p)
		return;
	for (c = 0; c < TCBPF_NCLASS; c++) {
		if (pc->tok[c].bytes)
			__sync_fetch_and_add(&dd->tl[c].tat_bytes,
				-bytes_cost_ns(&p->cls[c], pc->tok[c].bytes));
		if (pc->tok[c].pkts)
			__sync_fetch_and_add(&dd->tl[c].tat_pkts,
				-(p->cls[c].pkt_ns * pc->tok[c].pkts));
	}
}

/*
 * Take @pc over for @tag, direction @dir of the entry @key (@vni: 0 a
 * device, else VNI + 1) finds. Global: the verifier checks it once, not
 * on every path of the programs.
 */
__noinline int pc_claim(struct tcbpf_pc *pc, __u64 tag,
			const struct tcbpf_key *key, __u32 vni, __u32 dir)
{
	if (!pc || !key)	/* may be NULL: verifier */
		return 0;
	WRITE_ONCE(pc->seq, pc->seq + 1);
	barrier();
	if (pc->tag)
		pc_handin(pc);
	__builtin_memset(&pc->tok, 0, sizeof(pc->tok));
	__builtin_memset(&pc->ctr, 0, sizeof(pc->ctr));
	pc->tag = tag;
	pc->key = *key;
	pc->key.pad = dir;
	pc->vni = vni;
	barrier();
	WRITE_ONCE(pc->seq, pc->seq + 1);
	return 0;
}

/* This CPU's cache entry for direction @dir (@dd) of an entry. */
static __always_inline struct tcbpf_pc *pc_get(const struct tcbpf_ddir *dd,
					       __u32 dir,
					       const struct tcbpf_key *key,
					       __u32 vni)
{
	__u32 i = dd->id & (TCBPF_PCACHE - 1);
	struct tcbpf_pc *pc;

	pc = bpf_map_lookup_elem(&tcbpf_pcache, &i);
	if (pc && pc->tag != dd->id)
		pc_claim(pc, dd->id, key, vni, dir);
	return pc;
}

#endif /* TCBPF_PCACHE_H */
