// SPDX-License-Identifier: GPL-2.0-only
/*
 * stats.c - `tcbpf stats`: per device, direction and class, the bits/s and
 * packets/s seen (offered), passed and dropped over each interval.
 *
 *   tcbpf [-j] stats [DEV | net NETID] [interval SECS] [count N] [--influx]
 *
 * Every sample is a delta of the counters over the interval just ended
 * (never "since attach"): the first line comes one interval after start.
 * The pinned maps are opened afresh for every sample, so devices (and the
 * whole limiter) may come and go while it runs.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "lib/stats.h"
#include "lib/netid.h"
#include "lib/cfg.h"
#include "kern/obj.h"
#include "util/json.h"
#include "util/log.h"
#include "lib/units.h"

#define NSEC_PER_SEC	1000000000ULL

const char *const rate_name[RATE_N] = { "seen", "passed", "dropped" };
const char *const class_names[TCBPF_NCLASS] = {
	[TCBPF_CLASS_DEFAULT] = "default",
	[TCBPF_CLASS_ALLOW] = "allow",
};

const char *mode_str(__u32 mode)
{
	switch (mode) {
	case TCBPF_MODE_POLICE:
		return "police";
	case TCBPF_MODE_EDT:
		return "edt";
	case TCBPF_MODE_MONITOR:
		return "monitor";
	}
	return "unknown";
}

static __u64 u64_round(double v)
{
	return v > 0 ? (__u64)(v + 0.5) : 0;
}

static __u64 clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* ------------------------------------------------------------ netid tags */

static bool all_hex(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return false;
	return true;
}

void netid_of_name(const char *name, char *hex, size_t len)
{
	static const char *const pfx[] = { "vx-", "spc-", "pub-" };
	const char *h = NULL, *p;
	unsigned int i;

	for (i = 0; i < 3; i++)
		if (!strncmp(name, pfx[i], strlen(pfx[i])))
			h = name + strlen(pfx[i]);
	if (!h && !strncmp(name, "vm-", 3)) {
		/* vm-<number>-<netid> */
		for (p = name + 3; isdigit((unsigned char)*p); p++)
			;
		if (p > name + 3 && *p == '-')
			h = p + 1;
	}
	if (!h || !all_hex(h)) {
		snprintf(hex, len, "%s", "");
		return;
	}
	snprintf(hex, len, "%s", h);
	for (p = hex; *p; p++)
		hex[p - hex] = tolower((unsigned char)*p);
}

/* ---------------------------------------------------------------- samples */

static int sample_cmp(const void *a, const void *b)
{
	const struct dev_sample *x = a, *y = b;

	return strcmp(x->ifname, y->ifname);
}

static struct dev_sample *sample_slot(struct sample_set *s, int ifindex,
				      const char *name)
{
	struct dev_sample *d;
	int i;

	for (i = 0; i < s->n; i++)
		if (s->devs[i].ifindex == ifindex)
			return &s->devs[i];
	d = realloc(s->devs, (s->n + 1) * sizeof(*d));
	if (!d)
		return NULL;
	s->devs = d;
	d = &s->devs[s->n++];
	memset(d, 0, sizeof(*d));
	d->ifindex = ifindex;
	snprintf(d->ifname, sizeof(d->ifname), "%s", name);
	netid_of_name(d->ifname, d->netid, sizeof(d->netid));
	return d;
}

int sample_read(struct sample_set *s)
{
	struct tcbpf_key key, *prev = NULL;
	char name[IF_NAMESIZE];
	struct tcbpf_cfg cfg;
	struct dev_sample *d;
	struct tcbpf t;
	__u64 ns = netns_ino();
	int err;

	memset(s, 0, sizeof(*s));
	err = tcbpf_open(&t, false);
	s->mono_ns = clock_ns(CLOCK_MONOTONIC);
	s->real_ns = clock_ns(CLOCK_REALTIME);
	if (err == -ENOENT)
		return 0;	/* no limiter anywhere */
	if (err) {
		pr_warn("cannot open the pinned limiter in %s: %s\n",
			TCBPF_PIN_DIR, strerror(-err));
		return err;
	}
	while (bpf_map_get_next_key(t.cfg_fd, prev, &key) == 0) {
		prev = &key;
		if (key.dir >= TCBPF_NDIR ||
		    bpf_map_lookup_elem(t.cfg_fd, &key, &cfg) ||
		    cfg.netns_ino != ns)
			continue;
		/* the device must still be there under the same name */
		if (!if_indextoname(key.ifindex, name) ||
		    strncmp(name, cfg.ifname, sizeof(cfg.ifname)))
			continue;
		d = sample_slot(s, key.ifindex, name);
		if (!d) {
			err = -ENOMEM;
			break;
		}
		d->have[key.dir] = true;
		d->cfg[key.dir] = cfg;
		if (cfg_read_stats(&t, cfg.slot, &d->st[key.dir]))
			d->have[key.dir] = false;
		/* per device: a slow walk must not skew its interval */
		d->mono_ns = clock_ns(CLOCK_MONOTONIC);
	}
	/* one timestamp for the whole set: the reads take microseconds */
	s->mono_ns = clock_ns(CLOCK_MONOTONIC);
	s->real_ns = clock_ns(CLOCK_REALTIME);
	tcbpf_close(&t);
	if (err) {
		sample_free(s);
		return err;
	}
	qsort(s->devs, s->n, sizeof(*s->devs), sample_cmp);
	return 0;
}

void sample_free(struct sample_set *s)
{
	free(s->devs);
	s->devs = NULL;
	s->n = 0;
}

const struct dev_sample *sample_find(const struct sample_set *s, int ifindex,
				     const char *name)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->devs[i].ifindex == ifindex &&
		    !strcmp(s->devs[i].ifname, name))
			return &s->devs[i];
	return NULL;
}

double sample_secs(const struct dev_sample *old, const struct dev_sample *new)
{
	return new->mono_ns > old->mono_ns ?
	       (new->mono_ns - old->mono_ns) / 1e9 : 0;
}

static __u64 delta(__u64 old, __u64 new)
{
	return new >= old ? new - old : new;	/* reset: counts from zero */
}

void rate_between(const struct dev_sample *old, const struct dev_sample *new,
		  double secs, int dir, int cls, struct rate *r)
{
	__u64 pb = 0, pp = 0, db = 0, dp = 0;
	int c;

	memset(r, 0, sizeof(*r));
	if (secs <= 0 || !old->have[dir] || !new->have[dir])
		return;
	for (c = 0; c < TCBPF_NCLASS; c++) {
		const struct tcbpf_counters *o = &old->st[dir].cls[c];
		const struct tcbpf_counters *n = &new->st[dir].cls[c];
		bool reset = old->cfg[dir].slot != new->cfg[dir].slot;

		if (cls >= 0 && c != cls)
			continue;
		pb += reset ? n->pass_bytes : delta(o->pass_bytes, n->pass_bytes);
		pp += reset ? n->pass_pkts : delta(o->pass_pkts, n->pass_pkts);
		db += reset ? n->drop_bytes : delta(o->drop_bytes, n->drop_bytes);
		dp += reset ? n->drop_pkts : delta(o->drop_pkts, n->drop_pkts);
	}
	r->bps[RATE_PASSED] = pb * 8.0 / secs;
	r->pps[RATE_PASSED] = pp / secs;
	r->bps[RATE_DROPPED] = db * 8.0 / secs;
	r->pps[RATE_DROPPED] = dp / secs;
	r->bps[RATE_SEEN] = (pb + db) * 8.0 / secs;
	r->pps[RATE_SEEN] = (pp + dp) / secs;
}

/* ----------------------------------------------------------------- output */

void influx_tag(FILE *f, const char *key, const char *val)
{
	fprintf(f, ",%s=", key);
	for (; *val; val++) {
		if (*val == ',' || *val == ' ' || *val == '=' || *val == '\\')
			fputc('\\', f);
		fputc(*val, f);
	}
}

struct stats_args {
	const char *dev;
	bool by_net;
	unsigned long long netid;
	double interval;
	unsigned long long count;	/* 0: until interrupted */
	bool influx;
	bool json;
};

static bool selected(const struct stats_args *a, const struct dev_sample *d)
{
	if (a->dev)
		return !strcmp(a->dev, d->ifname);
	if (a->by_net)
		return netid_match(d->ifname, a->netid);
	return true;
}

static void line_json(const struct dev_sample *d, int dir, int cls,
		      const struct rate *r, __u64 ts, double secs)
{
	json_writer_t *jw = jw_new(stdout);
	int k;

	if (!jw)
		return;
	jw_obj_open(jw, NULL);
	jw_u64(jw, "time_ns", ts);
	jw_u64(jw, "interval_ms", u64_round(secs * 1000));
	jw_str(jw, "ifname", d->ifname);
	jw_u64(jw, "ifindex", d->ifindex);
	if (d->netid[0])
		jw_str(jw, "netid", d->netid);
	else
		jw_null(jw, "netid");
	jw_str(jw, "dir", dir_name(dir));
	jw_str(jw, "class", class_names[cls]);
	jw_str(jw, "mode", mode_str(d->cfg[dir].mode));
	for (k = 0; k < RATE_N; k++) {
		char key[48];

		snprintf(key, sizeof(key), "%s_bits_per_sec", rate_name[k]);
		jw_u64(jw, key, u64_round(r->bps[k]));
		snprintf(key, sizeof(key), "%s_packets_per_sec", rate_name[k]);
		jw_u64(jw, key, u64_round(r->pps[k]));
	}
	jw_obj_close(jw);
	jw_destroy(&jw);	/* newline: one object per line */
}

/* tcbpf_rate,dev=..,dir=..,class=..[,netid=..] seen_bps=1i,... TIMESTAMP */
static void line_influx(const struct dev_sample *d, int dir, int cls,
			const struct rate *r, __u64 ts)
{
	int k;

	fputs("tcbpf_rate", stdout);
	influx_tag(stdout, "dev", d->ifname);
	influx_tag(stdout, "dir", dir_name(dir));
	influx_tag(stdout, "class", class_names[cls]);
	if (d->netid[0])
		influx_tag(stdout, "netid", d->netid);
	for (k = 0; k < RATE_N; k++)
		printf("%c%s_bps=%lldi,%s_pps=%lldi", k ? ',' : ' ',
		       rate_name[k], (long long)u64_round(r->bps[k]), rate_name[k],
		       (long long)u64_round(r->pps[k]));
	printf(" %llu\n", (unsigned long long)ts);
}

static void line_text(const struct dev_sample *d, int dir, int cls,
		      const struct rate *r)
{
	char b[RATE_N][16], p[RATE_N][16];
	int k;

	for (k = 0; k < RATE_N; k++) {
		fmt_bits(b[k], sizeof(b[k]), r->bps[k]);
		fmt_bits(p[k], sizeof(p[k]), r->pps[k]);
	}
	printf("%-15s %-7s %-7s %-7s %10s %8s %10s %8s %10s %8s\n", d->ifname,
	       dir_name(dir), class_names[cls], mode_str(d->cfg[dir].mode),
	       b[0], p[0], b[1], p[1], b[2], p[2]);
}

static void header_text(const struct sample_set *s, double secs)
{
	char when[64];
	time_t t = s->real_ns / NSEC_PER_SEC;
	struct tm tm;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z",
		 localtime_r(&t, &tm));
	printf("# %s, %.2f s\n", when, secs);
	printf("%-15s %-7s %-7s %-7s %10s %8s %10s %8s %10s %8s\n", "DEV",
	       "DIR", "CLASS", "MODE", "seen b/s", "pkt/s", "passed", "pkt/s",
	       "dropped", "pkt/s");
}

static void print_interval(const struct stats_args *a,
			   const struct sample_set *old,
			   const struct sample_set *cur)
{
	double secs = (cur->mono_ns - old->mono_ns) / 1e9;
	bool header = false;
	int i, dir, cls;

	for (i = 0; i < cur->n; i++) {
		const struct dev_sample *d = &cur->devs[i], *o;
		struct rate r;

		if (!selected(a, d))
			continue;
		o = sample_find(old, d->ifindex, d->ifname);
		if (!o)
			continue;	/* new: this sample is its baseline */
		if (!a->json && !a->influx && !header) {
			header_text(cur, secs);
			header = true;
		}
		secs = sample_secs(o, d);
		for (dir = 0; dir < TCBPF_NDIR; dir++) {
			if (!o->have[dir] || !d->have[dir])
				continue;
			for (cls = 0; cls < TCBPF_NCLASS; cls++) {
				rate_between(o, d, secs, dir, cls, &r);
				if (a->json)
					line_json(d, dir, cls, &r, cur->real_ns, secs);
				else if (a->influx)
					line_influx(d, dir, cls, &r, cur->real_ns);
				else
					line_text(d, dir, cls, &r);
			}
		}
	}
	fflush(stdout);
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

void stats_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* no SA_RESTART: a signal cuts the sleep short */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

bool stats_stopped(void)
{
	return stop;
}

int sleep_until(__u64 mono_ns)
{
	struct timespec ts = {
		.tv_sec = mono_ns / NSEC_PER_SEC,
		.tv_nsec = mono_ns % NSEC_PER_SEC,
	};

	while (!stop) {
		int err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);

		if (!err)
			return 0;
		if (err != EINTR)
			return -err;
	}
	return -EINTR;
}

static int stats_parse(struct stats_args *a, const struct opts *o, int argc,
		       char **argv)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->interval = 1;
	a->json = o->json;
	for (i = 0; i < argc; i++) {
		const char *w = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(w, "--influx") || !strcmp(w, "influx")) {
			a->influx = true;
		} else if (!strcmp(w, "-j") || !strcmp(w, "--json")) {
			a->json = true;
		} else if (!strcmp(w, "interval")) {
			if (!v || parse_secs(v, &a->interval)) {
				pr_warn("Illegal \"interval\" value \"%s\": want seconds > 0\n",
					v ? v : "");
				return -EUSAGE;
			}
			i++;
		} else if (!strcmp(w, "count")) {
			char *end;

			errno = 0;
			a->count = v ? strtoull(v, &end, 10) : 0;
			if (!v || *end || !*v || errno || !a->count || *v == '-') {
				pr_warn("Illegal \"count\" value \"%s\": want a number > 0\n",
					v ? v : "");
				return -EUSAGE;
			}
			i++;
		} else if (!strcmp(w, "net") && !a->dev && !a->by_net) {
			if (!v || netid_parse(v, &a->netid)) {
				pr_warn("Illegal network id \"%s\": want hex, e.g. 01a2\n",
					v ? v : "");
				return -EUSAGE;
			}
			a->by_net = true;
			i++;
		} else if (!a->dev && !a->by_net && i == 0) {
			a->dev = w;
		} else {
			pr_warn("stats: what is \"%s\"?\n", w);
			return -EUSAGE;
		}
	}
	if (a->json && a->influx) {
		pr_warn("stats: -j and --influx exclude each other\n");
		return -EUSAGE;
	}
	return 0;
}

int cmd_stats(const struct opts *o, int argc, char **argv)
{
	struct sample_set old, cur;
	struct stats_args a;
	__u64 next, step;
	unsigned long long n;
	int i, err;

	err = stats_parse(&a, o, argc, argv);
	if (err)
		return err;
	err = sample_read(&old);
	if (err)
		return err;
	if (a.dev || a.by_net) {
		for (i = 0; i < old.n; i++)
			if (selected(&a, &old.devs[i]))
				break;
		if (i == old.n) {
			if (a.dev)
				pr_warn("%s has no limiter\n", a.dev);
			else
				pr_warn("no interface of network %llx has a limiter "
					"in this namespace\n", a.netid);
			sample_free(&old);
			return -ENOENT;
		}
	}
	stats_signals();
	step = (__u64)(a.interval * NSEC_PER_SEC);
	next = old.mono_ns;
	for (n = 0; !a.count || n < a.count; n++) {
		next += step;
		if (sleep_until(next))
			break;
		err = sample_read(&cur);
		if (err)
			break;
		print_interval(&a, &old, &cur);
		sample_free(&old);
		old = cur;
	}
	sample_free(&old);
	return err == -EINTR ? 0 : err;
}
