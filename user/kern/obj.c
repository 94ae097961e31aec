// SPDX-License-Identifier: GPL-2.0-only
/* obj.c - find, load, pin and unpin the shared limiter; locking; netns. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kern/obj.h"
#include "kern/netns.h"
#include "util/log.h"
#include "tcbpf.skel.h"

#define BPFFS_ROOT	"/sys/fs/bpf"
#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC	0xcafe4a11
#endif

/*
 * The programs carry their namespace's cookie in .rodata, so each network
 * namespace with a limited device has its own pair, pinned under
 * <pin dir>/ns/<cookie in hex>/; the maps are one copy for all.
 */
const char *tcbpf_pin_dir(void)
{
	const char *d = getenv("TCBPF_PIN_DIR");

	return d && *d ? d : TCBPF_PIN_DIR;
}

const char *tcbpf_pin_path(char *buf, size_t len, const char *sub)
{
	snprintf(buf, len, "%s/%s", tcbpf_pin_dir(), sub);
	return buf;
}

static void prog_pin_in(char *buf, size_t len, const char *root,
			__u64 netns, int prog)
{
	static const char *const name[TCBPF_NPROG] = {
		[TCBPF_INGRESS] = "ingress", [TCBPF_EGRESS] = "egress",
		[TCBPF_PROG_PACE] = "pace",
	};

	snprintf(buf, len, "%s/ns/%llx/prog_%s", root,
		 (unsigned long long)netns, name[prog]);
}

static void prog_pin(char *buf, size_t len, __u64 netns, int prog)
{
	prog_pin_in(buf, len, tcbpf_pin_dir(), netns, prog);
}

static void ns_pin_dir_in(char *buf, size_t len, const char *root,
			  __u64 netns)
{
	snprintf(buf, len, "%s/ns/%llx", root, (unsigned long long)netns);
}

static void ns_pin_dir(char *buf, size_t len, __u64 netns)
{
	ns_pin_dir_in(buf, len, tcbpf_pin_dir(), netns);
}

static const char *const map_name[] = {
	"tcbpf_cfg", "tcbpf_prof", "tcbpf_pcache", "tcbpf_vni",
	"tcbpf_vni_stats",
};
#define NMAPS	(sizeof(map_name) / sizeof(map_name[0]))

/*
 * tcbpf_set, the program the CLI changes entries with, pinned next to the
 * maps it writes (one for all namespaces: it serves none in particular).
 */
#define SET_NAME	"tcbpf_set"

static const char *map_pin(char *buf, size_t len, unsigned int i)
{
	return tcbpf_pin_path(buf, len, map_name[i]);
}

const char *tcbpf_map_name(unsigned int i)
{
	return i < NMAPS ? map_name[i] : NULL;
}

const char *tcbpf_version(void)
{
	return TCBPF_VERSION;
}

/*
 * The programs' build id: FNV-1a over the BPF object this binary carries.
 * Another build of the programs (code, compiler, flags) has another one;
 * an upgrade of the same layout swaps programs when the ids differ.
 */
__u64 tcbpf_build_id(void)
{
	static __u64 id;
	const unsigned char *p;
	size_t n, i;

	if (id)
		return id;
	p = tcbpf_bpf__elf_bytes(&n);
	id = 0xcbf29ce484222325ULL;
	for (i = 0; i < n; i++)
		id = (id ^ p[i]) * 0x100000001b3ULL;
	return id;
}

int tcbpf_pins_probe(const char *root, struct tcbpf_pins *p)
{
	struct tcbpf_info info = {};
	char path[PATH_MAX];
	__u32 key = 0;
	int fd, err;

	memset(p, 0, sizeof(*p));
	snprintf(path, sizeof(path), "%s/%s", root, TCBPF_INFO_NAME);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		if (errno != ENOENT)
			return -errno;
		/* no info: tcbpf 0.1's maps (layout 1), or nothing */
		snprintf(path, sizeof(path), "%s/%s", root, map_name[0]);
		if (access(path, F_OK) == 0)
			p->layout = 1;
		return 0;
	}
	err = bpf_map_lookup_elem(fd, &key, &info) ? -errno : 0;
	close(fd);
	if (err)
		return err;
	p->layout = info.layout ? (int)info.layout : -1;	/* -1: unreadable */
	p->build = info.build;
	snprintf(p->version, sizeof(p->version), "%.*s",
		 (int)sizeof(info.version) - 1, info.version);
	return 0;
}

int tcbpf_info_pin(const char *root)
{
	struct tcbpf_info info = { .layout = TCBPF_LAYOUT };
	char path[PATH_MAX], tmp[PATH_MAX];
	__u32 key = 0;
	int fd, err = 0;

	info.build = tcbpf_build_id();
	snprintf(info.version, sizeof(info.version), "%s", TCBPF_VERSION);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, TCBPF_INFO_NAME, sizeof(key),
			    sizeof(info), 1, NULL);
	if (fd < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", root, TCBPF_INFO_NAME);
	snprintf(tmp, sizeof(tmp), "%s/%s_new", root, TCBPF_INFO_NAME);
	unlink(tmp);
	/* pinned under another name, then renamed over: never missing */
	if (bpf_map_update_elem(fd, &key, &info, 0) || bpf_obj_pin(fd, tmp) ||
	    rename(tmp, path)) {
		err = -errno;
		unlink(tmp);
		pr_warn("cannot pin %s: %s\n", path, strerror(-err));
	}
	close(fd);
	return err;
}

int tcbpf_lock(void)
{
	int fd, err;

	mkdir("/run", 0755);
	fd = open(TCBPF_LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		pr_warn("cannot open lock file %s: %s\n", TCBPF_LOCK_FILE,
			strerror(-err));
		return err;
	}
	if (flock(fd, LOCK_EX) < 0) {
		err = -errno;
		pr_warn("cannot lock %s: %s\n", TCBPF_LOCK_FILE, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

void tcbpf_unlock(int fd)
{
	if (fd >= 0)
		close(fd);	/* drops the flock */
}

static int bpffs_mount(void)
{
	struct statfs st;
	int err;

	if (statfs(BPFFS_ROOT, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpffs", BPFFS_ROOT, "bpf", 0, "mode=0700") < 0) {
		err = -errno;
		pr_warn("cannot mount bpffs on %s: %s\n", BPFFS_ROOT,
			strerror(-err));
		return err;
	}
	pr_debug("mounted bpffs on %s\n", BPFFS_ROOT);
	return 0;
}

static __u32 prog_id_of(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

static void fds_reset(struct tcbpf *t)
{
	__u64 netns = t->netns;

	memset(t, 0, sizeof(*t));
	t->netns = netns;
	t->cfg_fd = t->prof_fd = t->pcache_fd = -1;
	t->vni_fd = t->vni_stats_fd = t->set_fd = -1;
	t->prog_fd[0] = t->prog_fd[1] = t->prog_fd[TCBPF_PROG_PACE] = -1;
}

static void unpin_ns(__u64 netns);

/* A pinned map with this build's key and value sizes? */
static bool layout_ok(int fd, unsigned int i)
{
	static const __u32 key[] = { sizeof(struct tcbpf_key), 4, 4,
		sizeof(struct tcbpf_vni_key), sizeof(struct tcbpf_vni_key) };
	static const __u32 value[] = {
		sizeof(struct tcbpf_dev), sizeof(struct tcbpf_prof),
		sizeof(struct tcbpf_pc), sizeof(struct tcbpf_dev),
		sizeof(struct tcbpf_vni_ctr),
	};
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	return info.key_size == key[i] && info.value_size == value[i];
}

/*
 * Open what is pinned; -ENOENT when any piece is missing, -ESTALE when the
 * maps have another layout (pinned by another version of tcbpf: its
 * tcbpf_info, or none at all for layout 1, or sizes that do not fit).
 */
static int open_pinned(struct tcbpf *t, bool progs)
{
	int *map_fd[] = { &t->cfg_fd, &t->prof_fd, &t->pcache_fd, &t->vni_fd,
			  &t->vni_stats_fd };
	char path[PATH_MAX];
	unsigned int i;
	int d, err;

	err = tcbpf_pins_probe(tcbpf_pin_dir(), &t->pins);
	if (err)
		return err;
	if (t->pins.layout && t->pins.layout != TCBPF_LAYOUT)
		return -ESTALE;
	for (i = 0; i < NMAPS; i++) {
		*map_fd[i] = bpf_obj_get(map_pin(path, sizeof(path), i));
		if (*map_fd[i] < 0)
			return -errno;
		if (!layout_ok(*map_fd[i], i))
			return -ESTALE;
	}
	t->set_fd = bpf_obj_get(tcbpf_pin_path(path, sizeof(path), SET_NAME));
	if (t->set_fd < 0)
		return -errno;
	for (d = 0; progs && d < TCBPF_NDIR; d++) {
		char path[PATH_MAX];

		prog_pin(path, sizeof(path), t->netns, d);
		t->prog_fd[d] = bpf_obj_get(path);
		if (t->prog_fd[d] < 0)
			return -errno;
		t->prog_id[d] = prog_id_of(t->prog_fd[d]);
	}
	if (progs) {	/* optional: an older tcbpf's load has no pacer */
		char path[128];

		prog_pin(path, sizeof(path), t->netns, TCBPF_PROG_PACE);
		t->prog_fd[TCBPF_PROG_PACE] = bpf_obj_get(path);
		if (t->prog_fd[TCBPF_PROG_PACE] >= 0)
			t->prog_id[TCBPF_PROG_PACE] =
				prog_id_of(t->prog_fd[TCBPF_PROG_PACE]);
	}
	return 0;
}

static int mkdirs_ns(const char *root, __u64 netns)
{
	char ns[PATH_MAX], dir[PATH_MAX];
	int err;

	snprintf(ns, sizeof(ns), "%s/ns", root);
	ns_pin_dir_in(dir, sizeof(dir), root, netns);
	if ((mkdir(root, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(ns, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(dir, 0700) < 0 && errno != EEXIST)) {
		err = -errno;
		pr_warn("cannot create %s: %s\n", dir, strerror(-err));
		return err;
	}
	return 0;
}

/*
 * Load the skeleton with pin_root_path, so libbpf pins the maps by name
 * (or reuses pinned ones of a compatible layout), then pin the programs.
 */
int tcbpf_load_ns(const char *map_root, const char *prog_root, __u64 netns)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = map_root);
	struct bpf_program *progs[TCBPF_NPROG];
	char path[PATH_MAX];
	struct tcbpf_bpf *skel;
	int err, d;

	err = mkdirs_ns(prog_root, netns);
	if (err)
		return err;
	skel = tcbpf_bpf__open_opts(&opts);
	if (!skel) {
		err = -errno;
		pr_warn("failed to open BPF object: %s\n", strerror(-err));
		return err;
	}
	skel->rodata->tcbpf_netns = netns;
	err = tcbpf_bpf__load(skel);
	if (err) {
		pr_warn("failed to load BPF object: %s\n", strerror(-err));
		goto out;
	}
	progs[TCBPF_INGRESS] = skel->progs.tcbpf_ingress;
	progs[TCBPF_EGRESS] = skel->progs.tcbpf_egress;
	progs[TCBPF_PROG_PACE] = skel->progs.tcbpf_pace;
	for (d = 0; d < TCBPF_NPROG; d++) {
		prog_pin_in(path, sizeof(path), prog_root, netns, d);
		unlink(path);	/* a stale pin of an older load */
		err = bpf_program__pin(progs[d], path);
		if (err) {
			pr_warn("cannot pin %s: %s\n", path, strerror(-err));
			goto out;
		}
	}
	snprintf(path, sizeof(path), "%s/%s", map_root, SET_NAME);
	if (access(path, F_OK)) {	/* the first load's stays */
		err = bpf_program__pin(skel->progs.tcbpf_set, path);
		if (err)
			pr_warn("cannot pin %s: %s\n", path, strerror(-err));
	}
out:
	tcbpf_bpf__destroy(skel);	/* the pins keep everything alive */
	return err;
}

static int load_and_pin(struct tcbpf *t)
{
	struct tcbpf_pins p;
	int err;

	err = bpffs_mount();
	if (err)
		return err;
	if (mkdir(tcbpf_pin_dir(), 0700) < 0 && errno != EEXIST) {
		err = -errno;
		pr_warn("cannot create %s: %s\n", tcbpf_pin_dir(), strerror(-err));
		return err;
	}
	/* the layout is named before any map exists: maps without it are
	 * tcbpf 0.1's */
	err = tcbpf_pins_probe(tcbpf_pin_dir(), &p);
	if (!err && !p.layout)
		err = tcbpf_info_pin(tcbpf_pin_dir());
	if (!err)
		err = tcbpf_load_ns(tcbpf_pin_dir(), tcbpf_pin_dir(), t->netns);
	if (!err)
		t->created = true;
	return err;
}

int tcbpf_prog_get(const char *root, __u64 netns, int prog)
{
	char path[PATH_MAX];
	int fd;

	prog_pin_in(path, sizeof(path), root, netns, prog);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int tcbpf_ns_list(const char *root, __u64 *cookies, int max)
{
	char path[PATH_MAX];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/ns", root);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d)) && n < max)
		if (e->d_name[0] != '.')
			cookies[n++] = strtoull(e->d_name, NULL, 16);
	closedir(d);
	return n;
}

/* rename @sub of @stage over the same name under the pin dir */
static int stage_move(const char *stage, const char *sub)
{
	char from[PATH_MAX], to[PATH_MAX];

	snprintf(from, sizeof(from), "%s/%s", stage, sub);
	tcbpf_pin_path(to, sizeof(to), sub);
	if (rename(from, to) < 0 && errno != ENOENT) {
		pr_warn("cannot move %s to %s: %s\n", from, to, strerror(errno));
		return -errno;
	}
	return 0;
}

int tcbpf_stage_commit(const char *stage)
{
	static const char *const prog[TCBPF_NPROG] = {
		"prog_ingress", "prog_egress", "prog_pace" };
	__u64 ns[TCBPF_MAX_DEVS];
	char sub[PATH_MAX];
	int n, i, d, err = 0;
	unsigned int m;

	n = tcbpf_ns_list(stage, ns, TCBPF_MAX_DEVS);
	if (n < 0)
		return n;
	for (m = 0; m < NMAPS && !err; m++)
		err = stage_move(stage, map_name[m]);
	if (!err)
		err = stage_move(stage, SET_NAME);
	for (i = 0; i < n && !err; i++) {
		err = mkdirs_ns(tcbpf_pin_dir(), ns[i]);
		for (d = 0; d < TCBPF_NPROG && !err; d++) {
			snprintf(sub, sizeof(sub), "ns/%llx/%s",
				 (unsigned long long)ns[i], prog[d]);
			err = stage_move(stage, sub);
		}
	}
	if (!err)
		err = stage_move(stage, TCBPF_INFO_NAME);
	if (!err)
		tcbpf_stage_remove(stage);
	return err;
}

/* Remove @dir and everything under it (bpffs: pins and directories). */
static void rm_tree(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR)
			rm_tree(path);
		else
			unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

void tcbpf_stage_remove(const char *stage)
{
	rm_tree(stage);
}

int tcbpf_open_maps(struct tcbpf *t)
{
	int err;

	t->netns = netns_self();
	fds_reset(t);
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus < 0)
		return t->ncpus;
	err = open_pinned(t, false);
	if (err)
		tcbpf_close(t);
	/* another layout's maps: none to clean up here (the next
	 * tcbpf_open() caller migrates them, lib/upgrade.c) */
	return err == -ESTALE ? -ENOENT : err;
}

/* Leave nothing of a load that failed half way. */
static void load_failed(struct tcbpf *t)
{
	struct tcbpf_key key;
	char path[PATH_MAX];
	int fd = bpf_obj_get(map_pin(path, sizeof(path), 0));

	unpin_ns(t->netns);
	if (fd < 0 || (layout_ok(fd, 0) &&
		       bpf_map_get_next_key(fd, NULL, &key) != 0))
		tcbpf_unpin(t);	/* nobody else's: maps of this load, or none */
	if (fd >= 0)
		close(fd);
}

int tcbpf_open(struct tcbpf *t, bool create)
{
	int err;

	t->netns = netns_self();
	fds_reset(t);
	if (!t->netns)
		return -ENOPROTOOPT;	/* no SO_NETNS_COOKIE: kernel < 5.14 */
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus < 0)
		return t->ncpus;

	err = open_pinned(t, true);
	if (!err || !create)
		goto out;
	if (err == -ESTALE)
		goto out;
	tcbpf_close(t);
	err = load_and_pin(t);
	if (err) {
		load_failed(t);
		return err;
	}
	err = open_pinned(t, true);
out:
	if (err)
		tcbpf_close(t);
	return err;
}

void tcbpf_close(struct tcbpf *t)
{
	int *fds[] = { &t->cfg_fd, &t->prof_fd, &t->pcache_fd, &t->vni_fd,
		       &t->vni_stats_fd, &t->set_fd, &t->prog_fd[0],
		       &t->prog_fd[1], &t->prog_fd[TCBPF_PROG_PACE] };
	unsigned int i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* Unpin the program pair of namespace @netns. */
static void unpin_ns(__u64 netns)
{
	char path[PATH_MAX];
	int d;

	for (d = 0; d < TCBPF_NPROG; d++) {
		prog_pin(path, sizeof(path), netns, d);
		unlink(path);
	}
	ns_pin_dir(path, sizeof(path), netns);
	rmdir(path);
}

int tcbpf_unpin_ns(struct tcbpf *t, __u64 netns)
{
	unpin_ns(netns);
	return 0;
}

int tcbpf_forget_dev(struct tcbpf *t, __u64 netns, int ifindex)
{
	char path[PATH_MAX];
	int d;

	for (d = 0; d < TCBPF_NDIR; d++) {
		snprintf(path, sizeof(path), "%s/links/%llx_%d_%s", tcbpf_pin_dir(),
			 (unsigned long long)netns, ifindex,
			 d == TCBPF_INGRESS ? "ingress" : "egress");
		unlink(path);
	}
	return 0;
}

int tcbpf_unpin(struct tcbpf *t)
{
	char path[PATH_MAX];
	unsigned int i;
	struct dirent *e;
	DIR *d;

	d = opendir(tcbpf_pin_path(path, sizeof(path), "ns"));
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			unpin_ns(strtoull(e->d_name, NULL, 16));
	if (d)
		closedir(d);
	rmdir(tcbpf_pin_path(path, sizeof(path), "ns"));
	for (i = 0; i < sizeof(map_name) / sizeof(map_name[0]); i++)
		unlink(map_pin(path, sizeof(path), i));
	unlink(tcbpf_pin_path(path, sizeof(path), SET_NAME));
	unlink(tcbpf_pin_path(path, sizeof(path), TCBPF_INFO_NAME));
	tcbpf_stage_remove(tcbpf_pin_path(path, sizeof(path), TCBPF_STAGE_NAME));
	rmdir(tcbpf_pin_path(path, sizeof(path), "links"));
	if (rmdir(tcbpf_pin_dir()) < 0 && errno != ENOENT) {
		pr_warn("cannot remove %s: %s\n", tcbpf_pin_dir(), strerror(errno));
		return -errno;
	}
	pr_debug("last device gone: removed %s\n", tcbpf_pin_dir());
	return 0;
}
