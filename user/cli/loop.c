// SPDX-License-Identifier: GPL-2.0-only
/* loop.c - see loop.h. */
#include <errno.h>
#include <signal.h>
#include <time.h>

#include "cli/loop.h"
#include "util/clock.h"

static volatile sig_atomic_t stop, hup;

static void on_signal(int sig)
{
	stop = 1;
}

static void on_hup(int sig)
{
	hup = 1;
}

static void signals(bool hup_reloads)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct sigaction sh = { .sa_handler = on_hup };

	/* no SA_RESTART: a signal cuts the sleep short */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, hup_reloads ? &sh : &sa, NULL);
}

void loop_signals(void)
{
	signals(false);
}

void loop_signals_reload(void)
{
	signals(true);
}

bool loop_stopped(void)
{
	return stop;
}

bool loop_hup(void)
{
	bool h = hup;

	hup = 0;
	return h;
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
