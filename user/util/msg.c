// SPDX-License-Identifier: GPL-2.0-only
/* msg.c - see msg.h. */
#include <stdarg.h>
#include <stdio.h>

#include "util/msg.h"

void seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}
