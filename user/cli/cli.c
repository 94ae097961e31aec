// SPDX-License-Identifier: GPL-2.0-only
/* cli.c - see cli.h. */
#include <stdarg.h>
#include <stdio.h>

#include "cli/cli.h"
#include "util/log.h"

static void log_stderr(enum log_level level, const char *msg, void *ctx)
{
	fputs(msg, stderr);
}

static void note_stderr(void *ctx, const char *dev, const char *msg)
{
	pr_info("%s\n", msg);
}

struct lim *cli_lim(const struct opts *o)
{
	struct lim_opts lo = {
		.note = note_stderr,
		.state_dir = o ? o->state_dir : NULL,
		.netns_name = o && o->netns ? o->netns : "",
	};
	struct lim *l;

	if (lim_open(&l, &lo)) {
		pr_warn("out of memory\n");
		return NULL;
	}
	return l;
}

int cli_fail(struct lim *l, int err)
{
	if (l)
		pr_warn("%s\n", lim_msg(l));
	return err;
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tcbpf: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry \"tcbpf help\".\n");
	return -EUSAGE;
}

void cli_info(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LL_INFO)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

void cli_log_init(void)
{
	log_set_sink(log_stderr, NULL);
	log_init();
}
