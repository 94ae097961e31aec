/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * msg.h - the one-line messages functions leave in a caller's buffer
 * (char *err, size_t len) instead of printing: the caller decides.
 */
#ifndef TCBPF_MSG_H
#define TCBPF_MSG_H

#include <stddef.h>

/* snprintf() into @err, which may be NULL (or @len 0): then nothing. */
void seterr(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
