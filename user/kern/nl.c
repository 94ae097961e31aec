// SPDX-License-Identifier: GPL-2.0-only
/*
 * nl.c - see nl.h.
 *
 * Each public call opens its own NETLINK_ROUTE socket (in the namespace
 * the calling thread is in), with NETLINK_EXT_ACK so errors come with the
 * kernel's text and NETLINK_CAP_ACK so they do not echo the request.
 * Requests carry NLM_F_ACK and end at their NLMSG_ERROR; dumps end at
 * NLMSG_DONE (or an NLMSG_ERROR) and are retried when the kernel flags
 * them NLM_F_DUMP_INTR. Answers to other sequence numbers are skipped.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "kern/nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK		270
#endif

#define NL_BUF_MIN		32768	/* the kernel's largest dump skb */
#define NL_DUMP_TRIES		5
#define NSEC_PER_USEC		1000ULL
#define NSEC_PER_MSEC		1000000ULL
#define NSEC_PER_SEC		1000000000ULL

/* sch_fq's own limits and defaults (net/sched/sch_fq.c, fq_change/fq_init) */
#define FQ_QUANTUM_MAX		(1U << 20)
#define FQ_DEF_LIMIT		10000U
#define FQ_DEF_FLOW_LIMIT	100U

#define HTB_VER			0x30011	/* sch_htb.c: dumped as is, init wants >> 16 */

#define SERIAL_MAGIC		0x51424354U	/* "TCBQ" */
#define SERIAL_VERSION		1

typedef unsigned __int128 u128;

struct nl_sock {
	int fd;
	uint32_t pid;		/* our port id: the kernel's answers carry it */
	uint32_t seq;
	char *buf;
	size_t cap;
	char ext[256];		/* extack text of the last request, "" if none */
};

typedef int (*nl_cb_t)(const struct nlmsghdr *nlh, void *arg);

/* A request under construction; the first error sticks. */
struct nl_msg {
	struct nlmsghdr *nlh;
	size_t cap;
	int err;
};

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* "@what: <the kernel's message, or strerror>" */
static void set_kerr(char *err, size_t errlen, const struct nl_sock *s,
		     int ret, const char *what)
{
	set_err(err, errlen, "%s: %s", what, s->ext[0] ? s->ext : strerror(-ret));
}

static int nl_open(struct nl_sock *s)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t salen = sizeof(sa);
	int one = 1, err;

	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s->fd < 0)
		return -errno;
	/* Both exist since 4.12; without them errors just lack the text. */
	(void)setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(s->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(s->fd, (struct sockaddr *)&sa, &salen) < 0) {
		err = -errno;
		goto fail;
	}
	s->pid = sa.nl_pid;
	s->seq = (uint32_t)time(NULL);
	s->cap = NL_BUF_MIN;
	s->buf = malloc(s->cap);
	if (!s->buf) {
		err = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	close(s->fd);
	s->fd = -1;
	return err;
}

static void nl_close(struct nl_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	s->fd = -1;
	s->buf = NULL;
}

/* One datagram from the kernel into s->buf, which grows to fit it. */
static int nl_recv(struct nl_sock *s)
{
	struct sockaddr_nl sa;
	struct iovec iov;
	struct msghdr msg = {
		.msg_name = &sa,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	ssize_t n;
	char *nb;

	for (;;) {
		iov.iov_base = s->buf;
		iov.iov_len = s->cap;
		msg.msg_namelen = sizeof(sa);
		n = recvmsg(s->fd, &msg, MSG_PEEK | MSG_TRUNC);
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
			continue;
		}
		n = recvmsg(s->fd, &msg, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (msg.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		if (msg.msg_namelen != sizeof(sa) || sa.nl_pid != 0)
			continue;	/* not from the kernel */
		if (n > INT_MAX)
			return -EMSGSIZE;
		return (int)n;
	}
}

/* Keep NLMSGERR_ATTR_MSG of an NLMSG_ERROR/NLMSG_DONE whose TLVs start
 * @off bytes into the payload. */
static void nl_extack(struct nl_sock *s, const struct nlmsghdr *nlh, size_t off)
{
	const struct rtattr *rta;
	size_t plen = nlh->nlmsg_len - NLMSG_HDRLEN, n;
	int len;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || off >= plen)
		return;
	rta = (const struct rtattr *)((const char *)NLMSG_DATA(nlh) + off);
	for (len = plen - off; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if ((rta->rta_type & NLA_TYPE_MASK) != NLMSGERR_ATTR_MSG)
			continue;
		n = strnlen(RTA_DATA(rta), RTA_PAYLOAD(rta));
		if (n >= sizeof(s->ext))
			n = sizeof(s->ext) - 1;
		memcpy(s->ext, RTA_DATA(rta), n);
		while (n && s->ext[n - 1] == '\n')
			n--;
		s->ext[n] = '\0';
	}
}

static int nl_ack(struct nl_sock *s, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = NLMSG_DATA(nlh);
	size_t off;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
		return -EBADMSG;
	/* Uncapped, the whole request is echoed before the TLVs. */
	if (nlh->nlmsg_flags & NLM_F_CAPPED)
		off = sizeof(*e);
	else
		off = sizeof(e->error) + NLMSG_ALIGN(e->msg.nlmsg_len);
	nl_extack(s, nlh, off);
	return e->error <= 0 ? e->error : -EPROTO;
}

static int nl_done(struct nl_sock *s, const struct nlmsghdr *nlh)
{
	int err;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(err)))
		return 0;
	memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
	nl_extack(s, nlh, sizeof(err));
	return err < 0 ? err : 0;
}

/*
 * Send @req and read until its end: the ack of a request (NLM_F_ACK is
 * added), NLMSG_DONE of a dump. Every other answer goes to @cb; its first
 * error is returned after the exchange is complete, so the socket stays
 * in step. -EAGAIN: the dump was interrupted by a change, retry it.
 */
static int nl_talk(struct nl_sock *s, struct nlmsghdr *req, nl_cb_t cb,
		   void *arg)
{
	bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	const struct nlmsghdr *nlh;
	int n, err = 0, cb_err = 0;
	bool intr = false;

	req->nlmsg_flags |= NLM_F_REQUEST | (dump ? 0 : NLM_F_ACK);
	req->nlmsg_seq = ++s->seq;
	req->nlmsg_pid = 0;
	s->ext[0] = '\0';
	if (sendto(s->fd, req, req->nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		return -errno;

	for (;;) {
		n = nl_recv(s);
		if (n < 0)
			return n;
		for (nlh = (const struct nlmsghdr *)s->buf;
		     n >= (int)sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
		     nlh->nlmsg_len <= (unsigned int)n;
		     n -= NLMSG_ALIGN(nlh->nlmsg_len),
		     nlh = (const void *)((const char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len))) {
			if (nlh->nlmsg_seq != req->nlmsg_seq ||
			    nlh->nlmsg_pid != s->pid)
				continue;	/* left over from an earlier request */
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = true;
			switch (nlh->nlmsg_type) {
			case NLMSG_NOOP:
				break;
			case NLMSG_ERROR:
				err = nl_ack(s, nlh);
				goto done;
			case NLMSG_DONE:
				if (dump) {
					err = nl_done(s, nlh);
					goto done;
				}
				break;	/* multi-part answer; the ack follows */
			case NLMSG_OVERRUN:
				return -EOVERFLOW;
			default:
				if (cb && !cb_err)
					cb_err = cb(nlh, arg);
			}
		}
		if (n > 0)
			return -EBADMSG;	/* a truncated message */
	}
done:
	if (err)
		return err;
	if (cb_err)
		return cb_err;
	return intr ? -EAGAIN : 0;
}

static int msg_init(struct nl_msg *m, size_t attrs, uint16_t type,
		    uint16_t flags, const void *hdr, size_t hdrlen)
{
	m->cap = NLMSG_SPACE(hdrlen) + attrs;
	m->err = 0;
	m->nlh = calloc(1, m->cap);
	if (!m->nlh)
		return -ENOMEM;
	m->nlh->nlmsg_len = NLMSG_LENGTH(hdrlen);
	m->nlh->nlmsg_type = type;
	m->nlh->nlmsg_flags = flags;
	memcpy(NLMSG_DATA(m->nlh), hdr, hdrlen);
	return 0;
}

static void msg_put(struct nl_msg *m, uint16_t type, const void *data,
		    size_t len)
{
	size_t off = NLMSG_ALIGN(m->nlh->nlmsg_len);
	struct rtattr *rta;

	if (m->err)
		return;
	if (off + RTA_SPACE(len) > m->cap || RTA_LENGTH(len) > USHRT_MAX) {
		m->err = -EMSGSIZE;
		return;
	}
	rta = (struct rtattr *)((char *)m->nlh + off);
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	m->nlh->nlmsg_len = off + RTA_SPACE(len);	/* buffer is zeroed */
}

static void parse_rta(const struct rtattr **tb, int max,
		      const struct rtattr *rta, int len)
{
	unsigned short type;

	memset(tb, 0, sizeof(*tb) * (max + 1));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		type = rta->rta_type & NLA_TYPE_MASK;
		if (type <= max && !tb[type])
			tb[type] = rta;
	}
}

static int dup_attr(const struct rtattr *rta, void **p, size_t *len)
{
	*len = RTA_PAYLOAD(rta);
	*p = malloc(*len ? *len : 1);
	if (!*p)
		return -ENOMEM;
	memcpy(*p, RTA_DATA(rta), *len);
	return 0;
}

/* ---- links ---- */

static int link_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nlh);
	const struct rtattr *tb[IFLA_MAX + 1];
	int len = nlh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
	uint32_t v;
	int *ntx = arg;

	if (nlh->nlmsg_type != RTM_NEWLINK || len < 0)
		return 0;
	parse_rta(tb, IFLA_MAX, IFLA_RTA(ifi), len);
	*ntx = 1;
	if (tb[IFLA_NUM_TX_QUEUES] &&
	    RTA_PAYLOAD(tb[IFLA_NUM_TX_QUEUES]) >= sizeof(v)) {
		memcpy(&v, RTA_DATA(tb[IFLA_NUM_TX_QUEUES]), sizeof(v));
		if (v > 1)
			*ntx = v > INT_MAX ? INT_MAX : (int)v;
	}
	return 0;
}

/* num_tx_queues of @ifindex; -ENODEV if there is no such device. */
static int link_tx_queues(struct nl_sock *s, int ifindex)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	uint32_t mask = RTEXT_FILTER_SKIP_STATS;
	struct nl_msg m;
	int err, ntx = 0;

	if (ifindex <= 0)
		return -ENODEV;
	err = msg_init(&m, 64, RTM_GETLINK, 0, &ifi, sizeof(ifi));
	if (err)
		return err;
	msg_put(&m, IFLA_EXT_MASK, &mask, sizeof(mask));
	err = m.err ? m.err : nl_talk(s, m.nlh, link_cb, &ntx);
	free(m.nlh);
	if (err)
		return err;
	return ntx ? ntx : -ENODEV;
}

int nl_link_num_tx_queues(int ifindex)
{
	struct nl_sock s;
	int ret;

	ret = nl_open(&s);
	if (ret)
		return ret;
	ret = link_tx_queues(&s, ifindex);
	nl_close(&s);
	return ret;
}

/* ---- qdiscs ---- */

struct qdisc_list {
	int ifindex;
	struct nl_qdisc *q;
	int n, cap;
};

void nl_qdisc_clear(struct nl_qdisc *q)
{
	if (!q)
		return;
	free(q->opts);
	free(q->stab);
	memset(q, 0, sizeof(*q));
}

void nl_qdisc_free(struct nl_qdisc *q, int n)
{
	int i;

	if (!q)
		return;
	for (i = 0; i < n; i++)
		nl_qdisc_clear(&q[i]);
	free(q);
}

int nl_qdisc_is_default(const struct nl_qdisc *q)
{
	return TC_H_MAJ(q->handle) == 0;
}

static int qdisc_parse(const struct nlmsghdr *nlh, struct nl_qdisc *q)
{
	const struct tcmsg *tcm = NLMSG_DATA(nlh);
	const struct rtattr *tb[TCA_MAX + 1];
	int len = nlh->nlmsg_len - NLMSG_LENGTH(sizeof(*tcm));
	size_t klen;
	int err;

	memset(q, 0, sizeof(*q));
	if (len < 0)
		return -EBADMSG;
	parse_rta(tb, TCA_MAX, TCA_RTA(tcm), len);
	if (!tb[TCA_KIND])
		return -EBADMSG;
	klen = strnlen(RTA_DATA(tb[TCA_KIND]), RTA_PAYLOAD(tb[TCA_KIND]));
	if (!klen || klen >= sizeof(q->kind))
		return -EBADMSG;
	memcpy(q->kind, RTA_DATA(tb[TCA_KIND]), klen);
	q->handle = tcm->tcm_handle;
	q->parent = tcm->tcm_parent;
	if (tb[TCA_OPTIONS]) {
		err = dup_attr(tb[TCA_OPTIONS], &q->opts, &q->opts_len);
		if (err)
			return err;
	}
	if (tb[TCA_STAB]) {
		err = dup_attr(tb[TCA_STAB], &q->stab, &q->stab_len);
		if (err) {
			nl_qdisc_clear(q);
			return err;
		}
	}
	return 0;
}

static int qdisc_list_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct tcmsg *tcm = NLMSG_DATA(nlh);
	struct qdisc_list *l = arg;
	struct nl_qdisc *nq;
	int err;

	if (nlh->nlmsg_type != RTM_NEWQDISC)
		return 0;
	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*tcm)))
		return -EBADMSG;
	if (tcm->tcm_ifindex != l->ifindex)
		return 0;	/* the kernel dumps every device */
	if (l->n == l->cap) {
		nq = realloc(l->q, (l->cap ? 2 * l->cap : 8) * sizeof(*nq));
		if (!nq)
			return -ENOMEM;
		l->q = nq;
		l->cap = l->cap ? 2 * l->cap : 8;
	}
	err = qdisc_parse(nlh, &l->q[l->n]);
	if (err)
		return err;
	l->n++;
	return 0;
}

static int qdisc_dump(struct nl_sock *s, int ifindex, struct qdisc_list *l)
{
	struct tcmsg tcm = { .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex };
	struct nl_msg m;
	int err, tries;

	memset(l, 0, sizeof(*l));
	l->ifindex = ifindex;
	err = link_tx_queues(s, ifindex);	/* -ENODEV, not an empty list */
	if (err < 0)
		return err;
	for (tries = 1; ; tries++) {
		err = msg_init(&m, 0, RTM_GETQDISC, NLM_F_DUMP, &tcm, sizeof(tcm));
		if (err)
			break;
		err = nl_talk(s, m.nlh, qdisc_list_cb, l);
		free(m.nlh);
		if (err != -EAGAIN || tries == NL_DUMP_TRIES)
			break;
		nl_qdisc_free(l->q, l->n);
		memset(l, 0, sizeof(*l));
		l->ifindex = ifindex;
	}
	if (err) {
		nl_qdisc_free(l->q, l->n);
		memset(l, 0, sizeof(*l));
	}
	return err;
}

int nl_qdisc_list(int ifindex, struct nl_qdisc **out, int *n)
{
	struct qdisc_list l;
	struct nl_sock s;
	int ret;

	*out = NULL;
	*n = 0;
	ret = nl_open(&s);
	if (ret)
		return ret;
	ret = qdisc_dump(&s, ifindex, &l);
	nl_close(&s);
	if (ret)
		return ret;
	*out = l.q;
	*n = l.n;
	return 0;
}

/* Move the qdisc with @parent out of @l into @out; -ENOENT if none. */
static int take_qdisc(struct qdisc_list *l, uint32_t parent,
		      struct nl_qdisc *out)
{
	int i;

	for (i = 0; i < l->n; i++) {
		if (l->q[i].parent != parent)
			continue;
		*out = l->q[i];
		memset(&l->q[i], 0, sizeof(l->q[i]));
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -ENOENT;
}

static int root_qdisc(struct nl_sock *s, int ifindex, struct nl_qdisc *out)
{
	struct qdisc_list l;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = qdisc_dump(s, ifindex, &l);
	if (ret)
		return ret;
	ret = take_qdisc(&l, TC_H_ROOT, out);
	nl_qdisc_free(l.q, l.n);
	return ret;
}

int nl_root_qdisc(int ifindex, struct nl_qdisc *out)
{
	struct nl_sock s;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = nl_open(&s);
	if (ret)
		return ret;
	ret = root_qdisc(&s, ifindex, out);
	nl_close(&s);
	return ret;
}

static int has_clsact(struct nl_sock *s, int ifindex)
{
	struct nl_qdisc q;
	struct qdisc_list l;
	int ret;

	ret = qdisc_dump(s, ifindex, &l);
	if (ret)
		return ret;
	/* clsact and ingress both sit at ffff:fff1 and exclude each other */
	ret = 0;
	if (!take_qdisc(&l, TC_H_INGRESS, &q)) {
		if (!strcmp(q.kind, "clsact"))
			ret = 1;
		else if (!strcmp(q.kind, "ingress"))
			ret = 2;
		nl_qdisc_clear(&q);
	}
	nl_qdisc_free(l.q, l.n);
	return ret;
}

int nl_has_clsact(int ifindex)
{
	struct nl_sock s;
	int ret;

	ret = nl_open(&s);
	if (ret)
		return ret;
	ret = has_clsact(&s, ifindex);
	nl_close(&s);
	return ret;
}

/* ---- filters ---- */

static int filter_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct tcmsg *tcm = NLMSG_DATA(nlh);
	const struct rtattr *tb[TCA_MAX + 1];
	int len = nlh->nlmsg_len - NLMSG_LENGTH(sizeof(*tcm));
	int *count = arg;

	if (nlh->nlmsg_type != RTM_NEWTFILTER)
		return 0;
	if (len < 0)
		return -EBADMSG;
	/* Handle 0 is the classifier instance (chain, prio, protocol). */
	if (!tcm->tcm_handle)
		return 0;
	parse_rta(tb, TCA_MAX, TCA_RTA(tcm), len);
	if (tb[TCA_KIND] && RTA_PAYLOAD(tb[TCA_KIND]) >= 4 &&
	    !memcmp(RTA_DATA(tb[TCA_KIND]), "u32", 4) &&
	    !TC_U32_NODE(tcm->tcm_handle))
		return 0;	/* a u32 hash table, not a filter */
	(*count)++;
	return 0;
}

static int filter_count(struct nl_sock *s, int ifindex, uint32_t parent)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = parent,
	};
	struct nl_msg m;
	int err, tries, count;

	err = has_clsact(s, ifindex);	/* also: -ENODEV */
	if (err < 0)
		return err;
	/* The ingress qdisc's find() accepts any minor: an "egress" query
	 * would list its ingress filters. */
	if (err == 2 && TC_H_MAJ(parent) == TC_H_MAJ(TC_H_CLSACT) &&
	    TC_H_MIN(parent) == TC_H_MIN_EGRESS)
		return 0;
	for (tries = 1; ; tries++) {
		count = 0;
		err = msg_init(&m, 0, RTM_GETTFILTER, NLM_F_DUMP, &tcm, sizeof(tcm));
		if (err)
			return err;
		err = nl_talk(s, m.nlh, filter_cb, &count);
		free(m.nlh);
		if (err != -EAGAIN || tries == NL_DUMP_TRIES)
			break;
	}
	return err ? err : count;
}

int nl_filter_count(int ifindex, uint32_t parent)
{
	struct nl_sock s;
	int ret;

	ret = nl_open(&s);
	if (ret)
		return ret;
	ret = filter_count(&s, ifindex, parent);
	nl_close(&s);
	return ret;
}

/* ---- changing qdiscs ---- */

/* RTM_NEWQDISC / RTM_DELQDISC; NULL @kind, @opts, @stab are left out. */
static int qdisc_req(struct nl_sock *s, uint16_t type, uint16_t flags,
		     int ifindex, uint32_t parent, uint32_t handle,
		     const char *kind, const void *opts, size_t opts_len,
		     const void *stab, size_t stab_len)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = parent,
		.tcm_handle = handle,
	};
	struct nl_msg m;
	int err;

	err = msg_init(&m, 3 * RTA_SPACE(0) + 32 + RTA_ALIGN(opts_len) +
		       RTA_ALIGN(stab_len), type, flags, &tcm, sizeof(tcm));
	if (err)
		return err;
	if (kind)
		msg_put(&m, TCA_KIND, kind, strlen(kind) + 1);
	if (opts)
		msg_put(&m, TCA_OPTIONS, opts, opts_len);
	if (stab)
		msg_put(&m, TCA_STAB, stab, stab_len);
	err = m.err ? m.err : nl_talk(s, m.nlh, NULL, NULL);
	free(m.nlh);
	return err;
}

static int root_delete(struct nl_sock *s, int ifindex, uint32_t handle,
		       char *err, size_t errlen)
{
	char what[48];
	int ret;

	ret = qdisc_req(s, RTM_DELQDISC, 0, ifindex, TC_H_ROOT, handle,
			NULL, NULL, 0, NULL, 0);
	if (ret) {
		snprintf(what, sizeof(what), "deleting root qdisc %x:",
			 TC_H_MAJ(handle) >> 16);
		set_kerr(err, errlen, s, ret, what);
	}
	return ret;
}

/*
 * A size table can be re-created from a dump only without a data table:
 * the dump carries TCA_STAB_BASE alone, and the kernel wants
 * TCA_STAB_DATA whenever tsize > 0.
 */
static bool stab_restorable(const struct nl_qdisc *q)
{
	const struct rtattr *tb[TCA_STAB_MAX + 1];
	struct tc_sizespec sz;

	if (!q->stab || q->stab_len > INT_MAX)
		return false;
	parse_rta(tb, TCA_STAB_MAX, q->stab, (int)q->stab_len);
	if (!tb[TCA_STAB_BASE] || RTA_PAYLOAD(tb[TCA_STAB_BASE]) < sizeof(sz))
		return false;
	memcpy(&sz, RTA_DATA(tb[TCA_STAB_BASE]), sizeof(sz));
	return sz.tsize == 0;
}

/*
 * The options to re-create @q with, malloc'd (NULL if none, *@err -ENOMEM
 * on failure). Dumps are replayed as they are, except where a qdisc does
 * not take its own dump back: htb reports its version as HTB_VER but
 * htb_init() wants HTB_VER >> 16.
 */
static void *create_opts(const struct nl_qdisc *q, int *err)
{
	const struct rtattr *tb[TCA_HTB_MAX + 1];
	struct tc_htb_glob g;
	char *o;

	*err = 0;
	if (!q->opts)
		return NULL;
	o = malloc(q->opts_len ? q->opts_len : 1);
	if (!o) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(o, q->opts, q->opts_len);
	if (strcmp(q->kind, "htb") || q->opts_len > INT_MAX)
		return o;
	parse_rta(tb, TCA_HTB_MAX, (const struct rtattr *)o, (int)q->opts_len);
	if (!tb[TCA_HTB_INIT] || RTA_PAYLOAD(tb[TCA_HTB_INIT]) < sizeof(g))
		return o;
	memcpy(&g, RTA_DATA(tb[TCA_HTB_INIT]), sizeof(g));
	if (g.version == HTB_VER)
		g.version = HTB_VER >> 16;
	memcpy(RTA_DATA(tb[TCA_HTB_INIT]), &g, sizeof(g));
	return o;
}

static int restore(struct nl_sock *s, int ifindex, const struct nl_qdisc *saved,
		   char *err, size_t errlen)
{
	bool restorable = stab_restorable(saved), clash = false;
	struct nl_qdisc cur;
	struct qdisc_list l;
	void *opts = NULL;
	char what[48];
	int i, ret;

	if (saved->parent != TC_H_ROOT || !saved->kind[0] ||
	    strnlen(saved->kind, sizeof(saved->kind)) == sizeof(saved->kind)) {
		set_err(err, errlen, "not a saved root qdisc");
		return -EINVAL;
	}
	ret = qdisc_dump(s, ifindex, &l);
	if (ret) {
		set_kerr(err, errlen, s, ret, "listing qdiscs");
		return ret;
	}
	/* The saved handle may since have gone to another qdisc below. */
	for (i = 0; i < l.n; i++)
		if (l.q[i].parent != TC_H_ROOT && l.q[i].handle == saved->handle)
			clash = true;
	ret = take_qdisc(&l, TC_H_ROOT, &cur);
	nl_qdisc_free(l.q, l.n);
	if (ret) {
		set_err(err, errlen, "device has no root qdisc");
		return ret;
	}

	if (nl_qdisc_is_default(saved)) {
		if (!nl_qdisc_is_default(&cur))
			ret = root_delete(s, ifindex, cur.handle, err, errlen);
		goto out;
	}
	if (cur.handle == saved->handle && !strcmp(cur.kind, saved->kind))
		goto out;	/* the saved qdisc itself is still there */
	if (clash || cur.handle == saved->handle) {
		ret = root_delete(s, ifindex, cur.handle, err, errlen);
		if (ret)
			goto out;
	}
	opts = create_opts(saved, &ret);
	if (ret) {
		set_err(err, errlen, "%s", strerror(-ret));
		goto out;
	}
	ret = qdisc_req(s, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, ifindex,
			TC_H_ROOT, saved->handle, saved->kind, opts,
			saved->opts_len, restorable ? saved->stab : NULL,
			saved->stab_len);
	free(opts);
	if (ret) {
		snprintf(what, sizeof(what), "%s %x: at root", saved->kind,
			 TC_H_MAJ(saved->handle) >> 16);
		set_kerr(err, errlen, s, ret, what);
	}
out:
	nl_qdisc_clear(&cur);
	return ret;
}

int nl_qdisc_restore(int ifindex, const struct nl_qdisc *saved, char *err,
		     size_t errlen)
{
	struct nl_sock s;
	int ret;

	ret = nl_open(&s);
	if (ret) {
		set_err(err, errlen, "netlink socket: %s", strerror(-ret));
		return ret;
	}
	ret = restore(&s, ifindex, saved, err, errlen);
	nl_close(&s);
	return ret;
}

/*
 * The mq half of install(): "mq 7cbf:" at the root, then @kind on each of
 * its classes. Grafting onto the classes of a kernel-made mq (handle 0)
 * would leave a root that deleting cannot reset, so tcbpf always makes
 * its own. On a child's failure the root @cur is put back.
 */
static int install_mq(struct nl_sock *s, int ifindex, int ntx,
		      const struct nl_qdisc *cur, const char *kind,
		      const void *opts, size_t opts_len, char *err,
		      size_t errlen)
{
	bool made = false;
	char what[48], rerr[160];
	int i, ret;

	if (cur->handle != NL_QDISC_HANDLE || strcmp(cur->kind, "mq")) {
		ret = qdisc_req(s, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE,
				ifindex, TC_H_ROOT, NL_QDISC_HANDLE, "mq",
				NULL, 0, NULL, 0);
		if (ret) {
			set_kerr(err, errlen, s, ret, "mq at root");
			return ret;
		}
		made = true;
	}
	for (i = 0; i < ntx; i++) {
		/* Handle 0: the kernel picks one. Over a child of the same
		 * kind this changes it in place, else it replaces it. */
		ret = qdisc_req(s, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE,
				ifindex, TC_H_MAKE(NL_QDISC_HANDLE, i + 1), 0,
				kind, opts, opts_len, NULL, 0);
		if (!ret)
			continue;
		snprintf(what, sizeof(what), "%s on %x:%x", kind,
			 NL_QDISC_HANDLE >> 16, i + 1);
		set_kerr(err, errlen, s, ret, what);
		if (made && restore(s, ifindex, cur, rerr, sizeof(rerr)) < 0 &&
		    err && errlen) {
			size_t n = strlen(err);

			snprintf(err + n, errlen - n, "; putting back the root: %s",
				 rerr);
		}
		return ret;
	}
	return 0;
}

int nl_qdisc_install(int ifindex, const char *kind, const void *opts,
		     size_t opts_len, char *err, size_t errlen)
{
	struct nl_qdisc cur = { 0 };
	const char *top;
	struct nl_sock s;
	char what[48];
	int ntx, ret;

	if (!kind || !kind[0] || strlen(kind) >= sizeof(cur.kind)) {
		set_err(err, errlen, "invalid qdisc kind");
		return -EINVAL;
	}
	ret = nl_open(&s);
	if (ret) {
		set_err(err, errlen, "netlink socket: %s", strerror(-ret));
		return ret;
	}
	ntx = link_tx_queues(&s, ifindex);
	if (ntx < 0) {
		ret = ntx;
		set_kerr(err, errlen, &s, ret, "device");
		goto out;
	}
	ret = root_qdisc(&s, ifindex, &cur);
	if (ret) {
		set_kerr(err, errlen, &s, ret, "root qdisc");
		goto out;
	}
	top = ntx > 1 ? "mq" : kind;
	/* tcbpf's own root of another kind: same handle, so the kernel
	 * would refuse ("Invalid qdisc name"); the default comes back. */
	if (cur.handle == NL_QDISC_HANDLE && strcmp(cur.kind, top)) {
		ret = root_delete(&s, ifindex, cur.handle, err, errlen);
		nl_qdisc_clear(&cur);
		if (ret)
			goto out;
		ret = root_qdisc(&s, ifindex, &cur);
		if (ret) {
			set_kerr(err, errlen, &s, ret, "root qdisc");
			goto out;
		}
	}
	if (ntx > 1) {
		ret = install_mq(&s, ifindex, ntx, &cur, kind, opts, opts_len,
				 err, errlen);
		goto out;
	}
	/* One request: it either replaces the root (or changes tcbpf's
	 * own in place) or changes nothing. */
	ret = qdisc_req(&s, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, ifindex,
			TC_H_ROOT, NL_QDISC_HANDLE, kind, opts, opts_len, NULL, 0);
	if (ret) {
		snprintf(what, sizeof(what), "%s at root", kind);
		set_kerr(err, errlen, &s, ret, what);
	}
out:
	nl_qdisc_clear(&cur);
	nl_close(&s);
	return ret;
}

/* ---- fq ---- */

/* Attributes of a TCA_OPTIONS payload, built in place. */
struct attrs {
	char buf[256];
	size_t len;
};

static void attrs_put(struct attrs *a, uint16_t type, const void *data,
		      size_t len)
{
	struct rtattr *rta = (struct rtattr *)(a->buf + a->len);

	/* At most 9 attributes of <= 8 bytes each: always fits. */
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	a->len += RTA_SPACE(len);
}

static void attrs_u32(struct attrs *a, uint16_t type, uint32_t v)
{
	attrs_put(a, type, &v, sizeof(v));
}

/*
 * fq's options (sch_fq.c fq_policy: all NLA_U32 but TCA_FQ_HORIZON_DROP,
 * NLA_U8). Units as fq_change() reads them: limits in packets, quanta in
 * bytes, TCA_FQ_FLOW_MAX_RATE in bytes/s (~0U: unlimited), TCA_FQ_HORIZON
 * and TCA_FQ_CE_THRESHOLD in microseconds. Checked here against the same
 * bounds fq_change() applies, so a bad value sends nothing.
 */
static int fq_opts(const struct fq_params *p, struct attrs *a, char *err,
		   size_t errlen)
{
	uint64_t horizon_us = (p->horizon_ns + NSEC_PER_USEC - 1) / NSEC_PER_USEC;
	uint8_t drop = !p->horizon_cap;

	if (p->horizon_ns > UINT64_MAX - NSEC_PER_USEC)
		horizon_us = UINT64_MAX;
	if (p->quantum > FQ_QUANTUM_MAX) {
		set_err(err, errlen, "fq quantum %u: more than %u bytes",
			p->quantum, FQ_QUANTUM_MAX);
		return -ERANGE;
	}
	if (p->initial_quantum > INT_MAX) {
		set_err(err, errlen, "fq initial_quantum %u: more than %d bytes",
			p->initial_quantum, INT_MAX);
		return -ERANGE;
	}
	if (horizon_us > UINT32_MAX) {
		set_err(err, errlen, "fq horizon: more than %u us", UINT32_MAX);
		return -ERANGE;
	}
	if (p->maxrate_bytes >= UINT32_MAX) {
		set_err(err, errlen, "fq maxrate: %u bytes/s or more",
			UINT32_MAX);
		return -ERANGE;
	}

	a->len = 0;
	memset(a->buf, 0, sizeof(a->buf));
	if (p->limit)
		attrs_u32(a, TCA_FQ_PLIMIT, p->limit);
	if (p->flow_limit)
		attrs_u32(a, TCA_FQ_FLOW_PLIMIT, p->flow_limit);
	if (p->quantum)
		attrs_u32(a, TCA_FQ_QUANTUM, p->quantum);
	if (p->initial_quantum)
		attrs_u32(a, TCA_FQ_INITIAL_QUANTUM, p->initial_quantum);
	if (p->maxrate_bytes)
		attrs_u32(a, TCA_FQ_FLOW_MAX_RATE, (uint32_t)p->maxrate_bytes);
	if (p->have_ce_threshold)
		attrs_u32(a, TCA_FQ_CE_THRESHOLD, p->ce_threshold_us);
	if (p->horizon_ns)
		attrs_u32(a, TCA_FQ_HORIZON, (uint32_t)horizon_us);
	/* Always: a re-install over tcbpf's fq changes it in place. */
	attrs_put(a, TCA_FQ_HORIZON_DROP, &drop, sizeof(drop));
	return 0;
}

int nl_fq_opts(const struct fq_params *p, void *buf, size_t len, char *err,
	       size_t errlen)
{
	struct attrs a;
	int ret;

	ret = fq_opts(p, &a, err, errlen);
	if (ret)
		return ret;
	if (len < a.len) {
		set_err(err, errlen, "fq options: %zu bytes needed", a.len);
		return -ENOSPC;
	}
	memcpy(buf, a.buf, a.len);
	return (int)a.len;
}

int nl_fq_install(int ifindex, const struct fq_params *p, char *err,
		  size_t errlen)
{
	struct attrs a;
	int ret;

	ret = fq_opts(p, &a, err, errlen);
	if (ret)
		return ret;
	return nl_qdisc_install(ifindex, "fq", a.buf, a.len, err, errlen);
}

static uint32_t sat_u32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/*
 * Every packet the pacer passes waits in fq until its departure time, at
 * most win = delay + horizon ahead of now; at the limited rate that is at
 * most rate * win of data, all of which one flow may own:
 *
 *   frame        = mtu + 14                      (a full-size Ethernet frame)
 *   pkts         = ceil(rate_bits / 8 * win / 1e9 / frame)
 *   flow_limit   = pkts + pkts / 4 + 100         (25 % for shorter packets,
 *                                                 plus fq's own default)
 *   limit        = max(2 * flow_limit, 10000)    (the flows share the rate;
 *                                                 never below fq's default)
 *   horizon      = win + win / 8 + 1 ms          (fq must not drop a stamp
 *                                                 the pacer made; <= 2^32 us)
 *   horizon_drop = 1                             (beyond it: a pacer bug, drop)
 *
 * 100 Mbit/s, 400 ms delay, no pacer horizon, mtu 1500: pkts 3,303,
 * flow_limit 4,228, limit 10,000, horizon 451 ms. Quanta stay at fq's
 * defaults.
 */
void fq_params_for(uint64_t rate_bits, uint64_t delay_ns, uint64_t horizon_ns,
		   uint32_t mtu, struct fq_params *p)
{
	const u128 hz_max = (u128)UINT32_MAX * NSEC_PER_USEC;
	uint64_t win, frame, pkts, flow;
	u128 bytes, n, hz;

	memset(p, 0, sizeof(*p));
	win = delay_ns > UINT64_MAX - horizon_ns ? UINT64_MAX : delay_ns + horizon_ns;
	frame = (uint64_t)(mtu ? mtu : 1500) + 14;
	bytes = (u128)rate_bits * win / (8 * NSEC_PER_SEC);
	n = (bytes + frame - 1) / frame;
	pkts = n > UINT32_MAX ? UINT32_MAX : (uint64_t)n;

	flow = pkts + pkts / 4 + FQ_DEF_FLOW_LIMIT;
	p->flow_limit = sat_u32(flow);
	p->limit = sat_u32(2 * flow > FQ_DEF_LIMIT ? 2 * flow : FQ_DEF_LIMIT);

	hz = (u128)win + win / 8 + NSEC_PER_MSEC;
	p->horizon_ns = (uint64_t)(hz > hz_max ? hz_max : hz);
	p->horizon_cap = 0;
}

/* ---- saving ---- */

struct serial_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t flags;
	uint32_t handle;
	uint32_t parent;
	char kind[16];
	uint32_t opts_len;
	uint32_t stab_len;
};

#define SERIAL_OPTS	0x1
#define SERIAL_STAB	0x2

int nl_qdisc_serialize(const struct nl_qdisc *q, void *buf, size_t len)
{
	size_t olen = q->opts ? q->opts_len : 0, slen = q->stab ? q->stab_len : 0;
	struct serial_hdr h = {
		.magic = SERIAL_MAGIC,
		.version = SERIAL_VERSION,
		.flags = (q->opts ? SERIAL_OPTS : 0) | (q->stab ? SERIAL_STAB : 0),
		.handle = q->handle,
		.parent = q->parent,
		.opts_len = (uint32_t)olen,
		.stab_len = (uint32_t)slen,
	};
	size_t need = sizeof(h) + olen + slen;
	char *p = buf;

	if (olen > USHRT_MAX || slen > USHRT_MAX)
		return -EINVAL;		/* no attribute is that long */
	if (!buf)
		return (int)need;
	if (len < need)
		return -ENOSPC;
	memcpy(h.kind, q->kind, sizeof(h.kind));
	memcpy(p, &h, sizeof(h));
	if (olen)
		memcpy(p + sizeof(h), q->opts, olen);
	if (slen)
		memcpy(p + sizeof(h) + olen, q->stab, slen);
	return (int)need;
}

int nl_qdisc_deserialize(const void *buf, size_t len, struct nl_qdisc *out)
{
	const char *p = buf;
	struct serial_hdr h;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, p, sizeof(h));
	if (h.magic != SERIAL_MAGIC || h.version != SERIAL_VERSION ||
	    h.flags & ~(SERIAL_OPTS | SERIAL_STAB) ||
	    (!(h.flags & SERIAL_OPTS) && h.opts_len) ||
	    (!(h.flags & SERIAL_STAB) && h.stab_len) ||
	    h.opts_len > USHRT_MAX || h.stab_len > USHRT_MAX ||
	    len != sizeof(h) + h.opts_len + h.stab_len ||
	    !h.kind[0] || strnlen(h.kind, sizeof(h.kind)) == sizeof(h.kind))
		return -EINVAL;
	out->handle = h.handle;
	out->parent = h.parent;
	memcpy(out->kind, h.kind, sizeof(out->kind));
	if (h.flags & SERIAL_OPTS) {
		out->opts = malloc(h.opts_len ? h.opts_len : 1);
		if (!out->opts)
			goto nomem;
		memcpy(out->opts, p + sizeof(h), h.opts_len);
		out->opts_len = h.opts_len;
	}
	if (h.flags & SERIAL_STAB) {
		out->stab = malloc(h.stab_len ? h.stab_len : 1);
		if (!out->stab)
			goto nomem;
		memcpy(out->stab, p + sizeof(h) + h.opts_len, h.stab_len);
		out->stab_len = h.stab_len;
	}
	return 0;
nomem:
	nl_qdisc_clear(out);
	return -ENOMEM;
}
