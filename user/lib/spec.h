/* SPDX-License-Identifier: GPL-2.0-only */
/* spec.h - the SPEC grammar of attach and change. */
#ifndef TCBPF_SPEC_H
#define TCBPF_SPEC_H

#include <stdbool.h>
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

/*
 * The largest rates a bucket takes (beyond any host's link). The programs
 * charge a packet its length at the rate in whole nanoseconds, rounded
 * down: at 1 Tbit/s a full-size frame costs 12 ns (1% short) and packets
 * under 125 bytes nothing, which no link could exploit at that rate; far
 * beyond it whole frames would pass free. A packet per nanosecond is the
 * bound for pps: past it the packet cost rounds down to 0.
 */
#define SPEC_RATE_MAX	1000000000000ULL	/* bits/s: 1tbit */
#define SPEC_PPS_MAX	1000000000ULL

/* A full-size Ethernet frame as the tc hook counts it (no FCS). */
#define SPEC_FRAME_MAX	1514

/* Less burst than this (ms at the rate): a policer starves TCP (spec.c). */
#define SPEC_TCP_BURST_MS	500

struct spec_dir {
	uint32_t set;			/* SPEC_* bits given on the command line */
	uint32_t global;		/* those of set given before any direction
					 * word (or after "both") and not
					 * overridden after "ingress"/"egress" */
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
	/* "vni HEX": the SPEC is one VXLAN network's on an underlay */
	uint32_t vni;
	bool has_vni;
	uint16_t vxlan_port;		/* "vxlan-port N": 0 = none given */
};

/*
 * Parse argv[0..argc) as SPEC into *spec (zeroed first). Keys before any
 * direction word (or after "both") apply to both directions. A key may be
 * given once per direction; the one exception is a key for both directions
 * followed by the same key after "ingress" or "egress", which overrides it
 * for that direction. "hook" may be given once. On error returns -EINVAL
 * (or -ERANGE) and writes a message naming the culprit to errbuf.
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

/*
 * Check the settings a command would write. @dirs: defaults or the old
 * settings with the command's keys applied (spec_apply); @given: what the
 * command line said (spec_parse's result; NULL: nothing); @dev: the device,
 * for messages. Normalises first: a "delay" given for both directions is
 * dropped from ingress, which cannot hold traffic back. Returns 0, or
 * -EINVAL with one line naming the device, direction, key and value at
 * fault in err. Prints nothing.
 */
int spec_validate(struct spec_dir dirs[TCBPF_NDIR], const struct spec *given,
		  const char *dev, char *err, size_t errlen);

/*
 * Settings that are valid but likely not what was meant (a burst smaller
 * than a full-size frame). Writes one line per warning, separated by
 * newlines, to buf; returns how many there are. Prints nothing.
 */
int spec_warnings(const struct spec_dir dirs[TCBPF_NDIR], const char *dev,
		  char *buf, size_t len);

/*
 * Whether @name can be a network device's name at all (the kernel's
 * rules: 1 to 15 bytes, no '/', ':' or white space, not "." or "..").
 * 0, or -EINVAL with a message naming it in err.
 */
int dev_name_check(const char *name, char *err, size_t errlen);

#endif
