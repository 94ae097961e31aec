// SPDX-License-Identifier: GPL-2.0-only
/*
 * watch.c - `tcbpf watch`: the alert and the first action in one.
 *
 *   tcbpf watch [PATTERN...] { bps RATE | pps N }... [dir ingress|egress|both]
 *               [for SECS] [release-after SECS] [exec PROGRAM]
 *               [interval SECS] [auto-monitor] [then SPEC...]
 *
 * Every interval it samples the counters of the devices that tcbpf has a
 * limiter on in this namespace and whose names match a PATTERN (glob; all
 * when none is given). A device whose offered load (passed + dropped, all
 * classes) in a watched direction exceeds a threshold for SECS is clamped
 * at once: `attach DEV SPEC` (the defaults of attach when no SPEC), which
 * keeps its hook and counters. Each clamp and release is one JSON
 * line on stdout and one syslog message, and runs PROGRAM (the alert
 * hook) with the details in its environment. With release-after, a
 * clamped device whose offered load stayed under every threshold that
 * long gets its settings from before the clamp back (monitor mode).
 *
 * Only devices in monitor mode are clamped: a device that someone already
 * limits is reported ("over", action none) and left alone. A device that
 * someone changed while it was clamped is not released either. Devices
 * come and go: the set is read afresh every interval. With auto-monitor,
 * matching interfaces without a limiter are attached in monitor mode (and
 * detached again on exit, unless clamped). Clamps stay when watch exits.
 */
#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "cli/cli.h"
#include "cli/loop.h"
#include "cli/print.h"
#include "lib/names.h"
#include "lib/netid.h"
#include "lib/units.h"
#include "util/clock.h"
#include "util/log.h"

#define MAX_SPEC_ARGS	64

struct watch_args {
	char **patterns;
	int npatterns;
	__u64 bps, pps;			/* thresholds; 0 = not watched */
	unsigned int dirs;		/* bit per enum tcbpf_dir */
	double for_secs;
	double release_after;		/* 0: never */
	double interval;
	const char *exec;
	bool auto_monitor;
	struct spec then;
	char then_text[512];		/* the SPEC as given, for the log */
};

/* What watch knows about one device. */
struct wdev {
	int ifindex;
	char name[IF_NAMESIZE];
	bool seen;			/* in the current round */
	bool have_last;
	struct dev_sample last;
	__u64 over_since;		/* CLOCK_MONOTONIC ns; 0 = under */
	__u64 quiet_since;
	bool reported;			/* "over" of a device limited by others */
	bool clamped;
	struct lim_snap before;		/* settings before the clamp */
	struct lim_snap after;		/* settings the clamp wrote */
};

/* A device auto-monitor attached. */
struct ours {
	int ifindex;
	char name[IF_NAMESIZE];
};

struct watch {
	struct watch_args a;
	const struct opts *o;
	struct lim *l;			/* the limiter library */
	struct wdev *devs;
	int n;
	struct ours *ours;
	int nours;
};

/* The rates of one direction, all classes. */
struct dir_rate {
	bool have;
	struct rate r;
};

static bool matches(const struct watch_args *a, const char *name)
{
	int i;

	if (!a->npatterns)
		return true;
	for (i = 0; i < a->npatterns; i++)
		if (!fnmatch(a->patterns[i], name, 0))
			return true;
	return false;
}

/* ------------------------------------------------------------- events */

struct event {
	const char *what;		/* clamp, release, over, monitor, ... */
	const struct wdev *w;
	const struct dir_rate *rates;	/* [TCBPF_NDIR] or NULL */
	int dir;			/* the direction that crossed, or -1 */
	__u64 over_ns;
	const char *action;		/* what was run */
	int err;
	const char *note;
};

static void event_json(const struct watch *wt, const struct event *e,
		       __u64 ts)
{
	char hex[NETID_LEN];
	int d;

	netid_of_name(e->w->name, hex, sizeof(hex));
	print_start(true);	/* the event log: one JSON object per line */
	print_open_object(NULL);
	print_u64(PRINT_JSON, "time_ns", NULL, ts);
	print_string(PRINT_JSON, "event", NULL, e->what);
	print_string(PRINT_JSON, "ifname", NULL, e->w->name);
	print_u64(PRINT_JSON, "ifindex", NULL, e->w->ifindex);
	if (hex[0])
		print_string(PRINT_JSON, "netid", NULL, hex);
	else
		print_null(PRINT_JSON, "netid", NULL);
	if (e->dir >= 0)
		print_string(PRINT_JSON, "dir", NULL, dir_name(e->dir));
	if (e->rates) {
		for (d = 0; d < TCBPF_NDIR; d++) {
			const struct rate *r = &e->rates[d].r;

			if (!e->rates[d].have)
				continue;
			print_open_object(dir_name(d));
			print_u64(PRINT_JSON, "seen_bits_per_sec", NULL,
				  (__u64)(r->bps[RATE_SEEN] + 0.5));
			print_u64(PRINT_JSON, "seen_packets_per_sec", NULL,
				  (__u64)(r->pps[RATE_SEEN] + 0.5));
			print_u64(PRINT_JSON, "dropped_bits_per_sec", NULL,
				  (__u64)(r->bps[RATE_DROPPED] + 0.5));
			print_close_object();
		}
		print_u64(PRINT_JSON, "threshold_bits_per_sec", NULL, wt->a.bps);
		print_u64(PRINT_JSON, "threshold_packets_per_sec", NULL, wt->a.pps);
	}
	if (e->over_ns)
		print_u64(PRINT_JSON, "over_ms", NULL, e->over_ns / 1000000);
	if (e->action)
		print_string(PRINT_JSON, "action", NULL, e->action);
	print_string(PRINT_JSON, "result", NULL, e->err ? "failed" : "ok");
	if (e->err)
		print_string(PRINT_JSON, "error", NULL, strerror(-e->err));
	if (e->note)
		print_string(PRINT_JSON, "note", NULL, e->note);
	print_close_object();
	print_end();
}

static void event_syslog(const struct event *e)
{
	char b[32];
	const struct rate *r = e->rates && e->dir >= 0 ? &e->rates[e->dir].r : NULL;

	syslog(e->err ? LOG_ERR : LOG_WARNING, "%s %s%s%s%s%s%s%s: %s%s%s",
	       e->what, e->w->name,
	       e->dir >= 0 ? " " : "", e->dir >= 0 ? dir_name(e->dir) : "",
	       r ? " " : "", r ? fmt_bits(b, sizeof(b), r->bps[RATE_SEEN]) : "",
	       r ? "bit/s" : "", e->action ? ", tcbpf " : "",
	       e->action ? e->action : "",
	       e->err ? " FAILED " : "", e->err ? strerror(-e->err) : "");
}

/* The alert hook: PROGRAM EVENT DEV, details in the environment. */
static void event_exec(const struct watch *wt, const struct event *e, __u64 ts)
{
	char v[64], hex[NETID_LEN];
	pid_t pid;
	int d;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		pr_warn("watch: cannot run %s: %s\n", wt->a.exec, strerror(errno));
		return;
	}
	if (pid > 0)
		return;
	/* our stdout is the event log: the hook writes to stderr */
	dup2(STDERR_FILENO, STDOUT_FILENO);
	netid_of_name(e->w->name, hex, sizeof(hex));
	setenv("TCBPF_EVENT", e->what, 1);
	setenv("TCBPF_DEV", e->w->name, 1);
	snprintf(v, sizeof(v), "%d", e->w->ifindex);
	setenv("TCBPF_IFINDEX", v, 1);
	setenv("TCBPF_NETID", hex, 1);
	setenv("TCBPF_DIR", e->dir >= 0 ? dir_name(e->dir) : "", 1);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)ts);
	setenv("TCBPF_TIME_NS", v, 1);
	for (d = 0; e->rates && d < TCBPF_NDIR; d++) {
		char k[64];

		snprintf(k, sizeof(k), "TCBPF_%s_BITS_PER_SEC",
			 d == TCBPF_INGRESS ? "INGRESS" : "EGRESS");
		snprintf(v, sizeof(v), "%.0f", e->rates[d].r.bps[RATE_SEEN]);
		setenv(k, v, 1);
		snprintf(k, sizeof(k), "TCBPF_%s_PACKETS_PER_SEC",
			 d == TCBPF_INGRESS ? "INGRESS" : "EGRESS");
		snprintf(v, sizeof(v), "%.0f", e->rates[d].r.pps[RATE_SEEN]);
		setenv(k, v, 1);
		if (d == e->dir) {
			snprintf(v, sizeof(v), "%.0f", e->rates[d].r.bps[RATE_SEEN]);
			setenv("TCBPF_BITS_PER_SEC", v, 1);
			snprintf(v, sizeof(v), "%.0f", e->rates[d].r.pps[RATE_SEEN]);
			setenv("TCBPF_PACKETS_PER_SEC", v, 1);
		}
	}
	snprintf(v, sizeof(v), "%llu", (unsigned long long)wt->a.bps);
	setenv("TCBPF_THRESHOLD_BITS_PER_SEC", v, 1);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)wt->a.pps);
	setenv("TCBPF_THRESHOLD_PACKETS_PER_SEC", v, 1);
	setenv("TCBPF_ACTION", e->action ? e->action : "", 1);
	setenv("TCBPF_RESULT", e->err ? "failed" : "ok", 1);
	execl(wt->a.exec, wt->a.exec, e->what, e->w->name, (char *)NULL);
	fprintf(stderr, "tcbpf: watch: cannot run %s: %s\n", wt->a.exec,
		strerror(errno));
	_exit(127);
}

static void event(const struct watch *wt, const struct event *e, bool hook)
{
	__u64 ts = real_ns();

	event_json(wt, e, ts);
	event_syslog(e);
	if (hook && wt->a.exec)
		event_exec(wt, e, ts);
}

/* Hooks that ended: no zombies; a failing hook is worth a line. */
static void reap(void)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			pr_warn("watch: alert hook (pid %d) %s %d\n", (int)pid,
				WIFEXITED(st) ? "exited with" : "killed by signal",
				WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

/* ------------------------------------------------------------ devices */

static struct wdev *wdev_get(struct watch *wt, int ifindex, const char *name)
{
	struct wdev *w;
	int i;

	for (i = 0; i < wt->n; i++)
		if (wt->devs[i].ifindex == ifindex &&
		    !strcmp(wt->devs[i].name, name))
			return &wt->devs[i];
	w = realloc(wt->devs, (wt->n + 1) * sizeof(*w));
	if (!w)
		return NULL;
	wt->devs = w;
	w = &wt->devs[wt->n++];
	memset(w, 0, sizeof(*w));
	w->ifindex = ifindex;
	snprintf(w->name, sizeof(w->name), "%s", name);
	return w;
}

static bool all_monitor(const struct dev_sample *d)
{
	int dir;

	for (dir = 0; dir < TCBPF_NDIR; dir++)
		if (d->have[dir] && d->cfg[dir].mode != TCBPF_MODE_MONITOR)
			return false;
	return true;
}

/* The settings an operator would notice being changed under a clamp. */
static bool same_settings(const struct tcbpf_cfg *a, const struct tcbpf_cfg *b)
{
	return a->mode == b->mode && a->delay_ns == b->delay_ns &&
	       a->nports == b->nports &&
	       !memcmp(a->ports, b->ports, sizeof(a->ports)) &&
	       !memcmp(a->cls, b->cls, sizeof(a->cls));
}

static struct ours *ours_find(struct watch *wt, int ifindex, const char *name)
{
	int i;

	for (i = 0; i < wt->nours; i++)
		if (wt->ours[i].ifindex == ifindex && !strcmp(wt->ours[i].name, name))
			return &wt->ours[i];
	return NULL;
}

static struct wdev *wdev_find(struct watch *wt, int ifindex, const char *name)
{
	int i;

	for (i = 0; i < wt->n; i++)
		if (wt->devs[i].ifindex == ifindex && !strcmp(wt->devs[i].name, name))
			return &wt->devs[i];
	return NULL;
}

/*
 * auto-monitor: matching interfaces without a limiter get one in monitor
 * mode, once: one that someone detached afterwards is left alone.
 */
static void attach_monitors(struct watch *wt, const struct sample_set *s)
{
	struct if_nameindex *ifs, *i;
	struct spec sp;
	char *argv[] = { "monitor" };
	char err_buf[64];

	ifs = if_nameindex();
	if (!ifs)
		return;
	spec_parse(&sp, 1, argv, err_buf, sizeof(err_buf));
	for (i = ifs; i->if_index; i++) {
		struct wdev tmp = { .ifindex = i->if_index };
		struct event e = { .what = "monitor", .w = &tmp, .dir = -1,
				   .action = "attach monitor" };
		struct ours *o;

		if (!strcmp(i->if_name, "lo") || !matches(&wt->a, i->if_name) ||
		    sample_find(s, i->if_index, i->if_name) ||
		    ours_find(wt, i->if_index, i->if_name))
			continue;
		snprintf(tmp.name, sizeof(tmp.name), "%s", i->if_name);
		o = realloc(wt->ours, (wt->nours + 1) * sizeof(*o));
		if (!o)
			break;
		wt->ours = o;
		o = &wt->ours[wt->nours++];
		o->ifindex = i->if_index;
		snprintf(o->name, sizeof(o->name), "%s", i->if_name);
		e.err = lim_attach(wt->l, i->if_name, &sp);
		event(wt, &e, false);
	}
	if_freenameindex(ifs);
}

/* On exit: detach what auto-monitor attached, unless it is clamped. */
static void detach_monitors(struct watch *wt)
{
	int i;

	for (i = 0; i < wt->nours; i++) {
		struct ours *o = &wt->ours[i];
		struct wdev *w = wdev_find(wt, o->ifindex, o->name);
		struct wdev tmp = { .ifindex = o->ifindex };
		struct event e = { .what = "unmonitor", .w = &tmp, .dir = -1,
				   .action = "detach" };

		if ((w && w->clamped) || (int)if_nametoindex(o->name) != o->ifindex)
			continue;
		snprintf(tmp.name, sizeof(tmp.name), "%s", o->name);
		e.err = lim_detach(wt->l, o->name, NULL);
		event(wt, &e, false);
	}
}

static void clamp(struct watch *wt, struct wdev *w,
		  const struct dir_rate *rates, int dir, __u64 now)
{
	char action[600];
	struct event e = {
		.what = "clamp", .w = w, .rates = rates, .dir = dir,
		.over_ns = now - w->over_since, .action = action,
	};

	snprintf(action, sizeof(action), "attach %s%s%s", w->name,
		 wt->a.then_text[0] ? " " : "", wt->a.then_text);
	/* a device may be replaced between sample and clamp: same one? */
	if ((int)if_nametoindex(w->name) != w->ifindex) {
		e.err = -ENODEV;
	} else {
		e.err = lim_snapshot(wt->l, w->name, &w->before);
		if (!e.err)
			e.err = lim_attach(wt->l, w->name, &wt->a.then);
	}
	if (!e.err) {
		w->clamped = true;
		w->quiet_since = 0;
		lim_snapshot(wt->l, w->name, &w->after);
	}
	event(wt, &e, true);
}

static void release(struct watch *wt, struct wdev *w, const struct dev_sample *d,
		    const struct dir_rate *rates)
{
	struct event e = {
		.what = "release", .w = w, .rates = rates, .dir = -1,
		.action = "restore the settings from before the clamp",
	};
	int dir;

	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		if (d->have[dir] != w->after.have[dir] ||
		    (d->have[dir] && !same_settings(&d->cfg[dir], &w->after.cfg[dir]))) {
			/* someone else changed it meanwhile: theirs now */
			e.what = "release-skipped";
			e.action = NULL;
			e.note = "settings changed by someone else since the clamp";
			w->clamped = false;
			event(wt, &e, false);
			return;
		}
	}
	e.err = lim_restore(wt->l, &w->before);
	if (!e.err)
		w->clamped = false;
	event(wt, &e, true);
}

/* One device, one interval. */
static void judge(struct watch *wt, struct wdev *w, const struct dev_sample *d,
		  double secs, __u64 start, __u64 now)
{
	struct dir_rate rates[TCBPF_NDIR] = {};
	double worst = 0;
	int dir, over_dir = -1;

	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		double ratio = 0;

		if (!w->last.have[dir] || !d->have[dir])
			continue;
		rates[dir].have = true;
		rate_between(&w->last, d, secs, dir, -1, &rates[dir].r);
		if (!(wt->a.dirs & (1U << dir)))
			continue;
		if (wt->a.bps && rates[dir].r.bps[RATE_SEEN] > wt->a.bps)
			ratio = rates[dir].r.bps[RATE_SEEN] / wt->a.bps;
		if (wt->a.pps && rates[dir].r.pps[RATE_SEEN] > wt->a.pps &&
		    rates[dir].r.pps[RATE_SEEN] / wt->a.pps > ratio)
			ratio = rates[dir].r.pps[RATE_SEEN] / wt->a.pps;
		if (ratio > worst) {
			worst = ratio;
			over_dir = dir;
		}
	}

	if (over_dir < 0) {
		w->over_since = 0;
		w->reported = false;
		if (!w->clamped || !wt->a.release_after)
			return;
		if (!w->quiet_since)
			w->quiet_since = start;
		if (now - w->quiet_since >= wt->a.release_after * NSEC_PER_SEC)
			release(wt, w, d, rates);
		return;
	}
	w->quiet_since = 0;
	if (!w->over_since)
		w->over_since = start;	/* over since this interval began */
	/* reported: this episode was logged already (limited by others, or
	 * the clamp failed): once per episode, not every interval */
	if (w->clamped || w->reported ||
	    now - w->over_since < wt->a.for_secs * NSEC_PER_SEC)
		return;
	if (!all_monitor(d)) {
		struct event e = {
			.what = "over", .w = w, .rates = rates,
			.dir = over_dir, .over_ns = now - w->over_since,
			.note = "already limited by someone else: left alone",
		};

		event(wt, &e, true);
		w->reported = true;
		return;
	}
	clamp(wt, w, rates, over_dir, now);
	w->reported = !w->clamped;
}

static void round_run(struct watch *wt, const struct sample_set *s)
{
	int i, j;

	for (i = 0; i < wt->n; i++)
		wt->devs[i].seen = false;
	for (i = 0; i < s->n; i++) {
		const struct dev_sample *d = &s->devs[i];
		struct wdev *w;

		if (!matches(&wt->a, d->ifname))
			continue;
		w = wdev_get(wt, d->ifindex, d->ifname);
		if (!w)
			return;
		w->seen = true;
		if (w->have_last)
			judge(wt, w, d, sample_secs(&w->last, d), w->last.mono_ns,
			      d->mono_ns);
		w->last = *d;
		w->have_last = true;
	}
	/* devices gone (or detached by someone): forget them */
	for (i = j = 0; i < wt->n; i++) {
		struct wdev *w = &wt->devs[i];

		if (!w->seen) {
			if (w->clamped) {
				struct event e = {
					.what = "gone", .w = w, .dir = -1,
					.note = "clamped device vanished or was detached",
				};

				event(wt, &e, false);
			}
			continue;
		}
		wt->devs[j++] = *w;
	}
	wt->n = j;
}

/* ------------------------------------------------------------------ CLI */

static bool watch_word(const char *w)
{
	static const char *const words[] = {
		"bps", "for", "release-after", "exec", "interval", "dir",
		"auto-monitor", "then", NULL
	};
	int i;

	for (i = 0; words[i]; i++)
		if (!strcmp(w, words[i]))
			return true;
	return false;
}

static int bad(const char *key, const char *val, const char *want)
{
	pr_warn("watch: Illegal \"%s\" value \"%s\": %s\n", key, val ? val : "",
		want);
	return -EUSAGE;
}

static int watch_parse(struct watch_args *a, int argc, char **argv)
{
	char err_buf[256];
	int i, j;
	size_t off;

	memset(a, 0, sizeof(*a));
	a->dirs = (1U << TCBPF_INGRESS) | (1U << TCBPF_EGRESS);
	a->interval = 0.5;
	spec_parse(&a->then, 0, NULL, err_buf, sizeof(err_buf));
	a->patterns = argv;
	for (i = 0; i < argc && !watch_word(argv[i]) && strcmp(argv[i], "pps"); i++)
		a->npatterns++;
	for (; i < argc; i++) {
		const char *w = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n;

		if (!strcmp(w, "auto-monitor")) {
			a->auto_monitor = true;
			continue;
		}
		if (!strcmp(w, "then")) {
			/* SPEC runs up to the next watch keyword ("pps" is
			 * SPEC's there) */
			for (j = i + 1; j < argc && !watch_word(argv[j]); j++)
				;
			if (spec_parse(&a->then, j - i - 1, argv + i + 1, err_buf,
				       sizeof(err_buf))) {
				pr_warn("watch: then: %s\n", err_buf);
				return -EUSAGE;
			}
			for (off = 0; ++i < j; )
				off += snprintf(a->then_text + off,
						off < sizeof(a->then_text) ?
						sizeof(a->then_text) - off : 0,
						"%s%s", off ? " " : "", argv[i]);
			i = j - 1;
			continue;
		}
		if (!v) {
			pr_warn("watch: \"%s\" needs a value\n", w);
			return -EUSAGE;
		}
		i++;
		if (!strcmp(w, "bps")) {
			if (parse_rate(v, &n) || !n)
				return bad(w, v, "a rate, e.g. 100mbit");
			a->bps = n;
		} else if (!strcmp(w, "pps")) {
			if (parse_count(v, &n) || !n)
				return bad(w, v, "packets per second > 0");
			a->pps = n;
		} else if (!strcmp(w, "for")) {
			if (strcmp(v, "0") && parse_secs(v, &a->for_secs))
				return bad(w, v, "seconds");
		} else if (!strcmp(w, "release-after")) {
			if (parse_secs(v, &a->release_after))
				return bad(w, v, "seconds > 0");
		} else if (!strcmp(w, "interval")) {
			if (parse_secs(v, &a->interval) || a->interval < 0.05)
				return bad(w, v, "seconds, at least 0.05");
		} else if (!strcmp(w, "exec")) {
			if (access(v, X_OK))
				return bad(w, v, "an executable program (a path)");
			a->exec = v;
		} else if (!strcmp(w, "dir")) {
			if (!strcmp(v, "ingress"))
				a->dirs = 1U << TCBPF_INGRESS;
			else if (!strcmp(v, "egress"))
				a->dirs = 1U << TCBPF_EGRESS;
			else if (strcmp(v, "both"))
				return bad(w, v, "ingress, egress or both");
		} else {
			pr_warn("watch: what is \"%s\"?\n", w);
			return -EUSAGE;
		}
	}
	if (!a->bps && !a->pps) {
		pr_warn("watch needs a threshold: bps RATE and/or pps N\n");
		return -EUSAGE;
	}
	return 0;
}

static void watch_start_event(const struct watch *wt)
{
	int i;

	print_start(true);
	print_open_object(NULL);
	print_u64(PRINT_JSON, "time_ns", NULL, real_ns());
	print_string(PRINT_JSON, "event", NULL, "start");
	print_open_array("patterns");
	for (i = 0; i < wt->a.npatterns; i++)
		print_string(PRINT_JSON, NULL, NULL, wt->a.patterns[i]);
	print_close_array();
	print_u64(PRINT_JSON, "threshold_bits_per_sec", NULL, wt->a.bps);
	print_u64(PRINT_JSON, "threshold_packets_per_sec", NULL, wt->a.pps);
	print_u64(PRINT_JSON, "for_ms", NULL, (__u64)(wt->a.for_secs * 1000));
	print_u64(PRINT_JSON, "release_after_ms", NULL,
		  (__u64)(wt->a.release_after * 1000));
	print_u64(PRINT_JSON, "interval_ms", NULL, (__u64)(wt->a.interval * 1000));
	print_string(PRINT_JSON, "then", NULL, wt->a.then_text);
	print_close_object();
	print_end();
	syslog(LOG_INFO, "watching %d pattern(s), thresholds %llu bit/s %llu pkt/s",
	       wt->a.npatterns, (unsigned long long)wt->a.bps,
	       (unsigned long long)wt->a.pps);
}

static void watch_stop_event(const struct watch *wt)
{
	int i;

	print_start(true);
	print_open_object(NULL);
	print_u64(PRINT_JSON, "time_ns", NULL, real_ns());
	print_string(PRINT_JSON, "event", NULL, "stop");
	print_open_array("still_clamped");
	for (i = 0; i < wt->n; i++)
		if (wt->devs[i].clamped)
			print_string(PRINT_JSON, NULL, NULL, wt->devs[i].name);
	print_close_array();
	print_close_object();
	print_end();
}

int cmd_watch(const struct opts *o, int argc, char **argv)
{
	struct watch wt = { .o = o };
	struct sample_set s;
	__u64 next, step;
	int err;

	err = watch_parse(&wt.a, argc, argv);
	if (err)
		return err;
	wt.l = cli_lim(o);
	if (!wt.l)
		return -ENOMEM;
	openlog("tcbpf-watch", LOG_PID, LOG_DAEMON);
	loop_signals();
	watch_start_event(&wt);
	step = (__u64)(wt.a.interval * NSEC_PER_SEC);
	next = mono_ns();
	for (;;) {
		reap();
		err = lim_sample(wt.l, &s);
		if (err) {
			/* the pins are being replaced: try again next time */
			pr_warn("watch: cannot read the counters: %s\n",
				lim_msg(wt.l));
		} else {
			round_run(&wt, &s);
			if (wt.a.auto_monitor)
				attach_monitors(&wt, &s);
			sample_free(&s);
		}
		fflush(stdout);
		next += step;
		if (next < mono_ns())	/* fell behind: no burst of catch-up */
			next = mono_ns() + step;
		if (sleep_until(next))
			break;
	}
	if (wt.a.auto_monitor)
		detach_monitors(&wt);
	watch_stop_event(&wt);
	reap();
	closelog();
	free(wt.devs);
	free(wt.ours);
	lim_close(wt.l);
	return 0;
}
