// SPDX-License-Identifier: GPL-2.0-only
/*
 * nl_test.c - the netlink layers (user/kern/nl.c, user/kern/qdisc.c) and
 * the qdisc side of user/lib/pace.c against the running kernel.
 *
 * The process moves itself into a fresh network namespace
 * (unshare(CLONE_NEWNET)); ip(8) and tc(8), run through system(), only
 * set devices up and look at the result. One line per case: "PASS: name",
 * "FAIL: name: why" or "SKIP: name: why"; exit 1 if any case failed.
 * Without root (or without ip/tc) every case is skipped.
 *
 * This kernel has no sch_fq: the fq cases check that the kernel's message
 * reaches the caller and that nothing changed; the mq path is exercised
 * with pfifo children instead.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/wait.h>
#include <linux/rtnetlink.h>

#include "kern/nl.h"
#include "kern/qdisc.h"
#include "lib/pace.h"

enum { PASS, FAIL, SKIP };

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			snprintf(why, whylen, __VA_ARGS__);		\
			return FAIL;					\
		}							\
	} while (0)

#define INGRESS	TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)
#define EGRESS	TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)

static int verbose;

__attribute__((format(printf, 1, 2)))
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (verbose)
		fprintf(stderr, "+ %s\n", cmd);
	if (!verbose)
		strncat(cmd, " >/dev/null 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	st = system(cmd);
	if (st < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* A command's stdout, trailing white space removed. */
__attribute__((format(printf, 3, 4)))
static char *out(char *buf, size_t len, const char *fmt, ...)
{
	char cmd[512];
	size_t n = 0;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	buf[0] = '\0';
	f = popen(cmd, "r");
	if (!f)
		return buf;
	n = fread(buf, 1, len - 1, f);
	pclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return buf;
}

/* veth @a/@b with @ntx queues (0: the default), both up; @a's ifindex. */
static int veth(const char *a, const char *b, int ntx)
{
	char q[64] = "";

	if (ntx)
		snprintf(q, sizeof(q), "numtxqueues %d numrxqueues %d", ntx, ntx);
	if (sh("ip link add name %s %s type veth peer name %s", a, q, b) ||
	    sh("ip link set dev %s up", a) || sh("ip link set dev %s up", b))
		return -1;
	return (int)if_nametoindex(a);
}

/* tc's view of @dev's qdiscs, without htb's packet counter. */
static char *show(char *buf, size_t len, const char *dev)
{
	return out(buf, len, "tc qdisc show dev %s | "
		   "sed 's/ direct_packets_stat [0-9]*//'", dev);
}

/* ---- cases ---- */

static int t_root_default(char *why, size_t whylen)
{
	struct qdisc q;
	int ifx, err;

	ifx = veth("rd0", "rd1", 1);
	CHECK(ifx > 0, "cannot create veth");
	err = qdisc_root(ifx, &q);
	CHECK(!err, "qdisc_root: %s", strerror(-err));
	CHECK(!strcmp(q.kind, "noqueue"), "kind %s, want noqueue", q.kind);
	CHECK(q.handle == 0 && q.parent == TC_H_ROOT,
	      "handle %x parent %x", q.handle, q.parent);
	CHECK(qdisc_is_default(&q), "not reported as default");
	CHECK(!q.opts && !q.stab, "noqueue with options");
	qdisc_clear(&q);
	return PASS;
}

static int t_no_device(char *why, size_t whylen)
{
	struct fq_params p = { 0 };
	struct qdisc q, *l;
	char err[256];
	int n, ifx = 999999;

	CHECK(qdisc_root(ifx, &q) == -ENODEV, "qdisc_root");
	CHECK(qdisc_list(ifx, &l, &n) == -ENODEV && !l && !n, "qdisc_list");
	CHECK(qdisc_has_clsact(ifx) == -ENODEV, "qdisc_has_clsact");
	CHECK(qdisc_filter_count(ifx, INGRESS) == -ENODEV, "qdisc_filter_count");
	CHECK(qdisc_num_tx_queues(ifx) == -ENODEV, "qdisc_num_tx_queues");
	CHECK(qdisc_fq_install(ifx, &p, err, sizeof(err)) == -ENODEV,
	      "qdisc_fq_install: %s", err);
	return PASS;
}

static int t_qdisc_list(char *why, size_t whylen)
{
	struct qdisc *q;
	int ifx, n, err, i, seen = 0;

	ifx = veth("ql0", "ql1", 1);
	CHECK(ifx > 0, "cannot create veth");
	CHECK(!sh("tc qdisc add dev ql0 root tbf rate 1mbit burst 10k latency 50ms") &&
	      !sh("tc qdisc add dev ql0 clsact") &&
	      !sh("tc qdisc add dev ql1 root tbf rate 2mbit burst 10k latency 50ms") &&
	      !sh("tc qdisc add dev ql1 ingress"), "tc qdisc add");
	err = qdisc_list(ifx, &q, &n);
	CHECK(!err, "qdisc_list: %s", strerror(-err));
	for (i = 0; i < n; i++) {
		if (!strcmp(q[i].kind, "tbf") && q[i].parent == TC_H_ROOT &&
		    q[i].handle && q[i].opts)
			seen |= 1;
		else if (!strcmp(q[i].kind, "clsact") &&
			 q[i].parent == TC_H_CLSACT &&
			 q[i].handle == TC_H_MAKE(TC_H_CLSACT, 0))
			seen |= 2;
		else
			seen |= 4;
	}
	qdisc_free(q, n);
	CHECK(n == 2 && seen == 3, "%d qdiscs, seen %#x", n, seen);
	return PASS;
}

/* Root tbf, saved; @mangle replaces it; restore; tc shows it as before. */
static int tbf_case(char *why, size_t whylen, const char *dev, const char *peer,
		    int (*mangle)(const char *dev, const struct qdisc *saved))
{
	char before[512], after[512], mid[512], err[256];
	struct qdisc saved;
	int ifx, ret;

	ifx = veth(dev, peer, 1);
	CHECK(ifx > 0, "cannot create veth");
	CHECK(!sh("tc qdisc add dev %s root tbf rate 1mbit burst 10k latency 50ms",
		  dev), "tc qdisc add tbf");
	show(before, sizeof(before), dev);
	CHECK(strstr(before, "tbf") && strstr(before, "rate 1Mbit") &&
	      strstr(before, "burst 10Kb") && strstr(before, "lat 50ms"),
	      "unexpected tc output: %s", before);

	ret = qdisc_root(ifx, &saved);
	CHECK(!ret, "qdisc_root: %s", strerror(-ret));
	CHECK(!strcmp(saved.kind, "tbf") && saved.handle && saved.opts &&
	      !qdisc_is_default(&saved), "saved %s %x", saved.kind, saved.handle);

	ret = mangle(dev, &saved);
	show(mid, sizeof(mid), dev);
	if (ret || !strcmp(mid, before)) {
		qdisc_clear(&saved);
		CHECK(0, "setup did not change the root: %s", mid);
	}
	ret = qdisc_restore(ifx, &saved, err, sizeof(err));
	qdisc_clear(&saved);
	CHECK(!ret, "qdisc_restore: %d %s", ret, err);
	show(after, sizeof(after), dev);
	CHECK(!strcmp(before, after), "before \"%s\", after \"%s\"", before, after);
	return PASS;
}

static int mangle_htb(const char *dev, const struct qdisc *saved)
{
	return sh("tc qdisc replace dev %s root handle 1: htb default 10", dev);
}

static int mangle_same_handle(const char *dev, const struct qdisc *saved)
{
	return sh("tc qdisc del dev %s root", dev) ||
	       sh("tc qdisc add dev %s root handle %x: htb", dev,
		  TC_H_MAJ(saved->handle) >> 16);
}

static int mangle_install(const char *dev, const struct qdisc *saved)
{
	struct tc_fifo_qopt fifo = { .limit = 20 };
	char err[256];

	return qdisc_install(if_nametoindex(dev), "pfifo", &fifo,
				sizeof(fifo), err, sizeof(err));
}

static int t_restore_tbf(char *why, size_t whylen)
{
	return tbf_case(why, whylen, "rt0", "rt1", mangle_htb);
}

static int t_restore_tbf_same_handle(char *why, size_t whylen)
{
	return tbf_case(why, whylen, "rs0", "rs1", mangle_same_handle);
}

static int t_restore_tbf_after_install(char *why, size_t whylen)
{
	return tbf_case(why, whylen, "ri0", "ri1", mangle_install);
}

/* Nothing changed since the save: restore leaves the tbf alone. */
static int t_restore_unchanged(char *why, size_t whylen)
{
	char before[512], after[512], err[256];
	struct qdisc saved;
	int ifx, ret;

	ifx = veth("ru0", "ru1", 1);
	CHECK(ifx > 0, "cannot create veth");
	CHECK(!sh("tc qdisc add dev ru0 root tbf rate 1mbit burst 10k latency 50ms"),
	      "tc qdisc add tbf");
	show(before, sizeof(before), "ru0");
	CHECK(!qdisc_root(ifx, &saved), "qdisc_root");
	ret = qdisc_restore(ifx, &saved, err, sizeof(err));
	qdisc_clear(&saved);
	CHECK(!ret, "qdisc_restore: %s", err);
	show(after, sizeof(after), "ru0");
	CHECK(!strcmp(before, after), "before \"%s\", after \"%s\"", before, after);
	return PASS;
}

static int t_restore_default(char *why, size_t whylen)
{
	struct tc_fifo_qopt fifo = { .limit = 33 };
	struct qdisc saved, q;
	char err[256], buf[512];
	int ifx, ret;

	ifx = veth("de0", "de1", 1);
	CHECK(ifx > 0, "cannot create veth");
	CHECK(!qdisc_root(ifx, &saved), "qdisc_root");
	ret = qdisc_install(ifx, "pfifo", &fifo, sizeof(fifo), err, sizeof(err));
	CHECK(!ret, "qdisc_install: %s", err);
	CHECK(!qdisc_root(ifx, &q), "qdisc_root");
	CHECK(!strcmp(q.kind, "pfifo") && q.handle == QDISC_HANDLE,
	      "installed %s %x", q.kind, q.handle);
	qdisc_clear(&q);
	show(buf, sizeof(buf), "de0");
	CHECK(strstr(buf, "pfifo 7cbf: root") && strstr(buf, "limit 33p"),
	      "tc shows %s", buf);

	ret = qdisc_restore(ifx, &saved, err, sizeof(err));
	CHECK(!ret, "qdisc_restore: %s", err);
	CHECK(!qdisc_root(ifx, &q), "qdisc_root");
	CHECK(!strcmp(q.kind, "noqueue") && q.handle == 0, "restored %s %x",
	      q.kind, q.handle);
	qdisc_clear(&q);
	/* a second restore finds the default there already */
	ret = qdisc_restore(ifx, &saved, err, sizeof(err));
	CHECK(!ret, "second qdisc_restore: %s", err);
	qdisc_clear(&saved);
	return PASS;
}

static int same_qdisc(const struct qdisc *a, const struct qdisc *b)
{
	return a->handle == b->handle && a->parent == b->parent &&
	       !strcmp(a->kind, b->kind) &&
	       !a->opts == !b->opts && a->opts_len == b->opts_len &&
	       (!a->opts || !memcmp(a->opts, b->opts, a->opts_len)) &&
	       !a->stab == !b->stab && a->stab_len == b->stab_len &&
	       (!a->stab || !memcmp(a->stab, b->stab, a->stab_len));
}

static int t_serialize(char *why, size_t whylen)
{
	char before[512], after[512], err[256], buf[1024];
	struct qdisc saved, back, def;
	int ifx, n, ret;

	ifx = veth("se0", "se1", 0);
	CHECK(ifx > 0, "cannot create veth");
	CHECK(!qdisc_root(ifx, &def), "qdisc_root");
	CHECK(!sh("tc qdisc add dev se0 root tbf rate 1mbit burst 10k latency 50ms"),
	      "tc qdisc add");
	show(before, sizeof(before), "se0");
	CHECK(!qdisc_root(ifx, &saved), "qdisc_root");

	n = pace_save_encode(&saved, NULL, 0);
	CHECK(n > 0 && (size_t)n < sizeof(buf), "size %d", n);
	CHECK(pace_save_encode(&saved, buf, n - 1) == -ENOSPC, "short buffer");
	CHECK(pace_save_encode(&saved, buf, sizeof(buf)) == n, "serialize");
	CHECK(!pace_save_decode(buf, n, &back), "deserialize");
	CHECK(same_qdisc(&saved, &back), "round trip differs");
	CHECK(pace_save_decode(buf, n - 1, &def) == -EINVAL, "truncated accepted");
	CHECK(pace_save_decode(buf, n + 1, &def) == -EINVAL, "trailing byte accepted");
	buf[0] ^= 0xff;
	CHECK(pace_save_decode(buf, n, &def) == -EINVAL, "bad magic accepted");
	qdisc_clear(&saved);

	/* The detach side: restore from the bytes alone. */
	CHECK(!sh("tc qdisc replace dev se0 root handle 1: htb"), "tc replace");
	ret = qdisc_restore(ifx, &back, err, sizeof(err));
	qdisc_clear(&back);
	CHECK(!ret, "qdisc_restore: %s", err);
	show(after, sizeof(after), "se0");
	CHECK(!strcmp(before, after), "before \"%s\", after \"%s\"", before, after);

	/* A default root: no options, and NULL stays NULL. */
	CHECK(!sh("ip link add name se2 type veth peer name se3") &&
	      !sh("ip link set dev se2 up"), "veth");
	CHECK(!qdisc_root(if_nametoindex("se2"), &def), "qdisc_root");
	n = pace_save_encode(&def, buf, sizeof(buf));
	CHECK(n > 0 && !pace_save_decode(buf, n, &back), "default round trip");
	CHECK(same_qdisc(&def, &back) && !back.opts, "default differs");
	qdisc_clear(&def);
	qdisc_clear(&back);
	return PASS;
}

static int t_has_clsact(char *why, size_t whylen)
{
	int ifx, r;

	ifx = veth("hc0", "hc1", 1);
	CHECK(ifx > 0, "cannot create veth");
	CHECK((r = qdisc_has_clsact(ifx)) == 0, "none: %d", r);
	CHECK(!sh("tc qdisc add dev hc0 clsact"), "tc add clsact");
	CHECK((r = qdisc_has_clsact(ifx)) == 1, "clsact: %d", r);
	CHECK(!sh("tc qdisc del dev hc0 clsact") &&
	      !sh("tc qdisc add dev hc0 ingress"), "tc add ingress");
	CHECK((r = qdisc_has_clsact(ifx)) == 2, "ingress: %d", r);
	return PASS;
}

static int t_filter_count(char *why, size_t whylen)
{
	int ifx, i, e;

	ifx = veth("fc0", "fc1", 1);
	CHECK(ifx > 0, "cannot create veth");
	CHECK((i = qdisc_filter_count(ifx, INGRESS)) == 0, "no qdisc: %d", i);
	CHECK(!sh("tc qdisc add dev fc0 clsact"), "tc add clsact");
	i = qdisc_filter_count(ifx, INGRESS);
	e = qdisc_filter_count(ifx, EGRESS);
	CHECK(i == 0 && e == 0, "empty: %d %d", i, e);

	CHECK(!sh("tc filter add dev fc0 ingress protocol all prio 10 u32 match u32 0 0"),
	      "tc filter add u32");
	i = qdisc_filter_count(ifx, INGRESS);
	e = qdisc_filter_count(ifx, EGRESS);
	CHECK(i == 1 && e == 0, "one u32: %d %d", i, e);

	CHECK(!sh("tc filter add dev fc0 ingress protocol all prio 11 u32 match u32 0 0"),
	      "tc filter add u32");
	CHECK(!sh("tc filter add dev fc0 egress prio 20 bpf bytecode '1,6 0 0 0,'"),
	      "tc filter add bpf");
	i = qdisc_filter_count(ifx, INGRESS);
	e = qdisc_filter_count(ifx, EGRESS);
	CHECK(i == 2 && e == 1, "two u32 + one bpf: %d %d", i, e);

	/* two handles under one bpf classifier instance */
	CHECK(!sh("tc filter add dev fc0 egress prio 20 handle 7 bpf bytecode '1,6 0 0 0,'"),
	      "tc filter add bpf");
	i = qdisc_filter_count(ifx, INGRESS);
	e = qdisc_filter_count(ifx, EGRESS);
	CHECK(i == 2 && e == 2, "two u32 + two bpf: %d %d", i, e);

	CHECK(!sh("tc filter del dev fc0 ingress prio 10") &&
	      !sh("tc filter del dev fc0 egress prio 20"), "tc filter del");
	i = qdisc_filter_count(ifx, INGRESS);
	e = qdisc_filter_count(ifx, EGRESS);
	CHECK(i == 1 && e == 0, "after delete: %d %d", i, e);
	return PASS;
}

static int t_filter_count_ingress_qdisc(char *why, size_t whylen)
{
	int ifx, i, e;

	ifx = veth("fi0", "fi1", 1);
	CHECK(ifx > 0, "cannot create veth");
	CHECK(!sh("tc qdisc add dev fi0 ingress") &&
	      !sh("tc filter add dev fi0 parent ffff: protocol all prio 1 u32 match u32 0 0"),
	      "tc add ingress + filter");
	i = qdisc_filter_count(ifx, INGRESS);
	e = qdisc_filter_count(ifx, EGRESS);
	CHECK(i == 1 && e == 0, "ingress qdisc: %d %d", i, e);
	return PASS;
}

static int t_num_tx_queues(char *why, size_t whylen)
{
	int a, b, n;

	a = veth("nt0", "nt1", 4);
	b = veth("nt2", "nt3", 1);
	CHECK(a > 0 && b > 0, "cannot create veth");
	CHECK((n = qdisc_num_tx_queues(a)) == 4, "multi-queue: %d", n);
	CHECK((n = qdisc_num_tx_queues(b)) == 1, "single-queue: %d", n);
	return PASS;
}

static int fq_fails(char *why, size_t whylen, const char *dev, const char *peer,
		    int ntx, const char *tbf)
{
	char before[2048], after[2048], err[256];
	struct fq_params p;
	int ifx, ret;

	ifx = veth(dev, peer, ntx);
	CHECK(ifx > 0, "cannot create veth");
	if (tbf)
		CHECK(!sh("tc qdisc add dev %s root %s", dev, tbf), "tc qdisc add");
	show(before, sizeof(before), dev);
	pace_fq_params(&(struct pace_class){ .rate_bits = 100000000ULL }, 1,
		       400000000ULL, 50000000ULL, 1500, &p);
	err[0] = '\0';
	ret = qdisc_fq_install(ifx, &p, err, sizeof(err));
	if (ret == 0)
		return SKIP;	/* this kernel has sch_fq after all */
	CHECK(ret == -ENOENT, "returned %d (%s)", ret, err);
	CHECK(strstr(err, "Specified qdisc kind is unknown"),
	      "no kernel message: \"%s\"", err);
	CHECK(strstr(err, ntx > 1 ? "fq on 7cbf:1: " : "fq at root: "),
	      "no context: \"%s\"", err);
	if (verbose)
		fprintf(stderr, "  err: %s\n", err);
	show(after, sizeof(after), dev);
	CHECK(!strcmp(before, after), "before \"%s\", after \"%s\"", before, after);
	return PASS;
}

static int t_fq_fails(char *why, size_t whylen)
{
	return fq_fails(why, whylen, "fq0", "fq1", 1, NULL);
}

static int t_fq_fails_tbf(char *why, size_t whylen)
{
	return fq_fails(why, whylen, "ft0", "ft1", 1,
			"tbf rate 1mbit burst 10k latency 50ms");
}

static int t_fq_fails_mq(char *why, size_t whylen)
{
	return fq_fails(why, whylen, "fm0", "fm1", 4, NULL);
}

static int t_fq_fails_mq_tbf(char *why, size_t whylen)
{
	return fq_fails(why, whylen, "fn0", "fn1", 4,
			"tbf rate 1mbit burst 10k latency 50ms");
}

static int t_fq_params(char *why, size_t whylen)
{
	struct pace_class cls[2];
	struct fq_params p, bad;
	char err[256];
	int ifx, ret;

	pace_fq_params(&(struct pace_class){ .rate_bits = 100000000ULL }, 1,
		       400000000ULL, 0, 1500, &p);
	/* the worked example in pace.c: 3,303 frames of 1514 bytes */
	CHECK(p.flow_limit == 4228, "flow_limit %u", p.flow_limit);
	CHECK(p.limit == 10000, "limit %u", p.limit);
	CHECK(p.horizon_ns == 451000000ULL && !p.horizon_cap,
	      "horizon %llu", (unsigned long long)p.horizon_ns);

	/* ... with a packet bucket: 20000 pkt/s x 400 ms + 100 = 8,100
	 * packets of any size (below 83,334 frames of 60 bytes) */
	cls[0] = (struct pace_class){ 100000000ULL, 20000, 100 };
	pace_fq_params(cls, 1, 400000000ULL, 0, 1500, &p);
	CHECK(p.flow_limit == 10225 && p.limit == 20450, "pps: flow_limit %u "
	      "limit %u", p.flow_limit, p.limit);
	/* a packet bucket looser than 60-byte frames: those bound it */
	cls[0].pps = 1000000;
	pace_fq_params(cls, 1, 400000000ULL, 0, 1500, &p);
	CHECK(p.flow_limit == 83334 + 83334 / 4 + 100, "pps above 60-byte "
	      "frames: flow_limit %u", p.flow_limit);
	/* packets only, and the larger of two classes (the allow class's
	 * 100 Mbit/s of full frames, 3,303, against 2000 x 0.4 + 10) */
	cls[0] = (struct pace_class){ 0, 2000, 10 };
	cls[1] = (struct pace_class){ 100000000ULL, 0, 0 };
	pace_fq_params(cls, 1, 400000000ULL, 0, 1500, &p);
	CHECK(p.flow_limit == 810 + 810 / 4 + 100, "pps only: flow_limit %u",
	      p.flow_limit);
	pace_fq_params(cls, 2, 400000000ULL, 0, 1500, &p);
	CHECK(p.flow_limit == 4228, "two classes: flow_limit %u", p.flow_limit);

	cls[0] = (struct pace_class){ 10000000000ULL, 0, 0 };
	pace_fq_params(cls, 1, 400000000ULL, 100000000ULL, 9000, &p);
	CHECK(p.flow_limit >= 10000000000ULL / 8 / 2 / 9014 &&
	      p.limit >= p.flow_limit && p.horizon_ns >= 500000000ULL,
	      "10G: %u %u %llu", p.flow_limit, p.limit,
	      (unsigned long long)p.horizon_ns);

	cls[0] = (struct pace_class){ ~0ULL, ~0ULL, ~0ULL };
	pace_fq_params(cls, 1, ~0ULL, ~0ULL, 0, &p);
	CHECK(p.flow_limit == UINT32_MAX && p.limit == UINT32_MAX &&
	      p.horizon_ns == (uint64_t)UINT32_MAX * 1000,
	      "saturation: %u %u %llu", p.flow_limit, p.limit,
	      (unsigned long long)p.horizon_ns);

	/* out of sch_fq's range: refused before anything is sent */
	ifx = veth("fp0", "fp1", 1);
	CHECK(ifx > 0, "cannot create veth");
	bad = p;
	bad.quantum = 2 << 20;
	ret = qdisc_fq_install(ifx, &bad, err, sizeof(err));
	CHECK(ret == -ERANGE && strstr(err, "quantum"), "quantum: %d %s", ret, err);
	bad = p;
	bad.maxrate_bytes = UINT32_MAX;
	ret = qdisc_fq_install(ifx, &bad, err, sizeof(err));
	CHECK(ret == -ERANGE && strstr(err, "maxrate"), "maxrate: %d %s", ret, err);
	bad = p;
	bad.horizon_ns = (uint64_t)UINT32_MAX * 1000 + 1;
	ret = qdisc_fq_install(ifx, &bad, err, sizeof(err));
	CHECK(ret == -ERANGE && strstr(err, "horizon"), "horizon: %d %s", ret, err);
	return PASS;
}

/*
 * The fq options are what tc(8) sends: these are the TCA_OPTIONS bytes
 * iproute2 6.1 put on the wire (strace) for "tc qdisc replace dev X root
 * fq limit 10000 flow_limit 4228 quantum 3028 initial_quantum 15140
 * maxrate 8mbit ce_threshold 5ms horizon 451ms horizon_drop".
 */
static int t_fq_encoding(char *why, size_t whylen)
{
	static const unsigned char tc_bytes[] = {
		0x08, 0x00, 0x01, 0x00, 0x10, 0x27, 0x00, 0x00,	/* PLIMIT */
		0x08, 0x00, 0x02, 0x00, 0x84, 0x10, 0x00, 0x00,	/* FLOW_PLIMIT */
		0x08, 0x00, 0x03, 0x00, 0xd4, 0x0b, 0x00, 0x00,	/* QUANTUM */
		0x08, 0x00, 0x04, 0x00, 0x24, 0x3b, 0x00, 0x00,	/* INITIAL_QUANTUM */
		0x08, 0x00, 0x07, 0x00, 0x40, 0x42, 0x0f, 0x00,	/* FLOW_MAX_RATE */
		0x08, 0x00, 0x0c, 0x00, 0x88, 0x13, 0x00, 0x00,	/* CE_THRESHOLD */
		0x08, 0x00, 0x0e, 0x00, 0xb8, 0xe1, 0x06, 0x00,	/* HORIZON */
		0x05, 0x00, 0x0f, 0x00, 0x01, 0x00, 0x00, 0x00,	/* HORIZON_DROP */
	};
	static const unsigned char drop_only[] = {
		0x05, 0x00, 0x0f, 0x00, 0x01, 0x00, 0x00, 0x00,
	};
	struct fq_params p = {
		.limit = 10000, .flow_limit = 4228, .quantum = 3028,
		.initial_quantum = 15140, .maxrate_bytes = 1000000,
		.have_ce_threshold = 1, .ce_threshold_us = 5000,
		.horizon_ns = 451000000ULL,
	};
	unsigned char buf[128];
	char err[128];
	int n;

	if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__) {
		snprintf(why, whylen, "golden bytes are little-endian");
		return SKIP;
	}
	n = qdisc_fq_opts(&p, buf, sizeof(buf), err, sizeof(err));
	CHECK(n == (int)sizeof(tc_bytes) && !memcmp(buf, tc_bytes, n),
	      "differs from tc's (%d bytes)", n);
	/* horizon in ns is rounded up to whole microseconds */
	p.horizon_ns = 450999001ULL;
	n = qdisc_fq_opts(&p, buf, sizeof(buf), err, sizeof(err));
	CHECK(n == (int)sizeof(tc_bytes) && !memcmp(buf, tc_bytes, n),
	      "horizon rounding");
	CHECK(qdisc_fq_opts(&p, buf, 8, err, sizeof(err)) == -ENOSPC, "short buffer");
	memset(&p, 0, sizeof(p));
	n = qdisc_fq_opts(&p, buf, sizeof(buf), err, sizeof(err));
	CHECK(n == (int)sizeof(drop_only) && !memcmp(buf, drop_only, n),
	      "defaults: %d bytes", n);
	p.horizon_cap = 1;
	n = qdisc_fq_opts(&p, buf, sizeof(buf), err, sizeof(err));
	CHECK(n == 8 && buf[4] == 0, "horizon_cap: %d bytes, %u", n, buf[4]);
	return PASS;
}

/* Every child of "mq 7cbf:" is pfifo with @limit; returns the count. */
static int mq_children(int ifx, uint32_t limit, int *roots)
{
	struct tc_fifo_qopt o;
	struct qdisc *q;
	int i, n, kids = 0;

	*roots = 0;
	if (qdisc_list(ifx, &q, &n))
		return -1;
	for (i = 0; i < n; i++) {
		if (q[i].parent == TC_H_ROOT) {
			if (!strcmp(q[i].kind, "mq") && q[i].handle == QDISC_HANDLE)
				(*roots)++;
			continue;
		}
		if (TC_H_MAJ(q[i].parent) != QDISC_HANDLE ||
		    strcmp(q[i].kind, "pfifo") || q[i].opts_len != sizeof(o))
			continue;
		memcpy(&o, q[i].opts, sizeof(o));
		if (o.limit == limit)
			kids++;
	}
	qdisc_free(q, n);
	return kids;
}

static int t_mq_install(char *why, size_t whylen)
{
	struct tc_fifo_qopt fifo = { .limit = 77 };
	struct qdisc saved, q;
	char err[256];
	int ifx, ret, kids, roots;

	ifx = veth("mq0", "mq1", 4);
	CHECK(ifx > 0, "cannot create veth");
	CHECK(!sh("tc qdisc add dev mq0 clsact"), "tc qdisc add clsact");
	CHECK(!qdisc_root(ifx, &saved), "qdisc_root");
	ret = qdisc_install(ifx, "pfifo", &fifo, sizeof(fifo), err, sizeof(err));
	CHECK(!ret, "qdisc_install: %s", err);
	kids = mq_children(ifx, 77, &roots);
	CHECK(roots == 1 && kids == 4, "mq roots %d, pfifo 77 children %d", roots, kids);

	/* again, new limit: changed in place under the same mq */
	fifo.limit = 88;
	ret = qdisc_install(ifx, "pfifo", &fifo, sizeof(fifo), err, sizeof(err));
	CHECK(!ret, "second qdisc_install: %s", err);
	kids = mq_children(ifx, 88, &roots);
	CHECK(roots == 1 && kids == 4, "mq roots %d, pfifo 88 children %d", roots, kids);

	ret = qdisc_restore(ifx, &saved, err, sizeof(err));
	qdisc_clear(&saved);
	CHECK(!ret, "qdisc_restore: %s", err);
	CHECK(!qdisc_root(ifx, &q), "qdisc_root");
	CHECK(qdisc_is_default(&q) && !strcmp(q.kind, "noqueue"),
	      "restored %s %x", q.kind, q.handle);
	qdisc_clear(&q);
	kids = mq_children(ifx, 88, &roots);
	CHECK(!roots && !kids, "left over: %d %d", roots, kids);
	CHECK(qdisc_has_clsact(ifx) == 1, "clsact lost");
	return PASS;
}

static int t_mq_restore_user_root(char *why, size_t whylen)
{
	struct tc_fifo_qopt fifo = { .limit = 5 };
	char before[512], after[512], err[256];
	struct qdisc saved;
	int ifx, ret;

	ifx = veth("mu0", "mu1", 4);
	CHECK(ifx > 0, "cannot create veth");
	CHECK(!sh("tc qdisc add dev mu0 root handle 1: htb default 10 r2q 7"),
	      "tc qdisc add htb");
	show(before, sizeof(before), "mu0");
	CHECK(!qdisc_root(ifx, &saved), "qdisc_root");
	ret = qdisc_install(ifx, "pfifo", &fifo, sizeof(fifo), err, sizeof(err));
	CHECK(!ret, "qdisc_install: %s", err);
	ret = qdisc_restore(ifx, &saved, err, sizeof(err));
	qdisc_clear(&saved);
	CHECK(!ret, "qdisc_restore: %s", err);
	show(after, sizeof(after), "mu0");
	CHECK(!strcmp(before, after), "before \"%s\", after \"%s\"", before, after);
	return PASS;
}

static int t_kind_change(char *why, size_t whylen)
{
	struct tc_fifo_qopt fifo = { .limit = 9 };
	struct qdisc q;
	char err[256];
	int ifx, ret;

	/* tcbpf's root of one kind, then another: same handle, new kind */
	ifx = veth("kc0", "kc1", 1);
	CHECK(ifx > 0, "cannot create veth");
	ret = qdisc_install(ifx, "pfifo", &fifo, sizeof(fifo), err, sizeof(err));
	CHECK(!ret, "pfifo: %s", err);
	ret = qdisc_install(ifx, "bfifo", &fifo, sizeof(fifo), err, sizeof(err));
	CHECK(!ret, "bfifo: %s", err);
	CHECK(!qdisc_root(ifx, &q), "qdisc_root");
	CHECK(!strcmp(q.kind, "bfifo") && q.handle == QDISC_HANDLE,
	      "root %s %x", q.kind, q.handle);
	qdisc_clear(&q);
	return PASS;
}

static int t_error_without_extack(char *why, size_t whylen)
{
	char err[256] = "", before[512], after[512];
	int ifx, ret;

	/* tbf_init() refuses a missing TCA_OPTIONS with a bare -EINVAL */
	ifx = veth("ee0", "ee1", 1);
	CHECK(ifx > 0, "cannot create veth");
	show(before, sizeof(before), "ee0");
	ret = qdisc_install(ifx, "tbf", NULL, 0, err, sizeof(err));
	CHECK(ret == -EINVAL && err[0], "returned %d \"%s\"", ret, err);
	if (verbose)
		fprintf(stderr, "  err: %s\n", err);
	show(after, sizeof(after), "ee0");
	CHECK(!strcmp(before, after), "before \"%s\", after \"%s\"", before, after);
	return PASS;
}

static int t_dump_multipart(char *why, size_t whylen)
{
	struct tc_fifo_qopt fifo = { .limit = 3 };
	struct qdisc *q;
	char err[256];
	int ifx, ret, n, ntx = 256;

	/* 257 qdiscs with statistics: more than one 32 KiB dump skb */
	ifx = veth("dm0", "dm1", ntx);
	CHECK(ifx > 0, "cannot create veth");
	ret = qdisc_install(ifx, "pfifo", &fifo, sizeof(fifo), err, sizeof(err));
	CHECK(!ret, "qdisc_install: %s", err);
	ret = qdisc_list(ifx, &q, &n);
	CHECK(!ret, "qdisc_list: %s", strerror(-ret));
	qdisc_free(q, n);
	CHECK(n == ntx + 1, "%d qdiscs, want %d", n, ntx + 1);
	return PASS;
}

/* ---- bit-exact restore ---- */

/*
 * The kernel's codel arithmetic (sch_codel.c, sch_fq_codel.c): change()
 * keeps microseconds as t = (us * 1000) >> 10 in 1024 ns units, dump()
 * reports (t << 10) / 1000 microseconds.
 */
static uint32_t codel_store(uint32_t us)
{
	return (uint32_t)(((uint64_t)us * 1000) >> 10);
}

static uint32_t codel_dump(uint32_t t)
{
	return (uint32_t)(((uint64_t)t << 10) / 1000);
}

/* Append a u32 attribute to a TCA_OPTIONS payload being built. */
static size_t put_u32(unsigned char *buf, size_t off, uint16_t type, uint32_t v)
{
	struct nlattr a = { .nla_len = MNL_ATTR_HDRLEN + 4, .nla_type = type };

	memcpy(buf + off, &a, sizeof(a));
	memcpy(buf + off + MNL_ATTR_HDRLEN, &v, sizeof(v));
	return off + MNL_ATTR_HDRLEN + 4;
}

/* @v at attribute @type of @opts, or ~0U if it is not there. */
static uint32_t get_u32(const void *opts, size_t len, uint16_t type)
{
	const struct nlattr *tb[32];

	nl_parse_payload(opts, len, tb, 31);
	return tb[type] ? mnl_attr_get_u32(tb[type]) : ~0U;
}

/*
 * One dump -> restore -> dump round of a codel-family qdisc whose target
 * and ce_threshold the user set as @us, modelled with the kernel's
 * arithmetic: what qdisc_restore() would send must give back the same
 * internal value, so the next dump is the same. Returns the new dump of
 * the target (0 on a mismatch elsewhere).
 */
static uint32_t codel_round(const char *kind, uint16_t target, uint16_t ce,
			    uint16_t limit, uint32_t dumped)
{
	unsigned char buf[64];
	struct qdisc q = { .parent = TC_H_ROOT, .handle = 0x10000 };
	size_t len = 0, olen;
	uint32_t back;
	void *o;

	snprintf(q.kind, sizeof(q.kind), "%s", kind);
	len = put_u32(buf, len, target, dumped);
	len = put_u32(buf, len, limit, 10240);
	len = put_u32(buf, len, ce, dumped);
	q.opts = buf;
	q.opts_len = len;
	if (qdisc_restore_opts(&q, &o, &olen) || olen != len)
		return 0;
	back = codel_dump(codel_store(get_u32(o, olen, target)));
	if (get_u32(o, olen, limit) != 10240 ||
	    codel_dump(codel_store(get_u32(o, olen, ce))) != back)
		back = 0;
	free(o);
	return back;
}

static int t_restore_opts_codel(char *why, size_t whylen)
{
	uint32_t us, d, t, i;
	uint64_t big;

	/* every value up to 200 ms, then samples up to 2^32 - 1 us */
	for (us = 1; us <= 200000; us++) {
		t = codel_store(us);
		d = codel_dump(t);
		CHECK(codel_round("fq_codel", TCA_FQ_CODEL_TARGET,
				  TCA_FQ_CODEL_CE_THRESHOLD, TCA_FQ_CODEL_LIMIT,
				  d) == d, "fq_codel %u us: dumped %u, then %u",
		      us, d, codel_round("fq_codel", TCA_FQ_CODEL_TARGET,
					 TCA_FQ_CODEL_CE_THRESHOLD,
					 TCA_FQ_CODEL_LIMIT, d));
		CHECK(codel_round("codel", TCA_CODEL_TARGET,
				  TCA_CODEL_CE_THRESHOLD, TCA_CODEL_LIMIT,
				  d) == d, "codel %u us", us);
	}
	for (big = 200000; big <= UINT32_MAX; big += 7919 * 7919) {
		d = codel_dump(codel_store((uint32_t)big));
		CHECK(codel_round("fq_codel", TCA_FQ_CODEL_TARGET,
				  TCA_FQ_CODEL_CE_THRESHOLD, TCA_FQ_CODEL_LIMIT,
				  d) == d, "fq_codel %llu us",
		      (unsigned long long)big);
	}
	d = codel_dump(codel_store(UINT32_MAX));
	CHECK(codel_round("codel", TCA_CODEL_TARGET, TCA_CODEL_CE_THRESHOLD,
			  TCA_CODEL_LIMIT, d) == d, "codel 2^32 - 1 us");

	/* issue 10's report: target 5ms, dumped 4999 us, ten rounds */
	d = codel_dump(codel_store(5000));
	CHECK(d == 4999, "model: 5ms dumps as %u us", d);
	for (i = 0; i < 10; i++)
		d = codel_round("fq_codel", TCA_FQ_CODEL_TARGET,
				TCA_FQ_CODEL_CE_THRESHOLD, TCA_FQ_CODEL_LIMIT, d);
	CHECK(d == 4999, "after ten rounds: %u us", d);
	return PASS;
}

/* A kind without such values: the options are the dump's bytes. */
static int t_restore_opts_verbatim(char *why, size_t whylen)
{
	struct qdisc q;
	size_t len;
	void *o;
	int ifx, ret;

	ifx = veth("rv0", "rv1", 1);
	CHECK(ifx > 0, "cannot create veth");
	CHECK(!sh("tc qdisc add dev rv0 root handle 1: tbf rate 3mbit burst 7k latency 30ms"),
	      "tc qdisc add tbf");
	CHECK(!qdisc_root(ifx, &q) && q.opts, "qdisc_root");
	ret = qdisc_restore_opts(&q, &o, &len);
	if (ret || len != q.opts_len || memcmp(o, q.opts, len)) {
		qdisc_clear(&q);
		CHECK(0, "tbf options changed (%d, %zu bytes)", ret, len);
	}
	free(o);
	qdisc_clear(&q);
	return PASS;
}

/*
 * Issue 10: ten attach/detach rounds through the save file -
 * pace_save_root(), tcbpf's root over it (pfifo where tcbpf puts fq,
 * which this kernel may lack), pace_restore() - and the root dumps
 * byte for byte as the user made it. fq_codel target 5ms where the
 * kernel has fq_codel (the reported case), else tbf with a size table.
 */
static int t_restore_cycles(char *why, size_t whylen)
{
	const unsigned long long netns = 0x7cbf00000000ULL | (unsigned)getpid();
	struct tc_fifo_qopt fifo = { .limit = 50 };
	char err[256], before[512], after[512];
	struct qdisc orig, now;
	int ifx, i, ret;

	ifx = veth("rc0", "rc1", 1);
	CHECK(ifx > 0, "cannot create veth");
	if (sh("tc qdisc add dev rc0 root handle 1: fq_codel target 5ms")) {
		if (verbose)
			fprintf(stderr, "  no fq_codel here: tbf\n");
		CHECK(!sh("tc qdisc add dev rc0 root handle 1: stab overhead 24 "
			  "tbf rate 1mbit burst 10k latency 50ms"), "tc qdisc add");
	}
	show(before, sizeof(before), "rc0");
	CHECK(!qdisc_root(ifx, &orig), "qdisc_root");
	for (i = 1; i <= 10; i++) {
		ret = pace_save_root(ifx, netns, err, sizeof(err));
		if (!ret)
			ret = qdisc_install(ifx, "pfifo", &fifo, sizeof(fifo),
					    err, sizeof(err));
		if (!ret)
			ret = pace_restore(ifx, netns, err, sizeof(err));
		if (!ret)
			ret = qdisc_root(ifx, &now);
		if (ret) {
			qdisc_clear(&orig);
			CHECK(0, "round %d: %d %s", i, ret, err);
		}
		ret = same_qdisc(&orig, &now);
		qdisc_clear(&now);
		if (!ret) {
			show(after, sizeof(after), "rc0");
			qdisc_clear(&orig);
			CHECK(0, "round %d: dump differs: \"%s\", was \"%s\"", i,
			      after, before);
		}
	}
	qdisc_clear(&orig);
	show(after, sizeof(after), "rc0");
	CHECK(!strcmp(before, after), "before \"%s\", after \"%s\"", before, after);
	return PASS;
}

/* ---- the transport's error path ---- */

/* RTM_NEWQDISC of @kind at the root of @ifindex on @s. */
static int new_root(struct nl_sock *s, int ifindex, const char *kind)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = TC_H_ROOT,
		.tcm_handle = 0x10000,
	};
	struct nl_req r;
	int ret;

	ret = nl_req_init(&r, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, &tcm,
			  sizeof(tcm), 64);
	if (ret)
		return ret;
	nl_req_put_strz(&r, TCA_KIND, kind);
	ret = nl_talk(s, &r, NULL, NULL);
	nl_req_free(&r);
	return ret;
}

static int link_seen(const struct nlmsghdr *nlh, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/* A dump of one device (lo) on @s: 0 when its one answer arrived. */
static int get_lo(struct nl_sock *s)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = 1 };
	struct nl_req r;
	int ret, n = 0;

	ret = nl_req_init(&r, RTM_GETLINK, 0, &ifi, sizeof(ifi), 0);
	if (ret)
		return ret;
	ret = nl_talk(s, &r, link_seen, &n);
	nl_req_free(&r);
	return ret ? ret : n == 1 ? 0 : -EPROTO;
}

/*
 * A request the kernel refuses: its negative errno and its extended-ack
 * text come back, the text does not stick to the next request, and the
 * socket stays in step.
 */
static int t_nl_refused(char *why, size_t whylen)
{
	struct nl_sock s;
	int ifx, ret;

	ifx = veth("nr0", "nr1", 1);
	CHECK(ifx > 0, "cannot create veth");
	CHECK(!nl_open(&s), "nl_open");
	ret = new_root(&s, ifx, "nosuchqdisc");
	if (ret != -ENOENT ||
	    strcmp(nl_ext(&s), "Specified qdisc kind is unknown")) {
		snprintf(why, whylen, "unknown kind: %d \"%s\"", ret, nl_ext(&s));
		nl_close(&s);
		return FAIL;
	}
	ret = new_root(&s, 999999, "pfifo");	/* no device: no text */
	if (ret != -ENODEV || nl_ext(&s)[0]) {
		snprintf(why, whylen, "no device: %d \"%s\"", ret, nl_ext(&s));
		nl_close(&s);
		return FAIL;
	}
	ret = new_root(&s, ifx, "pfifo");
	if (!ret)
		ret = new_root(&s, ifx, "pfifo");	/* NLM_F_EXCL: exists */
	if (ret != -EEXIST) {
		snprintf(why, whylen, "second pfifo: %d \"%s\"", ret, nl_ext(&s));
		nl_close(&s);
		return FAIL;
	}
	ret = get_lo(&s);
	nl_close(&s);
	CHECK(!ret, "request after the errors: %s", strerror(-ret));
	return PASS;
}

/* A dump the kernel refuses (strict checking, a header it rejects): the
 * error and text come in NLMSG_DONE. */
static int t_nl_dump_refused(char *why, size_t whylen)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_flags = 1 };
	int one = 1, ret, n = 0;
	struct nl_sock s;
	struct nl_req r;
	char ext[NL_EXT_MAX];

	CHECK(!nl_open(&s), "nl_open");
	if (mnl_socket_setsockopt(s.mnl, NETLINK_GET_STRICT_CHK, &one,
				  sizeof(one)) < 0) {
		nl_close(&s);
		snprintf(why, whylen, "no NETLINK_GET_STRICT_CHK");
		return SKIP;
	}
	ret = nl_req_init(&r, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof(ifi), 0);
	if (!ret)
		ret = nl_talk(&s, &r, link_seen, &n);
	nl_req_free(&r);
	snprintf(ext, sizeof(ext), "%s", nl_ext(&s));
	if (ret == -EINVAL)
		ret = get_lo(&s);
	else
		ret = ret ? ret : -EPROTO;
	nl_close(&s);
	CHECK(!ret && n == 0 && strstr(ext, "Invalid values in header"),
	      "returned %d, %d links, \"%s\"", ret, n, ext);
	return PASS;
}

static int cancel_cb(const struct nlmsghdr *nlh, void *arg)
{
	(*(int *)arg)++;
	return -ECANCELED;
}

/* A callback's error ends the exchange with it, after the whole dump was
 * read: the next request on the socket gets its own answer. */
static int t_nl_callback_error(char *why, size_t whylen)
{
	struct tcmsg tcm = { .tcm_family = AF_UNSPEC };
	struct tc_fifo_qopt fifo = { .limit = 3 };
	char err[256];
	struct nl_sock s;
	struct nl_req r;
	int ifx, ret, calls = 0;

	/* 65 qdiscs: answers in more than one datagram */
	ifx = veth("cb0", "cb1", 64);
	CHECK(ifx > 0, "cannot create veth");
	ret = qdisc_install(ifx, "pfifo", &fifo, sizeof(fifo), err, sizeof(err));
	CHECK(!ret, "qdisc_install: %s", err);
	CHECK(!nl_open(&s), "nl_open");
	ret = nl_req_init(&r, RTM_GETQDISC, NLM_F_DUMP, &tcm, sizeof(tcm), 0);
	if (!ret)
		ret = nl_talk(&s, &r, cancel_cb, &calls);
	nl_req_free(&r);
	if (ret != -ECANCELED || calls != 1) {
		nl_close(&s);
		CHECK(0, "returned %d after %d calls", ret, calls);
	}
	ret = get_lo(&s);
	nl_close(&s);
	CHECK(!ret, "request after the callback's error: %s", strerror(-ret));
	return PASS;
}

/*
 * pace.c's guard: a root that is a tree (children, root filters, classes)
 * is never replaced, since detach could put back only its root. @setup:
 * tc commands (";"-separated, run by sh) that build it; @want: text the
 * message must hold, NULL for "not a tree" (then fq is installed and
 * restored where the kernel has it, or the kernel's -ENOENT is returned).
 */
static int tree_case(char *why, size_t whylen, const char *dev,
		     const char *peer, const char *setup, const char *want)
{
	char before[2048], after[2048], err[256] = "", cmds[512], *c, *save;
	struct tcbpf_cfg cfg = {};
	int ifx, ret;

	ifx = veth(dev, peer, 1);
	CHECK(ifx > 0, "cannot create veth");
	snprintf(cmds, sizeof(cmds), "%s", setup);
	for (c = strtok_r(cmds, ";", &save); c; c = strtok_r(NULL, ";", &save))
		CHECK(!sh("tc %s", c), "tc %s failed", c);
	out(before, sizeof(before), "tc qdisc show dev %s; tc class show dev %s; "
	    "tc filter show dev %s parent 1:", dev, dev, dev);
	cfg.cls[TCBPF_CLASS_DEFAULT].rate_bits_per_sec = 10000000;
	cfg.cls[TCBPF_CLASS_ALLOW].rate_bits_per_sec = 100000000;
	cfg.delay_ns = 400000000;
	cfg.horizon_ns = 50000000;
	ret = pace_install(ifx, 0x7cbf, &cfg, false, err, sizeof(err));
	if (verbose)
		fprintf(stderr, "  pace_install: %d: %s\n", ret, err);
	if (want) {
		CHECK(ret == -EBUSY, "returned %d (%s), want -EBUSY", ret, err);
		CHECK(strstr(err, want), "message \"%s\" lacks \"%s\"", err, want);
	} else if (ret == 0) {
		ret = pace_restore(ifx, 0x7cbf, err, sizeof(err));
		CHECK(!ret, "pace_restore: %d (%s)", ret, err);
	} else {
		CHECK(ret == -ENOENT, "returned %d (%s), want 0 or -ENOENT (no fq)",
		      ret, err);
	}
	out(after, sizeof(after), "tc qdisc show dev %s; tc class show dev %s; "
	    "tc filter show dev %s parent 1:", dev, dev, dev);
	CHECK(!strcmp(before, after), "before \"%s\", after \"%s\"", before, after);
	return PASS;
}

static int t_tree_htb(char *why, size_t whylen)
{
	return tree_case(why, whylen, "th0", "th1",
		"qdisc add dev th0 root handle 1: htb default 10;"
		"class add dev th0 parent 1: classid 1:10 htb rate 50mbit;"
		"qdisc add dev th0 parent 1:10 handle 10: tbf rate 50mbit burst 64k latency 50ms;"
		"filter add dev th0 parent 1: protocol ip prio 1 u32 match ip dst 10.9.9.9/32 flowid 1:10",
		"htb 1: has classes, 1 child qdisc and 1 filter,");
}

static int t_tree_classes_only(char *why, size_t whylen)
{
	return tree_case(why, whylen, "tc0", "tc1",
		"qdisc add dev tc0 root handle 3: htb default 1;"
		"class add dev tc0 parent 3: classid 3:1 htb rate 5mbit",
		"htb 3: has classes, which");
}

static int t_tree_root_filter(char *why, size_t whylen)
{
	return tree_case(why, whylen, "tf0", "tf1",
		"qdisc add dev tf0 root handle 2: tbf rate 5mbit burst 10k latency 50ms;"
		"qdisc add dev tf0 clsact;"
		"filter add dev tf0 egress protocol ip prio 1 u32 match ip dst 10.9.9.9/32 classid 1:1",
		NULL);
}

static int t_tree_plain_root(char *why, size_t whylen)
{
	return tree_case(why, whylen, "tp0", "tp1",
		"qdisc add dev tp0 root handle 5: tbf rate 7mbit burst 20kb latency 70ms",
		NULL);
}

static const struct {
	const char *name;
	int (*fn)(char *why, size_t whylen);
} cases[] = {
	{ "root_default",		t_root_default },
	{ "no_device",			t_no_device },
	{ "qdisc_list",			t_qdisc_list },
	{ "restore_tbf",		t_restore_tbf },
	{ "restore_tbf_same_handle",	t_restore_tbf_same_handle },
	{ "restore_tbf_after_install",	t_restore_tbf_after_install },
	{ "restore_unchanged",		t_restore_unchanged },
	{ "restore_default",		t_restore_default },
	{ "serialize",			t_serialize },
	{ "has_clsact",			t_has_clsact },
	{ "filter_count",		t_filter_count },
	{ "filter_count_ingress_qdisc",	t_filter_count_ingress_qdisc },
	{ "num_tx_queues",		t_num_tx_queues },
	{ "fq_fails",			t_fq_fails },
	{ "fq_fails_tbf",		t_fq_fails_tbf },
	{ "fq_fails_mq",		t_fq_fails_mq },
	{ "fq_fails_mq_tbf",		t_fq_fails_mq_tbf },
	{ "fq_params",			t_fq_params },
	{ "fq_encoding",		t_fq_encoding },
	{ "mq_install",			t_mq_install },
	{ "mq_restore_user_root",	t_mq_restore_user_root },
	{ "kind_change",		t_kind_change },
	{ "error_without_extack",	t_error_without_extack },
	{ "dump_multipart",		t_dump_multipart },
	{ "restore_opts_codel",		t_restore_opts_codel },
	{ "restore_opts_verbatim",	t_restore_opts_verbatim },
	{ "restore_cycles",		t_restore_cycles },
	{ "nl_refused",			t_nl_refused },
	{ "nl_dump_refused",		t_nl_dump_refused },
	{ "nl_callback_error",		t_nl_callback_error },
	{ "tree_htb",			t_tree_htb },
	{ "tree_classes_only",		t_tree_classes_only },
	{ "tree_clsact_not_a_tree",	t_tree_root_filter },
	{ "tree_plain_root",		t_tree_plain_root },
};

#define NCASES	(sizeof(cases) / sizeof(cases[0]))

static int skip_all(const char *why)
{
	size_t i;

	for (i = 0; i < NCASES; i++)
		printf("SKIP: %s: %s\n", cases[i].name, why);
	return 0;
}

int main(int argc, char **argv)
{
	char why[512];
	int failed = 0;
	size_t i;

	verbose = getenv("V") && !strcmp(getenv("V"), "1");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0)
		return skip_all("needs root");
	if (sh("ip -V") || sh("tc -V"))
		return skip_all("needs ip(8) and tc(8)");
	if (unshare(CLONE_NEWNET) < 0) {
		snprintf(why, sizeof(why), "unshare(CLONE_NEWNET): %s",
			 strerror(errno));
		return skip_all(why);
	}
	/* quiet devices: no IPv6 autoconfiguration traffic */
	sh("sysctl -qw net.ipv6.conf.default.disable_ipv6=1");
	for (i = 0; i < NCASES; i++) {
		if (argc > 1 && !strstr(cases[i].name, argv[1]))
			continue;
		why[0] = '\0';
		switch (cases[i].fn(why, sizeof(why))) {
		case PASS:
			printf("PASS: %s\n", cases[i].name);
			break;
		case SKIP:
			printf("SKIP: %s: %s\n", cases[i].name,
			       why[0] ? why : "sch_fq is present");
			break;
		default:
			printf("FAIL: %s: %s\n", cases[i].name, why);
			failed++;
		}
	}
	return failed ? 1 : 0;
}
