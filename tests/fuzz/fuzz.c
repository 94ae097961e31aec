// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz.c - differential fuzzer of the data plane's parsing, classification
 * and length accounting.
 *
 * Generates frames (gen.c), runs each through BPF_PROG_TEST_RUN twice:
 *   - the harness (harness.bpf.c): bpf/parse.h + bpf/classify.h, results
 *     in the skb's cb[] words;
 *   - the real limiter (.output/tcbpf.bpf.o, a private unpinned copy as
 *     tests/bpf_test.c loads it) with settings made by the CLI's own
 *     spec_parse() + cfg_from_spec(): the allowlist under test, the allow
 *     class unlimited, the default class at 1 bit/s whose one-byte burst
 *     is drained before the run, so that every default-class frame is
 *     dropped and every allow-class frame passes;
 * and streams frames and results in batches to the reference classifier
 * (ref.py, written from the RFCs, sharing nothing with bpf/), which checks
 * them field by field and replies with its count of mismatches.
 *
 *   fuzz [-n FRAMES] [-s SEED] [-b BATCH] [-m MAX] [-a ALLOW] [-p RULE]
 *        [-r REF] [-c]
 *
 * -c has the reference print a summary of what the frames covered.
 * -p RULE runs the self-test: the reference flips RULE (FUZZ_PLANT in its
 * environment), and the run passes only if that is reported.
 * Prints one "PASS: fuzz ..." or "FAIL: fuzz ..." line; exits 1 on failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tcbpf.h"
#include "harness.skel.h"
#include "fuzz.h"
#include "gen.h"
#include "private.h"
#include "lib/cfg.h"
#include "lib/maps.h"
#include "lib/names.h"
#include "lib/spec.h"

#define LO_IFINDEX	1	/* test_run wants a real device for tc */
#define TC_ACT_UNSPEC	(-1)
#define TC_ACT_SHOT	2
#define PRIMER_LEN	1514
#define DEFAULT_ALLOW	"22,3389,tcp/80,udp/53,sctp/3868,1000-2000," \
			"tcp/5000-5010,udp/5005-6000,sctp/40000-65535"

struct opts {
	__u64 frames;
	__u64 seed;
	__u32 batch;
	__u32 max_mismatch;
	const char *allow;
	const char *plant;
	const char *ref;
	bool coverage;		/* the reference prints what was covered */
};

static struct tcbpf t;		/* the private copy, for the lib's helpers */
static struct tcbpf_bpf *real;
static struct harness_bpf *hs;
static int harness_fd;

/* ---- setup -------------------------------------------------------------- */

static int print_fn(enum libbpf_print_level level, const char *fmt,
		    va_list ap)
{
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

/* Private copies of both objects: nothing pinned, no pin reused. */
static int load(void)
{
	real = private_load(&t);
	hs = harness_bpf__open_and_load();
	if (!real || !hs) {
		fprintf(stderr, "fuzz: loading the BPF objects failed\n");
		return -1;
	}
	harness_fd = bpf_program__fd(hs->progs.fuzz_harness);
	return 0;
}

/*
 * Settings of both directions from the SPEC words the CLI would take;
 * the same allowlist goes to the harness. Fills @ports with the edges of
 * every allowlist entry for the generator.
 */
static int configure(const char *allow, __u16 *ports, int *nports)
{
	char *argv[] = { "mode", "police", "rate", "1bit", "burst", "1b",
			 "allow-rate", "1tbit", "allow-burst", "4gb",
			 "allow", (char *)allow };
	struct spec spec;
	char err[256];
	__u32 dir, i;
	int n = 0;

	if (spec_parse(&spec, sizeof(argv) / sizeof(argv[0]), argv, err,
		       sizeof(err))) {
		fprintf(stderr, "fuzz: allowlist \"%s\": %s\n", allow, err);
		return -1;
	}
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		struct tcbpf_cfg cfg = {};
		struct spec_dir d;

		spec_defaults(&d, dir);
		spec_apply(&d, &spec.dir[dir]);
		cfg_from_spec(&cfg, &d);
		cfg.hook = TCBPF_HOOK_TC;
		strcpy(cfg.ifname, "lo");
		if (maps_put(&t, LO_IFINDEX, dir, &cfg)) {
			fprintf(stderr, "fuzz: writing settings: %s\n",
				strerror(errno));
			return -1;
		}
		hs->bss->fuzz_cfg[dir] = cfg.prof;
		for (i = 0; dir == 0 && i < cfg.nports; i++) {
			ports[n++] = cfg.ports[i].lo - 1;
			ports[n++] = cfg.ports[i].lo;
			ports[n++] = cfg.ports[i].hi;
			ports[n++] = cfg.ports[i].hi + 1;
		}
	}
	ports[n++] = 0;
	ports[n++] = 65535;
	*nports = n;
	return 0;
}

/* ---- running ------------------------------------------------------------ */

static int test_run(int fd, const void *data, size_t len, __u32 dir,
		    struct __sk_buff *out, __u32 *retval)
{
	struct __sk_buff ctx = { .ifindex = LO_IFINDEX, .cb = { dir } };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = data,
		.data_size_in = len,
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.ctx_out = out,
		.ctx_size_out = out ? sizeof(*out) : 0,
		.repeat = 1,
	);
	int err = bpf_prog_test_run_opts(fd, &opts);

	*retval = opts.retval;
	return err ? -errno : 0;
}

/*
 * Drain the default class's one-byte burst at 1 bit/s: a full-size frame
 * of an unknown ethertype (default class) passes on the full bucket and
 * leaves it owing hours, so the next one must be dropped.
 */
static int prime(void)
{
	static __u8 frame[PRIMER_LEN];
	__u32 dir, rv;
	int i;

	frame[12] = 0x88;	/* IEEE 802 local experimental ethertype */
	frame[13] = 0xb5;
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		for (i = 0; i < 4; i++) {
			if (test_run(t.prog_fd[dir], frame, sizeof(frame),
				     dir, NULL, &rv))
				return -1;
			if ((int)rv == TC_ACT_SHOT)
				break;
		}
		if (i == 0 || i == 4) {
			fprintf(stderr, "fuzz: priming %s: the default class "
				"did not %s\n", dir_name(dir),
				i ? "start dropping" : "pass its first frame");
			return -1;
		}
	}
	return 0;
}

static int read_stats(__u32 dir, struct tcbpf_stats *s)
{
	int err = maps_read_stats(&t, LO_IFINDEX, dir, s);

	if (err)
		fprintf(stderr, "fuzz: reading counters: %s\n", strerror(-err));
	return err;
}

static void counters(const struct tcbpf_stats *s, __u64 c[2][4])
{
	int k;

	for (k = 0; k < TCBPF_NCLASS; k++) {
		c[k][0] = s->cls[k].pass_pkts;
		c[k][1] = s->cls[k].pass_bytes;
		c[k][2] = s->cls[k].drop_pkts;
		c[k][3] = s->cls[k].drop_bytes;
	}
}

struct run {
	struct gen gen;
	__u64 base[2][2][4];	/* counters after priming */
	__u64 last[2][2][4];	/* counters after the previous frame */
	__u64 frames, cls[2], ports;
};

/* Run one frame through both programs into @r and append it to @buf. */
static int one(struct run *run, struct gframe *f, __u8 *buf, size_t *off)
{
	struct fuzz_rec *rec = (struct fuzz_rec *)(buf + *off);
	struct __sk_buff out = {};
	struct tcbpf_stats s;
	__u64 now[2][4];
	__u32 dir = gen_rand(&run->gen) & 1, rv;
	int eh, er, k, i;

	gen_frame(&run->gen, f);
	run->frames++;
	memset(rec, 0, sizeof(*rec));
	rec->len = f->len;
	rec->dir = dir;
	eh = test_run(harness_fd, f->b, f->len, dir, &out, &rv);
	er = test_run(t.prog_fd[dir], f->b, f->len, dir, NULL, &rv);
	if (!eh && !er) {
		rec->status = FUZZ_RAN;
		memcpy(rec->cb, out.cb, sizeof(rec->cb));
		rec->verdict = rv;
		run->cls[(out.cb[0] & 0xff) ? 1 : 0]++;
		run->ports += !!(out.cb[0] >> 8 & 1);
	} else {
		rec->status = eh == -EINVAL && er == -EINVAL ? FUZZ_REFUSED :
			      FUZZ_ERROR;
		rec->err = eh ? eh : er;
	}
	if (read_stats(dir, &s))
		return -1;
	counters(&s, now);
	for (k = 0; k < 2; k++)
		for (i = 0; i < 4; i++) {
			rec->cnt[k][i] = now[k][i] - run->last[dir][k][i];
			run->last[dir][k][i] = now[k][i];
		}
	memcpy(rec + 1, f->b, f->len);
	*off += sizeof(*rec) + f->len;
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Build, run and send one batch of @n frames, then the counters' totals. */
static int batch(struct run *run, int wfd, __u8 *buf, __u64 first, __u32 n)
{
	static struct gframe f;
	struct fuzz_batch *hdr = (struct fuzz_batch *)buf;
	struct fuzz_totals tot;
	struct tcbpf_stats s;
	size_t off = sizeof(*hdr);
	__u64 now[2][4];
	__u32 i, dir;
	int k, j;

	hdr->magic = FUZZ_BATCH_MAGIC;
	hdr->n = n;
	hdr->first = first;
	for (i = 0; i < n; i++)
		if (one(run, &f, buf, &off))
			return -1;
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		if (read_stats(dir, &s))
			return -1;
		counters(&s, now);
		for (k = 0; k < 2; k++)
			for (j = 0; j < 4; j++)
				tot.c[dir][k][j] = now[k][j] -
						   run->base[dir][k][j];
	}
	memcpy(buf + off, &tot, sizeof(tot));
	off += sizeof(tot);
	if (write_all(wfd, buf, off)) {
		fprintf(stderr, "fuzz: the reference stopped reading\n");
		return -1;
	}
	return 0;
}

/* Start the reference with pipes both ways; FUZZ_PLANT set for a self-test. */
static pid_t spawn(const struct opts *o, int *wfd, int *rfd)
{
	int to[2], from[2];
	char maxbuf[16];
	pid_t pid;

	if (pipe2(to, O_CLOEXEC) || pipe2(from, O_CLOEXEC))
		return -1;
	fcntl(to[1], F_SETPIPE_SZ, 1 << 20);	/* best effort */
	snprintf(maxbuf, sizeof(maxbuf), "%u", o->max_mismatch);
	pid = fork();
	if (pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 3);
		if (o->plant)
			setenv("FUZZ_PLANT", o->plant, 1);
		execlp("python3", "python3", o->ref, "--allow", o->allow,
		       "--max", maxbuf, "--reply-fd", "3",
		       o->coverage ? "--coverage" : NULL, (char *)NULL);
		fprintf(stderr, "fuzz: running python3 %s: %s\n", o->ref,
			strerror(errno));
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	*wfd = to[1];
	*rfd = from[0];
	return pid;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The whole run: batches go out one ahead of the replies, so generating and
 * running (here) overlaps with checking (the reference, on the other CPU).
 */
static int fuzz(const struct opts *o, struct run *run, struct fuzz_reply *sum)
{
	size_t cap = sizeof(struct fuzz_batch) + sizeof(struct fuzz_totals) +
		     (size_t)o->batch * (sizeof(struct fuzz_rec) + FUZZ_FRAME_MAX);
	__u8 *buf = malloc(cap);
	__u64 done = 0, next_info = 1000000;
	int wfd, rfd, inflight = 0, status, err = 0;
	struct fuzz_reply rep;
	pid_t pid;

	if (!buf)
		return -1;
	pid = spawn(o, &wfd, &rfd);
	if (pid < 0) {
		free(buf);
		return -1;
	}
	while (!err && (done < o->frames || inflight)) {
		if (done < o->frames) {
			__u32 n = o->frames - done < o->batch ?
				  o->frames - done : o->batch;

			err = batch(run, wfd, buf, done, n);
			done += n;
			inflight++;
			if (inflight < 2 && done < o->frames)
				continue;
		}
		if (read_all(rfd, &rep, sizeof(rep))) {
			fprintf(stderr, "fuzz: the reference died\n");
			err = -1;
			break;
		}
		inflight--;
		sum->checked += rep.checked;
		sum->mismatches += rep.mismatches;
		sum->refused += rep.refused;
		if (sum->mismatches >= o->max_mismatch)
			break;
		if (done >= next_info && o->frames >= 2000000) {
			fprintf(stderr, "info: fuzz: %llu frames\n",
				(unsigned long long)done);
			next_info += 1000000;
		}
	}
	close(wfd);
	close(rfd);
	/* It exits 1 when it saw mismatches, 0 when not; anything else (a
	 * Python traceback is 1 too) is its own failure. */
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != (sum->mismatches ? 1 : 0)) {
		fprintf(stderr, "fuzz: the reference failed (status %#x)\n",
			status);
		err = -1;
	}
	free(buf);
	return err;
}

static int setup(struct run *run, const struct opts *o)
{
	static __u16 ports[4 * TCBPF_MAX_PORTS + 2];
	struct tcbpf_stats s;
	cpu_set_t one_cpu;
	int nports, cpu = sched_getcpu();
	__u32 dir;

	/*
	 * One CPU for all test runs: the default class is drained on it, and
	 * a limiter that gives each CPU its own share of a bucket then still
	 * has nothing left to pass.
	 */
	CPU_ZERO(&one_cpu);
	CPU_SET(cpu < 0 ? 0 : cpu, &one_cpu);
	sched_setaffinity(0, sizeof(one_cpu), &one_cpu);

	if (load() || configure(o->allow, ports, &nports) || prime())
		return -1;
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		if (read_stats(dir, &s))
			return -1;
		counters(&s, run->base[dir]);
		counters(&s, run->last[dir]);
	}
	gen_init(&run->gen, o->seed, ports, nports);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: fuzz [-n FRAMES] [-s SEED] [-b BATCH] "
		"[-m MAX_MISMATCHES] [-a ALLOWLIST] [-p PLANTED_RULE] "
		"[-r REFERENCE.py] [-c]\n");
	exit(2);
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){ .frames = 200000, .seed = 0x7cbf, .batch = 2048,
			    .max_mismatch = 20, .allow = DEFAULT_ALLOW,
			    .ref = "tests/fuzz/ref.py" };
	while ((c = getopt(argc, argv, "n:s:b:m:a:p:r:c")) != -1) {
		switch (c) {
		case 'n': o->frames = strtoull(optarg, NULL, 0); break;
		case 's': o->seed = strtoull(optarg, NULL, 0); break;
		case 'b': o->batch = strtoul(optarg, NULL, 0); break;
		case 'm': o->max_mismatch = strtoul(optarg, NULL, 0); break;
		case 'a': o->allow = optarg; break;
		case 'p': o->plant = optarg; break;
		case 'r': o->ref = optarg; break;
		case 'c': o->coverage = true; break;
		default: usage();
		}
	}
	if (optind != argc || !o->frames || !o->batch || !o->max_mismatch)
		usage();
}

int main(int argc, char **argv)
{
	struct fuzz_reply sum = {};
	struct run run = {};
	struct opts o;
	double t0, secs;
	int err;

	parse_opts(argc, argv, &o);
	if (geteuid() != 0) {
		printf("SKIP: fuzz: needs root for BPF_PROG_TEST_RUN\n");
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	libbpf_set_print(print_fn);
	if (setup(&run, &o)) {
		printf("FAIL: fuzz: setup failed (see above)\n");
		err = -1;
		goto out;
	}
	t0 = now_s();
	err = fuzz(&o, &run, &sum);
	secs = now_s() - t0;
	/* The kernel's view of every frame run (the last batches may not
	 * have been checked when the run stopped early). */
	fprintf(stderr, "info: fuzz: %llu run: %llu default, %llu allow, "
		"%llu with ports, the rest refused by test_run; %u checked, "
		"%u of them refused, in %.1f s, %.0f frames/s\n",
		(unsigned long long)run.frames, (unsigned long long)run.cls[0],
		(unsigned long long)run.cls[1], (unsigned long long)run.ports,
		sum.checked, sum.refused, secs, sum.checked / secs);
	if (o.plant) {
		/* The self-test: the planted disagreement must be caught. */
		err = err || !sum.mismatches;
		printf("%s: fuzz self-test: reference with \"%s\" flipped: "
		       "%u mismatches in %u frames\n", err ? "FAIL" : "PASS",
		       o.plant, sum.mismatches, sum.checked);
	} else {
		err = err || sum.mismatches || sum.checked != o.frames;
		printf("%s: fuzz: %u of %llu frames checked (seed %#llx), "
		       "%u mismatches, %.1f s, %.0f frames/s\n",
		       err ? "FAIL" : "PASS", sum.checked,
		       (unsigned long long)o.frames,
		       (unsigned long long)o.seed, sum.mismatches, secs,
		       sum.checked / secs);
	}
out:
	tcbpf_bpf__destroy(real);
	harness_bpf__destroy(hs);
	return err ? 1 : 0;
}
