// SPDX-License-Identifier: GPL-2.0-only
/*
 * ppcost.c - per-packet cost of tcbpf's programs under BPF_PROG_TEST_RUN,
 * next to an empty tc program and a "floor" program (clock read + array
 * lookup + compare-and-swap, bench/floor.bpf.c) measured in the same
 * process, in interleaved rounds, so the ratios hold on a noisy machine.
 *
 *   ppcost [-r REPEAT] [-R ROUNDS] [-o FILE.json]
 *
 * Loads private copies of tcbpf's skeleton (tests/testrun.h) and of the
 * floor object (no map is pinned: /sys/fs/bpf/tcbpf is never touched),
 * writes settings for ifindex 1 (lo: test_run wants a real device) with
 * the CLI's own arithmetic (lib/bucket.h) and runs the BPF tests' frames
 * (tests/frames.h).
 * Each figure is the median over ROUNDS of test_run's own ns-per-run with
 * REPEAT runs. Then two threads pinned to CPUs 0 and 1 run at once on the
 * same device's buckets (and, as controls, on buckets in other cache lines
 * and in the same cache line) to show what the atomics cost under
 * contention, and whether contention ever turns into a wrong verdict.
 *
 * Writes JSON to FILE (stdout without -o), a readable summary to stderr.
 * Exits 1 when something could not be measured.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tcbpf.h"
#include "floor.skel.h"
#include "lib/bucket.h"
#include "../tests/frames.h"
#include "../tests/testrun.h"

#define LO_IFINDEX	1
#define MAX_ROUNDS	64
#define TC_ACT_UNSPEC	(-1)
#define TC_ACT_SHOT	2
#define TC_ACT_REDIRECT	7
#define HUGE_RATE	1000000000000ULL	/* 1 tbit: never in the way */
#define HUGE_BURST	(1ULL << 40)

static struct testrun tr;	/* tcbpf's programs and maps */
static struct floor_bpf *fsk;
static int repeat = 1000000, rounds = 5;

/* The frame of the probes and the contention runs. */
static const struct fspec f_tcp64 = IP4(TCP, 40000, 80, .len = 64);

/* ---- settings ----------------------------------------------------------- */

enum cfgkind { C_NONE, C_POLICE, C_DROP, C_MONITOR, C_PPS, C_EDT };

/* The defaults' shape (allow 22,3389 tcp+udp), with rates that never get
 * in the way unless @kind is C_DROP. */
static int cfg_set(__u32 dir, __u32 slot, enum cfgkind kind)
{
	struct tcbpf_cfg c;

	testrun_cfg_del(&tr, LO_IFINDEX, dir);
	if (kind == C_NONE)
		return 0;
	memset(&c, 0, sizeof(c));
	c.mode = kind == C_MONITOR ? TCBPF_MODE_MONITOR :
		 kind == C_EDT ? TCBPF_MODE_EDT : TCBPF_MODE_POLICE;
	c.hook = TCBPF_HOOK_TCX;
	c.nports = 2;
	c.ports[0] = (struct tcbpf_port){ 22, 22, TCBPF_P_TCP | TCBPF_P_UDP };
	c.ports[1] = (struct tcbpf_port){ 3389, 3389, TCBPF_P_TCP | TCBPF_P_UDP };
	if (kind == C_DROP)	/* 8 bit/s, 1500 bytes: empty after one */
		bucket_from(&c.cls[TCBPF_CLASS_DEFAULT], 8, 1500, 0, 0);
	else
		bucket_from(&c.cls[TCBPF_CLASS_DEFAULT], HUGE_RATE, HUGE_BURST,
			    kind == C_PPS ? 1000000000 : 0,
			    kind == C_PPS ? 1000000000 : 0);
	bucket_from(&c.cls[TCBPF_CLASS_ALLOW], HUGE_RATE, HUGE_BURST, 0, 0);
	if (kind == C_EDT)	/* the CLI's derived horizon and ECN mark */
		edt_derive(&c, &(struct spec_dir){ .mode = TCBPF_MODE_EDT });
	/* ingress EDT: the default class goes to the pacing ifb (lo here:
	 * test_run only reports the redirect, it does not perform it) */
	if (kind == C_EDT && dir == TCBPF_INGRESS)
		c.pace_ifindex = LO_IFINDEX;
	strcpy(c.ifname, "lo");
	return testrun_cfg_put(&tr, LO_IFINDEX, dir, &c);
}

/* Packets dropped (@drops) or passed in @dir, both classes. */
static __u64 stats_sum(__u32 dir, bool drops)
{
	struct tcbpf_stats s;
	__u64 n = 0;
	int c;

	if (testrun_stats(&tr, LO_IFINDEX, dir, &s))
		return 0;
	for (c = 0; c < TCBPF_NCLASS; c++)
		n += drops ? s.cls[c].drop_pkts : s.cls[c].pass_pkts;
	return n;
}

/* ---- running ------------------------------------------------------------ */

/*
 * ns per run of @fd over @n runs of @f; -1 on error. *@ret: last verdict.
 * ingress_ifindex: the device the packet arrived on, which tcbpf_pace (on
 * the pacing ifb) looks the settings up by; the other programs ignore it.
 */
static double run(int fd, const struct frame *f, int n, int *ret)
{
	struct __sk_buff ctx = { .ifindex = LO_IFINDEX,
				 .ingress_ifindex = LO_IFINDEX };
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = f->b,
		.data_size_in = f->len,
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.repeat = n,
	);

	if (bpf_prog_test_run_opts(fd, &o))
		return -1;
	if (ret)
		*ret = (int)o.retval;
	return o.duration;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Median over the rounds of each of @n programs on frame @f; the programs
 * run in a rotating order within each round.
 */
static int measure(const int *fds, int n, const struct frame *f, double *med,
		   int *ret)
{
	double v[8][MAX_ROUNDS];

	if (n > 8)
		return -EINVAL;
	int r, i, k;

	for (r = 0; r < rounds; r++) {
		for (k = 0; k < n; k++) {
			i = (k + r) % n;
			v[i][r] = run(fds[i], f, repeat, i == n - 1 ? ret : NULL);
			if (v[i][r] < 0)
				return -errno;
		}
	}
	for (i = 0; i < n; i++)
		med[i] = median(v[i], rounds);
	return 0;
}

/* ---- single-thread cases ------------------------------------------------ */

struct pcase {
	const char *name;
	const char *key;
	__u32 dir;
	enum cfgkind kind;
	struct fspec f;
	int want;		/* expected verdict */
	bool target;		/* one of the cases (vs extra) */
	bool pace;		/* tcbpf_pace (the ifb's egress), not dir's */
};

static const struct pcase pcases[] = {
	{ "IPv4 TCP 64 B, pass", "ipv4_tcp_64", TCBPF_INGRESS, C_POLICE,
	  IP4(TCP, 40000, 80, .len = 64), TC_ACT_UNSPEC, true },
	{ "IPv4 TCP 1500 B, pass", "ipv4_tcp_1500", TCBPF_INGRESS, C_POLICE,
	  IP4(TCP, 40000, 80, .len = 1514), TC_ACT_UNSPEC, true },
	{ "IPv6 + HBH + DST, UDP, pass", "ipv6_ext2_udp", TCBPF_INGRESS,
	  C_POLICE, IP6(UDP, 40000, 53, EXT(IPPROTO_HOPOPTS, IPPROTO_DSTOPTS),
			.len = 100), TC_ACT_UNSPEC, true },
	{ "QinQ IPv4 UDP, pass", "qinq_ipv4_udp", TCBPF_INGRESS, C_POLICE,
	  IP4(UDP, 40000, 53, QINQ, .len = 72), TC_ACT_UNSPEC, true },
	{ "allow class (sshd sport 22), pass", "allow_tcp_22", TCBPF_INGRESS,
	  C_POLICE, IP4(TCP, 22, 40000, .len = 64), TC_ACT_UNSPEC, true },
	{ "IPv4 TCP 64 B, drop", "drop_ipv4_tcp_64", TCBPF_INGRESS, C_DROP,
	  IP4(TCP, 40000, 80, .len = 64), TC_ACT_SHOT, true },
	{ "no limiter on the device", "no_cfg", TCBPF_INGRESS, C_NONE,
	  IP4(TCP, 40000, 80, .len = 64), TC_ACT_UNSPEC, false },
	{ "monitor mode", "monitor", TCBPF_INGRESS, C_MONITOR,
	  IP4(TCP, 40000, 80, .len = 64), TC_ACT_UNSPEC, false },
	{ "bits + packets buckets", "pps_and_rate", TCBPF_INGRESS, C_PPS,
	  IP4(TCP, 40000, 80, .len = 64), TC_ACT_UNSPEC, false },
	{ "EDT stamp (to the VM)", "edt_egress", TCBPF_EGRESS, C_EDT,
	  IP4(TCP, 80, 40000, .len = 64), TC_ACT_UNSPEC, false },
	/* ingress EDT, the two halves of a packet's path from the VM: the
	 * tap's program redirects it, the ifb's takes, stamps and counts */
	{ "ingress EDT: redirect at the tap", "edt_ingress_redirect",
	  TCBPF_INGRESS, C_EDT, IP4(TCP, 40000, 80, .len = 64),
	  TC_ACT_REDIRECT, false },
	{ "ingress EDT: tcbpf_pace on the ifb", "edt_ingress_pace",
	  TCBPF_INGRESS, C_EDT, IP4(TCP, 40000, 80, .len = 64),
	  TC_ACT_UNSPEC, false, true },
};

#define NPCASES (sizeof(pcases) / sizeof(pcases[0]))

static const char *verdict(int r)
{
	return r == TC_ACT_SHOT ? "drop" : r == TC_ACT_UNSPEC ? "pass" :
	       r == TC_ACT_REDIRECT ? "redirect" : "other";
}

static int cases_run(FILE *out)
{
	int empty = bpf_program__fd(fsk->progs.bench_empty);
	int flr = bpf_program__fd(fsk->progs.bench_floor);
	int parse = bpf_program__fd(fsk->progs.probe_parse);
	int pace = bpf_program__fd(tr.skel->progs.tcbpf_pace);
	struct frame f;
	size_t i;
	int err = 0;

	fprintf(out, "  \"cases\": [\n");
	for (i = 0; i < NPCASES; i++) {
		const struct pcase *c = &pcases[i];
		int fds[4] = { empty, flr, parse,
			       c->pace ? pace : tr.prog[c->dir] }, ret = 0;
		double m[4];

		build(&f, &c->f);
		cfg_set(TCBPF_INGRESS, 0, C_NONE);
		cfg_set(TCBPF_EGRESS, 1, C_NONE);
		if (cfg_set(c->dir, c->dir, c->kind)) {
			fprintf(stderr, "ppcost: %s: cannot write settings: %s\n",
				c->name, strerror(errno));
			return -1;
		}
		if (measure(fds, 4, &f, m, &ret)) {
			fprintf(stderr, "ppcost: %s: test_run: %s\n", c->name,
				strerror(errno));
			return -1;
		}
		if (ret != c->want) {
			fprintf(stderr, "ppcost: %s: verdict %d, want %d\n",
				c->name, ret, c->want);
			err = 1;	/* measured, but not what it claims */
		}
		fprintf(stderr, "  %-36s %5zu B %-4s tcbpf %6.1f ns  empty %5.1f"
			"  floor %5.1f  parse %5.1f  x%.2f of floor  +%.1f ns\n",
			c->name, f.len, verdict(ret), m[3], m[0], m[1], m[2],
			m[3] / m[1], m[3] - m[0]);
		fprintf(out, "    {\"key\": \"%s\", \"name\": \"%s\", "
			"\"issue_case\": %s, \"dir\": \"%s\", \"frame_bytes\": %zu, "
			"\"program\": \"%s\", "
			"\"verdict\": \"%s\", \"verdict_ok\": %s, "
			"\"tcbpf_ns\": %.2f, \"empty_ns\": %.2f, \"floor_ns\": %.2f, "
			"\"parse_ns\": %.2f, \"ratio_floor\": %.4f, "
			"\"ratio_empty\": %.4f, \"added_ns\": %.2f, "
			"\"added_over_floor_ns\": %.2f}%s\n",
			c->key, c->name, c->target ? "true" : "false",
			c->dir == TCBPF_INGRESS ? "from_vm" : "to_vm", f.len,
			c->pace ? "tcbpf_pace" : c->dir == TCBPF_INGRESS ?
			"tcbpf_ingress" : "tcbpf_egress", verdict(ret), ret == c->want ? "true" : "false", m[3],
			m[0], m[1], m[2], m[3] / m[1], m[3] / m[0], m[3] - m[0],
			m[3] - m[1], i + 1 < NPCASES ? "," : "");
	}
	fprintf(out, "  ],\n");
	return err;
}

/* The probes: "empty + one thing", frame-independent (IPv4 TCP 64 B). */
static int probes_run(FILE *out)
{
	static const char *names[] = { "empty", "floor", "ktime", "array",
				       "hash", "cas", "hash_div", "coarse" };
	int fds[8] = {
		bpf_program__fd(fsk->progs.bench_empty),
		bpf_program__fd(fsk->progs.bench_floor),
		bpf_program__fd(fsk->progs.probe_ktime),
		bpf_program__fd(fsk->progs.probe_array),
		bpf_program__fd(fsk->progs.probe_hash),
		bpf_program__fd(fsk->progs.probe_cas),
		bpf_program__fd(fsk->progs.probe_div),
		bpf_program__fd(fsk->progs.probe_coarse),
	};
	struct tcbpf_key key = { .ifindex = LO_IFINDEX };
	struct tcbpf_dev d = { .dirs = 1 };
	struct frame f;
	double m[8];
	int i;

	d.dir[0].id = 1000000007ULL;	/* probe_div's divisor */
	if (bpf_map_update_elem(bpf_map__fd(fsk->maps.tcbpf_cfg), &key, &d,
				BPF_ANY))
		return -1;
	build(&f, &f_tcp64);
	if (measure(fds, 8, &f, m, NULL))
		return -1;
	fprintf(stderr, "  probes:");
	fprintf(out, "  \"probes_ns\": {");
	for (i = 0; i < 8; i++) {
		fprintf(stderr, " %s %.1f", names[i], m[i]);
		fprintf(out, "\"%s\": %.2f%s", names[i], m[i], i < 7 ? ", " : "");
	}
	fprintf(stderr, " ns\n");
	fprintf(out, "},\n");
	return 0;
}

/* ---- two CPUs at once ---------------------------------------------------- */

struct worker {
	pthread_t tid;
	pthread_barrier_t *start;
	int cpu, fd, n;
	const struct frame *f;
	double ns;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	pthread_barrier_wait(w->start);
	w->ns = run(w->fd, w->f, w->n, NULL);
	return NULL;
}

/* Run @fd[0] on CPU 0 and @fd[1] on CPU 1 at once; ns per run of each. */
static int pair(const int fd[2], const struct frame *f, double ns[2])
{
	pthread_barrier_t start;
	struct worker w[2];
	int i;

	pthread_barrier_init(&start, NULL, 2);
	for (i = 0; i < 2; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].start = &start;
		w[i].cpu = i;
		w[i].fd = fd[i];
		w[i].n = repeat * 2;
		w[i].f = f;
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]))
			return -1;
	}
	for (i = 0; i < 2; i++)
		pthread_join(w[i].tid, NULL);
	pthread_barrier_destroy(&start);
	for (i = 0; i < 2; i++)
		ns[i] = w[i].ns;
	return ns[0] < 0 || ns[1] < 0 ? -1 : 0;
}

struct ccase {
	const char *name;
	const char *key;
	int slot_in, slot_eg;	/* -1: that direction unused */
	bool floor;		/* the floor program instead of tcbpf */
	bool empty;
};

static const struct ccase ccases[] = {
	{ "tcbpf, same device, same bucket", "same_bucket", 0, -1, false, false },
	{ "tcbpf, two devices, buckets in other cache lines", "other_lines",
	  0, 2, false, false },
	{ "tcbpf, two devices, buckets in one cache line", "same_line",
	  0, 1, false, false },
	{ "floor program, same array entry", "floor_same_entry", -1, -1,
	  true, false },
	{ "empty program", "empty", -1, -1, false, true },
};

#define NCCASES (sizeof(ccases) / sizeof(ccases[0]))

static int contention_run(FILE *out)
{
	int empty = bpf_program__fd(fsk->progs.bench_empty);
	int flr = bpf_program__fd(fsk->progs.bench_floor);
	struct frame f;
	size_t i;
	int r, k;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		fprintf(out, "  \"contention\": null\n");
		fprintf(stderr, "  contention: needs two CPUs\n");
		return 0;
	}
	build(&f, &f_tcp64);
	fprintf(out, "  \"contention\": [\n");
	for (i = 0; i < NCCASES; i++) {
		const struct ccase *c = &ccases[i];
		double one[MAX_ROUNDS], two[2][MAX_ROUNDS], m1, m2[2];
		int fd[2], sfd;
		__u64 drops = 0, passes = 0;

		cfg_set(TCBPF_INGRESS, 0, C_NONE);
		cfg_set(TCBPF_EGRESS, 1, C_NONE);
		if (c->empty) {
			fd[0] = fd[1] = sfd = empty;
		} else if (c->floor) {
			fd[0] = fd[1] = sfd = flr;
		} else {
			cfg_set(TCBPF_INGRESS, c->slot_in, C_POLICE);
			fd[0] = sfd = tr.prog[TCBPF_INGRESS];
			fd[1] = tr.prog[TCBPF_INGRESS];
			if (c->slot_eg >= 0) {
				cfg_set(TCBPF_EGRESS, c->slot_eg, C_POLICE);
				fd[1] = tr.prog[TCBPF_EGRESS];
			}
			for (k = 0; k < TCBPF_NDIR; k++)
				testrun_stats_zero(&tr, LO_IFINDEX, k);
		}
		for (r = 0; r < rounds; r++) {
			double ns[2];
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(0, &set);
			sched_setaffinity(0, sizeof(set), &set);
			one[r] = run(sfd, &f, repeat * 2, NULL);
			CPU_ZERO(&set);
			CPU_SET(0, &set);
			CPU_SET(1, &set);
			sched_setaffinity(0, sizeof(set), &set);
			if (one[r] < 0 || pair(fd, &f, ns))
				return -1;
			two[0][r] = ns[0];
			two[1][r] = ns[1];
		}
		if (!c->empty && !c->floor) {
			for (k = 0; k < TCBPF_NDIR; k++) {
				drops += stats_sum(k, true);
				passes += stats_sum(k, false);
			}
		}
		m1 = median(one, rounds);
		m2[0] = median(two[0], rounds);
		m2[1] = median(two[1], rounds);
		fprintf(stderr, "  2 CPUs: %-46s alone %5.1f ns, together "
			"%5.1f / %5.1f ns (x%.2f)%s\n", c->name, m1, m2[0],
			m2[1], (m2[0] + m2[1]) / 2 / m1,
			drops ? " WRONG DROPS" : "");
		fprintf(out, "    {\"key\": \"%s\", \"name\": \"%s\", "
			"\"alone_ns\": %.2f, \"cpu0_ns\": %.2f, \"cpu1_ns\": %.2f, "
			"\"ratio\": %.4f, \"mpps_alone\": %.3f, "
			"\"mpps_together\": %.3f, \"passed\": %llu, "
			"\"wrong_drops\": %llu}%s\n",
			c->key, c->name, m1, m2[0], m2[1],
			(m2[0] + m2[1]) / 2 / m1, 1e3 / m1,
			1e3 / m2[0] + 1e3 / m2[1],
			(unsigned long long)passes, (unsigned long long)drops,
			i + 1 < NCCASES ? "," : "");
	}
	fprintf(out, "  ]\n");
	return 0;
}

/* ---- setup and main ----------------------------------------------------- */

static int print_fn(enum libbpf_print_level level, const char *fmt,
		    va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int setup(char *err, size_t len)
{
	int ret = testrun_load(&tr, err, len);

	if (ret)
		return ret;
	fsk = floor_bpf__open_and_load();
	if (!fsk) {
		ret = -errno;
		snprintf(err, len, "loading floor.bpf.o: %s", strerror(-ret));
	}
	return ret;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	FILE *out = stdout;
	char msg[256];
	int opt, err;

	while ((opt = getopt(argc, argv, "r:R:o:")) != -1) {
		switch (opt) {
		case 'r':
			repeat = atoi(optarg);
			break;
		case 'R':
			rounds = atoi(optarg);
			break;
		case 'o':
			path = optarg;
			break;
		default:
			fprintf(stderr, "usage: ppcost [-r REPEAT] [-R ROUNDS] "
				"[-o FILE]\n");
			return 2;
		}
	}
	if (repeat < 1 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "ppcost: bad -r or -R\n");
		return 2;
	}
	libbpf_set_print(print_fn);
	if (setup(msg, sizeof(msg))) {
		fprintf(stderr, "ppcost: %s\n", msg);
		return 1;
	}
	if (path && !(out = fopen(path, "w"))) {
		fprintf(stderr, "ppcost: %s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(stderr, "ppcost: repeat %d, %d rounds, medians\n", repeat,
		rounds);
	fprintf(out, "{\n  \"repeat\": %d, \"rounds\": %d,\n", repeat, rounds);
	err = probes_run(out);
	if (!err)
		err = cases_run(out);
	if (err >= 0 && contention_run(out))
		err = -1;
	fprintf(out, "}\n");
	if (out != stdout)
		fclose(out);
	testrun_close(&tr);
	floor_bpf__destroy(fsk);
	return err ? 1 : 0;
}
