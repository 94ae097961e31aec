// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpf_test.c - the data plane (bpf/tcbpf.bpf.c) under BPF_PROG_TEST_RUN.
 *
 * Loads a private copy of the skeleton (tests/testrun.h: every map unpinned
 * before load, so the CLI's pins under /sys/fs/bpf/tcbpf are never touched),
 * writes settings for ifindex 1 (lo: test_run only lets a tc program see a
 * real device) with the CLI's own bucket arithmetic (lib/bucket.h), runs
 * hand-built frames (tests/frames.h) through tcbpf_ingress / tcbpf_egress
 * and checks the verdicts, the per-class counters and the bucket timelines.
 *
 * Prints "PASS: name" or "FAIL: name: why" per case, "SKIP: all: why" when
 * not root; exits 1 on any failure. V=1 adds libbpf's messages and the
 * per-packet cost test_run measured.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
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

#define NSEC_PER_SEC	1000000000ULL
#define LO_IFINDEX	1	/* test_run accepts only a real device */
#define WHY_LEN		256
#define EPH		40000	/* an ephemeral port */

#define ING		TCBPF_INGRESS
#define EGR		TCBPF_EGRESS
#define DEF		TCBPF_CLASS_DEFAULT
#define ALLOW		TCBPF_CLASS_ALLOW
#define ALLP		(TCBPF_P_TCP | TCBPF_P_UDP | TCBPF_P_SCTP)

/* Host-order flag bits of the IPv4 and IPv6 fragment fields. */
#define IP4_MF		0x2000
#define IP4_DF		0x4000
#define IP6_MF		0x0001

/* Fail (skip) the current case with a message; cases return 0, -1 or 1. */
#define FAILF(...)	(snprintf(why, WHY_LEN, __VA_ARGS__), -1)
#define SKIPF(...)	(snprintf(why, WHY_LEN, __VA_ARGS__), 1)

static struct testrun tr;
static int verbose, ncases, nfail;

/* ---- reporting ---------------------------------------------------------- */

static void report(const char *name, int err, const char *why)
{
	ncases++;
	if (!err) {
		printf("PASS: %s\n", name);
	} else if (err > 0) {
		printf("SKIP: %s: %s\n", name, why);
	} else {
		nfail++;
		printf("FAIL: %s: %s\n", name, why);
	}
	fflush(stdout);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	/* The clock of bpf_ktime_get_ns(). */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static double now_s(void)
{
	return now_ns() / 1e9;
}

/* ---- maps --------------------------------------------------------------- */

static int cfg_put(__u32 dir, const struct tcbpf_cfg *cfg)
{
	return testrun_cfg_put(&tr, LO_IFINDEX, dir, cfg);
}

static void cfg_del(__u32 dir)
{
	testrun_cfg_del(&tr, LO_IFINDEX, dir);
}

/* The timelines of one direction, both classes. */
struct tls {
	struct tcbpf_bucket_state cls[TCBPF_NCLASS];
};

/* The timelines of @dir of lo, from its entry (zeroes when none). */
static int tl_read(__u32 dir, struct tls *tl)
{
	struct tcbpf_ddir dd;
	int err = testrun_ddir(&tr, LO_IFINDEX, dir, &dd);

	memcpy(tl->cls, dd.tl, sizeof(tl->cls));
	return err;
}

static int dev2;	/* a second device's ifindex, 0 none */

/*
 * No settings on lo or the second device, every CPU's cache empty: the
 * next cfg_put() of a direction gives it a new id, so zeroed timelines
 * and counters, and nothing of an earlier case is handed in to it.
 */
static void reset(void)
{
	cfg_del(ING);
	cfg_del(EGR);
	if (dev2) {
		testrun_cfg_del(&tr, dev2, ING);
		testrun_cfg_del(&tr, dev2, EGR);
	}
	testrun_caches_zero(&tr);
}

/* Settings of @dir: police, no buckets, no ports. */
static void cfg_init(struct tcbpf_cfg *c, __u32 dir)
{
	memset(c, 0, sizeof(*c));
	c->mode = TCBPF_MODE_POLICE;
	c->hook = TCBPF_HOOK_TC;
	strcpy(c->ifname, "lo");
}

static void cfg_ports(struct tcbpf_cfg *c, const struct tcbpf_port *p, int n)
{
	memcpy(c->ports, p, n * sizeof(*p));
	c->nports = n;
}

/* ---- running ------------------------------------------------------------ */

struct run {
	int err;		/* 0 or -errno of test_run */
	int retval;		/* TC_ACT_* */
	__u32 duration;		/* ns per run, as the kernel measured it */
	struct __sk_buff ctx;	/* ctx_out */
	__u8 out[FRAME_BUF];	/* the frame as the program left it */
	__u32 out_len;
};

/*
 * Run @repeat times on device @ifindex with an skb timestamp of @tstamp
 * on the way in.
 */
static int run_dev_ts(int ifindex, __u32 dir, const void *data, size_t len,
		      int repeat, __u64 tstamp, struct run *r)
{
	struct __sk_buff ctx = { .ifindex = ifindex, .tstamp = tstamp };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = data,
		.data_size_in = len,
		.data_out = r->out,
		.data_size_out = sizeof(r->out),
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.ctx_out = &r->ctx,
		.ctx_size_out = sizeof(r->ctx),
		.repeat = repeat,
	);

	memset(r, 0, offsetof(struct run, out));
	r->err = bpf_prog_test_run_opts(tr.prog[dir], &opts);
	r->retval = (int)opts.retval;
	r->duration = opts.duration;
	r->out_len = opts.data_size_out;
	return r->err;
}

/* Run @repeat times on lo with an skb timestamp of @tstamp. */
static int run_ts(__u32 dir, const void *data, size_t len, int repeat,
		  __u64 tstamp, struct run *r)
{
	return run_dev_ts(LO_IFINDEX, dir, data, len, repeat, tstamp, r);
}

static int run(__u32 dir, const void *data, size_t len, int repeat,
	       struct run *r)
{
	return run_ts(dir, data, len, repeat, 0, r);
}

/*
 * The shortest frame test_run takes: an Ethernet header, and when the
 * outer ethertype is IPv4 or IPv6 (6.18 checks it) that IP header too.
 * Shorter IP headers reach the parser only behind a VLAN tag.
 */
static size_t min_len(const __u8 *data, size_t len)
{
	__u16 proto = len >= ETH_HLEN ? data[12] << 8 | data[13] : 0;

	if (proto == ETH_P_IP)
		return ETH_HLEN + sizeof(struct iphdr);
	if (proto == ETH_P_IPV6)
		return ETH_HLEN + sizeof(struct ipv6hdr);
	return ETH_HLEN;
}

static bool verdict_ok(int retval)
{
	return retval == TC_ACT_UNSPEC || retval == TC_ACT_SHOT;
}

/*
 * Run one frame against freshly zeroed counters of @dir. Returns the
 * class that counted it, -1 when none did; -2 on a test_run error, -3 when
 * it was counted more than once.
 */
static int run_class(__u32 dir, const void *data, size_t len, struct run *r)
{
	struct tcbpf_stats s;
	__u64 n = 0;
	int c, cls = -1;

	testrun_stats_zero(&tr, LO_IFINDEX, dir);
	if (run(dir, data, len, 1, r))
		return -2;
	if (testrun_stats(&tr, LO_IFINDEX, dir, &s))
		return -2;
	for (c = 0; c < TCBPF_NCLASS; c++) {
		__u64 k = s.cls[c].pass_pkts + s.cls[c].drop_pkts;

		if (k)
			cls = c;
		n += k;
	}
	return n > 1 ? -3 : cls;
}

static const char *cls_name(int cls)
{
	switch (cls) {
	case DEF:	return "default";
	case ALLOW:	return "allow";
	case -1:	return "none";
	case -2:	return "error";
	}
	return "counted twice";
}

/*
 * Run @n frames of spec @s padded to @lens[i] through @dir, one test_run
 * each; writes the verdicts as "P"/"D" into @got. Returns the seconds it
 * took, or -1 on error.
 */
static double seq(__u32 dir, const struct fspec *s, const __u16 *lens, int n,
		  char *got)
{
	struct fspec sp = *s;
	struct frame f;
	struct run r;
	double t0 = now_s();
	int i;

	got[0] = 0;
	for (i = 0; i < n; i++) {
		sp.len = lens[i];
		build(&f, &sp);
		if (run(dir, f.b, f.len, 1, &r) || !verdict_ok(r.retval))
			return -1;
		got[i] = r.retval == TC_ACT_SHOT ? 'D' : 'P';
		got[i + 1] = 0;
	}
	return now_s() - t0;
}

/* Default-class and allow-class frames for either direction. */
static const struct fspec f_def = IP4(UDP, 80, 80);
static const struct fspec f_allow = IP4(TCP, 22, 22);

static const struct tcbpf_port al_22[] = { { 22, 22, ALLP } };

/*
 * Packets (passed or dropped) in every CPU's cache entries that name
 * @dir of @ifindex as their owner, whatever their tag: where the program
 * would count a direction, settings or not.
 */
static __u64 keyed_pkts(int ifindex, __u32 dir)
{
	__u64 n = 0;
	__u32 i;
	int cpu, c;

	for (i = 0; i < TCBPF_PCACHE; i++) {
		if (bpf_map_lookup_elem(tr.pcache_fd, &i, tr.percpu))
			continue;
		for (cpu = 0; cpu < tr.ncpus; cpu++) {
			const struct tcbpf_pc *pc = &tr.percpu[cpu];

			if (!pc->tag || pc->vni ||
			    pc->key.ifindex != (__u32)ifindex ||
			    pc->key.pad != dir)
				continue;
			for (c = 0; c < TCBPF_NCLASS; c++)
				n += pc->ctr.cls[c].pass_pkts +
				     pc->ctr.cls[c].drop_pkts;
		}
	}
	return n;
}

/*
 * @dir of lo counted exactly @pp/@pb passed and @dp/@db dropped in class
 * @cls, nothing in the other. A direction without settings has no
 * counters: it passes for all zeroes when no cache counted it.
 */
static int check_counters(__u32 dir, int cls, __u64 pp, __u64 pb, __u64 dp,
			  __u64 db, char *why)
{
	struct tcbpf_stats s;
	const struct tcbpf_counters *c = &s.cls[cls];
	const struct tcbpf_counters *o = &s.cls[!cls];
	int err = testrun_stats(&tr, LO_IFINDEX, dir, &s);

	if (err == -ENOENT && !keyed_pkts(LO_IFINDEX, dir))
		memset(&s, 0, sizeof(s));
	else if (err)
		return FAILF("reading stats: %s", strerror(-err));
	if (c->pass_pkts != pp || c->pass_bytes != pb ||
	    c->drop_pkts != dp || c->drop_bytes != db)
		return FAILF("%s counters pass %llu/%llub drop %llu/%llub, "
			     "want pass %llu/%llub drop %llu/%llub",
			     cls_name(cls), c->pass_pkts, c->pass_bytes,
			     c->drop_pkts, c->drop_bytes, pp, pb, dp, db);
	if (o->pass_pkts || o->drop_pkts || o->pass_bytes || o->drop_bytes)
		return FAILF("%s counters moved too", cls_name(!cls));
	return 0;
}

/*
 * seq() over as many frames as @want has verdicts; fails unless they are
 * @want, naming the run @what.
 */
static int seq_want(__u32 dir, const struct fspec *s, const __u16 *lens,
		    const char *want, const char *what, char *why)
{
	char got[64];

	seq(dir, s, lens, strlen(want), got);
	if (strcmp(got, want))
		return FAILF("%s %s, want %s", what, got, want);
	return 0;
}

/* ---- classification ----------------------------------------------------- */

enum { AL_22, AL_MIX, AL_NONE };

static const struct tcbpf_port al_mix[] = {
	{ 22, 22, TCBPF_P_TCP },			/* tcp/22 */
	{ 53, 53, TCBPF_P_TCP | TCBPF_P_UDP },		/* 53: a bare port */
	{ 1000, 2000, TCBPF_P_TCP | TCBPF_P_UDP },	/* 1000-2000 */
	{ 2905, 2905, TCBPF_P_SCTP },			/* sctp/2905 */
};

struct ccase {
	const char *name;
	int allow;		/* AL_* */
	__u32 dir;
	struct fspec f;
	int want;		/* TCBPF_CLASS_* */
};

/* The tables' shorthands for IPv6 extension headers. */
#define H	IPPROTO_HOPOPTS
#define D	IPPROTO_DSTOPTS
#define R	IPPROTO_ROUTING
#define F	IPPROTO_FRAGMENT
#define A	IPPROTO_AH

static const struct ccase ccases[] = {
	/* The VM-side port: the destination towards the VM (egress), the
	 * source from it (ingress); never the other one. */
	{ "ipv4 tcp egress dport 22", AL_22, EGR, IP4(TCP, EPH, 22), ALLOW },
	{ "ipv4 udp egress dport 22", AL_22, EGR, IP4(UDP, EPH, 22), ALLOW },
	{ "ipv4 sctp egress dport 22", AL_22, EGR, IP4(SCTP, EPH, 22), ALLOW },
	{ "ipv4 tcp ingress sport 22", AL_22, ING, IP4(TCP, 22, EPH), ALLOW },
	{ "ipv4 udp ingress sport 22", AL_22, ING, IP4(UDP, 22, EPH), ALLOW },
	{ "ipv4 sctp ingress sport 22", AL_22, ING, IP4(SCTP, 22, EPH), ALLOW },
	{ "ipv4 tcp ingress dport 22 is default", AL_22, ING,
	  IP4(TCP, EPH, 22), DEF },
	{ "ipv4 tcp egress sport 22 is default", AL_22, EGR,
	  IP4(TCP, 22, EPH), DEF },
	{ "ipv4 tcp other port is default", AL_22, EGR,
	  IP4(TCP, EPH, 80), DEF },
	{ "ipv4 icmp is default", AL_22, EGR, IP4(ICMP, 0, 0), DEF },
	{ "ipv4 4 bytes of options", AL_22, EGR,
	  IP4(TCP, EPH, 22, .optlen = 4), ALLOW },
	{ "ipv4 20 bytes of options", AL_22, ING,
	  IP4(UDP, 22, EPH, .optlen = 20), ALLOW },
	{ "ipv4 40 bytes of options", AL_22, EGR,
	  IP4(TCP, EPH, 22, .optlen = 40), ALLOW },
	{ "ipv4 40 bytes of options, other port", AL_22, EGR,
	  IP4(TCP, 22, 80, .optlen = 40), DEF },
	{ "ipv4 first fragment", AL_22, EGR,
	  IP4(UDP, EPH, 22, .frag = IP4_MF, .len = 1000), ALLOW },
	{ "ipv4 dont-fragment flag", AL_22, EGR,
	  IP4(TCP, EPH, 22, .frag = IP4_DF), ALLOW },
	{ "ipv4 non-first fragment is default", AL_22, EGR,
	  IP4(UDP, 22, 22, .frag = IP4_MF | 185), DEF },
	{ "ipv4 last fragment is default", AL_22, ING,
	  IP4(TCP, 22, 22, .frag = 1), DEF },

	{ "ipv6 tcp egress dport 22", AL_22, EGR, IP6(TCP, EPH, 22), ALLOW },
	{ "ipv6 udp ingress sport 22", AL_22, ING, IP6(UDP, 22, EPH), ALLOW },
	{ "ipv6 sctp egress dport 22", AL_22, EGR, IP6(SCTP, EPH, 22), ALLOW },
	{ "ipv6 tcp ingress dport 22 is default", AL_22, ING,
	  IP6(TCP, EPH, 22), DEF },
	{ "ipv6 hop-by-hop+dstopts+routing", AL_22, EGR,
	  IP6(TCP, EPH, 22, EXT(H, D, R)), ALLOW },
	{ "ipv6 hop-by-hop+dstopts+routing, other port", AL_22, EGR,
	  IP6(TCP, 22, 443, EXT(H, D, R)), DEF },
	{ "ipv6 ah", AL_22, ING, IP6(TCP, 22, EPH, EXT(A)), ALLOW },
	{ "ipv6 hop-by-hop+ah+dstopts udp", AL_22, EGR,
	  IP6(UDP, EPH, 22, EXT(H, A, D)), ALLOW },
	{ "ipv6 five extension headers", AL_22, EGR,
	  IP6(TCP, EPH, 22, EXT(H, D, R, F, A), .frag = IP6_MF), ALLOW },
	{ "ipv6 first fragment", AL_22, EGR,
	  IP6(UDP, EPH, 22, EXT(F), .frag = IP6_MF, .len = 1000), ALLOW },
	{ "ipv6 non-first fragment is default", AL_22, EGR,
	  IP6(UDP, 22, 22, EXT(F), .frag = 1480 | IP6_MF), DEF },
	{ "ipv6 last fragment after hop-by-hop is default", AL_22, ING,
	  IP6(TCP, 22, 22, EXT(H, F), .frag = 1480), DEF },

	{ "802.1q ipv4 tcp", AL_22, EGR, IP4(TCP, EPH, 22, Q), ALLOW },
	{ "802.1q ipv6 udp", AL_22, ING, IP6(UDP, 22, EPH, Q), ALLOW },
	{ "qinq ipv4 tcp", AL_22, EGR, IP4(TCP, EPH, 22, QINQ), ALLOW },
	{ "qinq ipv6 tcp with ah", AL_22, ING,
	  IP6(TCP, 22, EPH, QINQ, EXT(A)), ALLOW },
	{ "qinq ipv4 other port is default", AL_22, EGR,
	  IP4(TCP, EPH, 80, QINQ), DEF },
	{ "three vlan tags is default", AL_22, EGR,
	  IP4(TCP, EPH, 22, TAGS3), DEF },

	{ "arp ingress", AL_22, ING, { .proto = ETH_P_ARP }, ALLOW },
	{ "arp egress", AL_22, EGR, { .proto = ETH_P_ARP }, ALLOW },
	{ "qinq arp", AL_22, ING, { .proto = ETH_P_ARP, QINQ }, ALLOW },
	{ "icmpv6 router solicitation", AL_22, ING, ND(133), ALLOW },
	{ "icmpv6 router advertisement", AL_22, EGR, ND(134), ALLOW },
	{ "icmpv6 neighbour solicitation", AL_22, EGR, ND(135), ALLOW },
	{ "icmpv6 neighbour advertisement", AL_22, ING, ND(136), ALLOW },
	{ "icmpv6 echo request is default", AL_22, EGR, ND(128), DEF },
	{ "icmpv6 NS with hop limit 64 is default (RFC 4861)", AL_22, EGR,
	  IP6(ICMPV6, 0, 0, .icmp6 = 135, .hlim = 64), DEF },
	{ "icmpv6 echo reply is default", AL_22, ING, ND(129), DEF },
	{ "unknown ethertype is default", AL_22, EGR,
	  { .proto = 0x88b5, .len = 64 }, DEF },

	{ "tcp/22 matches tcp", AL_MIX, EGR, IP4(TCP, EPH, 22), ALLOW },
	{ "tcp/22 does not match udp", AL_MIX, EGR, IP4(UDP, EPH, 22), DEF },
	{ "tcp/22 does not match sctp", AL_MIX, ING, IP6(SCTP, 22, EPH), DEF },
	{ "bare port matches tcp", AL_MIX, EGR, IP4(TCP, EPH, 53), ALLOW },
	{ "bare port matches udp", AL_MIX, ING, IP6(UDP, 53, EPH), ALLOW },
	{ "range 1000-2000: 999 is default", AL_MIX, EGR,
	  IP4(TCP, EPH, 999), DEF },
	{ "range 1000-2000: 1000", AL_MIX, EGR, IP4(TCP, EPH, 1000), ALLOW },
	{ "range 1000-2000: 1500 udp", AL_MIX, EGR,
	  IP4(UDP, EPH, 1500), ALLOW },
	{ "range 1000-2000: 2000", AL_MIX, ING, IP4(TCP, 2000, EPH), ALLOW },
	{ "range 1000-2000: 2001 is default", AL_MIX, EGR,
	  IP4(TCP, EPH, 2001), DEF },
	{ "range tcp+udp does not match sctp", AL_MIX, EGR,
	  IP4(SCTP, EPH, 1500), DEF },
	{ "sctp/2905 matches sctp", AL_MIX, EGR, IP4(SCTP, EPH, 2905), ALLOW },
	{ "sctp/2905 does not match tcp", AL_MIX, EGR,
	  IP4(TCP, EPH, 2905), DEF },
	{ "nports 0: tcp 22 is default", AL_NONE, EGR, IP4(TCP, EPH, 22), DEF },
	{ "nports 0: udp 22 is default", AL_NONE, ING, IP6(UDP, 22, EPH), DEF },
	{ "nports 0: arp still allowed", AL_NONE, ING,
	  { .proto = ETH_P_ARP }, ALLOW },

	{ "ipv4 ihl 4 is default", AL_22, EGR,
	  IP4(TCP, 22, 22, .ihl = 4), DEF },
	{ "ipv4 ihl 1 is default", AL_22, EGR,
	  IP4(TCP, 22, 22, .ihl = 1), DEF },
	{ "ipv4 version 6 is default", AL_22, EGR,
	  IP4(TCP, 22, 22, .version = 6), DEF },
	{ "ipv6 version 4 is default", AL_22, EGR,
	  IP6(TCP, 22, 22, .version = 4), DEF },
	{ "ipv6 eight extension headers is default", AL_22, EGR,
	  IP6(TCP, 22, 22, EXT(H, D, D, D, D, D, D, D)), DEF },
};

static int class_case(const struct ccase *c, char *why)
{
	struct tcbpf_cfg cfg;
	struct frame f;
	struct run r;
	int cls;

	reset();
	cfg_init(&cfg, c->dir);
	if (c->allow == AL_22) {
		cfg_ports(&cfg, al_22, 1);
	} else if (c->allow == AL_MIX) {
		cfg_ports(&cfg, al_mix, sizeof(al_mix) / sizeof(al_mix[0]));
	} else {
		/* A stale entry beyond nports must not count. */
		cfg_ports(&cfg, al_22, 1);
		cfg.nports = 0;
	}
	if (cfg_put(c->dir, &cfg))
		return FAILF("writing cfg: %s", strerror(errno));
	build(&f, &c->f);
	cls = run_class(c->dir, f.b, f.len, &r);
	if (cls == -2)
		return FAILF("test_run: %s", strerror(-r.err));
	if (r.retval != TC_ACT_UNSPEC)
		return FAILF("verdict %d with no buckets, want %d",
			     r.retval, TC_ACT_UNSPEC);
	if (cls != c->want)
		return FAILF("%zu-byte frame counted in class %s, want %s",
			     f.len, cls_name(cls), cls_name(c->want));
	return 0;
}

/* ---- robustness --------------------------------------------------------- */

/*
 * Every prefix of a frame whose ports are allowlisted: a valid verdict,
 * never the allow class before both ports are in, allow for the whole.
 */
static int trunc_case(__u32 dir, const struct fspec *s, char *why)
{
	struct tcbpf_cfg cfg;
	struct frame f;
	struct run r;
	size_t len;
	int cls = -1;

	reset();
	cfg_init(&cfg, dir);
	cfg_ports(&cfg, al_22, 1);
	if (cfg_put(dir, &cfg))
		return FAILF("writing cfg: %s", strerror(errno));
	build(&f, s);
	if (!f.ports_end)
		return FAILF("test bug: frame has no ports");
	for (len = 0; len <= f.len; len++) {
		cls = run_class(dir, f.b, len, &r);
		if (cls == -2 && r.err == -EINVAL && len < min_len(f.b, len))
			continue;	/* test_run refuses it */
		if (cls == -2)
			return FAILF("len %zu: test_run: %s", len,
				     strerror(-r.err));
		if (!verdict_ok(r.retval))
			return FAILF("len %zu: verdict %d", len, r.retval);
		if (cls < 0)
			return FAILF("len %zu: counted in %s", len,
				     cls_name(cls));
		if (cls == ALLOW && len < f.ports_end)
			return FAILF("len %zu: allow class, ports end at %zu",
				     len, f.ports_end);
	}
	if (cls != ALLOW)
		return FAILF("whole %zu-byte frame counted in %s", f.len,
			     cls_name(cls));
	return 0;
}

static __u64 rng = 0x7cbf7cbf7cbf7cbfULL;

static __u64 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/*
 * Random frames, fixed seed. A quarter each: raw bytes, an IPv4 version
 * nibble, IPv6 with an extension header chain start, and VLAN tags in
 * front of either. Every run must succeed, return a valid verdict and be
 * counted exactly once.
 */
static int garbage_case(char *why)
{
	static const __u8 nh6[] = { H, R, F, A, D, IPPROTO_TCP, IPPROTO_UDP,
				    IPPROTO_SCTP, IPPROTO_ICMPV6 };
	static const __u16 tpid[] = { ETH_P_8021Q, ETH_P_8021AD };
	const int n = 4000;
	struct tcbpf_stats st;
	struct tcbpf_cfg cfg;
	__u8 buf[1514];
	__u64 counted = 0;
	struct run r;
	int i, d, j, refused = 0;

	reset();
	for (d = 0; d < TCBPF_NDIR; d++) {
		cfg_init(&cfg, d);
		cfg_ports(&cfg, al_mix, sizeof(al_mix) / sizeof(al_mix[0]));
		bucket_from(&cfg.cls[DEF], 8, 3000, 0, 0);
		if (cfg_put(d, &cfg))
			return FAILF("writing cfg: %s", strerror(errno));
	}
	for (i = 0; i < n; i++) {
		size_t len = ETH_HLEN + rnd() % (sizeof(buf) - ETH_HLEN + 1);
		size_t off = ETH_HLEN;

		for (j = 0; j < (int)len; j++)
			buf[j] = rnd();
		if (i % 4 == 3 && len >= 22) {
			__u16 outer = tpid[rnd() % 2];

			buf[12] = outer >> 8;
			buf[13] = outer & 0xff;
			buf[16] = ETH_P_8021Q >> 8;
			buf[17] = ETH_P_8021Q & 0xff;
			off += 8;
		}
		if (i % 4 && off + 8 < len) {
			bool v6 = i % 4 == 2 || (i % 4 == 3 && rnd() % 2);

			buf[off - 2] = v6 ? 0x86 : 0x08;
			buf[off - 1] = v6 ? 0xdd : 0x00;
			buf[off] = (v6 ? 0x60 : 0x40) | (buf[off] & 0x0f);
			if (v6)
				buf[off + 6] = nh6[rnd() % sizeof(nh6)];
		}
		if (run(i % 2, buf, len, 1, &r) == -EINVAL &&
		    len < min_len(buf, len)) {
			refused++;
			continue;
		}
		if (r.err)
			return FAILF("frame %d (%zu bytes): test_run: %s", i,
				     len, strerror(-r.err));
		if (!verdict_ok(r.retval))
			return FAILF("frame %d: verdict %d", i, r.retval);
	}
	for (d = 0; d < TCBPF_NDIR; d++) {
		if (testrun_stats(&tr, LO_IFINDEX, d, &st))
			return FAILF("reading stats: %s", strerror(errno));
		for (j = 0; j < TCBPF_NCLASS; j++)
			counted += st.cls[j].pass_pkts + st.cls[j].drop_pkts;
	}
	if (counted != (__u64)(n - refused))
		return FAILF("%llu frames counted, %d run", counted,
			     n - refused);
	return 0;
}

/* ---- buckets ------------------------------------------------------------ */

/*
 * Byte buckets at 8 bit/s (1 byte/s) and packet buckets at 10 pps: what
 * refills between two test_runs (microseconds) is far below one frame or
 * one packet. A packet sequence that took longer than a token's worth of
 * time (a stalled, noisy machine) is retried.
 */
#define SLOW_RATE	8
#define SLOW_PPS	10
#define TRIES		3

static int put_default(__u32 dir, __u32 mode, __u64 rate, __u64 burst,
		       __u64 pps, __u64 pburst, char *why)
{
	struct tcbpf_cfg cfg;

	cfg_init(&cfg, dir);
	cfg.mode = mode;
	cfg_ports(&cfg, al_22, 1);
	bucket_from(&cfg.cls[DEF], rate, burst, pps, pburst);
	if (cfg_put(dir, &cfg))
		return FAILF("writing cfg: %s", strerror(errno));
	return 0;
}

/* Run @lens through a fresh default class of @dir; compare with @want. */
static int seq_case(__u32 dir, __u32 mode, __u64 rate, __u64 burst,
		    __u64 pps, __u64 pburst, const __u16 *lens, int n,
		    const char *want, char *why)
{
	char got[64];
	double t;
	int try;

	for (try = 0; try < TRIES; try++) {
		reset();
		if (put_default(dir, mode, rate, burst, pps, pburst, why))
			return -1;
		t = seq(dir, &f_def, lens, n, got);
		if (t < 0)
			return FAILF("test_run failed: %s", strerror(errno));
		if (!pps || t < 0.5 / pps)
			break;
	}
	if (strcmp(got, want))
		return FAILF("verdicts %s, want %s", got, want);
	return 0;
}

static int bytes_case(char *why)
{
	static const __u16 lens[] = { 1000, 1000, 1000, 1000, 1000 };

	if (seq_case(EGR, TCBPF_MODE_POLICE, SLOW_RATE, 3000, 0, 0, lens, 5,
		     "PPPDD", why))
		return -1;
	return check_counters(EGR, DEF, 3, 3000, 2, 2000, why);
}

/* Mixed sizes: the bucket counts bytes, the counters the frame lengths. */
static int counters_case(char *why)
{
	static const __u16 lens[] = { 1000, 500, 1500, 700, 60, 1 };

	if (seq_case(ING, TCBPF_MODE_POLICE, SLOW_RATE, 3000, 0, 0, lens, 6,
		     "PPPDDD", why))
		return -1;
	/* The last "1-byte" frame is padded to its headers: 42 bytes. */
	return check_counters(ING, DEF, 3, 3000, 3, 700 + 60 + 42, why);
}

static int pkts_case(char *why)
{
	static const __u16 lens[] = { 100, 100, 100, 100, 100, 100, 1500, 60 };

	if (seq_case(EGR, TCBPF_MODE_POLICE, 0, 0, SLOW_PPS, 5, lens, 8,
		     "PPPPPDDD", why))
		return -1;
	return check_counters(EGR, DEF, 5, 500, 3, 1660, why);
}

/*
 * A GSO/GRO packet stands for gso_segs frames on the wire, each with its
 * own headers: the packet bucket is charged gso_segs tokens and the byte
 * bucket and counters len + (segs - 1) * headers. A 1000-byte IPv4/TCP
 * frame (54 bytes of headers) claiming 4 segments: with pburst 10 two
 * such packets pass (8 tokens), the third (12) does not.
 */
static int gso_segs_case(char *why)
{
	static const struct fspec tcp = IP4(TCP, 80, 80, .len = 1000);
	struct __sk_buff ctx = { .ifindex = LO_IFINDEX, .gso_segs = 4,
				 .gso_size = 946 };
	struct __sk_buff out;
	struct frame f;
	char got[8] = "";
	int i, try;

	build(&f, &tcp);
	for (try = 0; try < TRIES; try++) {
		double t0 = now_s();

		reset();
		if (put_default(EGR, TCBPF_MODE_POLICE, 0, 0, SLOW_PPS, 10, why))
			return -1;
		for (i = 0; i < 3; i++) {
			LIBBPF_OPTS(bpf_test_run_opts, opts,
				.data_in = f.b, .data_size_in = f.len,
				.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
				.ctx_out = &out, .ctx_size_out = sizeof(out),
				.repeat = 1);

			if (bpf_prog_test_run_opts(tr.prog[EGR], &opts))
				return FAILF("test_run with gso_segs: %s",
					     strerror(errno));
			got[i] = (int)opts.retval == TC_ACT_SHOT ? 'D' : 'P';
			got[i + 1] = 0;
		}
		if (now_s() - t0 < 0.5 / SLOW_PPS)
			break;
	}
	if (strcmp(got, "PPD"))
		return FAILF("verdicts %s, want PPD (4 tokens a packet)", got);
	return check_counters(EGR, DEF, 8, 2 * (1000 + 3 * 54), 4,
			      1000 + 3 * 54, why);
}

/*
 * Both buckets: a frame the byte bucket refuses must give its packet token
 * back. 1500 passes (1500 bytes and 4 packets left), three 2000s are
 * refused by bytes, then 100s: four pass on the packet tokens left, the
 * fifth finds none. Without the refund only one would pass.
 */
static int refund_case(char *why)
{
	static const __u16 lens[] = { 2000, 2000, 2000, 100, 100, 100, 100,
				      100 };
	struct tls s1, s2;
	char got[16];
	__u16 first = 1500;
	double t0;
	int try;

	for (try = 0; try < TRIES; try++) {
		reset();
		if (put_default(EGR, TCBPF_MODE_POLICE, SLOW_RATE, 3000,
				SLOW_PPS, 5, why))
			return -1;
		t0 = now_s();
		if (seq(EGR, &f_def, &first, 1, got) < 0 || strcmp(got, "P"))
			return FAILF("first frame: %s", got);
		tl_read(EGR, &s1);
		if (seq(EGR, &f_def, lens, 3, got) < 0)
			return FAILF("test_run failed");
		tl_read(EGR, &s2);
		if (strcmp(got, "DDD"))
			return FAILF("2000-byte frames: %s, want DDD", got);
		if (seq(EGR, &f_def, lens + 3, 5, got) < 0)
			return FAILF("test_run failed");
		if (now_s() - t0 < 0.5 / SLOW_PPS)
			break;
	}
	if (s2.cls[DEF].tat_pkts != s1.cls[DEF].tat_pkts)
		return FAILF("packet timeline moved %lld ns over 3 byte drops",
			     (long long)(s2.cls[DEF].tat_pkts -
					 s1.cls[DEF].tat_pkts));
	if (s2.cls[DEF].tat_bytes != s1.cls[DEF].tat_bytes)
		return FAILF("byte timeline moved on drops");
	if (strcmp(got, "PPPPD"))
		return FAILF("100-byte frames after the drops: %s, want PPPPD",
			     got);
	return check_counters(EGR, DEF, 5, 1900, 4, 6100, why);
}

/* A frame larger than the whole burst passes on a full bucket only. */
static int gso_case(char *why)
{
	static const __u16 full[] = { 1000, 1000, 60 };
	static const __u16 part[] = { 100, 1000 };

	if (seq_case(EGR, TCBPF_MODE_POLICE, SLOW_RATE, 500, 0, 0, full, 3,
		     "PDD", why))
		return -1;
	if (check_counters(EGR, DEF, 1, 1000, 2, 1060, why))
		return -1;
	return seq_case(EGR, TCBPF_MODE_POLICE, SLOW_RATE, 500, 0, 0, part, 2,
			"PD", why);
}

static int monitor_case(char *why)
{
	static const __u16 lens[] = { 1000, 1000, 1000, 1000, 1000, 1000 };
	struct tls st;

	if (seq_case(ING, TCBPF_MODE_MONITOR, SLOW_RATE, 1000, 1, 1, lens, 6,
		     "PPPPPP", why))
		return -1;
	if (check_counters(ING, DEF, 6, 6000, 0, 0, why))
		return -1;
	/* its buckets are the SPEC's own: they count would-be drops */
	if (tl_read(ING, &st) || !st.cls[DEF].tat_bytes ||
	    !st.cls[DEF].tat_pkts)
		return FAILF("monitor mode left its timelines unmoved");
	return 0;
}

/* Cache entries, over all CPUs, that are not empty (a tag or counts). */
static int caches_used(void)
{
	static const struct tcbpf_pc empty;
	int cpu, n = 0;
	__u32 i;

	for (i = 0; i < TCBPF_PCACHE; i++) {
		if (bpf_map_lookup_elem(tr.pcache_fd, &i, tr.percpu))
			return -1;
		for (cpu = 0; cpu < tr.ncpus; cpu++)
			n += !!memcmp(&tr.percpu[cpu], &empty, sizeof(empty));
	}
	return n;
}

/*
 * No settings for the device and direction: pass, count nothing (no
 * CPU's cache entry taken, the only place a packet is counted).
 */
static int nocfg_case(char *why)
{
	struct frame f;
	struct run r;
	int d;

	reset();
	build(&f, &f_def);
	for (d = 0; d < TCBPF_NDIR; d++) {
		if (run(d, f.b, f.len, 1, &r))
			return FAILF("test_run: %s", strerror(-r.err));
		if (caches_used())
			return FAILF("%s: counted",
				     d == ING ? "ingress" : "egress");
		if (r.retval != TC_ACT_UNSPEC)
			return FAILF("verdict %d", r.retval);
	}
	return 0;
}

static int direction_case(char *why)
{
	static const __u16 lens[] = { 1000, 1000, 1000 };

	reset();
	if (put_default(ING, TCBPF_MODE_POLICE, SLOW_RATE, 1000, 0, 0, why) ||
	    seq_want(ING, &f_def, lens, "PD", "ingress", why) ||
	    seq_want(EGR, &f_def, lens, "PPP", "egress without cfg", why) ||
	    check_counters(EGR, DEF, 0, 0, 0, 0, why))
		return -1;
	if (put_default(EGR, TCBPF_MODE_POLICE, SLOW_RATE, 2000, 0, 0, why) ||
	    seq_want(EGR, &f_def, lens, "PPD", "egress with its own cfg", why) ||
	    seq_want(ING, &f_def, lens, "D", "ingress after egress", why) ||
	    check_counters(EGR, DEF, 2, 2000, 1, 1000, why))
		return -1;
	return check_counters(ING, DEF, 1, 1000, 2, 2000, why);
}

/* An exhausted default class does not touch the allow class. */
static int allow_bucket_case(char *why)
{
	static const __u16 lens[] = { 1000, 1000, 1000, 1000, 1000, 1000 };
	struct tcbpf_stats s;
	struct tcbpf_cfg cfg;

	reset();
	cfg_init(&cfg, ING);
	cfg_ports(&cfg, al_22, 1);
	bucket_from(&cfg.cls[DEF], SLOW_RATE, 1000, 0, 0);
	bucket_from(&cfg.cls[ALLOW], SLOW_RATE, 5000, 0, 0);
	if (cfg_put(ING, &cfg))
		return FAILF("writing cfg: %s", strerror(errno));
	if (seq_want(ING, &f_def, lens, "PDD", "default", why) ||
	    seq_want(ING, &f_allow, lens, "PPPPPD", "allow", why) ||
	    seq_want(ING, &f_def, lens, "D", "default after allow", why))
		return -1;
	if (testrun_stats(&tr, LO_IFINDEX, ING, &s))
		return FAILF("reading stats: %s", strerror(errno));
	if (s.cls[ALLOW].pass_pkts != 5 || s.cls[ALLOW].drop_pkts != 1 ||
	    s.cls[DEF].pass_pkts != 1 || s.cls[DEF].drop_pkts != 3)
		return FAILF("counters allow %llu/%llu default %llu/%llu "
			     "(pass/drop), want 5/1 1/3",
			     s.cls[ALLOW].pass_pkts, s.cls[ALLOW].drop_pkts,
			     s.cls[DEF].pass_pkts, s.cls[DEF].drop_pkts);
	return 0;
}

/* test_run's repeat: a burst of 7 frames lets exactly 7 of 50 through. */
static int repeat_case(char *why)
{
	struct fspec s = f_def;
	struct frame f;
	struct run r;

	reset();
	if (put_default(EGR, TCBPF_MODE_POLICE, SLOW_RATE, 7000, 0, 0, why))
		return -1;
	s.len = 1000;
	build(&f, &s);
	if (run(EGR, f.b, f.len, 50, &r))
		return FAILF("test_run: %s", strerror(-r.err));
	if (r.retval != TC_ACT_SHOT)
		return FAILF("last verdict %d, want %d", r.retval, TC_ACT_SHOT);
	return check_counters(EGR, DEF, 7, 7000, 43, 43000, why);
}

/* ---- timelines ---------------------------------------------------------- */

/*
 * On a backlogged bucket each passed frame moves tat_bytes by exactly
 * len * 8e9 / rate ns (3000 bit/s does not divide evenly) and tat_pkts by
 * 1e9 / pps; a drop moves neither.
 */
static int timeline_case(char *why)
{
	static const __u16 lens[] = { 1514, 60, 1000, 333, 1514 };
	const __u64 rate = 3000, pps = 3;
	struct tls a, b;
	struct fspec s = f_def;
	struct frame f;
	struct run r;
	int i;

	reset();
	if (put_default(EGR, TCBPF_MODE_POLICE, rate, 100000, pps, 100, why))
		return -1;
	for (i = 0; i < (int)(sizeof(lens) / sizeof(lens[0])); i++) {
		__u64 cost = (__u64)lens[i] * 8 * NSEC_PER_SEC / rate;

		s.len = lens[i];
		build(&f, &s);
		tl_read(EGR, &a);
		/* Three at first: a second of packet backlog for a start. */
		if (run(EGR, f.b, f.len, i ? 1 : 3, &r) ||
		    r.retval != TC_ACT_UNSPEC)
			return FAILF("frame %d dropped or failed", i);
		tl_read(EGR, &b);
		if (i == 0)
			continue;	/* from an idle bucket: starts at now */
		if (b.cls[DEF].tat_bytes - a.cls[DEF].tat_bytes != cost)
			return FAILF("%u bytes: tat_bytes +%llu ns, want %llu",
				     lens[i], b.cls[DEF].tat_bytes -
				     a.cls[DEF].tat_bytes, cost);
		if (b.cls[DEF].tat_pkts - a.cls[DEF].tat_pkts !=
		    NSEC_PER_SEC / pps)
			return FAILF("tat_pkts moved by %llu ns, want %llu",
				     b.cls[DEF].tat_pkts - a.cls[DEF].tat_pkts,
				     NSEC_PER_SEC / pps);
	}

	/* Now a bucket with no room: the drop leaves both timelines. */
	if (put_default(EGR, TCBPF_MODE_POLICE, rate, 100, pps, 100, why))
		return -1;
	tl_read(EGR, &a);
	if (run(EGR, f.b, f.len, 1, &r) || r.retval != TC_ACT_SHOT)
		return FAILF("frame on a full timeline not dropped");
	tl_read(EGR, &b);
	if (memcmp(&a, &b, sizeof(a)))
		return FAILF("a drop moved the timelines");
	return 0;
}

/* ---- EDT pacing --------------------------------------------------------- */

static int put_edt(__u64 rate, __u64 burst, __u64 horizon, __u64 delay,
		   __u64 ecn, char *why)
{
	struct tcbpf_cfg cfg;

	cfg_init(&cfg, EGR);
	cfg.mode = TCBPF_MODE_EDT;
	cfg.horizon_ns = horizon;
	cfg.delay_ns = delay;
	cfg.ecn_ns = ecn;
	cfg_ports(&cfg, al_22, 1);
	bucket_from(&cfg.cls[DEF], rate, burst, 0, 0);
	if (cfg_put(EGR, &cfg))
		return FAILF("writing cfg: %s", strerror(errno));
	return 0;
}

/*
 * 1000 bytes/s, 2000-byte burst, 10.5 s horizon, 1000-byte frames: two
 * leave at once, then one a second, stamped exactly 1 s apart, the first
 * of them 1 s after the first frame; at 11 s the horizon drops, and a drop
 * leaves the timeline where it was.
 */
static int edt_rate_case(char *why)
{
	const __u64 horizon = 10500000000ULL;
	struct tls a, b;
	struct fspec s = f_def;
	__u64 t0, t1 = 0, prev = 0;
	struct frame f;
	struct run r;
	int i;

	reset();
	if (put_edt(8000, 2000, horizon, 0, 0, why))
		return -1;
	s.len = 1000;
	build(&f, &s);
	t0 = now_ns();
	for (i = 0; i < 14; i++) {
		if (i == 12)
			tl_read(EGR, &a);
		if (run(EGR, f.b, f.len, 1, &r))
			return FAILF("frame %d: test_run: %s", i,
				     strerror(-r.err));
		if (i == 0)
			t1 = now_ns();
		if (r.retval != (i < 12 ? TC_ACT_UNSPEC : TC_ACT_SHOT))
			return FAILF("frame %d: verdict %d", i, r.retval);
		if (i < 2 && r.ctx.tstamp > now_ns())
			return FAILF("burst frame %d stamped %.3f s ahead",
				     i, (r.ctx.tstamp - t0) / 1e9);
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
	tl_read(EGR, &b);
	if (memcmp(&a, &b, sizeof(a)))
		return FAILF("drops beyond the horizon moved the timeline");
	return check_counters(EGR, DEF, 12, 12000, 2, 2000, why);
}

/* The extra delay is for the default class only. */
static int edt_delay_case(char *why)
{
	const __u64 delay = 50000000;
	struct frame f;
	struct run r;
	__u64 t0, t1;

	reset();
	if (put_edt(0, 0, NSEC_PER_SEC, delay, 0, why))
		return -1;
	build(&f, &f_def);
	t0 = now_ns();
	if (run(EGR, f.b, f.len, 1, &r) || r.retval != TC_ACT_UNSPEC)
		return FAILF("default frame failed or dropped");
	t1 = now_ns();
	if (r.ctx.tstamp < t0 + delay || r.ctx.tstamp > t1 + delay)
		return FAILF("default class leaves at +%.6f s, want +%.3f s",
			     ((double)r.ctx.tstamp - t0) / 1e9, delay / 1e9);
	build(&f, &f_allow);
	if (run(EGR, f.b, f.len, 1, &r) || r.retval != TC_ACT_UNSPEC)
		return FAILF("allow frame failed or dropped");
	if (r.ctx.tstamp > now_ns())
		return FAILF("allow class delayed by %.3f s",
			     ((double)r.ctx.tstamp - t1) / 1e9);
	return 0;
}

/*
 * Past ecn_ns of queue an ECN-capable packet leaves marked CE (with a
 * correct header checksum) and is counted; one that is not ECN-capable is
 * left alone.
 */
static int edt_ecn_case(char *why)
{
	struct fspec s = f_def;
	struct tcbpf_stats st;
	struct frame f;
	struct run r;
	int i;

	reset();
	if (put_edt(8000, 1000, 10 * NSEC_PER_SEC, 0, 1500000000ULL, why))
		return -1;
	s.len = 1000;
	s.tos = 0x02;				/* ECT(0) */
	build(&f, &s);
	for (i = 0; i < 5; i++) {
		struct iphdr *ip = (struct iphdr *)(r.out + ETH_HLEN);
		int want = i < 2 ? 0x02 : 0x03;

		if (i == 4) {
			s.tos = 0;		/* not ECN-capable */
			build(&f, &s);
			want = 0;
		}
		if (run(EGR, f.b, f.len, 1, &r) || r.retval != TC_ACT_UNSPEC)
			return FAILF("frame %d failed or dropped", i);
		if (r.out_len < ETH_HLEN + sizeof(*ip))
			return FAILF("frame %d: %u bytes out", i, r.out_len);
		if ((ip->tos & 3) != want)
			return FAILF("frame %d leaving +%d s: ECN %d, want %d",
				     i, i, ip->tos & 3, want);
		if (csum16(ip, ip->ihl * 4))
			return FAILF("frame %d: bad IPv4 checksum", i);
	}
	if (testrun_stats(&tr, LO_IFINDEX, EGR, &st))
		return FAILF("reading stats: %s", strerror(errno));
	if (st.cls[DEF].mark_pkts != 2)
		return FAILF("%llu marks counted, want 2",
			     st.cls[DEF].mark_pkts);
	return 0;
}

/*
 * A departure time already on the skb (TCP pacing) is kept when it is
 * later and within the horizon; one far beyond it is not a departure time
 * and is replaced.
 */
static int edt_keep_case(char *why)
{
	struct frame f;
	struct run r;
	__u64 ts;

	reset();
	if (put_edt(0, 0, 10 * NSEC_PER_SEC, 0, 0, why))
		return -1;
	build(&f, &f_def);
	ts = now_ns() + 3 * NSEC_PER_SEC;
	if (run_ts(EGR, f.b, f.len, 1, ts, &r) || r.retval != TC_ACT_UNSPEC)
		return FAILF("frame failed or dropped");
	if (r.ctx.tstamp != ts)
		return FAILF("a departure 3 s ahead became %+.3f s",
			     ((double)r.ctx.tstamp - ts) / 1e9);
	ts = now_ns() + 3600 * NSEC_PER_SEC;
	if (run_ts(EGR, f.b, f.len, 1, ts, &r) || r.retval != TC_ACT_UNSPEC)
		return FAILF("frame failed or dropped");
	if (r.ctx.tstamp > now_ns())
		return FAILF("a timestamp an hour ahead was kept");
	return 0;
}

/* ---- concurrency -------------------------------------------------------- */

struct worker {
	pthread_t tid;
	pthread_barrier_t *start;
	int cpu;		/* -1: not pinned */
	const struct frame *f;
	int repeat;
	struct run r;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	cpu_set_t set;

	if (w->cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	pthread_barrier_wait(w->start);
	run(EGR, w->f->b, w->f->len, w->repeat, &w->r);
	return NULL;
}

static __u64 hammer_t0;	/* CLOCK_MONOTONIC ns just before the last start */

/* Two threads, on CPUs 0 and 1 when there are two, hammer one device. */
static int hammer(const struct frame *f, int repeat, double *secs, char *why)
{
	struct worker w[2];
	pthread_barrier_t start;
	int i, two = sysconf(_SC_NPROCESSORS_ONLN) >= 2;
	double t0;

	pthread_barrier_init(&start, NULL, 3);
	for (i = 0; i < 2; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].start = &start;
		w[i].cpu = two ? i : -1;
		w[i].f = f;
		w[i].repeat = repeat;
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]))
			return FAILF("pthread_create failed");
	}
	t0 = now_s();
	hammer_t0 = now_ns();
	pthread_barrier_wait(&start);
	for (i = 0; i < 2; i++)
		pthread_join(w[i].tid, NULL);
	*secs = now_s() - t0;
	pthread_barrier_destroy(&start);
	for (i = 0; i < 2; i++)
		if (w[i].r.err)
			return FAILF("thread %d: test_run: %s", i,
				     strerror(-w[i].r.err));
	return 0;
}

/*
 * A burst of @frames 1000-byte frames at 1 byte/s: exactly that many pass,
 * whoever sends them. 50 are gone before the second thread is really
 * running; 100000 keep both CPUs on the timeline for a while, so a lost
 * update (plain store instead of CAS) lets more through.
 */
static int cas_run(__u64 frames, char *why)
{
	const int repeat = 200000;
	struct fspec s = f_def;
	struct frame f;
	double secs;

	reset();
	if (put_default(EGR, TCBPF_MODE_POLICE, SLOW_RATE, frames * 1000, 0, 0,
			why))
		return -1;
	s.len = 1000;
	build(&f, &s);
	if (hammer(&f, repeat, &secs, why))
		return -1;
	return check_counters(EGR, DEF, frames, frames * 1000,
			      2 * repeat - frames, (2 * repeat - frames) * 1000,
			      why);
}

static int cas_case(char *why)
{
	return cas_run(50, why);
}

static int cas_long_case(char *why)
{
	return cas_run(100000, why);
}

/* 1 Gbit/s, 1 MB burst: what passes stays within rate * time + burst. */
static int rate_case(char *why)
{
	const __u64 rate = 1000000000ULL, burst = 1000000;
	struct fspec s = f_def;
	struct tcbpf_stats st;
	struct frame f;
	double secs, limit;
	__u64 passed;

	reset();
	if (put_default(EGR, TCBPF_MODE_POLICE, rate, burst, 0, 0, why))
		return -1;
	s.len = 1000;
	build(&f, &s);
	if (hammer(&f, 200000, &secs, why))
		return -1;
	if (testrun_stats(&tr, LO_IFINDEX, EGR, &st))
		return FAILF("reading stats: %s", strerror(errno));
	passed = st.cls[DEF].pass_bytes;
	limit = burst + rate / 8.0 * secs * 1.01;
	if (verbose)
		printf("info: 1 Gbit/s: %llu bytes passed in %.3f s, "
		       "limit %.0f, %llu dropped\n", passed, secs, limit,
		       st.cls[DEF].drop_pkts);
	if (passed > limit)
		return FAILF("%llu bytes passed in %.3f s, more than %.0f",
			     passed, secs, limit);
	if (passed < burst)
		return FAILF("%llu bytes passed, less than the burst %llu",
			     passed, burst);
	return 0;
}

/*
 * Tokens the CPUs took in batches and hold unspent for @dir of lo's @cls:
 * in their cache entries that hold its tag.
 */
static __u64 tokens_held(__u32 dir, int cls, bool pkts)
{
	__u64 n = 0, tag;
	int cpu;

	if (testrun_caches(&tr, LO_IFINDEX, dir, &tag))
		return 0;
	for (cpu = 0; cpu < tr.ncpus; cpu++)
		if (tr.percpu[cpu].tag == tag)
			n += pkts ? tr.percpu[cpu].tok[cls].pkts :
			    tr.percpu[cpu].tok[cls].bytes;
	return n;
}

/*
 * Batches (bpf/bucket.h): two threads on CPUs 0 and 1 flood one bucket far
 * above its rate: @rate bits/s, or @pps, with a 1 s burst (pauses of the
 * threads shorter than that lose no tokens), so that each
 * CPU takes batches from the shared timeline. Every token taken is
 * accounted for: what passed and what the CPUs still hold is what the
 * timeline moved by since the start (within 0.05 %: the start is known to
 * a few microseconds), and with what is left in the bucket, less the burst
 * it started with, the rate over the time the flood took, within 0.5 %. A
 * pause of both threads longer than the burst loses tokens to a full
 * bucket: tried again. What passed alone stays within rate x time + burst.
 */
static int batch_run(__u64 rate, __u64 pps, char *why)
{
	struct tcbpf_bucket_cfg b;
	struct tls bs;
	struct fspec s = f_def;
	struct tcbpf_stats st;
	double secs, err = 0, per_ns, got, passed, burst, left_ns, cons = 0;
	__u64 tat, now;
	struct frame f;
	int try;

	per_ns = pps ? pps / 1e9 : rate / 8e9;	/* units per ns */
	s.len = 1000;
	build(&f, &s);
	for (try = 0; try < TRIES; try++) {
		reset();
		if (put_default(EGR, TCBPF_MODE_POLICE, rate, rate / 8, pps,
				pps, why))
			return -1;
		bucket_from(&b, rate, rate / 8, pps, pps);
		if (pps ? !b.batch_pkts : !b.batch_bytes)
			return FAILF("no batch at %llu bit/s %llu pkt/s", rate,
				     pps);
		if (hammer(&f, 3000000, &secs, why))
			return -1;
		now = now_ns();
		if (testrun_stats(&tr, LO_IFINDEX, EGR, &st) ||
		    tl_read(EGR, &bs))
			return FAILF("reading maps: %s", strerror(errno));
		tat = pps ? bs.cls[DEF].tat_pkts : bs.cls[DEF].tat_bytes;
		left_ns = (pps ? b.pburst_ns : b.burst_ns) -
			  (tat > now ? (double)(tat - now) : 0);
		passed = pps ? st.cls[DEF].pass_pkts : st.cls[DEF].pass_bytes;
		burst = pps ? b.pburst_pkts : b.burst_bytes;
		got = passed + tokens_held(EGR, DEF, pps);
		cons = (got / ((tat - hammer_t0) * per_ns) - 1) * 100;
		got += left_ns * per_ns - burst;
		err = (got / secs / 1e9 / per_ns - 1) * 100;
		if (verbose)
			printf("info: batches of %u B / %u packets: %.0f %s "
			       "passed in %.3f s, %llu frames dropped, tokens "
			       "%+.3f %% of the rate, %+.4f %% of what the "
			       "timeline moved by\n", b.batch_bytes,
			       b.batch_pkts, passed, pps ? "packets" : "bytes",
			       secs, st.cls[DEF].drop_pkts, err, cons);
		if (!st.cls[DEF].drop_pkts)
			return FAILF("nothing dropped: the flood did not "
				     "exceed the rate (%.3f s)", secs);
		if (passed > burst + secs * 1e9 * per_ns * 1.005)
			return FAILF("%.0f passed in %.3f s: over rate x time "
				     "+ burst", passed, secs);
		if (err > 0.5 || cons > 0.05)
			break;
		if (err >= -0.5 && cons >= -0.05)
			return 0;
	}
	return FAILF("%.0f %s passed in %.3f s: tokens %+.3f %% off the rate, "
		     "%+.4f %% off what the timeline moved by", passed,
		     pps ? "packets" : "bytes", secs, err, cons);
}

static int batch_rate_case(char *why)
{
	return batch_run(10000000000ULL, 0, why);
}

/* 100 kpkt/s: 125-packet batches. */
static int batch_pps_case(char *why)
{
	return batch_run(0, 100000, why);
}

/* Far above the load, two CPUs on one bucket drop nothing. */
static int batch_nodrop_case(char *why)
{
	struct fspec s = f_def;
	struct frame f;
	double secs;

	reset();
	if (put_default(EGR, TCBPF_MODE_POLICE, 1000000000000ULL, 1ULL << 30,
			0, 0, why))
		return -1;
	s.len = 1000;
	build(&f, &s);
	if (hammer(&f, 1000000, &secs, why))
		return -1;
	return check_counters(EGR, DEF, 2000000, 2000000000ULL, 0, 0, why);
}

/*
 * Policing decides from jiffies alone only when the bucket is certainly
 * still in debt (clock.h): 100 ms frames against a one-frame burst, one
 * every 2 ms. Every frame sent before the first passed one's cost had
 * elapsed is dropped, and the first frame sent after it passes: never an
 * early or a late verdict, with or without the jiffies.
 */
static int jiffies_case(char *why)
{
	const __u64 rate = 80000, cost = 100000000;	/* 1000 B: 100 ms */
	__u64 t0a, t0b, ta, tb;
	struct fspec s = f_def;
	struct frame f;
	struct run r;
	int i, drops = 0;

	reset();
	if (put_default(EGR, TCBPF_MODE_POLICE, rate, 1000, 0, 0, why))
		return -1;
	s.len = 1000;
	build(&f, &s);
	t0a = now_ns();
	if (run(EGR, f.b, f.len, 1, &r) || r.retval != TC_ACT_UNSPEC)
		return FAILF("the first frame failed or was dropped");
	t0b = now_ns();
	for (i = 0; i < 200; i++) {
		ta = now_ns();
		if (run(EGR, f.b, f.len, 1, &r))
			return FAILF("test_run: %s", strerror(-r.err));
		tb = now_ns();
		if (r.retval == TC_ACT_SHOT) {
			if (ta >= t0b + cost)
				return FAILF("dropped %.3f ms after the bucket "
					     "had room", (ta - t0b - cost) / 1e6);
			drops++;
		} else if (tb < t0a + cost) {
			return FAILF("passed %.3f ms before the bucket had room",
				     (t0a + cost - tb) / 1e6);
		} else {
			break;
		}
		usleep(2000);
	}
	if (i == 200 || drops < 10)
		return FAILF("%d drops, then %s", drops,
			     i == 200 ? "nothing passed" : "a pass");
	return 0;
}

/* ---- the CPUs' caches (bpf/pcache.h) ------------------------------------ */

/*
 * Two devices' directions whose ids share one entry of each CPU's cache
 * (the id's low bits), on one CPU: every packet of one takes the entry
 * over from the other, handing the other's counts in to its entry. The
 * second device is a real one other than lo (test_run wants one); its
 * ifindex is dev2.
 */
#define PC_IDX		37	/* the entry colliding ids share */

static cpu_set_t unpinned;	/* the CPUs before testrun_pin() */

/*
 * @fn on one CPU (the thread's now, which it is given), then back on
 * the CPUs it had; skipped without a second device.
 */
static int pinned(int (*fn)(int cpu, char *why), char *why)
{
	int cpu, err;

	if (!dev2)
		return SKIPF("no device but lo for a second one");
	cpu = testrun_pin(&unpinned);
	if (cpu < 0)
		return FAILF("pinning to one CPU: %s", strerror(errno));
	err = fn(cpu, why);
	testrun_unpin(&unpinned);
	return err;
}

/*
 * @dir of device @ifindex: @mode, the default class at @rate/@burst and
 * @pps/@pburst (0: no bucket), port 22 allowlisted; attached with an id
 * at cache entry PC_IDX (fresh timelines and counters).
 */
static int put_collide(int ifindex, __u32 dir, __u32 mode, __u64 rate,
		       __u64 burst, __u64 pps, __u64 pburst, char *why)
{
	struct tcbpf_cfg cfg;
	int err;

	cfg_init(&cfg, dir);
	cfg.mode = mode;
	cfg_ports(&cfg, al_22, 1);
	bucket_from(&cfg.cls[DEF], rate, burst, pps, pburst);
	err = testrun_cfg_put(&tr, ifindex, dir, &cfg);
	if (!err)
		err = testrun_id_set(&tr, ifindex, dir,
				     testrun_collide_id(&tr, PC_IDX));
	if (err)
		return FAILF("writing cfg of ifindex %d: %s", ifindex,
			     strerror(-err));
	return 0;
}

/*
 * A frame of @s padded to @len through @dir of device @ifindex; its
 * verdict counted into @sent, class @cls, as the program should.
 */
static int send1(int ifindex, __u32 dir, const struct fspec *s, __u16 len,
		 int cls, struct tcbpf_stats *sent, char *why)
{
	struct tcbpf_counters *c = &sent->cls[cls];
	struct fspec sp = *s;
	struct frame f;
	struct run r;

	sp.len = len;
	build(&f, &sp);
	if (run_dev_ts(ifindex, dir, f.b, f.len, 1, 0, &r))
		return FAILF("ifindex %d: test_run: %s", ifindex,
			     strerror(-r.err));
	if (!verdict_ok(r.retval))
		return FAILF("ifindex %d: verdict %d", ifindex, r.retval);
	if (r.retval == TC_ACT_SHOT) {
		c->drop_pkts++;
		c->drop_bytes += f.len;
	} else {
		c->pass_pkts++;
		c->pass_bytes += f.len;
	}
	return 0;
}

/* @dir of @ifindex counted exactly @want (entry and caches), as @who. */
static int want_stats(int ifindex, __u32 dir, const struct tcbpf_stats *want,
		      const char *who, char *why)
{
	struct tcbpf_stats s;
	int c, err = testrun_stats(&tr, ifindex, dir, &s);

	if (err)
		return FAILF("%s: reading stats: %s", who, strerror(-err));
	for (c = 0; c < TCBPF_NCLASS; c++) {
		const struct tcbpf_counters *g = &s.cls[c], *w = &want->cls[c];

		if (memcmp(g, w, sizeof(*g)))
			return FAILF("%s %s: pass %llu/%llub drop %llu/%llub "
				     "mark %llu wdrop %llu/%llub, want pass "
				     "%llu/%llub drop %llu/%llub mark %llu "
				     "wdrop %llu/%llub", who, cls_name(c),
				     g->pass_pkts, g->pass_bytes,
				     g->drop_pkts, g->drop_bytes,
				     g->mark_pkts, g->wdrop_pkts,
				     g->wdrop_bytes, w->pass_pkts,
				     w->pass_bytes, w->drop_pkts,
				     w->drop_bytes, w->mark_pkts,
				     w->wdrop_pkts, w->wdrop_bytes);
	}
	return 0;
}

/* Packets, both classes, passed and dropped. */
static __u64 pkts_of(const struct tcbpf_stats *s)
{
	__u64 n = 0;
	int c;

	for (c = 0; c < TCBPF_NCLASS; c++)
		n += s->cls[c].pass_pkts + s->cls[c].drop_pkts;
	return n;
}

/* This CPU's (@cpu's) cache entry PC_IDX. */
static int pc_read(int cpu, struct tcbpf_pc *pc)
{
	__u32 i = PC_IDX;

	if (bpf_map_lookup_elem(tr.pcache_fd, &i, tr.percpu))
		return -errno;
	*pc = tr.percpu[cpu];
	return 0;
}

/* Both colliding directions are at PC_IDX, with different ids. */
static int collide_check(int ifa, __u32 da, int ifb, __u32 db, char *why)
{
	struct tcbpf_ddir a, b;

	if (testrun_ddir(&tr, ifa, da, &a) || testrun_ddir(&tr, ifb, db, &b))
		return FAILF("reading the entries");
	if ((a.id & (TCBPF_PCACHE - 1)) != PC_IDX ||
	    (b.id & (TCBPF_PCACHE - 1)) != PC_IDX || a.id == b.id)
		return FAILF("test bug: ids %#llx and %#llx do not collide",
			     a.id, b.id);
	return 0;
}

/*
 * Cache collision: egress of lo (A, police 1 byte/s, a 5000-byte burst:
 * passes, then drops) and ingress of the second device (B, no bucket,
 * default and allow class) share cache entry PC_IDX. Bursts of 1 to 3
 * frames of each in turn, on one CPU: each device's counters, entry plus
 * caches, are exactly what was sent to it, class by class; and the
 * entries did receive hand-ins (the collision happened).
 */
static int collide_run(int cpu, char *why)
{
	struct tcbpf_stats sa = {}, sb = {};
	struct tcbpf_ddir da, db;
	int i, k;

	reset();
	if (put_collide(LO_IFINDEX, EGR, TCBPF_MODE_POLICE, SLOW_RATE, 5000,
			0, 0, why) ||
	    put_collide(dev2, ING, TCBPF_MODE_POLICE, 0, 0, 0, 0, why) ||
	    collide_check(LO_IFINDEX, EGR, dev2, ING, why))
		return -1;
	for (i = 0; i < 40; i++) {
		for (k = 0; k <= i % 3; k++)
			if (send1(LO_IFINDEX, EGR, &f_def, 600 + i * 7, DEF,
				  &sa, why))
				return -1;
		for (k = 0; k <= i % 2; k++)
			if (send1(dev2, ING, k ? &f_allow : &f_def, 200 + i, k,
				  &sb, why))
				return -1;
	}
	if (!sa.cls[DEF].pass_pkts || !sa.cls[DEF].drop_pkts)
		return FAILF("test bug: A passed %llu dropped %llu, want some "
			     "of each", sa.cls[DEF].pass_pkts,
			     sa.cls[DEF].drop_pkts);
	if (want_stats(LO_IFINDEX, EGR, &sa, "A (lo egress)", why) ||
	    want_stats(dev2, ING, &sb, "B (second device ingress)", why))
		return -1;
	testrun_ddir(&tr, LO_IFINDEX, EGR, &da);
	testrun_ddir(&tr, dev2, ING, &db);
	if (!pkts_of(&da.ctr) || !pkts_of(&db.ctr))
		return FAILF("entries hold %llu and %llu packets: no hand-in",
			     pkts_of(&da.ctr), pkts_of(&db.ctr));
	return 0;
}

/* A of detached_run(), attached anew (a new id, colliding). */
static int put_a(char *why)
{
	return put_collide(LO_IFINDEX, EGR, TCBPF_MODE_POLICE, 10000000000ULL,
			   1250000000ULL, 0, 0, why);
}

/*
 * A detached owner: A (lo egress, police 10 Gbit/s, so that its CPU holds
 * batched tokens) counts 3 frames, which stay in the cache; its entry is
 * deleted; B (second device egress, colliding) sends one: B's counters
 * are exact, and A attached again (a new id) starts at zero. Then the
 * same with A attached again before B's frame takes the entry over: the
 * hand-in finds A's key but not its tag, so neither counts nor tokens go
 * to the new A (its counters and timelines stay zero).
 */
static int detached_run(int cpu, char *why)
{
	static const struct tcbpf_stats zero;
	struct tcbpf_stats sa = {}, sb = {};
	struct tcbpf_ddir da;
	struct tcbpf_pc pc;
	int i;

	reset();
	if (put_a(why) ||
	    put_collide(dev2, EGR, TCBPF_MODE_POLICE, 0, 0, 0, 0, why) ||
	    collide_check(LO_IFINDEX, EGR, dev2, EGR, why))
		return -1;
	for (i = 0; i < 3; i++)
		if (send1(LO_IFINDEX, EGR, &f_def, 1000, DEF, &sa, why))
			return -1;
	if (want_stats(LO_IFINDEX, EGR, &sa, "A", why))
		return -1;
	testrun_ddir(&tr, LO_IFINDEX, EGR, &da);
	if (pc_read(cpu, &pc) || pc.tag != da.id || pkts_of(&da.ctr) ||
	    !pc.tok[DEF].bytes)
		return FAILF("test bug: A's frames not in the cache (entry "
			     "%llu packets, %u tokens held)",
			     pkts_of(&da.ctr), pc.tok[DEF].bytes);

	/* detached, B takes the entry over, A attached again */
	testrun_cfg_del(&tr, LO_IFINDEX, EGR);
	if (send1(dev2, EGR, &f_def, 500, DEF, &sb, why) ||
	    want_stats(dev2, EGR, &sb, "B after A's detach", why) ||
	    put_a(why) ||
	    want_stats(LO_IFINDEX, EGR, &zero, "A attached again", why))
		return -1;

	/* A takes the entry back (B's frame handed in to B's entry) */
	memset(&sa, 0, sizeof(sa));
	for (i = 0; i < 3; i++)
		if (send1(LO_IFINDEX, EGR, &f_def, 1000, DEF, &sa, why))
			return -1;
	if (want_stats(LO_IFINDEX, EGR, &sa, "A", why) ||
	    want_stats(dev2, EGR, &sb, "B handed in", why))
		return -1;

	/* attached again before B's next frame finds its cache entry */
	testrun_cfg_del(&tr, LO_IFINDEX, EGR);
	if (put_a(why) ||
	    send1(dev2, EGR, &f_def, 500, DEF, &sb, why) ||
	    want_stats(dev2, EGR, &sb, "B", why) ||
	    want_stats(LO_IFINDEX, EGR, &zero, "A attached again before B's "
		       "frame", why))
		return -1;
	testrun_ddir(&tr, LO_IFINDEX, EGR, &da);
	if (pkts_of(&da.ctr) || da.tl[DEF].tat_bytes || da.tl[DEF].tat_pkts)
		return FAILF("the new A's entry got the old one's hand-in: "
			     "%llu packets, tat_bytes %llu", pkts_of(&da.ctr),
			     da.tl[DEF].tat_bytes);
	/* and it counts its own from zero */
	memset(&sa, 0, sizeof(sa));
	if (send1(LO_IFINDEX, EGR, &f_def, 1000, DEF, &sa, why) ||
	    want_stats(LO_IFINDEX, EGR, &sa, "A's first frame", why) ||
	    want_stats(dev2, EGR, &sb, "B at the end", why))
		return -1;
	return 0;
}

/*
 * A hand-in gives the batched tokens its CPU holds back to the owner's
 * timelines, at exactly what they cost: A (lo egress, police 10 Gbit/s
 * and 100 kpkt/s, batches of both) passes one frame; B (colliding) takes
 * the cache entry over: A's timelines move back by the cost of the bytes
 * and packets its cache held, and by nothing more when B goes on.
 */
static int handin_tokens_run(int cpu, char *why)
{
	const __u64 rate = 10000000000ULL, pps = 100000;
	struct tcbpf_stats sa = {}, sb = {};
	struct tcbpf_ddir d1, d2, d3;
	struct tcbpf_bucket_cfg b;
	struct tcbpf_pc pc;
	__u64 back_b, back_p;

	reset();
	bucket_from(&b, rate, rate / 8, pps, pps);
	if (!b.batch_bytes || !b.batch_pkts)
		return FAILF("no batches at %llu bit/s %llu pkt/s", rate, pps);
	if (put_collide(LO_IFINDEX, EGR, TCBPF_MODE_POLICE, rate, rate / 8,
			pps, pps, why) ||
	    put_collide(dev2, ING, TCBPF_MODE_POLICE, 0, 0, 0, 0, why) ||
	    collide_check(LO_IFINDEX, EGR, dev2, ING, why) ||
	    send1(LO_IFINDEX, EGR, &f_def, 1000, DEF, &sa, why))
		return -1;
	testrun_ddir(&tr, LO_IFINDEX, EGR, &d1);
	if (pc_read(cpu, &pc) || pc.tag != d1.id || !pc.tok[DEF].bytes ||
	    !pc.tok[DEF].pkts)
		return FAILF("test bug: A's CPU holds %u bytes and %u packets",
			     pc.tok[DEF].bytes, pc.tok[DEF].pkts);
	back_b = bucket_cost(&b, pc.tok[DEF].bytes);
	back_p = b.pkt_ns * pc.tok[DEF].pkts;
	if (send1(dev2, ING, &f_def, 100, DEF, &sb, why))
		return -1;
	testrun_ddir(&tr, LO_IFINDEX, EGR, &d2);
	if (d1.tl[DEF].tat_bytes - d2.tl[DEF].tat_bytes != back_b ||
	    d1.tl[DEF].tat_pkts - d2.tl[DEF].tat_pkts != back_p)
		return FAILF("timelines moved back %lld ns (bytes) and %lld "
			     "ns (packets), want %llu and %llu (%u bytes, %u "
			     "packets held)",
			     (long long)(d1.tl[DEF].tat_bytes -
					 d2.tl[DEF].tat_bytes),
			     (long long)(d1.tl[DEF].tat_pkts -
					 d2.tl[DEF].tat_pkts),
			     back_b, back_p, pc.tok[DEF].bytes,
			     pc.tok[DEF].pkts);
	if (send1(dev2, ING, &f_def, 100, DEF, &sb, why) ||
	    want_stats(LO_IFINDEX, EGR, &sa, "A", why) ||
	    want_stats(dev2, ING, &sb, "B", why))
		return -1;
	testrun_ddir(&tr, LO_IFINDEX, EGR, &d3);
	if (memcmp(d2.tl, d3.tl, sizeof(d2.tl)))
		return FAILF("A's timelines moved again on B's next frame");
	return 0;
}

/*
 * Reader consistency: 1000 frames alternating between A (lo ingress,
 * police 1 byte/s with a 200000-byte burst: passes, then drops) and B
 * (second device egress, default and allow class), colliding, on one
 * CPU. After every frame the cache entry is the sender's with that one
 * frame in it (the collision happened), and both devices' entry plus
 * caches are exactly what was sent to each.
 */
static int reader_run(int cpu, char *why)
{
	struct tcbpf_stats sa = {}, sb = {};
	struct tcbpf_ddir da, db;
	struct tcbpf_pc pc;
	int i;

	reset();
	if (put_collide(LO_IFINDEX, ING, TCBPF_MODE_POLICE, SLOW_RATE, 200000,
			0, 0, why) ||
	    put_collide(dev2, EGR, TCBPF_MODE_POLICE, 0, 0, 0, 0, why) ||
	    collide_check(LO_IFINDEX, ING, dev2, EGR, why))
		return -1;
	testrun_ddir(&tr, LO_IFINDEX, ING, &da);
	testrun_ddir(&tr, dev2, EGR, &db);
	for (i = 0; i < 1000; i++) {
		bool a = !(i % 2);
		int allow = !a && (i / 2) % 3 == 0;
		const char *who = a ? "A" : "B";

		if (a ? send1(LO_IFINDEX, ING, &f_def, 60 + i * 37 % 1441,
			      DEF, &sa, why) :
			send1(dev2, EGR, allow ? &f_allow : &f_def,
			      60 + i * 53 % 1441, allow, &sb, why))
			return -1;
		if (pc_read(cpu, &pc))
			return -1;
		if (pc.tag != (a ? da.id : db.id) || pkts_of(&pc.ctr) != 1)
			return FAILF("frame %d: the cache entry has tag %#llx "
				     "with %llu packets, want %s's with 1", i,
				     pc.tag, pkts_of(&pc.ctr), who);
		if (want_stats(LO_IFINDEX, ING, &sa, "A", why) ||
		    want_stats(dev2, EGR, &sb, "B", why)) {
			snprintf(why + strlen(why), WHY_LEN - strlen(why),
				 " after frame %d", i);
			return -1;
		}
	}
	if (!sa.cls[DEF].pass_pkts || !sa.cls[DEF].drop_pkts)
		return FAILF("test bug: A passed %llu dropped %llu, want some "
			     "of each", sa.cls[DEF].pass_pkts,
			     sa.cls[DEF].drop_pkts);
	return 0;
}

static int collide_case(char *why)
{
	return pinned(collide_run, why);
}

static int detached_case(char *why)
{
	return pinned(detached_run, why);
}

static int handin_tokens_case(char *why)
{
	return pinned(handin_tokens_run, why);
}

static int reader_case(char *why)
{
	return pinned(reader_run, why);
}

/* ---- tcbpf_set: an entry changed in place ------------------------------- */

/* A profile apart from testrun_prof()'s (lo uses 2 and 3). */
#define SET_PROF	(TCBPF_MAX_PROFS - 1)

/*
 * Arguments for tcbpf_set that change nothing of @ifindex's entry (read
 * into @dev): its dirs, hook, ids, profiles, flags and pacing ifb as they
 * are, no direction in set, no move, nothing added.
 */
static int set_args(int ifindex, struct tcbpf_set_args *a,
		    struct tcbpf_dev *dev)
{
	int d;

	memset(a, 0, sizeof(*a));
	a->key.ifindex = ifindex;
	if (bpf_map_lookup_elem(tr.cfg_fd, &a->key, dev))
		return -errno;
	a->dirs = dev->dirs;
	a->hook = dev->hook;
	for (d = 0; d < TCBPF_NDIR; d++) {
		a->id[d] = dev->dir[d].id;
		a->prof[d] = dev->dir[d].prof;
		a->flags[d] = dev->dir[d].flags;
		a->pace_ifindex[d] = dev->dir[d].pace_ifindex;
	}
	return 0;
}

/* Run tcbpf_set; fails unless its answer is @want. */
static int set_run(struct tcbpf_set_args *a, int want, char *why)
{
	int ret = testrun_set(&tr, a);

	if (ret != want)
		return FAILF("tcbpf_set: %d (%s), want %d", ret,
			     ret < 0 ? strerror(-ret) : "?", want);
	return 0;
}

static struct tcbpf_dev dev_of(int ifindex)
{
	struct tcbpf_key key = { .ifindex = ifindex };
	struct tcbpf_dev dev = {};

	bpf_map_lookup_elem(tr.cfg_fd, &key, &dev);
	return dev;
}

/*
 * Another profile in place (a 10000-byte burst instead of 3000 at
 * 1 byte/s), the id kept: the direction's timelines and counters are
 * what they were, the other direction is untouched, and the next frame
 * is judged by the new profile (it passes; the old would drop it).
 */
static int set_prof_case(char *why)
{
	static const __u16 lens[] = { 1000, 1000, 1000, 1000, 1000 };
	struct tcbpf_set_args a;
	struct tcbpf_dev d0, d1;
	struct tcbpf_stats s0;
	struct tcbpf_cfg cfg;
	__u32 p = SET_PROF;

	reset();
	if (put_default(EGR, TCBPF_MODE_POLICE, SLOW_RATE, 3000, 0, 0, why) ||
	    put_default(ING, TCBPF_MODE_POLICE, SLOW_RATE, 2000, 0, 0, why) ||
	    seq_want(EGR, &f_def, lens, "PPPDD", "egress", why) ||
	    seq_want(ING, &f_def, lens, "PPD", "ingress", why))
		return -1;
	if (testrun_stats(&tr, LO_IFINDEX, EGR, &s0))
		return FAILF("reading stats: %s", strerror(errno));
	cfg_init(&cfg, EGR);
	cfg_ports(&cfg, al_22, 1);
	bucket_from(&cfg.cls[DEF], SLOW_RATE, 10000, 0, 0);
	if (bpf_map_update_elem(tr.prof_fd, &p, &cfg.prof, BPF_ANY))
		return FAILF("writing profile %u: %s", p, strerror(errno));
	if (set_args(LO_IFINDEX, &a, &d0))
		return FAILF("reading the entry: %s", strerror(errno));
	a.set = 1U << EGR;
	a.prof[EGR] = p;
	a.pace_ifindex[EGR] = 77;
	a.id[ING] = 1;		/* not in set: ignored */
	a.prof[ING] = 5;
	if (set_run(&a, 0, why))
		return -1;
	d1 = dev_of(LO_IFINDEX);
	if (d1.dir[EGR].prof != p || d1.dir[EGR].pace_ifindex != 77)
		return FAILF("profile %u pace_ifindex %u, want %u and 77",
			     d1.dir[EGR].prof, d1.dir[EGR].pace_ifindex, p);
	if (d1.dir[EGR].id != d0.dir[EGR].id)
		return FAILF("the id changed");
	if (memcmp(d1.dir[EGR].tl, d0.dir[EGR].tl, sizeof(d0.dir[EGR].tl)))
		return FAILF("the timelines changed");
	if (memcmp(&d1.dir[EGR].ctr, &d0.dir[EGR].ctr,
		   sizeof(d0.dir[EGR].ctr)) ||
	    want_stats(LO_IFINDEX, EGR, &s0, "egress after the change", why))
		return FAILF("the counters changed");
	if (memcmp(&d1.dir[ING], &d0.dir[ING], sizeof(d0.dir[ING])))
		return FAILF("ingress, not in set, changed");
	if (d1.dirs != d0.dirs || d1.hook != d0.hook)
		return FAILF("dirs %#x hook %u, want %#x and %u", d1.dirs,
			     d1.hook, d0.dirs, d0.hook);
	if (seq_want(EGR, &f_def, lens, "P", "the new profile's", why))
		return -1;
	return check_counters(EGR, DEF, 4, 4000, 2, 2000, why);
}

/* A move of the timelines: distinct for each direction, class and unit. */
static __u64 tl_delta(int d, int c, int pkts)
{
	__u64 m = (d * 4 + c * 2 + pkts + 1) * 1000003ULL;

	return (d + c + pkts) % 2 ? -m : m;
}

/* What tcbpf_set adds: distinct for each direction, class and counter. */
static void add_of(struct tcbpf_stats *s, int d)
{
	int c;

	for (c = 0; c < TCBPF_NCLASS; c++) {
		__u64 b = (d * 2 + c + 1) * 100;
		struct tcbpf_counters *k = &s->cls[c];

		k->pass_pkts = b + 1;
		k->pass_bytes = b * 1000 + 2;
		k->drop_pkts = b + 3;
		k->drop_bytes = b * 1000 + 4;
		k->mark_pkts = b + 5;
		k->wdrop_pkts = b + 6;
		k->wdrop_bytes = b * 1000 + 7;
	}
}

static void stats_add(struct tcbpf_stats *to, const struct tcbpf_stats *s)
{
	__u64 *t = (__u64 *)to;
	const __u64 *f = (const __u64 *)s;
	size_t i;

	for (i = 0; i < sizeof(*s) / sizeof(__u64); i++)
		t[i] += f[i];
}

/*
 * Both directions in set, ids kept: each timeline (direction, class,
 * bytes and packets) moves by exactly tl_new - tl_old, also when the
 * timeline is no longer at tl_old (as if a CPU had moved it since the
 * CLI read it: tl_old is what was read less 7777 ns); and @add is added
 * to every counter of both directions.
 */
static int set_move_case(char *why)
{
	static const __u16 lens[] = { 1000, 1000, 1000 };
	struct tcbpf_stats s0[TCBPF_NDIR], add[TCBPF_NDIR];
	struct tcbpf_set_args a;
	struct tcbpf_dev d0, d1;
	int d, c, k;

	reset();
	for (d = 0; d < TCBPF_NDIR; d++)
		if (put_default(d, TCBPF_MODE_POLICE, SLOW_RATE, 3000,
				SLOW_PPS, 5, why) ||
		    seq_want(d, &f_def, lens, "PP", "a start", why))
			return -1;
	if (set_args(LO_IFINDEX, &a, &d0))
		return FAILF("reading the entry: %s", strerror(errno));
	a.set = 1U << ING | 1U << EGR;
	for (d = 0; d < TCBPF_NDIR; d++) {
		if (testrun_stats(&tr, LO_IFINDEX, d, &s0[d]))
			return FAILF("reading stats: %s", strerror(errno));
		for (c = 0; c < TCBPF_NCLASS; c++) {
			struct tcbpf_bucket_state *o = &a.tl_old[d][c];
			struct tcbpf_bucket_state *n = &a.tl_new[d][c];

			o->tat_bytes = d0.dir[d].tl[c].tat_bytes - 7777;
			o->tat_pkts = d0.dir[d].tl[c].tat_pkts - 7777;
			n->tat_bytes = o->tat_bytes + tl_delta(d, c, 0);
			n->tat_pkts = o->tat_pkts + tl_delta(d, c, 1);
		}
		add_of(&add[d], d);
		a.add[d] = add[d];
	}
	if (set_run(&a, 0, why))
		return -1;
	d1 = dev_of(LO_IFINDEX);
	for (d = 0; d < TCBPF_NDIR; d++) {
		for (c = 0; c < TCBPF_NCLASS; c++) {
			for (k = 0; k < 2; k++) {
				__u64 was = k ? d0.dir[d].tl[c].tat_pkts :
						d0.dir[d].tl[c].tat_bytes;
				__u64 is = k ? d1.dir[d].tl[c].tat_pkts :
					       d1.dir[d].tl[c].tat_bytes;

				if (is - was == tl_delta(d, c, k))
					continue;
				return FAILF("%s %s tat_%s moved by %lld ns, "
					     "want %lld", d == ING ? "ingress" :
					     "egress", cls_name(c),
					     k ? "pkts" : "bytes",
					     (long long)(is - was),
					     (long long)tl_delta(d, c, k));
			}
		}
		stats_add(&s0[d], &add[d]);
		if (want_stats(LO_IFINDEX, d, &s0[d], d == ING ? "ingress" :
			       "egress", why))
			return -1;
		if (d1.dir[d].id != d0.dir[d].id ||
		    d1.dir[d].prof != d0.dir[d].prof)
			return FAILF("id or profile changed");
	}
	return 0;
}

/*
 * A new id for a direction: its timelines and counters start from zero
 * (what was added to the entry and what the caches hold of the old id
 * too), the next frame meets a full bucket; with @add in the same call
 * the counters are @add.
 */
static int set_new_id_case(char *why)
{
	static const __u16 lens[] = { 1000, 1000, 1000, 1000, 1000 };
	static const struct tcbpf_stats zero;
	struct tcbpf_stats add;
	struct tcbpf_set_args a;
	struct tcbpf_dev d0, d1;

	reset();
	if (put_default(EGR, TCBPF_MODE_POLICE, SLOW_RATE, 3000, 0, 0, why) ||
	    seq_want(EGR, &f_def, lens, "PPPDD", "egress", why))
		return -1;
	/* counts in the entry too, not only in the cache */
	if (set_args(LO_IFINDEX, &a, &d0))
		return FAILF("reading the entry: %s", strerror(errno));
	a.set = 1U << EGR;
	add_of(&a.add[EGR], EGR);
	if (set_run(&a, 0, why))
		return -1;
	d1 = dev_of(LO_IFINDEX);
	if (!pkts_of(&d1.dir[EGR].ctr))
		return FAILF("test bug: nothing added to the entry");

	if (set_args(LO_IFINDEX, &a, &d0))
		return FAILF("reading the entry: %s", strerror(errno));
	a.set = 1U << EGR;
	a.id[EGR] = testrun_id(&tr);
	if (set_run(&a, 0, why))
		return -1;
	d1 = dev_of(LO_IFINDEX);
	if (d1.dir[EGR].id != a.id[EGR] || d1.dir[EGR].prof != d0.dir[EGR].prof)
		return FAILF("id %#llx profile %u, want %#llx and %u",
			     d1.dir[EGR].id, d1.dir[EGR].prof, a.id[EGR],
			     d0.dir[EGR].prof);
	if (d1.dir[EGR].tl[DEF].tat_bytes || d1.dir[EGR].tl[DEF].tat_pkts ||
	    d1.dir[EGR].tl[ALLOW].tat_bytes || d1.dir[EGR].tl[ALLOW].tat_pkts)
		return FAILF("timelines kept with a new id");
	if (want_stats(LO_IFINDEX, EGR, &zero, "with a new id", why))
		return -1;
	if (seq_want(EGR, &f_def, lens, "PPPDD", "with a new id", why) ||
	    check_counters(EGR, DEF, 3, 3000, 2, 2000, why))
		return -1;

	if (set_args(LO_IFINDEX, &a, &d0))
		return FAILF("reading the entry: %s", strerror(errno));
	a.set = 1U << EGR;
	a.id[EGR] = testrun_id(&tr);
	add_of(&add, EGR);
	a.add[EGR] = add;
	if (set_run(&a, 0, why))
		return -1;
	return want_stats(LO_IFINDEX, EGR, &add, "a new id with add", why);
}

/*
 * dirs and hook from the call: egress dropped from dirs is no longer
 * limited (its frames pass uncounted), then back in dirs with a new id
 * it starts from zero; an entry that is not there, a device's or a
 * VXLAN network's, is -ENOENT and changes nothing.
 */
static int set_dirs_case(char *why)
{
	static const __u16 lens[] = { 1000, 1000, 1000 };
	struct tcbpf_set_args a;
	struct tcbpf_dev d0, d1;
	struct tcbpf_ddir dd;

	reset();
	if (put_default(ING, TCBPF_MODE_POLICE, SLOW_RATE, 1000, 0, 0, why) ||
	    put_default(EGR, TCBPF_MODE_POLICE, SLOW_RATE, 1000, 0, 0, why) ||
	    seq_want(EGR, &f_def, lens, "PDD", "egress", why))
		return -1;
	if (set_args(LO_IFINDEX, &a, &d0))
		return FAILF("reading the entry: %s", strerror(errno));
	a.dirs = 1U << ING;
	a.hook = TCBPF_HOOK_TCX;
	if (set_run(&a, 0, why))
		return -1;
	d1 = dev_of(LO_IFINDEX);
	if (d1.dirs != 1U << ING || d1.hook != TCBPF_HOOK_TCX)
		return FAILF("dirs %#x hook %u, want %#x and %u", d1.dirs,
			     d1.hook, 1U << ING, TCBPF_HOOK_TCX);
	if (seq_want(EGR, &f_def, lens, "PPP", "egress out of dirs", why))
		return -1;
	if (testrun_ddir(&tr, LO_IFINDEX, EGR, &dd) != -ENOENT)
		return FAILF("egress still in the entry");

	if (set_args(LO_IFINDEX, &a, &d0))
		return FAILF("reading the entry: %s", strerror(errno));
	a.dirs = 1U << ING | 1U << EGR;
	a.set = 1U << EGR;
	a.id[EGR] = testrun_id(&tr);
	a.prof[EGR] = testrun_prof(LO_IFINDEX, EGR);
	if (set_run(&a, 0, why) ||
	    seq_want(EGR, &f_def, lens, "PDD", "egress back in dirs", why) ||
	    check_counters(EGR, DEF, 1, 1000, 2, 2000, why))
		return -1;

	d0 = dev_of(LO_IFINDEX);
	memset(&a, 0, sizeof(a));
	a.key.ifindex = 4242;
	a.dirs = a.set = 1U << ING | 1U << EGR;
	if (set_run(&a, -ENOENT, why))
		return -1;
	a.key.ifindex = LO_IFINDEX;
	a.vni = 0xc9 + 1;
	if (set_run(&a, -ENOENT, why))
		return -1;
	d1 = dev_of(LO_IFINDEX);
	if (memcmp(&d0, &d1, sizeof(d0)))
		return FAILF("lo's entry changed by a call for another");
	return 0;
}

/*
 * The device's own flags (TCBPF_F_DEV) in the entry are the CLI's: with
 * them set, the direction is limited and counted by its profile as
 * before.
 */
static int set_flags_case(char *why)
{
	static const __u16 lens[] = { 1000, 1000, 1000 };
	struct tcbpf_set_args a;
	struct tcbpf_dev d0, d1;

	reset();
	if (put_default(EGR, TCBPF_MODE_POLICE, SLOW_RATE, 1000, 0, 0, why))
		return -1;
	if (set_args(LO_IFINDEX, &a, &d0))
		return FAILF("reading the entry: %s", strerror(errno));
	a.set = 1U << EGR;
	a.flags[EGR] = TCBPF_F_OWN_CLSACT | TCBPF_F_OWN_FQ;
	if (set_run(&a, 0, why))
		return -1;
	d1 = dev_of(LO_IFINDEX);
	if (d1.dir[EGR].flags != (TCBPF_F_OWN_CLSACT | TCBPF_F_OWN_FQ))
		return FAILF("flags %#x, want %#x", d1.dir[EGR].flags,
			     TCBPF_F_OWN_CLSACT | TCBPF_F_OWN_FQ);
	if (seq_want(EGR, &f_def, lens, "PDD", "with the device's flags", why))
		return -1;
	return check_counters(EGR, DEF, 1, 1000, 2, 2000, why);
}

/* ---- derivation (lib/bucket.c) ------------------------------------------ */

/*
 * What the data path charges for a length (the 32.32 multiplier) is
 * floor(len * 8e9 / rate), or 1 ns more when that division is inexact;
 * police batches stay within 0.5 % of a second's worth of the rate and a
 * quarter of the burst over all CPUs, and a batch's cost converted back
 * never gives more bytes than the batch.
 */
static int derive_case(char *why)
{
	static const __u64 rates[] = { 1, 8, 3000, 1000000, 1000000007ULL,
				       100000000000ULL, 1000000000000ULL };
	static const __u64 lens[] = { 1, 60, 1514, 65535, 1 << 20 };
	int cpus = bucket_cpus();
	size_t i, j;

	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		struct tcbpf_bucket_cfg b;
		__u64 r = rates[i], burst = r / 8 ? r / 8 : 1;	/* 1 s */

		bucket_from(&b, r, burst, 0, 0);
		for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			unsigned __int128 x = (unsigned __int128)lens[j] * 8 *
					      NSEC_PER_SEC;
			__u64 want = x / r, got = bucket_cost(&b, lens[j]);

			if (got != want && (got != want + 1 || x % r == 0))
				return FAILF("%llu B at %llu bit/s: %llu ns, "
					     "want %llu", lens[j], r, got, want);
		}
		if (!b.batch_bytes)
			continue;
		if ((unsigned __int128)b.batch_bytes * cpus * 8 * 200 > r ||
		    (__u64)b.batch_ns * cpus * 4 > b.burst_ns + 4 * cpus)
			return FAILF("%llu bit/s: batch %u B (%u ns) x %d CPUs "
				     "is over 0.5 %% of a second or a quarter "
				     "of the burst", r, b.batch_bytes,
				     b.batch_ns, cpus);
		if ((((unsigned __int128)b.batch_ns * b.ns_bytes) >> 32) >
		    b.batch_bytes)
			return FAILF("%llu bit/s: a batch's cost buys back "
				     "more than the batch", r);
	}
	return 0;
}

/* ---- informational: per-packet cost ------------------------------------- */

static void timing(void)
{
	static const struct {
		const char *name;
		struct fspec f;
	} t[] = {
		{ "ipv4 tcp 64b", IP4(TCP, EPH, 22, .len = 64) },
		{ "ipv6 hbh+dst+rt udp", IP6(UDP, EPH, 22, EXT(H, D, R)) },
		{ "qinq ipv4 udp 1000b", IP4(UDP, EPH, 80, QINQ, .len = 1000) },
	};
	char why[WHY_LEN];
	struct frame f;
	struct run r0, r1, r2;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		build(&f, &t[i].f);
		reset();
		/* No cfg, count only, both buckets (never empty). */
		run(EGR, f.b, f.len, 100000, &r0);
		put_default(EGR, TCBPF_MODE_MONITOR, 0, 0, 0, 0, why);
		run(EGR, f.b, f.len, 100000, &r1);
		put_default(EGR, TCBPF_MODE_POLICE, 1000000000000ULL,
			    1ULL << 40, 100000000, 100000000, why);
		run(EGR, f.b, f.len, 100000, &r2);
		printf("info: %-22s %4zu bytes: %u ns no cfg, %u ns monitor, "
		       "%u ns police\n", t[i].name, f.len, r0.duration,
		       r1.duration, r2.duration);
	}
}

/* ---- setup and main ----------------------------------------------------- */

/* The lowest ifindex after lo's, for a second device; 0 none. */
static int second_dev(void)
{
	struct if_nameindex *ni = if_nameindex(), *p;
	int best = 0;

	for (p = ni; p && p->if_index; p++)
		if (p->if_index > LO_IFINDEX &&
		    (!best || p->if_index < (unsigned)best))
			best = p->if_index;
	if (ni)
		if_freenameindex(ni);
	return best;
}

static int print_fn(enum libbpf_print_level level, const char *fmt,
		    va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static const struct {
	const char *name;
	__u32 dir;
	struct fspec f;
} truncs[] = {
	{ "truncated ipv4 tcp", EGR, IP4(TCP, EPH, 22) },
	{ "truncated ipv4 40 bytes of options udp", ING,
	  IP4(UDP, 22, EPH, .optlen = 40) },
	{ "truncated ipv6 hbh+dstopts+routing udp", ING,
	  IP6(UDP, 22, EPH, EXT(H, D, R)) },
	{ "truncated qinq ipv4 tcp", ING, IP4(TCP, 22, EPH, QINQ) },
	{ "truncated qinq ipv6 ah sctp", EGR,
	  IP6(SCTP, EPH, 22, QINQ, EXT(A)) },
};

static const struct {
	const char *name;
	int (*fn)(char *why);
} cases[] = {
	{ "derived costs and batches", derive_case },
	{ "garbage frames", garbage_case },
	{ "no cfg passes uncounted", nocfg_case },
	{ "byte bucket 3000b: 3 of 1000b pass", bytes_case },
	{ "counters exact over mixed sizes", counters_case },
	{ "packet bucket 10pps/5: 5 pass", pkts_case },
	{ "packet token refunded on byte drop", refund_case },
	{ "gso packet counts its segments and their headers", gso_segs_case },
	{ "frame larger than burst passes on full bucket only", gso_case },
	{ "monitor mode never drops, counts", monitor_case },
	{ "directions are independent", direction_case },
	{ "allow class has its own bucket", allow_bucket_case },
	{ "repeat 50 with a 7-frame burst", repeat_case },
	{ "timelines move by exact costs", timeline_case },
	{ "edt: burst at once, then exactly at the rate", edt_rate_case },
	{ "edt: delay for the default class only", edt_delay_case },
	{ "edt: ecn marks past the threshold", edt_ecn_case },
	{ "edt: a later tcp departure time is kept", edt_keep_case },
	{ "two CPUs: exactly a 50-frame burst passes", cas_case },
	{ "two CPUs: exactly a 100000-frame burst passes", cas_long_case },
	{ "two CPUs: 1 Gbit/s stays within rate", rate_case },
	{ "two CPUs, batches: 10 Gbit/s within 0.5 %", batch_rate_case },
	{ "two CPUs, batches: 100 kpkt/s within 0.5 %", batch_pps_case },
	{ "two CPUs, batches: far above the load, no drop", batch_nodrop_case },
	{ "police: no verdict early or late from jiffies", jiffies_case },
	{ "cache: two devices colliding, each counted exactly", collide_case },
	{ "cache: a detached owner's counts go to no one", detached_case },
	{ "cache: a hand-in gives batched tokens back", handin_tokens_case },
	{ "cache: exact after each of 1000 alternating collisions",
	  reader_case },
	{ "tcbpf_set: another profile in place keeps counters and timelines",
	  set_prof_case },
	{ "tcbpf_set: timelines moved by tl_new - tl_old, add added",
	  set_move_case },
	{ "tcbpf_set: a new id starts from zero", set_new_id_case },
	{ "tcbpf_set: dirs and hook; an unknown entry is -ENOENT",
	  set_dirs_case },
	{ "tcbpf_set: the device's flags leave its profile alone",
	  set_flags_case },
};

/*
 * The verifier's budget: each program must verify in well under the
 * kernel's limit of a million processed instructions (BPF_COMPLEXITY_
 * LIMIT_INSNS). Before classify() and the buckets' slow paths became
 * global functions the programs took 611k and 732k: one more branch in
 * the wrong place, or a newer kernel's verifier, from a load that fails
 * on every host. Also what the load costs an alert's first attach.
 */
#define VERIFIER_BUDGET	400000

static int verifier_case(char *why)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, tr.skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len)) {
			snprintf(why, WHY_LEN, "%s: prog info: %s",
				 bpf_program__name(p), strerror(errno));
			return -1;
		}
		if (verbose)
			printf("  # %s: %u insns verified\n",
			       bpf_program__name(p), info.verified_insns);
		if (!info.verified_insns)	/* kernel < 5.16: not told */
			continue;
		if (info.verified_insns > VERIFIER_BUDGET) {
			snprintf(why, WHY_LEN, "%s: %u instructions verified, "
				 "budget %u (the kernel's limit 1000000)",
				 bpf_program__name(p), info.verified_insns,
				 VERIFIER_BUDGET);
			return -1;
		}
	}
	return 0;
}

int main(void)
{
	char why[WHY_LEN] = "";
	const char *v = getenv("V");
	size_t i;

	if (geteuid() != 0) {
		printf("SKIP: all: needs root for BPF_PROG_TEST_RUN\n");
		return 0;
	}
	verbose = v && !strcmp(v, "1");
	libbpf_set_print(print_fn);
	dev2 = second_dev();

	if (testrun_load(&tr, why, WHY_LEN)) {
		report("load private skeleton", -1, why);
		testrun_close(&tr);
		return 1;
	}
	report("load private skeleton", 0, NULL);
	report("verifier: every program within 40 % of the kernel's limit",
	       verifier_case(why), why);

	for (i = 0; i < sizeof(ccases) / sizeof(ccases[0]); i++)
		report(ccases[i].name, class_case(&ccases[i], why), why);
	for (i = 0; i < sizeof(truncs) / sizeof(truncs[0]); i++)
		report(truncs[i].name, trunc_case(truncs[i].dir, &truncs[i].f,
						  why), why);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		report(cases[i].name, cases[i].fn(why), why);
	if (verbose)
		timing();

	testrun_close(&tr);
	printf("%d cases, %d failed\n", ncases, nfail);
	return nfail ? 1 : 0;
}
