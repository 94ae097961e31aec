// SPDX-License-Identifier: GPL-2.0-only
/* loop.c - see loop.h. */
#include <errno.h>
#include <signal.h>
#include <time.h>

#include "cli/loop.h"
#include "util/clock.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

void loop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* no SA_RESTART: a signal cuts the sleep short */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

bool loop_stopped(void)
{
	return stop;
}

int sleep_until(__u64 mono_ns)
{
	struct timespec ts = {
		.tv_sec = mono_ns / NSEC_PER_SEC,
		.tv_nsec = mono_ns % NSEC_PER_SEC,
	};

	while (!stop) {
		int err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);

		if (!err)
			return 0;
		if (err != EINTR)
			return -err;
	}
	return -EINTR;
}
