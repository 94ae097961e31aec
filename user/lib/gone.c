// SPDX-License-Identifier: GPL-2.0-only
/*
 * gone.c - settings of devices and namespaces that no longer exist
 * (gone.h): found and forgotten, with what hangs on them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "lib/gone.h"
#include "lib/maps.h"
#include "lib/pace.h"
#include "kern/hook.h"
#include "kern/netns.h"

/* What is known of one namespace cookie during a walk. */
struct ns_seen {
	__u64 cookie;
	bool alive;
	char where[256];	/* its path; "" = ours */
};

struct gone_walk {
	struct ns_seen *ns;
	int nns;
	bool dry_run;
	bool ns_only;		/* only what went with its namespace */
	gone_cb cb;
	void *ctx;
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
	if (cookie == self)
		n->alive = true;
	else
		n->alive = netns_alive(ino, cookie, n->where, sizeof(n->where));
	return n;
}

/*
 * Is the device of entry @key/@cfg in namespace @n still the one that was
 * limited? NULL when it is, else why not. Name and ifindex are not enough:
 * a device deleted and made again gets both back (an ifindex given with
 * `ip link add ... index N`, or the next free one), but it carries no
 * program of ours: tcx links and cls_bpf filters go with their device.
 * Settings without programs in both directions are also what a killed
 * attach leaves; the record, not the entry, says what is wanted there, so
 * forgetting is right for both, with what of ours is still on the device
 * (one direction's program, a clsact tcbpf made if nothing else is on it).
 */
static const char *dev_changed(const struct ns_seen *n,
			       const struct tcbpf_key *key,
			       const struct tcbpf_cfg *cfg, bool dry_run)
{
	const char *why = NULL;
	char got[IF_NAMESIZE];
	int self = -1, dir;

	if (n->where[0]) {
		self = netns_push(n->where);
		if (self < 0)
			return NULL;	/* cannot look: leave it */
	}
	if (!if_indextoname(key->ifindex, got) || strcmp(got, cfg->ifname)) {
		why = "the device is gone";
		goto out;
	}
	for (dir = 0; dir < TCBPF_NDIR; dir++)
		if (!hook_mine(key->ifindex, dir))
			why = "its programs are not on the device (made again, "
			      "or a killed attach)";
	if (why && !dry_run) {
		for (dir = 0; dir < TCBPF_NDIR; dir++)
			hook_detach(key->ifindex, dir);
		if (cfg->flags & TCBPF_F_OWN_CLSACT)
			hook_clsact_release(key->ifindex);
	}
out:
	netns_pop(self);
	return why;
}

static int forget_one(struct tcbpf *t, const struct tcbpf_key *key,
		      const struct maps_dev *dev, void *ctx)
{
	const struct tcbpf_cfg *cfg = &dev->dir[maps_dev_has(dev, 0) ? 0 : 1];
	struct gone_walk *w = ctx;
	struct ns_seen *n = ns_lookup(w, key->netns, cfg->netns_ino, t->netns);
	const char *why;

	if (!n)
		return -ENOMEM;
	if (!n->alive)
		why = "its network namespace is gone";
	else if (w->ns_only || !(why = dev_changed(n, key, cfg, w->dry_run)))
		return 0;
	if (w->cb)
		w->cb(w->ctx, n->where, cfg->ifname, key->ifindex, key->netns, why);
	if (w->dry_run)
		return 0;
	maps_del_key(t, key);
	tcbpf_forget_dev(t, key->netns, key->ifindex);
	pace_forget(key->ifindex, key->netns);
	return 0;
}

static int still_used(struct tcbpf *t, const struct tcbpf_key *key,
		      const struct maps_dev *dev, void *ctx)
{
	return key->netns == *(__u64 *)ctx;
}

static int walk(struct tcbpf *t, bool dry_run, bool ns_only, gone_cb cb,
		void *ctx)
{
	struct gone_walk w = { .dry_run = dry_run, .ns_only = ns_only,
			       .cb = cb, .ctx = ctx };
	int i, err;

	err = maps_foreach(t, forget_one, &w);
	/* a dead namespace's programs, once nothing of it is left */
	for (i = 0; !dry_run && !err && i < w.nns; i++)
		if (!w.ns[i].alive && !maps_foreach(t, still_used, &w.ns[i].cookie))
			tcbpf_unpin_ns(t, w.ns[i].cookie);
	free(w.ns);
	return err;
}

int gone_forget(struct tcbpf *t, bool dry_run, gone_cb cb, void *ctx)
{
	return walk(t, dry_run, false, cb, ctx);
}

int gone_forget_ns(struct tcbpf *t, gone_cb cb, void *ctx)
{
	return walk(t, false, true, cb, ctx);
}

int gone_forget_dev(struct tcbpf *t, int ifindex, gone_cb cb, void *ctx)
{
	struct gone_walk w = { .cb = cb, .ctx = ctx };
	struct tcbpf_key key = { .netns = t->netns, .ifindex = ifindex };
	struct tcbpf_cfg cfg[TCBPF_NDIR];
	struct maps_dev dev = {};
	bool have[TCBPF_NDIR];
	int dir, err;

	err = maps_get_dev(t, ifindex, cfg, have);
	if (err)
		return err == -ENOENT ? 0 : err;
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		dev.dir[dir] = cfg[dir];
		if (have[dir])
			dev.dirs |= 1U << dir;
	}
	err = forget_one(t, &key, &dev, &w);
	free(w.ns);
	return err;
}
