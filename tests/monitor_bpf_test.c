// SPDX-License-Identifier: GPL-2.0-only
/*
 * monitor_bpf_test.c - monitor mode with a SPEC under BPF_PROG_TEST_RUN:
 * every packet passes, and what police with the same SPEC would have
 * dropped is counted as would-drop (packets and bytes, per class). And
 * the VXLAN underlay (TCBPF_F_VXLAN) that a monitor usually is: each
 * network (VNI) counted apart, a network's own limit policing it alone.
 *
 * A private copy of the skeleton (tests/testrun.h: no pins touched),
 * settings for ifindex 1 (lo), hand-built frames (tests/frames.h). Byte
 * buckets at 8 bit/s and packet buckets at 10 pps, so nothing refills
 * between two runs. Prints "PASS: name" / "FAIL: name: why" per case,
 * "SKIP: all: why" when not root; exits 1 on any failure.
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tcbpf.h"
#include "lib/bucket.h"
#include "frames.h"
#include "testrun.h"

#define LO_IFINDEX	1
#define WHY_LEN		256
#define SLOW_RATE	8	/* bits/s: a byte a second */
#define SLOW_PPS	10
#define ING		TCBPF_INGRESS
#define EGR		TCBPF_EGRESS
#define DEF		TCBPF_CLASS_DEFAULT
#define ALLOW		TCBPF_CLASS_ALLOW
#define ALLP		(TCBPF_P_TCP | TCBPF_P_UDP | TCBPF_P_SCTP)

#define FAILF(...)	(snprintf(why, WHY_LEN, __VA_ARGS__), -1)

static struct testrun tr;
static int ncases, nfail;

static const struct fspec f_def = IP4(UDP, 80, 80);
static const struct fspec f_def6 = IP6(UDP, 80, 80);
static const struct fspec f_allow = IP4(TCP, 22, 22);
static const struct tcbpf_port al_22[] = { { 22, 22, ALLP } };

static void report(const char *name, int err, const char *why)
{
	ncases++;
	if (!err) {
		printf("PASS: %s\n", name);
	} else {
		nfail++;
		printf("FAIL: %s: %s\n", name, why);
	}
	fflush(stdout);
}

/* Counters of @dir of lo (entry and caches), would-drop included. */
static int sum(__u32 dir, struct tcbpf_stats *s)
{
	return testrun_stats(&tr, LO_IFINDEX, dir, s);
}

/*
 * Fresh timelines and counters (lo's entry deleted: the direction comes
 * back with a new id, and every CPU's cache emptied); @dir's settings:
 * @mode, one bucket.
 */
static int setup(__u32 dir, __u32 mode, int cls, __u64 rate, __u64 burst,
		 __u64 pps, __u64 pburst, char *why)
{
	struct tcbpf_cfg c;

	testrun_cfg_del(&tr, LO_IFINDEX, ING);
	testrun_cfg_del(&tr, LO_IFINDEX, EGR);
	testrun_caches_zero(&tr);
	memset(&c, 0, sizeof(c));
	c.mode = mode;
	c.hook = TCBPF_HOOK_TC;
	strcpy(c.ifname, "lo");
	memcpy(c.ports, al_22, sizeof(al_22));
	c.nports = 1;
	bucket_from(&c.cls[cls], rate, burst, pps, pburst);
	if (testrun_cfg_put(&tr, LO_IFINDEX, dir, &c))
		return FAILF("writing cfg: %s", strerror(errno));
	return 0;
}

/* Run frames of @s padded to @lens through @dir; "P"/"D" into @got. */
static int seq(__u32 dir, const struct fspec *s, const __u16 *lens, int n,
	       char *got, char *why)
{
	struct __sk_buff ctx = { .ifindex = LO_IFINDEX };
	struct fspec sp = *s;
	struct frame f;
	int i;

	for (i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = 1);

		sp.len = lens[i];
		build(&f, &sp);
		o.data_in = f.b;
		o.data_size_in = f.len;
		if (bpf_prog_test_run_opts(tr.prog[dir], &o))
			return FAILF("test_run: %s", strerror(errno));
		got[i] = (int)o.retval == TC_ACT_SHOT ? 'D' : 'P';
	}
	got[n] = 0;
	return 0;
}

static int want_ctr(const struct tcbpf_counters *c, const char *cn,
		    __u64 pp, __u64 pb, __u64 wp, __u64 wb, char *why)
{
	if (c->pass_pkts != pp || c->pass_bytes != pb || c->drop_pkts ||
	    c->drop_bytes || c->wdrop_pkts != wp || c->wdrop_bytes != wb)
		return FAILF("%s: pass %llu/%llub drop %llu/%llub would-drop "
			     "%llu/%llub, want pass %llu/%llub drop 0 "
			     "would-drop %llu/%llub", cn, c->pass_pkts,
			     c->pass_bytes, c->drop_pkts, c->drop_bytes,
			     c->wdrop_pkts, c->wdrop_bytes, pp, pb, wp, wb);
	return 0;
}

/* Byte bucket of 3000 b: all five pass, the last two are would-drops. */
static int bytes_case(char *why)
{
	static const __u16 lens[] = { 1000, 1000, 1000, 1000, 1000 };
	struct tcbpf_stats s;
	char got[8];

	if (setup(EGR, TCBPF_MODE_MONITOR, DEF, SLOW_RATE, 3000, 0, 0, why) ||
	    seq(EGR, &f_def, lens, 5, got, why))
		return -1;
	if (strcmp(got, "PPPPP"))
		return FAILF("verdicts %s, want PPPPP", got);
	if (sum(EGR, &s))
		return FAILF("reading stats: %s", strerror(errno));
	if (want_ctr(&s.cls[DEF], "default", 5, 5000, 2, 2000, why) ||
	    want_ctr(&s.cls[ALLOW], "allow", 0, 0, 0, 0, why))
		return -1;
	return 0;
}

/*
 * The same frames under police and under monitor: the monitor's
 * would-drops are exactly police's drops, packet for packet and byte for
 * byte, over mixed sizes and an IPv6 frame.
 */
static int same_as_police_case(char *why)
{
	static const __u16 lens[] = { 1200, 300, 1500, 700, 60, 900, 100 };
	struct tcbpf_stats pol, mon;
	char got[8];
	int n = 7;

	if (setup(ING, TCBPF_MODE_POLICE, DEF, SLOW_RATE, 2500, 0, 0, why) ||
	    seq(ING, &f_def6, lens, n, got, why) || sum(ING, &pol))
		return -1;
	if (!pol.cls[DEF].drop_pkts || !pol.cls[DEF].pass_pkts)
		return FAILF("police verdicts %s: want some of each", got);
	if (pol.cls[DEF].wdrop_pkts || pol.cls[DEF].wdrop_bytes)
		return FAILF("police counted %llu would-drops",
			     pol.cls[DEF].wdrop_pkts);
	if (setup(ING, TCBPF_MODE_MONITOR, DEF, SLOW_RATE, 2500, 0, 0, why) ||
	    seq(ING, &f_def6, lens, n, got, why) || sum(ING, &mon))
		return -1;
	if (strcmp(got, "PPPPPPP"))
		return FAILF("monitor verdicts %s, want all P", got);
	return want_ctr(&mon.cls[DEF], "default", n,
			pol.cls[DEF].pass_bytes + pol.cls[DEF].drop_bytes,
			pol.cls[DEF].drop_pkts, pol.cls[DEF].drop_bytes, why);
}

/* Packet bucket of 10 pps, 3 packets: 3 of 6 would be dropped. */
static int pkts_case(char *why)
{
	static const __u16 lens[] = { 100, 100, 100, 100, 100, 100 };
	struct tcbpf_stats s;
	char got[8];
	int try;

	/* a stalled machine refills a token in 100 ms: try again */
	for (try = 0; try < 3; try++) {
		if (setup(ING, TCBPF_MODE_MONITOR, DEF, 0, 0, SLOW_PPS, 3,
			  why) || seq(ING, &f_def, lens, 6, got, why) ||
		    sum(ING, &s))
			return -1;
		if (s.cls[DEF].wdrop_pkts == 3)
			break;
	}
	return want_ctr(&s.cls[DEF], "default", 6, 600, 3, 300, why);
}

/* The allow class's own bucket: its would-drops are its own. */
static int allow_case(char *why)
{
	static const __u16 lens[] = { 800, 800, 800, 800 };
	struct tcbpf_stats s;
	char got[8];

	if (setup(ING, TCBPF_MODE_MONITOR, ALLOW, SLOW_RATE, 1600, 0, 0,
		  why) || seq(ING, &f_allow, lens, 4, got, why) ||
	    seq(ING, &f_def, lens, 4, got, why) || sum(ING, &s))
		return -1;
	if (want_ctr(&s.cls[ALLOW], "allow", 4, 3200, 2, 1600, why))
		return -1;
	/* no bucket in the default class: nothing it would drop */
	return want_ctr(&s.cls[DEF], "default", 4, 3200, 0, 0, why);
}

/*
 * A would-drop does not spend tokens: after the bucket refused, a frame
 * that fits what is left still passes the monitor's bucket.
 */
static int refusal_spends_nothing_case(char *why)
{
	static const __u16 lens[] = { 2000, 1500, 900 };
	struct tcbpf_stats s;
	char got[8];

	if (setup(EGR, TCBPF_MODE_MONITOR, DEF, SLOW_RATE, 3000, 0, 0, why) ||
	    seq(EGR, &f_def, lens, 3, got, why) || sum(EGR, &s))
		return -1;
	return want_ctr(&s.cls[DEF], "default", 3, 4400, 1, 1500, why);
}

/* ---- VXLAN underlay ------------------------------------------------------ */

static int vni_fd, vni_stats_fd;

/* A VXLAN frame: @s (UDP to the VXLAN port) with the 8-byte VXLAN header
 * of @vni and @flags after the UDP header. */
static void vx_frame(struct frame *f, const struct fspec *s, __u32 vni,
		     __u8 flags)
{
	__u8 *vx;

	build(f, s);
	vx = f->b + f->ports_end + 4;
	memset(vx, 0, 8);
	vx[0] = flags;
	vx[4] = vni >> 16;
	vx[5] = vni >> 8;
	vx[6] = vni;
}

static int run1(__u32 dir, const struct frame *f)
{
	struct __sk_buff ctx = { .ifindex = LO_IFINDEX };
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1,
		    .data_in = f->b, .data_size_in = f->len);

	if (bpf_prog_test_run_opts(tr.prog[dir], &o))
		return -errno;
	return (int)o.retval == TC_ACT_SHOT ? 'D' : 'P';
}

/* The network's counters of @dir summed over CPUs; zeroes when none. */
static int vni_sum(__u32 vni, __u32 dir, struct tcbpf_vni_dir *out)
{
	struct tcbpf_vni_key k = { .ifindex = LO_IFINDEX, .vni = vni };
	struct tcbpf_vni_ctr per[tr.ncpus];
	int cpu;

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(vni_stats_fd, &k, per))
		return -errno;
	for (cpu = 0; cpu < tr.ncpus; cpu++) {
		out->pass_pkts += per[cpu].dir[dir].pass_pkts;
		out->pass_bytes += per[cpu].dir[dir].pass_bytes;
		out->drop_pkts += per[cpu].dir[dir].drop_pkts;
		out->drop_bytes += per[cpu].dir[dir].drop_bytes;
	}
	return 0;
}

/* @dir of the device: an underlay on @port, monitor without buckets. */
static int vx_put(__u32 dir, __u16 port, char *why)
{
	struct tcbpf_cfg c;

	memset(&c, 0, sizeof(c));
	c.mode = TCBPF_MODE_MONITOR;
	c.flags = TCBPF_F_VXLAN;
	c.vxlan_port = port;
	strcpy(c.ifname, "lo");
	if (testrun_cfg_put(&tr, LO_IFINDEX, dir, &c))
		return FAILF("writing cfg: %s", strerror(errno));
	return 0;
}

/* No networks counted or limited; only @dir an underlay on @port. */
static int vx_setup(__u32 dir, __u16 port, char *why)
{
	struct tcbpf_vni_key k, next;

	while (!bpf_map_get_next_key(vni_stats_fd, NULL, &k))
		bpf_map_delete_elem(vni_stats_fd, &k);
	while (!bpf_map_get_next_key(vni_fd, NULL, &next))
		bpf_map_delete_elem(vni_fd, &next);
	if (setup(dir, TCBPF_MODE_MONITOR, DEF, 0, 0, 0, 0, why))
		return -1;
	return vx_put(dir, port, why);
}

static const struct fspec f_vx4 = IP4(UDP, 51234, 4789, .len = 1000);
static const struct fspec f_vx6 = IP6(UDP, 51234, 4789, .len = 1000);

/* Each network apart, IPv4 and IPv6 outside, both directions. */
static int vx_count_case(char *why)
{
	struct tcbpf_vni_dir c;
	struct frame f;
	int i;

	if (vx_setup(ING, 0, why) || vx_put(EGR, 0, why))
		return -1;
	for (i = 0; i < 3; i++) {
		vx_frame(&f, &f_vx4, 0xc9, 0x08);
		run1(ING, &f);
	}
	vx_frame(&f, &f_vx6, 0xc9, 0x08);
	run1(ING, &f);
	vx_frame(&f, &f_vx6, 0xffffff, 0x08);
	run1(EGR, &f);
	if (vni_sum(0xc9, ING, &c) || c.pass_pkts != 4 ||
	    c.pass_bytes != 4000 || c.drop_pkts)
		return FAILF("00c9 ingress: %llu pkts %llu bytes %llu dropped, "
			     "want 4, 4000, 0", c.pass_pkts, c.pass_bytes,
			     c.drop_pkts);
	if (vni_sum(0xc9, EGR, &c) || c.pass_pkts)
		return FAILF("00c9 egress: %llu pkts, want 0", c.pass_pkts);
	if (vni_sum(0xffffff, EGR, &c) || c.pass_pkts != 1)
		return FAILF("ffffff egress: %llu pkts, want 1", c.pass_pkts);
	return 0;
}

/* Not VXLAN: no VNI flag, another port, TCP, a non-underlay device. */
static int vx_not_case(char *why)
{
	static const struct fspec tcp = IP4(TCP, 51234, 4789, .len = 1000);
	static const struct fspec other = IP4(UDP, 51234, 4790, .len = 1000);
	struct tcbpf_vni_key k;
	struct frame f;

	if (vx_setup(ING, 0, why))
		return -1;
	vx_frame(&f, &f_vx4, 0xc9, 0x00);
	run1(ING, &f);
	vx_frame(&f, &tcp, 0xc9, 0x08);
	run1(ING, &f);
	vx_frame(&f, &other, 0xc9, 0x08);
	run1(ING, &f);
	if (!bpf_map_get_next_key(vni_stats_fd, NULL, &k))
		return FAILF("network %06x counted", k.vni);
	/* the device is no underlay: nothing counted either */
	if (setup(ING, TCBPF_MODE_MONITOR, DEF, 0, 0, 0, 0, why))
		return -1;
	vx_frame(&f, &f_vx4, 0xc9, 0x08);
	run1(ING, &f);
	if (!bpf_map_get_next_key(vni_stats_fd, NULL, &k))
		return FAILF("network %06x counted on a plain device", k.vni);
	/* "vxlan-port 4790": that port, and no longer 4789 */
	if (vx_setup(ING, 4790, why))
		return -1;
	vx_frame(&f, &f_vx4, 0xc9, 0x08);
	run1(ING, &f);
	vx_frame(&f, &other, 0xca, 0x08);
	run1(ING, &f);
	if (!bpf_map_get_next_key(vni_stats_fd, NULL, &k) && k.vni != 0xca)
		return FAILF("port 4790: network %06x counted, want 00ca", k.vni);
	if (bpf_map_get_next_key(vni_stats_fd, NULL, &k))
		return FAILF("port 4790: nothing counted");
	return 0;
}

/* A profile for the networks' own limits, apart from testrun_prof()'s. */
#define VNI_PROF	(TCBPF_MAX_PROFS - 1)

/*
 * @dir of network @vni of lo gets a limit of its own: an entry in
 * tcbpf_vni with id @id (0: a new one; fresh timelines and counters),
 * profile VNI_PROF: police, the default class at @rate/@burst.
 */
static int vni_limit_put(__u32 vni, __u32 dir, __u64 rate, __u64 burst,
			 __u64 id, char *why)
{
	struct tcbpf_vni_key k = { .ifindex = LO_IFINDEX, .vni = vni };
	struct tcbpf_dev dev = { .dirs = 1U << dir };
	struct tcbpf_prof p = { .mode = TCBPF_MODE_POLICE };
	__u32 pi = VNI_PROF;

	bucket_from(&p.cls[DEF], rate, burst, 0, 0);
	dev.dir[dir].id = id ? id : testrun_id(&tr);
	dev.dir[dir].prof = pi;
	if (bpf_map_update_elem(tr.prof_fd, &pi, &p, BPF_ANY) ||
	    bpf_map_update_elem(vni_fd, &k, &dev, BPF_ANY))
		return FAILF("writing the network's limit: %s",
			     strerror(errno));
	return 0;
}

/* The counters of @dir of network @vni's own limit: entry and caches. */
static int vni_limit_sum(__u32 vni, __u32 dir, struct tcbpf_stats *s)
{
	struct tcbpf_vni_key k = { .ifindex = LO_IFINDEX, .vni = vni };
	struct tcbpf_dev dev;

	memset(s, 0, sizeof(*s));
	if (bpf_map_lookup_elem(vni_fd, &k, &dev))
		return -errno;
	return testrun_ddir_stats(&tr, &dev.dir[dir], s);
}

/*
 * A network with a limit of its own (police 3000 b at 1 byte/s, its own
 * entry and id): its frames PPPDD; another network's and the device's
 * untouched.
 */
static int vx_limit_case(char *why)
{
	struct tcbpf_vni_key k = { .ifindex = LO_IFINDEX, .vni = 0xc9 };
	struct tcbpf_stats s;
	struct tcbpf_vni_dir c;
	char got[8] = "", other[8] = "";
	struct frame f;
	int i;

	if (vx_setup(ING, 0, why) ||
	    vni_limit_put(0xc9, ING, SLOW_RATE, 3000, 0, why))
		return -1;
	for (i = 0; i < 5; i++) {
		vx_frame(&f, &f_vx4, 0xc9, 0x08);
		got[i] = run1(ING, &f);
		vx_frame(&f, &f_vx4, 0xca, 0x08);
		other[i] = run1(ING, &f);
	}
	if (strcmp(got, "PPPDD"))
		return FAILF("00c9 verdicts %s, want PPPDD", got);
	if (strcmp(other, "PPPPP"))
		return FAILF("00ca verdicts %s, want PPPPP", other);
	if (vni_sum(0xc9, ING, &c) || c.pass_pkts != 3 || c.drop_pkts != 2 ||
	    c.drop_bytes != 2000)
		return FAILF("00c9 counted %llu passed %llu dropped (%llu b), "
			     "want 3, 2 (2000 b)", c.pass_pkts, c.drop_pkts,
			     c.drop_bytes);
	if (vni_limit_sum(0xc9, ING, &s) || s.cls[DEF].drop_pkts != 2 ||
	    s.cls[DEF].pass_pkts != 3)
		return FAILF("00c9's own limit: %llu passed %llu dropped, "
			     "want 3, 2", s.cls[DEF].pass_pkts,
			     s.cls[DEF].drop_pkts);
	if (sum(ING, &s) || s.cls[DEF].pass_pkts != 5 || s.cls[DEF].drop_pkts)
		return FAILF("the device's counters: %llu passed %llu dropped, "
			     "want 5, 0", s.cls[DEF].pass_pkts,
			     s.cls[DEF].drop_pkts);
	bpf_map_delete_elem(vni_fd, &k);
	return 0;
}

/* ---- the CPUs' caches (bpf/pcache.h) ------------------------------------ */

#define PC_IDX		21	/* the entry colliding ids share */

static cpu_set_t unpinned;	/* the CPUs before testrun_pin() */

/* @s is exactly @pp/@pb passed, @dp/@db dropped in the default class. */
static int want_exact(const struct tcbpf_stats *s, const char *who,
		      __u64 pp, __u64 pb, __u64 dp, __u64 db, char *why)
{
	struct tcbpf_stats w = {};

	w.cls[DEF].pass_pkts = pp;
	w.cls[DEF].pass_bytes = pb;
	w.cls[DEF].drop_pkts = dp;
	w.cls[DEF].drop_bytes = db;
	if (memcmp(s, &w, sizeof(w)))
		return FAILF("%s: default pass %llu/%llub drop %llu/%llub "
			     "wdrop %llu, allow %llu/%llu packets, want "
			     "default pass %llu/%llub drop %llu/%llub only",
			     who, s->cls[DEF].pass_pkts, s->cls[DEF].pass_bytes,
			     s->cls[DEF].drop_pkts, s->cls[DEF].drop_bytes,
			     s->cls[DEF].wdrop_pkts, s->cls[ALLOW].pass_pkts,
			     s->cls[ALLOW].drop_pkts, pp, pb, dp, db);
	return 0;
}

/*
 * A network's own limit (00c9: police 3000 b at 1 byte/s) and its
 * device's ingress (monitor, no bucket) with ids that share cache entry
 * PC_IDX: frames of 00c9 and 00ca in turn, on one CPU, each taking the
 * entry over from the other. The hand-ins go to the network's entry
 * (tcbpf_vni) and to the device's (tcbpf_cfg): each counts exactly its
 * own frames, and both entries did receive hand-ins.
 */
static int vx_collide_case(char *why)
{
	struct tcbpf_vni_key k = { .ifindex = LO_IFINDEX, .vni = 0xc9 };
	struct tcbpf_dev vdev;
	struct tcbpf_ddir dd;
	struct tcbpf_stats s;
	char got[11] = "", other[11] = "";
	struct frame f;
	int i, err;

	if (vx_setup(ING, 0, why))
		return -1;
	err = testrun_id_set(&tr, LO_IFINDEX, ING,
			     testrun_collide_id(&tr, PC_IDX));
	if (err)
		return FAILF("setting the device's id: %s", strerror(-err));
	if (vni_limit_put(0xc9, ING, SLOW_RATE, 3000,
			  testrun_collide_id(&tr, PC_IDX), why))
		return -1;
	if (testrun_pin(&unpinned) < 0)
		return FAILF("pinning to one CPU: %s", strerror(errno));
	for (i = 0; i < 10; i++) {
		vx_frame(&f, &f_vx4, 0xc9, 0x08);
		got[i] = run1(ING, &f);
		vx_frame(&f, &f_vx4, 0xca, 0x08);
		other[i] = run1(ING, &f);
	}
	testrun_unpin(&unpinned);
	if (strcmp(got, "PPPDDDDDDD"))
		return FAILF("00c9 verdicts %s, want PPPDDDDDDD", got);
	if (strcmp(other, "PPPPPPPPPP"))
		return FAILF("00ca verdicts %s, want all P", other);
	if (vni_limit_sum(0xc9, ING, &s))
		return FAILF("reading 00c9's counters: %s", strerror(errno));
	if (want_exact(&s, "00c9's own limit", 3, 3000, 7, 7000, why))
		return -1;
	if (sum(ING, &s))
		return FAILF("reading the device's counters: %s",
			     strerror(errno));
	if (want_exact(&s, "the device", 10, 10000, 0, 0, why))
		return -1;
	if (bpf_map_lookup_elem(vni_fd, &k, &vdev) ||
	    testrun_ddir(&tr, LO_IFINDEX, ING, &dd))
		return FAILF("reading the entries: %s", strerror(errno));
	if (!vdev.dir[ING].ctr.cls[DEF].drop_pkts ||
	    !dd.ctr.cls[DEF].pass_pkts)
		return FAILF("test bug: no hand-in to the network's entry "
			     "(%llu drops) or the device's (%llu passes)",
			     vdev.dir[ING].ctr.cls[DEF].drop_pkts,
			     dd.ctr.cls[DEF].pass_pkts);
	bpf_map_delete_elem(vni_fd, &k);
	return 0;
}

static int print_fn(enum libbpf_print_level level, const char *fmt,
		    va_list ap)
{
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

static const struct {
	const char *name;
	int (*fn)(char *why);
} cases[] = {
	{ "monitor: byte bucket, all pass, excess counted", bytes_case },
	{ "monitor: would-drops equal police's drops", same_as_police_case },
	{ "monitor: packet bucket would-drops", pkts_case },
	{ "monitor: allow class counts its own", allow_case },
	{ "monitor: a would-drop spends no tokens",
	  refusal_spends_nothing_case },
	{ "vxlan: each network counted apart, v4 and v6", vx_count_case },
	{ "vxlan: not vxlan, not counted; vxlan-port", vx_not_case },
	{ "vxlan: a network's own limit polices it alone", vx_limit_case },
	{ "vxlan: a network's limit and its device colliding in the cache",
	  vx_collide_case },
};

int main(void)
{
	char why[WHY_LEN] = "";
	size_t i;

	if (geteuid() != 0) {
		printf("SKIP: all: needs root for BPF_PROG_TEST_RUN\n");
		return 0;
	}
	libbpf_set_print(print_fn);
	if (testrun_load(&tr, why, WHY_LEN)) {
		report("load private skeleton", -1, why);
		testrun_close(&tr);
		return 1;
	}
	vni_fd = bpf_map__fd(tr.skel->maps.tcbpf_vni);
	vni_stats_fd = bpf_map__fd(tr.skel->maps.tcbpf_vni_stats);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		report(cases[i].name, cases[i].fn(why), why);
	testrun_close(&tr);
	printf("%d cases, %d failed\n", ncases, nfail);
	return nfail ? 1 : 0;
}
