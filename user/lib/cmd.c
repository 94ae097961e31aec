// SPDX-License-Identifier: GPL-2.0-only
/*
 * cmd.c - attach, change, detach.
 *
 * Every change happens under the lock file, and a command that fails puts
 * back what it did: settings first (a device whose programs are attached
 * but have no settings passes everything), hooks after, and on the way out
 * the reverse.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "lib/cmd.h"
#include "lib/cfg.h"
#include "kern/hook.h"
#include "lib/pace.h"
#include "kern/obj.h"
#include "util/log.h"

struct dev {
	const char *name;
	int ifindex;
	__u64 netns;
};

static int dev_resolve(struct dev *d, const char *name)
{
	d->name = name;
	d->netns = netns_ino();
	if (strlen(name) >= IF_NAMESIZE) {
		pr_warn("device name \"%s\" is too long\n", name);
		return -EINVAL;
	}
	d->ifindex = if_nametoindex(name);
	if (!d->ifindex) {
		pr_warn("cannot find device \"%s\"\n", name);
		return -ENODEV;
	}
	return 0;
}

/* The settings of @dir of @d, or -ENOENT. */
static int cfg_get(struct tcbpf *t, const struct dev *d, int dir,
		   struct tcbpf_cfg *cfg)
{
	struct tcbpf_key key = { .ifindex = d->ifindex, .dir = dir };

	if (bpf_map_lookup_elem(t->cfg_fd, &key, cfg))
		return -errno;
	return 0;
}

static int cfg_put(struct tcbpf *t, const struct dev *d, int dir,
		   const struct tcbpf_cfg *cfg)
{
	struct tcbpf_key key = { .ifindex = d->ifindex, .dir = dir };

	if (bpf_map_update_elem(t->cfg_fd, &key, cfg, BPF_ANY))
		return -errno;
	return 0;
}

static void cfg_del(struct tcbpf *t, const struct dev *d, int dir)
{
	struct tcbpf_key key = { .ifindex = d->ifindex, .dir = dir };

	bpf_map_delete_elem(t->cfg_fd, &key);
}

/* ifindexes are per namespace: one ifindex, one namespace. */
static int netns_check(const struct dev *d, const struct tcbpf_cfg *cfg)
{
	if (cfg->netns_ino == d->netns)
		return 0;
	pr_warn("%s: ifindex %d already has a limiter for device \"%s\" in "
		"another network namespace (inode %llu)\n", d->name, d->ifindex,
		cfg->ifname, (unsigned long long)cfg->netns_ino);
	return -EBUSY;
}

static int validate(struct spec_dir dirs[TCBPF_NDIR], const struct spec *s,
		    const char *dev)
{
	char msg[512];

	if (spec_validate(dirs, s, dev, msg, sizeof(msg))) {
		pr_warn("%s\n", msg);
		return -EUSAGE;
	}
	if (spec_warnings(dirs, dev, msg, sizeof(msg)))
		pr_warn("%s\n", msg);
	return 0;
}

/* What attach did, so that a failure can be undone. */
struct undo {
	bool had_cfg[TCBPF_NDIR];
	struct tcbpf_cfg old[TCBPF_NDIR];
	bool wrote[TCBPF_NDIR];
	bool attached[TCBPF_NDIR];
	bool made_clsact;
	bool made_fq;		/* installed fq over a saved root */
};

static void attach_undo(struct tcbpf *t, const struct dev *d, struct undo *u)
{
	int dir;

	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		if (u->attached[dir])
			hook_detach(d->ifindex, dir);
		if (!u->wrote[dir])
			continue;
		if (u->had_cfg[dir])
			cfg_put(t, d, dir, &u->old[dir]);
		else
			cfg_del(t, d, dir);
	}
	if (u->made_clsact)
		hook_clsact_release(d->ifindex);
	if (u->made_fq) {
		char msg[256];

		pace_restore(d->ifindex, d->netns, msg, sizeof(msg));
	}
	tcbpf_gc(t);
}

/*
 * Egress pacing: EDT wants fq on the device. Install (or resize) it; when
 * the kernel has none, or the device's root is a qdisc tree detach could
 * not rebuild (left alone), fall back to policing unless the operator
 * asked for pacing or a delay in this very command, which then fails:
 * never claim what is not enforced. *@made: fq installed now over a saved
 * root; *@drop_fq: tcbpf's fq is no longer wanted (after success, restore).
 */
static int egress_pacing(const struct dev *d, __u32 cmd_set,
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
	err = pace_install(d->ifindex, d->netns, cfg, owned, msg, sizeof(msg));
	if (!err) {
		cfg->flags |= TCBPF_F_OWN_FQ;
		*made = !owned;
		return 0;
	}
	if (err == -EBUSY)	/* a qdisc tree in the way: say how to clear it */
		snprintf(hint, sizeof(hint), " (tc qdisc del dev %s root, then "
			 "attach or change, to pace)", d->name);
	if ((cmd_set & SPEC_MODE) || ((cmd_set & SPEC_DELAY) && cfg->delay_ns)) {
		pr_warn("%s egress: %s needs EDT pacing with the fq qdisc, which "
			"failed: %s%s\n", d->name,
			cmd_set & SPEC_DELAY ? "\"delay\"" : "mode edt", msg, hint);
		return err;
	}
	cfg->mode = TCBPF_MODE_POLICE;
	if (err == -EBUSY) {
		/* Checked again by every attach and change: once the tree
		 * is gone, pacing starts. */
		if (!(old_flags & TCBPF_F_TREE_KEPT))
			pr_info("%s egress: %s; policing instead of pacing, "
				"delay not enforced%s\n", d->name, msg, hint);
		cfg->flags |= TCBPF_F_TREE_KEPT;
	} else {
		pr_info("%s egress: no fq qdisc (%s): policing instead of "
			"pacing, delay not enforced\n", d->name, msg);
		cfg->flags |= TCBPF_F_NO_FQ;
	}
	*drop_fq = owned;
	return 0;
}

static int pick_hook(int want, int have)
{
	if (want != TCBPF_HOOK_NONE)
		return want;
	if (have != TCBPF_HOOK_NONE)
		return have;
	return hook_have_tcx() ? TCBPF_HOOK_TCX : TCBPF_HOOK_TC;
}

static int do_attach(struct tcbpf *t, const struct dev *d, const struct spec *s)
{
	struct spec_dir dirs[TCBPF_NDIR];
	struct tcbpf_cfg cfg[TCBPF_NDIR];
	struct undo u = {};
	int dir, hook, cur, err, slot = -1;
	bool own_clsact = false, drop_fq = false;
	char msg[256];

	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		spec_defaults(&dirs[dir], dir);
		/* To the VM, pace by default (where the kernel has fq). */
		if (dir == TCBPF_EGRESS)
			dirs[dir].mode = TCBPF_MODE_EDT;
		spec_apply(&dirs[dir], &s->dir[dir]);
	}
	err = validate(dirs, s, d->name);
	if (err)
		return err;

	/* Existing settings: keep slots (and bucket state), replace the rest. */
	cur = TCBPF_HOOK_NONE;
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		u.had_cfg[dir] = !cfg_get(t, d, dir, &u.old[dir]);
		if (!u.had_cfg[dir])
			continue;
		err = netns_check(d, &u.old[dir]);
		if (err)
			return err;
		cur = u.old[dir].hook;
		own_clsact |= u.old[dir].flags & TCBPF_F_OWN_CLSACT;
	}
	hook = pick_hook(s->hook, cur);

	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		memset(&cfg[dir], 0, sizeof(cfg[dir]));
		if (u.had_cfg[dir]) {
			cfg[dir].slot = u.old[dir].slot;
		} else {
			slot = cfg_free_slot(t, slot);
			if (slot < 0) {
				pr_warn("%s: no free slot: %d device-directions "
					"already limited\n", d->name,
					TCBPF_MAX_SLOTS);
				return slot;
			}
			cfg[dir].slot = slot;
			err = cfg_slot_reset(t, slot);
			if (err)
				return err;
		}
		cfg_from_spec(&cfg[dir], &dirs[dir]);
		cfg[dir].hook = hook;
		cfg[dir].netns_ino = d->netns;
		snprintf(cfg[dir].ifname, sizeof(cfg[dir].ifname), "%s", d->name);
	}

	err = egress_pacing(d, s->dir[TCBPF_EGRESS].set, &cfg[TCBPF_EGRESS],
			    u.had_cfg[TCBPF_EGRESS] ? u.old[TCBPF_EGRESS].flags : 0,
			    &u.made_fq, &drop_fq);
	if (err)
		goto undo;

	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		if (u.had_cfg[dir])
			cfg_rescale_state(t, &u.old[dir], &cfg[dir]);
		err = cfg_put(t, d, dir, &cfg[dir]);
		if (err) {
			pr_warn("%s: cannot write settings: %s\n", d->name,
				strerror(-err));
			goto undo;
		}
		u.wrote[dir] = true;
	}

	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		int there = hook_query(d->ifindex, dir, t->prog_id[dir]);

		if (there == hook)
			continue;
		if (there != TCBPF_HOOK_NONE)	/* switching hooks */
			hook_detach(d->ifindex, dir);
		err = hook_attach(d->ifindex, dir, hook, t->prog_fd[dir],
				  &u.made_clsact);
		if (err && dir == 0 && s->hook == TCBPF_HOOK_NONE &&
		    hook == TCBPF_HOOK_TCX) {
			pr_debug("tcx attach failed (%s), trying tc\n",
				 strerror(-err));
			hook = TCBPF_HOOK_TC;
			err = hook_attach(d->ifindex, dir, hook,
					  t->prog_fd[dir], &u.made_clsact);
		}
		if (err) {
			pr_warn("%s: cannot attach %s program with hook %s: %s\n",
				d->name, dir_name(dir), hook_name(hook),
				strerror(-err));
			goto undo;
		}
		u.attached[dir] = true;
	}

	/* Record the hook actually used and who owns clsact. */
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		cfg[dir].hook = hook;
		if (own_clsact || u.made_clsact)
			cfg[dir].flags |= TCBPF_F_OWN_CLSACT;
		err = cfg_put(t, d, dir, &cfg[dir]);
		if (err)
			goto undo;
	}
	if (drop_fq && pace_restore(d->ifindex, d->netns, msg, sizeof(msg)))
		pr_warn("%s: cannot restore the root qdisc: %s\n", d->name, msg);
	return 0;
undo:
	attach_undo(t, d, &u);
	return err;
}

int cmd_attach(const struct opts *o, const char *name, const struct spec *s)
{
	struct tcbpf t;
	struct dev d;
	int lock, err;

	err = dev_resolve(&d, name);
	if (err)
		return err;
	lock = tcbpf_lock();
	if (lock < 0)
		return lock;
	err = tcbpf_open(&t, true);
	if (err) {
		pr_warn("cannot set up the limiter in %s: %s\n", TCBPF_PIN_DIR,
			strerror(-err));
		goto out;
	}
	err = do_attach(&t, &d, s);
	tcbpf_close(&t);
	if (!err && !o->json)
		pr_info("%s: limiter attached\n", d.name);
out:
	tcbpf_unlock(lock);
	return err;
}

int cmd_change(const struct opts *o, const char *name, const struct spec *s)
{
	struct spec_dir dirs[TCBPF_NDIR];
	struct tcbpf_cfg old[TCBPF_NDIR], cfg[TCBPF_NDIR];
	bool made_fq = false, drop_fq = false;
	char msg[256];
	struct tcbpf t;
	struct dev d;
	int lock, dir, err;

	if (s->hook != TCBPF_HOOK_NONE) {
		pr_warn("change cannot move %s to another hook: use attach\n",
			name);
		return -EUSAGE;
	}
	err = dev_resolve(&d, name);
	if (err)
		return err;
	lock = tcbpf_lock();
	if (lock < 0)
		return lock;
	err = tcbpf_open(&t, false);
	if (err) {
		pr_warn("%s has no limiter: attach it first\n", d.name);
		goto out;
	}
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		err = cfg_get(&t, &d, dir, &old[dir]);
		if (!err)
			err = netns_check(&d, &old[dir]);
		if (err) {
			pr_warn("%s has no limiter: attach it first\n", d.name);
			goto close;
		}
		cfg_to_spec(&dirs[dir], &old[dir]);
		/* A new pps without pburst gets a pburst derived from it. */
		if ((s->dir[dir].set & SPEC_PPS) && !(s->dir[dir].set & SPEC_PBURST))
			dirs[dir].pburst = 0;
		spec_apply(&dirs[dir], &s->dir[dir]);
	}
	err = validate(dirs, s, d.name);
	if (err)
		goto close;
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		cfg[dir] = old[dir];
		cfg_from_spec(&cfg[dir], &dirs[dir]);
	}
	err = egress_pacing(&d, s->dir[TCBPF_EGRESS].set, &cfg[TCBPF_EGRESS],
			    old[TCBPF_EGRESS].flags, &made_fq, &drop_fq);
	if (err)
		goto close;
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		cfg_rescale_state(&t, &old[dir], &cfg[dir]);
		err = cfg_put(&t, &d, dir, &cfg[dir]);
		if (err) {
			pr_warn("%s: cannot write settings: %s\n", d.name,
				strerror(-err));
			while (dir-- > 0)
				cfg_put(&t, &d, dir, &old[dir]);
			if (made_fq)
				pace_restore(d.ifindex, d.netns, msg, sizeof(msg));
			goto close;
		}
	}
	if (drop_fq && pace_restore(d.ifindex, d.netns, msg, sizeof(msg)))
		pr_warn("%s: cannot restore the root qdisc: %s\n", d.name, msg);
	if (!o->json)
		pr_info("%s: limiter changed\n", d.name);
close:
	tcbpf_close(&t);
out:
	tcbpf_unlock(lock);
	return err;
}

/* Settings entries of a device that no longer exists, found by name. */
static int detach_gone(struct tcbpf *t, const char *name)
{
	struct tcbpf_key key, next, *prev = NULL;
	struct tcbpf_cfg cfg;
	__u64 ns = netns_ino();
	int n = 0;

	while (bpf_map_get_next_key(t->cfg_fd, prev, &next) == 0) {
		key = next;
		if (bpf_map_lookup_elem(t->cfg_fd, &key, &cfg) == 0 &&
		    cfg.netns_ino == ns && !strcmp(cfg.ifname, name)) {
			hook_detach(key.ifindex, key.dir);	/* stale link pins */
			bpf_map_delete_elem(t->cfg_fd, &key);
			n++;
			prev = NULL;	/* restart: the walk's key is gone */
			continue;
		}
		prev = &key;
	}
	return n;
}

int cmd_detach(const struct opts *o, const char *name)
{
	struct tcbpf_cfg cfg;
	bool own = false, own_fq = false, had = false;
	char msg[256];
	struct tcbpf t;
	struct dev d;
	int lock, dir, err, ret = 0;

	lock = tcbpf_lock();
	if (lock < 0)
		return lock;
	err = tcbpf_open(&t, false);
	if (err) {
		if (!o->json)
			pr_info("%s: no limiter\n", name);
		goto out;	/* nothing anywhere: done */
	}
	if (dev_resolve(&d, name)) {
		/* Gone with its device: its tcx links went with it. */
		if (detach_gone(&t, name) > 0)
			pr_info("%s: removed the settings of the vanished device\n",
				name);
		goto gc;
	}
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		if (cfg_get(&t, &d, dir, &cfg) == 0) {
			/* The entry is another namespace's device with the
			 * same ifindex: this one has nothing of ours. */
			if (cfg.netns_ino != d.netns) {
				if (!o->json)
					pr_info("%s: no limiter\n", d.name);
				goto gc;
			}
			had = true;
			own |= cfg.flags & TCBPF_F_OWN_CLSACT;
			own_fq |= cfg.flags & TCBPF_F_OWN_FQ;
		}
	}
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		err = hook_detach(d.ifindex, dir);
		if (err) {
			pr_warn("%s: cannot detach %s program: %s\n", d.name,
				dir_name(dir), strerror(-err));
			ret = err;
		}
	}
	if (!ret) {
		for (dir = 0; dir < TCBPF_NDIR; dir++)
			cfg_del(&t, &d, dir);
		if (own_fq && pace_restore(d.ifindex, d.netns, msg, sizeof(msg)))
			pr_warn("%s: cannot restore the root qdisc: %s\n",
				d.name, msg);
		if (own) {
			err = hook_clsact_release(d.ifindex);
			if (err)
				pr_warn("%s: cannot remove the clsact qdisc tcbpf "
					"created: %s\n", d.name, strerror(-err));
		}
		if (!o->json)
			pr_info("%s: %s\n", d.name,
				had ? "limiter detached" : "no limiter");
	}
gc:
	tcbpf_gc(&t);
	tcbpf_close(&t);
out:
	tcbpf_unlock(lock);
	return ret;
}
