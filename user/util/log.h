/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * log.h - messages of the library layers, handed to the front end.
 *
 * Nothing below user/cli/ prints: kern/ and lib/ report through pr_*(),
 * which formats the line and passes it to the sink a front end installed
 * (the CLI: stderr; the daemon: its log). Without a sink they are dropped,
 * so a test or another program linking the library stays silent.
 */
#ifndef TCBPF_LOG_H
#define TCBPF_LOG_H

enum log_level {
	LL_WARN = 0,		/* something failed or will not work as asked */
	LL_INFO = 1,		/* what was done, fallbacks taken */
	LL_DEBUG = 2,		/* -v */
	LL_LIBBPF = 3,		/* -vv: libbpf's own chatter */
};

typedef void (*log_sink_t)(enum log_level level, const char *msg, void *ctx);

/* The front end's verbosity: messages above it are not even formatted. */
extern int log_level;	/* 0 quiet (warnings only), 1 default, 2 -v, 3 -vv */
extern int libbpf_mute;	/* > 0: drop libbpf's messages (expected failures) */

void log_set_sink(log_sink_t sink, void *ctx);
void log_emit(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Route libbpf's messages through the sink, by log_level. */
void log_init(void);

#define pr_warn(fmt, ...)	log_emit(LL_WARN, "tcbpf: " fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)	log_emit(LL_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...)	log_emit(LL_DEBUG, "tcbpf: " fmt, ##__VA_ARGS__)

#endif
