/* SPDX-License-Identifier: GPL-2.0-only */
/* units.h - tc(8) units: rates, sizes, times; parsing and printing. */
#ifndef TCBPF_UNITS_H
#define TCBPF_UNITS_H

#include <stddef.h>
#include <stdint.h>

/*
 * All parsers return 0 or a negative errno (-EINVAL for nonsense,
 * -ERANGE for overflow), never accept trailing garbage and leave the
 * output alone on error. Suffixes are case-insensitive, a decimal
 * fraction is allowed ("1.5mbit") and truncated like tc does; unlike tc's
 * strtod() there are no signs, spaces, exponents, hex, inf or nan.
 */

/* "1mbit" -> 1000000 bits/s. Units as tc(8): bit kbit mbit gbit tbit,
 * bps kbps mbps gbps tbps (BYTES per second), kibit mibit gibit tibit,
 * kibps mibps gibps tibps; a bare number is bits/s. */
int parse_rate(const char *str, uint64_t *bits_per_sec);

/* "1200kbit" -> 153600 bytes. Units as tc(8): b k kb m mb g gb (bytes,
 * binary multiples of 1024 as tc does), kbit mbit gbit (bits, 1024-based
 * as tc's get_size: kbit = 1024 bits = 128 bytes), bare number = bytes. */
int parse_size(const char *str, uint64_t *bytes);

/* "400ms" -> 400000000 ns. Units: s sec secs, ms msec msecs, us usec usecs,
 * ns nsec nsecs; a bare number is microseconds (tc's get_time). */
int parse_time(const char *str, uint64_t *ns);

/* Plain unsigned decimal count (pps, pburst), no unit. */
int parse_count(const char *str, uint64_t *val);

/* Human forms for text output: "10Mbit", "150Kb", "400ms", "1.5Mbit".
 * Always exact (at most three decimals, else a smaller unit), so the
 * text parses back to the same value. Return buf. A rate that would
 * need a million or more of that unit is printed in the largest unit
 * that fits instead, as tc does, with every decimal it takes to stay
 * exact: "123.456789012Gbit", not "123456789.012Kbit". */
char *fmt_rate(char *buf, size_t len, uint64_t bits_per_sec);
char *fmt_size(char *buf, size_t len, uint64_t bytes);
char *fmt_time(char *buf, size_t len, uint64_t ns);

/* "0.5", "2", "500ms" -> seconds (a bare number is seconds here, unlike
 * parse_time); refuses 0, negatives, more than a year and garbage. */
int parse_secs(const char *s, double *secs);

/* 12.34M / 1.2k style (decimal prefixes, two decimals), for tables of
 * measured bits/s or packets/s; approximate, never parsed back. */
char *fmt_bits(char *buf, size_t len, double v);

#endif
