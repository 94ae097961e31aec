// SPDX-License-Identifier: GPL-2.0-only
/* print.c - see print.h. */
#include <stdarg.h>

#include "cli/print.h"
#include "lib/units.h"
#include "util/json.h"

static json_writer_t *jw;

void print_start(bool json)
{
	fflush(stdout);
	jw = json ? jw_new(stdout) : NULL;
}

void print_end(void)
{
	if (jw)
		jw_destroy(&jw);	/* ends with a newline */
	fflush(stdout);
}

bool print_is_json(void)
{
	return jw;
}

void print_open_object(const char *key)
{
	if (jw)
		jw_obj_open(jw, key);
}

void print_close_object(void)
{
	if (jw)
		jw_obj_close(jw);
}

void print_open_array(const char *key)
{
	if (jw)
		jw_arr_open(jw, key);
}

void print_close_array(void)
{
	if (jw)
		jw_arr_close(jw);
}

static bool want_json(enum output_type t)
{
	return jw && (t & PRINT_JSON);
}

static bool want_text(enum output_type t, const char *fmt)
{
	return !jw && (t & PRINT_FP) && fmt;
}

void print_string(enum output_type t, const char *key, const char *fmt,
		  const char *v)
{
	if (want_json(t))
		jw_str(jw, key, v);
	else if (want_text(t, fmt))
		printf(fmt, v);
}

void print_u64(enum output_type t, const char *key, const char *fmt, __u64 v)
{
	if (want_json(t))
		jw_u64(jw, key, v);
	else if (want_text(t, fmt))
		printf(fmt, (unsigned long long)v);
}

void print_bool(enum output_type t, const char *key, const char *fmt, bool v)
{
	if (want_json(t))
		jw_bool(jw, key, v);
	else if (want_text(t, fmt))
		printf(fmt, v ? "true" : "false");
}

void print_null(enum output_type t, const char *key, const char *fmt)
{
	if (want_json(t))
		jw_null(jw, key);
	else if (want_text(t, fmt))
		fputs(fmt, stdout);
}

/* A value in tc's units: raw number in JSON, formatted in text. */
static void print_unit(enum output_type t, const char *key, const char *fmt,
		       __u64 v, char *(*fmt_fn)(char *, size_t, uint64_t))
{
	char buf[64];

	if (want_json(t))
		jw_u64(jw, key, v);
	else if (want_text(t, fmt))
		printf(fmt, fmt_fn(buf, sizeof(buf), v));
}

void print_rate(enum output_type t, const char *key, const char *fmt, __u64 v)
{
	print_unit(t, key, fmt, v, fmt_rate);
}

void print_size(enum output_type t, const char *key, const char *fmt, __u64 v)
{
	print_unit(t, key, fmt, v, fmt_size);
}

void print_time(enum output_type t, const char *key, const char *fmt, __u64 v)
{
	print_unit(t, key, fmt, v, fmt_time);
}

void print_text(const char *fmt, ...)
{
	va_list ap;

	if (jw)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

void print_influx_tag(FILE *f, const char *key, const char *val)
{
	fprintf(f, ",%s=", key);
	for (; *val; val++) {
		if (*val == ',' || *val == ' ' || *val == '=' || *val == '\\')
			fputc('\\', f);
		fputc(*val, f);
	}
}
