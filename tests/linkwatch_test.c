// SPDX-License-Identifier: GPL-2.0-only
/*
 * linkwatch_test.c - kern/linkwatch.c against the running kernel.
 *
 * Creates its own namespaces, tcbpf-lw-PID-{a,b,c}, with ip(8), and
 * removes them at exit, on a fatal signal too (umount + unlink of the
 * /run/netns entry, as `ip netns del` does). Devices are veth pairs
 * inside them (no dummy module here). One line per case, "PASS: name",
 * "FAIL: name: why" or "SKIP: name: why"; figures on "INFO:" lines;
 * exit 1 if any case failed. Without root or ip(8) every case is skipped.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kern/linkwatch.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define WAIT_MS		2000
#define CYCLES		10

enum { PASS, FAIL, SKIP };

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			snprintf(why, whylen, __VA_ARGS__);		\
			return FAIL;					\
		}							\
	} while (0)

static int verbose;
static char ns[3][64];		/* a, b, c: names in /run/netns */
static char ns_path[3][96];
static bool ns_made[3];

/* ---- namespaces, removed however the test ends ---- */

/* Async-signal-safe: what `ip netns del` does, by syscalls only. */
static void ns_cleanup(void)
{
	int i;

	for (i = 0; i < 3; i++) {
		if (!ns_made[i])
			continue;
		umount2(ns_path[i], MNT_DETACH);
		unlink(ns_path[i]);
		ns_made[i] = false;
	}
}

static void on_signal(int sig)
{
	ns_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

__attribute__((format(printf, 1, 2)))
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (verbose)
		fprintf(stderr, "+ %s\n", cmd);
	else
		strncat(cmd, " >/dev/null 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	st = system(cmd);
	if (st < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* @dev's ifindex in namespace @n as ip(8) sees it; -1 if none. */
static int ifindex_in(const char *n, const char *dev)
{
	char cmd[256];
	int idx = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip -n %s -o link show dev %s 2>/dev/null",
		 n, dev);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d:", &idx) != 1)
		idx = -1;
	pclose(f);
	return idx;
}

static int setup(char *why, size_t whylen)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT,
				    SIGABRT, SIGSEGV, SIGBUS };
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(ns[i], sizeof(ns[i]), "tcbpf-lw-%d-%c", getpid(),
			 (int)('a' + i));
		snprintf(ns_path[i], sizeof(ns_path[i]), "/run/netns/%s", ns[i]);
	}
	atexit(ns_cleanup);
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		signal(sigs[i], on_signal);
	for (i = 0; i < 3; i++) {
		if (sh("ip netns add %s", ns[i])) {
			snprintf(why, whylen, "ip netns add %s failed", ns[i]);
			return -1;
		}
		ns_made[i] = true;
	}
	return 0;
}

/* ---- events ---- */

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Everything a watcher reported, in order. */
struct seen {
	struct link_event ev[512];
	double at[512];		/* now_us() when read */
	int n;
	int lost;
};

static int collect(const struct link_event *ev, void *ctx)
{
	struct seen *s = ctx;

	if (s->n == (int)ARRAY_SIZE(s->ev)) {
		s->lost++;
		return 0;
	}
	s->at[s->n] = now_us();
	s->ev[s->n++] = *ev;
	return 0;
}

/* Index of the first report of @name (with gone == @gone) from @from on. */
static int find(const struct seen *s, int from, const char *name, bool gone)
{
	int i;

	for (i = from; i < s->n; i++)
		if (!strcmp(s->ev[i].ifname, name) && s->ev[i].gone == gone)
			return i;
	return -1;
}

/*
 * Read @lw into @s until a report of @name with @gone arrives from index
 * @from on, or WAIT_MS pass. Its index, -ETIMEDOUT or a read error.
 */
static int wait_for(struct linkwatch *lw, struct seen *s, int from,
		    const char *name, bool gone)
{
	struct pollfd pfd = { .fd = linkwatch_fd(lw), .events = POLLIN };
	double end = now_us() + WAIT_MS * 1000.0;
	int i, rc;

	while ((i = find(s, from, name, gone)) < 0) {
		double left = end - now_us();

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)(left / 1000) + 1) < 0 && errno != EINTR)
			return -errno;
		rc = linkwatch_read(lw, collect, s);
		if (rc < 0)
			return rc;
	}
	return i;
}

/* Whatever @lw has queued, after up to @ms for the first of it. */
static int drain(struct linkwatch *lw, linkwatch_cb cb, void *ctx, int ms)
{
	struct pollfd pfd = { .fd = linkwatch_fd(lw), .events = POLLIN };

	poll(&pfd, 1, ms);
	return linkwatch_read(lw, cb, ctx);
}

static ino_t thread_ns_ino(void)
{
	struct stat st;

	return stat("/proc/thread-self/ns/net", &st) ? 0 : st.st_ino;
}

/* ---- a daemon's view: ifindex -> name, from reports in order ---- */

#define VIEW_MAX	4096

struct view {
	char name[VIEW_MAX][IFNAMSIZ];
	int reports;
};

static int apply(const struct link_event *ev, void *ctx)
{
	struct view *v = ctx;

	if (ev->ifindex <= 0 || ev->ifindex >= VIEW_MAX)
		return -ERANGE;
	if (ev->gone)
		v->name[ev->ifindex][0] = '\0';
	else
		snprintf(v->name[ev->ifindex], IFNAMSIZ, "%s", ev->ifname);
	v->reports++;
	return 0;
}

/* ip(8)'s list of namespace @n's devices into @v. */
static int ip_view(const char *n, struct view *v)
{
	char cmd[128], name[IFNAMSIZ];
	int idx, count = 0;
	FILE *f;

	memset(v, 0, sizeof(*v));
	snprintf(cmd, sizeof(cmd), "ip -n %s -o link show", n);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	/* "12: lwq3@lwr3: <...> ..." */
	while (fscanf(f, "%d: %15[^:@ ]%*[^\n]\n", &idx, name) == 2) {
		if (idx <= 0 || idx >= VIEW_MAX)
			continue;
		memcpy(v->name[idx], name, IFNAMSIZ);
		count++;
	}
	pclose(f);
	return count;
}

/* First difference between two views, in @why; 0 when the same. */
static int view_diff(const struct view *got, const struct view *want,
		     char *why, size_t whylen)
{
	int i;

	for (i = 1; i < VIEW_MAX; i++) {
		if (strcmp(got->name[i], want->name[i])) {
			snprintf(why, whylen, "ifindex %d: watcher says \"%s\", "
				 "ip says \"%s\"", i, got->name[i],
				 want->name[i]);
			return 1;
		}
	}
	return 0;
}

/* A batch file for ip -batch, named in @path. */
static FILE *batch_open(char *path, size_t len)
{
	snprintf(path, len, "/tmp/tcbpf-lw-%d.batch", getpid());
	return fopen(path, "w");
}

/* ---- cases ---- */

static int t_cookie(char *why, size_t whylen)
{
	__u64 own, own2, path, a, a2, b;
	char err[256];
	int rc;

	rc = netns_cookie_of(NULL, &own, err, sizeof(err));
	if (rc == -ENOPROTOOPT) {
		snprintf(why, whylen, "kernel without SO_NETNS_COOKIE");
		return SKIP;
	}
	CHECK(!rc, "own namespace: %s", err);
	CHECK(!netns_cookie_of(NULL, &own2, err, sizeof(err)), "%s", err);
	CHECK(!netns_cookie_of("/proc/self/ns/net", &path, err, sizeof(err)),
	      "%s", err);
	CHECK(!netns_cookie_of(ns[0], &a, err, sizeof(err)), "%s", err);
	CHECK(!netns_cookie_of(ns[0], &a2, err, sizeof(err)), "%s", err);
	CHECK(!netns_cookie_of(ns[1], &b, err, sizeof(err)), "%s", err);
	CHECK(own == own2 && own == path, "own cookie not stable: %llu %llu %llu",
	      (unsigned long long)own, (unsigned long long)own2,
	      (unsigned long long)path);
	CHECK(a == a2, "cookie of %s not stable: %llu, %llu", ns[0],
	      (unsigned long long)a, (unsigned long long)a2);
	CHECK(a != b && a != own && b != own,
	      "cookies not distinct: own %llu a %llu b %llu",
	      (unsigned long long)own, (unsigned long long)a,
	      (unsigned long long)b);
	rc = netns_cookie_of("tcbpf-lw-no-such-ns", &a, err, sizeof(err));
	CHECK(rc == -ENOENT && strstr(err, "/run/netns/tcbpf-lw-no-such-ns"),
	      "missing namespace: rc %d \"%s\"", rc, err);
	return PASS;
}

/* Entering a namespace for the socket never leaves the thread there. */
static int t_open_restores(char *why, size_t whylen)
{
	struct linkwatch *lw = NULL;
	__u64 own, after, a, wc;
	ino_t ino = thread_ns_ino();
	char err[256];
	int rc;

	CHECK(ino, "cannot stat /proc/thread-self/ns/net");
	CHECK(!netns_cookie_of(NULL, &own, err, sizeof(err)), "%s", err);
	CHECK(!netns_cookie_of(ns[0], &a, err, sizeof(err)), "%s", err);
	rc = linkwatch_open(ns[0], &lw, err, sizeof(err));
	CHECK(!rc, "open: %s", err);
	rc = netns_cookie(linkwatch_fd(lw), &wc);
	linkwatch_close(lw);
	CHECK(!rc, "cookie of the watcher: %s", strerror(-rc));
	CHECK(wc == a, "watcher in namespace %llu, want %s's %llu",
	      (unsigned long long)wc, ns[0], (unsigned long long)a);
	CHECK(thread_ns_ino() == ino, "thread left in another namespace");
	CHECK(!netns_cookie_of(NULL, &after, err, sizeof(err)) && after == own,
	      "own cookie %llu after open, %llu before",
	      (unsigned long long)after, (unsigned long long)own);

	/* the error path restores too */
	err[0] = '\0';
	rc = linkwatch_open("tcbpf-lw-no-such-ns", &lw, err, sizeof(err));
	CHECK(rc == -ENOENT && strstr(err, "/run/netns/tcbpf-lw-no-such-ns"),
	      "missing namespace: rc %d \"%s\"", rc, err);
	rc = linkwatch_open("/proc/self/status", &lw, err, sizeof(err));
	CHECK(rc == -EINVAL && strstr(err, "/proc/self/status"),
	      "not a namespace: rc %d \"%s\"", rc, err);
	CHECK(thread_ns_ino() == ino, "thread moved by a failed open");
	return PASS;
}

static int t_dump_fresh(char *why, size_t whylen)
{
	static struct seen s;
	struct linkwatch *lw;
	char err[256];
	int rc;

	s.n = 0;
	CHECK(!linkwatch_open(ns[1], &lw, err, sizeof(err)), "open: %s", err);
	rc = linkwatch_dump(lw, collect, &s, WAIT_MS);
	linkwatch_close(lw);
	CHECK(rc == 1 && s.n == 1, "dump of a fresh namespace: rc %d, %d "
	      "reports, want 1 (lo)", rc, s.n);
	CHECK(!strcmp(s.ev[0].ifname, "lo") && s.ev[0].ifindex == 1 &&
	      !s.ev[0].gone && !s.ev[0].up, "got %s/%d gone %d up %d",
	      s.ev[0].ifname, s.ev[0].ifindex, s.ev[0].gone, s.ev[0].up);
	return PASS;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * veth pairs made and deleted in namespace a: NEW and DEL reports with
 * names and ifindexes, none in namespace b or in our own; latency from
 * ip(8) returning to the report read.
 */
static int t_events(char *why, size_t whylen)
{
	static struct seen s, sb, so;
	struct linkwatch *lw, *lb, *lo;
	double add[CYCLES], del[CYCLES], add_ip[CYCLES], t0, t1;
	int c, i, j, i0, i1, x0, x1;
	char err[256];

	s.n = sb.n = so.n = 0;
	CHECK(!linkwatch_open(ns[0], &lw, err, sizeof(err)), "open: %s", err);
	CHECK(!linkwatch_open(ns[1], &lb, err, sizeof(err)), "open: %s", err);
	CHECK(!linkwatch_open(NULL, &lo, err, sizeof(err)), "open: %s", err);
	for (c = 0; c < CYCLES; c++) {
		int from = s.n;

		t0 = now_us();
		CHECK(!sh("ip -n %s link add lwtest0 type veth peer name lwtest1",
			  ns[0]), "ip link add failed");
		t1 = now_us();
		i0 = wait_for(lw, &s, from, "lwtest0", false);
		i1 = wait_for(lw, &s, from, "lwtest1", false);
		CHECK(i0 >= 0 && i1 >= 0, "cycle %d: NEW lwtest0 %d, lwtest1 %d",
		      c, i0, i1);
		add[c] = s.at[i0 > i1 ? i0 : i1] - t1;
		add_ip[c] = s.at[i0 > i1 ? i0 : i1] - t0;
		x0 = ifindex_in(ns[0], "lwtest0");
		x1 = ifindex_in(ns[0], "lwtest1");
		CHECK(s.ev[i0].ifindex == x0 && s.ev[i1].ifindex == x1 && x0 > 1,
		      "ifindexes %d %d reported, ip says %d %d",
		      s.ev[i0].ifindex, s.ev[i1].ifindex, x0, x1);
		CHECK(!s.ev[i0].up, "lwtest0 reported up before ip link set up");

		from = s.n;
		CHECK(!sh("ip -n %s link set lwtest0 up", ns[0]), "set up failed");
		i = wait_for(lw, &s, from, "lwtest0", false);
		CHECK(i >= 0 && s.ev[i].up && s.ev[i].ifindex == x0,
		      "cycle %d: no up report for lwtest0 (%d)", c, i);

		from = s.n;
		CHECK(!sh("ip -n %s link del lwtest0", ns[0]), "ip link del failed");
		t1 = now_us();
		i0 = wait_for(lw, &s, from, "lwtest0", true);
		i1 = wait_for(lw, &s, from, "lwtest1", true);
		CHECK(i0 >= 0 && i1 >= 0, "cycle %d: DEL lwtest0 %d, lwtest1 %d",
		      c, i0, i1);
		CHECK(s.ev[i0].ifindex == x0 && s.ev[i1].ifindex == x1,
		      "DEL ifindexes %d %d, created as %d %d",
		      s.ev[i0].ifindex, s.ev[i1].ifindex, x0, x1);
		del[c] = s.at[i0 > i1 ? i0 : i1] - t1;
	}
	drain(lb, collect, &sb, 50);
	drain(lo, collect, &so, 0);
	linkwatch_close(lw);
	linkwatch_close(lb);
	linkwatch_close(lo);
	CHECK(!s.lost, "%d reports did not fit", s.lost);
	CHECK(sb.n == 0, "namespace b saw %d reports, first %s", sb.n,
	      sb.ev[0].ifname);
	/* our own namespace is shared with other work: look for our names */
	for (j = 0; j < so.n; j++)
		CHECK(strncmp(so.ev[j].ifname, "lwtest", 6),
		      "own namespace saw %s", so.ev[j].ifname);

	qsort(add, CYCLES, sizeof(add[0]), by_value);
	qsort(del, CYCLES, sizeof(del[0]), by_value);
	qsort(add_ip, CYCLES, sizeof(add_ip[0]), by_value);
	printf("INFO: linkwatch latency over %d cycles, from ip(8) returning "
	       "to the report read: add median %.0f us max %.0f us, del "
	       "median %.0f us max %.0f us; from before ip(8) started: add "
	       "median %.1f ms\n", CYCLES, add[CYCLES / 2], add[CYCLES - 1],
	       del[CYCLES / 2], del[CYCLES - 1], add_ip[CYCLES / 2] / 1000);
	return PASS;
}

/*
 * Subscribe, then dump: an event queued before the dump is reported
 * before the dump's entries, and the dump still lists the device. Then a
 * rename (same ifindex, new name) and a move to namespace b (gone here,
 * new there).
 */
static int t_dump_rename_move(char *why, size_t whylen)
{
	static struct seen s, sb;
	struct linkwatch *lw, *lb;
	int i, ilo, x2, x3, rc;
	char err[256];

	s.n = sb.n = 0;
	CHECK(!linkwatch_open(ns[0], &lw, err, sizeof(err)), "open: %s", err);
	CHECK(!linkwatch_open(ns[1], &lb, err, sizeof(err)), "open: %s", err);
	CHECK(!sh("ip -n %s link add lwtest2 type veth peer name lwtest3",
		  ns[0]), "ip link add failed");
	x2 = ifindex_in(ns[0], "lwtest2");
	x3 = ifindex_in(ns[0], "lwtest3");
	rc = linkwatch_dump(lw, collect, &s, WAIT_MS);
	CHECK(rc == s.n && rc >= 3, "dump: rc %d, %d reports", rc, s.n);
	i = find(&s, 0, "lwtest2", false);
	ilo = find(&s, 0, "lo", false);
	CHECK(i >= 0 && ilo >= 0 && i < ilo, "lwtest2's event at %d, lo's "
	      "entry at %d: the queued event must come first", i, ilo);
	CHECK(find(&s, ilo, "lwtest2", false) > ilo &&
	      find(&s, ilo, "lwtest3", false) > ilo,
	      "the dump did not list lwtest2 and lwtest3");
	CHECK(s.ev[i].ifindex == x2, "lwtest2 reported as %d, is %d",
	      s.ev[i].ifindex, x2);

	CHECK(!sh("ip -n %s link set lwtest2 name lwtest9", ns[0]),
	      "rename failed");
	i = wait_for(lw, &s, s.n, "lwtest9", false);
	CHECK(i >= 0 && s.ev[i].ifindex == x2, "rename: report %d, ifindex "
	      "%d, want %d", i, i >= 0 ? s.ev[i].ifindex : -1, x2);

	CHECK(!sh("ip -n %s link set lwtest3 netns %s", ns[0], ns[1]),
	      "move failed");
	i = wait_for(lw, &s, s.n, "lwtest3", true);
	CHECK(i >= 0 && s.ev[i].ifindex == x3, "move: no gone report in a "
	      "(%d)", i);
	i = wait_for(lb, &sb, 0, "lwtest3", false);
	CHECK(i >= 0 && sb.ev[i].ifindex == ifindex_in(ns[1], "lwtest3"),
	      "move: no new report in b (%d)", i);
	linkwatch_close(lw);
	linkwatch_close(lb);
	return PASS;
}

/*
 * A bridge announces a port leaving it with an AF_BRIDGE RTM_DELLINK:
 * the device stays, so no "gone" report.
 */
static int t_bridge_port(char *why, size_t whylen)
{
	static struct seen s;
	struct linkwatch *lw;
	char err[256];
	int i;

	s.n = 0;
	if (sh("ip -n %s link add lwbr0 type bridge", ns[0])) {
		snprintf(why, whylen, "no bridge support");
		return SKIP;
	}
	CHECK(!sh("ip -n %s link add lwtest4 type veth peer name lwtest5",
		  ns[0]), "ip link add failed");
	CHECK(!linkwatch_open(ns[0], &lw, err, sizeof(err)), "open: %s", err);
	CHECK(!sh("ip -n %s link set lwtest4 master lwbr0", ns[0]) &&
	      !sh("ip -n %s link set lwtest4 nomaster", ns[0]) &&
	      !sh("ip -n %s link set lwtest5 up", ns[0]),
	      "bridge port changes failed");
	/* lwtest5's up report comes after everything of lwtest4 */
	i = wait_for(lw, &s, 0, "lwtest5", false);
	linkwatch_close(lw);
	CHECK(i >= 0, "no report of lwtest5 up");
	CHECK(find(&s, 0, "lwtest4", false) >= 0, "no report of lwtest4 "
	      "joining the bridge");
	i = find(&s, 0, "lwtest4", true);
	CHECK(i < 0, "lwtest4 reported gone (report %d of %d) when it left "
	      "the bridge", i, s.n);
	return PASS;
}

/*
 * An open watcher holds its namespace: deleting the /run/netns name does
 * not destroy it; closing the watcher does. Seen through a veth whose
 * peer sits in namespace a.
 */
static int t_watch_holds_netns(char *why, size_t whylen)
{
	static struct seen s;
	struct linkwatch *lw, *lc;
	char err[256];
	double t0;
	int i;

	s.n = 0;
	CHECK(!sh("ip -n %s link add lwx0 type veth peer name lwx1 netns %s",
		  ns[2], ns[0]), "ip link add failed");
	CHECK(!linkwatch_open(ns[0], &lw, err, sizeof(err)), "open: %s", err);
	CHECK(!linkwatch_open(ns[2], &lc, err, sizeof(err)), "open: %s", err);
	CHECK(!sh("ip netns del %s", ns[2]), "ip netns del failed");
	ns_made[2] = false;
	drain(lw, collect, &s, 300);
	i = find(&s, 0, "lwx1", true);
	if (i >= 0) {
		linkwatch_close(lc);
		linkwatch_close(lw);
		CHECK(0, "lwx1 gone while a watcher held its peer's namespace");
	}
	t0 = now_us();
	linkwatch_close(lc);
	i = wait_for(lw, &s, 0, "lwx1", true);
	linkwatch_close(lw);
	CHECK(i >= 0, "lwx1 not gone %d ms after the last watcher of its "
	      "peer's namespace closed", WAIT_MS);
	printf("INFO: linkwatch: namespace destroyed %.1f ms after its last "
	       "watcher closed (peer device gone)\n", (s.at[i] - t0) / 1000);
	return PASS;
}

/*
 * A full socket drops events: reported as -ENOBUFS, after which a
 * forgotten view and a new dump give the truth again.
 */
static int t_overrun(char *why, size_t whylen)
{
	static struct view v, want;
	struct linkwatch *lw;
	int tiny = 1, big = 4 << 20, rc, i, nobufs = 0;
	char err[256], path[64];
	FILE *f;

	CHECK(!linkwatch_open(ns[0], &lw, err, sizeof(err)), "open: %s", err);
	setsockopt(linkwatch_fd(lw), SOL_SOCKET, SO_RCVBUFFORCE, &tiny,
		   sizeof(tiny));
	f = batch_open(path, sizeof(path));
	CHECK(f, "cannot write %s", path);
	for (i = 0; i < 40; i++)
		fprintf(f, "link add lwo%d type veth peer name lwp%d\n", i, i);
	fclose(f);
	rc = sh("ip -n %s -batch %s", ns[0], path);
	unlink(path);
	CHECK(!rc, "ip -batch failed");
	memset(&v, 0, sizeof(v));
	while ((rc = linkwatch_read(lw, apply, &v)) != 0) {
		if (rc == -ENOBUFS) {
			nobufs++;
			continue;
		}
		CHECK(rc > 0, "read: %s", strerror(-rc));
	}
	CHECK(nobufs, "80 events fit a minimal socket buffer (%d read)",
	      v.reports);
	setsockopt(linkwatch_fd(lw), SOL_SOCKET, SO_RCVBUFFORCE, &big,
		   sizeof(big));
	memset(&v, 0, sizeof(v));
	rc = linkwatch_dump(lw, apply, &v, WAIT_MS);
	linkwatch_close(lw);
	CHECK(rc > 0, "dump after overrun: %s", strerror(-rc));
	CHECK(ip_view(ns[0], &want) > 80, "ip lists too few devices");
	if (view_diff(&v, &want, why, whylen))
		return FAIL;
	return PASS;
}

/*
 * A daemon starting while devices come and go: subscribe, dump, follow;
 * the view it ends with is ip's. A dump that spans several parts (a few
 * hundred devices) can be interrupted by the churn and asked again.
 */
static int t_churn(char *why, size_t whylen)
{
	static struct view v, want;
	struct linkwatch *lw;
	char err[256], path[64];
	int i, rc, st, dumps = 0, done = 0;
	pid_t pid;
	FILE *f;

	f = batch_open(path, sizeof(path));
	CHECK(f, "cannot write %s", path);
	for (i = 0; i < 100; i++)
		fprintf(f, "link add lwq%d type veth peer name lwr%d\n", i, i);
	for (i = 0; i < 40; i += 2)
		fprintf(f, "link del lwo%d\n", i);
	for (i = 0; i < 100; i += 3)
		fprintf(f, "link del lwq%d\n", i);
	for (i = 1; i < 100; i += 3)
		fprintf(f, "link set lwr%d name lws%d up\n", i, i);
	fclose(f);

	/* a dump of some 500 devices takes many parts */
	CHECK(!sh("i=0; while [ $i -lt 150 ]; do "
		  "echo link add lwk$i type veth peer name lwl$i; i=$((i+1)); "
		  "done | ip -n %s -batch -", ns[0]), "ip -batch failed");
	CHECK(!linkwatch_open(ns[0], &lw, err, sizeof(err)), "open: %s", err);
	pid = fork();
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execlp("ip", "ip", "-n", ns[0], "-batch", path, (char *)NULL);
		_exit(127);
	}
	CHECK(pid > 0, "fork: %s", strerror(errno));
	/* dump while ip is at work: after its first event */
	memset(&v, 0, sizeof(v));
	rc = poll(&(struct pollfd){ .fd = linkwatch_fd(lw), .events = POLLIN },
		  1, WAIT_MS);
	rc = rc > 0 ? -ENOBUFS : -ETIMEDOUT;
	for (;;) {
		/* -EAGAIN: every try of a dump was interrupted by the churn
		 * (a loaded machine): a daemon dumps again, so do we */
		if (rc == -ENOBUFS || (rc == -EAGAIN && dumps < 50)) {
			memset(&v, 0, sizeof(v));
			rc = linkwatch_dump(lw, apply, &v, WAIT_MS);
			dumps++;
			continue;
		}
		if (rc < 0)
			break;
		if (done && !rc)
			break;
		if (!done && waitpid(pid, &st, WNOHANG) == pid)
			done = 1;
		rc = drain(lw, apply, &v, done ? 200 : 10);
	}
	if (!done)
		waitpid(pid, &st, 0);
	unlink(path);
	linkwatch_close(lw);
	CHECK(rc == 0, "watcher: %s", strerror(-rc));
	CHECK(WIFEXITED(st) && !WEXITSTATUS(st), "ip -batch failed");
	CHECK(ip_view(ns[0], &want) > 450, "ip lists too few devices");
	if (view_diff(&v, &want, why, whylen))
		return FAIL;
	printf("INFO: linkwatch churn: %d reports, %d dump%s\n", v.reports,
	       dumps, dumps == 1 ? "" : "s");
	return PASS;
}

static const struct {
	const char *name;
	int (*fn)(char *why, size_t whylen);
} cases[] = {
	{ "netns cookie: stable per namespace, distinct between", t_cookie },
	{ "linkwatch open: thread stays in its namespace, errors name it",
	  t_open_restores },
	{ "linkwatch dump of a fresh namespace: lo only", t_dump_fresh },
	{ "linkwatch NEW/up/DEL with names and ifindexes, other namespaces "
	  "quiet", t_events },
	{ "linkwatch subscribe then dump: queued event first; rename; move",
	  t_dump_rename_move },
	{ "linkwatch bridge port leaving: no gone report", t_bridge_port },
	{ "linkwatch holds its namespace until closed", t_watch_holds_netns },
	{ "linkwatch overrun reported, a new dump is the truth", t_overrun },
	{ "linkwatch subscribe, dump, follow under churn: view == ip's",
	  t_churn },
};

int main(int argc, char **argv)
{
	char why[512];
	size_t i;
	int nfail = 0, rc;

	verbose = getenv("V") && !strcmp(getenv("V"), "1");
	setvbuf(stdout, NULL, _IOLBF, 0);
	why[0] = '\0';
	if (geteuid() != 0)
		snprintf(why, sizeof(why), "needs root");
	else if (sh("ip -V"))
		snprintf(why, sizeof(why), "no ip(8)");
	else
		setup(why, sizeof(why));
	if (why[0]) {
		for (i = 0; i < ARRAY_SIZE(cases); i++)
			printf("SKIP: %s: %s\n", cases[i].name, why);
		ns_cleanup();
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		why[0] = '\0';
		rc = cases[i].fn(why, sizeof(why));
		switch (rc) {
		case PASS:
			printf("PASS: %s\n", cases[i].name);
			break;
		case SKIP:
			printf("SKIP: %s: %s\n", cases[i].name, why);
			break;
		default:
			printf("FAIL: %s: %s\n", cases[i].name, why);
			nfail++;
			break;
		}
	}
	ns_cleanup();
	return nfail ? 1 : 0;
}
