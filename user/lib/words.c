// SPDX-License-Identifier: GPL-2.0-only
/* words.c - shell-like words for the state and policy files (words.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/words.h"
#include "util/msg.h"

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	       c == '\v' || c == '\f';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * One escape inside double quotes; *@p points at the backslash. Stores
 * the byte(s) at *@o and advances both. 0, or -EINVAL with a message.
 */
static int dq_escape(const char *line, const char **p, char **o,
		     char *err, size_t len)
{
	const char *s = *p;
	int hi, lo;

	switch (s[1]) {
	case '\\': case '"': case '$': case '`':
		*(*o)++ = s[1];
		break;
	case 'n':
		*(*o)++ = '\n';
		break;
	case 't':
		*(*o)++ = '\t';
		break;
	case 'r':
		*(*o)++ = '\r';
		break;
	case 'x':
		hi = hexval(s[2]);
		lo = hi < 0 ? -1 : hexval(s[3]);
		if (lo < 0 || (hi == 0 && lo == 0)) {
			seterr(err, len, "bad escape \"\\x%.2s\" at column %td: "
			       "expected two hex digits, not 00",
			       s + 2, s - line + 1);
			return -EINVAL;
		}
		*(*o)++ = (char)(hi << 4 | lo);
		s += 2;
		break;
	case '\0':
		/* the closing quote is missing: the caller reports that */
		*(*o)++ = '\\';
		*p = s + 1;
		return 0;
	default:
		/* as in sh: the backslash stays */
		*(*o)++ = '\\';
		*(*o)++ = s[1];
		break;
	}
	*p = s + 2;
	return 0;
}

/* One word starting at *@p (not blank, not '#'): copied unquoted to *@o
 * with its NUL; *@p ends after it. */
static int one_word(const char *line, const char **p, char **o,
		    char *err, size_t len)
{
	const char *s = *p, *open;
	int rc;

	while (*s && !is_blank(*s)) {
		switch (*s) {
		case '\'':
			open = s++;
			while (*s && *s != '\'')
				*(*o)++ = *s++;
			if (!*s)
				goto unterminated;
			s++;
			break;
		case '"':
			open = s++;
			while (*s && *s != '"') {
				if (*s != '\\') {
					*(*o)++ = *s++;
					continue;
				}
				rc = dq_escape(line, &s, o, err, len);
				if (rc)
					return rc;
			}
			if (!*s)
				goto unterminated;
			s++;
			break;
		case '\\':
			if (!s[1]) {
				seterr(err, len, "backslash at the end of the line "
				       "(column %td)", s - line + 1);
				return -EINVAL;
			}
			*(*o)++ = s[1];
			s += 2;
			break;
		default:
			*(*o)++ = *s++;
			break;
		}
	}
	*(*o)++ = '\0';
	*p = s;
	return 0;

unterminated:
	seterr(err, len, "unterminated %c quote at column %td", *open,
	       open - line + 1);
	return -EINVAL;
}

int words_split(const char *line, int *argc, char ***argv,
		char *err, size_t len)
{
	size_t n = strlen(line);
	/* each word takes >= 1 input byte plus a blank, "" takes 2 */
	size_t maxw = n / 2 + 2;
	char **v, *o;
	const char *p = line;
	int c = 0, rc;

	v = malloc(maxw * sizeof(*v) + n + maxw);
	if (!v) {
		seterr(err, len, "out of memory");
		return -ENOMEM;
	}
	o = (char *)(v + maxw);
	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p || *p == '#')
			break;
		v[c++] = o;
		rc = one_word(line, &p, &o, err, len);
		if (rc) {
			free(v);
			return rc;
		}
	}
	v[c] = NULL;
	*argc = c;
	*argv = v;
	return 0;
}

char **words_dup(int argc, char *const *argv)
{
	size_t bytes = 0;
	char **v, *o;
	int i;

	for (i = 0; i < argc; i++)
		bytes += strlen(argv[i]) + 1;
	v = malloc((argc + 1) * sizeof(*v) + bytes);
	if (!v)
		return NULL;
	o = (char *)(v + argc + 1);
	for (i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]) + 1;

		v[i] = memcpy(o, argv[i], l);
		o += l;
	}
	v[argc] = NULL;
	return v;
}

static int plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("_@%+=:,./-", c));
}

int words_need_quote(const char *word)
{
	const unsigned char *s = (const unsigned char *)word;

	if (!*s)
		return 1;
	for (; *s; s++)
		if (!plain(*s))
			return 1;
	return 0;
}

int words_write(FILE *f, const char *word)
{
	const unsigned char *s = (const unsigned char *)word;

	if (!words_need_quote(word)) {
		fputs(word, f);
		return ferror(f) ? -EIO : 0;
	}
	fputc('"', f);
	for (; *s; s++) {
		switch (*s) {
		case '\\': case '"': case '$': case '`':
			fputc('\\', f);
			fputc(*s, f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			/* bytes >= 0x80 (UTF-8) stay as they are, for grep */
			if (*s < 0x20 || *s == 0x7f)
				fprintf(f, "\\x%02x", *s);
			else
				fputc(*s, f);
			break;
		}
	}
	fputc('"', f);
	return ferror(f) ? -EIO : 0;
}
