// SPDX-License-Identifier: GPL-2.0-only
/*
 * stats.c - `tcbpf stats`: per-interval rates of every limited device of
 * this namespace, per direction and class, as text, JSON lines (-j) or
 * InfluxDB line protocol (--influx).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/loop.h"
#include "cli/print.h"
#include "lib/names.h"
#include "lib/netid.h"
#include "lib/units.h"
#include "util/clock.h"
#include "util/log.h"

struct stats_args {
	const char *dev;
	bool by_net;
	unsigned long long netid;
	double interval;
	unsigned long long count;	/* 0: until interrupted */
	bool influx;
	bool json;
};

static __u64 u64_round(double v)
{
	return v > 0 ? (__u64)(v + 0.5) : 0;
}

static bool selected(const struct stats_args *a, const struct dev_sample *d)
{
	if (a->dev)
		return !strcmp(a->dev, d->ifname);
	if (a->by_net)
		return netid_match(d->ifname, a->netid);
	return true;
}

/* One device, direction and class: a JSON line or a table row. */
static void print_line(bool json, const struct dev_sample *d, int dir, int cls,
		       const struct rate *r, __u64 ts, double secs)
{
	char key[48], buf[16];
	int k;

	print_start(json);
	print_open_object(NULL);
	print_u64(PRINT_JSON, "time_ns", NULL, ts);
	print_u64(PRINT_JSON, "interval_ms", NULL, u64_round(secs * 1000));
	print_string(PRINT_ANY, "ifname", "%-15s", d->ifname);
	print_u64(PRINT_JSON, "ifindex", NULL, d->ifindex);
	if (d->netid[0])
		print_string(PRINT_JSON, "netid", NULL, d->netid);
	else
		print_null(PRINT_JSON, "netid", NULL);
	print_string(PRINT_ANY, "dir", " %-7s", dir_name(dir));
	print_string(PRINT_ANY, "class", " %-7s", class_name(cls));
	print_string(PRINT_ANY, "mode", " %-7s", mode_name(d->cfg[dir].mode));
	for (k = 0; k < RATE_N; k++) {
		snprintf(key, sizeof(key), "%s_bits_per_sec", rate_name[k]);
		print_u64(PRINT_JSON, key, NULL, u64_round(r->bps[k]));
		print_string(PRINT_FP, NULL, " %10s",
			     fmt_bits(buf, sizeof(buf), r->bps[k]));
		snprintf(key, sizeof(key), "%s_packets_per_sec", rate_name[k]);
		print_u64(PRINT_JSON, key, NULL, u64_round(r->pps[k]));
		print_string(PRINT_FP, NULL, " %8s",
			     fmt_bits(buf, sizeof(buf), r->pps[k]));
	}
	print_text("\n");
	print_close_object();
	print_end();	/* JSON: one object per line */
}

/* tcbpf_rate,dev=..,dir=..,class=..[,netid=..] seen_bps=1i,... TIMESTAMP */
static void line_influx(const struct dev_sample *d, int dir, int cls,
			const struct rate *r, __u64 ts)
{
	int k;

	fputs("tcbpf_rate", stdout);
	print_influx_tag(stdout, "dev", d->ifname);
	print_influx_tag(stdout, "dir", dir_name(dir));
	print_influx_tag(stdout, "class", class_name(cls));
	if (d->netid[0])
		print_influx_tag(stdout, "netid", d->netid);
	for (k = 0; k < RATE_N; k++)
		printf("%c%s_bps=%lldi,%s_pps=%lldi", k ? ',' : ' ',
		       rate_name[k], (long long)u64_round(r->bps[k]), rate_name[k],
		       (long long)u64_round(r->pps[k]));
	printf(" %llu\n", (unsigned long long)ts);
}

static void header_text(const struct sample_set *s, double secs)
{
	char when[64];
	time_t t = s->real_ns / NSEC_PER_SEC;
	struct tm tm;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z",
		 localtime_r(&t, &tm));
	printf("# %s, %.2f s\n", when, secs);
	printf("%-15s %-7s %-7s %-7s %10s %8s %10s %8s %10s %8s %10s %8s\n",
	       "DEV", "DIR", "CLASS", "MODE", "seen b/s", "pkt/s", "passed",
	       "pkt/s", "dropped", "pkt/s", "would-drop", "pkt/s");
}

#define STATS_TOP_VNIS	10

/* One VXLAN network of an underlay: a JSON line, Influx line or row. */
static void vni_line(const struct stats_args *a, const struct dev_sample *d,
		     const struct vni_rate *v, __u64 ts, double secs)
{
	char vn[16], b1[16], b2[16], b3[16], b4[16];
	int dir;

	vni_name(v->vni, vn, sizeof(vn));
	if (a->influx) {
		fputs("tcbpf_vxlan_rate", stdout);
		print_influx_tag(stdout, "dev", d->ifname);
		print_influx_tag(stdout, "netid", vn);
		for (dir = 0; dir < TCBPF_NDIR; dir++)
			printf("%c%s_bps=%lldi,%s_pps=%lldi,%s_dropped_bps=%lldi",
			       dir ? ',' : ' ', dir_name(dir),
			       (long long)u64_round(v->bps[dir]), dir_name(dir),
			       (long long)u64_round(v->pps[dir]), dir_name(dir),
			       (long long)u64_round(v->drop_bps[dir]));
		printf(" %llu\n", (unsigned long long)ts);
		return;
	}
	if (!a->json) {
		printf("  vni %-8s in %10s %8s  out %10s %8s  dropped %s / %s\n",
		       vn, fmt_bits(b1, sizeof(b1), v->bps[TCBPF_INGRESS]),
		       fmt_bits(b2, sizeof(b2), v->pps[TCBPF_INGRESS]),
		       fmt_bits(b3, sizeof(b3), v->bps[TCBPF_EGRESS]),
		       fmt_bits(b4, sizeof(b4), v->pps[TCBPF_EGRESS]),
		       fmt_bits(b1, sizeof(b1), v->drop_bps[TCBPF_INGRESS]),
		       fmt_bits(b2, sizeof(b2), v->drop_bps[TCBPF_EGRESS]));
		return;
	}
	print_start(true);
	print_open_object(NULL);
	print_u64(PRINT_JSON, "time_ns", NULL, ts);
	print_u64(PRINT_JSON, "interval_ms", NULL, u64_round(secs * 1000));
	print_string(PRINT_JSON, "ifname", NULL, d->ifname);
	print_string(PRINT_JSON, "netid", NULL, vn);
	print_u64(PRINT_JSON, "vni", NULL, v->vni);
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		print_open_object(dir_name(dir));
		print_u64(PRINT_JSON, "bits_per_sec", NULL, u64_round(v->bps[dir]));
		print_u64(PRINT_JSON, "packets_per_sec", NULL,
			  u64_round(v->pps[dir]));
		print_u64(PRINT_JSON, "dropped_bits_per_sec", NULL,
			  u64_round(v->drop_bps[dir]));
		print_u64(PRINT_JSON, "dropped_packets_per_sec", NULL,
			  u64_round(v->drop_pps[dir]));
		print_close_object();
	}
	print_close_object();
	print_end();
}

/* A VXLAN underlay: its top networks by bits/s, then pkt/s. */
static void print_vnis(const struct stats_args *a, const struct dev_sample *o,
		       const struct dev_sample *d, double secs, __u64 ts)
{
	struct vni_rate *r;
	int i, n;

	if (vni_rates(o->vnis, o->nvni, d->vnis, d->nvni, secs, &r, &n))
		return;
	if (!a->json && !a->influx)
		printf("%s: top VXLAN networks of %d (in = arriving, out = "
		       "leaving; bits/s, pkt/s)\n", d->ifname, n);
	for (i = 0; i < n && i < STATS_TOP_VNIS; i++)
		vni_line(a, d, &r[i], ts, secs);
	free(r);
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
				if (a->influx)
					line_influx(d, dir, cls, &r, cur->real_ns);
				else
					print_line(a->json, d, dir, cls, &r,
						   cur->real_ns, secs);
			}
		}
		if (d->nvni)
			print_vnis(a, o, d, secs, cur->real_ns);
	}
	fflush(stdout);
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
			if (!v || parse_secs(v, &a->interval))
				return usage_error("Illegal \"interval\" value "
						   "\"%s\": want seconds > 0",
						   v ? v : "");
			i++;
		} else if (!strcmp(w, "count")) {
			char *end;

			errno = 0;
			a->count = v ? strtoull(v, &end, 10) : 0;
			if (!v || *end || !*v || errno || !a->count || *v == '-')
				return usage_error("Illegal \"count\" value \"%s\": "
						   "want a number > 0", v ? v : "");
			i++;
		} else if (!strcmp(w, "net") && !a->dev && !a->by_net) {
			if (!v || netid_parse(v, &a->netid))
				return usage_error("Illegal network id \"%s\": want "
						   "hex, e.g. 01a2", v ? v : "");
			a->by_net = true;
			i++;
		} else if (!a->dev && !a->by_net && i == 0) {
			char msg[256];

			if (dev_name_check(w, msg, sizeof(msg)))
				return usage_error("%s", msg);
			a->dev = w;
		} else {
			return usage_error("stats: what is \"%s\"?", w);
		}
	}
	if (a->json && a->influx)
		return usage_error("stats: -j and --influx exclude each other");
	return 0;
}

int cmd_stats(const struct opts *o, int argc, char **argv)
{
	struct sample_set old, cur;
	struct stats_args a;
	struct lim *l;
	__u64 next, step;
	unsigned long long n;
	int i, err;

	err = stats_parse(&a, o, argc, argv);
	if (err)
		return err;
	l = cli_lim(o);
	if (!l)
		return -ENOMEM;
	err = lim_sample(l, &old);
	if (err) {
		err = cli_fail(l, err);
		goto out;
	}
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
			err = -ENOENT;
			goto out;
		}
	}
	loop_signals();
	step = (__u64)(a.interval * NSEC_PER_SEC);
	next = old.mono_ns;
	for (n = 0; !a.count || n < a.count; n++) {
		next += step;
		if (sleep_until(next))
			break;
		err = lim_sample(l, &cur);
		if (err) {
			err = cli_fail(l, err);
			break;
		}
		print_interval(&a, &old, &cur);
		sample_free(&old);
		old = cur;
	}
	sample_free(&old);
out:
	lim_close(l);
	return err == -EINTR ? 0 : err;
}
