// SPDX-License-Identifier: GPL-2.0-only
/*
 * lf_nl.c - libFuzzer target: what tcbpf reads from rtnetlink
 * (kern/nl.c, kern/qdisc.c): the walk over a datagram with its acks,
 * NLMSG_DONE, extended-ack text and interrupted dumps, and the
 * RTM_NEWQDISC, RTM_NEWTFILTER and RTM_NEWLINK answers of a dump.
 *
 * The parsers are static, so this file includes the two sources and
 * feeds their functions what nl_talk() would after recv(): each datagram
 * in a buffer of exactly its size (ASan sees any read past it).
 *
 * Input: byte 0 picks the reader (bits 0-1: qdisc dump, filter count,
 * link, none), whether the exchange is a dump (bit 2), whether sequence
 * and port are checked (bit 3: seq 1, port 4242; else 0, which libmnl
 * takes as "any"); bytes 1-4 the ifindex asked about (host order); then
 * up to 16 datagrams, each a 16-bit length (host order) and its bytes.
 *
 * Properties: no crash, leak or undefined behaviour; the kept extack
 * text is a string shorter than NL_EXT_MAX without a trailing newline;
 * every qdisc kept has a kind of 1..15 bytes and options and size table
 * the lengths say, and qdisc_restore_opts() of it gives options of the
 * same length; a filter count is never negative.
 */
#include "../../user/kern/nl.c"
#include "../../user/kern/qdisc.c"
#include "lf.h"

#define LF_NL_DGRAMS	16

enum { RD_QDISC, RD_FILTER, RD_LINK, RD_NONE };

static void check_qdiscs(const struct qdisc_dump *d)
{
	void *opts;
	size_t len;
	int i, rc;

	LF_CHECK(d->n >= 0 && d->n <= d->cap, "n %d cap %d", d->n, d->cap);
	for (i = 0; i < d->n; i++) {
		const struct qdisc *q = &d->q[i];

		LF_CHECK(q->kind[0] && strnlen(q->kind, sizeof(q->kind)) <
			 sizeof(q->kind), "qdisc %d: kind", i);
		LF_CHECK(!q->opts == !q->opts_len || q->opts,
			 "qdisc %d: %zu bytes of options at NULL", i,
			 q->opts_len);
		rc = qdisc_restore_opts(q, &opts, &len);
		LF_CHECK(rc == 0 && len == q->opts_len && !opts == !q->opts,
			 "qdisc %d: restore options %d, %zu of %zu bytes", i, rc,
			 len, q->opts_len);
		free(opts);
		(void)stab_restorable(q);
		(void)qdisc_is_default(q);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nl_sock s = { 0 };
	struct nl_run run = { .s = &s };
	struct qdisc_dump d = { 0 };
	int count = 0, ntx = 0, i, rc = 0, n;
	uint32_t ifindex;
	uint16_t len;
	size_t off = 5;
	uint8_t mode;

	if (size < off)
		return 0;
	mode = data[0];
	memcpy(&ifindex, data + 1, sizeof(ifindex));
	run.dump = mode & 4;
	if (mode & 8) {
		s.seq = 1;
		s.portid = 4242;
	}
	switch (mode & 3) {
	case RD_QDISC:
		d.ifindex = (int)ifindex;
		run.cb = qdisc_dump_cb;
		run.arg = &d;
		break;
	case RD_FILTER:
		run.cb = filter_cb;
		run.arg = &count;
		break;
	case RD_LINK:
		run.cb = link_cb;
		run.arg = &ntx;
		break;
	}
	for (i = 0; i < LF_NL_DGRAMS && !run.end && !rc; i++) {
		if (size - off < sizeof(len))
			break;
		memcpy(&len, data + off, sizeof(len));
		off += sizeof(len);
		if (len > size - off)
			len = size - off;
		n = len;
		s.buf = malloc(n ? n : 1);
		LF_CHECK(s.buf, "malloc");
		memcpy(s.buf, data + off, n);
		s.cap = n;
		off += n;
		rc = run_datagram(&run, n);
		free(s.buf);
		s.buf = NULL;
	}
	LF_CHECK(memchr(s.ext, '\0', sizeof(s.ext)), "extack text unterminated");
	n = strlen(s.ext);
	LF_CHECK(!n || s.ext[n - 1] != '\n', "extack text ends in a newline");
	LF_CHECK(run.err <= 0 && run.cb_err <= 0, "err %d cb_err %d", run.err,
		 run.cb_err);
	LF_CHECK(count >= 0 && ntx >= 0, "count %d ntx %d", count, ntx);
	check_qdiscs(&d);
	qdisc_dump_reset(&d);
	return 0;
}
