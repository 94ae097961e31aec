// SPDX-License-Identifier: GPL-2.0-only
/* linkwatch.c - rtnetlink link events of one namespace (linkwatch.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "kern/linkwatch.h"
#include "kern/nl.h"
#include "kern/netns.h"
#include "util/msg.h"

#define LW_BUF_SIZE	32768	/* the kernel's largest dump part */
#define LW_RCVBUF	(4 << 20)
#define LW_DUMP_TRIES	8

struct linkwatch {
	struct mnl_socket *nl;
	unsigned int portid;
	unsigned int seq;	/* of the last dump asked for */
	char buf[LW_BUF_SIZE];
};

int linkwatch_open(const char *netns, struct linkwatch **out,
		   char *err, size_t len)
{
	const char *where = netns ?: "(own)";
	struct linkwatch *lw;
	int fd, size = LW_RCVBUF, rc;

	lw = calloc(1, sizeof(*lw));
	if (!lw) {
		seterr(err, len, "out of memory");
		return -ENOMEM;
	}
	fd = netns_socket_in(netns, AF_NETLINK,
		       SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE,
		       err, len);
	if (fd < 0) {
		free(lw);
		return fd;
	}
	/* FORCE passes rmem_max for root; else take what the system gives */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	lw->nl = mnl_socket_fdopen(fd);
	if (!lw->nl) {
		rc = -errno;
		close(fd);
		free(lw);
		seterr(err, len, "netlink socket of network namespace %s: %s",
		       where, strerror(-rc));
		return rc;
	}
	if (mnl_socket_bind(lw->nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID)) {
		rc = -errno;
		linkwatch_close(lw);
		seterr(err, len, "subscribe to link events of network "
		       "namespace %s: %s", where, strerror(-rc));
		return rc;
	}
	lw->portid = mnl_socket_get_portid(lw->nl);
	*out = lw;
	return 0;
}

/* What one pass over received messages reports back. */
struct lw_run {
	struct linkwatch *lw;
	linkwatch_cb cb;
	void *ctx;
	int count;		/* events delivered */
	int rc;			/* the first error: cb's or the kernel's */
	bool done;		/* NLMSG_DONE of the last dump asked for */
	bool stale;		/* that dump must be asked again */
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	/* newer kernels' attributes, and a malformed name, are left out */
	if (mnl_attr_type_valid(attr, IFLA_MAX) < 0)
		return MNL_CB_OK;
	if (type == IFLA_IFNAME &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
		return MNL_CB_OK;
	tb[type] = attr;
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	struct link_event ev = { 0 };
	const struct ifinfomsg *ifm;
	struct lw_run *run = data;
	int rc;

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifm))
		return MNL_CB_OK;
	ifm = mnl_nlmsg_get_payload(nlh);
	/*
	 * A bridge reports its ports with AF_BRIDGE RTM_NEWLINK/DELLINK too:
	 * a port leaving the bridge sends DELLINK while the device stays.
	 */
	if (ifm->ifi_family != AF_UNSPEC)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifm), attr_cb, tb);

	ev.ifindex = ifm->ifi_index;
	ev.up = ifm->ifi_flags & IFF_UP;
	ev.gone = nlh->nlmsg_type == RTM_DELLINK;
	if (tb[IFLA_IFNAME])
		snprintf(ev.ifname, sizeof(ev.ifname), "%s",
			 mnl_attr_get_str(tb[IFLA_IFNAME]));
	rc = run->cb(&ev, run->ctx);
	if (rc < 0) {
		run->rc = rc;
		return MNL_CB_ERROR;
	}
	run->count++;
	return MNL_CB_OK;
}

static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct lw_run *run = data;

	if (nlh->nlmsg_seq != run->lw->seq || nlh->nlmsg_pid != run->lw->portid)
		return MNL_CB_OK;	/* not the dump we wait for */
	run->done = true;
	return MNL_CB_STOP;
}

/* We send nothing but dump requests: any error answers one. */
static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct lw_run *run = data;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		run->rc = -EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!e->error)
		return MNL_CB_OK;
	run->rc = e->error < 0 ? e->error : -e->error;
	return MNL_CB_ERROR;
}

/* not const: mnl_cb_run2() takes a plain pointer */
static mnl_cb_t ctl_cb[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR]	= error_cb,
	[NLMSG_DONE]	= done_cb,
};

/*
 * libmnl stops at the first message flagged NLM_F_DUMP_INTR; we want the
 * whole dump (its entries are true, only the set may be incomplete) and
 * ask again after its end.
 */
static void take_intr(struct lw_run *run, void *buf, int len)
{
	struct nlmsghdr *nlh = buf;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
			nlh->nlmsg_flags &= ~NLM_F_DUMP_INTR;
			run->stale = true;
		}
	}
}

/* Deliver the @n bytes of one datagram at @buf. 1, or a negative errno. */
static int deliver(struct lw_run *run, void *buf, int n)
{
	/* libmnl's walk trusts the lengths more than it should (nl.h) */
	if (!nl_dgram_ok(buf, n))
		return -EBADMSG;
	take_intr(run, buf, n);
	/*
	 * No sequence or port check: events carry the seq and port of
	 * whoever changed the device. done_cb recognises our dump's end.
	 */
	if (mnl_cb_run2(buf, n, 0, 0, link_cb, run, ctl_cb,
			NLMSG_MIN_TYPE) == MNL_CB_ERROR)
		return run->rc ?: -errno;
	return 1;
}

/* Receive one batch of messages, without blocking, and deliver it.
 * 1 handled, 0 nothing queued, or a negative errno. */
static int recv_one(struct linkwatch *lw, struct lw_run *run)
{
	ssize_t n;

	do
		n = mnl_socket_recvfrom(lw->nl, lw->buf, sizeof(lw->buf));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	return deliver(run, lw->buf, n);
}

int linkwatch_read(struct linkwatch *lw, linkwatch_cb cb, void *ctx)
{
	struct lw_run run = { .lw = lw, .cb = cb, .ctx = ctx };
	int rc;

	while ((rc = recv_one(lw, &run)) > 0)
		;
	return rc < 0 ? rc : run.count;
}

static int dump_request(struct linkwatch *lw)
{
	union {
		struct nlmsghdr h;
		char buf[NLMSG_SPACE(sizeof(struct ifinfomsg)) + 64];
	} req;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(&req);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++lw->seq ?: ++lw->seq;	/* 0 is "any" */
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	/* counters are most of a device's message, and of no use here */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (mnl_socket_sendto(lw->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

int linkwatch_dump(struct linkwatch *lw, linkwatch_cb cb, void *ctx,
		   int timeout_ms)
{
	struct lw_run run = { .lw = lw, .cb = cb, .ctx = ctx };
	struct pollfd pfd = { .fd = linkwatch_fd(lw), .events = POLLIN };
	bool overrun = false;
	int tries, rc;

	for (tries = 0; tries < LW_DUMP_TRIES; tries++) {
		rc = dump_request(lw);
		if (rc)
			return rc;
		run.done = run.stale = false;
		while (!run.done) {
			rc = recv_one(lw, &run);
			/*
			 * Events were lost (a device's gone among them,
			 * maybe): only the caller can forget what it was
			 * told. Read to the dump's end so the socket is
			 * ready for the next one.
			 */
			if (rc == -ENOBUFS) {
				overrun = true;
				continue;
			}
			if (rc < 0)
				return rc;
			if (rc)
				continue;
			rc = poll(&pfd, 1, timeout_ms);
			if (rc < 0 && errno != EINTR)
				return -errno;
			if (!rc)
				return -ETIMEDOUT;
		}
		if (overrun)
			return -ENOBUFS;
		/*
		 * Interrupted: devices that did not change may be missing (the
		 * walk is by position); those that changed all have events
		 * after their entries, so a second dump on top is correct.
		 */
		if (!run.stale)
			return run.count;
	}
	return -EAGAIN;
}

int linkwatch_fd(const struct linkwatch *lw)
{
	return mnl_socket_get_fd(lw->nl);
}

void linkwatch_close(struct linkwatch *lw)
{
	if (!lw)
		return;
	mnl_socket_close(lw->nl);
	free(lw);
}
