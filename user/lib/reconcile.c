// SPDX-License-Identifier: GPL-2.0-only
/* reconcile.c - see reconcile.h. */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/reconcile.h"
#include "lib/cfg.h"
#include "lib/gone.h"
#include "lib/maps.h"
#include "lib/names.h"
#include "lib/pace.h"
#include "kern/hook.h"
#include "kern/netns.h"
#include "kern/obj.h"
#include "util/log.h"

const char *rec_kind_name(enum rec_kind k)
{
	static const char *const names[] = {
		[REC_FORGET] = "forget", [REC_ATTACH] = "attach",
		[REC_REAPPLY] = "reapply", [REC_WAIT] = "wait",
	};

	return (unsigned int)k < sizeof(names) / sizeof(names[0]) ?
	       names[k] : "unknown";
}

void rec_plan_free(struct rec_plan *plan)
{
	free(plan->v);
	plan->v = NULL;
	plan->n = 0;
}

__attribute__((format(printf, 6, 7)))
static struct rec_action *add(struct rec_plan *plan, enum rec_kind kind,
			      const char *netns, const char *ifname,
			      int ifindex, const char *fmt, ...)
{
	struct rec_action *a;
	va_list ap;

	a = realloc(plan->v, (plan->n + 1) * sizeof(*a));
	if (!a)
		return NULL;
	plan->v = a;
	a = &plan->v[plan->n++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	snprintf(a->netns, sizeof(a->netns), "%s", netns ? netns : "");
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	a->ifindex = ifindex;
	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
	return a;
}

/* ------------------------------------------------------------- forget */

static void planned(void *ctx, const char *where, const char *ifname,
		    int ifindex, __u64 cookie, const char *why)
{
	struct rec_action *a = add(ctx, REC_FORGET, where, ifname, ifindex,
				   "%s", why);

	if (a)
		a->cookie = cookie;
}

/* Which of gone.h's sweeps forget() runs, and on what. */
struct sweep {
	enum { SWEEP_ALL, SWEEP_NS, SWEEP_DEV } what;
	bool dry_run;		/* SWEEP_ALL */
	int ifindex;		/* SWEEP_DEV */
};

/*
 * Under the lock, on the pinned maps (none: nothing to forget), the sweep
 * @sw; then the programs nobody needs any more, unless it was a dry run
 * or one device's (the daemon's: its namespace stays loaded anyway).
 */
static int forget(struct lim *l, const struct sweep *sw, struct rec_plan *plan)
{
	struct tcbpf t;
	int err;

	err = lim_lock(l);
	if (err)
		return err;
	err = tcbpf_open_maps(&t);
	if (err) {
		lim_unlock(l);
		return err == -ENOENT ? 0 : err;
	}
	switch (sw->what) {
	case SWEEP_ALL:
		err = gone_forget(&t, sw->dry_run, planned, plan);
		break;
	case SWEEP_NS:
		err = gone_forget_ns(&t, planned, plan);
		break;
	case SWEEP_DEV:
		err = gone_forget_dev(&t, sw->ifindex, planned, plan);
		break;
	}
	tcbpf_close(&t);
	if (!err && !sw->dry_run && sw->what != SWEEP_DEV)
		lim_gc(l);
	lim_unlock(l);
	return err;
}

int lim_forget_gone(struct lim *l, bool dry_run, struct rec_plan *plan)
{
	struct sweep sw = { .what = SWEEP_ALL, .dry_run = dry_run };

	return forget(l, &sw, plan);
}

int lim_forget_dead_ns(struct lim *l, struct rec_plan *plan)
{
	struct sweep sw = { .what = SWEEP_NS };

	return forget(l, &sw, plan);
}

int lim_forget_dev(struct lim *l, int ifindex, struct rec_plan *plan)
{
	struct sweep sw = { .what = SWEEP_DEV, .ifindex = ifindex };

	return forget(l, &sw, plan);
}

/* ------------------------------------------------------------ records */

/*
 * Device @name (in the caller's namespace) against what @s asks: -1 in
 * step, else the action, its reason in @why.
 */
static int judge(struct lim *l, const char *name, const struct spec *s,
		 int *ifindex, char *why, size_t len)
{
	struct tcbpf_cfg want[TCBPF_NDIR];
	struct dev_sample d;
	int dir;

	if (lim_inspect(l, name, &d)) {
		*ifindex = 0;
		snprintf(why, len, "the device is not there");
		return REC_WAIT;
	}
	*ifindex = d.ifindex;
	if (!sample_has_limiter(&d)) {
		snprintf(why, len, "no limiter");
		return REC_ATTACH;
	}
	cfg_wanted(s, want);
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		if (!d.have[dir] || d.hook_seen[dir] == TCBPF_HOOK_NONE) {
			snprintf(why, len, "%s program not attached", dir_name(dir));
			return REC_ATTACH;
		}
		if (!cfg_same(&d.cfg[dir], &want[dir])) {
			snprintf(why, len, "%s settings differ", dir_name(dir));
			return REC_REAPPLY;
		}
	}
	return -1;
}

/* Bring device @name of namespace @ns (entered) to @words. */
static int one(struct lim *l, const char *ns, const char *name, int argc,
	       char **argv, const char *source, bool dry_run,
	       struct rec_plan *plan)
{
	struct rec_action *a;
	char why[128], err[256];
	struct spec s;
	int kind, ifindex = 0;

	if (spec_parse(&s, argc, argv, err, sizeof(err))) {
		a = add(plan, REC_ATTACH, ns, name, 0, "%s", source);
		if (!a)
			return -ENOMEM;
		a->err = -EINVAL;
		snprintf(a->msg, sizeof(a->msg), "the SPEC does not parse: %s", err);
		return a->err;
	}
	kind = judge(l, name, &s, &ifindex, why, sizeof(why));
	if (kind < 0)
		return 0;
	a = add(plan, kind, ns, name, ifindex, "%s: %s", source, why);
	if (!a)
		return -ENOMEM;
	if (dry_run || kind == REC_WAIT)
		return 0;
	lim_set_netns_name(l, ns);
	a->err = lim_attach(l, name, &s);
	if (a->err)
		snprintf(a->msg, sizeof(a->msg), "%s", lim_msg(l));
	return a->err;
}

static bool wanted(const char *only, const char *v)
{
	return !only || !strcmp(only, v);
}

/* Devices of the caller's namespace that a policy of @ns names. */
static int policies_here(struct lim *l, const struct clamp_set *state,
			 const struct policy_set *pol, const char *ns,
			 const char *only_dev, bool dry_run,
			 struct rec_plan *plan)
{
	struct if_nameindex *ifs, *i;
	char source[PATH_MAX + 32];
	int err, ret = 0;

	ifs = if_nameindex();
	if (!ifs)
		return -errno;
	for (i = ifs; i->if_index; i++) {
		const struct policy *p;

		if (!wanted(only_dev, i->if_name) ||
		    (state && state_find(state, ns, i->if_name)))
			continue;	/* a recorded clamp wins */
		p = policy_match(pol, i->if_name, ns);
		if (!p)
			continue;
		snprintf(source, sizeof(source), "policy %s:%d", p->file, p->line);
		err = one(l, ns, i->if_name, p->argc, p->argv, source, dry_run,
			  plan);
		ret = ret ? ret : err;
	}
	if_freenameindex(ifs);
	return ret;
}

/* The namespaces policies name, once each ("" first). */
static bool ns_listed_before(const struct policy_set *pol, int upto,
			     const char *ns)
{
	int i;

	for (i = 0; i < upto; i++)
		if (!strcmp(pol->v[i].netns, ns))
			return true;
	return false;
}

int lim_reconcile(struct lim *l, const struct clamp_set *state,
		  const struct policy_set *pol, bool dry_run,
		  const char *only_ns, const char *only_dev,
		  struct rec_plan *plan)
{
	int i, self, err, ret = 0;

	err = lim_lock(l);
	if (err)
		return err;
	lim_set_recording(l, false);	/* the records are the input */
	lim_set_bulk(l, true);		/* tc: tcx costs ~40 ms a device */
	if (!only_dev)
		ret = lim_forget_gone(l, dry_run, plan);
	for (i = 0; state && i < state->n; i++) {
		const struct clamp *c = &state->v[i];

		if (!wanted(only_ns, c->netns) || !wanted(only_dev, c->ifname))
			continue;
		self = -1;
		if (c->netns[0]) {
			self = netns_push(c->netns);
			if (self < 0) {
				if (!add(plan, REC_WAIT, c->netns, c->ifname, 0,
					 "recorded: the namespace is not there"))
					ret = ret ? ret : -ENOMEM;
				continue;
			}
		}
		err = one(l, c->netns, c->ifname, c->argc, c->argv, "recorded",
			  dry_run, plan);
		netns_pop(self);
		ret = ret ? ret : err;
	}
	for (i = 0; pol && i < pol->n; i++) {
		const char *ns = pol->v[i].netns;

		if (ns_listed_before(pol, i, ns) || !wanted(only_ns, ns))
			continue;
		self = -1;
		if (ns[0]) {
			self = netns_push(ns);
			if (self < 0)
				continue;	/* no such namespace (yet) */
		}
		err = policies_here(l, state, pol, ns, only_dev, dry_run, plan);
		netns_pop(self);
		ret = ret ? ret : err;
	}
	lim_set_netns_name(l, "");
	lim_set_recording(l, true);
	lim_set_bulk(l, false);
	lim_unlock(l);
	return ret;
}
