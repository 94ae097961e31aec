/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sample.h - what tcbpf has on the devices of this network namespace at
 * one moment: settings, counters and (for show) the hooks seen, grouped
 * per device; and the rates between two such samples.
 *
 * "seen" is what was offered (passed + dropped), per direction and class.
 * Bits count whole frames as the programs see them (skb->len at the tc
 * hook: Ethernet header included, no FCS, preamble or gap).
 */
#ifndef TCBPF_SAMPLE_H
#define TCBPF_SAMPLE_H

#include <stdbool.h>
#include <net/if.h>
#include <linux/types.h>
#include "tcbpf.h"
#include "kern/obj.h"
#include "lib/netid.h"
#include "lib/vni.h"

/* One device's settings and counters at one moment. */
struct dev_sample {
	int ifindex;
	char ifname[IF_NAMESIZE];
	char netid[NETID_LEN];		/* hex as in the name; "" if none */
	bool here;			/* the device exists under this name */
	bool have[TCBPF_NDIR];
	struct tcbpf_cfg cfg[TCBPF_NDIR];
	struct tcbpf_stats st[TCBPF_NDIR];
	int hook_seen[TCBPF_NDIR];	/* SAMPLE_HOOKS: what is attached */
	__u32 prog_id[TCBPF_NDIR];
	__u64 mono_ns;			/* when its counters were read */
	struct vni_count *vnis;		/* a VXLAN underlay: per network */
	int nvni;
};

struct sample_set {
	struct dev_sample *devs;	/* sorted by name */
	int n;
	__u64 mono_ns;			/* CLOCK_MONOTONIC, after the last read */
	__u64 real_ns;			/* CLOCK_REALTIME, for output */
};

enum {
	SAMPLE_STATS	= 1U << 0,	/* read the counters */
	SAMPLE_HOOKS	= 1U << 1,	/* ask the kernel what is attached */
	SAMPLE_GONE	= 1U << 2,	/* keep entries whose device is gone */
};

/*
 * The devices of this netns that have settings (@t NULL or not pinned:
 * an empty set, not an error), sorted by name.
 */
int sample_read(struct tcbpf *t, unsigned int flags, struct sample_set *s);
void sample_free(struct sample_set *s);

/* The device in @s with @ifindex and @name (a new device may reuse one). */
const struct dev_sample *sample_find(const struct sample_set *s, int ifindex,
				     const char *name);
/* By name only. */
const struct dev_sample *sample_by_name(const struct sample_set *s,
					const char *name);

static inline bool sample_has_limiter(const struct dev_sample *d)
{
	return d->have[TCBPF_INGRESS] || d->have[TCBPF_EGRESS];
}

/* Seconds between two samples of one device. */
double sample_secs(const struct dev_sample *old, const struct dev_sample *new);

/* Offered (seen), passed, dropped and would-drop traffic over an interval. */
/* would_drop: monitor mode, what its SPEC would have dropped (in passed) */
enum { RATE_SEEN, RATE_PASSED, RATE_DROPPED, RATE_WOULD_DROP, RATE_N };
extern const char *const rate_name[RATE_N];	/* "seen", "passed", ... */

struct rate {
	double bps[RATE_N];		/* bits/s */
	double pps[RATE_N];		/* packets/s */
};

/*
 * Rates of one direction of one device between @old and @new, @secs
 * apart (sample_secs()); @cls a class, or -1 for all classes summed. A
 * direction attached anew (another id) or a counter that went back
 * counts from zero, as Prometheus does.
 */
void rate_between(const struct dev_sample *old, const struct dev_sample *new,
		  double secs, int dir, int cls, struct rate *r);

#endif
