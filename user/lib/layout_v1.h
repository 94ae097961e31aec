/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * layout_v1.h - map layout 1, frozen: what tcbpf 0.1 (git tag v0.1) pinned.
 *
 * Never edit these structs: they describe maps that older releases left
 * pinned on hosts. user/lib/upgrade.c reads such maps through them and
 * converts every entry to the current layout (include/tcbpf.h) in one
 * function, layout1_convert(). Layout 1 had no tcbpf_info map; it is
 * recognised by its maps' key and value sizes.
 *
 *   tcbpf_cfg        HASH   tcbpf_v1_key -> tcbpf_v1_dev     (TCBPF_V1_MAX_DEVS)
 *   tcbpf_state      ARRAY  __u32 slot -> tcbpf_v1_state     (TCBPF_V1_MAX_SLOTS)
 *   tcbpf_stats      PERCPU_ARRAY  slot -> tcbpf_v1_pcpu
 *   tcbpf_vni        HASH   tcbpf_v1_vni_key -> tcbpf_v1_dev  (TCBPF_V1_MAX_VNIS)
 *   tcbpf_vni_stats  LRU_PERCPU_HASH  tcbpf_v1_vni_key -> tcbpf_v1_vni_ctr
 */
#ifndef TCBPF_LAYOUT_V1_H
#define TCBPF_LAYOUT_V1_H

#define TCBPF_V1_MAX_DEVS	2048
#define TCBPF_V1_MAX_SLOTS	4096
#define TCBPF_V1_MAX_PORTS	16
#define TCBPF_V1_MAX_VNIS	1024
#define TCBPF_V1_NCLASS		2
#define TCBPF_V1_NDIR		2

struct tcbpf_v1_key {
	__u64 netns;		/* namespace cookie */
	__u32 ifindex;
	__u32 pad;		/* zero */
};

struct tcbpf_v1_port {
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
struct tcbpf_v1_bucket_cfg {
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
struct tcbpf_v1_cfg {
	__u32 slot;		/* index into tcbpf_state / tcbpf_stats */
	__u32 mode;		/* enum tcbpf_mode */
	__u32 nports;
	__u32 flags;		/* TCBPF_F_* */
	struct tcbpf_v1_bucket_cfg cls[TCBPF_V1_NCLASS];
	__u64 delay_ns;		/* extra delay for the default class (EDT) */
	__u64 horizon_ns;	/* EDT: drop beyond now + horizon */
	__u64 ecn_ns;		/* EDT: mark CE beyond now + ecn_ns */
	struct tcbpf_v1_port ports[TCBPF_V1_MAX_PORTS];
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
struct tcbpf_v1_dev {
	__u32 dirs;		/* bit 1 << dir: that direction has settings */
	__u32 pad;
	struct tcbpf_v1_cfg dir[TCBPF_V1_NDIR];
};

/* Theoretical arrival times (ns, CLOCK_MONOTONIC) of one class. */
struct tcbpf_v1_bucket_state {
	__u64 tat_bytes;
	__u64 tat_pkts;
};

struct tcbpf_v1_state {
	struct tcbpf_v1_bucket_state cls[TCBPF_V1_NCLASS];
};

struct tcbpf_v1_counters {
	__u64 pass_pkts;
	__u64 pass_bytes;
	__u64 drop_pkts;
	__u64 drop_bytes;
	__u64 mark_pkts;	/* EDT: CE marks */
	__u64 wdrop_pkts;	/* monitor: passed, the SPEC would drop */
	__u64 wdrop_bytes;	/* (also counted as passed) */
};

struct tcbpf_v1_stats {
	struct tcbpf_v1_counters cls[TCBPF_V1_NCLASS];
};

/*
 * Tokens one CPU took from a class's timelines in a batch and has not
 * spent yet (police mode): bytes and packets, see bpf/bucket.h.
 */
struct tcbpf_v1_local {
	__u32 bytes;
	__u32 pkts;
};

/* One CPU's share of a slot. */
struct tcbpf_v1_pcpu {
	struct tcbpf_v1_counters cls[TCBPF_V1_NCLASS];
	struct tcbpf_v1_local tok[TCBPF_V1_NCLASS];
};

/* One VXLAN network (24-bit VNI) of one device. */
struct tcbpf_v1_vni_key {
	__u64 netns;
	__u32 ifindex;
	__u32 vni;
};

/* What one VXLAN network carried, per direction (this CPU's share). */
struct tcbpf_v1_vni_dir {
	__u64 pass_pkts;	/* whole outer frames, as the device sees them */
	__u64 pass_bytes;
	__u64 drop_pkts;	/* by the network's own limit */
	__u64 drop_bytes;
};

struct tcbpf_v1_vni_ctr {
	struct tcbpf_v1_vni_dir dir[TCBPF_V1_NDIR];
};

#endif /* TCBPF_LAYOUT_V1_H */
