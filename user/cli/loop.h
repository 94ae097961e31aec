/* SPDX-License-Identifier: GPL-2.0-only */
/* loop.h - the periodic loops of stats, export and watch: timing, signals. */
#ifndef TCBPF_LOOP_H
#define TCBPF_LOOP_H

#include <stdbool.h>
#include <linux/types.h>

/* SIGINT/SIGTERM/SIGHUP end the loop. */
void loop_signals(void);
bool loop_stopped(void);

/* SIGINT/SIGTERM end the loop, SIGHUP asks for a reload (loop_hup()). */
void loop_signals_reload(void);
bool loop_hup(void);	/* a SIGHUP came since the last call */

/* Sleep until CLOCK_MONOTONIC @mono_ns; -EINTR once a signal said stop. */
int sleep_until(__u64 mono_ns);

#endif
