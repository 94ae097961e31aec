/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nl.h - the rtnetlink transport, over libmnl: a socket, sequence
 * numbers, one request with its ack or one dump to its end, the kernel's
 * extended-ack text, and attribute helpers for building requests and
 * reading answers. It knows no message type of its own: what to ask
 * (qdiscs, filters, links) is kern/qdisc.c's business, and nothing here
 * knows tcbpf's policy.
 *
 * Everything works in the network namespace the calling thread is in
 * when nl_open() runs. Functions return 0 (or a count) or a negative
 * errno; none prints.
 */
#ifndef TCBPF_NL_H
#define TCBPF_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>

#define NL_EXT_MAX		256

/* One NETLINK_ROUTE socket. */
struct nl_sock {
	struct mnl_socket *mnl;
	uint32_t portid;	/* ours: the kernel's answers carry it */
	uint32_t seq;		/* of the last request sent */
	char *buf;		/* receive buffer, grows to the largest datagram */
	size_t cap;
	char ext[NL_EXT_MAX];	/* extack text of the last request, "" if none */
};

/*
 * Open and bind a socket, with NETLINK_EXT_ACK (errors carry the
 * kernel's text) and NETLINK_CAP_ACK (they do not echo the request).
 */
int nl_open(struct nl_sock *s);
void nl_close(struct nl_sock *s);

/* A request under construction; the first error sticks in @err. */
struct nl_req {
	struct nlmsghdr *nlh;
	size_t cap;		/* bytes at nlh */
	int err;
};

/*
 * Start a request of @type with @flags and the family header @hdr
 * (@hdrlen bytes), with room for @room bytes of attributes. Free it with
 * nl_req_free().
 */
int nl_req_init(struct nl_req *r, uint16_t type, uint16_t flags,
		const void *hdr, size_t hdrlen, size_t room);
void nl_req_free(struct nl_req *r);
/* Append one attribute (-EMSGSIZE in r->err if it does not fit). */
void nl_req_put(struct nl_req *r, uint16_t type, const void *data, size_t len);
void nl_req_put_u32(struct nl_req *r, uint16_t type, uint32_t v);
void nl_req_put_strz(struct nl_req *r, uint16_t type, const char *s);
/* Open and close a nested attribute; NULL (and r->err set) if no room. */
struct nlattr *nl_req_nest_start(struct nl_req *r, uint16_t type);
void nl_req_nest_end(struct nl_req *r, struct nlattr *nest);

/* Called for each answer that is not a control message; a negative
 * return is the exchange's error (the rest is still read). */
typedef int (*nl_cb_t)(const struct nlmsghdr *nlh, void *arg);

/*
 * Send @r and read to its end: the ack of a request (NLM_F_ACK is added)
 * or NLMSG_DONE of a dump (NLM_F_DUMP in its flags). Every answer goes
 * to @cb (may be NULL). Returns r->err, the kernel's error (with its
 * text in s->ext), the callback's first error, or -EAGAIN when the dump
 * was interrupted by a change (NLM_F_DUMP_INTR): retry it.
 */
int nl_talk(struct nl_sock *s, struct nl_req *r, nl_cb_t cb, void *arg);

/*
 * nl_talk() for a dump, tried again while it is interrupted (at most a
 * few times); @reset (may be NULL) empties @arg before each try.
 */
int nl_dump(struct nl_sock *s, struct nl_req *r, nl_cb_t cb, void *arg,
	    void (*reset)(void *arg));

/* The kernel's text for the last request, "" if it sent none. */
const char *nl_ext(const struct nl_sock *s);

/*
 * true if every message header of the @n-byte datagram @buf says a
 * length that fits in it, padded to 4 bytes (what libmnl's walk takes
 * for granted).
 */
bool nl_dgram_ok(const void *buf, size_t n);

/* printf into @err (may be NULL). */
__attribute__((format(printf, 3, 4)))
void nl_errf(char *err, size_t errlen, const char *fmt, ...);
/* "@what: <the kernel's text, or strerror(-ret)>" into @err. */
void nl_kerr(char *err, size_t errlen, const struct nl_sock *s, int ret,
	     const char *what);

/*
 * Attributes into @tb[0..@max] (first of each type wins, types above
 * @max ignored, NLA_F_* bits masked): those after the @hdrlen-byte
 * family header of @nlh, or those in a payload (a TCA_OPTIONS blob).
 * -EBADMSG if the message is shorter than its header.
 */
int nl_parse_msg(const struct nlmsghdr *nlh, size_t hdrlen,
		 const struct nlattr **tb, unsigned int max);
void nl_parse_payload(const void *buf, size_t len, const struct nlattr **tb,
		      unsigned int max);
/* A malloc'd copy of @a's payload. */
int nl_attr_dup(const struct nlattr *a, void **p, size_t *len);

#endif
