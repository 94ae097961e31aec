/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * tcbpf.h - the one header shared by the BPF programs and the CLI.
 *
 * Plain C with fixed-width kernel types and no includes: the BPF side gets
 * __u32 and friends from vmlinux.h, user space from <linux/types.h>.
 *
 * Map layout (all pinned under TCBPF_PIN_DIR, all with BTF):
 *
 *   tcbpf_cfg    HASH   struct tcbpf_key -> struct tcbpf_dev
 *                settings of one device, both directions in one value, so
 *                that one bpf_map_update_elem() changes both at once (a
 *                reader sees the old value or the new, never a mix);
 *                written only by the CLI. A missing entry, or a direction
 *                not in dev.dirs, means "no limiter": the packet passes.
 *   tcbpf_state  ARRAY  slot -> struct tcbpf_state
 *                the lock-free bucket timelines, indexed by cfg.slot, so a
 *                settings rewrite never resets or races with them.
 *   tcbpf_stats  PERCPU_ARRAY  slot -> struct tcbpf_pcpu
 *                this CPU's counters (summed over CPUs by the CLI) and the
 *                tokens it took from the timelines in a batch (police).
 *   tcbpf_vni    HASH   struct tcbpf_vni_key -> struct tcbpf_dev
 *                a limit on one VXLAN network of a VXLAN underlay device
 *                (TCBPF_F_VXLAN): its own settings and slots, as a device.
 *   tcbpf_vni_stats  LRU_PERCPU_HASH  struct tcbpf_vni_key -> tcbpf_vni_ctr
 *                what each VXLAN network carried on such a device, every
 *                network seen (entries made by the programs; the least
 *                recently seen go first when it is full).
 */
#ifndef TCBPF_H
#define TCBPF_H

#define TCBPF_PIN_DIR		"/sys/fs/bpf/tcbpf"
/*
 * The maps' layout: bump it with ANY change to the structs below or to the
 * maps (bpf/maps.h), and teach user/lib/upgrade.c's conversion the change:
 * pinned maps of an older layout are migrated to this one, live. Layout
 * 1 (tcbpf 0.1) is frozen in user/lib/layout_v1.h; 2 is layout 1's
 * structs plus the tcbpf_info pin that names the layout (user/kern/obj.h).
 */
#define TCBPF_LAYOUT		2
#define TCBPF_MAX_DEVS		2048	/* devices with settings */
#define TCBPF_MAX_SLOTS		4096	/* device-directions, two per device */
#define TCBPF_MAX_PORTS		16	/* allowlist entries per direction */
#define TCBPF_MAX_VNIS		1024	/* VXLAN networks with a limit */
#define TCBPF_MAX_VNI_STATS	4096	/* VXLAN networks counted (per-CPU,
					 * preallocated: 64 B x CPUs each) */
#define TCBPF_VXLAN_PORT	4789	/* IANA's, Linux's default dstport */

/* cls_bpf filter identity: tcbpf only ever touches this handle/priority. */
#define TCBPF_TC_HANDLE		0x7cbf
#define TCBPF_TC_PRIO		0x7cbf

enum tcbpf_dir {
	TCBPF_INGRESS = 0,	/* arriving on the device: FROM the VM */
	TCBPF_EGRESS = 1,	/* leaving through the device: TO the VM */
	TCBPF_NDIR,
};

enum tcbpf_class {
	TCBPF_CLASS_DEFAULT = 0,
	TCBPF_CLASS_ALLOW = 1,	/* allowlisted port on the VM side, ARP, ND */
	TCBPF_NCLASS,
};

enum tcbpf_mode {
	TCBPF_MODE_POLICE = 0,	/* drop what exceeds the buckets */
	TCBPF_MODE_EDT = 1,	/* stamp skb->tstamp, fq paces (ingress: on
				 * the pacing ifb) */
	TCBPF_MODE_MONITOR = 2,	/* count only, and what police would drop */
};

enum tcbpf_hook {
	TCBPF_HOOK_NONE = 0,
	TCBPF_HOOK_TC = 1,	/* clsact + cls_bpf direct-action */
	TCBPF_HOOK_TCX = 2,	/* tcx link (kernel >= 6.6) */
};

/* Protocol bits of an allowlist entry. */
#define TCBPF_P_TCP		(1U << 0)
#define TCBPF_P_UDP		(1U << 1)
#define TCBPF_P_SCTP		(1U << 2)

/* cfg.flags */
#define TCBPF_F_OWN_CLSACT	(1U << 0)	/* tcbpf created the clsact qdisc */
#define TCBPF_F_OWN_FQ		(1U << 1)	/* tcbpf installed fq as root qdisc */
#define TCBPF_F_NO_FQ		(1U << 2)	/* EDT wanted, no fq: policing */
#define TCBPF_F_LATENCY_SET	(1U << 3)	/* horizon_ns given, not derived */
#define TCBPF_F_ECN_SET		(1U << 4)	/* ecn_ns given, not derived */
#define TCBPF_F_TREE_KEPT	(1U << 5)	/* EDT wanted, root qdisc tree kept: policing */
#define TCBPF_F_VXLAN		(1U << 6)	/* a VXLAN underlay: count per VNI */
#define TCBPF_F_NO_IFB		(1U << 7)	/* ingress EDT wanted, no ifb: policing
						 * (with TCBPF_F_NO_FQ, its reason) */

/* The shared pacing device of ingress EDT, one per network namespace. */
#define TCBPF_PACE_IFNAME	"tcbpf-ifb0"

/*
 * A device is named by its network namespace's cookie (SO_NETNS_COOKIE,
 * never reused while the machine runs) and its ifindex, which is only
 * unique within the namespace: two namespaces' ifindex 2 are two keys.
 */
struct tcbpf_key {
	__u64 netns;		/* namespace cookie */
	__u32 ifindex;
	__u32 pad;		/* zero */
};

struct tcbpf_port {
	__u16 lo;		/* inclusive range; a single port has lo == hi */
	__u16 hi;
	__u8 protos;		/* TCBPF_P_* */
	__u8 pad[3];
};

/*
 * One token bucket, as a GCRA: the operator's figures plus what the data
 * path uses, derived once by user/lib/bucket.c: the burst and the cost of
 * a packet in nanoseconds, the cost of a byte as a fixed-point multiplier
 * (no division per packet) and the batch a CPU takes from the shared
 * timeline at once when policing. rate_bits_per_sec == 0 or pps == 0
 * means "no bucket of that kind".
 */
struct tcbpf_bucket_cfg {
	__u64 burst_ns;		/* burst_bytes at rate, in ns (GCRA tau) */
	__u64 byte_ns;		/* ns per byte: 8e9 / rate, whole part ... */
	__u32 byte_ns_frac;	/* ... and fraction in 2^-32 ns, rounded up */
	__u32 batch_bytes;	/* police: bytes a CPU takes at once, 0 none */
	__u32 batch_ns;		/* their cost (<= burst_ns / 4 / CPUs) */
	__u32 batch_pkts;	/* police: packets a CPU takes at once, 0 none */
	__u64 ns_bytes;		/* bytes per ns, 2^-32 bytes, rounded down */
	__u64 pkt_ns;		/* 1e9 / pps */
	__u64 pburst_ns;	/* pburst_pkts / pps, in ns */
	__u64 batch_pns;	/* cost of batch_pkts */
	__u64 ns_pkts;		/* packets per ns, 2^-32 packets, rounded down */
	__u64 rate_bits_per_sec;	/* the operator's figures */
	__u64 burst_bytes;
	__u64 pps;
	__u64 pburst_pkts;
};

/*
 * The settings of one direction of a device. What every packet reads
 * comes first (the slot, the mode, the buckets' costs), what only EDT
 * and the classifier read after, what only people and the CLI read last.
 */
struct tcbpf_cfg {
	__u32 slot;		/* index into tcbpf_state / tcbpf_stats */
	__u32 mode;		/* enum tcbpf_mode */
	__u32 nports;
	__u32 flags;		/* TCBPF_F_* */
	struct tcbpf_bucket_cfg cls[TCBPF_NCLASS];
	__u64 delay_ns;		/* extra delay for the default class (EDT) */
	__u64 horizon_ns;	/* EDT: drop beyond now + horizon */
	__u64 ecn_ns;		/* EDT: mark CE beyond now + ecn_ns */
	struct tcbpf_port ports[TCBPF_MAX_PORTS];
	__u32 hook;		/* enum tcbpf_hook, for show and detach */
	__u16 vxlan_port;	/* TCBPF_F_VXLAN: UDP port, 0 = 4789 */
	__u16 pad;
	__u32 pace_ifindex;	/* ingress EDT: the pacing ifb the default
				 * class is redirected to, 0 none */
	__u32 pad2;
	__u64 netns_ino;	/* the namespace's inode, for people and for
				 * finding it again (the key has its cookie) */
	char ifname[16];	/* for people reading bpftool map dump */
};

/* The value of a device's entry: the settings of each direction. */
struct tcbpf_dev {
	__u32 dirs;		/* bit 1 << dir: that direction has settings */
	__u32 pad;
	struct tcbpf_cfg dir[TCBPF_NDIR];
};

/* Theoretical arrival times (ns, CLOCK_MONOTONIC) of one class. */
struct tcbpf_bucket_state {
	__u64 tat_bytes;
	__u64 tat_pkts;
};

struct tcbpf_state {
	struct tcbpf_bucket_state cls[TCBPF_NCLASS];
};

struct tcbpf_counters {
	__u64 pass_pkts;
	__u64 pass_bytes;
	__u64 drop_pkts;
	__u64 drop_bytes;
	__u64 mark_pkts;	/* EDT: CE marks */
	__u64 wdrop_pkts;	/* monitor: passed, the SPEC would drop */
	__u64 wdrop_bytes;	/* (also counted as passed) */
};

struct tcbpf_stats {
	struct tcbpf_counters cls[TCBPF_NCLASS];
};

/*
 * Tokens one CPU took from a class's timelines in a batch and has not
 * spent yet (police mode): bytes and packets, see bpf/bucket.h.
 */
struct tcbpf_local {
	__u32 bytes;
	__u32 pkts;
};

/* One CPU's share of a slot. */
struct tcbpf_pcpu {
	struct tcbpf_counters cls[TCBPF_NCLASS];
	struct tcbpf_local tok[TCBPF_NCLASS];
};

/* One VXLAN network (24-bit VNI) of one device. */
struct tcbpf_vni_key {
	__u64 netns;
	__u32 ifindex;
	__u32 vni;
};

/* What one VXLAN network carried, per direction (this CPU's share). */
struct tcbpf_vni_dir {
	__u64 pass_pkts;	/* whole outer frames, as the device sees them */
	__u64 pass_bytes;
	__u64 drop_pkts;	/* by the network's own limit */
	__u64 drop_bytes;
};

struct tcbpf_vni_ctr {
	struct tcbpf_vni_dir dir[TCBPF_NDIR];
};

#endif /* TCBPF_H */
