// SPDX-License-Identifier: GPL-2.0-only
/*
 * parse_test.c - regressions of bpf/parse.h found by the differential
 * fuzzer (tests/fuzz/), checked on the real limiter under
 * BPF_PROG_TEST_RUN: which class's counters a frame moves.
 *
 * The limiter is a private unpinned copy (tests/fuzz/private.h) in monitor
 * mode, its settings made with the CLI's own spec_parse/cfg_from_spec.
 * Prints "PASS: name" / "FAIL: name: why", "SKIP: all: why" when not root;
 * exits 1 on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "fuzz/private.h"
#include "lib/cfg.h"
#include "lib/maps.h"
#include "lib/spec.h"

#define LO_IFINDEX	1
#define ND_NS		135	/* neighbour solicitation */

static struct tcbpf t;
static int nfail;

/*
 * An IPv6 neighbour solicitation to the VM (egress): Ethernet, IPv6 with
 * @hlim and Payload Length @plen, @hbh bytes of hop-by-hop options (0 or
 * 8), then the whole 24-byte ICMPv6 message, whatever @plen claims.
 */
static size_t ns_frame(__u8 *b, __u8 hlim, __u16 plen, int hbh)
{
	size_t off = 14 + 40;

	memset(b, 0, 128);
	b[12] = 0x86;
	b[13] = 0xdd;
	b[14] = 0x60;
	b[18] = plen >> 8;
	b[19] = plen;
	b[20] = hbh ? 0 /* hop-by-hop */ : 58 /* ICMPv6 */;
	b[21] = hlim;
	b[22] = 0xfe;			/* fe80::1 -> ff02::1:ff00:2 */
	b[23] = 0x80;
	b[37] = 1;
	b[38] = 0xff;
	b[39] = 0x02;
	b[49] = 1;
	b[50] = 0xff;
	b[53] = 2;
	if (hbh) {
		b[off] = 58;		/* next: ICMPv6, 8 bytes, PadN */
		b[off + 2] = 1;
		b[off + 3] = 4;
		off += 8;
	}
	b[off] = ND_NS;
	memcpy(b + off + 8, b + 38, 16);	/* target */
	return off + 24;
}

/* Which class's counters @frame moves: 0 default, 1 allow, -1 other. */
static int class_of(const __u8 *frame, size_t len)
{
	struct __sk_buff ctx = { .ifindex = LO_IFINDEX };
	struct tcbpf_stats a, b;
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = frame,
		.data_size_in = len,
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.repeat = 1,
	);
	__u64 d0, d1;

	if (maps_read_stats(&t, LO_IFINDEX, TCBPF_EGRESS, &a) ||
	    bpf_prog_test_run_opts(t.prog_fd[TCBPF_EGRESS], &opts) ||
	    maps_read_stats(&t, LO_IFINDEX, TCBPF_EGRESS, &b))
		return -1;
	d0 = b.cls[0].pass_pkts - a.cls[0].pass_pkts;
	d1 = b.cls[1].pass_pkts - a.cls[1].pass_pkts;
	if (d0 + d1 != 1)
		return -1;
	return d1 ? TCBPF_CLASS_ALLOW : TCBPF_CLASS_DEFAULT;
}

static void check(const char *name, const __u8 *frame, size_t len, int want)
{
	static const char *names[] = { "default", "allow" };
	int got = class_of(frame, len);

	if (got == want) {
		printf("PASS: %s\n", name);
		return;
	}
	nfail++;
	printf("FAIL: %s: counted in %s, want %s\n", name,
	       got < 0 ? "no single class" : names[got], names[want]);
}

static int setup(void)
{
	char *argv[] = { "mode", "monitor", "allow", "22" };
	struct tcbpf_cfg cfg = {};
	struct spec spec;
	struct spec_dir d;
	char err[256];

	if (spec_parse(&spec, 4, argv, err, sizeof(err))) {
		fprintf(stderr, "spec: %s\n", err);
		return -1;
	}
	spec_defaults(&d, TCBPF_EGRESS);
	spec_apply(&d, &spec.dir[TCBPF_EGRESS]);
	cfg_from_spec(&cfg, &d);
	return maps_put(&t, LO_IFINDEX, TCBPF_EGRESS, &cfg);
}

int main(void)
{
	struct tcbpf_bpf *skel;
	__u8 f[128];
	size_t n;

	if (geteuid() != 0) {
		printf("SKIP: all: needs root for BPF_PROG_TEST_RUN\n");
		return 0;
	}
	skel = private_load(&t);
	if (!skel || setup()) {
		printf("FAIL: load and configure a private limiter\n");
		tcbpf_bpf__destroy(skel);
		return 1;
	}

	n = ns_frame(f, 255, 24, 0);
	check("nd: solicitation with hop limit 255 is allowed", f, n,
	      TCBPF_CLASS_ALLOW);
	n = ns_frame(f, 254, 24, 0);
	check("nd: hop limit 254 is not nd", f, n, TCBPF_CLASS_DEFAULT);
	n = ns_frame(f, 255, 0, 0);
	check("nd: payload length 0 (jumbo) is not checked", f, n,
	      TCBPF_CLASS_ALLOW);
	n = ns_frame(f, 255, 4, 0);
	check("nd: icmpv6 header past the payload length is not nd", f, n,
	      TCBPF_CLASS_DEFAULT);
	n = ns_frame(f, 255, 7, 0);
	check("nd: payload length one short of the icmpv6 header", f, n,
	      TCBPF_CLASS_DEFAULT);
	n = ns_frame(f, 255, 32, 1);
	check("nd: behind hop-by-hop options is allowed", f, n,
	      TCBPF_CLASS_ALLOW);
	n = ns_frame(f, 255, 8, 1);
	check("nd: payload length covering only hop-by-hop is not nd", f, n,
	      TCBPF_CLASS_DEFAULT);

	tcbpf_bpf__destroy(skel);
	return nfail ? 1 : 0;
}
