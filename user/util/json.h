/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * json.h - a minimal streaming JSON writer in the spirit of iproute2's
 * json_writer: keys and commas are handled here, callers only say what.
 */
#ifndef TCBPF_JSON_H
#define TCBPF_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct json_writer json_writer_t;

json_writer_t *jw_new(FILE *f);
void jw_destroy(json_writer_t **jw);	/* ends with a newline */

/* @key is NULL inside arrays and at top level. */
void jw_obj_open(json_writer_t *jw, const char *key);
void jw_obj_close(json_writer_t *jw);
void jw_arr_open(json_writer_t *jw, const char *key);
void jw_arr_close(json_writer_t *jw);
void jw_u64(json_writer_t *jw, const char *key, uint64_t v);
void jw_str(json_writer_t *jw, const char *key, const char *s);
void jw_bool(json_writer_t *jw, const char *key, bool v);
void jw_null(json_writer_t *jw, const char *key);

#endif
