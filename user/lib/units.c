// SPDX-License-Identifier: GPL-2.0-only
/*
 * units.c - tc(8) units: rates, sizes, times; parsing and printing.
 *
 * The suffix tables follow iproute2 (get_rate64 and get_size64 in
 * lib/utils_math.c, formerly tc/tc_util.c; get_time and get_time64 in
 * lib/utils.c), so an operator can paste figures from a tc command line.
 *
 * Where tc goes through strtod() and a double, we parse the decimal text
 * exactly in integers instead: a double has 53 bits of mantissa, so
 * "18446744073709551615bit" or "0.000001tbit" would come back rounded,
 * and strtod() also accepts forms nobody means on a command line
 * (" 1mbit", "-5mbit", "inf", "nan", "0x1p3", "1e400"). Like tc, a
 * fraction that does not come out whole is truncated ("1.5bit" = 1).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/units.h"

/* Exact value * scale for any uint64_t value and suffix scale. */
typedef unsigned __int128 u128;

struct unit {
	const char *name;
	uint64_t scale;		/* in output units (bit/s, bytes, ns) */
};

#define KI	1024ULL
#define MI	(KI * KI)
#define GI	(KI * MI)
#define TI	(KI * GI)

/* tc's rate suffixes; "bps" is BYTES per second, as in tc. */
static const struct unit rate_units[] = {
	{ "",		1 },		/* bare number: bit/s */
	{ "bit",	1 },
	{ "kbit",	1000ULL },
	{ "mbit",	1000000ULL },
	{ "gbit",	1000000000ULL },
	{ "tbit",	1000000000000ULL },
	{ "kibit",	KI },
	{ "mibit",	MI },
	{ "gibit",	GI },
	{ "tibit",	TI },
	{ "bps",	8 },
	{ "kbps",	8 * 1000ULL },
	{ "mbps",	8 * 1000000ULL },
	{ "gbps",	8 * 1000000000ULL },
	{ "tbps",	8 * 1000000000000ULL },
	{ "kibps",	8 * KI },
	{ "mibps",	8 * MI },
	{ "gibps",	8 * GI },
	{ "tibps",	8 * TI },
	{ NULL }
};

/*
 * tc's size suffixes. All binary, and the "bit" forms are binary too:
 * get_size() multiplies "kbit" by 1024/8, so "1200kbit" is 153600 bytes,
 * not 150000. There is no "t"/"tb" and no "kib" in tc.
 */
static const struct unit size_units[] = {
	{ "",		1 },		/* bare number: bytes */
	{ "b",		1 },
	{ "k",		KI },
	{ "kb",		KI },
	{ "m",		MI },
	{ "mb",		MI },
	{ "g",		GI },
	{ "gb",		GI },
	{ "kbit",	KI / 8 },
	{ "mbit",	MI / 8 },
	{ "gbit",	GI / 8 },
	{ NULL }
};

/*
 * tc's time suffixes, in ns. tc's get_time() counts in microseconds
 * (TIME_UNITS_PER_SEC) and so takes a bare number as us; only its ns
 * based get_time64() knows "ns", and there a bare number is ns. We keep
 * get_time()'s bare unit, which is what netem/tbf "latency 400" means.
 */
static const struct unit time_units[] = {
	{ "",		1000ULL },	/* bare number: microseconds */
	{ "s",		1000000000ULL },
	{ "sec",	1000000000ULL },
	{ "secs",	1000000000ULL },
	{ "ms",		1000000ULL },
	{ "msec",	1000000ULL },
	{ "msecs",	1000000ULL },
	{ "us",		1000ULL },
	{ "usec",	1000ULL },
	{ "usecs",	1000ULL },
	{ "ns",		1 },
	{ "nsec",	1 },
	{ "nsecs",	1 },
	{ NULL }
};

static bool is_digit(char c)
{
	/* not isdigit(): that one follows the locale */
	return c >= '0' && c <= '9';
}

static const struct unit *find_unit(const struct unit *tbl, const char *sfx)
{
	for (; tbl->name; tbl++)
		if (strcasecmp(tbl->name, sfx) == 0)
			return tbl;
	return NULL;
}

/*
 * Decimal fraction digits kept: 10^18 times the largest scale (8 * 2^40)
 * still fits a u128. Later digits are checked but dropped; they can move
 * the truncated result by at most one unit, where tc's double already
 * loses everything past the 16th significant digit.
 */
#define FRAC_DIGITS	18

/*
 * "DIGITS[.DIGITS]SUFFIX" or ".DIGITS SUFFIX" -> value * scale, truncated.
 * Syntax errors win over overflow, so "99999999999999999999xbit" is
 * -EINVAL: the operator has a typo to fix first.
 */
static int parse_scaled(const char *str, const struct unit *tbl,
			uint64_t *out)
{
	uint64_t ip = 0, frac = 0, fdiv = 1;
	bool digits = false, over = false;
	const struct unit *u;
	const char *p = str;
	u128 v;

	if (!str)
		return -EINVAL;

	for (; is_digit(*p); p++) {
		unsigned int d = *p - '0';

		digits = true;
		if (ip > (UINT64_MAX - d) / 10)
			over = true;
		else
			ip = ip * 10 + d;
	}
	if (*p == '.') {
		int n = 0;

		for (p++; is_digit(*p); p++, n++) {
			digits = true;
			if (n < FRAC_DIGITS) {
				frac = frac * 10 + (*p - '0');
				fdiv *= 10;
			}
		}
	}
	if (!digits)
		return -EINVAL;

	u = find_unit(tbl, p);
	if (!u)
		return -EINVAL;
	if (over)
		return -ERANGE;

	v = (u128)ip * u->scale + (u128)frac * u->scale / fdiv;
	if (v > UINT64_MAX)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

int parse_rate(const char *str, uint64_t *bits_per_sec)
{
	return parse_scaled(str, rate_units, bits_per_sec);
}

int parse_size(const char *str, uint64_t *bytes)
{
	return parse_scaled(str, size_units, bytes);
}

int parse_time(const char *str, uint64_t *ns)
{
	return parse_scaled(str, time_units, ns);
}

int parse_count(const char *str, uint64_t *val)
{
	static const struct unit bare[] = { { "", 1 }, { NULL } };
	const char *p;

	/* parse_scaled() would take "1.5"; a count is digits only */
	if (!str)
		return -EINVAL;
	for (p = str; *p; p++)
		if (!is_digit(*p))
			return -EINVAL;
	return parse_scaled(str, bare, val);
}

/*
 * The largest unit (table in ascending order) in which v is whole or has
 * at most three decimals, so that what we print parses back to the same
 * value: 1500000 -> "1.5Mbit", but 1500 bytes -> "1500b" rather than an
 * approximate "1.465Kb". The first unit has scale 1 and always qualifies.
 */
static const struct unit *exact_unit(uint64_t v, const struct unit *tbl,
				     size_t n)
{
	size_t i;

	for (i = n; i-- > 1; ) {
		/* rem * 1000 < 1000 * 2^40: no overflow */
		if (v >= tbl[i].scale && (v % tbl[i].scale) * 1000 % tbl[i].scale == 0)
			return &tbl[i];
	}
	return &tbl[0];
}

/*
 * v in unit u with the fraction rem * 10^w / scale, w decimals at most,
 * trailing zeros dropped. The caller makes sure that is exact.
 * snprintf() copes with len 0 and truncates like tc.
 */
static char *fmt_in(char *buf, size_t len, uint64_t v, const struct unit *u,
		    int w)
{
	uint64_t rem = v % u->scale, frac;
	u128 f = rem;
	int i;

	if (!rem) {
		snprintf(buf, len, "%llu%s", (unsigned long long)(v / u->scale),
			 u->name);
		return buf;
	}
	/* rem < 2^43 and w <= 12: the product stays below 2^83 */
	for (i = 0; i < w; i++)
		f *= 10;
	frac = (uint64_t)(f / u->scale);
	while (frac % 10 == 0) {
		frac /= 10;
		w--;
	}
	snprintf(buf, len, "%llu.%0*llu%s", (unsigned long long)(v / u->scale),
		 w, (unsigned long long)frac, u->name);
	return buf;
}

static char *fmt_scaled(char *buf, size_t len, uint64_t v,
			const struct unit *tbl, size_t n)
{
	return fmt_in(buf, len, v, exact_unit(v, tbl, n), 3);
}

/* tc prints rates in decimal multiples of bit ("10Mbit"). */
static const struct unit rate_fmt[] = {
	{ "bit",	1 },
	{ "Kbit",	1000ULL },
	{ "Mbit",	1000000ULL },
	{ "Gbit",	1000000000ULL },
	{ "Tbit",	1000000000000ULL },
};

/* tc prints sizes in binary multiples of bytes ("150Kb"). */
static const struct unit size_fmt[] = {
	{ "b",		1 },
	{ "Kb",		KI },
	{ "Mb",		MI },
	{ "Gb",		GI },
};

static const struct unit time_fmt[] = {
	{ "ns",		1 },
	{ "us",		1000ULL },
	{ "ms",		1000000ULL },
	{ "s",		1000000000ULL },
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * tc's print_rate() moves up a unit while the figure is a million or
 * more, dropping what does not divide. We move up the same way but keep
 * every decimal: the rate units are powers of ten (at most 10^12), so
 * rem * 10^w / scale with w the scale's zeros is exact and fits.
 */
#define RATE_FIGURE_MAX	1000000ULL

char *fmt_rate(char *buf, size_t len, uint64_t bits_per_sec)
{
	const struct unit *u = exact_unit(bits_per_sec, rate_fmt,
					  ARRAY_SIZE(rate_fmt));
	uint64_t s;
	int w = 3;

	if (bits_per_sec / u->scale >= RATE_FIGURE_MAX) {
		u = &rate_fmt[ARRAY_SIZE(rate_fmt) - 1];
		while (bits_per_sec < u->scale)
			u--;
		for (w = 0, s = u->scale; s > 1; s /= 10)
			w++;
	}
	return fmt_in(buf, len, bits_per_sec, u, w);
}

char *fmt_size(char *buf, size_t len, uint64_t bytes)
{
	return fmt_scaled(buf, len, bytes, size_fmt, ARRAY_SIZE(size_fmt));
}

char *fmt_time(char *buf, size_t len, uint64_t ns)
{
	return fmt_scaled(buf, len, ns, time_fmt, ARRAY_SIZE(time_fmt));
}

int parse_secs(const char *s, double *secs)
{
	char *end;
	double v;
	uint64_t ns;

	/* strtod() alone would also take " 1", "-1", "inf" and "nan" */
	if (!*s || !(is_digit(*s) || *s == '.'))
		return -EINVAL;
	v = strtod(s, &end);
	if (*end) {
		if (parse_time(s, &ns))
			return -EINVAL;
		v = ns / 1e9;
	}
	if (!(v > 0) || v > 86400 * 365.0)
		return -ERANGE;
	*secs = v;
	return 0;
}

char *fmt_bits(char *buf, size_t len, double v)
{
	static const char *const sfx[] = { "", "k", "M", "G", "T" };
	int i = 0;

	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	snprintf(buf, len, i ? "%.2f%s" : "%.0f%s", v, sfx[i]);
	return buf;
}
