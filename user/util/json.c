// SPDX-License-Identifier: GPL-2.0-only
/* json.c - see json.h. */
#include <stdlib.h>

#include "util/json.h"

#define JW_MAX_DEPTH 32

struct json_writer {
	FILE *f;
	int depth;
	bool first[JW_MAX_DEPTH];	/* nothing written yet at this depth */
};

json_writer_t *jw_new(FILE *f)
{
	json_writer_t *jw = calloc(1, sizeof(*jw));

	if (!jw)
		return NULL;
	jw->f = f;
	jw->first[0] = true;
	return jw;
}

void jw_destroy(json_writer_t **jw)
{
	if (!*jw)
		return;
	fputc('\n', (*jw)->f);
	fflush((*jw)->f);
	free(*jw);
	*jw = NULL;
}

static void jw_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		switch (c) {
		case '"':  fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (c < 0x20)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

/* Comma and key before a value. */
static void jw_member(json_writer_t *jw, const char *key)
{
	if (!jw->first[jw->depth])
		fputc(',', jw->f);
	jw->first[jw->depth] = false;
	if (key) {
		jw_string(jw->f, key);
		fputc(':', jw->f);
	}
}

static void jw_open(json_writer_t *jw, const char *key, char c)
{
	jw_member(jw, key);
	fputc(c, jw->f);
	if (jw->depth < JW_MAX_DEPTH - 1)
		jw->depth++;
	jw->first[jw->depth] = true;
}

static void jw_close(json_writer_t *jw, char c)
{
	fputc(c, jw->f);
	if (jw->depth > 0)
		jw->depth--;
}

void jw_obj_open(json_writer_t *jw, const char *key) { jw_open(jw, key, '{'); }
void jw_obj_close(json_writer_t *jw) { jw_close(jw, '}'); }
void jw_arr_open(json_writer_t *jw, const char *key) { jw_open(jw, key, '['); }
void jw_arr_close(json_writer_t *jw) { jw_close(jw, ']'); }

void jw_u64(json_writer_t *jw, const char *key, uint64_t v)
{
	jw_member(jw, key);
	fprintf(jw->f, "%llu", (unsigned long long)v);
}

void jw_str(json_writer_t *jw, const char *key, const char *s)
{
	jw_member(jw, key);
	jw_string(jw->f, s);
}

void jw_bool(json_writer_t *jw, const char *key, bool v)
{
	jw_member(jw, key);
	fputs(v ? "true" : "false", jw->f);
}

void jw_null(json_writer_t *jw, const char *key)
{
	jw_member(jw, key);
	fputs("null", jw->f);
}
