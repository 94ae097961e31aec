// SPDX-License-Identifier: GPL-2.0-only
/*
 * limiter.c - attach, change, detach, show and groups of them.
 *
 * Every change happens under the lock file, and a call that fails puts
 * back what it did: settings first (a device whose programs are attached
 * but have no settings passes everything), hooks after, and on the way out
 * the reverse.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/limiter.h"
#include "lib/cfg.h"
#include "lib/gone.h"
#include "lib/ingress.h"
#include "lib/maps.h"
#include "lib/names.h"
#include "lib/pace.h"
#include "lib/spec_words.h"
#include "lib/state.h"
#include "lib/upgrade.h"
#include "lib/vni.h"
#include "kern/hook.h"
#include "kern/obj.h"
#include "kern/netns.h"
#include "kern/qdisc.h"
#include "util/log.h"

struct lim {
	struct lim_opts o;
	int lock_fd;
	int lock_depth;
	bool in_group;		/* lim_apply records for the whole group */
	bool no_record;		/* lim_set_recording(false) */
	bool gone_done;		/* this hold of the lock forgot what is gone */
	bool bulk;		/* lim_set_bulk: default hook tc */
	bool no_fq;		/* this hold of the lock: the kernel has no fq */
	char no_fq_msg[256];	/* and what it said */
	struct tcbpf obj;	/* this hold of the lock: the open limiter */
	bool obj_held;		/* (of the namespace obj.netns) */
	const char *reason;	/* for the next record (lim_set_reason) */
	char msg[512];
};

struct dev {
	const char *name;
	int ifindex;
	__u64 netns;
};

int lim_open(struct lim **lp, const struct lim_opts *o)
{
	struct lim *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	if (o)
		l->o = *o;
	l->lock_fd = -1;
	*lp = l;
	return 0;
}

void lim_close(struct lim *l)
{
	if (!l)
		return;
	if (l->lock_fd >= 0)
		tcbpf_unlock(l->lock_fd);
	free(l);
}

const char *lim_msg(const struct lim *l)
{
	return l->msg;
}

__attribute__((format(printf, 3, 4)))
static int fail(struct lim *l, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->msg, sizeof(l->msg), fmt, ap);
	va_end(ap);
	return err;
}

__attribute__((format(printf, 3, 4)))
static void note(struct lim *l, const char *dev, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!l->o.note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	l->o.note(l->o.ctx, dev, msg);
}

/* The lock, taken once however deeply calls nest (lim_apply). */
static int lock(struct lim *l)
{
	if (l->lock_depth++)
		return 0;
	l->lock_fd = tcbpf_lock();
	if (l->lock_fd < 0) {
		l->lock_depth = 0;
		return fail(l, l->lock_fd, "cannot lock %s: %s", TCBPF_LOCK_FILE,
			    strerror(-l->lock_fd));
	}
	maps_hold(true);
	return 0;
}

static void obj_drop(struct lim *l);

static void unlock(struct lim *l)
{
	if (--l->lock_depth)
		return;
	obj_drop(l);
	maps_hold(false);
	l->gone_done = false;
	l->no_fq = false;
	tcbpf_unlock(l->lock_fd);
	l->lock_fd = -1;
}

/* ------------------------------------------------------ recorded state */

void lim_set_reason(struct lim *l, const char *reason)
{
	l->reason = reason;
}

static bool recording(const struct lim *l)
{
	return l->o.state_dir && !l->in_group && !l->no_record;
}

void lim_keep_loaded(struct lim *l, bool on)
{
	l->o.keep_loaded = on;
}

void lim_set_recording(struct lim *l, bool on)
{
	l->no_record = !on;
}

static const char *ns_name(const struct lim *l)
{
	return l->o.netns_name ? l->o.netns_name : "";
}

static int state_read(struct lim *l, struct clamp_set *set)
{
	char err[256];
	int rc;

	memset(set, 0, sizeof(*set));
	rc = state_load(l->o.state_dir, set, err, sizeof(err));
	if (rc)
		return fail(l, rc, "cannot read the recorded state: %s", err);
	return 0;
}

static int state_write(struct lim *l, const struct clamp_set *set)
{
	char err[256];
	int rc = state_save(l->o.state_dir, set, err, sizeof(err));

	if (rc)
		return fail(l, rc, "cannot record the state: %s", err);
	return 0;
}

/*
 * In @set: record @s for device @name (NULL @s: remove its record). The
 * reason is the one given for this command, else the record's old one.
 */
static int record_in(struct lim *l, struct clamp_set *set, const char *name,
		     const struct spec *s)
{
	struct clamp c = {}, *old = state_find(set, ns_name(l), name);
	char err[256];
	int rc;

	if (!s) {
		state_del(set, ns_name(l), name);
		return 0;
	}
	snprintf(c.ifname, sizeof(c.ifname), "%s", name);
	snprintf(c.netns, sizeof(c.netns), "%s", ns_name(l));
	c.at = time(NULL);
	c.reason = (char *)(l->reason ? l->reason : old ? old->reason : NULL);
	rc = spec_words(s, &c.argc, &c.argv);
	if (rc)
		return fail(l, rc, "%s: cannot record its SPEC: %s", name,
			    strerror(-rc));
	rc = state_set(set, &c, err, sizeof(err));
	free(c.argv);
	if (rc)
		return fail(l, rc, "%s: cannot record: %s", name, err);
	return 0;
}

/*
 * The SPEC recorded for @name, parsed into @s: 0, -ENOENT without a
 * record, or another error (named) for one that does not parse.
 */
static int recorded_spec(struct lim *l, const struct clamp_set *set,
			 const char *name, struct spec *s)
{
	const struct clamp *c = state_find(set, ns_name(l), name);
	char err[256];

	if (!c)
		return -ENOENT;
	if (spec_parse(s, c->argc, c->argv, err, sizeof(err)))
		return fail(l, -EINVAL, "%s: the recorded SPEC does not parse: %s",
			    name, err);
	return 0;
}

/*
 * The state is written first, in the lock: what the operator asked for is
 * on disk before the kernel is touched, so that a command killed half way
 * is finished by the next reconciliation (tcbpf apply, the daemon); when
 * the kernel refuses, the old record is put back.
 */
struct txn {
	bool on;
	struct clamp_set old;
};

static int txn_begin(struct lim *l, struct txn *x, const char *name,
		     const struct spec *s)
{
	struct clamp_set set;
	int err;

	memset(x, 0, sizeof(*x));
	if (!recording(l))
		return 0;
	err = state_read(l, &x->old);
	if (err)
		return err;
	err = state_read(l, &set);
	if (!err)
		err = record_in(l, &set, name, s);
	if (!err)
		err = state_write(l, &set);
	state_free(&set);
	if (err) {
		state_free(&x->old);
		return err;
	}
	x->on = true;
	return 0;
}

/* After the kernel's part: on failure the old state back (best effort). */
static void txn_end(struct lim *l, struct txn *x, int err)
{
	char msg[sizeof(l->msg)];

	if (!x->on)
		return;
	if (err) {
		snprintf(msg, sizeof(msg), "%s", l->msg);
		if (state_write(l, &x->old))
			pr_warn("%s\n", l->msg);
		snprintf(l->msg, sizeof(l->msg), "%s", msg);
	}
	state_free(&x->old);
}

int lim_lock(struct lim *l)
{
	return lock(l);
}

void lim_unlock(struct lim *l)
{
	unlock(l);
}

void lim_set_netns_name(struct lim *l, const char *name)
{
	l->o.netns_name = name;
}

static int dev_resolve(struct lim *l, struct dev *d, const char *name)
{
	char err[256];

	d->name = name;
	d->netns = netns_self();
	if (dev_name_check(name, err, sizeof(err)))
		return fail(l, -EUSAGE, "%s", err);
	d->ifindex = if_nametoindex(name);
	if (!d->ifindex)
		return fail(l, -ENODEV, "cannot find device \"%s\"", name);
	return 0;
}

static int validate(struct lim *l, struct spec_dir dirs[TCBPF_NDIR],
		    const struct spec *s, const char *dev)
{
	char msg[512];

	if (spec_validate(dirs, s, dev, msg, sizeof(msg)))
		return fail(l, -EUSAGE, "%s", msg);
	if (spec_warnings(dirs, dev, msg, sizeof(msg)))
		note(l, dev, "%s", msg);
	return 0;
}

/* Bring the pins to this build (lib/upgrade.h); notes what it did. */
static int upgrade(struct lim *l, bool takeover, bool say,
		   struct upgrade_report *r)
{
	char msg[sizeof(l->msg)];
	int err = lock(l);

	if (err)
		return err;
	obj_drop(l);	/* its programs and pins are about to change */
	err = upgrade_run(takeover, r, msg, sizeof(msg));
	unlock(l);
	if (err)
		return fail(l, err, "%s", msg);
	if (say && (r->did == UPGRADE_MIGRATED || r->did == UPGRADE_TAKEOVER))
		note(l, NULL, "%s the limiter in %s from layout %d%s%s: "
		     "%d namespaces, %d hooks swapped to tcbpf %s, %d settings "
		     "carried over", r->did == UPGRADE_MIGRATED ? "migrated" :
		     "took over", tcbpf_pin_dir(), r->from_layout,
		     r->from_version[0] ? ", tcbpf " : "", r->from_version,
		     r->namespaces, r->hooks, tcbpf_version(), r->settings);
	return 0;
}

int lim_upgrade(struct lim *l, struct upgrade_report *r)
{
	return upgrade(l, true, false, r);
}

/*
 * The limiter of the caller's namespace, opened once per hold of the lock
 * and namespace: a group of a thousand devices would open its eight pins
 * and read their info two thousand times. Under the lock nobody else
 * pins or unpins; gc() drops it when it unpins, upgrade() before it swaps
 * programs. Give it back with close_obj().
 */
static int open_obj(struct lim *l, struct tcbpf *t, bool create)
{
	__u64 ns = l->lock_depth ? netns_self() : 0;
	struct upgrade_report r;
	int err;

	if (l->obj_held && ns && l->obj.netns == ns) {
		*t = l->obj;
		return 0;
	}
	err = tcbpf_open(t, create);

	/* pins of an older layout: migrated by the first command */
	if (err == -ESTALE && t->pins.layout != TCBPF_LAYOUT) {
		err = upgrade(l, false, true, &r);
		if (err)
			return err;
		err = tcbpf_open(t, create);
	}
	if (err == -ESTALE)
		return fail(l, err, "the maps pinned in %s have another layout: "
			    "another version of tcbpf has limiters on this host; "
			    "detach them with that version (or move its clamps "
			    "with it), then run this one", tcbpf_pin_dir());
	if (err && err != -ENOENT)
		return fail(l, err, "cannot %s the limiter in %s: %s",
			    create ? "set up" : "open", tcbpf_pin_dir(),
			    strerror(-err));
	if (!err && ns && t->netns == ns) {
		obj_drop(l);	/* another namespace's */
		l->obj = *t;
		l->obj_held = true;
	}
	return err;
}

static void close_obj(struct lim *l, struct tcbpf *t)
{
	if (l->obj_held && t->cfg_fd == l->obj.cfg_fd)
		return;		/* the hold's: obj_drop() closes it */
	tcbpf_close(t);
}

static void obj_drop(struct lim *l)
{
	if (!l->obj_held)
		return;
	l->obj_held = false;
	tcbpf_close(&l->obj);
}

static int in_ns(struct tcbpf *t, const struct tcbpf_key *key,
		 const struct maps_dev *dev, void *ctx)
{
	return key->netns == t->netns;
}

/*
 * Programs stay loaded while something will want them soon: a daemon that
 * re-clamps devices as they come back, or recorded clamps.
 */
static bool keep_loaded(struct lim *l)
{
	struct clamp_set set = {};
	char err[256];
	bool keep;

	if (l->o.keep_loaded)
		return true;
	if (!l->o.state_dir ||
	    state_load(l->o.state_dir, &set, err, sizeof(err)))
		return false;
	keep = set.n > 0;
	state_free(&set);
	return keep;
}

int lim_preload(struct lim *l)
{
	struct upgrade_report r;
	struct tcbpf t;
	int err = lock(l);

	if (err)
		return err;
	/* a daemon starting: this build's programs take over the hooks */
	err = upgrade(l, true, true, &r);
	if (!err)
		err = open_obj(l, &t, true);
	if (!err)
		close_obj(l, &t);
	unlock(l);
	return err;
}

/* The namespace's last device gone: its programs; the last of all: all. */
static void gc(struct lim *l, struct tcbpf *t)
{
	if (keep_loaded(l))
		return;
	/* what is unpinned now is not the hold's any more: the caller
	 * closes its @t, the hold's own is closed here */
	if (l->obj_held && (maps_empty(t) || !maps_foreach(t, in_ns, NULL))) {
		if (t->cfg_fd == l->obj.cfg_fd)
			l->obj_held = false;
		else
			obj_drop(l);
	}
	if (maps_empty(t))
		tcbpf_unpin(t);
	else if (!maps_foreach(t, in_ns, NULL))
		tcbpf_unpin_ns(t, t->netns);
}

void lim_gc(struct lim *l)
{
	struct tcbpf t;

	if (!tcbpf_open_maps(&t)) {
		gc(l, &t);
		tcbpf_close(&t);
	}
}

static void forgot_one(void *ctx, const char *where, const char *ifname,
		       int ifindex, __u64 cookie, const char *why)
{
	*(bool *)ctx = true;
}

/*
 * Forget what vanished. For one device (attach, change, detach of DEV):
 * only its own settings, if they are another device's (the device made
 * again) or a killed attach's; what else vanished costs nothing until
 * the settings profiles run out (put_dev), `show`, `apply` or the daemon (at each
 * link event and once a minute) walk everything. Walking every device on
 * every command made each one cost O(devices) netlink queries: 64 ms at
 * a thousand, 33 s for a thousand alerts' attaches one process each.
 * Without a device (@ifindex 0), everything, once per hold of the lock.
 */
static void forget_gone(struct lim *l, struct tcbpf *t, int ifindex)
{
	bool forgot = false;

	if (l->gone_done)
		return;
	if (ifindex) {
		gone_forget_dev(t, ifindex, forgot_one, &forgot);
		return;
	}
	gone_forget(t, false, NULL, NULL);
	l->gone_done = true;
}

/*
 * Write both directions of @d; when the maps are full (every device
 * entry, -E2BIG, or every settings profile, -ENOSPC, in use), forget what
 * vanished (it may hold some) and try once more. A failure is reported
 * naming what ran out.
 */
static int put_dev(struct lim *l, struct tcbpf *t, const struct dev *d,
		   const struct tcbpf_cfg cfg[TCBPF_NDIR])
{
	int err = maps_put_dev(t, d->ifindex, cfg);

	if ((err == -ENOSPC || err == -E2BIG) && !l->gone_done) {
		forget_gone(l, t, 0);
		err = maps_put_dev(t, d->ifindex, cfg);
	}
	if (err == -E2BIG)
		return fail(l, err, "%s: no room for another device: %d "
			    "devices already have a limiter", d->name,
			    TCBPF_MAX_DEVS);
	if (err == -ENOSPC)
		return fail(l, err, "%s: cannot write settings: all %d "
			    "settings profiles are in use by other settings",
			    d->name, TCBPF_MAX_PROFS);
	if (err)
		return fail(l, err, "%s: cannot write settings: %s", d->name,
			    strerror(-err));
	return 0;
}

/* What attach did, so that a failure can be undone. */
struct undo {
	bool had_cfg[TCBPF_NDIR];
	struct tcbpf_cfg old[TCBPF_NDIR];
	bool wrote;		/* the device entry */
	bool attached[TCBPF_NDIR];
	bool made_clsact;
	bool made_fq;		/* installed fq over a saved root */
};

static void attach_undo(struct lim *l, struct tcbpf *t, const struct dev *d,
			struct undo *u)
{
	char msg[256];
	int dir;

	for (dir = 0; dir < TCBPF_NDIR; dir++)
		if (u->attached[dir])
			hook_detach(d->ifindex, dir);
	if (u->wrote) {
		/* the device entry as it was: both directions in one update */
		if (u->had_cfg[TCBPF_INGRESS] && u->had_cfg[TCBPF_EGRESS])
			maps_put_dev(t, d->ifindex, u->old);
		else
			maps_del_dev(t, d->ifindex);
	}
	if (u->made_clsact)
		hook_clsact_release(d->ifindex);
	if (u->made_fq)
		pace_restore(d->ifindex, d->netns, msg, sizeof(msg));
	ingress_release(t);
	gc(l, t);
}

/*
 * Egress pacing: EDT wants fq on the device. Install (or resize) it; when
 * the kernel has none, or the device's root is a qdisc tree detach could
 * not rebuild (left alone), fall back to policing unless the operator
 * asked for pacing or a delay in this very command, which then fails:
 * never claim what is not enforced. *@made: fq installed now over a saved
 * root; *@drop_fq: tcbpf's fq is no longer wanted (after success, restore).
 */
static int egress_pacing(struct lim *l, const struct dev *d, __u32 cmd_set,
			 struct tcbpf_cfg *cfg, __u32 old_flags, bool *made,
			 bool *drop_fq)
{
	bool owned = old_flags & TCBPF_F_OWN_FQ;
	char msg[256] = "", hint[96] = "";
	int err;

	cfg->flags &= ~(TCBPF_F_OWN_FQ | TCBPF_F_NO_FQ | TCBPF_F_TREE_KEPT);
	/* Known to have no fq, and not asked again: stay policing quietly. */
	if (cfg->mode == TCBPF_MODE_EDT && (old_flags & TCBPF_F_NO_FQ) &&
	    !(cmd_set & (SPEC_MODE | SPEC_DELAY))) {
		cfg->mode = TCBPF_MODE_POLICE;
		cfg->flags |= TCBPF_F_NO_FQ;
		return 0;
	}
	if (cfg->mode != TCBPF_MODE_EDT) {
		*drop_fq = owned;
		return 0;
	}
	/* A kernel without fq says so for the first device of a group; the
	 * next thousand need not each ask again (a failed qdisc add asks
	 * for the module every time). */
	if (l->no_fq) {
		err = -ENOENT;
		snprintf(msg, sizeof(msg), "%s", l->no_fq_msg);
	} else {
		err = pace_install(d->ifindex, d->netns, cfg, owned, msg,
				   sizeof(msg));
		if (err == -ENOENT) {
			l->no_fq = true;
			snprintf(l->no_fq_msg, sizeof(l->no_fq_msg), "%s", msg);
		}
	}
	if (!err) {
		cfg->flags |= TCBPF_F_OWN_FQ;
		*made = !owned;
		return 0;
	}
	if (err == -EBUSY)	/* a qdisc tree in the way: say how to clear it */
		snprintf(hint, sizeof(hint), " (tc qdisc del dev %s root, then "
			 "attach or change, to pace)", d->name);
	if ((cmd_set & SPEC_MODE) || ((cmd_set & SPEC_DELAY) && cfg->delay_ns))
		return fail(l, err, "%s egress: %s needs EDT pacing with the fq "
			    "qdisc, which failed: %s%s", d->name,
			    cmd_set & SPEC_DELAY ? "\"delay\"" : "mode edt",
			    msg, hint);
	cfg->mode = TCBPF_MODE_POLICE;
	if (err == -EBUSY) {
		/* Checked again by every attach and change: once the tree
		 * is gone, pacing starts. */
		if (!(old_flags & TCBPF_F_TREE_KEPT))
			note(l, d->name, "%s egress: %s; policing instead of "
			     "pacing, delay not enforced%s", d->name, msg, hint);
		cfg->flags |= TCBPF_F_TREE_KEPT;
	} else {
		note(l, d->name, "%s egress: no fq qdisc (%s): policing instead "
		     "of pacing, delay not enforced", d->name, msg);
		cfg->flags |= TCBPF_F_NO_FQ;
	}
	*drop_fq = owned;
	return 0;
}

void lim_set_bulk(struct lim *l, bool on)
{
	l->bulk = on;
}

/*
 * The hook asked for, else the one the device has, else the default:
 * tcx for one device, tc for a group and for reconciliation. Each tcx
 * link costs the kernel a synchronize_rcu() under rtnl (~20 ms, two per
 * device: 40 s for a thousand devices whatever tcbpf does), a cls_bpf
 * filter a tenth of a millisecond (docs/PERFORMANCE.md).
 */
static int pick_hook(const struct lim *l, int want, int have)
{
	if (want != TCBPF_HOOK_NONE)
		return want;
	if (have != TCBPF_HOOK_NONE)
		return have;
	if (l->bulk || l->in_group)
		return TCBPF_HOOK_TC;
	return hook_have_tcx() ? TCBPF_HOOK_TCX : TCBPF_HOOK_TC;
}

/* Attach both programs with @hook (tcx, else tc when it was not asked). */
static int hooks_attach(struct lim *l, struct tcbpf *t, const struct dev *d,
			int *hook, bool hook_given, struct undo *u)
{
	char why[256];
	int dir, err;

	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		int there = hook_query(d->ifindex, dir, t->prog_id[dir]);

		if (there == *hook)
			continue;
		if (there != TCBPF_HOOK_NONE)	/* switching hooks */
			hook_detach(d->ifindex, dir);
		err = hook_attach(d->ifindex, dir, *hook, t->prog_fd[dir],
				  &u->made_clsact, why, sizeof(why));
		/* Not asked for a hook: the other one (a classic ingress
		 * qdisc or a foreign filter excludes tc; an old kernel tcx). */
		if (err && dir == 0 && !hook_given &&
		    (*hook == TCBPF_HOOK_TCX || hook_have_tcx())) {
			pr_debug("%s: %s attach failed (%s), trying the other "
				 "hook\n", d->name, hook_name(*hook),
				 why[0] ? why : strerror(-err));
			*hook = *hook == TCBPF_HOOK_TCX ? TCBPF_HOOK_TC :
				TCBPF_HOOK_TCX;
			err = hook_attach(d->ifindex, dir, *hook,
					  t->prog_fd[dir], &u->made_clsact,
					  why, sizeof(why));
		}
		if (err)
			return fail(l, err, "%s: cannot attach %s program with "
				    "hook %s: %s", d->name, dir_name(dir),
				    hook_name(*hook), why[0] ? why : strerror(-err));
		u->attached[dir] = true;
	}
	return 0;
}

static int do_attach(struct lim *l, struct tcbpf *t, const struct dev *d,
		     const struct spec *s)
{
	struct spec_dir dirs[TCBPF_NDIR];
	struct tcbpf_cfg cfg[TCBPF_NDIR];
	struct undo u = {};
	int dir, hook, cur, err;
	bool own_clsact = false, drop_fq = false;
	char msg[256];

	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		spec_defaults(&dirs[dir], dir);
		/* To the VM, pace by default (where the kernel has fq). */
		if (dir == TCBPF_EGRESS)
			dirs[dir].mode = TCBPF_MODE_EDT;
		spec_apply(&dirs[dir], &s->dir[dir]);
	}
	err = validate(l, dirs, s, d->name);
	if (err)
		return err;

	/* Existing settings: the entry keeps its counters and bucket state
	 * (maps_put_dev), the rest is replaced. */
	cur = TCBPF_HOOK_NONE;
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		u.had_cfg[dir] = !maps_get(t, d->ifindex, dir, &u.old[dir]);
		if (!u.had_cfg[dir])
			continue;
		cur = u.old[dir].hook;
		own_clsact |= u.old[dir].flags & TCBPF_F_OWN_CLSACT;
	}
	hook = pick_hook(l, s->hook, cur);

	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		memset(&cfg[dir], 0, sizeof(cfg[dir]));
		cfg_from_spec(&cfg[dir], &dirs[dir]);
		cfg[dir].hook = hook;
		cfg[dir].netns_ino = netns_ino();
		snprintf(cfg[dir].ifname, sizeof(cfg[dir].ifname), "%s", d->name);
	}
	vni_dev_cfg(d->name, s, u.had_cfg[0] ? &u.old[0] : NULL, cfg);

	err = egress_pacing(l, d, s->dir[TCBPF_EGRESS].set, &cfg[TCBPF_EGRESS],
			    u.had_cfg[TCBPF_EGRESS] ? u.old[TCBPF_EGRESS].flags : 0,
			    &u.made_fq, &drop_fq);
	if (err)
		goto undo;
	err = ingress_pacing(t, d->name, s->dir[TCBPF_INGRESS].set,
			     &cfg[TCBPF_INGRESS], u.had_cfg[TCBPF_INGRESS] ?
			     u.old[TCBPF_INGRESS].flags : 0, hook, msg, sizeof(msg));
	if (err < 0) {
		fail(l, err, "%s", msg);
		goto undo;
	}
	if (err > 0 && msg[0])
		note(l, d->name, "%s", msg);

	/*
	 * A clsact this attach is about to make is written down as ours
	 * before it exists: killed just after making it, the entry still
	 * says whose it is, and the next command removes it.
	 */
	if (hook == TCBPF_HOOK_TC && !own_clsact &&
	    qdisc_has_clsact(d->ifindex) == 0)
		for (dir = 0; dir < TCBPF_NDIR; dir++)
			cfg[dir].flags |= TCBPF_F_OWN_CLSACT;

	err = put_dev(l, t, d, cfg);
	if (err)
		goto undo;
	u.wrote = true;

	err = hooks_attach(l, t, d, &hook, s->hook != TCBPF_HOOK_NONE, &u);
	if (err)
		goto undo;

	/* Record the hook actually used and who owns clsact. */
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		cfg[dir].hook = hook;
		cfg[dir].flags &= ~TCBPF_F_OWN_CLSACT;
		if (own_clsact || u.made_clsact)
			cfg[dir].flags |= TCBPF_F_OWN_CLSACT;
	}
	err = maps_put_dev(t, d->ifindex, cfg);
	if (err) {
		fail(l, err, "%s: cannot write settings: %s", d->name,
		     strerror(-err));
		goto undo;
	}
	if (drop_fq && pace_restore(d->ifindex, d->netns, msg, sizeof(msg)))
		pr_warn("%s: cannot restore the root qdisc: %s\n", d->name, msg);
	ingress_release(t);
	return 0;
undo:
	attach_undo(l, t, d, &u);
	return err;
}

int lim_attach(struct lim *l, const char *name, const struct spec *s)
{
	char vmsg[256];
	struct tcbpf t;
	struct txn x;
	struct dev d;
	int err;

	err = dev_resolve(l, &d, name);
	if (err)
		return err;
	err = lock(l);
	if (err)
		return err;
	memset(&x, 0, sizeof(x));	/* a network's limit: not a clamp record */
	err = s->has_vni ? 0 : txn_begin(l, &x, name, s);
	if (err)
		goto out;
	err = open_obj(l, &t, true);
	if (!err) {
		forget_gone(l, &t, d.ifindex);
		if (s->has_vni)	/* one VXLAN network of an underlay: vni.c */
			err = vni_attach(&t, d.ifindex, name, s, vmsg,
					 sizeof(vmsg)) ? fail(l, -EINVAL, "%s", vmsg) : 0;
		else
			err = do_attach(l, &t, &d, s);
		close_obj(l, &t);
	}
	txn_end(l, &x, err);
out:
	unlock(l);
	return err;
}

static int do_change(struct lim *l, struct tcbpf *t, const struct dev *d,
		     const struct spec *s)
{
	struct spec_dir dirs[TCBPF_NDIR];
	struct tcbpf_cfg old[TCBPF_NDIR], cfg[TCBPF_NDIR];
	bool made_fq = false, drop_fq = false;
	char msg[256];
	int dir, err;

	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		if (maps_get(t, d->ifindex, dir, &old[dir]))
			return fail(l, -ENOENT, "%s has no limiter: attach it "
				    "first", d->name);
		cfg_to_spec(&dirs[dir], &old[dir]);
		/* A new pps without pburst gets a pburst derived from it. */
		if ((s->dir[dir].set & SPEC_PPS) && !(s->dir[dir].set & SPEC_PBURST))
			dirs[dir].pburst = 0;
		spec_apply(&dirs[dir], &s->dir[dir]);
	}
	err = validate(l, dirs, s, d->name);
	if (err)
		return err;
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		cfg[dir] = old[dir];
		cfg_from_spec(&cfg[dir], &dirs[dir]);
	}
	err = egress_pacing(l, d, s->dir[TCBPF_EGRESS].set, &cfg[TCBPF_EGRESS],
			    old[TCBPF_EGRESS].flags, &made_fq, &drop_fq);
	if (err)
		return err;
	err = ingress_pacing(t, d->name, s->dir[TCBPF_INGRESS].set,
			     &cfg[TCBPF_INGRESS], old[TCBPF_INGRESS].flags,
			     old[TCBPF_INGRESS].hook, msg, sizeof(msg));
	if (err < 0) {
		fail(l, err, "%s", msg);
		if (made_fq)
			pace_restore(d->ifindex, d->netns, msg, sizeof(msg));
		return err;
	}
	if (err > 0 && msg[0])
		note(l, d->name, "%s", msg);
	/* both directions in one tcbpf_set run: a kill leaves the old
	 * settings or the new, never a mix, and a packet sees its
	 * direction's old settings or its new ones */
	err = put_dev(l, t, d, cfg);
	if (err) {
		if (made_fq)
			pace_restore(d->ifindex, d->netns, msg, sizeof(msg));
		return err;
	}
	if (drop_fq && pace_restore(d->ifindex, d->netns, msg, sizeof(msg)))
		pr_warn("%s: cannot restore the root qdisc: %s\n", d->name, msg);
	ingress_release(t);
	return 0;
}

/*
 * What a change records: the keys of the recorded SPEC (or, for a limiter
 * from before the record, every key of its settings) with @s's on top.
 */
static int change_record(struct lim *l, struct tcbpf *t, const struct dev *d,
			 const struct spec *s, struct txn *x)
{
	struct tcbpf_cfg cfg[TCBPF_NDIR];
	struct clamp_set set;
	struct spec r;
	int dir, err;

	memset(x, 0, sizeof(*x));
	if (!recording(l))
		return 0;
	err = state_read(l, &set);
	if (err)
		return err;
	err = recorded_spec(l, &set, d->name, &r);
	state_free(&set);
	if (err == -ENOENT) {
		for (dir = 0; dir < TCBPF_NDIR; dir++)
			if (maps_get(t, d->ifindex, dir, &cfg[dir]))
				return fail(l, -ENOENT, "%s has no limiter: "
					    "attach it first", d->name);
		spec_from_cfg(&r, cfg);
		err = 0;
	}
	if (err)
		return err;
	spec_merge(&r, s);
	return txn_begin(l, x, d->name, &r);
}

int lim_change(struct lim *l, const char *name, const struct spec *s)
{
	struct tcbpf t;
	struct txn x;
	struct dev d;
	int err;

	if (s->hook != TCBPF_HOOK_NONE)
		return fail(l, -EUSAGE, "change cannot move %s to another hook: "
			    "use attach", name);
	if (s->has_vni || s->vxlan_port)	/* vni.c: attach keeps buckets */
		return fail(l, -EUSAGE, "change of %s: \"vni\" and \"vxlan-port\" "
			    "are for attach (which keeps a network's buckets)", name);
	err = dev_resolve(l, &d, name);
	if (err)
		return err;
	err = lock(l);
	if (err)
		return err;
	err = open_obj(l, &t, false);
	if (err == -ENOENT)
		fail(l, err, "%s has no limiter: attach it first", d.name);
	if (err)
		goto out;
	/* settings of a device made again are not this device's */
	forget_gone(l, &t, d.ifindex);
	err = change_record(l, &t, &d, s, &x);
	if (!err) {
		err = do_change(l, &t, &d, s);
		txn_end(l, &x, err);
	}
	close_obj(l, &t);
out:
	unlock(l);
	return err;
}

static int do_detach(struct lim *l, struct tcbpf *t, const struct dev *d,
		     bool *had)
{
	struct tcbpf_cfg cfg;
	bool own = false, own_fq = false;
	char msg[256];
	int dir, err, ret = 0;

	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		if (maps_get(t, d->ifindex, dir, &cfg))
			continue;
		*had = true;
		own |= cfg.flags & TCBPF_F_OWN_CLSACT;
		own_fq |= cfg.flags & TCBPF_F_OWN_FQ;
	}
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		err = hook_detach(d->ifindex, dir);
		if (err)
			ret = fail(l, err, "%s: cannot detach %s program: %s",
				   d->name, dir_name(dir), strerror(-err));
	}
	if (ret)
		return ret;
	/*
	 * The qdiscs before the settings: until they are back, the entries
	 * say which are tcbpf's, so that the next command after a kill here
	 * still knows (lib/gone.c), and no clsact of ours is left behind.
	 */
	if (own_fq && pace_restore(d->ifindex, d->netns, msg, sizeof(msg)))
		pr_warn("%s: cannot restore the root qdisc: %s\n", d->name, msg);
	if (own) {
		err = hook_clsact_release(d->ifindex);
		if (err)
			pr_warn("%s: cannot remove the clsact qdisc tcbpf "
				"created: %s\n", d->name, strerror(-err));
	}
	maps_del_dev(t, d->ifindex);
	ingress_release(t);
	return 0;
}

/*
 * The pins are another tcbpf's that this one cannot use or migrate (a
 * newer layout, or a migration that failed): take the programs off @d all
 * the same (hooks are found by program name, whatever the version). Of
 * layout 1 (tcbpf 0.1), which this one can read, the device's entry goes
 * too, with the qdiscs it says tcbpf made; a newer one's maps keep theirs.
 */
static int detach_foreign(struct lim *l, struct tcbpf *t, const struct dev *d,
			  bool *had)
{
	char why[sizeof(l->msg)], msg[256];
	__u32 flags = 0;
	int dir, err, ret = 0;
	bool gone;

	snprintf(why, sizeof(why), "%s", l->msg);
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		*had |= hook_mine(d->ifindex, dir) == 1;
		err = hook_detach(d->ifindex, dir);
		if (err)
			ret = fail(l, err, "%s: cannot detach %s program: %s",
				   d->name, dir_name(dir), strerror(-err));
	}
	if (ret)
		return ret;
	gone = t->pins.layout == 1 &&
	       !upgrade_forget_v1(d->netns, d->ifindex, &flags);
	*had |= gone;
	if (flags & TCBPF_F_OWN_FQ &&
	    pace_restore(d->ifindex, d->netns, msg, sizeof(msg)))
		pr_warn("%s: cannot restore the root qdisc: %s\n", d->name, msg);
	if (flags & TCBPF_F_OWN_CLSACT)
		hook_clsact_release(d->ifindex);
	if (*had)
		note(l, d->name, "%s: programs detached%s (%s)", d->name,
		     gone ? ", its entry removed from the maps of layout 1" :
		     "; its settings stay in the maps of the other tcbpf", why);
	return 0;
}

int lim_detach(struct lim *l, const char *name, bool *hadp)
{
	struct tcbpf t;
	struct txn x;
	struct dev d;
	bool had = false;
	int err;

	err = dev_resolve(l, &d, name);
	if (err == -EUSAGE)
		return err;
	err = lock(l);
	if (err)
		return err;
	err = txn_begin(l, &x, name, NULL);
	if (err)
		goto unlock;
	err = open_obj(l, &t, false);
	if (err && err != -ENOENT && t.pins.layout &&
	    t.pins.layout != TCBPF_LAYOUT && if_nametoindex(name)) {
		/* another layout's pins, not migrated: detach anyway */
		err = detach_foreign(l, &t, &d, &had);
		goto out;
	}
	if (err) {
		err = err == -ENOENT ? 0 : err;	/* nothing anywhere: done */
		goto out;
	}
	/* also the device's own entries if it is gone (its links went) */
	forget_gone(l, &t, d.ifindex);
	if (if_nametoindex(name))
		err = do_detach(l, &t, &d, &had);
	gc(l, &t);
	close_obj(l, &t);
out:
	txn_end(l, &x, err);
unlock:
	unlock(l);
	if (hadp)
		*hadp = had;
	return err;
}

static int sample(struct lim *l, unsigned int flags, struct sample_set *out)
{
	struct tcbpf t;
	int err;

	err = open_obj(l, &t, false);
	if (err && err != -ENOENT)
		return err;
	err = sample_read(err ? NULL : &t, flags, out);
	if (t.cfg_fd >= 0)
		close_obj(l, &t);
	if (err)
		return fail(l, err, "cannot read the settings map: %s",
			    strerror(-err));
	return 0;
}

int lim_show(struct lim *l, const char *dev, struct sample_set *out)
{
	struct tcbpf t;
	int err;

	/* what vanished with its device or namespace is forgotten first */
	if (!lock(l)) {
		if (!tcbpf_open_maps(&t)) {
			gone_forget(&t, false, NULL, NULL);
			gc(l, &t);
			tcbpf_close(&t);
		}
		unlock(l);
	}
	err = sample(l, SAMPLE_STATS | SAMPLE_HOOKS | SAMPLE_GONE, out);

	if (!err && dev && !sample_by_name(out, dev)) {
		sample_free(out);
		return fail(l, -ENOENT, "%s has no limiter", dev);
	}
	return err;
}

int lim_inspect(struct lim *l, const char *name, struct dev_sample *d)
{
	struct tcbpf t;
	int dir, err;

	memset(d, 0, sizeof(*d));
	snprintf(d->ifname, sizeof(d->ifname), "%s", name);
	d->ifindex = if_nametoindex(name);
	if (!d->ifindex)
		return fail(l, -ENODEV, "cannot find device \"%s\"", name);
	d->here = true;
	err = open_obj(l, &t, false);
	if (err)
		return err == -ENOENT ? 0 : err;
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		d->have[dir] = !maps_get(&t, d->ifindex, dir, &d->cfg[dir]);
		d->prog_id[dir] = t.prog_id[dir];
		d->hook_seen[dir] = d->have[dir] ?
			hook_query(d->ifindex, dir, t.prog_id[dir]) :
			TCBPF_HOOK_NONE;
	}
	close_obj(l, &t);
	return 0;
}

int lim_sample(struct lim *l, struct sample_set *out)
{
	return sample(l, SAMPLE_STATS, out);
}

/* ------------------------------------------------------ snapshot/restore */

int lim_snapshot(struct lim *l, const char *name, struct lim_snap *s)
{
	struct tcbpf t;
	int dir, err;

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->ifindex = if_nametoindex(name);
	if (!s->ifindex)
		return fail(l, -ENODEV, "cannot find device \"%s\"", name);
	err = open_obj(l, &t, false);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	for (dir = 0; dir < TCBPF_NDIR; dir++)
		s->have[dir] = !maps_get(&t, s->ifindex, dir, &s->cfg[dir]);
	close_obj(l, &t);
	return 0;
}

int lim_restore(struct lim *l, const struct lim_snap *s)
{
	struct tcbpf_cfg cfg[TCBPF_NDIR];
	struct spec sp;
	int dir;

	if (!lim_snap_has(s))
		return lim_detach(l, s->name, NULL);
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		cfg[dir] = s->cfg[s->have[dir] ? dir : !dir];
		if (!s->have[dir])	/* half a limiter: never made by tcbpf */
			cfg[dir].mode = TCBPF_MODE_MONITOR;
	}
	spec_from_cfg(&sp, cfg);
	return lim_attach(l, s->name, &sp);
}

/* ----------------------------------------------------------------- groups */

const char *lim_result_name(enum lim_result r)
{
	static const char *const names[] = {
		[LIM_NOT_ATTEMPTED] = "not-attempted",
		[LIM_DONE] = "done",
		[LIM_NOOP] = "no-limiter",
		[LIM_FAILED] = "failed",
		[LIM_ROLLED_BACK] = "rolled-back",
		[LIM_ROLLBACK_FAILED] = "rollback-failed",
	};

	return (unsigned int)r < sizeof(names) / sizeof(names[0]) ?
	       names[r] : "unknown";
}

static int apply_one(struct lim *l, struct lim_item *it)
{
	switch (it->op) {
	case LIM_ATTACH:
		return lim_attach(l, it->name, it->spec);
	case LIM_CHANGE:
		if (!lim_snap_has(&it->snap))
			break;
		return lim_change(l, it->name, it->spec);
	case LIM_DETACH:
		if (!lim_snap_has(&it->snap))
			break;
		return lim_detach(l, it->name, NULL);
	}
	it->res = LIM_NOOP;
	return 0;
}

/* Undo items[0..upto) that were done, newest first. */
static void rollback(struct lim *l, struct lim_item *items, int upto)
{
	while (upto-- > 0) {
		struct lim_item *it = &items[upto];
		int err;

		if (it->res != LIM_DONE)
			continue;
		err = lim_restore(l, &it->snap);
		it->res = err ? LIM_ROLLBACK_FAILED : LIM_ROLLED_BACK;
		it->err = err;
		if (err)
			snprintf(it->msg, sizeof(it->msg), "%s", l->msg);
	}
}

/* What the group's items ask to record, onto @set. */
static int group_records(struct lim *l, struct clamp_set *set,
			 struct lim_item *items, int n, bool done_only)
{
	struct spec r;
	int i, err;

	for (i = 0; i < n; i++) {
		struct lim_item *it = &items[i];

		if (done_only && it->res != LIM_DONE)
			continue;
		switch (it->op) {
		case LIM_ATTACH:
			err = record_in(l, set, it->name, it->spec);
			break;
		case LIM_CHANGE:
			if (!lim_snap_has(&it->snap))
				continue;
			err = recorded_spec(l, set, it->name, &r);
			if (err == -ENOENT) {
				spec_from_cfg(&r, it->snap.cfg);
				err = 0;
			}
			if (!err) {
				spec_merge(&r, it->spec);
				err = record_in(l, set, it->name, &r);
			}
			break;
		default:
			err = record_in(l, set, it->name, NULL);
			break;
		}
		if (err)
			return err;
	}
	return 0;
}

/*
 * The group's records: all of them before the kernel is touched; after,
 * the old state with only what was done.
 */
static int group_record(struct lim *l, const struct clamp_set *old,
			struct lim_item *items, int n, bool done_only)
{
	struct clamp_set set;
	int err;

	err = state_read(l, &set);
	if (err)
		return err;
	if (done_only) {
		/* from the state before the group, plus what was done */
		state_free(&set);
		err = state_save(l->o.state_dir, old, l->msg, sizeof(l->msg));
		if (!err)
			err = state_read(l, &set);
	}
	if (!err)
		err = group_records(l, &set, items, n, done_only);
	if (!err)
		err = state_write(l, &set);
	state_free(&set);
	return err;
}

int lim_apply(struct lim *l, struct lim_item *items, int n)
{
	char first[sizeof(l->msg)] = "";
	struct clamp_set old = {};
	bool rec = recording(l);
	int i, j, err, ret = 0;

	err = lock(l);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		err = lim_snapshot(l, items[i].name, &items[i].snap);
		if (err)
			goto out;
	}
	if (rec) {
		err = state_read(l, &old);
		if (!err)
			err = group_record(l, &old, items, n, false);
		if (err)
			goto out;
	}
	l->in_group = true;
	for (i = 0; i < n; i++) {
		struct lim_item *it = &items[i];

		it->res = LIM_NOT_ATTEMPTED;
		err = apply_one(l, it);
		if (it->res == LIM_NOOP)
			continue;
		it->res = err ? LIM_FAILED : LIM_DONE;
		it->err = err;
		if (!err)
			continue;
		snprintf(it->msg, sizeof(it->msg), "%s", l->msg);
		if (!ret) {
			ret = err;
			snprintf(first, sizeof(first), "%s", l->msg);
		}
		if (it->op == LIM_DETACH)
			continue;	/* detach the rest all the same */
		rollback(l, items, i);
		for (j = i + 1; j < n; j++)
			items[j].res = LIM_NOT_ATTEMPTED;
		break;
	}
	l->in_group = false;
	if (rec && ret && group_record(l, &old, items, n, true))
		pr_warn("%s\n", l->msg);
	err = ret;
out:
	l->in_group = false;
	state_free(&old);
	unlock(l);
	if (ret)
		snprintf(l->msg, sizeof(l->msg), "%s", first);
	return err;
}
