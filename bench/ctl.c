// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctl.c - control-plane timings in-process: tcbpf's attach, change and
 * detach called as functions of the CLI's own library (the user/ objects
 * but main.o), and the raw map update a change boils down to. The CLI as
 * a process is timed by bench/lib.sh, next to the old recipe's commands.
 *
 *   ctl [-n NETNS] [-a ATTACH_SPEC] cycle DEV N SPEC_CHANGE...
 *       in-process: N times lim_attach(DEV, ATTACH_SPEC: one string, words
 *       split at blanks; default: the defaults), lim_change(DEV,
 *       SPEC_CHANGE), lim_detach(DEV); then N times the raw update: the
 *       pinned tcbpf_cfg entries of DEV read, their rate rewritten and
 *       written back (bpf_map_lookup_elem + bpf_map_update_elem, both
 *       directions), with and without opening the pin (bpf_obj_get).
 *   ctl [-n NETNS] attach-many|detach-many PREFIX COUNT
 *       in-process attach (defaults) or detach of PREFIX0..PREFIX<COUNT-1>.
 *   ctl [-n NETNS] hold DEV ingress|egress empty|floor SECS
 *       attach bench/floor.bpf.c's empty or floor program to DEV with a tcx
 *       link (kernel >= 6.6), print "ready", and keep it there until killed
 *       or SECS have passed; the link goes with the process. For the
 *       throughput columns "empty tc program" and "floor program".
 *
 * One JSON object on stdout; times in microseconds.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/limiter.h"
#include "lib/spec.h"
#include "lib/bucket.h"
#include "kern/obj.h"
#include "kern/netns.h"
#include "util/log.h"
#include "tcbpf.h"
#include "floor.skel.h"

#define NSEC_PER_SEC	1000000000LL
#define MAX_N		10000

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* "name": {"n", "median", "p90", "min", "max", "mean"} in microseconds */
static void stats(const char *name, double *v, int n, const char *sep)
{
	double sum = 0;
	int i;

	if (n <= 0) {
		printf("\"%s\": null%s", name, sep);
		return;
	}
	for (i = 0; i < n; i++)
		sum += v[i];
	qsort(v, n, sizeof(*v), cmp_d);
	printf("\"%s\": {\"n\": %d, \"median_us\": %.1f, \"p90_us\": %.1f, "
	       "\"min_us\": %.1f, \"max_us\": %.1f, \"mean_us\": %.1f}%s",
	       name, n, n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2,
	       v[(int)(n * 0.9) < n ? (int)(n * 0.9) : n - 1], v[0], v[n - 1],
	       sum / n, sep);
}

static int spec_of(struct spec *s, int argc, char **argv)
{
	char err[256];

	if (spec_parse(s, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "ctl: bad spec: %s\n", err);
		return -1;
	}
	return 0;
}

/* The pins a raw change uses: the entries, the profiles, tcbpf_set. */
struct raw {
	int cfg, prof, set;
};

static void raw_close(struct raw *r)
{
	if (r->cfg >= 0)
		close(r->cfg);
	if (r->prof >= 0)
		close(r->prof);
	if (r->set >= 0)
		close(r->set);
}

static int raw_open(struct raw *r)
{
	char pin[PATH_MAX];

	r->cfg = bpf_obj_get(tcbpf_pin_path(pin, sizeof(pin), "tcbpf_cfg"));
	r->prof = bpf_obj_get(tcbpf_pin_path(pin, sizeof(pin), "tcbpf_prof"));
	r->set = bpf_obj_get(tcbpf_pin_path(pin, sizeof(pin), "tcbpf_set"));
	if (r->cfg < 0 || r->prof < 0 || r->set < 0) {
		raw_close(r);
		return -ENOENT;
	}
	return 0;
}

/*
 * What a change of the default class's rate of both directions of
 * @ifindex in the namespace @netns boils down to (map layout 3): the
 * entry read, each direction's settings written to a profile (the last
 * two, free in the bench) and the entry pointed at them in place by
 * tcbpf_set.
 */
static int raw_change(const struct raw *r, __u64 netns, int ifindex, __u64 rate)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	struct tcbpf_key key = { .netns = netns, .ifindex = ifindex };
	struct tcbpf_set_args a = { .key = key };
	struct tcbpf_bucket_cfg *bc;
	struct tcbpf_prof p;
	struct tcbpf_dev dev;
	__u32 k;
	int dir;

	if (bpf_map_lookup_elem(r->cfg, &key, &dev))
		return -errno;
	a.dirs = a.set = dev.dirs;
	a.hook = dev.hook;
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		const struct tcbpf_ddir *dd = &dev.dir[dir];

		if (!(dev.dirs & (1U << dir)))
			continue;
		k = dd->prof;
		if (bpf_map_lookup_elem(r->prof, &k, &p))
			return -errno;
		bc = &p.cls[TCBPF_CLASS_DEFAULT];
		bucket_from(bc, rate, bc->burst_bytes, bc->pps, bc->pburst_pkts);
		k = TCBPF_MAX_PROFS - 1 - dir;
		if (bpf_map_update_elem(r->prof, &k, &p, BPF_ANY))
			return -errno;
		a.id[dir] = dd->id;
		a.prof[dir] = k;
		a.flags[dir] = dd->flags;
		a.pace_ifindex[dir] = dd->pace_ifindex;
		memcpy(a.tl_old[dir], dd->tl, sizeof(dd->tl));
		memcpy(a.tl_new[dir], dd->tl, sizeof(dd->tl));
	}
	o.ctx_in = &a;
	o.ctx_size_in = sizeof(a);
	if (bpf_prog_test_run_opts(r->set, &o))
		return -errno;
	return a.ret;
}

/* The limiter library, opened once by main(). */
static struct lim *L;

static char *attach_words[32];
static int attach_nwords;

static int do_cycle(const char *dev, int n, int argc, char **argv)
{
	double *ta = calloc(n, sizeof(double)), *tc = calloc(n, sizeof(double));
	double *td = calloc(n, sizeof(double)), *tr = calloc(n, sizeof(double));
	double *to = calloc(n, sizeof(double));
	struct spec none, chg;
	struct raw r;
	int i, ifindex, fd, err = 0;
	double t0;

	if (!ta || !tc || !td || !tr || !to)
		return 1;
	memset(&none, 0, sizeof(none));
	if (spec_of(&chg, argc, argv) ||
	    (attach_nwords && spec_of(&none, attach_nwords, attach_words)))
		return 2;
	for (i = 0; i < n && !err; i++) {
		t0 = now_us();
		err = lim_attach(L, dev, &none);
		ta[i] = now_us() - t0;
		t0 = now_us();
		err = err ? err : lim_change(L, dev, &chg);
		tc[i] = now_us() - t0;
		t0 = now_us();
		err = err ? err : lim_detach(L, dev, NULL);
		td[i] = now_us() - t0;
	}
	if (err) {
		fprintf(stderr, "ctl: in-process cycle failed: %s\n",
			strerror(-err));
		return 1;
	}

	/* The raw update, on an attached device. */
	ifindex = if_nametoindex(dev);
	if (lim_attach(L, dev, &none))
		return 1;
	for (i = 0; i < n && !err; i++) {
		t0 = now_us();
		err = raw_open(&r);
		err = err ? err : raw_change(&r, netns_self(), ifindex, 20000000 + i);
		raw_close(&r);
		to[i] = now_us() - t0;
	}
	fd = err ? -1 : raw_open(&r);
	for (i = 0; i < n && !err && fd >= 0; i++) {
		t0 = now_us();
		err = raw_change(&r, netns_self(), ifindex, 30000000 + i);
		tr[i] = now_us() - t0;
	}
	if (fd >= 0)
		raw_close(&r);
	lim_detach(L, dev, NULL);
	if (err || fd < 0) {
		fprintf(stderr, "ctl: raw update failed: %s\n", strerror(-err));
		return 1;
	}
	printf("{");
	stats("attach", ta, n, ", ");
	stats("change", tc, n, ", ");
	stats("detach", td, n, ", ");
	stats("raw_update_open", to, n, ", ");
	stats("raw_update", tr, n, "");
	printf("}\n");
	return 0;
}

static int do_many(bool attach, const char *prefix, int count)
{
	struct spec none;
	char name[IF_NAMESIZE + 8];
	double t0, t;
	int i, fails = 0;

	memset(&none, 0, sizeof(none));
	t0 = now_us();
	for (i = 0; i < count; i++) {
		snprintf(name, sizeof(name), "%s%d", prefix, i);
		if (attach ? lim_attach(L, name, &none) : lim_detach(L, name, NULL))
			fails++;
	}
	t = now_us() - t0;
	printf("{\"count\": %d, \"total_us\": %.1f, \"per_device_us\": %.1f, "
	       "\"failures\": %d}\n", count, t, t / count, fails);
	return fails ? 1 : 0;
}

/* BPF_TCX_INGRESS / BPF_TCX_EGRESS (6.6), newer than Debian's headers. */
#define TCX_INGRESS_	46
#define TCX_EGRESS_	47

static int do_hold(const char *dev, const char *dir, const char *prog, int secs)
{
	struct floor_bpf *sk;
	int ifindex = if_nametoindex(dev), fd, link;

	if (!ifindex) {
		fprintf(stderr, "ctl: no device %s\n", dev);
		return 1;
	}
	sk = floor_bpf__open_and_load();
	if (!sk) {
		fprintf(stderr, "ctl: loading floor.bpf.o: %s\n", strerror(errno));
		return 1;
	}
	fd = bpf_program__fd(strcmp(prog, "floor") ? sk->progs.bench_empty :
						    sk->progs.bench_floor);
	link = bpf_link_create(fd, ifindex, strcmp(dir, "egress") ?
			       TCX_INGRESS_ : TCX_EGRESS_, NULL);
	if (link < 0) {
		fprintf(stderr, "ctl: tcx link on %s: %s\n", dev, strerror(errno));
		floor_bpf__destroy(sk);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	signal(SIGTERM, SIG_DFL);
	alarm(secs);		/* never outlive the run that started it */
	for (;;)
		pause();
}

static void usage(void)
{
	fprintf(stderr,
"usage: ctl [-n NETNS] [-a ATTACH_SPEC] cycle DEV N SPEC_CHANGE...\n"
"       ctl [-n NETNS] attach-many|detach-many PREFIX COUNT\n"
"       ctl [-n NETNS] hold DEV ingress|egress empty|floor SECS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *netns = NULL;
	int n;

	while (argc > 2 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "-n")) {
			netns = argv[2];
		} else if (!strcmp(argv[1], "-a")) {
			char *w = strtok(argv[2], " \t");

			for (; w && attach_nwords < 32; w = strtok(NULL, " \t"))
				attach_words[attach_nwords++] = w;
		} else {
			usage();
		}
		argc -= 2;
		argv += 2;
	}
	if (argc < 3)
		usage();
	log_level = 0;		/* the library's notes */
	log_init();
	libbpf_mute = 1;
	if (netns && netns_enter(netns))
		return 1;
	if (lim_open(&L, NULL))
		return 1;
	if (!strcmp(argv[1], "hold")) {
		if (argc != 6)
			usage();
		return do_hold(argv[2], argv[3], argv[4], atoi(argv[5]));
	}
	if (!strcmp(argv[1], "cycle")) {
		if (argc < 5)
			usage();
		n = atoi(argv[3]);
		if (n < 1 || n > MAX_N)
			usage();
		return do_cycle(argv[2], n, argc - 4, argv + 4);
	}
	if (!strcmp(argv[1], "attach-many") || !strcmp(argv[1], "detach-many")) {
		if (argc != 4 || (n = atoi(argv[3])) < 1 || n > MAX_N)
			usage();
		return do_many(argv[1][0] == 'a', argv[2], n);
	}
	usage();
	return 2;
}
