/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * check.h - the reporting of the C test programs: a case returns NULL
 * (pass) or a reason, report() prints "PASS: name" or "FAIL: name: why"
 * as tests/run.sh counts them, EXPECT() returns the reason.
 */
#ifndef TCBPF_TESTS_CHECK_H
#define TCBPF_TESTS_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int nfail;
static char why[1024];

/* NULL reason = pass. */
static inline void report(const char *name, const char *reason)
{
	if (reason) {
		printf("FAIL: %s: %s\n", name, reason);
		nfail++;
	} else {
		printf("PASS: %s\n", name);
	}
}

__attribute__((format(printf, 1, 2)))
static inline const char *because(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return why;
}

#define EXPECT(cond, ...)					\
	do {							\
		if (!(cond))					\
			return because(__VA_ARGS__);		\
	} while (0)

#endif
