// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * harness.bpf.c - test-only window onto the data plane's parser and
 * classifier, for the differential fuzzer (tests/fuzz/fuzz.c).
 *
 * Runs the real parse_skb() and classify() of bpf/ on the frame that
 * BPF_PROG_TEST_RUN hands it and writes what they found into the skb's
 * cb[] words, which test_run returns in ctx_out. The direction comes in
 * through cb[0]; the allowlist is fuzz_cfg[dir], written by the driver
 * with the CLI's own cfg_from_spec().
 *
 *   cb[0]  class | flags << 8 | l4proto << 16 | FUZZ_MAGIC << 24
 *   cb[1]  sport << 16 | dport
 *   cb[2]  hdr_len
 *   cb[3]  skb->len, what the limiter counts for a frame without GSO
 */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "tcbpf.h"
#include "parse.h"
#include "classify.h"
#include "fuzz.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct tcbpf_prof fuzz_cfg[TCBPF_NDIR];

SEC("tc")
int fuzz_harness(struct __sk_buff *skb)
{
	__u32 dir = skb->cb[0] ? TCBPF_EGRESS : TCBPF_INGRESS;
	struct pkt p;
	__u32 cls;

	parse_skb(skb, &p);
	cls = classify(&fuzz_cfg[dir], &p, dir);
	skb->cb[0] = cls | p.flags << 8 | p.l4proto << 16 |
		     (__u32)FUZZ_MAGIC << 24;
	skb->cb[1] = (__u32)p.sport << 16 | p.dport;
	skb->cb[2] = p.hdr_len;
	skb->cb[3] = skb->len;
	return 0;
}
