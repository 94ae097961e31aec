/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * limiter.h - the limiter library: what every front end (the CLI, watch,
 * the exporters, a daemon) calls to put limiters on devices, change them,
 * take them off and look at them.
 *
 * It prints nothing. Each call returns 0 or a negative errno; on failure
 * lim_msg() holds one line that names the device, key or value at fault.
 * -EUSAGE marks what the caller asked wrongly (exit 2 for the CLI), any
 * other errno a failure at run time. Notes that are not failures (egress
 * falls back to policing for want of fq, ...) go to the note callback.
 *
 * Every call that changes something holds /run/tcbpf.lock; lim_apply()
 * holds it once for a whole group of devices. Devices are looked up in
 * the network namespace the caller is in (see netns_enter()).
 */
#ifndef TCBPF_LIMITER_H
#define TCBPF_LIMITER_H

#include <stdbool.h>
#include <net/if.h>
#include <linux/types.h>
#include "tcbpf.h"
#include "lib/spec.h"
#include "lib/sample.h"

struct lim;

struct lim_opts {
	/* "DEV egress: no fq qdisc (...): policing instead of pacing" */
	void (*note)(void *ctx, const char *dev, const char *msg);
	void *ctx;
	/*
	 * Where attach, change and detach record what was asked (state.h),
	 * in the same locked transaction as the maps; NULL: not recorded.
	 */
	const char *state_dir;
	/* The /run/netns name the caller entered, for the records ("": its own). */
	const char *netns_name;
	/* Keep the programs loaded when the last device goes (a daemon). */
	bool keep_loaded;
};

/* The default of state_dir for front ends. */
#define LIM_STATE_DIR	"/var/lib/tcbpf"

int lim_open(struct lim **l, const struct lim_opts *o);
void lim_close(struct lim *l);

/* The message of the last failure. */
const char *lim_msg(const struct lim *l);

/* Hold the lock across several calls (they nest). */
int lim_lock(struct lim *l);
void lim_unlock(struct lim *l);

/* Keep the programs loaded when the last device goes (a daemon). */
void lim_keep_loaded(struct lim *l, bool on);

/* Load (and pin) the programs of the caller's namespace now, so that the
 * first attach there does not wait for the verifier. */
int lim_preload(struct lim *l);

/*
 * Bring what another tcbpf pinned to this build (lib/upgrade.h): migrate
 * an older layout, swap this build's programs into every hook. Any call
 * that opens the pins migrates an older layout by itself; only this (and
 * lim_preload, a daemon starting) swaps programs of the same layout.
 */
struct upgrade_report;
int lim_upgrade(struct lim *l, struct upgrade_report *r);

/* Record attach/change/detach (default) or not (reconciling records). */
void lim_set_recording(struct lim *l, bool on);

/* Many devices at once (reconciling): a device not asked for a hook and
 * without one gets tc, as in a group (lim_apply), not tcx. */
void lim_set_bulk(struct lim *l, bool on);

/* Unpin what no device needs (unless kept loaded: daemon, records). */
void lim_gc(struct lim *l);

/* The namespace name records get from now on (after netns_push()). */
void lim_set_netns_name(struct lim *l, const char *name);

/* Why the next attach or change is done, for its record (NULL: a change
 * keeps the record's reason). The string must outlive the call. */
void lim_set_reason(struct lim *l, const char *reason);

/* Install the limiter on @dev with @s over the defaults; if there,
 * replace its settings (bucket state and counters kept). */
int lim_attach(struct lim *l, const char *dev, const struct spec *s);

/* Change only what @s sets, live. -ENOENT: no limiter on @dev. */
int lim_change(struct lim *l, const char *dev, const struct spec *s);

/* Remove everything tcbpf put on @dev; 0 also when there was nothing
 * (*@had, if given, says which). */
int lim_detach(struct lim *l, const char *dev, bool *had);

/*
 * The devices of this namespace that have settings, with counters and the
 * hooks seen (also those whose device is gone: here == false); only @dev
 * when given (-ENOENT, named, when it has none).
 */
int lim_show(struct lim *l, const char *dev, struct sample_set *out);

/*
 * One device of this namespace: settings and the hooks seen (no counters),
 * without walking the others. -ENODEV: no such device.
 */
int lim_inspect(struct lim *l, const char *name, struct dev_sample *d);

/*
 * Counters of the devices of this namespace that have settings and still
 * exist; nothing asked of the kernel but the maps: for periodic loops.
 */
int lim_sample(struct lim *l, struct sample_set *out);

/* What tcbpf had on a device, to put back later. */
struct lim_snap {
	char name[IF_NAMESIZE];
	int ifindex;
	bool have[TCBPF_NDIR];
	struct tcbpf_cfg cfg[TCBPF_NDIR];
};

/* Take the settings of @name (none: have[] false). -ENODEV: no device. */
int lim_snapshot(struct lim *l, const char *name, struct lim_snap *s);

/* Put @s back: its settings again, or detach when it had none. */
int lim_restore(struct lim *l, const struct lim_snap *s);

static inline bool lim_snap_has(const struct lim_snap *s)
{
	return s->have[TCBPF_INGRESS] || s->have[TCBPF_EGRESS];
}

/* One device of a group. */
enum lim_op { LIM_ATTACH, LIM_CHANGE, LIM_DETACH };

enum lim_result {
	LIM_NOT_ATTEMPTED = 0,
	LIM_DONE,
	LIM_NOOP,		/* change/detach: the device had no limiter */
	LIM_FAILED,
	LIM_ROLLED_BACK,
	LIM_ROLLBACK_FAILED,
};

struct lim_item {
	char name[IF_NAMESIZE];
	enum lim_op op;
	const struct spec *spec;	/* attach, change */
	/* out */
	struct lim_snap snap;		/* before the group touched it */
	enum lim_result res;
	int err;
	char msg[512];
};

/*
 * Apply @items under one hold of the lock. attach and change are all or
 * nothing: when one device fails, the ones done before it get their
 * snapshot back (detached if they had no limiter) and the ones after it
 * are not attempted. detach goes on past a failure (there is nothing
 * better to go back to). Returns the first failure's error.
 */
int lim_apply(struct lim *l, struct lim_item *items, int n);

const char *lim_result_name(enum lim_result r);

#endif
