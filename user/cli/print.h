/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * print.h - one print path for text and JSON, in iproute2's manner: each
 * value is printed once, with a JSON key and a text format; which of the
 * two appears is decided here, by the output's mode.
 *
 *   print_u64(PRINT_ANY, "burst_bytes", " burst %s", ...)   both
 *   print_u64(PRINT_JSON, "prog_id", NULL, id)              JSON only
 *   print_text(" (no fq: pacing unavailable)")              text only
 *
 * JSON carries raw numbers in base units with the unit in the key; text
 * carries tc's human units. Output goes to stdout.
 */
#ifndef TCBPF_PRINT_H
#define TCBPF_PRINT_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

enum output_type {
	PRINT_FP = 1,		/* text only */
	PRINT_JSON = 2,		/* JSON only */
	PRINT_ANY = 3,
};

/* Start a document (JSON: a writer on stdout); end it with a newline. */
void print_start(bool json);
void print_end(void);
bool print_is_json(void);

/* JSON structure; no text. @key NULL inside arrays and at top level. */
void print_open_object(const char *key);
void print_close_object(void);
void print_open_array(const char *key);
void print_close_array(void);

/* @fmt is the text format of the value (may be NULL: JSON only). */
void print_string(enum output_type t, const char *key, const char *fmt,
		  const char *v);
void print_u64(enum output_type t, const char *key, const char *fmt, __u64 v);
void print_bool(enum output_type t, const char *key, const char *fmt, bool v);
/* JSON null; text prints @fmt's literal text. */
void print_null(enum output_type t, const char *key, const char *fmt);

/* Values in tc's units in text (@fmt takes a %s), raw in JSON. */
void print_rate(enum output_type t, const char *key, const char *fmt,
		__u64 bits_per_sec);
void print_size(enum output_type t, const char *key, const char *fmt,
		__u64 bytes);
void print_time(enum output_type t, const char *key, const char *fmt,
		__u64 ns);

/* Text only. */
void print_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* InfluxDB line protocol: ",key=value" with its escapes. */
void print_influx_tag(FILE *f, const char *key, const char *val);

#endif
