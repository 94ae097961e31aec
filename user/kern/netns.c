// SPDX-License-Identifier: GPL-2.0-only
/* netns.c - network namespaces (netns.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "kern/netns.h"
#include "util/log.h"
#include "util/msg.h"

static void ns_path(const char *netns, char *path, size_t n)
{
	if (strchr(netns, '/'))
		snprintf(path, n, "%s", netns);
	else
		snprintf(path, n, "/run/netns/%s", netns);
}

/*
 * socket(@domain, @type, @proto) created inside @netns (NULL: here). The
 * thread enters the namespace only for the socket() call: a socket keeps
 * the namespace it was made in, so everything after can happen here.
 */
int netns_socket_in(const char *netns, int domain, int type, int proto,
		     char *err, size_t len)
{
	char path[256];
	int self = -1, target = -1, fd = -1, rc;

	if (!netns) {
		fd = socket(domain, type, proto);
		if (fd < 0) {
			rc = -errno;
			seterr(err, len, "socket: %s", strerror(-rc));
			return rc;
		}
		return fd;
	}
	ns_path(netns, path, sizeof(path));
	/* thread-self: setns() moves this thread, not the process */
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		rc = -errno;
		seterr(err, len, "/proc/thread-self/ns/net: %s", strerror(-rc));
		return rc;
	}
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0) {
		rc = -errno;
		seterr(err, len, "network namespace %s: %s", path, strerror(-rc));
		goto out;
	}
	if (setns(target, CLONE_NEWNET)) {
		rc = -errno;
		seterr(err, len, "cannot enter network namespace %s: %s", path,
		       strerror(-rc));
		goto out;
	}
	fd = socket(domain, type, proto);
	rc = fd < 0 ? -errno : 0;
	if (rc)
		seterr(err, len, "socket in network namespace %s: %s", path,
		       strerror(-rc));
	if (setns(self, CLONE_NEWNET)) {
		/* should not happen: we came from there */
		rc = -errno;
		seterr(err, len, "cannot return from network namespace %s: %s",
		       path, strerror(-rc));
	}
out:
	if (rc && fd >= 0)
		close(fd);
	if (target >= 0)
		close(target);
	close(self);
	return rc ?: fd;
}

int netns_cookie(int sock_fd, __u64 *cookie)
{
	socklen_t len = sizeof(*cookie);

	if (getsockopt(sock_fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len))
		return -errno;
	return len == sizeof(*cookie) ? 0 : -EPROTO;
}

int netns_cookie_of(const char *netns, __u64 *cookie, char *err, size_t len)
{
	int fd, rc;

	fd = netns_socket_in(netns, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, err, len);
	if (fd < 0)
		return fd;
	rc = netns_cookie(fd, cookie);
	if (rc)
		seterr(err, len, "SO_NETNS_COOKIE of network namespace %s: %s",
		       netns ?: "(own)", strerror(-rc));
	close(fd);
	return rc;
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

__u64 netns_self(void)
{
	__u64 cookie = 0;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	if (netns_cookie(fd, &cookie))
		cookie = 0;
	close(fd);
	return cookie;
}

int netns_push(const char *name)
{
	char path[256];
	int self, fd, err;

	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		close(self);
		return err;
	}
	close(fd);
	return self;
}

void netns_pop(int self)
{
	if (self < 0)
		return;
	if (setns(self, CLONE_NEWNET) < 0)
		pr_warn("cannot return to the original network namespace: %s\n",
			strerror(errno));
	close(self);
}

/* Cookie of the namespace behind @path, if its inode is @ino. */
static bool is_it(const char *path, __u64 ino, __u64 cookie)
{
	struct stat st;
	__u64 c;

	if (stat(path, &st) || st.st_ino != ino)
		return false;
	return !netns_cookie_of(path, &c, NULL, 0) && c == cookie;
}

/* A namespace file bind-mounted anywhere (docker's, other tools'). */
static bool mounted(__u64 ino, __u64 cookie, char *path, size_t len)
{
	char line[1024], mnt[256];
	bool found = false;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... - FSTYPE SOURCE ... */
		if (!strstr(line, " - nsfs ") ||
		    sscanf(line, "%*s %*s %*s %*s %255s", mnt) != 1)
			continue;
		snprintf(path, len, "%s", mnt);
		found = is_it(path, ino, cookie);
	}
	fclose(f);
	return found;
}

bool netns_alive(__u64 ino, __u64 cookie, char *where, size_t len)
{
	static const char *const dirs[] = { "/run/netns", "/var/run/netns" };
	char path[512];
	struct dirent *e;
	unsigned int i;
	bool found = false;
	DIR *d;

	if (where && len)
		where[0] = '\0';
	if (netns_ino() == ino && netns_self() == cookie)
		return true;
	/* named namespaces, any namespace file mounted, every process's */
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && !found; i++) {
		d = opendir(dirs[i]);
		while (d && !found && (e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[i], e->d_name);
			found = is_it(path, ino, cookie);
		}
		if (d)
			closedir(d);
	}
	if (!found)
		found = mounted(ino, cookie, path, sizeof(path));
	d = opendir("/proc");
	while (d && !found && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", e->d_name);
		found = is_it(path, ino, cookie);
	}
	if (d)
		closedir(d);
	if (found && where)
		snprintf(where, len, "%s", path);
	return found;
}
