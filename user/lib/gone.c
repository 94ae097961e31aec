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
		      const struct tcbpf_dev *dev, void *ctx)
{
	const struct tcbpf_cfg *cfg = &dev->dir[maps_dev_has(dev, 0) ? 0 : 1];
	struct gone_walk *w = ctx;
	struct ns_seen *n = ns_lookup(w, key->netns, cfg->netns_ino, t->netns);
	const char *why;

	if (!n)
		return -ENOMEM;
	if (!n->alive)
		why = "its network namespace is gone";
	else if (!dev_there(n, key->ifindex, cfg->ifname))
		why = "the device is gone";
	else
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
		      const struct tcbpf_dev *dev, void *ctx)
{
	return key->netns == *(__u64 *)ctx;
}

int gone_forget(struct tcbpf *t, bool dry_run, gone_cb cb, void *ctx)
{
	struct gone_walk w = { .dry_run = dry_run, .cb = cb, .ctx = ctx };
	int i, err;

	err = maps_foreach(t, forget_one, &w);
	/* a dead namespace's programs, once nothing of it is left */
	for (i = 0; !dry_run && !err && i < w.nns; i++)
		if (!w.ns[i].alive && !maps_foreach(t, still_used, &w.ns[i].cookie))
			tcbpf_unpin_ns(t, w.ns[i].cookie);
	free(w.ns);
	return err;
}
