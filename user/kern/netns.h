/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netns.h - network namespaces: entering one, naming one.
 *
 * A namespace's inode can be reused as soon as it is gone; its cookie
 * (SO_NETNS_COOKIE, Linux 5.14) never is while the machine runs. tcbpf
 * keys settings by the cookie and keeps the inode for people reading
 * bpftool dumps and for finding the namespace again (netns_alive()).
 */
#ifndef TCBPF_NETNS_H
#define TCBPF_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE	71	/* Linux 5.14; Debian 12's libc lacks it */
#endif

/* Enter /run/netns/NAME (or a path), network namespace only. */
int netns_enter(const char *name);

/* Inode of the calling thread's network namespace (0 if unknown). */
__u64 netns_ino(void);

/* Cookie of the calling thread's network namespace (0 if unknown). */
__u64 netns_self(void);

/*
 * socket(@domain, @type, @proto) created inside @netns (a /run/netns name
 * or a path; NULL: here). The thread enters the namespace only for the
 * socket() call: a socket keeps the namespace it was made in.
 */
int netns_socket_in(const char *netns, int domain, int type, int proto,
		    char *err, size_t len);

/* The cookie of a socket's namespace. -ENOPROTOOPT before Linux 5.14. */
int netns_cookie(int sock_fd, __u64 *cookie);

/* The cookie of namespace @netns (NULL: the calling thread's). */
int netns_cookie_of(const char *netns, __u64 *cookie, char *err, size_t len);

/*
 * The namespace with inode @ino and cookie @cookie still exists: found
 * among the named namespaces (/run/netns) or those of running processes.
 * (One kept alive only by an open file descriptor elsewhere is missed.)
 * The path it was found at goes to @where ("" for the caller's own).
 */
bool netns_alive(__u64 ino, __u64 cookie, char *where, size_t len);

/*
 * Enter namespace @name (a /run/netns name or a path) for a while: returns
 * an fd of the one the thread was in, for netns_pop(), or a negative errno.
 */
int netns_push(const char *name);
void netns_pop(int self);

#endif
