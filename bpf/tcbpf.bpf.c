// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tcbpf.bpf.c - the limiter: one tc program per direction, shared by every
 * device of a network namespace it is attached to. Settings are looked up
 * by {namespace, ifindex}, state and counters by the direction's slot, so
 * the CLI changes rates by rewriting maps, never programs.
 *
 *   ingress: packets arriving on the device, i.e. FROM the VM: policed;
 *            in EDT mode the default class is redirected to the
 *            namespace's pacing ifb, whose egress program (tcbpf_pace)
 *            stamps the departure time for its fq, which hands the packet
 *            back to the device's receive path at that time.
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
#define TC_ACT_REDIRECT	7	/* == TCX_REDIRECT */

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * The cookie of the network namespace this copy of the programs serves,
 * set by the loader: skb->ifindex means something only within one
 * namespace, and 6.1's tc programs cannot ask which (no netns cookie
 * helper for skbs before 6.14), so each namespace gets its own copy.
 */
const volatile __u64 tcbpf_netns = 0;

/*
 * A VXLAN underlay (TCBPF_F_VXLAN): count the packet to its network
 * (*@vc, made on first sight) and, when that network has a limit of its
 * own, police it with those settings instead of the device's. Anything
 * else (not VXLAN, no limit for its VNI) keeps the device's settings.
 */
static __always_inline const struct tcbpf_cfg *
vni_step(struct __sk_buff *skb, const struct pkt *pkt,
	 const struct tcbpf_cfg *cfg, __u32 dir, struct tcbpf_vni_ctr **vc)
{
	struct tcbpf_vni_key k = { .netns = tcbpf_netns,
				   .ifindex = skb->ifindex };
	struct tcbpf_vni_ctr zero = {};
	struct tcbpf_dev *v;
	long vni;

	vni = parse_vxlan(skb, pkt, cfg->vxlan_port ? cfg->vxlan_port :
				    TCBPF_VXLAN_PORT);
	if (vni < 0)
		return cfg;
	k.vni = vni;
	*vc = bpf_map_lookup_elem(&tcbpf_vni_stats, &k);
	if (!*vc) {
		bpf_map_update_elem(&tcbpf_vni_stats, &k, &zero, BPF_NOEXIST);
		*vc = bpf_map_lookup_elem(&tcbpf_vni_stats, &k);
	}
	v = bpf_map_lookup_elem(&tcbpf_vni, &k);
	if (v && (v->dirs & (1U << dir)))
		return &v->dir[dir];
	return cfg;
}

static __always_inline void vni_count(struct tcbpf_vni_dir *c,
				      const struct wire *w, enum fate fate)
{
	if (fate == FATE_DROP) {
		c->drop_pkts += w->segs;
		c->drop_bytes += w->len;
	} else {
		c->pass_pkts += w->segs;
		c->pass_bytes += w->len;
	}
}

/*
 * parse -> classify -> take (police, monitor) or take and pace (EDT) ->
 * count.
 * Per packet: one hash lookup (the device's settings, both directions),
 * the per-CPU array of the slot (counters and batched tokens) and the
 * address of its timelines (both array lookups are inlined by the
 * verifier, and the timelines' line is read only when a batch runs out);
 * the clock only when a timeline is read.
 */
static __always_inline int limit(struct __sk_buff *skb, const __u32 dir)
{
	struct tcbpf_key key = { .netns = tcbpf_netns, .ifindex = skb->ifindex };
	const struct tcbpf_bucket_cfg *bc;
	const struct tcbpf_cfg *cfg;
	enum fate fate = FATE_PASS;
	struct tcbpf_vni_ctr *vc = NULL;
	struct tcbpf_state *st;
	struct tcbpf_pcpu *pc;
	struct tcbpf_dev *dev;
	struct pkt pkt;
	struct wire w;
	__u32 slot, cls;
	__u64 now, dep;

	dev = bpf_map_lookup_elem(&tcbpf_cfg, &key);
	if (!dev || !(dev->dirs & (1U << dir)))
		return TC_ACT_UNSPEC;
	cfg = &dev->dir[dir];
	parse_skb(skb, &pkt);
	if (cfg->flags & TCBPF_F_VXLAN)
		cfg = vni_step(skb, &pkt, cfg, dir, &vc);
	slot = cfg->slot;
	pc = bpf_map_lookup_elem(&tcbpf_stats, &slot);
	if (!pc)
		return TC_ACT_UNSPEC;

	cls = classify(cfg, &pkt, dir);
	/* 0 or 1 as far as the verifier can tell, for the indexes below */
	cls = cls == TCBPF_CLASS_ALLOW ? TCBPF_CLASS_ALLOW : TCBPF_CLASS_DEFAULT;
	bc = &cfg->cls[cls];
	wire_of(&w, skb, &pkt);

	/*
	 * Ingress EDT: a departure time stamped here would not survive the
	 * redirect (skb_set_redirected() clears it), so the pacing ifb's
	 * egress program takes and stamps it, and counts. The allow class
	 * is not redirected: policed here, never delayed.
	 */
	if (dir == TCBPF_INGRESS && cfg->mode == TCBPF_MODE_EDT &&
	    cls == TCBPF_CLASS_DEFAULT && cfg->pace_ifindex)
		return bpf_redirect(cfg->pace_ifindex, 0);

	st = bpf_map_lookup_elem(&tcbpf_state, &slot);
	if (!st)
		return TC_ACT_UNSPEC;
	/*
	 * Monitor: police on the slot's own buckets (nothing else limits
	 * the device, so they are the SPEC's alone) and count a refusal as
	 * a would-be drop; the packet passes whatever they say.
	 */
	if (cfg->mode != TCBPF_MODE_EDT || dir == TCBPF_INGRESS) {
		if (!buckets_police(bc, &st->cls[cls], &pc->tok[cls], w.len,
				    w.segs))
			fate = cfg->mode == TCBPF_MODE_MONITOR ?
			       FATE_WOULD_DROP : FATE_DROP;
	} else {
		struct take tk = { .now = bpf_ktime_get_ns(), .len = w.len,
				   .segs = w.segs, .ahead = edt_horizon(cfg) };

		now = tk.now;
		dep = buckets_take(bc, &st->cls[cls], &tk);
		if (!dep)
			fate = FATE_DROP;
		else if (edt_pace(skb, cfg, cls, &pkt, now, dep))
			fate = FATE_MARK;
	}
	count(&pc->cls[cls], &w, fate);
	if (vc)
		vni_count(&vc->dir[dir & 1], &w, fate);
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

/*
 * The egress program of the namespace's pacing ifb: every packet here was
 * redirected by tcbpf_ingress from a device in ingress EDT mode, whose
 * ifindex the skb still carries (skb_iif, until ifb hands it back). Take
 * its departure time from that device's default class, drop it beyond the
 * horizon, mark it CE past the ECN threshold, stamp it for fq and count.
 * A packet whose device is no longer pacing (settings changed while it was
 * on its way) passes untouched.
 */
SEC("tc")
int tcbpf_pace(struct __sk_buff *skb)
{
	struct tcbpf_key key = { .netns = tcbpf_netns,
				 .ifindex = skb->ingress_ifindex };
	const __u32 cls = TCBPF_CLASS_DEFAULT;
	const struct tcbpf_cfg *cfg;
	enum fate fate = FATE_PASS;
	struct tcbpf_state *st;
	struct tcbpf_pcpu *pc;
	struct tcbpf_dev *dev;
	struct pkt pkt;
	struct take tk;
	struct wire w;
	__u32 slot;
	__u64 now, dep;

	dev = bpf_map_lookup_elem(&tcbpf_cfg, &key);
	if (!dev || !(dev->dirs & (1U << TCBPF_INGRESS)))
		return TC_ACT_UNSPEC;
	cfg = &dev->dir[TCBPF_INGRESS];
	if (cfg->mode != TCBPF_MODE_EDT)
		return TC_ACT_UNSPEC;
	slot = cfg->slot;
	pc = bpf_map_lookup_elem(&tcbpf_stats, &slot);
	st = bpf_map_lookup_elem(&tcbpf_state, &slot);
	if (!pc || !st)
		return TC_ACT_UNSPEC;

	parse_skb(skb, &pkt);
	wire_of(&w, skb, &pkt);
	now = bpf_ktime_get_ns();
	tk.now = now;
	tk.len = w.len;
	tk.segs = w.segs;
	tk.ahead = edt_horizon(cfg);
	dep = buckets_take(&cfg->cls[cls], &st->cls[cls], &tk);
	if (!dep)
		fate = FATE_DROP;
	else if (edt_pace(skb, cfg, cls, &pkt, now, dep))
		fate = FATE_MARK;
	count(&pc->cls[cls], &w, fate);
	return fate == FATE_DROP ? TC_ACT_SHOT : TC_ACT_UNSPEC;
}
