/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * linkwatch.h - follow the devices of one network namespace through
 * rtnetlink link events (libmnl), and name namespaces by their cookie.
 *
 * A daemon opens one watcher per namespace it cares about, puts each fd
 * in its poll loop, and to start without a race first opens (subscribes)
 * and then dumps: the dump's entries and the events that happen meanwhile
 * arrive on the same socket in the order the kernel produced them, so the
 * last report for a device is its current state.
 *
 * Namespaces are given as a /run/netns name, a path when the name has a
 * '/' (e.g. /proc/PID/ns/net), or NULL for the caller's own. Entering one
 * uses setns() on the calling thread only and always returns to the
 * thread's namespace before the call returns, error or not.
 *
 * Functions return 0 (or a count) or a negative errno; none prints. Where
 * they take @err it receives a message naming the namespace.
 */
#ifndef TCBPF_LINKWATCH_H
#define TCBPF_LINKWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include <linux/types.h>

#include "kern/netns.h"

/* One device as an event or a dump reports it. */
struct link_event {
	int ifindex;
	char ifname[IFNAMSIZ];	/* "" when the kernel sent no name */
	bool up;		/* IFF_UP: set up by an administrator */
	bool gone;		/* RTM_DELLINK: deleted, or moved to another
				 * namespace */
};

/* Called per event; a negative return stops the read and is returned. */
typedef int (*linkwatch_cb)(const struct link_event *ev, void *ctx);

struct linkwatch;

/*
 * Subscribe to the link events (RTMGRP_LINK) of @netns: a non-blocking
 * NETLINK_ROUTE socket created inside it, with a receive buffer of 4 MiB
 * where the system allows (a burst of a thousand events fits).
 */
int linkwatch_open(const char *netns, struct linkwatch **out,
		   char *err, size_t len);

/* The socket, for poll(); readable when events are queued. */
int linkwatch_fd(const struct linkwatch *lw);

/*
 * Deliver every queued event to @cb, without blocking. Returns the number
 * delivered (0: nothing was queued), @cb's negative return, or -ENOBUFS
 * when the kernel dropped events because the socket was full: the caller
 * then cannot trust what it knows about the devices and must forget it
 * and linkwatch_dump() again.
 * Notices that are not about a device (AF_BRIDGE port changes) are
 * skipped.
 */
int linkwatch_read(struct linkwatch *lw, linkwatch_cb cb, void *ctx);

/*
 * Ask for every device of the namespace and deliver them to @cb (gone is
 * false), together with any event that arrives meanwhile, in order; waits
 * up to @timeout_ms for each part of the answer. A dump the kernel marks
 * interrupted (the device list changed under it) is delivered and then
 * asked again, up to 8 times. Returns the number delivered, or:
 *   -ENOBUFS  events were dropped meanwhile: forget what @cb was told and
 *             call linkwatch_dump() again (the socket is ready for it);
 *   -EAGAIN   interrupted every time;
 *   @cb's negative return, -ETIMEDOUT or the kernel's error: close the
 *             watcher and open a new one (a dump may still be running).
 * A daemon keeps one view per watcher: start it empty, apply every report
 * in order (gone removes), and on -ENOBUFS from either call empty it and
 * dump again.
 */
int linkwatch_dump(struct linkwatch *lw, linkwatch_cb cb, void *ctx,
		   int timeout_ms);

void linkwatch_close(struct linkwatch *lw);

#endif
