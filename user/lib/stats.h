/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stats.h - what tcbpf sees: counters of every limited device of this
 * network namespace, sampled, and the rates between two samples.
 *
 * "seen" is what was offered (passed + dropped), per direction and class.
 * Bits count whole frames as the programs see them (skb->len at the tc
 * hook: Ethernet header included, no FCS, preamble or gap).
 */
#ifndef TCBPF_STATS_H
#define TCBPF_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <net/if.h>
#include <linux/types.h>
#include "tcbpf.h"
#include "lib/cmd.h"
#include "lib/units.h"	/* parse_secs, fmt_bits: stats, export, watch */

#define NETID_LEN	16

/* One device's settings and counters at one moment. */
struct dev_sample {
	int ifindex;
	char ifname[IF_NAMESIZE];
	char netid[NETID_LEN];		/* hex as in the name; "" if none */
	bool have[TCBPF_NDIR];
	struct tcbpf_cfg cfg[TCBPF_NDIR];
	struct tcbpf_stats st[TCBPF_NDIR];
	__u64 mono_ns;			/* when its counters were read */
};

struct sample_set {
	struct dev_sample *devs;	/* sorted by name */
	int n;
	__u64 mono_ns;			/* CLOCK_MONOTONIC, after the last read */
	__u64 real_ns;			/* CLOCK_REALTIME, for output */
};

/* Offered (seen), passed and dropped traffic over an interval. */
enum { RATE_SEEN, RATE_PASSED, RATE_DROPPED, RATE_N };

struct rate {
	double bps[RATE_N];		/* bits/s */
	double pps[RATE_N];		/* packets/s */
};

extern const char *const rate_name[RATE_N];	/* "seen", "passed", ... */
extern const char *const class_names[TCBPF_NCLASS];

/*
 * Counters of every device of this netns that has a limiter and still
 * exists. No limiter anywhere is an empty set, not an error.
 */
int sample_read(struct sample_set *s);
void sample_free(struct sample_set *s);

/* The device in @s with @ifindex and @name (a new device may reuse one). */
const struct dev_sample *sample_find(const struct sample_set *s, int ifindex,
				     const char *name);

/* Seconds between two samples of one device. */
double sample_secs(const struct dev_sample *old, const struct dev_sample *new);

/*
 * Rates of one direction of one device between @old and @new, @secs
 * apart (sample_secs()); @cls a class, or -1 for all classes summed. A counter that went
 * back (the slot was reset) counts from zero, as Prometheus does.
 */
void rate_between(const struct dev_sample *old, const struct dev_sample *new,
		  double secs, int dir, int cls, struct rate *r);

/* "vm-3-00c9" -> "00c9"; "" when the name is none of the four forms. */
void netid_of_name(const char *name, char *hex, size_t len);

/* Line-protocol escapes for a tag value (commas, spaces, '='). */
void influx_tag(FILE *f, const char *key, const char *val);

/* "police", "edt", "monitor" */
const char *mode_str(__u32 mode);

/* SIGINT/SIGTERM/SIGHUP end the loops of stats, export and watch. */
void stats_signals(void);
bool stats_stopped(void);

/* Sleep until CLOCK_MONOTONIC @mono_ns; -EINTR once a signal said stop. */
int sleep_until(__u64 mono_ns);

int cmd_stats(const struct opts *o, int argc, char **argv);

#endif
