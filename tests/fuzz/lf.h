/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lf.h - what the libFuzzer targets (lf_*.c) share: a failed property
 * aborts with a message naming it (libFuzzer then saves the input), and
 * the fuzzer's bytes cut into NUL-terminated words or lines.
 */
#ifndef TCBPF_LF_H
#define TCBPF_LF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A property that does not hold is a finding: crash so it is kept. */
#define LF_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property \"%s\" broken: ",	\
			__FILE__, __LINE__, #cond);			\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

#define LF_MAX_WORDS	64

/*
 * Cut @data at every byte of @seps into at most LF_MAX_WORDS words
 * (empty ones kept), copied into one malloc'd block that *@argv points
 * into; returns the count. free(*@block) releases it.
 */
static inline int lf_words(const uint8_t *data, size_t size, const char *seps,
			   char **argv, char **block)
{
	char *b = malloc(size + 1);
	int n = 0;
	size_t i, start = 0;

	if (!b)
		abort();
	memcpy(b, data, size);
	b[size] = '\0';
	for (i = 0; i <= size && n < LF_MAX_WORDS; i++) {
		if (i < size && !memchr(seps, b[i], strlen(seps)) && b[i])
			continue;
		b[i] = '\0';
		argv[n++] = b + start;
		start = i + 1;
	}
	argv[n] = NULL;
	*block = b;
	return n;
}

/* @data as one NUL-terminated malloc'd string, cut at its first NUL. */
static inline char *lf_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * A scratch directory of this process's own, made once in $TMPDIR (the
 * runner points it at a tmpfs of its own; /dev/shm when unset: fsync
 * there costs nothing) and removed at a normal exit, for the targets
 * whose parsers read files.
 */
static char lf_dir_path[64];

static inline void lf_dir_rm(void)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", lf_dir_path);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", lf_dir_path);
}

static inline const char *lf_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	if (lf_dir_path[0])
		return lf_dir_path;
	snprintf(lf_dir_path, sizeof(lf_dir_path), "%s/tcbpf-lf.XXXXXX",
		 tmp && *tmp ? tmp : "/dev/shm");
	if (!mkdtemp(lf_dir_path))
		abort();
	atexit(lf_dir_rm);
	return lf_dir_path;
}

/* Write @data to DIR/@name, replacing it. */
static inline void lf_put_file(const char *dir, const char *name,
			       const uint8_t *data, size_t size)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f))
		abort();
}

#endif
