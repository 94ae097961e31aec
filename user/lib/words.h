/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * words.h - shell-like words for tcbpf's text files (the state file and
 * the policy files), so that one line reads the same to an operator, to
 * grep and to tcbpf.
 *
 * A line is split at blanks (space, tab, CR, LF, VT, FF) into words:
 *   - 'single quotes' keep everything up to the next ' literally;
 *   - "double quotes" keep everything but these escapes: \\ \" \$ \`
 *     (the character itself), \n \t \r (newline, tab, CR) and \xHH (one
 *     byte, two hex digits, not 00); any other backslash stays a
 *     backslash, as in sh. \n and \xHH are tcbpf's own: sh would keep
 *     them as written;
 *   - outside quotes a backslash takes the next character literally;
 *   - '#' at the start of a word starts a comment up to the end of the
 *     line (inside a word, "a#b", it is a plain character);
 *   - quoted parts and plain parts next to each other form one word:
 *     'a b'"c" is "a bc"; "" is an empty word.
 * No variables, no globbing, no line continuation.
 */
#ifndef TCBPF_WORDS_H
#define TCBPF_WORDS_H

#include <stddef.h>
#include <stdio.h>

/*
 * Split @line (no NUL inside; a trailing newline is a blank) into words.
 * On success *@argv is one malloc'd block (pointers, then the strings,
 * argv[argc] == NULL) that free() releases, and *@argc its count (0 for a
 * blank or comment line). On error returns -EINVAL with a message naming
 * the column ("unterminated \" quote at column 12") in @err, or -ENOMEM.
 */
int words_split(const char *line, int *argc, char ***argv,
		char *err, size_t len);

/* Copy @argc words into one block in the same form (free() releases it);
 * NULL when out of memory. */
char **words_dup(int argc, char *const *argv);

/* 1 if @word would be written quoted (empty, or any byte outside
 * [A-Za-z0-9_@%+=:,./-]). */
int words_need_quote(const char *word);

/*
 * Write @word to @f so that words_split() gives it back unchanged: as it
 * is when it is plain, else in double quotes with the escapes above
 * (control bytes as \n \t \r or \xHH). Returns 0, or -EIO when @f
 * reports an error.
 */
int words_write(FILE *f, const char *word);

#endif
