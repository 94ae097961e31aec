// SPDX-License-Identifier: GPL-2.0-only
/* log.c - see log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>

#include "util/log.h"

int log_level = LL_INFO;
int libbpf_mute;

static log_sink_t log_sink;
static void *log_ctx;

void log_set_sink(log_sink_t sink, void *ctx)
{
	log_sink = sink;
	log_ctx = ctx;
}

static void vemit(enum log_level level, const char *fmt, va_list ap)
{
	char msg[1024];

	if (!log_sink || (int)level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_sink(level, msg, log_ctx);
}

void log_emit(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit(level, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (libbpf_mute && log_level < LL_LIBBPF)
		return 0;
	vemit(level == LIBBPF_WARN ? LL_INFO :
	      level == LIBBPF_INFO ? LL_DEBUG : LL_LIBBPF, fmt, ap);
	return 0;
}

void log_init(void)
{
	libbpf_set_print(libbpf_print);
}
