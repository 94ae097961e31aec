// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tcbpf.bpf.c - the limiter: one tc program per direction, shared by every
 * device of a network namespace it is attached to. The device's entry is
 * looked up by {namespace, ifindex}: its directions' profiles (the
 * settings), timelines and counters; the CLI changes rates by rewriting
 * maps, never programs.
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
#include "pcache.h"

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

/* What limit_dir() needs of a packet besides its skb and entry. */
struct step {
	struct pkt pkt;
	struct wire w;
	struct tcbpf_key key;	/* the device's */
	__u32 vni1;		/* 0 the device's entry, else its network's */
	__u32 pad;
};

#define REDIRECTED	(-1)	/* limit_dir(): bpf_redirect() said where */

/*
 * classify -> take (police, monitor) or take and pace (EDT) -> count, on
 * direction @dir (a constant) @dd of an entry (the device's or its VXLAN
 * network's) with settings @prof. Returns the packet's enum fate, or
 * REDIRECTED.
 */
static __always_inline int limit_dir(struct __sk_buff *skb,
				     struct tcbpf_ddir *dd,
				     const struct tcbpf_prof *prof,
				     struct step *s, const __u32 dir)
{
	const struct tcbpf_bucket_cfg *bc;
	enum fate fate = FATE_PASS;
	struct tcbpf_pc *pc;
	__u32 cls;
	__u64 now, dep;

	if (!skb || !dd || !prof || !s)		/* may be NULL: verifier */
		return FATE_PASS;
	/* this CPU's cache entry first: after classify() the verifier
	 * walked 40 % more (a redirected packet takes one too, which
	 * tcbpf_pace on the ifb, on this CPU, uses) */
	pc = pc_get(dd, dir, &s->key, s->vni1);
	if (!pc)
		return FATE_PASS;
	cls = classify(prof, &s->pkt, dir);
	/* 0 or 1 as far as the verifier can tell, for the indexes below */
	cls = cls == TCBPF_CLASS_ALLOW ? TCBPF_CLASS_ALLOW : TCBPF_CLASS_DEFAULT;
	bc = &prof->cls[cls];

	/*
	 * Ingress EDT: a departure time stamped here would not survive the
	 * redirect (skb_set_redirected() clears it), so the pacing ifb's
	 * egress program takes and stamps it, and counts. The allow class
	 * is not redirected: policed here, never delayed.
	 */
	if (dir == TCBPF_INGRESS && prof->mode == TCBPF_MODE_EDT &&
	    cls == TCBPF_CLASS_DEFAULT && dd->pace_ifindex) {
		bpf_redirect(dd->pace_ifindex, 0);
		return REDIRECTED;
	}

	/*
	 * Monitor: police on the direction's own buckets (nothing else
	 * limits the device, so they are the SPEC's alone) and count a
	 * refusal as a would-be drop; the packet passes whatever they say.
	 */
	if (prof->mode != TCBPF_MODE_EDT || dir == TCBPF_INGRESS) {
		if (!buckets_police(bc, &dd->tl[cls], &pc->tok[cls], s->w.len,
				    s->w.segs))
			fate = prof->mode == TCBPF_MODE_MONITOR ?
			       FATE_WOULD_DROP : FATE_DROP;
	} else {
		struct take tk = { .now = bpf_ktime_get_ns(), .len = s->w.len,
				   .segs = s->w.segs, .ahead = edt_horizon(prof) };

		now = tk.now;
		dep = buckets_take(bc, &dd->tl[cls], &tk);
		if (!dep)
			fate = FATE_DROP;
		else if (edt_pace(skb, prof, cls, &s->pkt, now, dep))
			fate = FATE_MARK;
	}
	count(&pc->ctr.cls[cls], &s->w, fate);
	return fate;
}

/*
 * A VXLAN underlay (TCBPF_F_VXLAN) with settings @prof in direction @dir
 * @dd: the packet counted to its network (made on first sight), and
 * limited by that network's entry when it has a limit of its own, else
 * by the device's; the verdict. Global: only an underlay's packets pay
 * its call, and the verifier follows an underlay's paths once, apart
 * from a tap's.
 */
__noinline int vxlan_dev(struct __sk_buff *skb, struct tcbpf_ddir *dd,
			 const struct tcbpf_prof *prof, struct step *s, __u32 dir)
{
	struct tcbpf_vni_key k = { .netns = tcbpf_netns };
	const struct tcbpf_prof *vp = NULL;
	struct tcbpf_vni_ctr zero = {};
	struct tcbpf_vni_ctr *vc = NULL;
	struct tcbpf_dev *v = NULL;
	long vni;
	int fate;

	if (!skb || !dd || !prof || !s)		/* may be NULL: verifier */
		return TC_ACT_UNSPEC;
	dir = dir == TCBPF_INGRESS ? TCBPF_INGRESS : TCBPF_EGRESS;
	vni = parse_vxlan(skb, &s->pkt, prof->vxlan_port ? prof->vxlan_port :
					 TCBPF_VXLAN_PORT);
	if (vni >= 0) {
		k.ifindex = s->key.ifindex;
		k.vni = vni;
		vc = bpf_map_lookup_elem(&tcbpf_vni_stats, &k);
		if (!vc) {
			bpf_map_update_elem(&tcbpf_vni_stats, &k, &zero,
					    BPF_NOEXIST);
			vc = bpf_map_lookup_elem(&tcbpf_vni_stats, &k);
		}
		v = bpf_map_lookup_elem(&tcbpf_vni, &k);
		if (v && (v->dirs & (1U << dir)))
			vp = prof_lookup(&v->dir[dir]);
	}
	/* underlays are policed or monitored: no redirect, no EDT */
	if (vp && v) {
		s->vni1 = vni + 1;
		fate = dir == TCBPF_INGRESS ?
		       limit_dir(skb, &v->dir[TCBPF_INGRESS], vp, s, TCBPF_INGRESS) :
		       limit_dir(skb, &v->dir[TCBPF_EGRESS], vp, s, TCBPF_EGRESS);
	} else {
		fate = dir == TCBPF_INGRESS ?
		       limit_dir(skb, dd, prof, s, TCBPF_INGRESS) :
		       limit_dir(skb, dd, prof, s, TCBPF_EGRESS);
	}
	if (fate == REDIRECTED)
		return TC_ACT_REDIRECT;
	if (vc)
		vni_count(&vc->dir[dir], &s->w, fate);
	return fate == FATE_DROP ? TC_ACT_SHOT : TC_ACT_UNSPEC;
}

/*
 * parse -> limit_dir() on the device's entry (an underlay: vxlan_dev()).
 * Per packet: one hash lookup (the device's entry: both directions'
 * profiles, timelines and counters) and two array lookups the verifier
 * inlines: the profile, and this CPU's cache entry (counts and batched
 * tokens). The timelines' line is read only when a batch runs out, the
 * clock only when a timeline is read.
 */
static __always_inline int limit(struct __sk_buff *skb, const __u32 dir)
{
	struct step s = { .key = { .netns = tcbpf_netns,
				   .ifindex = skb->ifindex } };
	const struct tcbpf_prof *prof;
	struct tcbpf_dev *dev;
	int fate;

	dev = bpf_map_lookup_elem(&tcbpf_cfg, &s.key);
	if (!dev || !(dev->dirs & (1U << dir)))
		return TC_ACT_UNSPEC;
	prof = prof_lookup(&dev->dir[dir]);
	if (!prof)
		return TC_ACT_UNSPEC;
	parse_skb(skb, &s.pkt);
	wire_of(&s.w, skb, &s.pkt);
	if (prof->flags & TCBPF_F_VXLAN)
		return vxlan_dev(skb, &dev->dir[dir], prof, &s, dir);
	fate = limit_dir(skb, &dev->dir[dir], prof, &s, dir);
	if (fate == REDIRECTED)
		return TC_ACT_REDIRECT;
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
	const struct tcbpf_prof *prof;
	enum fate fate = FATE_PASS;
	struct tcbpf_ddir *dd;
	struct tcbpf_dev *dev;
	struct tcbpf_pc *pc;
	struct pkt pkt;
	struct take tk;
	struct wire w;
	__u64 now, dep;

	dev = bpf_map_lookup_elem(&tcbpf_cfg, &key);
	if (!dev || !(dev->dirs & (1U << TCBPF_INGRESS)))
		return TC_ACT_UNSPEC;
	dd = &dev->dir[TCBPF_INGRESS];
	prof = prof_lookup(dd);
	if (!prof || prof->mode != TCBPF_MODE_EDT)
		return TC_ACT_UNSPEC;
	pc = pc_get(dd, TCBPF_INGRESS, &key, 0);
	if (!pc)
		return TC_ACT_UNSPEC;

	parse_skb(skb, &pkt);
	wire_of(&w, skb, &pkt);
	now = bpf_ktime_get_ns();
	tk.now = now;
	tk.len = w.len;
	tk.segs = w.segs;
	tk.ahead = edt_horizon(prof);
	dep = buckets_take(&prof->cls[cls], &dd->tl[cls], &tk);
	if (!dep)
		fate = FATE_DROP;
	else if (edt_pace(skb, prof, cls, &pkt, now, dep))
		fate = FATE_MARK;
	count(&pc->ctr.cls[cls], &w, fate);
	return fate == FATE_DROP ? TC_ACT_SHOT : TC_ACT_UNSPEC;
}

/* A timeline moved by @d ns (two's complement), whoever moves it too. */
static __always_inline void tl_move(__u64 *tat, __u64 d)
{
	if (d)
		__sync_fetch_and_add(tat, d);
}

/*
 * Direction @d of @e as @a says (@d a constant: the verifier takes no
 * variable offset into the context).
 */
static __always_inline void set_dir(struct tcbpf_dev *e,
				    const struct tcbpf_set_args *a,
				    const int d)
{
	struct tcbpf_ddir *dd = &e->dir[d];
	int c;

	if (!(a->set & (1U << d)))
		return;
	if (dd->id != a->id[d]) {
		/* a new direction: nothing of an earlier one stays (what
		 * the caches hold of it has the old tag, and is handed in
		 * to nothing). A packet on another CPU meanwhile sees id 0:
		 * its counts go to a cache entry nobody hands in, its
		 * timelines may be half zeroed; a direction is given anew
		 * only by attach, which has not limited it until now. */
		WRITE_ONCE(dd->id, 0);
		barrier();
		__builtin_memset(dd->tl, 0, sizeof(dd->tl));
		__builtin_memset(&dd->ctr, 0, sizeof(dd->ctr));
		barrier();
		WRITE_ONCE(dd->id, a->id[d]);
	} else {
#pragma unroll
		for (c = 0; c < TCBPF_NCLASS; c++) {
			tl_move(&dd->tl[c].tat_bytes, a->tl_new[d][c].tat_bytes -
						     a->tl_old[d][c].tat_bytes);
			tl_move(&dd->tl[c].tat_pkts, a->tl_new[d][c].tat_pkts -
						    a->tl_old[d][c].tat_pkts);
		}
	}
#pragma unroll
	for (c = 0; c < TCBPF_NCLASS; c++)
		ctr_add(&dd->ctr.cls[c], &a->add[d].cls[c]);
	WRITE_ONCE(dd->flags, a->flags[d]);
	WRITE_ONCE(dd->pace_ifindex, a->pace_ifindex[d]);
	WRITE_ONCE(dd->prof, a->prof[d]);
}

/*
 * The CLI's one way to change an entry after attach (struct
 * tcbpf_set_args): profiles, flags, pacing ifb, directions and hook, in
 * place, so that what the CPUs add to the entry meanwhile is kept. Each
 * store is one aligned word: a packet sees a direction's old profile or
 * its new one.
 */
SEC("syscall")
int tcbpf_set(struct tcbpf_set_args *a)
{
	struct tcbpf_dev *e = ent_lookup(a->key.netns, a->key.ifindex, a->vni);

	if (!e) {
		a->ret = -2;	/* -ENOENT */
		return 0;
	}
	set_dir(e, a, TCBPF_INGRESS);
	set_dir(e, a, TCBPF_EGRESS);
	WRITE_ONCE(e->hook, a->hook);
	WRITE_ONCE(e->dirs, a->dirs);
	a->ret = 0;
	return 0;
}
