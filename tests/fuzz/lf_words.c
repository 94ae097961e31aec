// SPDX-License-Identifier: GPL-2.0-only
/*
 * lf_words.c - libFuzzer target: the shell-like words of the state and
 * policy files (lib/words.c).
 *
 * First byte even: the rest is a line. words_split() either refuses it
 * with a message or gives words that words_write() writes back as a line
 * which splits again into the same words, and is written again the same
 * (one canonical form).
 * First byte odd: the rest is a list of words cut at NUL (any byte but
 * NUL can be in a word). Written with words_write() and split again, they
 * come back unchanged; words_need_quote() says 0 exactly for the words
 * written as they are; words_dup() copies them.
 */
#include <errno.h>

#include "lib/words.h"
#include "lf.h"

/* @argv written as one line (malloc'd). */
static char *write_line(int argc, char *const *argv)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int i, rc;

	LF_CHECK(f, "open_memstream");
	for (i = 0; i < argc; i++) {
		if (i)
			fputc(' ', f);
		rc = words_write(f, argv[i]);
		LF_CHECK(rc == 0, "words_write: %d", rc);
	}
	fputc('\n', f);
	LF_CHECK(!fclose(f), "fclose");
	return buf;
}

/* @line splits into exactly @argv. */
static void same_words(const char *line, int argc, char *const *argv)
{
	char err[256], **back;
	int n, rc, i;

	rc = words_split(line, &n, &back, err, sizeof(err));
	LF_CHECK(rc == 0, "written words refused: %s: %s", err, line);
	LF_CHECK(n == argc, "%d words written, %d read: %s", argc, n, line);
	for (i = 0; i < n; i++)
		LF_CHECK(!strcmp(argv[i], back[i]), "word %d \"%s\" read back "
			 "as \"%s\"", i, argv[i], back[i]);
	LF_CHECK(back[n] == NULL, "argv[%d] not NULL", n);
	free(back);
}

static void from_line(const uint8_t *data, size_t size)
{
	char *line = lf_str(data, size), err[256], **argv, *w1, *w2;
	int argc, rc;

	err[0] = '\0';
	rc = words_split(line, &argc, &argv, err, sizeof(err));
	if (rc) {
		LF_CHECK(rc == -EINVAL && err[0], "rc %d \"%s\"", rc, err);
		free(line);
		return;
	}
	w1 = write_line(argc, argv);
	same_words(w1, argc, argv);
	/* and once more through the written form */
	free(argv);
	rc = words_split(w1, &argc, &argv, err, sizeof(err));
	LF_CHECK(rc == 0, "%s", err);
	w2 = write_line(argc, argv);
	LF_CHECK(!strcmp(w1, w2), "written \"%s\", then \"%s\"", w1, w2);
	free(argv);
	free(w1);
	free(w2);
	free(line);
}

static void from_words(const uint8_t *data, size_t size)
{
	char *argv[LF_MAX_WORDS + 1], *block, *line, **dup;
	int argc, i;

	argc = lf_words(data, size, "", argv, &block);
	line = write_line(argc, argv);
	for (i = 0; i < argc; i++) {
		char *one = write_line(1, &argv[i]);

		/* written as is exactly when it needs no quote */
		LF_CHECK(words_need_quote(argv[i]) ==
			 (strlen(one) != strlen(argv[i]) + 1),
			 "\"%s\" written as %s", argv[i], one);
		free(one);
	}
	same_words(line, argc, argv);
	dup = words_dup(argc, argv);
	LF_CHECK(dup, "words_dup");
	for (i = 0; i < argc; i++)
		LF_CHECK(!strcmp(dup[i], argv[i]), "words_dup word %d", i);
	LF_CHECK(dup[argc] == NULL, "words_dup not NULL-terminated");
	free(dup);
	free(line);
	free(block);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		from_words(data + 1, size - 1);
	else
		from_line(data + 1, size - 1);
	return 0;
}
