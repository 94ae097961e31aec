/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gen.h - frames for the differential fuzzer: structured (Ethernet, VLAN
 * tags, ARP, IPv4 with options and fragments, IPv6 with extension header
 * chains, ND, TCP, UDP, SCTP, ICMP), then truncated, mis-lengthed,
 * mutated. Deterministic for a seed.
 */
#ifndef TCBPF_FUZZ_GEN_H
#define TCBPF_FUZZ_GEN_H

#include <stddef.h>
#include <stdint.h>

#define GEN_MARKS	24	/* header boundaries remembered for truncation */

struct gen {
	uint64_t s;		/* PRNG state */
	const uint16_t *ports;	/* ports worth hitting: allowlist edges */
	int nports;
};

struct gframe {
	uint8_t b[2048] __attribute__((aligned(8)));
	size_t len;
	size_t mark[GEN_MARKS];	/* offsets where a header starts or ends */
	int nmark;
};

void gen_init(struct gen *g, uint64_t seed, const uint16_t *ports, int n);
uint64_t gen_rand(struct gen *g);
/* A frame of at least 14 and at most sizeof(f->b) bytes. */
void gen_frame(struct gen *g, struct gframe *f);

#endif
