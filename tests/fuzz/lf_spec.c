// SPDX-License-Identifier: GPL-2.0-only
/*
 * lf_spec.c - libFuzzer target: the SPEC grammar (lib/spec.c) and a SPEC
 * as words again (lib/spec_words.c), as attach, change and the recorded
 * state use them.
 *
 * The input is the command line's words, cut at NUL, space and newline.
 * Properties, for every SPEC spec_parse() accepts:
 *  - spec_words() of it parses again, to the same SPEC (every field but
 *    .global, which says how the keys were spelt, not what they mean, and
 *    allowlist entries past .nports);
 *  - the words of that are the same words (one canonical form);
 *  - spec_validate() and spec_warnings() of it over the defaults, and
 *    spec_merge() onto the defaults' SPEC, do not crash, read past a
 *    buffer or leak; a message is a non-empty line when they report one.
 * Refused input must come with a message.
 */
#include <errno.h>

#include "lib/spec.h"
#include "lib/spec_words.h"
#include "lf.h"

/* Zero what carries no meaning: .global (how the keys were spelt) and
 * the allowlist past .nports (a key for both directions overridden by a
 * shorter list for one leaves the longer list's tail there). */
static void meaning(struct spec *s)
{
	struct spec_dir *d;
	int i;

	for (i = 0; i < TCBPF_NDIR; i++) {
		d = &s->dir[i];
		d->global = 0;
		if (d->nports < TCBPF_MAX_PORTS)
			memset(&d->ports[d->nports], 0,
			       (TCBPF_MAX_PORTS - d->nports) * sizeof(d->ports[0]));
	}
}

/* The two SPECs mean the same, byte for byte (spec_parse zeroes the
 * struct first, so padding compares equal too). */
static int same_spec(const struct spec *a, const struct spec *b)
{
	struct spec x = *a, y = *b;

	meaning(&x);
	meaning(&y);
	return !memcmp(&x, &y, sizeof(x));
}

static void words_of(const struct spec *s, int *argc, char ***argv)
{
	int rc = spec_words(s, argc, argv);

	LF_CHECK(rc == 0, "spec_words: %d", rc);
	LF_CHECK((*argv)[*argc] == NULL, "argv[%d] not NULL", *argc);
}

static void check_words(const struct spec *s1)
{
	struct spec s2, s3;
	char err[256], **w1, **w2;
	int n1, n2, rc, i;

	words_of(s1, &n1, &w1);
	rc = spec_parse(&s2, n1, w1, err, sizeof(err));
	LF_CHECK(rc == 0, "words of an accepted SPEC refused: %s", err);
	LF_CHECK(same_spec(s1, &s2), "words of a SPEC parse to another SPEC");
	words_of(&s2, &n2, &w2);
	LF_CHECK(n1 == n2, "%d words, then %d", n1, n2);
	for (i = 0; i < n1; i++)
		LF_CHECK(!strcmp(w1[i], w2[i]), "word %d \"%s\" then \"%s\"",
			 i, w1[i], w2[i]);
	rc = spec_parse(&s3, n2, w2, err, sizeof(err));
	LF_CHECK(rc == 0 && same_spec(&s2, &s3), "third parse differs");
	free(w1);
	free(w2);
}

static void check_use(const struct spec *s)
{
	struct spec_dir dirs[TCBPF_NDIR];
	struct spec merged = { 0 };
	char err[256], warn[1024];
	int d, rc;

	for (d = 0; d < TCBPF_NDIR; d++) {
		spec_defaults(&dirs[d], d);
		spec_apply(&dirs[d], &s->dir[d]);
	}
	err[0] = '\0';
	rc = spec_validate(dirs, s, "vm-3-00c9", err, sizeof(err));
	LF_CHECK(!rc || (rc == -EINVAL && err[0] && !strchr(err, '\n')),
		 "spec_validate %d \"%s\"", rc, err);
	if (!rc)
		(void)spec_warnings(dirs, "vm-3-00c9", warn, sizeof(warn));
	merged.hook = TCBPF_HOOK_NONE;
	spec_merge(&merged, s);
	check_words(&merged);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[LF_MAX_WORDS + 1], *block, err[256];
	struct spec s;
	int argc, rc;

	argc = lf_words(data, size, " \n", argv, &block);
	/* no words at all is a valid SPEC: the defaults */
	if (size == 0)
		argc = 0;
	err[0] = '\0';
	rc = spec_parse(&s, argc, argv, err, sizeof(err));
	if (rc) {
		LF_CHECK(err[0], "refused (%d) without a message", rc);
	} else {
		check_words(&s);
		check_use(&s);
	}
	free(block);
	return 0;
}
