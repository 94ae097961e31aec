/* SPDX-License-Identifier: GPL-2.0-only */
/* spec.h - the SPEC grammar of attach and change. */
#ifndef TCBPF_SPEC_H
#define TCBPF_SPEC_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcbpf.h"

/* A usage error (exit 2), as opposed to a run-time failure (exit 1). */
#define EUSAGE		4095

/* Which keys a SPEC set, per direction (bits of spec_dir.set). */
enum {
	SPEC_RATE	= 1U << 0,
	SPEC_BURST	= 1U << 1,
	SPEC_PPS	= 1U << 2,
	SPEC_PBURST	= 1U << 3,
	SPEC_ALLOW	= 1U << 4,
	SPEC_ALLOW_RATE	= 1U << 5,
	SPEC_ALLOW_BURST = 1U << 6,
	SPEC_DELAY	= 1U << 7,
	SPEC_LATENCY	= 1U << 8,
	SPEC_MODE	= 1U << 9,
	SPEC_ECN	= 1U << 10,
};

struct spec_dir {
	uint32_t set;			/* SPEC_* bits given on the command line */
	uint64_t rate;			/* bits/s */
	uint64_t burst;			/* bytes */
	uint64_t pps;
	uint64_t pburst;		/* packets */
	uint64_t allow_rate;		/* bits/s */
	uint64_t allow_burst;		/* bytes */
	uint64_t delay;			/* ns */
	uint64_t latency;		/* ns, EDT horizon */
	uint64_t ecn;			/* ns, EDT: CE-mark queueing beyond; 0 off */
	uint32_t mode;			/* enum tcbpf_mode */
	uint32_t nports;
	struct tcbpf_port ports[TCBPF_MAX_PORTS];
};

struct spec {
	struct spec_dir dir[TCBPF_NDIR];
	uint32_t hook;			/* enum tcbpf_hook; NONE = auto */
};

/*
 * Parse argv[0..argc) as SPEC into *spec (zeroed first). Keys before any
 * direction word apply to both directions. On error returns -EINVAL (or
 * -ERANGE) and writes a message naming the culprit to errbuf.
 */
int spec_parse(struct spec *spec, int argc, char **argv,
	       char *errbuf, size_t errlen);

/* "22,3389", "tcp/22,udp/3389", "1000-2000", "none" */
int parse_ports(const char *str, struct tcbpf_port *ports, uint32_t *nports,
		char *errbuf, size_t errlen);

/* The defaults of attach: the emergency recipe operators run today. */
void spec_defaults(struct spec_dir *d, int dir);

/* Apply the keys set in *s onto *d (fields not set are kept). */
void spec_apply(struct spec_dir *d, const struct spec_dir *s);

#endif
