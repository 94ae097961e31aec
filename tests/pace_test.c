// SPDX-License-Identifier: GPL-2.0-only
/*
 * pace_test.c - ingress EDT's two halves under BPF_PROG_TEST_RUN:
 *
 *   tcbpf_ingress in ingress EDT mode redirects the default class to the
 *   pacing ifb (TC_ACT_REDIRECT, uncounted: the pacer counts), polices the
 *   allow class, and polices everything when no ifb is set;
 *   tcbpf_pace, run as the ifb's egress program with the VM's device in
 *   ctx.ingress_ifindex (skb_iif), takes that device's ingress timelines:
 *   departure stamps, horizon drops, ECN marks and counters.
 *
 * A private copy of the skeleton (tests/testrun.h), ingress settings for
 * ifindex 1 (lo, the only device test_run is sure to find). Prints
 * "PASS: name" / "FAIL: name: why" per case, "SKIP: all: why" when not
 * root; exits 1 on any failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tcbpf.h"
#include "lib/bucket.h"
#include "frames.h"
#include "testrun.h"

#define NSEC_PER_SEC	1000000000ULL
#define LO_IFINDEX	1
#define PACE_IFINDEX	1	/* the ifb stand-in: test_run never redirects */
#define NO_DEV		7777	/* an ifindex with no settings */
#define WHY_LEN		256
#define EPH		40000
#define ING		TCBPF_INGRESS
#define DEF		TCBPF_CLASS_DEFAULT
#define ALLOW		TCBPF_CLASS_ALLOW

#define FAILF(...)	(snprintf(why, WHY_LEN, __VA_ARGS__), -1)

static struct testrun tr;
static int pace_fd, ncases, nfail;

/* From the VM: its port is the source port; 22 is allowlisted. */
static const struct fspec f_def = IP4(UDP, EPH, 80);
static const struct fspec f_allow = IP4(TCP, 22, EPH);
static const struct tcbpf_port al_22[] = {
	{ 22, 22, TCBPF_P_TCP | TCBPF_P_UDP },
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

struct run {
	int retval;
	struct __sk_buff ctx;
	__u8 out[FRAME_BUF];
	__u32 out_len;
};

/* One frame through @prog with @iif as the skb's ingress device. */
static int run(int prog, const struct frame *f, __u32 iif, struct run *r)
{
	struct __sk_buff ctx = { .ifindex = LO_IFINDEX,
				 .ingress_ifindex = iif };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = f->b, .data_size_in = f->len,
		.data_out = r->out, .data_size_out = sizeof(r->out),
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		.ctx_out = &r->ctx, .ctx_size_out = sizeof(r->ctx),
		.repeat = 1,
	);
	int err;

	memset(&r->ctx, 0, sizeof(r->ctx));
	err = bpf_prog_test_run_opts(prog, &opts);
	r->retval = (int)opts.retval;
	r->out_len = opts.data_size_out;
	return err ? -errno : 0;
}

/*
 * No settings on lo (its entry deleted: the next put() gives its ingress a
 * new id, so fresh timelines and counters), every CPU's cache empty.
 */
static void reset(void)
{
	testrun_cfg_del(&tr, LO_IFINDEX, ING);
	testrun_cfg_del(&tr, LO_IFINDEX, TCBPF_EGRESS);
	testrun_caches_zero(&tr);
}

/* The timelines of lo's ingress, both classes, from its entry. */
static int tl_read(struct tcbpf_bucket_state tl[TCBPF_NCLASS])
{
	struct tcbpf_ddir dd;
	int err = testrun_ddir(&tr, LO_IFINDEX, ING, &dd);

	memcpy(tl, dd.tl, sizeof(dd.tl));
	return err;
}

/* Ingress settings of lo: @mode, default class at @rate/@burst. */
static int put(__u32 mode, __u64 rate, __u64 burst, __u64 horizon,
	       __u64 ecn, __u32 pace_ifindex, char *why)
{
	struct tcbpf_cfg c;

	memset(&c, 0, sizeof(c));
	c.mode = mode;
	c.hook = TCBPF_HOOK_TC;
	c.horizon_ns = horizon;
	c.ecn_ns = ecn;
	c.pace_ifindex = pace_ifindex;
	memcpy(c.ports, al_22, sizeof(al_22));
	c.nports = 1;
	strcpy(c.ifname, "lo");
	bucket_from(&c.cls[DEF], rate, burst, 0, 0);
	bucket_from(&c.cls[ALLOW], 8000, 1000, 0, 0);
	if (testrun_cfg_put(&tr, LO_IFINDEX, ING, &c))
		return FAILF("writing cfg: %s", strerror(errno));
	return 0;
}

static int counters(int cls, struct tcbpf_counters *out, char *why)
{
	struct tcbpf_stats s;

	if (testrun_stats(&tr, LO_IFINDEX, ING, &s))
		return FAILF("reading stats: %s", strerror(errno));
	*out = s.cls[cls];
	return 0;
}

/*
 * The tap's side: default class redirected to the ifb and not counted
 * there; allow class policed at the tap (its own 1000-byte bucket: the
 * second 1000-byte frame is dropped) and never redirected.
 */
static int redirect_case(char *why)
{
	struct tcbpf_counters c;
	struct fspec s;
	struct frame f;
	struct run r;
	int i, prog = tr.prog[ING];

	reset();
	if (put(TCBPF_MODE_EDT, 8000, 2000, NSEC_PER_SEC, 0, PACE_IFINDEX, why))
		return -1;
	build(&f, &f_def);
	for (i = 0; i < 5; i++)
		if (run(prog, &f, 0, &r) || r.retval != TC_ACT_REDIRECT)
			return FAILF("default frame %d: verdict %d, want "
				     "redirect", i, r.retval);
	if (counters(DEF, &c, why))
		return -1;
	if (c.pass_pkts || c.drop_pkts)
		return FAILF("the tap counted redirected frames (%llu/%llu)",
			     c.pass_pkts, c.drop_pkts);
	s = f_allow;
	s.len = 1000;
	build(&f, &s);
	if (run(prog, &f, 0, &r) || r.retval != TC_ACT_UNSPEC)
		return FAILF("allow frame 0: verdict %d, want pass", r.retval);
	if (run(prog, &f, 0, &r) || r.retval != TC_ACT_SHOT)
		return FAILF("allow frame 1: verdict %d, want policed",
			     r.retval);
	if (r.ctx.tstamp)
		return FAILF("allow frame stamped");
	if (counters(ALLOW, &c, why))
		return -1;
	if (c.pass_pkts != 1 || c.drop_pkts != 1)
		return FAILF("allow counters pass %llu drop %llu, want 1 and 1",
			     c.pass_pkts, c.drop_pkts);
	return 0;
}

/* No pacing ifb (fallback): the default class is policed at the tap. */
static int no_ifb_case(char *why)
{
	struct fspec s = f_def;
	struct frame f;
	struct run r;

	reset();
	if (put(TCBPF_MODE_EDT, 8000, 1000, NSEC_PER_SEC, 0, 0, why))
		return -1;
	s.len = 1000;
	build(&f, &s);
	if (run(tr.prog[ING], &f, 0, &r) || r.retval != TC_ACT_UNSPEC)
		return FAILF("frame 0: verdict %d, want pass", r.retval);
	if (run(tr.prog[ING], &f, 0, &r) || r.retval != TC_ACT_SHOT)
		return FAILF("frame 1: verdict %d, want policed", r.retval);
	if (r.ctx.tstamp)
		return FAILF("a policed frame was stamped");
	return 0;
}

/*
 * The pacer: 1000 bytes/s, 2000-byte burst, 10.5 s horizon, 1000-byte
 * frames: two leave unstamped, then one a second exactly, the first 1 s
 * after the first frame; frames 12 and 13 lie beyond the horizon and are
 * dropped without moving the timeline; counters 12 passed, 2 dropped.
 */
static int pace_case(char *why)
{
	struct tcbpf_bucket_state a[TCBPF_NCLASS], b[TCBPF_NCLASS];
	struct tcbpf_counters c;
	struct fspec s = f_def;
	__u64 t0, t1 = 0, prev = 0;
	struct frame f;
	struct run r;
	int i;

	reset();
	if (put(TCBPF_MODE_EDT, 8000, 2000, 10500000000ULL, 0, PACE_IFINDEX,
		why))
		return -1;
	s.len = 1000;
	build(&f, &s);
	t0 = now_ns();
	for (i = 0; i < 14; i++) {
		if (i == 12)
			tl_read(a);
		if (run(pace_fd, &f, LO_IFINDEX, &r))
			return FAILF("frame %d: test_run failed", i);
		if (i == 0)
			t1 = now_ns();
		if (r.retval != (i < 12 ? TC_ACT_UNSPEC : TC_ACT_SHOT))
			return FAILF("frame %d: verdict %d", i, r.retval);
		if (i < 2 && r.ctx.tstamp > now_ns())
			return FAILF("burst frame %d stamped %.3f s ahead", i,
				     ((double)r.ctx.tstamp - t0) / 1e9);
		if (i == 2 && (r.ctx.tstamp < t0 + NSEC_PER_SEC ||
			       r.ctx.tstamp > t1 + NSEC_PER_SEC))
			return FAILF("frame 2 leaves at +%.6f s, want +1 s",
				     ((double)r.ctx.tstamp - t0) / 1e9);
		if (i > 2 && i < 12 && r.ctx.tstamp - prev != NSEC_PER_SEC)
			return FAILF("frame %d leaves %lld ns after the one "
				     "before, want 1e9", i,
				     (long long)(r.ctx.tstamp - prev));
		prev = r.ctx.tstamp;
	}
	tl_read(b);
	if (memcmp(a, b, sizeof(a)))
		return FAILF("drops beyond the horizon moved the timeline");
	if (counters(DEF, &c, why))
		return -1;
	if (c.pass_pkts != 12 || c.pass_bytes != 12000 ||
	    c.drop_pkts != 2 || c.drop_bytes != 2000)
		return FAILF("counters pass %llu/%llub drop %llu/%llub, want "
			     "12/12000b 2/2000b", c.pass_pkts, c.pass_bytes,
			     c.drop_pkts, c.drop_bytes);
	return 0;
}

/* Past the ECN threshold an ECT packet leaves CE-marked, and is counted. */
static int ecn_case(char *why)
{
	struct tcbpf_counters c;
	struct fspec s = f_def;
	struct frame f;
	struct run r;
	int i;

	reset();
	if (put(TCBPF_MODE_EDT, 8000, 1000, 10 * NSEC_PER_SEC, 1500000000ULL,
		PACE_IFINDEX, why))
		return -1;
	s.len = 1000;
	s.tos = 0x02;				/* ECT(0) */
	build(&f, &s);
	for (i = 0; i < 4; i++) {
		struct iphdr *ip = (struct iphdr *)(r.out + ETH_HLEN);
		int want = i < 2 ? 0x02 : 0x03;	/* +0 s, +1 s, then past 1.5 s */

		if (run(pace_fd, &f, LO_IFINDEX, &r) ||
		    r.retval != TC_ACT_UNSPEC)
			return FAILF("frame %d failed or dropped", i);
		if ((ip->tos & 3) != want)
			return FAILF("frame %d: ECN %d, want %d", i,
				     ip->tos & 3, want);
		if (csum16(ip, ip->ihl * 4))
			return FAILF("frame %d: bad IPv4 checksum", i);
	}
	if (counters(DEF, &c, why))
		return -1;
	if (c.mark_pkts != 2)
		return FAILF("%llu marks counted, want 2", c.mark_pkts);
	return 0;
}

/*
 * What the pacer leaves alone, unstamped and uncounted: a device with no
 * settings (ingress_ifindex unknown), and one whose settings no longer
 * pace (changed to police while its packets were on the way).
 */
static int passthrough_case(char *why)
{
	struct tcbpf_counters c;
	struct fspec s = f_def;
	struct frame f;
	struct run r;
	int i;

	reset();
	if (put(TCBPF_MODE_EDT, 8000, 1000, NSEC_PER_SEC, 0, PACE_IFINDEX, why))
		return -1;
	s.len = 1000;
	build(&f, &s);
	for (i = 0; i < 3; i++)
		if (run(pace_fd, &f, NO_DEV, &r) || r.retval != TC_ACT_UNSPEC ||
		    r.ctx.tstamp)
			return FAILF("unknown device: frame %d verdict %d "
				     "tstamp %llu", i, r.retval,
				     (unsigned long long)r.ctx.tstamp);
	if (put(TCBPF_MODE_POLICE, 8000, 1000, NSEC_PER_SEC, 0, 0, why))
		return -1;
	for (i = 0; i < 3; i++)
		if (run(pace_fd, &f, LO_IFINDEX, &r) ||
		    r.retval != TC_ACT_UNSPEC || r.ctx.tstamp)
			return FAILF("police device: frame %d verdict %d", i,
				     r.retval);
	if (counters(DEF, &c, why))
		return -1;
	if (c.pass_pkts || c.drop_pkts)
		return FAILF("the pacer counted %llu/%llu frames not its own",
			     c.pass_pkts, c.drop_pkts);
	return 0;
}

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

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

static const struct {
	const char *name;
	int (*fn)(char *why);
} cases[] = {
	{ "ingress edt: default class redirected, allow class policed",
	  redirect_case },
	{ "ingress edt without an ifb: policed at the tap", no_ifb_case },
	{ "pace: burst at once, then exactly at the rate, horizon drops",
	  pace_case },
	{ "pace: ecn marks past the threshold", ecn_case },
	{ "pace: unknown or non-pacing devices pass untouched",
	  passthrough_case },
};

int main(void)
{
	char why[WHY_LEN] = "";
	size_t i;

	if (geteuid() != 0) {
		printf("SKIP: all: needs root for BPF_PROG_TEST_RUN\n");
		return 0;
	}
	libbpf_set_print(quiet);
	if (testrun_load(&tr, why, WHY_LEN)) {
		report("load private skeleton", -1, why);
		testrun_close(&tr);
		return 1;
	}
	pace_fd = bpf_program__fd(tr.skel->progs.tcbpf_pace);
	report("load private skeleton", 0, NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		report(cases[i].name, cases[i].fn(why), why);
	testrun_close(&tr);
	printf("%d cases, %d failed\n", ncases, nfail);
	return nfail ? 1 : 0;
}
