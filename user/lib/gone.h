/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gone.h - settings whose device or namespace no longer exists: a device
 * deleted, a namespace deleted (its cookie is never reused, so its
 * entries can never come back to life). Forgetting them removes the
 * entries, their link pins and saved qdisc, and the programs of a
 * namespace nothing is left of. Every command that takes the lock runs
 * it; the daemon on a link event (that device), a namespace that goes
 * (all), once a second (namespaces only) and once a minute (all).
 */
#ifndef TCBPF_GONE_H
#define TCBPF_GONE_H

#include <stdbool.h>
#include <linux/types.h>
#include "kern/obj.h"

/* @where: the namespace's path ("" ours or gone); @why: for people. */
typedef void (*gone_cb)(void *ctx, const char *where, const char *ifname,
			int ifindex, __u64 cookie, const char *why);

/* Walk the settings of @t's maps (all namespaces); @cb may be NULL. */
int gone_forget(struct tcbpf *t, bool dry_run, gone_cb cb, void *ctx);
/* Only the settings of namespaces that are gone: no device is looked
 * at (a map walk and one look per namespace, ~10 ms for a thousand). */
int gone_forget_ns(struct tcbpf *t, gone_cb cb, void *ctx);
/* The same for one device of @t's namespace only: what a daemon that
 * forgets on link events needs before one attach, without a walk over
 * a thousand devices' settings. */
int gone_forget_dev(struct tcbpf *t, int ifindex, gone_cb cb, void *ctx);

#endif
