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

/* What is known of one namespace cookie during a walk. */
struct ns_seen {
	__u64 cookie;
	bool alive;
	char where[256];	/* its path; "" = ours */
	int self;		/* entered: fd to return with, else -1 */
};

struct gone_walk {
	struct ns_seen *ns;
	int nns;
	bool dry_run;
	struct rec_plan *plan;
	int err;
};

static struct ns_seen *ns_lookup(struct gone_walk *w, __u64 cookie,
				 __u64 ino, __u64 self)
{
	struct ns_seen *n;
	int i;

	for (i = 0; i < w->nns; i++)
		if (w->ns[i].cookie == cookie)
			return &w->ns[i];
	n = realloc(w->ns, (w->nns + 1) * sizeof(*n));
	if (!n)
		return NULL;
	w->ns = n;
	n = &w->ns[w->nns++];
	memset(n, 0, sizeof(*n));
	n->cookie = cookie;
	n->self = -1;
	if (cookie == self)
		n->alive = true;
	else
		n->alive = netns_alive(ino, cookie, n->where, sizeof(n->where));
	return n;
}

/* Is device @ifindex named @name in namespace @n? */
static bool dev_there(const struct ns_seen *n, int ifindex, const char *name)
{
	char got[IF_NAMESIZE];
	bool there;
	int self = -1;

	if (n->where[0]) {
		self = netns_push(n->where);
		if (self < 0)
			return true;	/* cannot look: leave it */
	}
	there = if_indextoname(ifindex, got) && !strcmp(got, name);
	netns_pop(self);
	return there;
}

static int forget_one(struct tcbpf *t, const struct tcbpf_key *key,
		      const struct tcbpf_cfg *cfg, void *ctx)
{
	struct gone_walk *w = ctx;
	struct ns_seen *n = ns_lookup(w, key->netns, cfg->netns_ino, t->netns);
	struct rec_action *a;
	const char *why;

	if (!n)
		return -ENOMEM;
	if (!n->alive)
		why = "its network namespace is gone";
	else if (!dev_there(n, key->ifindex, cfg->ifname))
		why = "the device is gone";
	else
		return 0;
	/* one action per device, not per direction */
	a = NULL;
	for (int i = 0; i < w->plan->n; i++)
		if (w->plan->v[i].kind == REC_FORGET &&
		    w->plan->v[i].ifindex == (int)key->ifindex &&
		    w->plan->v[i].cookie == key->netns)
			a = &w->plan->v[i];
	if (!a) {
		a = add(w->plan, REC_FORGET, n->where, cfg->ifname,
			key->ifindex, "%s", why);
		if (!a)
			return -ENOMEM;
		a->cookie = key->netns;
	}
	if (w->dry_run)
		return 0;
	maps_del_key(t, key);
	tcbpf_forget_dev(t, key->netns, key->ifindex);
	pace_forget(key->ifindex, key->netns);
	return 0;
}

/* Cookies that no entry uses any more. */
static int still_used(struct tcbpf *t, const struct tcbpf_key *key,
		      const struct tcbpf_cfg *cfg, void *ctx)
{
	return key->netns == *(__u64 *)ctx;
}

int lim_forget_gone(struct lim *l, bool dry_run, struct rec_plan *plan)
{
	struct gone_walk w = { .dry_run = dry_run, .plan = plan };
	struct tcbpf t;
	int i, err;

	err = lim_lock(l);
	if (err)
		return err;
	err = tcbpf_open_maps(&t);
	if (err) {
		lim_unlock(l);
		return err == -ENOENT ? 0 : err;
	}
	err = maps_foreach(&t, forget_one, &w);
	for (i = 0; !dry_run && !err && i < w.nns; i++)
		if (!w.ns[i].alive && !maps_foreach(&t, still_used, &w.ns[i].cookie))
			tcbpf_unpin_ns(&t, w.ns[i].cookie);
	tcbpf_close(&t);
	if (!dry_run && !err)
		lim_gc(l);
	free(w.ns);
	lim_unlock(l);
	return err;
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
	const struct dev_sample *d;
	struct sample_set set;
	int dir, kind = -1;

	*ifindex = if_nametoindex(name);
	if (!*ifindex) {
		snprintf(why, len, "the device is not there");
		return REC_WAIT;
	}
	if (lim_show(l, name, &set)) {
		snprintf(why, len, "no limiter");
		return REC_ATTACH;
	}
	d = sample_find(&set, *ifindex, name);
	if (!d) {
		sample_free(&set);
		snprintf(why, len, "no limiter");
		return REC_ATTACH;
	}
	cfg_wanted(s, want);
	for (dir = 0; dir < TCBPF_NDIR && kind < 0; dir++) {
		if (!d->here || !d->have[dir] ||
		    d->hook_seen[dir] == TCBPF_HOOK_NONE) {
			snprintf(why, len, "%s program not attached", dir_name(dir));
			kind = REC_ATTACH;
		} else if (!cfg_same(&d->cfg[dir], &want[dir])) {
			snprintf(why, len, "%s settings differ", dir_name(dir));
			kind = REC_REAPPLY;
		}
	}
	sample_free(&set);
	return kind;
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
	lim_unlock(l);
	return ret;
}
