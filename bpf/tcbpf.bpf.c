// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tcbpf.bpf.c - the limiter: one tc program per direction, shared by every
 * device it is attached to. Settings and state are looked up by ifindex and
 * direction, so the CLI changes rates by rewriting maps, never programs.
 *
 *   ingress: packets arriving on the device, i.e. FROM the VM: policed.
 *   egress:  packets leaving through the device, i.e. TO the VM: policed
 *            (EDT pacing with fq where the device has it).
 *
 * A passing packet gets TC_ACT_UNSPEC / TCX_NEXT so that filters of other
 * users behind us still run; an excess packet is dropped.
 */
/*
 * Packet headers (ethhdr, iphdr, ...) are UAPI: their layout never moves,
 * so no CO-RE relocations for them. Without any, libbpf need not read and
 * parse the kernel's BTF at each load (~60 ms here, ten times that under
 * emulation).
 */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "tcbpf.h"
#include "maps.h"
#include "parse.h"
#include "classify.h"
#include "bucket.h"
#include "edt.h"
#include "count.h"

#define TC_ACT_UNSPEC	(-1)
#define TC_ACT_SHOT	2

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* A class's settings, timelines and counters in the maps' values. */
struct class_ref {
	const struct tcbpf_bucket_cfg *bc;
	struct tcbpf_bucket_state *bs;
	struct tcbpf_counters *cnt;
};

/* Constant indexes keep the verifier's bounds simple. */
static __always_inline void class_ref(struct class_ref *r,
				      const struct tcbpf_cfg *cfg,
				      struct tcbpf_state *st,
				      struct tcbpf_stats *stats, __u32 cls)
{
	if (cls == TCBPF_CLASS_ALLOW) {
		r->bc = &cfg->cls[TCBPF_CLASS_ALLOW];
		r->bs = &st->cls[TCBPF_CLASS_ALLOW];
		r->cnt = &stats->cls[TCBPF_CLASS_ALLOW];
	} else {
		r->bc = &cfg->cls[TCBPF_CLASS_DEFAULT];
		r->bs = &st->cls[TCBPF_CLASS_DEFAULT];
		r->cnt = &stats->cls[TCBPF_CLASS_DEFAULT];
	}
}

/*
 * The cookie of the network namespace this copy of the programs serves,
 * set by the loader: skb->ifindex means something only within one
 * namespace, and 6.1's tc programs cannot ask which (no netns cookie
 * helper for skbs before 6.14), so each namespace gets its own copy.
 */
const volatile __u64 tcbpf_netns = 0;

/* parse -> classify -> take (police) or take and pace (EDT) -> count */
static __always_inline int limit(struct __sk_buff *skb, __u32 dir)
{
	struct tcbpf_key key = {
		.netns = tcbpf_netns, .ifindex = skb->ifindex, .dir = dir,
	};
	enum fate fate = FATE_PASS;
	struct tcbpf_stats *stats;
	struct tcbpf_state *st;
	struct tcbpf_cfg *cfg;
	struct class_ref c;
	struct pkt pkt;
	struct wire w;
	__u32 slot, cls;
	__u64 now, dep;

	cfg = bpf_map_lookup_elem(&tcbpf_cfg, &key);
	if (!cfg)
		return TC_ACT_UNSPEC;
	slot = cfg->slot;
	st = bpf_map_lookup_elem(&tcbpf_state, &slot);
	stats = bpf_map_lookup_elem(&tcbpf_stats, &slot);
	if (!st || !stats)
		return TC_ACT_UNSPEC;

	parse_skb(skb, &pkt);
	cls = classify(cfg, &pkt, dir);
	class_ref(&c, cfg, st, stats, cls);
	wire_of(&w, skb, &pkt);

	if (cfg->mode != TCBPF_MODE_MONITOR) {
		now = bpf_ktime_get_ns();
		dep = buckets_take(c.bc, c.bs, now, w.len, w.segs,
				   edt_horizon(cfg));
		if (!dep)
			fate = FATE_DROP;
		else if (cfg->mode == TCBPF_MODE_EDT &&
			 edt_pace(skb, cfg, cls, &pkt, now, dep))
			fate = FATE_MARK;
	}
	count(c.cnt, &w, fate);
	return fate == FATE_DROP ? TC_ACT_SHOT : TC_ACT_UNSPEC;
}

SEC("tc")
int tcbpf_ingress(struct __sk_buff *skb)
{
	return limit(skb, TCBPF_INGRESS);
}

SEC("tc")
int tcbpf_egress(struct __sk_buff *skb)
{
	return limit(skb, TCBPF_EGRESS);
}
