/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * reconcile.h - make the kernel what the recorded state and the standing
 * policies ask, and forget what no longer exists: `tcbpf apply` and the
 * daemon (at start, on SIGHUP, on link events).
 *
 *   forget   settings of a device or namespace that is gone: removed, with
 *            their link pins, saved qdisc and (when nothing is left there)
 *            the namespace's programs;
 *   attach   a recorded (or policy) device without a working limiter: the
 *            device is there but has no settings, or they are not attached
 *            (a killed attach, a re-created device);
 *   reapply  a recorded device whose settings differ from the record (a
 *            killed change);
 *   wait     a recorded device, or its namespace, is not there: nothing to
 *            do until it comes (the daemon watches for it).
 */
#ifndef TCBPF_RECONCILE_H
#define TCBPF_RECONCILE_H

#include <limits.h>
#include <stdbool.h>
#include <net/if.h>
#include "lib/limiter.h"
#include "lib/policy.h"
#include "lib/state.h"

enum rec_kind { REC_FORGET, REC_ATTACH, REC_REAPPLY, REC_WAIT };

struct rec_action {
	enum rec_kind kind;
	char netns[NAME_MAX + 1];	/* "" = ours */
	char ifname[IF_NAMESIZE];
	int ifindex;
	__u64 cookie;			/* forget: the namespace's */
	char why[160];
	int err;			/* when done: 0 or what failed */
	char msg[512];
};

struct rec_plan {
	struct rec_action *v;
	int n;
};

const char *rec_kind_name(enum rec_kind k);

/*
 * Compare the kernel with @state and @pol (either may be NULL) and, unless
 * @dry_run, act; every action (done or, dry, to do) goes to @plan. Holds
 * the lock throughout. @only_ns/@only_dev (NULL: all) narrow it to one
 * device, for a link event. Returns the first action's failure, else 0.
 */
int lim_reconcile(struct lim *l, const struct clamp_set *state,
		  const struct policy_set *pol, bool dry_run,
		  const char *only_ns, const char *only_dev,
		  struct rec_plan *plan);

/* Forget what the maps hold of devices and namespaces that are gone. */
int lim_forget_gone(struct lim *l, bool dry_run, struct rec_plan *plan);

/* The same for what went with its namespace only (no device looked at). */
int lim_forget_dead_ns(struct lim *l, struct rec_plan *plan);

/* The same for device @ifindex of the caller's namespace only (a link
 * event said it went): no walk over every device's settings. */
int lim_forget_dev(struct lim *l, int ifindex, struct rec_plan *plan);

void rec_plan_free(struct rec_plan *plan);

#endif
