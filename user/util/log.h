/* SPDX-License-Identifier: GPL-2.0-only */
/* log.h - messages to stderr, libbpf's own output at -v. */
#ifndef TCBPF_LOG_H
#define TCBPF_LOG_H

#include <stdio.h>

extern int log_level;	/* 0 quiet, 1 default, 2 verbose (-v) */
extern int libbpf_mute;	/* > 0: drop libbpf's messages (expected failures) */

#define pr_warn(fmt, ...) fprintf(stderr, "tcbpf: " fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) \
	do { if (log_level >= 1) fprintf(stderr, fmt, ##__VA_ARGS__); } while (0)
#define pr_debug(fmt, ...) \
	do { if (log_level >= 2) fprintf(stderr, "tcbpf: " fmt, ##__VA_ARGS__); } while (0)

void log_init(void);

#endif
