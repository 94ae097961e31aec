/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * tcbpf.h - the one header shared by the BPF programs and the CLI.
 *
 * Plain C with fixed-width kernel types and no includes: the BPF side gets
 * __u32 and friends from vmlinux.h, user space from <linux/types.h>.
 *
 * Map layout (all pinned under TCBPF_PIN_DIR, all with BTF):
 *
 *   tcbpf_cfg    HASH   struct tcbpf_key -> struct tcbpf_cfg
 *                settings of one device and direction, written only by the
 *                CLI; a missing entry means "no limiter": the packet passes.
 *   tcbpf_state  ARRAY  slot -> struct tcbpf_state
 *                the lock-free bucket timelines, indexed by cfg.slot, so a
 *                settings rewrite never resets or races with them.
 *   tcbpf_stats  PERCPU_ARRAY  slot -> struct tcbpf_stats
 *                passed / dropped counters, summed over CPUs by the CLI.
 */
#ifndef TCBPF_H
#define TCBPF_H

#define TCBPF_PIN_DIR		"/sys/fs/bpf/tcbpf"
#define TCBPF_MAX_SLOTS		4096	/* device-directions, two per device */
#define TCBPF_MAX_PORTS		16	/* allowlist entries per direction */

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
	TCBPF_MODE_EDT = 1,	/* stamp skb->tstamp, fq paces (egress) */
	TCBPF_MODE_MONITOR = 2,	/* count only */
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

/*
 * A device is named by its network namespace's cookie (SO_NETNS_COOKIE,
 * never reused while the machine runs) and its ifindex, which is only
 * unique within the namespace: two namespaces' ifindex 2 are two keys.
 */
struct tcbpf_key {
	__u64 netns;		/* namespace cookie */
	__u32 ifindex;
	__u32 dir;		/* enum tcbpf_dir */
};

struct tcbpf_port {
	__u16 lo;		/* inclusive range; a single port has lo == hi */
	__u16 hi;
	__u8 protos;		/* TCBPF_P_* */
	__u8 pad[3];
};

/*
 * One token bucket, as a GCRA: the operator's figures plus the derived
 * per-packet and burst costs in nanoseconds that the data path uses.
 * rate_bits_per_sec == 0 or pps == 0 means "no bucket of that kind".
 */
struct tcbpf_bucket_cfg {
	__u64 rate_bits_per_sec;
	__u64 burst_bytes;
	__u64 pps;
	__u64 pburst_pkts;
	__u64 burst_ns;		/* burst_bytes at rate, in ns (GCRA tau) */
	__u64 pkt_ns;		/* 1e9 / pps */
	__u64 pburst_ns;	/* pburst_pkts / pps, in ns */
};

struct tcbpf_cfg {
	__u32 slot;		/* index into tcbpf_state / tcbpf_stats */
	__u32 mode;		/* enum tcbpf_mode */
	__u32 hook;		/* enum tcbpf_hook, for show and detach */
	__u32 flags;		/* TCBPF_F_* */
	__u64 netns_ino;	/* the namespace's inode, for people and for
				 * finding it again (the key has its cookie) */
	__u64 delay_ns;		/* extra delay for the default class (EDT) */
	__u64 horizon_ns;	/* EDT: drop beyond now + horizon */
	__u64 ecn_ns;		/* EDT: mark CE beyond now + ecn_ns */
	__u32 nports;
	__u32 pad;
	struct tcbpf_port ports[TCBPF_MAX_PORTS];
	struct tcbpf_bucket_cfg cls[TCBPF_NCLASS];
	char ifname[16];	/* for people reading bpftool map dump */
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
};

struct tcbpf_stats {
	struct tcbpf_counters cls[TCBPF_NCLASS];
};

#endif /* TCBPF_H */
