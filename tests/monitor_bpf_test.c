// SPDX-License-Identifier: GPL-2.0-only
/*
 * monitor_bpf_test.c - monitor mode with a SPEC under BPF_PROG_TEST_RUN:
 * every packet passes, and what police with the same SPEC would have
 * dropped is counted as would-drop (packets and bytes, per class).
 *
 * A private copy of the skeleton (tests/testrun.h: no pins touched),
 * settings for ifindex 1 (lo), hand-built frames (tests/frames.h). Byte
 * buckets at 8 bit/s and packet buckets at 10 pps, so nothing refills
 * between two runs. Prints "PASS: name" / "FAIL: name: why" per case,
 * "SKIP: all: why" when not root; exits 1 on any failure.
 */
#include <errno.h>
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

/* Counters of @slot summed over CPUs, would-drop included. */
static int sum(__u32 slot, struct tcbpf_stats *s)
{
	int cpu, c;

	memset(s, 0, sizeof(*s));
	if (bpf_map_lookup_elem(tr.stats_fd, &slot, tr.percpu))
		return -errno;
	for (cpu = 0; cpu < tr.ncpus; cpu++) {
		for (c = 0; c < TCBPF_NCLASS; c++) {
			const struct tcbpf_counters *p = &tr.percpu[cpu].cls[c];
			struct tcbpf_counters *o = &s->cls[c];

			o->pass_pkts += p->pass_pkts;
			o->pass_bytes += p->pass_bytes;
			o->drop_pkts += p->drop_pkts;
			o->drop_bytes += p->drop_bytes;
			o->wdrop_pkts += p->wdrop_pkts;
			o->wdrop_bytes += p->wdrop_bytes;
		}
	}
	return 0;
}

/* Fresh timelines and counters; @dir's settings: @mode, one bucket. */
static int setup(__u32 dir, __u32 mode, int cls, __u64 rate, __u64 burst,
		 __u64 pps, __u64 pburst, char *why)
{
	struct tcbpf_state st = {};
	struct tcbpf_cfg c;
	__u32 slot;

	testrun_cfg_del(&tr, LO_IFINDEX, ING);
	testrun_cfg_del(&tr, LO_IFINDEX, EGR);
	for (slot = 0; slot < TCBPF_NDIR; slot++) {
		bpf_map_update_elem(tr.state_fd, &slot, &st, BPF_ANY);
		testrun_stats_zero(&tr, slot);
	}
	memset(&c, 0, sizeof(c));
	c.slot = dir;
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
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		report(cases[i].name, cases[i].fn(why), why);
	testrun_close(&tr);
	printf("%d cases, %d failed\n", ncases, nfail);
	return nfail ? 1 : 0;
}
