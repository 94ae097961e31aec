// SPDX-License-Identifier: GPL-2.0-only
/*
 * lf_units.c - libFuzzer target: tc's units (lib/units.c).
 *
 * The first byte picks the unit, the rest is either text or (with the
 * top bit of the first byte set) a 64-bit value. Properties:
 *  - text: every parser that accepts it gives a value whose fmt_*() text
 *    parses back to the same value, and fmt_*() of that value again gives
 *    the same text (one canonical form);
 *  - value: fmt_*() of any 64-bit value parses back to exactly it (the
 *    contract of units.h: "always exact");
 *  - parse_ports, parse_count, parse_secs and fmt_bits: no crash, no
 *    read beyond the text, no undefined behaviour; an accepted port list
 *    has 1..TCBPF_MAX_PORTS ranges with lo <= hi, or none for "none".
 */
#include <errno.h>
#include <inttypes.h>

#include "lib/units.h"
#include "lib/spec.h"
#include "lf.h"

typedef int (*parse_fn)(const char *, uint64_t *);
typedef char *(*fmt_fn)(char *, size_t, uint64_t);

static const struct {
	const char *name;
	parse_fn parse;
	fmt_fn fmt;
} units[] = {
	{ "rate", parse_rate, fmt_rate },
	{ "size", parse_size, fmt_size },
	{ "time", parse_time, fmt_time },
};

#define NUNITS	(sizeof(units) / sizeof(units[0]))

/* fmt of @v parses back to @v, and is the text of that value again. */
static void round_trip(unsigned int u, uint64_t v)
{
	char a[64], b[64];
	uint64_t back = 0;
	int rc;

	units[u].fmt(a, sizeof(a), v);
	rc = units[u].parse(a, &back);
	LF_CHECK(rc == 0 && back == v, "%s %" PRIu64 " printed \"%s\", "
		 "parsed back rc %d value %" PRIu64, units[u].name, v, a, rc,
		 back);
	units[u].fmt(b, sizeof(b), back);
	LF_CHECK(!strcmp(a, b), "%s %" PRIu64 ": \"%s\" then \"%s\"",
		 units[u].name, v, a, b);
}

static void ports(const char *s)
{
	struct tcbpf_port p[TCBPF_MAX_PORTS];
	char err[256];
	uint32_t n = 12345, i;

	if (parse_ports(s, p, &n, err, sizeof(err)))
		return;
	LF_CHECK(n <= TCBPF_MAX_PORTS, "\"%s\": %u ranges", s, n);
	for (i = 0; i < n; i++)
		LF_CHECK(p[i].lo <= p[i].hi && p[i].protos,
			 "\"%s\": range %u is %u-%u protos %#x", s, i,
			 p[i].lo, p[i].hi, p[i].protos);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int u;
	uint64_t v;
	double secs;
	char buf[64], *s;

	if (size < 1)
		return 0;
	u = data[0] & 0x7f;
	if (data[0] & 0x80) {
		if (size < 1 + sizeof(v))
			return 0;
		memcpy(&v, data + 1, sizeof(v));
		if (u < NUNITS)
			round_trip(u, v);
		else
			fmt_bits(buf, sizeof(buf), (double)v / (1 + (u & 7)));
		return 0;
	}
	s = lf_str(data + 1, size - 1);
	for (u = 0; u < NUNITS; u++) {
		v = 0;
		if (!units[u].parse(s, &v))
			round_trip(u, v);
	}
	ports(s);
	(void)parse_count(s, &v);
	if (!parse_secs(s, &secs))
		LF_CHECK(secs > 0, "parse_secs(\"%s\") = %g", s, secs);
	free(s);
	return 0;
}
