// SPDX-License-Identifier: GPL-2.0-only
/*
 * nl.c - see nl.h. The rtnetlink transport only: libmnl does the socket,
 * the message and attribute layout and the walk over a datagram
 * (mnl_cb_run2); this file adds what tcbpf needs on top: the kernel's
 * extended-ack text, reading a request or dump to its very end so the
 * socket stays in step, and retrying interrupted dumps. Qdiscs, filters
 * and links are kern/qdisc.c's.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "kern/nl.h"

#define NL_BUF_MIN		32768	/* the kernel's largest dump skb */
#define NL_DUMP_TRIES		5

/* What the control callbacks of one exchange share. */
struct nl_run {
	struct nl_sock *s;
	nl_cb_t cb;
	void *arg;
	bool dump;
	bool intr;		/* an answer carried NLM_F_DUMP_INTR */
	bool end;		/* the ack or NLMSG_DONE was read */
	bool draining;		/* dropping the rest of an interrupted dump */
	int err;		/* the kernel's answer */
	int cb_err;		/* the callback's first error */
};

void nl_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void nl_kerr(char *err, size_t errlen, const struct nl_sock *s, int ret,
	     const char *what)
{
	nl_errf(err, errlen, "%s: %s", what,
		s && s->ext[0] ? s->ext : strerror(-ret));
}

const char *nl_ext(const struct nl_sock *s)
{
	return s->ext;
}

int nl_open(struct nl_sock *s)
{
	int one = 1, err;

	memset(s, 0, sizeof(*s));
	s->mnl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!s->mnl)
		return -errno;
	/* Both exist since 4.12; without them errors just lack the text. */
	(void)mnl_socket_setsockopt(s->mnl, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(s->mnl, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(s->mnl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto fail;
	}
	s->portid = mnl_socket_get_portid(s->mnl);
	s->seq = (uint32_t)time(NULL);
	s->cap = NL_BUF_MIN;
	s->buf = malloc(s->cap);
	if (!s->buf) {
		err = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	mnl_socket_close(s->mnl);
	s->mnl = NULL;
	return err;
}

void nl_close(struct nl_sock *s)
{
	if (s->mnl)
		mnl_socket_close(s->mnl);
	free(s->buf);
	s->mnl = NULL;
	s->buf = NULL;
}

/* ---- requests ---- */

int nl_req_init(struct nl_req *r, uint16_t type, uint16_t flags,
		const void *hdr, size_t hdrlen, size_t room)
{
	void *extra;

	r->err = 0;
	r->cap = MNL_NLMSG_HDRLEN + MNL_ALIGN(hdrlen) + room;
	r->nlh = calloc(1, r->cap);
	if (!r->nlh)
		return -ENOMEM;
	mnl_nlmsg_put_header(r->nlh);
	r->nlh->nlmsg_type = type;
	r->nlh->nlmsg_flags = flags;
	if (hdrlen) {
		extra = mnl_nlmsg_put_extra_header(r->nlh, hdrlen);
		memcpy(extra, hdr, hdrlen);
	}
	return 0;
}

void nl_req_free(struct nl_req *r)
{
	free(r->nlh);
	r->nlh = NULL;
}

void nl_req_put(struct nl_req *r, uint16_t type, const void *data, size_t len)
{
	if (r->err)
		return;
	if (len > USHRT_MAX - MNL_ATTR_HDRLEN ||
	    !mnl_attr_put_check(r->nlh, r->cap, type, len, data))
		r->err = -EMSGSIZE;
}

void nl_req_put_u32(struct nl_req *r, uint16_t type, uint32_t v)
{
	nl_req_put(r, type, &v, sizeof(v));
}

void nl_req_put_strz(struct nl_req *r, uint16_t type, const char *s)
{
	nl_req_put(r, type, s, strlen(s) + 1);
}

struct nlattr *nl_req_nest_start(struct nl_req *r, uint16_t type)
{
	struct nlattr *nest;

	if (r->err)
		return NULL;
	nest = mnl_attr_nest_start_check(r->nlh, r->cap, type);
	if (!nest)
		r->err = -EMSGSIZE;
	return nest;
}

void nl_req_nest_end(struct nl_req *r, struct nlattr *nest)
{
	if (!r->err && nest)
		mnl_attr_nest_end(r->nlh, nest);
}

/* ---- answers ---- */

static int ext_attr_cb(const struct nlattr *a, void *data)
{
	struct nl_sock *s = data;
	const char *msg;
	size_t n;

	if (mnl_attr_get_type(a) != NLMSGERR_ATTR_MSG)
		return MNL_CB_OK;
	msg = mnl_attr_get_payload(a);
	n = strnlen(msg, mnl_attr_get_payload_len(a));
	if (n >= sizeof(s->ext))
		n = sizeof(s->ext) - 1;
	memcpy(s->ext, msg, n);
	while (n && s->ext[n - 1] == '\n')
		n--;
	s->ext[n] = '\0';
	return MNL_CB_OK;
}

/* NLMSGERR_ATTR_MSG of an NLMSG_ERROR/NLMSG_DONE whose TLVs start @off
 * bytes into the payload, into s->ext. */
static void keep_extack(struct nl_sock *s, const struct nlmsghdr *nlh,
			size_t off)
{
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) ||
	    off >= mnl_nlmsg_get_payload_len(nlh))
		return;
	(void)mnl_attr_parse(nlh, off, ext_attr_cb, s);
}

static int on_error(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct nl_run *run = data;
	size_t off;

	run->end = true;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		run->err = -EBADMSG;
		return MNL_CB_STOP;
	}
	/* Uncapped, the whole request is echoed before the TLVs. */
	if (nlh->nlmsg_flags & NLM_F_CAPPED)
		off = sizeof(*e);
	else
		off = sizeof(e->error) + MNL_ALIGN(e->msg.nlmsg_len);
	keep_extack(run->s, nlh, off);
	run->err = e->error <= 0 ? e->error : -EPROTO;
	return MNL_CB_STOP;
}

static int on_done(const struct nlmsghdr *nlh, void *data)
{
	struct nl_run *run = data;
	int err = 0;

	if (!run->dump)
		return MNL_CB_OK;	/* multi-part answer; the ack follows */
	run->end = true;
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err)) {
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
		keep_extack(run->s, nlh, sizeof(err));
	}
	run->err = err < 0 ? err : 0;
	return MNL_CB_STOP;
}

static int on_overrun(const struct nlmsghdr *nlh, void *data)
{
	struct nl_run *run = data;

	run->end = true;
	run->err = -EOVERFLOW;
	return MNL_CB_STOP;
}

static int on_data(const struct nlmsghdr *nlh, void *data)
{
	struct nl_run *run = data;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		run->intr = true;
	if (run->cb && !run->cb_err)
		run->cb_err = run->cb(nlh, run->arg);
	return MNL_CB_OK;	/* read on: the socket must stay in step */
}

/* One datagram from the kernel into s->buf, which grows to fit it. */
static int nl_recv(struct nl_sock *s)
{
	int fd = mnl_socket_get_fd(s->mnl);
	ssize_t n;
	char *nb;

	for (;;) {
		n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if ((size_t)n > s->cap) {
			nb = realloc(s->buf, n);
			if (!nb)
				return -ENOMEM;
			s->buf = nb;
			s->cap = n;
		}
		n = mnl_socket_recvfrom(s->mnl, s->buf, s->cap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == ENOSPC ? -EMSGSIZE : -errno;
		if (n > INT_MAX)
			return -EMSGSIZE;
		return (int)n;
	}
}

/*
 * After an interrupted dump (libmnl >= 1.0.5 stops at NLM_F_DUMP_INTR
 * with EINTR) the rest of it is read and dropped up to its NLMSG_DONE,
 * so the next request starts on a quiet socket.
 */
static void drain_datagram(struct nl_run *run, int n)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)run->s->buf;

	for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
		if (nlh->nlmsg_seq != run->s->seq)
			continue;
		if (nlh->nlmsg_type == NLMSG_DONE ||
		    nlh->nlmsg_type == NLMSG_ERROR) {
			run->end = true;
			return;
		}
	}
}

/*
 * Every message of the datagram lies inside it, padded to 4 bytes as the
 * kernel always sends them. libmnl's own check compares nlmsg_len as a
 * signed int, so a length of 2^31 or more passes it and the walk jumps
 * outside the buffer, and it reads attributes up to the padded end of a
 * message; the kernel never sends either, but nothing here should read
 * beyond what recv() returned.
 */
bool nl_dgram_ok(const void *buf, size_t n)
{
	const struct nlmsghdr *nlh;
	size_t off = 0, len;

	/* fewer bytes than a header at the end: libmnl stops there */
	while (off < n && n - off >= sizeof(*nlh)) {
		nlh = (const struct nlmsghdr *)((const char *)buf + off);
		len = nlh->nlmsg_len;
		if (len < sizeof(*nlh) || MNL_ALIGN(len) > n - off)
			return false;
		off += MNL_ALIGN(len);
	}
	return true;
}

/* Run one datagram through the callbacks. */
static int run_datagram(struct nl_run *run, int n)
{
	/* not const: libmnl 1.0.4 takes a plain pointer */
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR]	= on_error,
		[NLMSG_DONE]	= on_done,
		[NLMSG_OVERRUN]	= on_overrun,
	};
	int ret;

	if (!nl_dgram_ok(run->s->buf, n))
		return -EBADMSG;
	if (run->draining) {
		drain_datagram(run, n);
		return 0;
	}
	ret = mnl_cb_run2(run->s->buf, n, run->s->seq, run->s->portid,
			  on_data, run, ctl, NLMSG_MIN_TYPE);
	if (ret >= 0)
		return 0;
	if (errno != EINTR)
		return -errno;	/* ESRCH, EPROTO: not our answer */
	run->intr = true;
	run->draining = true;
	drain_datagram(run, n);
	return 0;
}

int nl_talk(struct nl_sock *s, struct nl_req *r, nl_cb_t cb, void *arg)
{
	struct nl_run run = { .s = s, .cb = cb, .arg = arg };
	struct nlmsghdr *req = r->nlh;
	int n, err;

	if (r->err)
		return r->err;
	run.dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	req->nlmsg_flags |= NLM_F_REQUEST | (run.dump ? 0 : NLM_F_ACK);
	req->nlmsg_seq = ++s->seq;
	req->nlmsg_pid = 0;
	s->ext[0] = '\0';
	if (mnl_socket_sendto(s->mnl, req, req->nlmsg_len) < 0)
		return -errno;

	while (!run.end) {
		n = nl_recv(s);
		if (n < 0)
			return n;
		err = run_datagram(&run, n);
		if (err)
			return err;
	}
	if (run.err)
		return run.err;
	if (run.cb_err)
		return run.cb_err;
	return run.intr ? -EAGAIN : 0;
}

int nl_dump(struct nl_sock *s, struct nl_req *r, nl_cb_t cb, void *arg,
	    void (*reset)(void *arg))
{
	int err, tries;

	for (tries = 1; ; tries++) {
		if (reset)
			reset(arg);
		err = nl_talk(s, r, cb, arg);
		/* else the same request again, under a new sequence number */
		if (err != -EAGAIN || tries == NL_DUMP_TRIES)
			return err;
	}
}

/* ---- attributes ---- */

struct parse_tb {
	const struct nlattr **tb;
	unsigned int max;
};

static int parse_cb(const struct nlattr *a, void *data)
{
	struct parse_tb *p = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= p->max && !p->tb[type])
		p->tb[type] = a;
	return MNL_CB_OK;
}

int nl_parse_msg(const struct nlmsghdr *nlh, size_t hdrlen,
		 const struct nlattr **tb, unsigned int max)
{
	struct parse_tb p = { .tb = tb, .max = max };

	memset(tb, 0, sizeof(*tb) * (max + 1));
	if (mnl_nlmsg_get_payload_len(nlh) < hdrlen)
		return -EBADMSG;
	/* A malformed attribute ends the walk; those before it count. */
	(void)mnl_attr_parse(nlh, MNL_ALIGN(hdrlen), parse_cb, &p);
	return 0;
}

void nl_parse_payload(const void *buf, size_t len, const struct nlattr **tb,
		      unsigned int max)
{
	struct parse_tb p = { .tb = tb, .max = max };

	memset(tb, 0, sizeof(*tb) * (max + 1));
	if (buf && len)
		(void)mnl_attr_parse_payload(buf, len, parse_cb, &p);
}

int nl_attr_dup(const struct nlattr *a, void **p, size_t *len)
{
	*len = mnl_attr_get_payload_len(a);
	*p = malloc(*len ? *len : 1);
	if (!*p)
		return -ENOMEM;
	memcpy(*p, mnl_attr_get_payload(a), *len);
	return 0;
}
