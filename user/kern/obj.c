// SPDX-License-Identifier: GPL-2.0-only
/* obj.c - find, load, pin and unpin the shared limiter; locking; netns. */
#include <errno.h>
#include <fcntl.h>
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
#include "util/log.h"
#include "tcbpf.skel.h"

#define BPFFS_ROOT	"/sys/fs/bpf"
#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC	0xcafe4a11
#endif

static const char *const prog_pin[TCBPF_NDIR] = {
	[TCBPF_INGRESS] = TCBPF_PIN_DIR "/prog_ingress",
	[TCBPF_EGRESS] = TCBPF_PIN_DIR "/prog_egress",
};

static const char *const map_pin[] = {
	TCBPF_PIN_DIR "/tcbpf_cfg",
	TCBPF_PIN_DIR "/tcbpf_state",
	TCBPF_PIN_DIR "/tcbpf_stats",
};

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
	memset(t, 0, sizeof(*t));
	t->cfg_fd = t->state_fd = t->stats_fd = -1;
	t->prog_fd[0] = t->prog_fd[1] = -1;
}

/* Open what is pinned; -ENOENT when any piece is missing. */
static int open_pinned(struct tcbpf *t)
{
	int *map_fd[] = { &t->cfg_fd, &t->state_fd, &t->stats_fd };
	unsigned int i;
	int d;

	for (i = 0; i < 3; i++) {
		*map_fd[i] = bpf_obj_get(map_pin[i]);
		if (*map_fd[i] < 0)
			return -errno;
	}
	for (d = 0; d < TCBPF_NDIR; d++) {
		t->prog_fd[d] = bpf_obj_get(prog_pin[d]);
		if (t->prog_fd[d] < 0)
			return -errno;
		t->prog_id[d] = prog_id_of(t->prog_fd[d]);
	}
	return 0;
}

/*
 * Load the skeleton with pin_root_path, so libbpf pins the maps by name
 * (or reuses pinned ones of a compatible layout), then pin both programs.
 */
static int load_and_pin(struct tcbpf *t)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = TCBPF_PIN_DIR);
	struct bpf_program *progs[TCBPF_NDIR];
	struct tcbpf_bpf *skel;
	int err, d;

	err = bpffs_mount();
	if (err)
		return err;
	if (mkdir(TCBPF_PIN_DIR, 0700) < 0 && errno != EEXIST) {
		err = -errno;
		pr_warn("cannot create %s: %s\n", TCBPF_PIN_DIR, strerror(-err));
		return err;
	}

	skel = tcbpf_bpf__open_opts(&opts);
	if (!skel) {
		err = -errno;
		pr_warn("failed to open BPF object: %s\n", strerror(-err));
		return err;
	}
	err = tcbpf_bpf__load(skel);
	if (err) {
		pr_warn("failed to load BPF object: %s\n", strerror(-err));
		goto out;
	}
	progs[TCBPF_INGRESS] = skel->progs.tcbpf_ingress;
	progs[TCBPF_EGRESS] = skel->progs.tcbpf_egress;
	for (d = 0; d < TCBPF_NDIR; d++) {
		unlink(prog_pin[d]);	/* a stale pin of an older load */
		err = bpf_program__pin(progs[d], prog_pin[d]);
		if (err) {
			pr_warn("cannot pin %s: %s\n", prog_pin[d],
				strerror(-err));
			goto out;
		}
	}
	t->created = true;
out:
	tcbpf_bpf__destroy(skel);	/* the pins keep everything alive */
	return err;
}

int tcbpf_open(struct tcbpf *t, bool create)
{
	int err;

	fds_reset(t);
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus < 0)
		return t->ncpus;

	err = open_pinned(t);
	if (!err || !create)
		goto out;
	tcbpf_close(t);
	err = load_and_pin(t);
	if (err)
		return err;
	err = open_pinned(t);
out:
	if (err)
		tcbpf_close(t);
	return err;
}

void tcbpf_close(struct tcbpf *t)
{
	int *fds[] = { &t->cfg_fd, &t->state_fd, &t->stats_fd,
		       &t->prog_fd[0], &t->prog_fd[1] };
	unsigned int i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int tcbpf_unpin(struct tcbpf *t)
{
	unsigned int i;
	int d;

	for (d = 0; d < TCBPF_NDIR; d++)
		unlink(prog_pin[d]);
	for (i = 0; i < sizeof(map_pin) / sizeof(map_pin[0]); i++)
		unlink(map_pin[i]);
	rmdir(TCBPF_LINK_DIR);
	if (rmdir(TCBPF_PIN_DIR) < 0 && errno != ENOENT) {
		pr_warn("cannot remove %s: %s\n", TCBPF_PIN_DIR, strerror(errno));
		return -errno;
	}
	pr_debug("last device gone: removed %s\n", TCBPF_PIN_DIR);
	return 0;
}

int netns_enter(const char *name)
{
	char path[256];
	int fd, err;

	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_warn("cannot open network namespace \"%s\": %s\n", name,
			strerror(-err));
		return err;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		err = -errno;
		pr_warn("cannot enter network namespace \"%s\": %s\n", name,
			strerror(-err));
		close(fd);
		return err;
	}
	close(fd);
	return 0;
}

__u64 netns_ino(void)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) < 0)
		return 0;
	return st.st_ino;
}
