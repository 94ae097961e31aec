// SPDX-License-Identifier: GPL-2.0-only
/*
 * webhook_act.c - the daemon's side of the webhook (webhook.h), run in its
 * loop only: what the alerts of a notification do, the releases, the
 * audit log.
 *
 * Which alerts clamp what:
 * - the device: the first of the configured labels (default "device",
 *   then "instance") whose value names one: "vm-3-00c9" (any host that
 *   receives the alert) or "HOST:vm-3-00c9" (only the host whose name,
 *   full or up to the first dot, is HOST). A value whose host part is
 *   another host, such as Prometheus' own instance="10.1.2.3:9761", names
 *   nothing here and the next label is looked at. The device must exist
 *   here, in the namespace of the "netns" label (default: the daemon's).
 * - the SPEC: the annotation "tcbpf_spec", else webhook-default-spec.
 * A device that already has an enforcing clamp not made by an alert is
 * left alone: an operator's clamp is never loosened, replaced or released
 * by an alert. Alerts clamp a device only when it has no limiter or a
 * monitoring one.
 *
 * A clamp is the alerts' while its record (state.h) still carries the
 * reason "alert:FINGERPRINT" and time it was given and the kernel still has
 * the settings the alert put there; anything an operator did since (a
 * change, an attach, a detach) makes it theirs, and no alert releases it.
 * Several alerts may hold one clamp; the quiet period (webhook-release-
 * after) starts when the last of them resolved, and a new firing cancels
 * it. Release puts back the settings from before (as lim_restore() does)
 * and the record from before, byte for byte (or none).
 *
 * What a release needs is kept in STATE_DIR/webhook-clamps too
 * (webhook_save.c): a restarted daemon adopts the clamps whose records are
 * still the alerts' and releases them when their alerts resolve.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/webhook_int.h"
#include "kern/netns.h"
#include "lib/cfg.h"
#include "lib/spec_words.h"
#include "lib/words.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"

/* ------------------------------------------------------------ the audit */

/* What one alert led to, for the log line and the answer. */
struct wh_act {
	const char *action;		/* clamp, release, ... */
	const char *result;		/* done, failed, ignored, ... */
	const struct wh_req *r;		/* NULL: a release on the timer */
	const struct wh_alert *a;
	const struct wh_clamp *c;
	const char *dev, *netns, *spec;
	const struct lim_snap *before, *after;
	char why[512];
	unsigned long release_in;	/* release-scheduled: seconds */
	struct lim_snap now;		/* for before/after of a dropped clamp */
};

int wh_snap_words(const struct lim_snap *s, char *out, size_t len)
{
	struct tcbpf_cfg cfg[TCBPF_NDIR];
	char **argv = NULL, *buf = NULL;
	size_t blen = 0;
	struct spec sp;
	int argc = 0, i, dir, rc = -ENOMEM;
	FILE *f;

	out[0] = '\0';
	if (!lim_snap_has(s))
		return 0;
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		cfg[dir] = s->cfg[s->have[dir] ? dir : !dir];
		if (!s->have[dir])	/* as lim_restore() does */
			cfg[dir].mode = TCBPF_MODE_MONITOR;
	}
	spec_from_cfg(&sp, cfg);
	/* "pps none" is the whole packet bucket: a "pburst 0" beside it
	 * would not parse back (spec_from_cfg() marks every key) */
	for (dir = 0; dir < TCBPF_NDIR; dir++)
		if (!sp.dir[dir].pps)
			sp.dir[dir].set &= ~SPEC_PBURST;
	f = open_memstream(&buf, &blen);
	if (f && !spec_words(&sp, &argc, &argv)) {
		for (i = 0; i < argc; i++) {
			if (i)
				fputc(' ', f);
			words_write(f, argv[i]);
		}
		free(argv);
		rc = 0;
	}
	if (f)
		fclose(f);
	if (!rc && blen >= len)
		rc = -ENOSPC;
	if (!rc)
		snprintf(out, len, "%s", buf);
	free(buf);
	return rc;
}

static void jw_settings(json_writer_t *jw, const char *key, const struct lim_snap *s)
{
	char text[1024];

	if (!s)
		return;
	wh_snap_words(s, text, sizeof(text));
	if (text[0])
		jw_str(jw, key, text);
	else
		jw_null(jw, key);
}

static void act_write(json_writer_t *jw, const struct wh_act *x)
{
	const struct wh_alert *a = x->a;

	jw_obj_open(jw, NULL);
	jw_u64(jw, "time_ns", real_ns());
	jw_str(jw, "event", "webhook");
	jw_str(jw, "action", x->action);
	jw_str(jw, "result", x->result);
	if (x->r) {
		jw_str(jw, "remote", x->r->remote);
		if (x->r->receiver[0])
			jw_str(jw, "receiver", x->r->receiver);
	}
	if (a) {
		jw_str(jw, "alertname", a->name);
		jw_str(jw, "fingerprint", a->fp);
		jw_str(jw, "status", a->status);
	} else if (x->c) {
		jw_str(jw, "alertname", x->c->alert);
		jw_str(jw, "fingerprint", x->c->last);
	}
	if (x->c)
		jw_str(jw, "clamped_by", x->c->reason);
	if (x->dev)
		jw_str(jw, "ifname", x->dev);
	if (x->dev && x->netns && x->netns[0])
		jw_str(jw, "netns", x->netns);
	else if (x->dev)
		jw_null(jw, "netns");
	if (a && a->label[0])
		jw_str(jw, "label", a->label);
	if (x->spec)
		jw_str(jw, "spec", x->spec);
	jw_settings(jw, "before", x->before);
	jw_settings(jw, "after", x->after);
	if (x->release_in)
		jw_u64(jw, "release_in_secs", x->release_in);
	if (x->why[0])
		jw_str(jw, "why", x->why);
	jw_obj_close(jw);
}

/* One line on the event log, and the same object into the answer. */
static void audit(json_writer_t *answer, const struct wh_act *x)
{
	json_writer_t *jw = jw_new(stdout);

	if (jw) {
		act_write(jw, x);
		jw_destroy(&jw);
		fflush(stdout);
	}
	if (answer)
		act_write(answer, x);
}

/* ------------------------------------------------------ the daemon's side */

static const char *own_ns(const struct webhook *wh)
{
	return wh->o->netns ? wh->o->netns : "";
}

/*
 * Enter namespace @ns for the limiter and its records; *@self is what
 * leave() needs (-1: @ns is the daemon's own, nothing entered). 0 or the
 * negative errno of netns_push().
 */
static int enter(struct webhook *wh, struct lim *l, const char *ns, int *self)
{
	*self = -1;
	if (strcmp(ns, own_ns(wh))) {
		*self = netns_push(ns);
		if (*self < 0)
			return *self;
	}
	lim_set_netns_name(l, ns);
	return 0;
}

static void leave(struct webhook *wh, struct lim *l, int self)
{
	lim_set_netns_name(l, own_ns(wh));
	netns_pop(self);
}

static struct wh_clamp *clamp_find(struct webhook *wh, const char *ns, const char *dev)
{
	int i;

	for (i = 0; i < wh->nc; i++)
		if (!strcmp(wh->c[i].netns, ns) && !strcmp(wh->c[i].dev, dev))
			return &wh->c[i];
	return NULL;
}

void wh_clamp_drop(struct webhook *wh, struct wh_clamp *c)
{
	wh->dirty = true;
	free(c->old.argv);
	free(c->old.reason);
	*c = wh->c[--wh->nc];
}

static bool same_cfg(const struct tcbpf_cfg *a, const struct tcbpf_cfg *b)
{
	return a->mode == b->mode && a->delay_ns == b->delay_ns &&
	       a->horizon_ns == b->horizon_ns && a->ecn_ns == b->ecn_ns &&
	       a->nports == b->nports &&
	       !memcmp(a->ports, b->ports, sizeof(a->ports)) &&
	       !memcmp(a->cls, b->cls, sizeof(a->cls));
}

static bool same_snap(const struct lim_snap *a, const struct lim_snap *b)
{
	int dir;

	if (a->ifindex != b->ifindex)
		return false;
	for (dir = 0; dir < TCBPF_NDIR; dir++)
		if (a->have[dir] != b->have[dir] ||
		    (a->have[dir] && !same_cfg(&a->cfg[dir], &b->cfg[dir])))
			return false;
	return true;
}

static int record_load(struct webhook *wh, struct clamp_set *set)
{
	char err[256];

	memset(set, 0, sizeof(*set));
	if (state_load(wh->o->state_dir, set, err, sizeof(err))) {
		pr_warn("webhook: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

/*
 * Still the alerts' clamp (in its namespace): the record is the one the
 * alert wrote and the kernel has what it put there. @now: the settings.
 */
static bool still_ours(struct webhook *wh, struct lim *l, const struct wh_clamp *c,
		       struct lim_snap *now, char *why, size_t len)
{
	struct clamp_set set;
	const struct clamp *rec;
	bool ok;

	if (lim_snapshot(l, c->dev, now)) {
		snprintf(why, len, "the device is gone");
		return false;
	}
	if (!same_snap(now, &c->after)) {
		snprintf(why, len, "its settings were changed since the alert "
			 "clamped it: not the alerts' clamp any more");
		return false;
	}
	if (record_load(wh, &set)) {
		snprintf(why, len, "the recorded state cannot be read");
		return false;
	}
	rec = state_find(&set, c->netns, c->dev);
	ok = rec && rec->at == c->at && rec->reason && !strcmp(rec->reason, c->reason);
	if (!ok)
		snprintf(why, len, "its record was replaced since the alert "
			 "clamped it: not the alerts' clamp any more");
	state_free(&set);
	return ok;
}

static bool enforcing(const struct lim_snap *s)
{
	int dir;

	for (dir = 0; dir < TCBPF_NDIR; dir++)
		if (s->have[dir] && s->cfg[dir].mode != TCBPF_MODE_MONITOR)
			return true;
	return false;
}

static int spec_of(const struct webhook *wh, const struct wh_alert *a,
		   const char **text, struct spec *sp, char *why, size_t len)
{
	char err[256], **argv;
	int argc, rc;

	*text = a->spec ? a->spec : wh->cfg.default_spec;
	if (!**text) {
		snprintf(why, len, "no %s annotation and no webhook-default-spec",
			 wh->cfg.spec_annotation);
		return -EINVAL;
	}
	rc = words_split(*text, &argc, &argv, err, sizeof(err));
	if (!rc) {
		rc = spec_parse(sp, argc, argv, err, sizeof(err));
		free(argv);
	}
	if (rc)
		snprintf(why, len, "bad SPEC \"%s\": %s", *text, err);
	return rc;
}

/* The record of the device before the alert, kept to be put back. */
static int remember_record(struct webhook *wh, struct wh_clamp *c)
{
	struct clamp_set set;
	const struct clamp *rec;
	int err = record_load(wh, &set);

	if (err)
		return err;
	rec = state_find(&set, c->netns, c->dev);
	if (rec) {
		c->had_record = true;
		c->old = *rec;
		c->old.argv = words_dup(rec->argc, rec->argv);
		c->old.reason = rec->reason ? strdup(rec->reason) : NULL;
		if (!c->old.argv || (rec->reason && !c->old.reason))
			err = -ENOMEM;
	}
	state_free(&set);
	return err;
}

/* The record's time after the alert's attach: what identifies it later. */
static void record_time(struct webhook *wh, struct wh_clamp *c)
{
	struct clamp_set set;
	const struct clamp *rec;

	if (record_load(wh, &set))
		return;
	rec = state_find(&set, c->netns, c->dev);
	c->at = rec ? rec->at : -1;
	state_free(&set);
}

/* In the namespace already: clamp @x->dev for alert @a. */
static void clamp_new(struct webhook *wh, struct lim *l, struct wh_act *x)
{
	const struct wh_alert *a = x->a;
	struct wh_clamp *c;
	struct spec sp;
	int err;

	x->action = "clamp";
	x->result = "ignored";
	if (spec_of(wh, a, &x->spec, &sp, x->why, sizeof(x->why)))
		return;
	if (wh->nc == WH_MAX_CLAMPS) {
		snprintf(x->why, sizeof(x->why), "%d alert clamps already", wh->nc);
		return;
	}
	c = &wh->c[wh->nc];
	memset(c, 0, sizeof(*c));
	if (lim_snapshot(l, x->dev, &c->before)) {
		snprintf(x->why, sizeof(x->why), "%s", lim_msg(l));
		return;
	}
	x->before = &c->before;
	if (enforcing(&c->before)) {
		snprintf(x->why, sizeof(x->why), "clamped already, not by an alert: "
			 "an operator's clamp is left alone");
		return;
	}
	err = wh_snap_words(&c->before, c->before_words, sizeof(c->before_words));
	if (err) {
		snprintf(x->why, sizeof(x->why), "cannot keep the settings from "
			 "before: %s", strerror(-err));
		return;
	}
	snprintf(c->netns, sizeof(c->netns), "%s", x->netns);
	snprintf(c->dev, sizeof(c->dev), "%s", x->dev);
	snprintf(c->fps[0], sizeof(c->fps[0]), "%s", a->fp);
	snprintf(c->alert, sizeof(c->alert), "%s", a->name);
	snprintf(c->reason, sizeof(c->reason), "alert:%s", a->fp);
	c->nfp = 1;
	x->result = "failed";
	err = remember_record(wh, c);
	if (err) {
		snprintf(x->why, sizeof(x->why), "cannot read the record: %s",
			 strerror(-err));
		goto fail;
	}
	lim_set_reason(l, c->reason);
	err = lim_attach(l, x->dev, &sp);
	lim_set_reason(l, NULL);
	if (err) {
		snprintf(x->why, sizeof(x->why), "%s", lim_msg(l));
		goto fail;
	}
	lim_snapshot(l, x->dev, &c->after);
	wh_snap_words(&c->after, c->after_words, sizeof(c->after_words));
	record_time(wh, c);
	x->after = &c->after;
	x->c = c;
	x->result = "done";
	wh->nc++;
	wh->dirty = true;
	return;
fail:
	free(c->old.argv);
	free(c->old.reason);
}

static void on_firing(struct webhook *wh, struct lim *l, struct wh_act *x)
{
	struct wh_clamp *c = clamp_find(wh, x->netns, x->dev);
	const struct wh_alert *a = x->a;
	int i;

	if (!c) {
		clamp_new(wh, l, x);
		return;
	}
	x->action = "clamp";
	x->c = c;
	if (!still_ours(wh, l, c, &x->now, x->why, sizeof(x->why))) {
		x->result = "ignored";
		x->before = &x->now;
		wh_clamp_drop(wh, c);
		x->c = NULL;
		return;
	}
	x->before = x->after = &c->after;
	x->result = "unchanged";
	for (i = 0; i < c->nfp && strcmp(c->fps[i], a->fp); i++)
		;
	if (i == c->nfp && c->nfp < WH_MAX_FP) {
		snprintf(c->fps[c->nfp++], sizeof(c->fps[0]), "%s", a->fp);
		wh->dirty = true;
		snprintf(x->why, sizeof(x->why), "clamped by alert %s already; "
			 "held by %d alerts now", c->fps[0], c->nfp);
	}
	if (c->release_at) {
		c->release_at = 0;
		wh->dirty = true;
		x->result = "release-cancelled";
		snprintf(x->why, sizeof(x->why), "firing again in the quiet period");
	}
}

static void on_resolved(struct webhook *wh, struct lim *l, struct wh_act *x)
{
	struct wh_clamp *c = clamp_find(wh, x->netns, x->dev);
	int i;

	x->action = "release-scheduled";
	x->result = "ignored";
	for (i = 0; c && i < c->nfp && strcmp(c->fps[i], x->a->fp); i++)
		;
	if (!c || i == c->nfp) {
		snprintf(x->why, sizeof(x->why), "%s", c ?
			 "the device's clamp is held by other alerts" :
			 "no clamp of this alert on the device (none made, released, "
			 "taken over by an operator)");
		return;
	}
	x->c = c;
	memmove(&c->fps[i], &c->fps[i + 1], (c->nfp - i - 1) * sizeof(c->fps[0]));
	c->nfp--;
	wh->dirty = true;
	if (c->nfp) {
		x->result = "unchanged";
		snprintf(x->why, sizeof(x->why), "still held by %d alert%s", c->nfp,
			 c->nfp > 1 ? "s" : "");
		return;
	}
	if (!c->release_at)
		c->release_at = mono_ns() + wh->cfg.release_after * NSEC_PER_SEC;
	snprintf(c->last, sizeof(c->last), "%s", x->a->fp);
	x->result = "done";
	x->release_in = (c->release_at - mono_ns() + NSEC_PER_SEC - 1) / NSEC_PER_SEC;
	if (!x->release_in)
		x->release_in = 1;	/* 0 reads as "not scheduled" */
}

/* One alert of a notification. */
static void on_alert(struct webhook *wh, struct lim *l, const struct wh_req *r,
		     const struct wh_alert *a, json_writer_t *answer)
{
	struct wh_act x = { .r = r, .a = a, .dev = a->dev };
	char err[256];
	int self;

	x.netns = a->netns[0] ? a->netns : own_ns(wh);
	x.action = a->firing ? "clamp" : "release-scheduled";
	x.result = "ignored";
	if (!a->dev[0]) {
		x.dev = NULL;
		snprintf(x.why, sizeof(x.why), "%s", a->why);
	} else if (state_check_netns(x.netns, err, sizeof(err))) {
		snprintf(x.why, sizeof(x.why), "label %s: %s", wh->cfg.netns_label, err);
	} else if (enter(wh, l, x.netns, &self)) {
		snprintf(x.why, sizeof(x.why), "no namespace \"%s\" here", x.netns);
	} else if (!if_nametoindex(a->dev)) {
		snprintf(x.why, sizeof(x.why), "no device %s here", a->dev);
		leave(wh, l, self);
	} else {
		if (a->firing)
			on_firing(wh, l, &x);
		else
			on_resolved(wh, l, &x);
		leave(wh, l, self);
	}
	audit(answer, &x);
}

void wh_answer(struct webhook *wh, struct lim *l, struct wh_req *r)
{
	json_writer_t *jw;
	FILE *f;
	int i;

	if (r->refused) {
		struct wh_act x = { .action = "refused", .r = r };

		x.result = r->refused == MHD_HTTP_UNAUTHORIZED ? "401" :
			   r->refused == MHD_HTTP_BAD_REQUEST ? "400" : "413";
		snprintf(x.why, sizeof(x.why), "%s", r->why);
		audit(NULL, &x);
		return;
	}
	f = open_memstream(&r->reply, &r->reply_len);
	jw = f ? jw_new(f) : NULL;
	if (jw) {
		jw_obj_open(jw, NULL);
		jw_arr_open(jw, "actions");
	}
	for (i = 0; i < r->n; i++)
		on_alert(wh, l, r, &r->a[i], jw);
	if (jw) {
		jw_arr_close(jw);
		jw_obj_close(jw);
		jw_destroy(&jw);
	}
	if (f)
		fclose(f);
}

/* Put the record from before back (or none), under the caller's lock. */
static int record_restore(struct webhook *wh, const struct wh_clamp *c)
{
	struct clamp_set set;
	char err[256];
	int rc = record_load(wh, &set);

	if (rc)
		return rc;
	state_del(&set, c->netns, c->dev);
	rc = c->had_record ? state_set(&set, &c->old, err, sizeof(err)) : 0;
	if (!rc)
		rc = state_save(wh->o->state_dir, &set, err, sizeof(err));
	if (rc)
		pr_warn("webhook: %s: cannot put its record back: %s\n", c->dev, err);
	state_free(&set);
	return rc;
}

/*
 * The settings from before: @c->before_words over the defaults, as
 * lim_restore() attaches a snapshot (spec_words() of it parse back
 * exactly), or detached when there were none.
 */
static int restore_words(struct lim *l, const struct wh_clamp *c)
{
	char err[256], **argv;
	struct spec sp;
	int argc, rc;

	if (!c->before_words[0])
		return lim_detach(l, c->dev, NULL);
	rc = words_split(c->before_words, &argc, &argv, err, sizeof(err));
	if (!rc) {
		rc = spec_parse(&sp, argc, argv, err, sizeof(err));
		free(argv);
	}
	if (rc) {
		pr_warn("webhook: %s: the settings from before do not parse (%s): %s\n",
			c->dev, c->before_words, err);
		return rc;
	}
	return lim_attach(l, c->dev, &sp);
}

/* In the namespace already: release @c, quiet for long enough. */
static void release(struct webhook *wh, struct lim *l, struct wh_clamp *c)
{
	struct wh_act x = { .action = "release", .c = c, .dev = c->dev,
			    .netns = c->netns };
	struct lim_snap now, after;
	int err;

	if (!still_ours(wh, l, c, &now, x.why, sizeof(x.why))) {
		x.action = "release-skipped";
		x.result = "ignored";
		x.before = x.after = &now;
		audit(NULL, &x);
		return;
	}
	x.before = &now;
	err = lim_lock(l);
	if (!err) {
		/* the kernel's part unrecorded: the record goes back whole */
		lim_set_recording(l, false);
		err = restore_words(l, c);
		lim_set_recording(l, true);
		if (err)
			snprintf(x.why, sizeof(x.why), "%s", lim_msg(l));
		else if (record_restore(wh, c))
			snprintf(x.why, sizeof(x.why), "settings restored, but not "
				 "the record from before (see stderr)");
		lim_unlock(l);
	} else {
		snprintf(x.why, sizeof(x.why), "%s", lim_msg(l));
	}
	x.result = err ? "failed" : "done";
	if (!lim_snapshot(l, c->dev, &after))
		x.after = &after;
	audit(NULL, &x);
}

void wh_releases_due(struct webhook *wh, struct lim *l)
{
	__u64 now = mono_ns();
	int i, self;

	for (i = 0; i < wh->nc; i++) {
		struct wh_clamp *c = &wh->c[i];

		if (!c->release_at || now < c->release_at || c->unchecked)
			continue;
		if (!enter(wh, l, c->netns, &self)) {
			release(wh, l, c);
			leave(wh, l, self);
		} else {
			struct wh_act x = { .action = "release", .result = "failed",
					    .c = c, .dev = c->dev, .netns = c->netns };

			snprintf(x.why, sizeof(x.why), "no namespace \"%s\" any more",
				 c->netns);
			audit(NULL, &x);
		}
		wh_clamp_drop(wh, c);
		i--;
	}
}

/*
 * One clamp read from the file, in its namespace: 1 still the alerts' (the
 * record is the one the alert wrote), 0 not, -ENODEV not decided yet (the
 * device is not there: its VM not started again).
 */
static int adopt_one(struct webhook *wh, struct lim *l, struct wh_clamp *c,
		     struct wh_act *x)
{
	char now[sizeof(c->after_words)];
	struct clamp_set set;
	const struct clamp *rec;
	int ret = 0;

	if (lim_snapshot(l, c->dev, &c->after))
		return -ENODEV;
	if (wh_snap_words(&c->after, now, sizeof(now)) || strcmp(now, c->after_words)) {
		snprintf(x->why, sizeof(x->why), "its settings were changed while "
			 "the daemon was down: not the alerts' clamp any more");
		return 0;
	}
	if (record_load(wh, &set)) {
		snprintf(x->why, sizeof(x->why), "the recorded state cannot be read");
		return 0;
	}
	rec = state_find(&set, c->netns, c->dev);
	if (!rec || rec->at != c->at || !rec->reason || strcmp(rec->reason, c->reason))
		snprintf(x->why, sizeof(x->why), "its record was replaced while the "
			 "daemon was down: not the alerts' clamp any more");
	else
		ret = 1;
	state_free(&set);
	return ret;
}

void wh_adopt(struct webhook *wh, struct lim *l)
{
	int i, self, rc;

	wh->unchecked = false;
	for (i = 0; i < wh->nc; i++) {
		struct wh_clamp *c = &wh->c[i];
		struct wh_act x = { .action = "adopt", .result = "ignored", .c = c,
				    .dev = c->dev, .netns = c->netns };

		if (!c->unchecked)
			continue;
		rc = -ENODEV;
		if (!enter(wh, l, c->netns, &self)) {
			rc = adopt_one(wh, l, c, &x);
			leave(wh, l, self);
		}
		if (rc == -ENODEV) {
			wh->unchecked = true;	/* again when it is there */
			continue;
		}
		if (rc == 1) {
			c->unchecked = false;
			x.result = "done";
			x.after = &c->after;
			audit(NULL, &x);
			continue;
		}
		audit(NULL, &x);
		wh_clamp_drop(wh, c);
		i--;
	}
}
