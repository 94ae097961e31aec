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
 *                one device: which profile each direction has, its
 *                timelines and its counters, shared by the CPUs (layout
 *                3: one entry a device, no array sized for the most
 *                devices). Made by attach, deleted by detach; in between
 *                the CLI changes it only in place, with tcbpf_set. A
 *                missing entry, or a direction not in dev.dirs, means "no
 *                limiter": the packet passes.
 *   tcbpf_prof   ARRAY  index -> struct tcbpf_prof
 *                the settings, one profile for all the device directions
 *                that have the same: a change writes a free profile and
 *                points the entry at it, so a reader sees the old
 *                settings or the new, never a mix.
 *   tcbpf_pcache PERCPU_ARRAY  id % TCBPF_PCACHE -> struct tcbpf_pc
 *                each CPU's counts not yet handed in to an entry, and the
 *                tokens it took from the timelines in a batch (police):
 *                the CPUs of one device share no cache line per packet.
 *                What a device counted is its entry plus the caches that
 *                hold its tag (user/lib/maps.c).
 *   tcbpf_vni    HASH   struct tcbpf_vni_key -> struct tcbpf_dev
 *                a limit on one VXLAN network of a VXLAN underlay device
 *                (TCBPF_F_VXLAN): its own profile, timelines and counters,
 *                as a device.
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
#define TCBPF_LAYOUT		3
#define TCBPF_MAX_DEVS		2048	/* devices with settings */
#define TCBPF_MAX_PROFS		64	/* distinct settings in use at once */
#define TCBPF_PCACHE		64	/* entries of each CPU's cache, 2^n */
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

/*
 * Flags of the device rather than of its settings: what tcbpf made there
 * and what it could not have. The CLI reads them, the programs do not;
 * they stay in the device's entry (struct tcbpf_ddir), out of the
 * profiles, which the rest are part of.
 */
#define TCBPF_F_DEV		(TCBPF_F_OWN_CLSACT | TCBPF_F_OWN_FQ | \
				 TCBPF_F_NO_FQ | TCBPF_F_TREE_KEPT | \
				 TCBPF_F_NO_IFB)

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
 * Declare MEMBERS both as a struct of their own, struct TAG, called NAME,
 * and in place (the kernel's struct_group_tagged(), include/uapi/linux/
 * stddef.h): cfg->mode and cfg->prof.mode are the same bytes.
 */
#define TCBPF_GROUP(TAG, NAME, MEMBERS...)				\
	union {								\
		struct { MEMBERS };					\
		struct TAG { MEMBERS } NAME;				\
	}

/*
 * Settings, as the programs read them: a profile (tcbpf_prof), shared by
 * every device direction that has the same ones. What every packet reads
 * comes first (the mode, the buckets' costs), what only EDT and the
 * classifier read after.
 */
#define TCBPF_PROF_MEMBERS						\
	__u32 mode;		/* enum tcbpf_mode */			\
	__u32 nports;							\
	__u32 flags;		/* TCBPF_F_* */				\
	__u16 vxlan_port;	/* TCBPF_F_VXLAN: UDP port, 0 = 4789 */	\
	__u16 prof_pad;							\
	struct tcbpf_bucket_cfg cls[TCBPF_NCLASS];			\
	__u64 delay_ns;		/* extra delay for the default class (EDT) */ \
	__u64 horizon_ns;	/* EDT: drop beyond now + horizon */	\
	__u64 ecn_ns;		/* EDT: mark CE beyond now + ecn_ns */	\
	struct tcbpf_port ports[TCBPF_MAX_PORTS];

/*
 * The settings of one direction of a device as the CLI handles them: its
 * profile's, in place, and the device's own (not in any map as such:
 * user/lib/maps.c splits and joins them).
 */
struct tcbpf_cfg {
	TCBPF_GROUP(tcbpf_prof, prof, TCBPF_PROF_MEMBERS);
	__u64 id;		/* the direction's id (struct tcbpf_ddir) */
	__u32 hook;		/* enum tcbpf_hook, for show and detach */
	__u32 pace_ifindex;	/* ingress EDT: the pacing ifb the default
				 * class is redirected to, 0 none */
	__u64 netns_ino;	/* the namespace's inode, for people and for
				 * finding it again (the key has its cookie) */
	char ifname[16];	/* for people reading bpftool map dump */
};

/* Theoretical arrival times (ns, CLOCK_MONOTONIC) of one class. */
struct tcbpf_bucket_state {
	__u64 tat_bytes;
	__u64 tat_pkts;
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
 * One direction of a device in its entry: which profile, and what the
 * programs keep for it: the timelines (the CPUs move them with
 * compare-and-swap) and the counters the CPUs' caches have handed in.
 * The CLI writes prof and pace_ifindex in place (tcbpf_set), never the
 * rest, so a settings change loses no count and no debt.
 */
struct tcbpf_ddir {
	__u64 id;		/* this direction's tag in the CPUs' caches:
				 * random, never 0, new with each attach */
	__u16 prof;		/* index into tcbpf_prof */
	__u16 flags;		/* the device's own TCBPF_F_DEV flags */
	__u32 pace_ifindex;	/* ingress EDT: the pacing ifb, 0 none */
	struct tcbpf_bucket_state tl[TCBPF_NCLASS];
	struct tcbpf_stats ctr;
};

/* The value of a device's entry (and of a VXLAN network's with a limit). */
struct tcbpf_dev {
	__u32 dirs;		/* bit 1 << dir: that direction has settings */
	__u32 hook;		/* enum tcbpf_hook, for show and detach */
	struct tcbpf_ddir dir[TCBPF_NDIR];
	__u64 netns_ino;	/* see struct tcbpf_cfg */
	char ifname[16];
};

/*
 * Tokens one CPU took from a class's timelines in a batch and has not
 * spent yet (police mode): bytes and packets, see bpf/bucket.h.
 */
struct tcbpf_local {
	__u32 bytes;
	__u32 pkts;
};

/*
 * One entry of a CPU's cache (tcbpf_pcache): what this CPU counted for
 * one device direction and has not handed in to the entry yet, and the
 * tokens it holds. The tag (struct tcbpf_ddir's id) t sits at t %
 * TCBPF_PCACHE; a packet of another tag there hands this one in (to the
 * entry its key finds, if it still has that tag) and takes it over. seq
 * is odd while that happens, for readers (user/lib/maps.c).
 */
struct tcbpf_pc {
	__u64 tag;		/* the owner's id; 0 free */
	__u32 seq;
	__u32 vni;		/* the owner: 0 a device, else VNI + 1 ... */
	struct tcbpf_key key;	/* ... of this device; key.pad: its dir */
	struct tcbpf_local tok[TCBPF_NCLASS];
	struct tcbpf_stats ctr;
};

/*
 * tcbpf_set's argument (a BPF_PROG_TYPE_SYSCALL program the CLI runs):
 * point directions of the entry of @key (@vni: 0 a device, else VNI + 1)
 * at other profiles in place, set their own flags, and move their
 * timelines by what a rate change asks (user/lib/bucket.c's rescale,
 * computed by the CLI from the timelines it read: @tl_old is what it
 * read, @tl_new what it wants; a timeline another CPU moved meanwhile is
 * moved by the same difference).
 */
struct tcbpf_set_args {
	struct tcbpf_key key;
	__u32 vni;
	__u32 dirs;		/* the entry's dirs from now on */
	__u32 set;		/* the directions whose profile, pacing ifb
				 * and timelines to write (a direction new
				 * in dirs starts from zero) */
	__u32 hook;		/* the entry's hook from now on */
	__u64 id[TCBPF_NDIR];	/* the directions' ids from now on; a
				 * direction of set keeps its timelines and
				 * counters only when its id stays */
	__u32 prof[TCBPF_NDIR];
	__u32 flags[TCBPF_NDIR];	/* TCBPF_F_DEV */
	__u32 pace_ifindex[TCBPF_NDIR];
	struct tcbpf_bucket_state tl_old[TCBPF_NDIR][TCBPF_NCLASS];
	struct tcbpf_bucket_state tl_new[TCBPF_NDIR][TCBPF_NCLASS];
	/* added to the directions' counters (an upgrade's late counts) */
	struct tcbpf_stats add[TCBPF_NDIR];
	__s32 ret;		/* 0, or -ENOENT (no such entry) */
	__u32 pad;
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
