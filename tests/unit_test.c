// SPDX-License-Identifier: GPL-2.0-only
/*
 * unit_test.c - table-driven tests of units.c and spec.c.
 *
 * One line per case, "PASS: name" or "FAIL: name: why"; exit 1 if any
 * case failed. Needs nothing but libc: it links in the full build too.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/units.h"
#include "lib/spec.h"
#include "lib/spec_words.h"
#include "lib/cfg.h"
#include "check.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define SENTINEL	0x5a5a5a5a5a5a5a5aULL
#define BOTH_TCP_UDP	(TCBPF_P_TCP | TCBPF_P_UDP)
#define MS		1000000ULL



static const char *errname(int rc)
{
	switch (rc) {
	case 0:		return "0";
	case -EINVAL:	return "-EINVAL";
	case -ERANGE:	return "-ERANGE";
	default:	return "other";
	}
}

/* ---- number parsers ---- */

typedef int (*parse_fn)(const char *, uint64_t *);

struct num_case {
	const char *kind;
	parse_fn fn;
	const char *in;
	int rc;
	uint64_t want;
};

#define RATE(s, r, w)	{ "rate", parse_rate, s, r, w }
#define SIZE(s, r, w)	{ "size", parse_size, s, r, w }
#define TIME(s, r, w)	{ "time", parse_time, s, r, w }
#define COUNT(s, r, w)	{ "count", parse_count, s, r, w }

static const struct num_case num_cases[] = {
	/* rates: bits/s; SI bit units, IEC bit units, bps = BYTES/s */
	RATE("100", 0, 100),
	RATE("0", 0, 0),
	RATE("0mbit", 0, 0),
	RATE("1bit", 0, 1),
	RATE("1kbit", 0, 1000),
	RATE("1mbit", 0, 1000000),
	RATE("1gbit", 0, 1000000000),
	RATE("1tbit", 0, 1000000000000ULL),
	RATE("1kibit", 0, 1024),
	RATE("1mibit", 0, 1048576),
	RATE("1gibit", 0, 1073741824),
	RATE("1tibit", 0, 1099511627776ULL),
	RATE("1bps", 0, 8),
	RATE("1kbps", 0, 8000),
	RATE("1mbps", 0, 8000000),
	RATE("1gbps", 0, 8000000000ULL),
	RATE("1tbps", 0, 8000000000000ULL),
	RATE("1kibps", 0, 8192),
	RATE("1mibps", 0, 8388608),
	RATE("1gibps", 0, 8589934592ULL),
	RATE("1tibps", 0, 8796093022208ULL),
	RATE("1Mbit", 0, 1000000),
	RATE("1MBIT", 0, 1000000),
	RATE("1KiBps", 0, 8192),
	RATE("1MBps", 0, 8000000),
	RATE("1.5mbit", 0, 1500000),
	RATE(".5kbit", 0, 500),
	RATE("2.mbit", 0, 2000000),
	RATE("0.000001tbit", 0, 1000000),
	RATE("1.5bit", 0, 1),			/* truncated, as tc does */
	RATE("18446744073709551615", 0, UINT64_MAX),
	RATE("2305843009213693951bps", 0, UINT64_MAX - 7),
	RATE("18446744073709551616", -ERANGE, 0),
	RATE("2305843009213693952bps", -ERANGE, 0),
	RATE("99999999999999999999tbit", -ERANGE, 0),
	RATE("18446745tbit", -ERANGE, 0),
	RATE("99999999999999999999xbit", -EINVAL, 0),
	RATE("", -EINVAL, 0),
	RATE("abc", -EINVAL, 0),
	RATE("mbit", -EINVAL, 0),
	RATE(".", -EINVAL, 0),
	RATE(".mbit", -EINVAL, 0),
	RATE("10xbit", -EINVAL, 0),
	RATE("-5mbit", -EINVAL, 0),
	RATE("+5mbit", -EINVAL, 0),
	RATE("1mbitx", -EINVAL, 0),
	RATE(" 1mbit", -EINVAL, 0),
	RATE("1mbit ", -EINVAL, 0),
	RATE("1 mbit", -EINVAL, 0),
	RATE("1..5mbit", -EINVAL, 0),
	RATE("1.5.mbit", -EINVAL, 0),
	RATE("nan", -EINVAL, 0),
	RATE("inf", -EINVAL, 0),
	RATE("1e400", -EINVAL, 0),
	RATE("1e3kbit", -EINVAL, 0),
	RATE("0x10", -EINVAL, 0),
	RATE("1mb", -EINVAL, 0),		/* a size unit, not a rate */
	RATE(NULL, -EINVAL, 0),

	/* sizes: bytes; tc's get_size table, "kbit" = 1024 bits */
	SIZE("1500", 0, 1500),
	SIZE("1500b", 0, 1500),
	SIZE("0", 0, 0),
	SIZE("1k", 0, 1024),
	SIZE("1kb", 0, 1024),
	SIZE("1KB", 0, 1024),
	SIZE("1m", 0, 1048576),
	SIZE("1mb", 0, 1048576),
	SIZE("1g", 0, 1073741824),
	SIZE("1gb", 0, 1073741824),
	SIZE("1kbit", 0, 128),
	SIZE("1200kbit", 0, 153600),
	SIZE("1mbit", 0, 131072),
	SIZE("100mbit", 0, 13107200),
	SIZE("1gbit", 0, 134217728),
	SIZE("1.5k", 0, 1536),
	SIZE("17179869183g", 0, 17179869183ULL << 30),
	SIZE("17179869184g", -ERANGE, 0),
	SIZE("1bit", -EINVAL, 0),
	SIZE("1t", -EINVAL, 0),
	SIZE("1kib", -EINVAL, 0),
	SIZE("1kbps", -EINVAL, 0),
	SIZE("-1k", -EINVAL, 0),
	SIZE("", -EINVAL, 0),
	SIZE("1kk", -EINVAL, 0),

	/* times: ns; a bare number is microseconds, as tc's get_time */
	TIME("400ms", 0, 400000000),
	TIME("2s", 0, 2000000000),
	TIME("1sec", 0, 1000000000),
	TIME("3secs", 0, 3000000000ULL),
	TIME("1msec", 0, 1000000),
	TIME("2msecs", 0, 2000000),
	TIME("100us", 0, 100000),
	TIME("1usec", 0, 1000),
	TIME("2usecs", 0, 2000),
	TIME("5ns", 0, 5),
	TIME("5nsec", 0, 5),
	TIME("6nsecs", 0, 6),
	TIME("100", 0, 100000),
	TIME("1.5s", 0, 1500000000),
	TIME("0.5ms", 0, 500000),
	TIME("1MS", 0, 1000000),
	TIME("0", 0, 0),
	TIME("18446744073s", 0, 18446744073000000000ULL),
	TIME("18446744074s", -ERANGE, 0),
	TIME("10m", -EINVAL, 0),
	TIME("1h", -EINVAL, 0),
	TIME("-1ms", -EINVAL, 0),
	TIME("ms", -EINVAL, 0),

	/* counts: plain decimal */
	COUNT("0", 0, 0),
	COUNT("100", 0, 100),
	COUNT("18446744073709551615", 0, UINT64_MAX),
	COUNT("18446744073709551616", -ERANGE, 0),
	COUNT("-1", -EINVAL, 0),
	COUNT("+1", -EINVAL, 0),
	COUNT("1.5", -EINVAL, 0),
	COUNT("1k", -EINVAL, 0),
	COUNT("", -EINVAL, 0),
	COUNT(" 1", -EINVAL, 0),
	COUNT("abc", -EINVAL, 0),
};

static const char *check_num(const struct num_case *c)
{
	uint64_t v = SENTINEL;
	int rc = c->fn(c->in, &v);

	EXPECT(rc == c->rc, "returned %s (%d), want %s", errname(rc), rc,
	       errname(c->rc));
	if (rc)
		EXPECT(v == SENTINEL, "wrote %llu on error",
		       (unsigned long long)v);
	else
		EXPECT(v == c->want, "got %llu, want %llu",
		       (unsigned long long)v, (unsigned long long)c->want);
	return NULL;
}

static void test_numbers(void)
{
	char name[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(num_cases); i++) {
		const struct num_case *c = &num_cases[i];

		snprintf(name, sizeof(name), "parse_%s \"%s\"", c->kind,
			 c->in ? c->in : "(null)");
		report(name, check_num(c));
	}
}

/* ---- formatting ---- */

typedef char *(*fmt_fn)(char *, size_t, uint64_t);

struct fmt_case {
	const char *kind;
	fmt_fn fmt;
	parse_fn parse;
	uint64_t val;
	const char *want;	/* NULL: round trip only */
};

#define FRATE(v, w)	{ "rate", fmt_rate, parse_rate, v, w }
#define FSIZE(v, w)	{ "size", fmt_size, parse_size, v, w }
#define FTIME(v, w)	{ "time", fmt_time, parse_time, v, w }

static const struct fmt_case fmt_cases[] = {
	FRATE(1000000, "1Mbit"),
	FRATE(10000000, "10Mbit"),
	FRATE(100000, "100Kbit"),
	FRATE(100000000, "100Mbit"),
	FRATE(1500000, "1.5Mbit"),
	FRATE(1250000, "1.25Mbit"),
	FRATE(1234567, "1234.567Kbit"),
	FRATE(1048576, "1048.576Kbit"),
	FRATE(999, "999bit"),
	FRATE(0, "0bit"),
	FRATE(1000000000000ULL, "1Tbit"),
	FRATE(8000000000000ULL, "8Tbit"),
	/* a million or more of a unit: the largest unit, every decimal */
	FRATE(100000000000ULL, "100Gbit"),
	FRATE(400000000000ULL, "400Gbit"),
	FRATE(2500000000ULL, "2.5Gbit"),
	FRATE(1000001, "1000.001Kbit"),
	FRATE(999999999, "999999.999Kbit"),
	FRATE(1000000001, "1.000000001Gbit"),
	FRATE(123456789012ULL, "123.456789012Gbit"),
	FRATE(999999999999ULL, "999.999999999Gbit"),
	FRATE(1000000000001ULL, "1.000000000001Tbit"),
	FRATE(SPEC_RATE_MAX, "1Tbit"),
	FRATE(UINT64_MAX, "18446744.073709551615Tbit"),
	FSIZE(1500, "1500b"),
	FSIZE(153600, "150Kb"),
	FSIZE(1536, "1.5Kb"),
	FSIZE(1048576, "1Mb"),
	FSIZE(13107200, "12.5Mb"),
	FSIZE(1073741824, "1Gb"),
	FSIZE(1000000, "1000000b"),
	FSIZE(0, "0b"),
	FTIME(400000000, "400ms"),
	FTIME(2000000000, "2s"),
	FTIME(100000, "100us"),
	FTIME(1500000000, "1.5s"),
	FTIME(1500, "1.5us"),
	FTIME(250, "250ns"),
	FTIME(0, "0ns"),
	/* whatever the text, it must parse back to the same value */
	FRATE(1, NULL),
	FRATE(1001, NULL),
	FRATE(123456789012345ULL, NULL),
	FRATE(8000000000001ULL, NULL),
	FSIZE(1, NULL),
	FSIZE(1025, NULL),
	FSIZE(1572864, NULL),
	FSIZE(123456789, NULL),
	FSIZE(UINT64_MAX, NULL),
	FTIME(1, NULL),
	FTIME(123456789, NULL),
	FTIME(UINT64_MAX, NULL),
};

static const char *check_fmt(const struct fmt_case *c)
{
	char buf[64];
	uint64_t back = SENTINEL;
	char *ret;
	int rc;

	memset(buf, 'X', sizeof(buf));
	ret = c->fmt(buf, sizeof(buf), c->val);
	EXPECT(ret == buf, "did not return buf");
	EXPECT(memchr(buf, '\0', sizeof(buf)), "no terminating NUL");
	if (c->want)
		EXPECT(strcmp(buf, c->want) == 0, "got \"%s\", want \"%s\"",
		       buf, c->want);
	rc = c->parse(buf, &back);
	EXPECT(rc == 0, "\"%s\" does not parse back: %s", buf, errname(rc));
	EXPECT(back == c->val, "\"%s\" parses back to %llu, not %llu", buf,
	       (unsigned long long)back, (unsigned long long)c->val);
	return NULL;
}

static const char *check_fmt_truncate(void)
{
	char buf[8];
	char *ret;

	memset(buf, 'X', sizeof(buf));
	ret = fmt_rate(buf, 4, 10000000);
	EXPECT(ret == buf, "did not return buf");
	EXPECT(strcmp(buf, "10M") == 0, "got \"%.8s\", want \"10M\"", buf);
	EXPECT(buf[4] == 'X', "wrote past len");
	ret = fmt_size(buf, 0, 1500);
	EXPECT(ret == buf && buf[4] == 'X', "len 0 wrote to buf");
	return NULL;
}

static void test_fmt(void)
{
	char name[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fmt_cases); i++) {
		const struct fmt_case *c = &fmt_cases[i];

		snprintf(name, sizeof(name), "fmt_%s %llu%s%s", c->kind,
			 (unsigned long long)c->val, c->want ? " = " : " round trip",
			 c->want ? c->want : "");
		report(name, check_fmt(c));
	}
	report("fmt truncates to len", check_fmt_truncate());
}

/* ---- PORTS ---- */

struct ports_case {
	const char *in;
	int rc;
	const char *culprit;	/* error: must appear in errbuf */
	uint32_t nports;	/* ok: entries, and the first one: */
	uint16_t lo, hi;
	uint8_t protos;
};

static const struct ports_case ports_cases[] = {
	{ "22", 0, NULL, 1, 22, 22, BOTH_TCP_UDP },
	{ "tcp/22", 0, NULL, 1, 22, 22, TCBPF_P_TCP },
	{ "udp/3389", 0, NULL, 1, 3389, 3389, TCBPF_P_UDP },
	{ "sctp/9", 0, NULL, 1, 9, 9, TCBPF_P_SCTP },
	{ "1000-2000", 0, NULL, 1, 1000, 2000, BOTH_TCP_UDP },
	{ "tcp/1000-2000", 0, NULL, 1, 1000, 2000, TCBPF_P_TCP },
	{ "1-65535", 0, NULL, 1, 1, 65535, BOTH_TCP_UDP },
	{ "5-5", 0, NULL, 1, 5, 5, BOTH_TCP_UDP },
	{ "22,22", 0, NULL, 2, 22, 22, BOTH_TCP_UDP },
	{ "none", 0, NULL, 0 },
	{ "0", -ERANGE, "\"0\"" },
	{ "65536", -ERANGE, "\"65536\"" },
	{ "99999999999", -ERANGE, "\"99999999999\"" },
	{ "tcp/0", -ERANGE, "\"tcp/0\"" },
	{ "0-10", -ERANGE, "\"0-10\"" },
	{ "2000-1000", -EINVAL, "\"2000-1000\"" },
	{ "icmp/22", -EINVAL, "\"icmp\"" },
	{ "TCP/22", -EINVAL, "\"TCP\"" },
	{ "/22", -EINVAL, "\"/22\"" },
	{ "22,,80", -EINVAL, "\"22,,80\"" },
	{ "22,", -EINVAL, "\"22,\"" },
	{ ",22", -EINVAL, "\",22\"" },
	{ "", -EINVAL, "empty" },
	{ "tcp/", -EINVAL, "\"tcp/\"" },
	{ "tcp/abc", -EINVAL, "\"abc\"" },
	{ "tcp/22/23", -EINVAL, "\"22/23\"" },
	{ "1000-", -EINVAL, "\"1000-\"" },
	{ "-5", -EINVAL, "\"-5\"" },
	{ " 22", -EINVAL, "\" 22\"" },
	{ "22,ssh", -EINVAL, "\"ssh\"" },
	{ "none,22", -EINVAL, "\"none\" cannot" },
	{ "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", -ERANGE, "\"17\"" },
};

static const char *check_ports(const struct ports_case *c)
{
	struct tcbpf_port ports[TCBPF_MAX_PORTS];
	char err[256] = "";
	uint32_t n = 0xdead;
	int rc;

	memset(ports, 0xa5, sizeof(ports));
	rc = parse_ports(c->in, ports, &n, err, sizeof(err));
	EXPECT(rc == c->rc, "returned %s, want %s (errbuf \"%s\")",
	       errname(rc), errname(c->rc), err);
	if (rc) {
		EXPECT(n == 0xdead, "nports written on error");
		EXPECT(strstr(err, c->culprit), "errbuf \"%s\" lacks %s",
		       err, c->culprit);
		return NULL;
	}
	EXPECT(n == c->nports, "nports %u, want %u", n, c->nports);
	if (n)
		EXPECT(ports[0].lo == c->lo && ports[0].hi == c->hi &&
		       ports[0].protos == c->protos,
		       "got %u-%u protos %#x, want %u-%u protos %#x",
		       ports[0].lo, ports[0].hi, ports[0].protos,
		       c->lo, c->hi, c->protos);
	return NULL;
}

static const char *check_ports_full(void)
{
	struct tcbpf_port ports[TCBPF_MAX_PORTS];
	uint32_t n = 0, i;
	char err[256] = "";
	int rc;

	memset(ports, 0xa5, sizeof(ports));
	rc = parse_ports("22,udp/53,sctp/9-10,1,2,3,4,5,6,7,8,9,10,11,12,65535",
			 ports, &n, err, sizeof(err));
	EXPECT(rc == 0, "returned %s: %s", errname(rc), err);
	EXPECT(n == TCBPF_MAX_PORTS, "nports %u, want %u", n, TCBPF_MAX_PORTS);
	EXPECT(ports[1].lo == 53 && ports[1].protos == TCBPF_P_UDP,
	       "entry 1 is %u protos %#x", ports[1].lo, ports[1].protos);
	EXPECT(ports[2].lo == 9 && ports[2].hi == 10 &&
	       ports[2].protos == TCBPF_P_SCTP, "entry 2 is %u-%u protos %#x",
	       ports[2].lo, ports[2].hi, ports[2].protos);
	EXPECT(ports[15].lo == 65535, "entry 15 is %u", ports[15].lo);
	for (i = 0; i < n; i++)
		EXPECT(!ports[i].pad[0] && !ports[i].pad[1] && !ports[i].pad[2],
		       "entry %u has non-zero pad", i);
	return NULL;
}

static void test_ports(void)
{
	char name[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ports_cases); i++) {
		snprintf(name, sizeof(name), "parse_ports \"%s\"",
			 ports_cases[i].in);
		report(name, check_ports(&ports_cases[i]));
	}
	report("parse_ports 16 mixed entries", check_ports_full());
}

/* ---- SPEC ---- */

#define MAX_ARGS 64

/* Split on single spaces; "" gives argc 0. */
static int split(const char *line, char *store, size_t len, char **argv)
{
	char *tok, *save = NULL;
	int argc = 0;

	snprintf(store, len, "%s", line);
	for (tok = strtok_r(store, " ", &save); tok && argc < MAX_ARGS;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	return argc;
}

static int parse_line(struct spec *s, const char *line, char *err, size_t len)
{
	char store[512];
	char *argv[MAX_ARGS];
	int argc = split(line, store, sizeof(store), argv);

	return spec_parse(s, argc, argv, err, len);
}

static const struct spec_dir *IN(const struct spec *s)
{
	return &s->dir[TCBPF_INGRESS];
}

static const struct spec_dir *EG(const struct spec *s)
{
	return &s->dir[TCBPF_EGRESS];
}

#define ALL_BITS (SPEC_RATE | SPEC_BURST | SPEC_PPS | SPEC_PBURST |	\
		  SPEC_ALLOW | SPEC_ALLOW_RATE | SPEC_ALLOW_BURST |	\
		  SPEC_DELAY | SPEC_LATENCY | SPEC_MODE)

static const char *ck_empty(const struct spec *s)
{
	struct spec zero;

	memset(&zero, 0, sizeof(zero));
	EXPECT(memcmp(s, &zero, sizeof(zero)) == 0, "spec not all zero");
	EXPECT(s->hook == TCBPF_HOOK_NONE, "hook %u", s->hook);
	return NULL;
}

static const char *ck_rate_both(const struct spec *s)
{
	EXPECT(IN(s)->rate == 1000000 && EG(s)->rate == 1000000,
	       "rates %llu/%llu", (unsigned long long)IN(s)->rate,
	       (unsigned long long)EG(s)->rate);
	EXPECT(IN(s)->set == SPEC_RATE && EG(s)->set == SPEC_RATE,
	       "set %#x/%#x", IN(s)->set, EG(s)->set);
	return NULL;
}

static const char *ck_mixed(const struct spec *s)
{
	EXPECT(IN(s)->rate == 1000000, "ingress rate %llu",
	       (unsigned long long)IN(s)->rate);
	EXPECT(IN(s)->pps == 100, "ingress pps %llu",
	       (unsigned long long)IN(s)->pps);
	EXPECT(IN(s)->set == (SPEC_RATE | SPEC_PPS), "ingress set %#x",
	       IN(s)->set);
	EXPECT(EG(s)->rate == 2000000, "egress rate %llu",
	       (unsigned long long)EG(s)->rate);
	EXPECT(EG(s)->pps == 0, "egress pps %llu",
	       (unsigned long long)EG(s)->pps);
	EXPECT(EG(s)->set == SPEC_RATE, "egress set %#x", EG(s)->set);
	return NULL;
}

static const char *ck_repeated_dirs(const struct spec *s)
{
	EXPECT(IN(s)->rate == 1000000 && IN(s)->burst == 10240,
	       "ingress rate %llu burst %llu", (unsigned long long)IN(s)->rate,
	       (unsigned long long)IN(s)->burst);
	EXPECT(IN(s)->set == (SPEC_RATE | SPEC_BURST), "ingress set %#x",
	       IN(s)->set);
	EXPECT(EG(s)->rate == 2000000 && EG(s)->burst == 0,
	       "egress rate %llu burst %llu", (unsigned long long)EG(s)->rate,
	       (unsigned long long)EG(s)->burst);
	EXPECT(EG(s)->set == SPEC_RATE, "egress set %#x", EG(s)->set);
	return NULL;
}

static const char *ck_both_resets(const struct spec *s)
{
	EXPECT(IN(s)->set == (SPEC_RATE | SPEC_BURST), "ingress set %#x",
	       IN(s)->set);
	EXPECT(EG(s)->set == SPEC_BURST, "egress set %#x", EG(s)->set);
	EXPECT(IN(s)->burst == 1048576 && EG(s)->burst == 1048576,
	       "bursts %llu/%llu", (unsigned long long)IN(s)->burst,
	       (unsigned long long)EG(s)->burst);
	return NULL;
}

static const char *ck_override(const struct spec *s)
{
	EXPECT(IN(s)->rate == 3000000 && EG(s)->rate == 3000000,
	       "rates %llu/%llu", (unsigned long long)IN(s)->rate,
	       (unsigned long long)EG(s)->rate);
	return NULL;
}

static const char *ck_dir_overrides_both(const struct spec *s)
{
	EXPECT(IN(s)->rate == 1000000, "ingress rate %llu",
	       (unsigned long long)IN(s)->rate);
	EXPECT(EG(s)->rate == 5000000, "egress rate %llu",
	       (unsigned long long)EG(s)->rate);
	return NULL;
}

static const char *ck_all_keys(const struct spec *s)
{
	int d;

	for (d = 0; d < TCBPF_NDIR; d++) {
		const struct spec_dir *x = &s->dir[d];

		EXPECT(x->set == ALL_BITS, "dir %d set %#x, want %#x", d,
		       x->set, ALL_BITS);
		EXPECT(x->rate == 10000000, "rate %llu",
		       (unsigned long long)x->rate);
		EXPECT(x->burst == 153600, "burst %llu",
		       (unsigned long long)x->burst);
		EXPECT(x->pps == 1000, "pps %llu", (unsigned long long)x->pps);
		EXPECT(x->pburst == 50, "pburst %llu",
		       (unsigned long long)x->pburst);
		EXPECT(x->nports == 1 && x->ports[0].lo == 22 &&
		       x->ports[0].protos == TCBPF_P_TCP, "ports wrong");
		EXPECT(x->allow_rate == 100000000, "allow_rate %llu",
		       (unsigned long long)x->allow_rate);
		EXPECT(x->allow_burst == 1048576, "allow_burst %llu",
		       (unsigned long long)x->allow_burst);
		EXPECT(x->delay == 400 * MS, "delay %llu",
		       (unsigned long long)x->delay);
		EXPECT(x->latency == 50 * MS, "latency %llu",
		       (unsigned long long)x->latency);
		EXPECT(x->mode == TCBPF_MODE_EDT, "mode %u", x->mode);
	}
	EXPECT(s->hook == TCBPF_HOOK_NONE, "hook %u", s->hook);
	return NULL;
}

static const char *ck_hook(const struct spec *s, uint32_t hook)
{
	EXPECT(s->hook == hook, "hook %u, want %u", s->hook, hook);
	EXPECT(IN(s)->set == 0 && EG(s)->set == 0,
	       "hook set direction bits %#x/%#x", IN(s)->set, EG(s)->set);
	return NULL;
}

static const char *ck_hook_tcx(const struct spec *s)
{
	return ck_hook(s, TCBPF_HOOK_TCX);
}

static const char *ck_hook_tc(const struct spec *s)
{
	return ck_hook(s, TCBPF_HOOK_TC);
}

static const char *ck_hook_auto(const struct spec *s)
{
	return ck_hook(s, TCBPF_HOOK_NONE);
}

static const char *ck_hook_last(const struct spec *s)
{
	EXPECT(s->hook == TCBPF_HOOK_TC, "hook %u", s->hook);
	EXPECT(IN(s)->rate == 1000000 && EG(s)->rate == 1000000,
	       "hook changed the direction: rates %llu/%llu",
	       (unsigned long long)IN(s)->rate, (unsigned long long)EG(s)->rate);
	return NULL;
}

static const char *ck_mode(const struct spec *s, uint32_t in, uint32_t eg,
			   uint32_t in_set, uint32_t eg_set)
{
	EXPECT(IN(s)->mode == in && EG(s)->mode == eg, "modes %u/%u, want %u/%u",
	       IN(s)->mode, EG(s)->mode, in, eg);
	EXPECT(IN(s)->set == in_set && EG(s)->set == eg_set,
	       "set %#x/%#x, want %#x/%#x", IN(s)->set, EG(s)->set,
	       in_set, eg_set);
	return NULL;
}

static const char *ck_mode_police(const struct spec *s)
{
	/* police is 0: only the bit tells it from "not given" */
	return ck_mode(s, TCBPF_MODE_POLICE, TCBPF_MODE_POLICE,
		       SPEC_MODE, SPEC_MODE);
}

static const char *ck_mode_edt(const struct spec *s)
{
	return ck_mode(s, TCBPF_MODE_EDT, TCBPF_MODE_EDT, SPEC_MODE, SPEC_MODE);
}

static const char *ck_mode_monitor(const struct spec *s)
{
	return ck_mode(s, TCBPF_MODE_MONITOR, TCBPF_MODE_MONITOR,
		       SPEC_MODE, SPEC_MODE);
}

static const char *ck_egress_monitor(const struct spec *s)
{
	return ck_mode(s, TCBPF_MODE_POLICE, TCBPF_MODE_MONITOR, 0, SPEC_MODE);
}

static const char *ck_monitor_then_edt(const struct spec *s)
{
	return ck_mode(s, TCBPF_MODE_MONITOR, TCBPF_MODE_EDT,
		       SPEC_MODE, SPEC_MODE);
}

static const char *ck_allow_none(const struct spec *s)
{
	EXPECT(IN(s)->nports == 0 && EG(s)->nports == 0, "nports %u/%u",
	       IN(s)->nports, EG(s)->nports);
	EXPECT(IN(s)->set == SPEC_ALLOW && EG(s)->set == SPEC_ALLOW,
	       "set %#x/%#x", IN(s)->set, EG(s)->set);
	return NULL;
}

static const char *ck_allow_dirs(const struct spec *s)
{
	EXPECT(IN(s)->nports == 2 && IN(s)->ports[0].lo == 22 &&
	       IN(s)->ports[1].lo == 3389, "ingress ports wrong (%u)",
	       IN(s)->nports);
	EXPECT(EG(s)->nports == 1 && EG(s)->ports[0].lo == 1000 &&
	       EG(s)->ports[0].hi == 2000 &&
	       EG(s)->ports[0].protos == TCBPF_P_UDP,
	       "egress ports wrong (%u)", EG(s)->nports);
	return NULL;
}

static const char *ck_zero_ok(const struct spec *s)
{
	EXPECT(IN(s)->set == (SPEC_PPS | SPEC_DELAY | SPEC_LATENCY | SPEC_ECN),
	       "set %#x", IN(s)->set);
	EXPECT(IN(s)->pps == 0 && IN(s)->delay == 0 && IN(s)->latency == 0 &&
	       IN(s)->ecn == 0, "values not zero");
	EXPECT(EG(s)->set == 0, "egress set %#x", EG(s)->set);
	return NULL;
}

/* which keys count as given for both directions, which for one */
static const char *ck_global(const struct spec *s, uint32_t in, uint32_t eg)
{
	EXPECT(IN(s)->global == in && EG(s)->global == eg,
	       "global %#x/%#x, want %#x/%#x", IN(s)->global, EG(s)->global,
	       in, eg);
	return NULL;
}

static const char *ck_global_rate(const struct spec *s)
{
	const char *r = ck_dir_overrides_both(s);

	return r ? r : ck_global(s, SPEC_RATE, 0);
}

static const char *ck_both_word_global(const struct spec *s)
{
	EXPECT(IN(s)->rate == 2000000 && EG(s)->rate == 1000000,
	       "rates %llu/%llu", (unsigned long long)IN(s)->rate,
	       (unsigned long long)EG(s)->rate);
	return ck_global(s, SPEC_BURST, SPEC_RATE | SPEC_BURST);
}

static const char *ck_global_delay(const struct spec *s)
{
	EXPECT(IN(s)->delay == 100 * MS && EG(s)->delay == 100 * MS,
	       "delays %llu/%llu", (unsigned long long)IN(s)->delay,
	       (unsigned long long)EG(s)->delay);
	return ck_global(s, SPEC_DELAY, SPEC_DELAY);
}

static const char *ck_per_dir_same(const struct spec *s)
{
	const char *r = ck_override(s);

	return r ? r : ck_global(s, 0, 0);
}

static const char *ck_max(const struct spec *s)
{
	EXPECT(IN(s)->rate == SPEC_RATE_MAX && IN(s)->allow_rate == SPEC_RATE_MAX,
	       "rate %llu allow-rate %llu", (unsigned long long)IN(s)->rate,
	       (unsigned long long)IN(s)->allow_rate);
	EXPECT(IN(s)->pps == SPEC_PPS_MAX, "pps %llu",
	       (unsigned long long)IN(s)->pps);
	return NULL;
}

static const char *ck_bare_time(const struct spec *s)
{
	EXPECT(EG(s)->latency == 100000, "latency %llu ns, want 100us",
	       (unsigned long long)EG(s)->latency);
	EXPECT(IN(s)->set == 0, "ingress set %#x", IN(s)->set);
	return NULL;
}

static const char *ck_trailing_dir(const struct spec *s)
{
	return ck_rate_both(s);
}

struct spec_ok_case {
	const char *name;
	const char *line;
	const char *(*check)(const struct spec *);
};

static const struct spec_ok_case spec_ok_cases[] = {
	{ "spec empty", "", ck_empty },
	{ "spec key before direction applies to both", "rate 1mbit", ck_rate_both },
	{ "spec both, ingress, egress", "rate 1mbit ingress pps 100 egress rate 2mbit",
	  ck_mixed },
	{ "spec repeated direction words",
	  "ingress rate 1mbit egress rate 2mbit ingress burst 10k", ck_repeated_dirs },
	{ "spec both resets direction", "ingress rate 1mbit both burst 1m",
	  ck_both_resets },
	{ "spec same key once per direction",
	  "ingress rate 3mbit egress rate 3mbit", ck_per_dir_same },
	{ "spec direction overrides both", "rate 1mbit egress rate 5mbit",
	  ck_global_rate },
	{ "spec \"both\" is for both, a direction overrides it",
	  "both rate 1mbit burst 2k ingress rate 2mbit", ck_both_word_global },
	{ "spec delay for both is marked global", "delay 100ms", ck_global_delay },
	{ "spec rates at their maximum", "rate 1tbit allow-rate 1000gbit "
	  "pps 1000000000", ck_max },
	{ "spec every key",
	  "rate 10mbit burst 1200kbit pps 1000 pburst 50 allow tcp/22 "
	  "allow-rate 100mbit allow-burst 1m delay 400ms latency 50ms mode edt",
	  ck_all_keys },
	{ "spec hook tcx", "hook tcx", ck_hook_tcx },
	{ "spec hook tc", "hook tc", ck_hook_tc },
	{ "spec hook auto", "hook auto", ck_hook_auto },
	{ "spec hook after direction is device-wide", "ingress hook tc", ck_hook_tc },
	{ "spec hook does not change direction", "rate 1mbit hook tc", ck_hook_last },
	{ "spec mode police", "mode police", ck_mode_police },
	{ "spec mode edt", "mode edt", ck_mode_edt },
	{ "spec mode monitor", "mode monitor", ck_mode_monitor },
	{ "spec bare monitor", "monitor", ck_mode_monitor },
	{ "spec egress monitor", "egress monitor", ck_egress_monitor },
	{ "spec monitor then egress mode edt", "monitor egress mode edt",
	  ck_monitor_then_edt },
	{ "spec allow none", "allow none", ck_allow_none },
	{ "spec allow per direction", "allow 22,3389 egress allow udp/1000-2000",
	  ck_allow_dirs },
	{ "spec pps none, zero delay, latency and ecn",
	  "ingress pps none delay 0 latency 0 ecn 0", ck_zero_ok },
	{ "spec bare time is microseconds", "egress latency 100", ck_bare_time },
	{ "spec trailing direction word", "rate 1mbit egress", ck_trailing_dir },
};

static void test_spec_ok(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(spec_ok_cases); i++) {
		const struct spec_ok_case *c = &spec_ok_cases[i];
		char err[256] = "";
		struct spec s;
		int rc;

		memset(&s, 0xa5, sizeof(s));	/* spec_parse must zero it */
		rc = parse_line(&s, c->line, err, sizeof(err));
		if (rc)
			report(c->name, because("\"%s\" returned %s: %s",
						c->line, errname(rc), err));
		else
			report(c->name, c->check(&s));
	}
}

struct spec_err_case {
	const char *line;
	int rc;
	const char *culprit[3];	/* each must appear in errbuf */
};

static const struct spec_err_case spec_err_cases[] = {
	{ "foo 1", -EINVAL, { "unknown key", "\"foo\"" } },
	{ "rate 1mbit Rate 2mbit", -EINVAL, { "unknown key", "\"Rate\"" } },
	{ "ingress 1mbit", -EINVAL, { "unknown key", "\"1mbit\"" } },
	{ "rate", -EINVAL, { "\"rate\" needs a value" } },
	{ "rate 1mbit ingress burst", -EINVAL, { "\"burst\" needs a value" } },
	{ "monitor mode", -EINVAL, { "\"mode\" needs a value" } },
	{ "hook", -EINVAL, { "\"hook\" needs a value" } },
	{ "allow", -EINVAL, { "\"allow\" needs a value" } },
	{ "rate 10xbit", -EINVAL, { "Illegal", "\"rate\"", "\"10xbit\"" } },
	{ "rate ingress", -EINVAL, { "\"rate\"", "\"ingress\"" } },
	{ "rate 0", -ERANGE, { "\"rate\"", "> 0", "\"0\"" } },
	{ "egress rate 0mbit", -ERANGE, { "\"rate\"", "> 0", "\"0mbit\"" } },
	{ "rate 99999999999999999999tbit", -ERANGE,
	  { "\"rate\"", "\"99999999999999999999tbit\"" } },
	{ "burst 10x", -EINVAL, { "\"burst\"", "\"10x\"" } },
	{ "burst 0", -ERANGE, { "\"burst\"", "> 0" } },
	{ "pps 1.5", -EINVAL, { "\"pps\"", "\"1.5\"" } },
	{ "pps -1", -EINVAL, { "\"pps\"", "\"-1\"" } },
	{ "pburst lots", -EINVAL, { "\"pburst\"", "\"lots\"" } },
	{ "allow-rate 0", -ERANGE, { "\"allow-rate\"", "> 0" } },
	{ "allow-rate 1mb", -EINVAL, { "\"allow-rate\"", "\"1mb\"" } },
	{ "allow-burst 0", -ERANGE, { "\"allow-burst\"", "> 0" } },
	{ "allow-burst 1bit", -EINVAL, { "\"allow-burst\"", "\"1bit\"" } },
	{ "delay 10parsecs", -EINVAL, { "\"delay\"", "\"10parsecs\"" } },
	{ "latency -1ms", -EINVAL, { "\"latency\"", "\"-1ms\"" } },
	{ "allow tcp/0", -ERANGE, { "\"allow\"", "\"tcp/0\"" } },
	{ "allow 22,icmp/1", -EINVAL, { "\"allow\"", "\"icmp\"" } },
	{ "allow 22,,80", -EINVAL, { "\"allow\"", "\"22,,80\"" } },
	{ "allow 3000-2000", -EINVAL, { "\"allow\"", "\"3000-2000\"" } },
	{ "mode fast", -EINVAL, { "\"mode\"", "\"fast\"" } },
	{ "mode Police", -EINVAL, { "\"mode\"", "\"Police\"" } },
	{ "hook xdp", -EINVAL, { "\"hook\"", "\"xdp\"" } },
	/* 0 is never a rate, burst or count; "pps none" drops the bucket */
	{ "pps 0", -ERANGE, { "\"pps\"", "> 0", "\"pps none\"" } },
	{ "ingress pps 0", -ERANGE, { "\"pps\"", "> 0" } },
	{ "pburst 0", -ERANGE, { "\"pburst\"", "> 0", "\"0\"" } },
	{ "pburst none", -EINVAL, { "\"pburst\"", "\"none\"" } },
	{ "rate none", -EINVAL, { "\"rate\"", "\"none\"" } },
	{ "burst none", -EINVAL, { "\"burst\"", "\"none\"" } },
	/* above the maximum the buckets take */
	{ "rate 18446744073709551615bit", -ERANGE,
	  { "\"rate\"", "\"18446744073709551615bit\"", "maximum is 1Tbit" } },
	{ "rate 1000000000001", -ERANGE, { "\"rate\"", "1Tbit" } },
	{ "egress allow-rate 2tbit", -ERANGE, { "\"allow-rate\"", "\"2tbit\"", "1Tbit" } },
	{ "pps 1000000001", -ERANGE, { "\"pps\"", "\"1000000001\"", "1000000000" } },
	{ "pps 99999999999999999999", -ERANGE, { "\"pps\"", "1000000000" } },
	/* a key twice for one direction */
	{ "rate 1mbit rate 3mbit", -EINVAL,
	  { "\"rate\" given twice", "both directions", "\"3mbit\"" } },
	{ "allow 22 allow 23", -EINVAL, { "\"allow\" given twice", "\"22\"", "\"23\"" } },
	{ "allow 22 allow none", -EINVAL, { "\"allow\" given twice", "\"none\"" } },
	{ "hook tcx hook tc", -EINVAL, { "\"hook\" given twice", "\"tcx\"", "\"tc\"" } },
	{ "hook tcx ingress hook auto", -EINVAL, { "\"hook\" given twice", "\"auto\"" } },
	{ "mode edt monitor", -EINVAL, { "\"mode\" given twice", "\"edt\"", "\"monitor\"" } },
	{ "monitor mode police", -EINVAL, { "\"mode\" given twice", "\"police\"" } },
	{ "egress rate 1mbit egress rate 2mbit", -EINVAL,
	  { "\"rate\" given twice for egress", "\"1mbit\"", "\"2mbit\"" } },
	{ "ingress rate 1mbit rate 2mbit", -EINVAL,
	  { "\"rate\" given twice for ingress" } },
	{ "rate 1mbit egress rate 2mbit egress rate 3mbit", -EINVAL,
	  { "\"rate\" given twice for egress", "\"2mbit\"", "\"3mbit\"" } },
	{ "rate 1mbit egress rate 2mbit rate 3mbit", -EINVAL,
	  { "\"rate\" given twice for egress", "\"3mbit\"" } },
	{ "egress rate 1mbit both rate 2mbit", -EINVAL,
	  { "\"rate\" given twice for egress", "\"2mbit\"" } },
	{ "rate 1mbit both rate 2mbit", -EINVAL,
	  { "\"rate\" given twice for both directions" } },
	{ "delay 1ms egress pps 5 both delay 2ms", -EINVAL,
	  { "\"delay\" given twice", "\"1ms\"", "\"2ms\"" } },
	{ "rate 1mbit ingress burst 1k rate 2mbit rate 3mbit", -EINVAL,
	  { "\"rate\" given twice for ingress", "\"2mbit\"", "\"3mbit\"" } },
};

static const char *check_spec_err(const struct spec_err_case *c)
{
	char err[256];
	struct spec s;
	int rc, i;

	memset(err, 0, sizeof(err));
	rc = parse_line(&s, c->line, err, sizeof(err));
	EXPECT(rc == c->rc, "returned %s, want %s (errbuf \"%s\")",
	       errname(rc), errname(c->rc), err);
	EXPECT(err[0], "errbuf empty");
	EXPECT(!strchr(err, '\n'), "errbuf has a newline: \"%s\"", err);
	for (i = 0; i < 3 && c->culprit[i]; i++)
		EXPECT(strstr(err, c->culprit[i]), "errbuf \"%s\" lacks %s",
		       err, c->culprit[i]);
	return NULL;
}

static const char *check_spec_empty_value(void)
{
	char a0[] = "rate", a1[] = "";
	char *argv[] = { a0, a1 };
	char err[256] = "";
	struct spec s;
	int rc;

	rc = spec_parse(&s, 2, argv, err, sizeof(err));
	EXPECT(rc == -EINVAL, "returned %s", errname(rc));
	EXPECT(strstr(err, "\"rate\"") && strstr(err, "\"\""),
	       "errbuf \"%s\" does not name the empty value", err);
	return NULL;
}

static const char *check_spec_no_errbuf(void)
{
	struct spec s;
	char err[8];
	int rc;

	rc = parse_line(&s, "rate 10xbit", NULL, 0);
	EXPECT(rc == -EINVAL, "NULL errbuf: returned %s", errname(rc));
	memset(err, 'X', sizeof(err));
	rc = parse_line(&s, "rate 10xbit", err, 5);
	EXPECT(rc == -EINVAL, "short errbuf: returned %s", errname(rc));
	EXPECT(err[4] == '\0' && err[5] == 'X', "short errbuf not cut at 5");
	return NULL;
}

static void test_spec_err(void)
{
	char name[160];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(spec_err_cases); i++) {
		snprintf(name, sizeof(name), "spec error \"%s\"",
			 spec_err_cases[i].line);
		report(name, check_spec_err(&spec_err_cases[i]));
	}
	report("spec error empty value", check_spec_empty_value());
	report("spec error with NULL or short errbuf", check_spec_no_errbuf());
}

/* ---- defaults and apply ---- */

static const char *check_defaults(int dir)
{
	struct spec_dir d;
	uint64_t v;

	memset(&d, 0xa5, sizeof(d));
	spec_defaults(&d, dir);
	EXPECT(d.set == 0, "set %#x", d.set);
	EXPECT(d.rate == 1000000, "rate %llu", (unsigned long long)d.rate);
	EXPECT(parse_size("1200kbit", &v) == 0 && d.burst == v && v == 153600,
	       "burst %llu, want 1200kbit = 153600", (unsigned long long)d.burst);
	EXPECT(d.pps == 0 && d.pburst == 0, "pps %llu pburst %llu",
	       (unsigned long long)d.pps, (unsigned long long)d.pburst);
	EXPECT(d.nports == 2, "nports %u", d.nports);
	EXPECT(d.ports[0].lo == 22 && d.ports[0].hi == 22 &&
	       d.ports[0].protos == BOTH_TCP_UDP, "port 0 is %u-%u %#x",
	       d.ports[0].lo, d.ports[0].hi, d.ports[0].protos);
	EXPECT(d.ports[1].lo == 3389 && d.ports[1].hi == 3389 &&
	       d.ports[1].protos == BOTH_TCP_UDP, "port 1 is %u-%u %#x",
	       d.ports[1].lo, d.ports[1].hi, d.ports[1].protos);
	EXPECT(d.allow_rate == 100000000, "allow_rate %llu",
	       (unsigned long long)d.allow_rate);
	EXPECT(parse_size("100mbit", &v) == 0 && d.allow_burst == v &&
	       v == 13107200, "allow_burst %llu, want 100mbit = 13107200",
	       (unsigned long long)d.allow_burst);
	EXPECT(d.delay == (dir == TCBPF_EGRESS ? 400 * MS : 0), "delay %llu",
	       (unsigned long long)d.delay);
	EXPECT(d.latency == 0, "latency %llu", (unsigned long long)d.latency);
	EXPECT(d.mode == TCBPF_MODE_POLICE, "mode %u", d.mode);
	return NULL;
}

static const char *check_defaults_ingress(void)
{
	return check_defaults(TCBPF_INGRESS);
}

static const char *check_defaults_egress(void)
{
	return check_defaults(TCBPF_EGRESS);
}

/* defaults of dir, then the SPEC line applied for that direction */
static const char *apply_line(struct spec_dir *d, int dir, const char *line)
{
	char err[256] = "";
	struct spec s;
	int rc;

	spec_defaults(d, dir);
	rc = parse_line(&s, line, err, sizeof(err));
	EXPECT(rc == 0, "\"%s\" returned %s: %s", line, errname(rc), err);
	spec_apply(d, &s.dir[dir]);
	return NULL;
}

static const char *check_apply_rate(void)
{
	struct spec_dir d;
	const char *r = apply_line(&d, TCBPF_EGRESS, "rate 5mbit");

	if (r)
		return r;
	EXPECT(d.rate == 5000000, "rate %llu", (unsigned long long)d.rate);
	EXPECT(d.burst == 153600, "burst changed to %llu",
	       (unsigned long long)d.burst);
	EXPECT(d.delay == 400 * MS, "delay changed");
	EXPECT(d.nports == 2, "ports changed");
	EXPECT(d.set == SPEC_RATE, "set %#x", d.set);
	return NULL;
}

static const char *check_apply_nothing(void)
{
	struct spec_dir d, before;
	const char *r = apply_line(&d, TCBPF_INGRESS, "");

	if (r)
		return r;
	spec_defaults(&before, TCBPF_INGRESS);
	EXPECT(memcmp(&d, &before, sizeof(d)) == 0, "empty spec changed d");
	return NULL;
}

static const char *check_apply_other_dir(void)
{
	struct spec_dir d;
	const char *r = apply_line(&d, TCBPF_INGRESS, "egress rate 5mbit");

	if (r)
		return r;
	EXPECT(d.rate == 1000000 && d.set == 0,
	       "egress key changed ingress: rate %llu set %#x",
	       (unsigned long long)d.rate, d.set);
	return NULL;
}

static const char *check_apply_allow_none(void)
{
	struct spec_dir d;
	const char *r = apply_line(&d, TCBPF_INGRESS, "allow none");

	if (r)
		return r;
	EXPECT(d.nports == 0, "nports %u", d.nports);
	EXPECT(d.set == SPEC_ALLOW, "set %#x", d.set);
	return NULL;
}

static const char *check_apply_allow(void)
{
	struct spec_dir d;
	const char *r = apply_line(&d, TCBPF_INGRESS, "allow sctp/9,80");

	if (r)
		return r;
	EXPECT(d.nports == 2 && d.ports[0].lo == 9 &&
	       d.ports[0].protos == TCBPF_P_SCTP && d.ports[1].lo == 80,
	       "ports not replaced (%u)", d.nports);
	return NULL;
}

static const char *check_apply_every_key(void)
{
	struct spec_dir d;
	const char *r = apply_line(&d, TCBPF_EGRESS,
		"rate 7mbit burst 3k pps 9 pburst 4 allow 1 allow-rate 8mbit "
		"allow-burst 2k delay 1ms latency 2ms mode edt");

	if (r)
		return r;
	EXPECT(d.set == ALL_BITS, "set %#x", d.set);
	EXPECT(d.rate == 7000000 && d.burst == 3072 && d.pps == 9 &&
	       d.pburst == 4 && d.nports == 1 && d.ports[0].lo == 1 &&
	       d.allow_rate == 8000000 && d.allow_burst == 2048 &&
	       d.delay == MS && d.latency == 2 * MS &&
	       d.mode == TCBPF_MODE_EDT, "some key not copied");
	return NULL;
}

static const char *check_apply_pps_keeps_pburst(void)
{
	struct spec_dir d;
	const char *r = apply_line(&d, TCBPF_INGRESS, "pps 500");

	if (r)
		return r;
	EXPECT(d.pps == 500, "pps %llu", (unsigned long long)d.pps);
	EXPECT(d.pburst == 0, "pburst %llu, want 0 (derived later)",
	       (unsigned long long)d.pburst);
	EXPECT(d.set == SPEC_PPS, "set %#x", d.set);
	return NULL;
}

static const char *check_apply_pps_old_pburst(void)
{
	struct spec_dir d;
	char err[256] = "";
	struct spec s;
	int rc;

	spec_defaults(&d, TCBPF_INGRESS);
	d.pburst = 7;
	rc = parse_line(&s, "pps 500", err, sizeof(err));
	EXPECT(rc == 0, "returned %s: %s", errname(rc), err);
	spec_apply(&d, &s.dir[TCBPF_INGRESS]);
	EXPECT(d.pburst == 7, "pburst %llu, want the old 7",
	       (unsigned long long)d.pburst);
	return NULL;
}

static const char *check_apply_or_set(void)
{
	struct spec_dir d;
	char err[256] = "";
	struct spec s;
	int rc;

	spec_defaults(&d, TCBPF_EGRESS);
	d.set = SPEC_DELAY;
	rc = parse_line(&s, "monitor", err, sizeof(err));
	EXPECT(rc == 0, "returned %s: %s", errname(rc), err);
	spec_apply(&d, &s.dir[TCBPF_EGRESS]);
	EXPECT(d.set == (SPEC_DELAY | SPEC_MODE), "set %#x", d.set);
	EXPECT(d.mode == TCBPF_MODE_MONITOR, "mode %u", d.mode);
	EXPECT(d.delay == 400 * MS, "delay changed");
	return NULL;
}

static void test_defaults_apply(void)
{
	report("spec_defaults ingress", check_defaults_ingress());
	report("spec_defaults egress", check_defaults_egress());
	report("spec_apply rate keeps the rest", check_apply_rate());
	report("spec_apply empty spec changes nothing", check_apply_nothing());
	report("spec_apply other direction's keys ignored", check_apply_other_dir());
	report("spec_apply allow none", check_apply_allow_none());
	report("spec_apply allow replaces list", check_apply_allow());
	report("spec_apply every key", check_apply_every_key());
	report("spec_apply pps leaves pburst 0", check_apply_pps_keeps_pburst());
	report("spec_apply pps keeps old pburst", check_apply_pps_old_pburst());
	report("spec_apply ORs set bits", check_apply_or_set());
}

/* ---- validation ---- */

#define OLD_NONE	0xffffffffU	/* no old settings: attach's defaults */

struct valid_case {
	const char *line;	/* the command line's SPEC */
	uint32_t old_mode;	/* old egress mode (change), or OLD_NONE */
	const char *old_line;	/* old settings applied first (change), or NULL */
	int rc;
	const char *culprit[4];	/* error: each must appear in err */
};

static const struct valid_case valid_cases[] = {
	/* a delay that cannot be enforced, given explicitly */
	{ "mode police delay 100ms", OLD_NONE, NULL, -EINVAL,
	  { "vm-1-00aa egress", "\"delay 100ms\"", "mode police" } },
	{ "egress mode police delay 100ms", OLD_NONE, NULL, -EINVAL,
	  { "vm-1-00aa egress", "\"delay 100ms\"", "mode police" } },
	{ "monitor delay 100ms", OLD_NONE, NULL, -EINVAL,
	  { "vm-1-00aa egress", "\"delay 100ms\"", "mode monitor" } },
	{ "egress delay 50ms", TCBPF_MODE_POLICE, NULL, -EINVAL,
	  { "vm-1-00aa egress", "\"delay 50ms\"", "mode police" } },
	{ "delay 50ms", TCBPF_MODE_MONITOR, NULL, -EINVAL,
	  { "egress", "\"delay 50ms\"", "mode monitor" } },
	/* ... but a delay from defaults or old settings, or 0, is kept */
	{ "mode police", OLD_NONE, NULL, 0 },
	{ "monitor", OLD_NONE, NULL, 0 },
	{ "mode police delay 0", OLD_NONE, NULL, 0 },
	{ "rate 5mbit", TCBPF_MODE_POLICE, NULL, 0 },
	{ "egress delay 0", TCBPF_MODE_MONITOR, NULL, 0 },
	{ "egress mode edt delay 100ms", TCBPF_MODE_POLICE, NULL, 0 },
	{ "delay 100ms", OLD_NONE, NULL, 0 },
	{ "both delay 100ms", OLD_NONE, NULL, 0 },
	/* ingress cannot hold traffic back */
	{ "ingress delay 100ms", OLD_NONE, NULL, -EINVAL,
	  { "vm-1-00aa ingress", "\"delay 100ms\"", "egress" } },
	{ "delay 100ms ingress delay 50ms", OLD_NONE, NULL, -EINVAL,
	  { "vm-1-00aa ingress", "\"delay 50ms\"" } },
	{ "ingress delay 100ms egress delay 100ms", OLD_NONE, NULL, -EINVAL,
	  { "vm-1-00aa ingress", "\"delay 100ms\"" } },
	{ "ingress delay 0", OLD_NONE, NULL, 0 },
	/* ingress EDT paces through an ifb (whether the kernel can is
	 * attach's business), but still holds nothing back beyond pacing */
	{ "mode edt", OLD_NONE, NULL, 0 },
	{ "ingress mode edt delay 100ms", OLD_NONE, NULL, -EINVAL,
	  { "vm-1-00aa ingress", "\"delay 100ms\"", "egress" } },
	{ "egress mode edt", OLD_NONE, NULL, 0 },
	/* ecn beyond the horizon never marks */
	{ "latency 10ms ecn 20ms", OLD_NONE, NULL, -EINVAL,
	  { "vm-1-00aa", "\"ecn 20ms\"", "\"latency 10ms\"" } },
	{ "egress latency 10ms ecn 11ms", OLD_NONE, NULL, -EINVAL,
	  { "vm-1-00aa egress", "\"ecn 11ms\"", "\"latency 10ms\"" } },
	{ "egress ecn 20ms", TCBPF_MODE_EDT, "egress latency 10ms", -EINVAL,
	  { "egress", "\"ecn 20ms\"", "\"latency 10ms\"" } },
	{ "egress latency 5ms", TCBPF_MODE_EDT, "egress ecn 6ms", -EINVAL,
	  { "egress", "\"ecn 6ms\"", "\"latency 5ms\"" } },
	{ "egress latency 10ms ecn 10ms", OLD_NONE, NULL, 0 },
	{ "egress latency 10ms ecn 0", OLD_NONE, NULL, 0 },
	{ "egress latency 0 ecn 20ms", OLD_NONE, NULL, 0 },
	/* a packet burst needs a packet bucket */
	{ "pburst 10", OLD_NONE, NULL, -EINVAL,
	  { "vm-1-00aa ingress", "\"pburst 10\"", "\"pps\"" } },
	{ "pps none pburst 10", OLD_NONE, NULL, -EINVAL, { "\"pburst 10\"" } },
	{ "egress pburst 10", TCBPF_MODE_EDT, "egress pps 100", 0 },
	{ "ingress pps 100 pburst 10", OLD_NONE, NULL, 0 },
	{ "ingress pps none", OLD_NONE, "ingress pps 100 pburst 10", 0 },
	{ "", OLD_NONE, NULL, 0 },
};

/*
 * dirs as attach (defaults, egress paced) or change (defaults with the
 * old mode and old_line applied, as if read back from the maps: nothing
 * of theirs counts as given) builds them, then the line applied.
 */
static const char *build_dirs(const struct valid_case *c, struct spec *s,
			      struct spec_dir dirs[TCBPF_NDIR])
{
	char err[256] = "";
	struct spec old;
	int dir, rc;

	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		spec_defaults(&dirs[dir], dir);
		if (dir == TCBPF_EGRESS)
			dirs[dir].mode = c->old_mode == OLD_NONE ?
					 TCBPF_MODE_EDT : c->old_mode;
	}
	if (c->old_line) {
		rc = parse_line(&old, c->old_line, err, sizeof(err));
		EXPECT(rc == 0, "old \"%s\" returned %s: %s", c->old_line,
		       errname(rc), err);
		for (dir = 0; dir < TCBPF_NDIR; dir++) {
			spec_apply(&dirs[dir], &old.dir[dir]);
			/* only latency and ecn keep their bit in the maps */
			dirs[dir].set &= SPEC_LATENCY | SPEC_ECN;
		}
	}
	rc = parse_line(s, c->line, err, sizeof(err));
	EXPECT(rc == 0, "\"%s\" returned %s: %s", c->line, errname(rc), err);
	for (dir = 0; dir < TCBPF_NDIR; dir++)
		spec_apply(&dirs[dir], &s->dir[dir]);
	return NULL;
}

static const char *check_valid(const struct valid_case *c)
{
	struct spec_dir dirs[TCBPF_NDIR];
	char err[256];
	struct spec s;
	const char *r = build_dirs(c, &s, dirs);
	int rc, i;

	if (r)
		return r;
	memset(err, 0, sizeof(err));
	rc = spec_validate(dirs, &s, "vm-1-00aa", err, sizeof(err));
	EXPECT(rc == c->rc, "returned %s, want %s (err \"%s\")", errname(rc),
	       errname(c->rc), err);
	if (!rc) {
		EXPECT(!err[0], "err \"%s\" on success", err);
		return NULL;
	}
	EXPECT(err[0], "err empty");
	EXPECT(!strchr(err, '\n'), "err has a newline: \"%s\"", err);
	for (i = 0; i < 4 && c->culprit[i]; i++)
		EXPECT(strstr(err, c->culprit[i]), "err \"%s\" lacks %s",
		       err, c->culprit[i]);
	return NULL;
}

/* A delay for both directions is egress's: ingress keeps none. */
static const char *check_valid_delay_normalised(void)
{
	static const struct valid_case c = { "rate 2mbit delay 100ms", OLD_NONE };
	struct spec_dir dirs[TCBPF_NDIR];
	char err[256] = "";
	struct spec s;
	const char *r = build_dirs(&c, &s, dirs);
	int rc;

	if (r)
		return r;
	rc = spec_validate(dirs, &s, "vm-1-00aa", err, sizeof(err));
	EXPECT(rc == 0, "returned %s: %s", errname(rc), err);
	EXPECT(dirs[TCBPF_INGRESS].delay == 0 &&
	       !(dirs[TCBPF_INGRESS].set & SPEC_DELAY),
	       "ingress delay %llu set %#x", (unsigned long long)
	       dirs[TCBPF_INGRESS].delay, dirs[TCBPF_INGRESS].set);
	EXPECT(dirs[TCBPF_INGRESS].rate == 2000000, "ingress rate lost");
	EXPECT(dirs[TCBPF_EGRESS].delay == 100 * MS &&
	       (dirs[TCBPF_EGRESS].set & SPEC_DELAY), "egress delay %llu set %#x",
	       (unsigned long long)dirs[TCBPF_EGRESS].delay,
	       dirs[TCBPF_EGRESS].set);
	return NULL;
}

/* A default delay under police stays (shown as not enforced). */
static const char *check_valid_police_keeps_delay(void)
{
	static const struct valid_case c = { "mode police", OLD_NONE };
	struct spec_dir dirs[TCBPF_NDIR];
	char err[256] = "";
	struct spec s;
	const char *r = build_dirs(&c, &s, dirs);
	int rc;

	if (r)
		return r;
	rc = spec_validate(dirs, &s, "vm-1-00aa", err, sizeof(err));
	EXPECT(rc == 0, "returned %s: %s", errname(rc), err);
	EXPECT(dirs[TCBPF_EGRESS].delay == 400 * MS &&
	       dirs[TCBPF_EGRESS].mode == TCBPF_MODE_POLICE,
	       "egress delay %llu mode %u", (unsigned long long)
	       dirs[TCBPF_EGRESS].delay, dirs[TCBPF_EGRESS].mode);
	return NULL;
}

/* No SPEC at all (NULL): settings alone, nothing explicit to refuse. */
static const char *check_valid_null_given(void)
{
	struct spec_dir dirs[TCBPF_NDIR];
	char err[64] = "";
	int rc;

	spec_defaults(&dirs[TCBPF_INGRESS], TCBPF_INGRESS);
	spec_defaults(&dirs[TCBPF_EGRESS], TCBPF_EGRESS);
	rc = spec_validate(dirs, NULL, NULL, err, sizeof(err));
	EXPECT(rc == 0, "defaults, police egress with delay: %s: %s",
	       errname(rc), err);
	/* ingress EDT is valid settings (paced through an ifb) */
	dirs[TCBPF_INGRESS].mode = TCBPF_MODE_EDT;
	rc = spec_validate(dirs, NULL, "x", err, sizeof(err));
	EXPECT(rc == 0, "ingress edt: %s: \"%s\"", errname(rc), err);
	return NULL;
}

static const char *check_valid_short_err(void)
{
	static const struct valid_case c = { "mode police delay 100ms", OLD_NONE };
	struct spec_dir dirs[TCBPF_NDIR];
	char err[8];
	struct spec s;
	const char *r = build_dirs(&c, &s, dirs);
	int rc;

	if (r)
		return r;
	memset(err, 'X', sizeof(err));
	rc = spec_validate(dirs, &s, "vm-1-00aa", err, 5);
	EXPECT(rc == -EINVAL, "returned %s", errname(rc));
	EXPECT(err[4] == '\0' && err[5] == 'X', "err not cut at 5");
	rc = spec_validate(dirs, &s, "vm-1-00aa", NULL, 0);
	EXPECT(rc == -EINVAL, "NULL err: returned %s", errname(rc));
	return NULL;
}

static const char *check_warnings(void)
{
	struct spec_dir dirs[TCBPF_NDIR];
	char buf[512], small[16];
	int n, dir;

	for (dir = 0; dir < TCBPF_NDIR; dir++)
		spec_defaults(&dirs[dir], dir);
	memset(buf, 'X', sizeof(buf));
	n = spec_warnings(dirs, "vm-1-00aa", buf, sizeof(buf));
	EXPECT(n == 0 && buf[0] == '\0', "defaults: %d warnings: \"%s\"", n, buf);

	/* frame warnings hold in every mode: pacing, free of TCP's */
	dirs[TCBPF_INGRESS].mode = dirs[TCBPF_EGRESS].mode = TCBPF_MODE_EDT;
	dirs[TCBPF_EGRESS].burst = 1000;
	dirs[TCBPF_INGRESS].allow_burst = 1024;
	n = spec_warnings(dirs, "vm-1-00aa", buf, sizeof(buf));
	EXPECT(n == 2, "%d warnings, want 2: \"%s\"", n, buf);
	EXPECT(strstr(buf, "vm-1-00aa ingress: allow-burst 1Kb") &&
	       strstr(buf, "\nwarning: vm-1-00aa egress: burst 1000b") &&
	       strstr(buf, "1514b"), "text \"%s\"", buf);
	EXPECT(buf[strlen(buf) - 1] != '\n', "trailing newline");

	dirs[TCBPF_EGRESS].burst = SPEC_FRAME_MAX;
	n = spec_warnings(dirs, "vm-1-00aa", buf, sizeof(buf));
	EXPECT(n == 1, "a burst of one frame warned: %d \"%s\"", n, buf);

	memset(small, 'X', sizeof(small));
	n = spec_warnings(dirs, "vm-1-00aa", small, 10);
	EXPECT(n == 1 && small[9] == '\0' && small[10] == 'X',
	       "short buf: %d, not cut at 10", n);

	/* a policer with less than 500 ms of burst: TCP's warning */
	spec_defaults(&dirs[TCBPF_INGRESS], TCBPF_INGRESS);
	spec_defaults(&dirs[TCBPF_EGRESS], TCBPF_EGRESS);
	dirs[TCBPF_INGRESS].rate = 10000000;	/* 1200kbit: 122 ms */
	n = spec_warnings(dirs, "vm-1-00aa", buf, sizeof(buf));
	EXPECT(n == 1 && strstr(buf, "ingress: burst 150Kb is 122 ms at 10Mbit") &&
	       strstr(buf, "burst 977Kb or more"), "police 10mbit: %d \"%s\"",
	       n, buf);
	dirs[TCBPF_INGRESS].burst = 625000;	/* 500 ms: enough */
	n = spec_warnings(dirs, "vm-1-00aa", buf, sizeof(buf));
	EXPECT(n == 0, "500 ms of burst warned: %d \"%s\"", n, buf);
	dirs[TCBPF_INGRESS].burst = 150000;
	dirs[TCBPF_INGRESS].mode = TCBPF_MODE_EDT;	/* pacing: no need */
	n = spec_warnings(dirs, "vm-1-00aa", buf, sizeof(buf));
	EXPECT(n == 0, "edt warned of TCP's burst: %d \"%s\"", n, buf);
	dirs[TCBPF_INGRESS].mode = TCBPF_MODE_POLICE;
	dirs[TCBPF_INGRESS].allow_burst = 100000;	/* 8 ms at 100mbit */
	n = spec_warnings(dirs, "vm-1-00aa", buf, sizeof(buf));
	EXPECT(n == 2 && strstr(buf, "allow-burst 100000b is 8 ms"),
	       "allow class: %d \"%s\"", n, buf);
	return NULL;
}

static void test_validate(void)
{
	char name[160];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(valid_cases); i++) {
		const struct valid_case *c = &valid_cases[i];

		snprintf(name, sizeof(name), "spec_validate \"%s\"%s%s%s%s%s",
			 c->line, c->old_mode == OLD_NONE ? "" : " over old mode ",
			 c->old_mode == OLD_NONE ? "" :
			 c->old_mode == TCBPF_MODE_POLICE ? "police" :
			 c->old_mode == TCBPF_MODE_EDT ? "edt" : "monitor",
			 c->old_line ? " and \"" : "",
			 c->old_line ? c->old_line : "", c->old_line ? "\"" : "");
		report(name, check_valid(c));
	}
	report("spec_validate delay for both is egress's",
	       check_valid_delay_normalised());
	report("spec_validate default delay kept under police",
	       check_valid_police_keeps_delay());
	report("spec_validate without a SPEC", check_valid_null_given());
	report("spec_validate with NULL or short err", check_valid_short_err());
	report("spec_warnings", check_warnings());
}

/* ---- device names ---- */

struct devname_case {
	const char *name;
	int rc;
	const char *culprit;
};

static const struct devname_case devname_cases[] = {
	{ "vm-3-00c9", 0 },
	{ "a", 0 },
	{ "vm-123456-00c9x", 0 },		/* 15 bytes */
	{ "eth0.100", 0 },
	{ "...", 0 },
	{ "vm-123456-00c9xy", -EINVAL, "\"vm-123456-00c9xy\" is too long" },
	{ "", -EINVAL, "empty" },
	{ NULL, -EINVAL, "empty" },
	{ "a/b", -EINVAL, "\"a/b\"" },
	{ "eth0:1", -EINVAL, "\"eth0:1\"" },
	{ "vm 3", -EINVAL, "\"vm 3\"" },
	{ "vm\t3", -EINVAL, "cannot be a device name" },
	{ ".", -EINVAL, "\".\" cannot" },
	{ "..", -EINVAL, "\"..\" cannot" },
};

static const char *check_devname(const struct devname_case *c)
{
	char err[128] = "";
	int rc = dev_name_check(c->name, err, sizeof(err));

	EXPECT(rc == c->rc, "returned %s, want %s (err \"%s\")", errname(rc),
	       errname(c->rc), err);
	if (rc)
		EXPECT(strstr(err, c->culprit), "err \"%s\" lacks %s", err,
		       c->culprit);
	return NULL;
}

static void test_devname(void)
{
	char name[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(devname_cases); i++) {
		const struct devname_case *c = &devname_cases[i];

		snprintf(name, sizeof(name), "dev_name_check \"%s\"",
			 c->name ? c->name : "(null)");
		report(name, check_devname(c));
	}
}

/* ---- seconds and measured rates (stats, export, watch) ---- */

struct secs_case {
	const char *in;
	int rc;
	double want;
};

static const struct secs_case secs_cases[] = {
	{ "0.5", 0, 0.5 },
	{ "2", 0, 2 },
	{ ".25", 0, 0.25 },
	{ "500ms", 0, 0.5 },
	{ "1.5s", 0, 1.5 },
	{ "100us", 0, 0.0001 },
	{ "31536000", 0, 31536000 },
	{ "0", -ERANGE },
	{ "0ms", -ERANGE },
	{ "31536001", -ERANGE },
	{ "", -EINVAL },
	{ "-1", -EINVAL },
	{ " 1", -EINVAL },
	{ "inf", -EINVAL },
	{ "nan", -EINVAL },
	{ "1x", -EINVAL },
	{ "5min", -EINVAL },
};

static const char *check_secs(const struct secs_case *c)
{
	double v = -7;
	int rc = parse_secs(c->in, &v);

	EXPECT(rc == c->rc, "returned %s, want %s", errname(rc), errname(c->rc));
	if (rc)
		EXPECT(v == -7, "wrote %g on error", v);
	else
		EXPECT(v > c->want * 0.999999 && v < c->want * 1.000001,
		       "got %g, want %g", v, c->want);
	return NULL;
}

static const char *check_fmt_bits(void)
{
	static const struct { double v; const char *want; } t[] = {
		{ 0, "0" }, { 999, "999" }, { 999.4, "999" }, { 1000, "1.00k" },
		{ 12340000, "12.34M" }, { 2.5e9, "2.50G" }, { 1.5e12, "1.50T" },
		{ 1e16, "10000.00T" },
	};
	char buf[32];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		EXPECT(fmt_bits(buf, sizeof(buf), t[i].v) == buf, "not buf");
		EXPECT(!strcmp(buf, t[i].want), "%g: got \"%s\", want \"%s\"",
		       t[i].v, buf, t[i].want);
	}
	return NULL;
}

static void test_secs_bits(void)
{
	char name[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(secs_cases); i++) {
		snprintf(name, sizeof(name), "parse_secs \"%s\"", secs_cases[i].in);
		report(name, check_secs(&secs_cases[i]));
	}
	report("fmt_bits", check_fmt_bits());
}

/*
 * What the recorded state keeps: the settings a SPEC gives, back to a SPEC
 * (spec_from_cfg, as watch's release and net rollback do), to words and
 * parsed again give the same settings.
 */
static const char *check_words_round_trip(const char *line)
{
	struct tcbpf_cfg a[TCBPF_NDIR], b[TCBPF_NDIR];
	char buf[512], err[256], *argv[64], *w, **words;
	struct spec s, back, again;
	int argc = 0, n, i, dir;

	snprintf(buf, sizeof(buf), "%s", line);
	for (w = strtok(buf, " "); w && argc < 64; w = strtok(NULL, " "))
		argv[argc++] = w;
	EXPECT(!spec_parse(&s, argc, argv, err, sizeof(err)), "parse: %s", err);
	cfg_wanted(&s, a);
	spec_from_cfg(&back, a);
	EXPECT(!spec_words(&back, &n, &words), "spec_words failed");
	err[0] = '\0';
	i = spec_parse(&again, n, words, err, sizeof(err));
	if (i) {
		char said[512] = "";
		int k;

		for (k = 0; k < n; k++)
			snprintf(said + strlen(said), sizeof(said) - strlen(said),
				 "%s ", words[k]);
		free(words);
		return because("words \"%s\" do not parse: %s", said, err);
	}
	free(words);
	cfg_wanted(&again, b);
	for (dir = 0; dir < TCBPF_NDIR; dir++)
		EXPECT(cfg_same(&b[dir], &a[dir]), "%s settings differ",
		       dir ? "egress" : "ingress");
	return NULL;
}

static void test_words(void)
{
	static const char *const lines[] = {
		"", "rate 10mbit", "rate 3mbit egress rate 7mbit burst 10k",
		"pps 1000", "ingress pps 5000 pburst 100 egress mode police",
		"allow tcp/22,udp/53-60,sctp/9 allow-rate 2mbit",
		"allow none monitor", "latency 10ms ecn 2ms rate 100mbit",
	};
	char name[128];
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(name, sizeof(name), "spec_words round trip \"%s\"",
			 lines[i]);
		report(name, check_words_round_trip(lines[i]));
	}
}

int main(void)
{
	test_words();
	test_numbers();
	test_fmt();
	test_ports();
	test_spec_ok();
	test_spec_err();
	test_defaults_apply();
	test_validate();
	test_devname();
	test_secs_bits();

	return nfail ? 1 : 0;
}
