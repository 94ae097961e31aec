// SPDX-License-Identifier: GPL-2.0-only
/*
 * daemon.c - `tcbpf apply [--check]` and `tcbpf daemon`: the machine made
 * what the recorded state (/var/lib/tcbpf/clamps) and the standing
 * policies (/etc/tcbpf/NAME.conf) ask, once or for as long as it runs.
 *
 * The daemon reconciles at start (after a reboot: every recorded clamp
 * again), then follows rtnetlink link events in its own namespace and in
 * every namespace the state or the policies name: a recorded device that
 * comes (back) is clamped at once, a device that goes has its settings
 * forgotten (and what went with a namespace, within a second; the walk
 * over every setting runs every SWEEP_TICKS seconds); once a second it
 * rereads the state file when it changed.
 * SIGHUP rereads the policies.
 * It keeps the programs loaded, so a clamp never waits for the verifier.
 * Its event log is JSON lines on stdout; messages go to stderr.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/loop.h"
#include "cli/print.h"
#include "cli/webhook.h"
#include "lib/reconcile.h"
#include "kern/linkwatch.h"
#include "kern/netns.h"
#include "util/clock.h"
#include "util/log.h"

#define TICK_MS		1000
/*
 * The walk over every device's settings (lib/gone.c) costs ~0.15 ms a
 * device: a second of it a second on a host of 7000 clamps, and a link
 * event that comes during it waits. A link that goes has its own
 * settings forgotten, a watched namespace whose name goes triggers the
 * walk at once; each tick forgets what went with a namespace (no device
 * looked at: any namespace, named or not, within a second), and the
 * whole walk runs every SWEEP_TICKS ticks for what no event reports (a
 * device of an unwatched namespace).
 */
#define SWEEP_TICKS	60
#define MAX_WATCH	256

/* ------------------------------------------------------------- printing */

static void print_action(const struct rec_action *a, bool dry_run, __u64 ts)
{
	const char *result = dry_run ? "planned" : a->kind == REC_WAIT ? "waiting" :
			     a->err ? "failed" : "done";

	print_open_object(NULL);
	if (ts)
		print_u64(PRINT_JSON, "time_ns", NULL, ts);
	print_string(PRINT_ANY, "action", "%-8s", rec_kind_name(a->kind));
	print_string(PRINT_ANY, "ifname", " %s", a->ifname);
	if (a->netns[0])
		print_string(PRINT_ANY, "netns", " (netns %s)", a->netns);
	else
		print_null(PRINT_JSON, "netns", NULL);
	if (a->ifindex)
		print_u64(PRINT_JSON, "ifindex", NULL, a->ifindex);
	print_string(PRINT_ANY, "why", ": %s", a->why);
	print_string(PRINT_ANY, "result", " [%s]", result);
	if (a->err) {
		print_string(PRINT_JSON, "error", NULL, strerror(-a->err));
		print_string(PRINT_ANY, "message", ": %s", a->msg);
	}
	print_text("\n");
	print_close_object();
}

static int load_inputs(const struct opts *o, struct clamp_set *state,
		       struct policy_set *pol)
{
	char err[512];

	memset(state, 0, sizeof(*state));
	memset(pol, 0, sizeof(*pol));
	if (state_load(o->state_dir, state, err, sizeof(err))) {
		pr_warn("%s\n", err);
		return -EINVAL;
	}
	if (policy_load(o->config_dir, pol, err, sizeof(err))) {
		pr_warn("%s\n", err);
		state_free(state);
		return -EINVAL;
	}
	return 0;
}

/* --------------------------------------------------------------- apply */

int cmd_apply(const struct opts *o, int argc, char **argv)
{
	struct clamp_set state;
	struct policy_set pol;
	struct rec_plan plan = {};
	bool check = false;
	struct lim *l;
	int i, err, failed = 0;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--check") || !strcmp(argv[i], "check"))
			check = true;
		else
			return usage_error("apply: what is \"%s\"?", argv[i]);
	}
	err = load_inputs(o, &state, &pol);
	if (err)
		return err;
	l = cli_lim(o);
	if (!l) {
		err = -ENOMEM;
		goto out;
	}
	err = lim_reconcile(l, &state, &pol, check, NULL, NULL, &plan);
	print_start(o->json);
	print_open_array(NULL);
	for (i = 0; i < plan.n; i++) {
		print_action(&plan.v[i], check, 0);
		failed += plan.v[i].err != 0;
	}
	print_close_array();
	print_end();
	if (!o->json && !plan.n)
		cli_info("nothing to do: the machine is as recorded\n");
	if (err && !failed)
		cli_fail(l, err);
	lim_close(l);
out:
	rec_plan_free(&plan);
	state_free(&state);
	policy_free(&pol);
	return err ? err : failed ? -EIO : 0;
}

/* -------------------------------------------------------------- daemon */

struct watch_ns {
	char name[NAME_MAX + 1];	/* "" = ours */
	struct linkwatch *lw;
	__u64 ino;			/* of /run/netns/NAME when opened */
};

struct daemon {
	const struct opts *o;
	struct lim *l;
	struct clamp_set state;
	struct policy_set pol;
	struct timespec state_mtime;
	struct watch_ns w[MAX_WATCH];
	int nw;
	bool gone;			/* a device went: forget */
	struct webhook *wh;		/* Alertmanager receiver (webhook.h) */
};

static void log_plan(const struct rec_plan *plan)
{
	__u64 ts = real_ns();
	int i;

	for (i = 0; i < plan->n; i++) {
		print_start(true);
		print_action(&plan->v[i], false, ts);
		print_end();
	}
}

static void event(const char *what, const char *detail)
{
	print_start(true);
	print_open_object(NULL);
	print_u64(PRINT_JSON, "time_ns", NULL, real_ns());
	print_string(PRINT_JSON, "event", NULL, what);
	if (detail)
		print_string(PRINT_JSON, "detail", NULL, detail);
	print_close_object();
	print_end();
}

static void reconcile(struct daemon *dm, const char *ns, const char *dev)
{
	struct rec_plan plan = {};

	lim_reconcile(dm->l, &dm->state, &dm->pol, false, ns, dev, &plan);
	log_plan(&plan);
	rec_plan_free(&plan);
}

static void forget(struct daemon *dm)
{
	struct rec_plan plan = {};

	lim_forget_gone(dm->l, false, &plan);
	log_plan(&plan);
	rec_plan_free(&plan);
}

static void forget_ns(struct daemon *dm)
{
	struct rec_plan plan = {};

	lim_forget_dead_ns(dm->l, &plan);
	log_plan(&plan);
	rec_plan_free(&plan);
}

/* Device @ifindex of @w's namespace went (a link event): its settings
 * only; the walk over all of them waits for its tick. */
static void forget_dev(struct daemon *dm, struct watch_ns *w, int ifindex)
{
	struct rec_plan plan = {};
	int self = -1, i;

	if (w->name[0]) {
		self = netns_push(w->name);
		if (self < 0) {
			dm->gone = true;	/* the namespace went too */
			return;
		}
	}
	if (lim_forget_dev(dm->l, ifindex, &plan))
		dm->gone = true;	/* could not tell: the walk will */
	netns_pop(self);
	/* named as the walk names them, seen from outside */
	for (i = 0; i < plan.n; i++)
		if (w->name[0])
			snprintf(plan.v[i].netns, sizeof(plan.v[i].netns),
				 "/run/netns/%.240s", w->name);
	log_plan(&plan);
	rec_plan_free(&plan);
}

static bool state_changed(struct daemon *dm)
{
	char path[PATH_MAX];
	struct stat st = {};

	snprintf(path, sizeof(path), "%s/%s", dm->o->state_dir, STATE_FILE);
	stat(path, &st);
	if (st.st_mtim.tv_sec == dm->state_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == dm->state_mtime.tv_nsec)
		return false;
	dm->state_mtime = st.st_mtim;
	return true;
}

static int reload_state(struct daemon *dm)
{
	struct clamp_set s = {};
	char err[512];

	if (state_load(dm->o->state_dir, &s, err, sizeof(err))) {
		pr_warn("%s (keeping the state read before)\n", err);
		return -EINVAL;
	}
	state_free(&dm->state);
	dm->state = s;
	return 0;
}

static int reload_policy(struct daemon *dm)
{
	struct policy_set p = {};
	char err[512];

	if (policy_load(dm->o->config_dir, &p, err, sizeof(err))) {
		pr_warn("%s (keeping the policies read before)\n", err);
		return -EINVAL;
	}
	policy_free(&dm->pol);
	dm->pol = p;
	return 0;
}

static __u64 ns_ino_of(const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return stat(path, &st) ? 0 : st.st_ino;
}

static struct watch_ns *watcher(struct daemon *dm, const char *name)
{
	int i;

	for (i = 0; i < dm->nw; i++)
		if (!strcmp(dm->w[i].name, name))
			return &dm->w[i];
	return NULL;
}

/* Watch @name if it exists and is not watched yet. */
static void watch_open(struct daemon *dm, const char *name)
{
	struct watch_ns *w = watcher(dm, name);
	char err[256];

	if (w || dm->nw == MAX_WATCH)
		return;
	w = &dm->w[dm->nw];
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->ino = name[0] ? ns_ino_of(name) : 0;
	if (name[0] && !w->ino)
		return;		/* not there (yet) */
	if (linkwatch_open(name[0] ? name : NULL, &w->lw, err, sizeof(err))) {
		pr_warn("daemon: %s\n", err);
		return;
	}
	dm->nw++;
	/* what came while nobody watched */
	reconcile(dm, name, NULL);
}

/*
 * Watch every namespace the state and the policies name; let go of those
 * whose /run/netns name went (an open watcher would keep it alive).
 */
static void watch_update(struct daemon *dm)
{
	int i;

	for (i = 0; i < dm->nw; i++) {
		struct watch_ns *w = &dm->w[i];

		if (!w->name[0] || ns_ino_of(w->name) == w->ino)
			continue;
		linkwatch_close(w->lw);
		dm->w[i--] = dm->w[--dm->nw];
		dm->gone = true;
	}
	watch_open(dm, "");
	for (i = 0; i < dm->state.n; i++)
		watch_open(dm, dm->state.v[i].netns);
	for (i = 0; i < dm->pol.n; i++)
		watch_open(dm, dm->pol.v[i].netns);
}

static bool wants(struct daemon *dm, const char *ns, const char *dev)
{
	return state_find(&dm->state, ns, dev) || policy_match(&dm->pol, dev, ns);
}

struct ev_ctx {
	struct daemon *dm;
	struct watch_ns *w;
};

static int on_link(const struct link_event *e, void *ctx)
{
	struct ev_ctx *c = ctx;

	if (e->gone) {
		forget_dev(c->dm, c->w, e->ifindex);
		return 0;
	}
	if (e->ifname[0] && wants(c->dm, c->w->name, e->ifname))
		reconcile(c->dm, c->w->name, e->ifname);
	return 0;
}

static void read_events(struct daemon *dm, struct watch_ns *w)
{
	struct ev_ctx c = { .dm = dm, .w = w };
	int err = linkwatch_read(w->lw, on_link, &c);

	if (err == -ENOBUFS) {
		/* events lost: look at everything of that namespace again */
		dm->gone = true;
		reconcile(dm, w->name, NULL);
	}
}

static int daemon_loop(struct daemon *dm)
{
	struct pollfd pfd[MAX_WATCH + 1];
	__u64 next = mono_ns() + TICK_MS * 1000000ULL, now;
	int i, n, timeout, ticks = 0;

	while (!loop_stopped()) {
		if (loop_hup()) {
			event("reload", dm->o->config_dir);
			reload_policy(dm);
			reload_state(dm);
			reconcile(dm, NULL, NULL);
			watch_update(dm);
		}
		n = dm->nw;
		for (i = 0; i < n; i++) {
			pfd[i].fd = linkwatch_fd(dm->w[i].lw);
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		pfd[n] = (struct pollfd){ .fd = webhook_fd(dm->wh), .events = POLLIN };
		/* rounded up: less than a millisecond left is not a busy loop */
		now = mono_ns();
		timeout = next > now ? (int)((next - now + 999999) / 1000000) : 0;
		if (poll(pfd, n + 1, timeout) < 0 && errno != EINTR)
			return -errno;
		webhook_run(dm->wh, dm->l);
		for (i = 0; i < n; i++)
			if (pfd[i].revents)
				read_events(dm, &dm->w[i]);
		if (dm->gone) {
			dm->gone = false;
			forget(dm);
		}
		if (mono_ns() < next)
			continue;
		next = mono_ns() + TICK_MS * 1000000ULL;
		if (state_changed(dm) && !reload_state(dm))
			reconcile(dm, NULL, NULL);
		watch_update(dm);	/* a namespace gone: dm->gone */
		if (dm->gone || ++ticks >= SWEEP_TICKS) {
			dm->gone = false;
			ticks = 0;
			forget(dm);
		} else {
			forget_ns(dm);
		}
	}
	return 0;
}

int cmd_daemon(const struct opts *o, int argc, char **argv)
{
	struct daemon dm = { .o = o };
	int i, err;

	if (argc)
		return usage_error("daemon: what is \"%s\"? (options: --state-dir "
				   "DIR --config-dir DIR before the command)",
				   argv[0]);
	err = load_inputs(o, &dm.state, &dm.pol);
	if (err)
		return err;
	dm.l = cli_lim(o);
	if (!dm.l) {
		err = -ENOMEM;
		goto out;
	}
	lim_keep_loaded(dm.l, true);
	err = webhook_start(&dm.wh, &dm.pol, o);
	if (err) {
		lim_close(dm.l);
		goto out;
	}
	loop_signals_reload();
	state_changed(&dm);	/* its mtime: what was read */
	/* The recorded clamps first: they load the programs of the
	 * namespaces they are in, and the verifier takes seconds; those of
	 * the daemon's own namespace, for what comes later, after. "start"
	 * says it is ready: restored, loaded, watching from now on. */
	reconcile(&dm, NULL, NULL);
	if (lim_preload(dm.l))
		pr_warn("daemon: %s\n", lim_msg(dm.l));
	event("start", o->state_dir);
	watch_update(&dm);
	err = daemon_loop(&dm);
	event("stop", NULL);
	webhook_stop(dm.wh);
	for (i = 0; i < dm.nw; i++)
		linkwatch_close(dm.w[i].lw);
	lim_close(dm.l);
out:
	state_free(&dm.state);
	policy_free(&dm.pol);
	return err;
}
