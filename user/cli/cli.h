/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cli.h - what the CLI's commands share: global options, the library
 * handle with notes on stderr, usage errors, and the commands themselves.
 * Each command returns 0, or a negative errno once the message is out
 * (-EUSAGE: exit 2).
 */
#ifndef TCBPF_CLI_H
#define TCBPF_CLI_H

#include <stdbool.h>
#include "lib/limiter.h"

struct opts {
	bool json;
	const char *netns;
	const char *state_dir;	/* --state-dir, $TCBPF_STATE_DIR, LIM_STATE_DIR */
	const char *config_dir;	/* --config-dir, $TCBPF_CONFIG_DIR, POLICY_DIR */
};

/* Library messages to stderr (by -q/-v), libbpf's too. */
void cli_log_init(void);

/*
 * The limiter library, its notes on stderr unless -q, recording in @o's
 * state directory (@o NULL: reading only). NULL: out of memory.
 */
struct lim *cli_lim(const struct opts *o);

/* After a failed library call: its message on stderr; returns @err. */
int cli_fail(struct lim *l, int err);

/* "tcbpf: MESSAGE" and a hint on stderr; returns -EUSAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on stderr about what was done, unless -q. */
void cli_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_attach(const struct opts *o, int argc, char **argv);
int cmd_change(const struct opts *o, int argc, char **argv);
int cmd_detach(const struct opts *o, int argc, char **argv);
int cmd_show(const struct opts *o, int argc, char **argv);
int cmd_list(const struct opts *o, int argc, char **argv);
int cmd_stats(const struct opts *o, int argc, char **argv);
int cmd_export(const struct opts *o, int argc, char **argv);
int cmd_watch(const struct opts *o, int argc, char **argv);
int cmd_apply(const struct opts *o, int argc, char **argv);
int cmd_daemon(const struct opts *o, int argc, char **argv);
int cmd_upgrade(const struct opts *o, int argc, char **argv);

#endif
