// SPDX-License-Identifier: GPL-2.0-only
/*
 * lf_linkwatch.c - libFuzzer target: the link events and dumps the
 * daemon reads (kern/linkwatch.c): RTM_NEWLINK/RTM_DELLINK of any family,
 * NLMSG_DONE of our dump or another's, errors, interrupted dumps.
 *
 * The parser is static, so this file includes the source and hands each
 * datagram to deliver() as recv_one() does after recv(), in a buffer of
 * exactly its size. Input: byte 0: bit 0 the callback refuses the 5th event (a
 * daemon out of memory); bytes 1-4 the sequence number of the dump asked
 * for, 5-8 our port (host order); then up to 16 datagrams, each a
 * 16-bit length (host order) and its bytes.
 *
 * Properties: no crash, leak or undefined behaviour; every event has a
 * NUL-terminated name shorter than IFNAMSIZ; the count reported is the
 * number of events the callback accepted; a refusal by the callback is
 * what comes back.
 */
#include "../../user/kern/linkwatch.c"
#include "lf.h"

#define LF_LW_DGRAMS	16
#define LF_LW_REFUSE	(-ENOMEM)

struct seen {
	int events;
	bool refuse;		/* refuse the 5th event */
	bool refused;
};

static int on_event(const struct link_event *ev, void *ctx)
{
	struct seen *s = ctx;

	LF_CHECK(memchr(ev->ifname, '\0', sizeof(ev->ifname)),
		 "ifname unterminated");
	if (s->refuse && s->events == 4) {
		s->refused = true;
		return LF_LW_REFUSE;
	}
	s->events++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct linkwatch *lw = calloc(1, sizeof(*lw));
	struct seen seen = { 0 };
	struct lw_run run = { .lw = lw, .cb = on_event, .ctx = &seen };
	size_t off = 9;
	uint16_t len;
	int i, n, rc = 1;
	char *buf;

	LF_CHECK(lw, "calloc");
	if (size < off)
		goto out;
	seen.refuse = data[0] & 1;
	memcpy(&lw->seq, data + 1, sizeof(lw->seq));
	memcpy(&lw->portid, data + 5, sizeof(lw->portid));
	for (i = 0; i < LF_LW_DGRAMS && rc > 0 && !run.done; i++) {
		if (size - off < sizeof(len))
			break;
		memcpy(&len, data + off, sizeof(len));
		off += sizeof(len);
		if (len > size - off)
			len = size - off;
		n = len;
		buf = malloc(n ? n : 1);
		LF_CHECK(buf, "malloc");
		memcpy(buf, data + off, n);
		off += n;
		rc = deliver(&run, buf, n);	/* recv_one() after recv() */
		free(buf);
	}
	LF_CHECK(run.count == seen.events, "count %d, %d events accepted",
		 run.count, seen.events);
	if (seen.refused)
		LF_CHECK(rc == LF_LW_REFUSE && run.rc == LF_LW_REFUSE,
			 "the callback's refusal came back as %d", rc);
out:
	free(lw);
	return 0;
}
