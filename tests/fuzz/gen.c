// SPDX-License-Identifier: GPL-2.0-only
/*
 * gen.c - frames for the differential fuzzer; see gen.h.
 *
 * Every frame starts as a plausible packet of a randomly chosen shape,
 * with its length fields sometimes wrong on purpose, and is then (each
 * with some chance) padded the way Ethernet pads, cut at or near one of the
 * header boundaries recorded while building it, or has a few bytes of its
 * first 128 overwritten. A few percent are plain random bytes.
 */
#include <string.h>

#include "gen.h"

#define ETH_P_IP	0x0800
#define ETH_P_ARP	0x0806
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88a8
#define ETH_P_IPV6	0x86dd

enum {
	P_HOPOPTS = 0, P_ICMP = 1, P_TCP = 6, P_UDP = 17, P_ROUTING = 43,
	P_FRAGMENT = 44, P_ESP = 50, P_AH = 51, P_ICMPV6 = 58, P_NONE = 59,
	P_DSTOPTS = 60, P_SCTP = 132,
};

/* ---- randomness --------------------------------------------------------- */

uint64_t gen_rand(struct gen *g)
{
	/* splitmix64: fast, and any seed (even 0) gives a good stream */
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t below(struct gen *g, uint32_t n)
{
	return (uint32_t)(((gen_rand(g) >> 32) * n) >> 32);
}

static int chance(struct gen *g, uint32_t pct)
{
	return below(g, 100) < pct;
}

void gen_init(struct gen *g, uint64_t seed, const uint16_t *ports, int n)
{
	g->s = seed;
	g->ports = ports;
	g->nports = n;
}

/* ---- appending ---------------------------------------------------------- */

static size_t room(const struct gframe *f)
{
	return sizeof(f->b) - f->len;
}

static void put8(struct gframe *f, uint32_t v)
{
	if (room(f))
		f->b[f->len++] = v;
}

static void put16(struct gframe *f, uint32_t v)
{
	put8(f, v >> 8);
	put8(f, v);
}

static void put32(struct gframe *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v);
}

static void put_rand(struct gen *g, struct gframe *f, size_t n)
{
	while (n--)
		put8(f, gen_rand(g));
}

static void set16(struct gframe *f, size_t off, uint32_t v)
{
	if (off + 2 <= sizeof(f->b)) {
		f->b[off] = v >> 8;
		f->b[off + 1] = v;
	}
}

static void mark(struct gframe *f)
{
	if (f->nmark < GEN_MARKS)
		f->mark[f->nmark++] = f->len;
}

/* ---- fields ------------------------------------------------------------- */

/* Mostly the allowlist's edges (lo-1, lo, hi, hi+1), else anything. */
static uint16_t port(struct gen *g)
{
	uint32_t r = below(g, 100);

	if (r < 55 && g->nports)
		return g->ports[below(g, g->nports)];
	if (r < 75)
		return below(g, 1024);
	return gen_rand(g);
}

/* A length field: right most of the time, else zero, short, long, any. */
static uint32_t length_field(struct gen *g, uint32_t real, uint32_t slack)
{
	uint32_t r = below(g, 100);

	if (r < 70)
		return real;
	if (r < 75)
		return 0;
	if (r < 85)
		return real - below(g, (real < slack ? real : slack) + 1);
	if (r < 92)
		return (real + 1 + below(g, slack)) & 0xffff;
	return below(g, 0x10000);
}

static void payload(struct gen *g, struct gframe *f)
{
	uint32_t r = below(g, 100);
	size_t n = r < 40 ? 0 : r < 85 ? below(g, 64) : below(g, 1500);

	put_rand(g, f, n < room(f) ? n : room(f));
}

/* ---- layer 4 ------------------------------------------------------------ */

static void put_tcp(struct gen *g, struct gframe *f)
{
	uint32_t doff = chance(g, 80) ? 5 : chance(g, 80) ? 6 + below(g, 10) :
		       below(g, 5);
	uint32_t i;

	put16(f, port(g));
	put16(f, port(g));
	mark(f);
	put_rand(g, f, 8);		/* seq, ack */
	put8(f, doff << 4 | below(g, 16));
	put_rand(g, f, 7);		/* flags, window, check, urg */
	mark(f);
	for (i = 20; i < doff * 4; i++)	/* NOPs or junk as options */
		put8(f, chance(g, 70) ? 1 : gen_rand(g));
	if (doff > 5)
		mark(f);
}

static void put_udp(struct gen *g, struct gframe *f)
{
	put16(f, port(g));
	put16(f, port(g));
	mark(f);
	put_rand(g, f, 4);		/* length (unchecked), check */
}

static void put_sctp(struct gen *g, struct gframe *f)
{
	put16(f, port(g));
	put16(f, port(g));
	mark(f);
	put_rand(g, f, 8);		/* verification tag, checksum */
}

static void put_icmp6(struct gen *g, struct gframe *f)
{
	static const uint8_t other[] = { 1, 2, 3, 4, 128, 129, 130, 132, 138,
					 143, 132, 138 };
	uint32_t type = chance(g, 60) ? 133 + below(g, 5) :
			chance(g, 80) ? other[below(g, sizeof(other))] :
			below(g, 256);

	put8(f, type);
	put8(f, chance(g, 90) ? 0 : gen_rand(g));
	put_rand(g, f, 2);		/* checksum */
	mark(f);
	put_rand(g, f, 4);		/* flags / reserved */
	mark(f);
	if (chance(g, 50))
		put_rand(g, f, 16);	/* target address */
}

static void put_l4(struct gen *g, struct gframe *f, uint8_t proto)
{
	mark(f);
	switch (proto) {
	case P_TCP:
		put_tcp(g, f);
		break;
	case P_UDP:
		put_udp(g, f);
		break;
	case P_SCTP:
		put_sctp(g, f);
		break;
	case P_ICMPV6:
		put_icmp6(g, f);
		break;
	case P_ICMP:
		put8(f, chance(g, 50) ? 8 : gen_rand(g));
		put_rand(g, f, 7);
		break;
	default:
		put_rand(g, f, below(g, 24));
		break;
	}
	mark(f);
	payload(g, f);
}

/* Transport protocol after IP: mostly the three with ports. */
static uint8_t l4_proto(struct gen *g, int v6)
{
	static const uint8_t v4[] = { P_TCP, P_TCP, P_TCP, P_UDP, P_UDP, P_UDP,
				      P_SCTP, P_SCTP, P_ICMP, P_ICMP, P_AH,
				      P_ESP, P_NONE, P_ICMPV6 };
	static const uint8_t v6p[] = { P_TCP, P_TCP, P_TCP, P_UDP, P_UDP,
				       P_UDP, P_SCTP, P_SCTP, P_ICMPV6,
				       P_ICMPV6, P_ICMPV6, P_NONE, P_ESP,
				       P_ICMP };

	if (chance(g, 8))
		return gen_rand(g);
	return v6 ? v6p[below(g, sizeof(v6p))] : v4[below(g, sizeof(v4))];
}

/* ---- layer 3 ------------------------------------------------------------ */

static void put_ipv4(struct gen *g, struct gframe *f)
{
	size_t ip = f->len, i;
	uint32_t optw = chance(g, 60) ? 0 : 1 + below(g, 10);
	uint32_t ver = chance(g, 97) ? 4 : below(g, 16);
	uint32_t ihl = chance(g, 94) ? 5 + optw : below(g, 16);
	uint32_t r = below(g, 100), frag;
	uint8_t proto = l4_proto(g, 0);

	if (r < 55)		/* whole datagram, maybe DF */
		frag = chance(g, 50) ? 0x4000 : 0;
	else if (r < 70)	/* first fragment */
		frag = 0x2000;
	else if (r < 90)	/* later fragment, maybe the last */
		frag = (1 + below(g, 0x1fff)) | (chance(g, 50) ? 0x2000 : 0);
	else
		frag = below(g, 0x10000);

	put8(f, ver << 4 | ihl);
	put8(f, gen_rand(g));		/* DSCP, ECN */
	put16(f, 0);			/* tot_len, below */
	put16(f, gen_rand(g));		/* id */
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put_rand(g, f, 10);		/* check, addresses */
	mark(f);
	for (i = 0; i < optw * 4; i++)	/* NOPs, EOL, or anything */
		put8(f, chance(g, 60) ? 1 : chance(g, 30) ? 0 : gen_rand(g));
	put_l4(g, f, proto);
	set16(f, ip + 2, length_field(g, f->len - ip, 64));
}

/* One IPv6 extension header of @type leading to @next. */
static void put_ext(struct gen *g, struct gframe *f, uint8_t type,
		    uint8_t next)
{
	uint32_t len, i, off;

	put8(f, next);
	switch (type) {
	case P_FRAGMENT:
		put8(f, 0);
		off = chance(g, 65) ? 0 : 1 + below(g, 0x1fff);
		put16(f, off << 3 | below(g, 8));	/* offset, res, M */
		put32(f, gen_rand(g));
		break;
	case P_AH:
		/* hdrlen in 4-byte words minus 2: 4 is the usual 24 bytes */
		len = chance(g, 70) ? 4 : chance(g, 90) ? below(g, 12) :
		      below(g, 256);
		put8(f, len);
		put_rand(g, f, (len + 2) * 4 - 2);
		break;
	default:		/* hop-by-hop, routing, destination options */
		len = chance(g, 70) ? below(g, 2) : chance(g, 90) ?
		      below(g, 8) : below(g, 256);
		put8(f, len);
		for (i = 2; i < (len + 1) * 8; i++)
			put8(f, type == P_ROUTING || chance(g, 20) ?
				gen_rand(g) : 0);	/* Pad1 */
		break;
	}
	mark(f);
}

static void put_ipv6(struct gen *g, struct gframe *f)
{
	static const uint8_t exts[] = { P_HOPOPTS, P_ROUTING, P_DSTOPTS,
					P_FRAGMENT, P_AH };
	uint8_t chain[12], proto = l4_proto(g, 1);
	uint32_t ver = chance(g, 97) ? 6 : below(g, 16);
	uint32_t r = below(g, 100), n, i, hlim;
	size_t ip = f->len;

	n = r < 40 ? 0 : r < 80 ? 1 + below(g, 3) : r < 95 ? 4 + below(g, 4) :
	    8 + below(g, 3);
	for (i = 0; i < n; i++)
		chain[i] = exts[below(g, sizeof(exts))];
	if (n && chance(g, 60))
		chain[0] = P_HOPOPTS;		/* where RFC 8200 puts it */
	if (proto == P_ICMPV6)
		hlim = chance(g, 70) ? 255 : chance(g, 50) ? 254 : gen_rand(g);
	else
		hlim = chance(g, 10) ? 255 : chance(g, 80) ? 64 : gen_rand(g);

	put32(f, ver << 28 | below(g, 1U << 28));
	put16(f, 0);			/* payload_len, below */
	put8(f, n ? chain[0] : proto);
	put8(f, hlim & 0xff);
	put_rand(g, f, 32);
	mark(f);
	for (i = 0; i < n; i++)
		put_ext(g, f, chain[i], i + 1 < n ? chain[i + 1] : proto);
	put_l4(g, f, proto);
	set16(f, ip + 4, length_field(g, f->len - ip - 40, 64));
}

static void put_arp(struct gen *g, struct gframe *f)
{
	if (chance(g, 20)) {
		put_rand(g, f, 28);
	} else {
		put16(f, 1);			/* Ethernet */
		put16(f, ETH_P_IP);
		put8(f, 6);
		put8(f, 4);
		put16(f, 1 + below(g, 2));	/* request, reply */
		mark(f);
		put_rand(g, f, 20);		/* addresses */
	}
	mark(f);
}

/* ---- frames ------------------------------------------------------------- */

static uint16_t tpid(struct gen *g)
{
	uint32_t r = below(g, 100);

	return r < 60 ? ETH_P_8021Q : r < 95 ? ETH_P_8021AD : 0x9100;
}

static void put_frame(struct gen *g, struct gframe *f)
{
	uint32_t r = below(g, 100);
	uint32_t tags = r < 55 ? 0 : r < 80 ? 1 : r < 97 ? 2 : 3;
	uint32_t i;

	put_rand(g, f, 12);		/* MAC addresses */
	for (i = 0; i < tags; i++) {
		put16(f, tpid(g));
		put16(f, gen_rand(g));	/* TCI */
		mark(f);
	}
	r = below(g, 100);
	if (r < 46) {
		put16(f, ETH_P_IP);
		mark(f);
		put_ipv4(g, f);
	} else if (r < 90) {
		put16(f, ETH_P_IPV6);
		mark(f);
		put_ipv6(g, f);
	} else if (r < 96) {
		put16(f, ETH_P_ARP);
		mark(f);
		put_arp(g, f);
	} else {
		put16(f, gen_rand(g));
		mark(f);
		payload(g, f);
	}
}

/* Plain random bytes, half of them behind a known ethertype. */
static void put_junk(struct gen *g, struct gframe *f)
{
	static const uint16_t types[] = { ETH_P_IP, ETH_P_IPV6, ETH_P_ARP,
					  ETH_P_8021Q, ETH_P_8021AD };

	put_rand(g, f, 14 + below(g, 200));
	if (chance(g, 50))
		set16(f, 12, types[below(g, sizeof(types) / 2)]);
}

static void cut(struct gen *g, struct gframe *f)
{
	long at = f->mark[below(g, f->nmark)];

	if (chance(g, 50))
		at += (long)below(g, 7) - 3;
	if (at >= 0 && (size_t)at < f->len)
		f->len = at;
}

static void mutate(struct gen *g, struct gframe *f)
{
	uint32_t n = 1 + below(g, 4), pos, lim;

	while (n--) {
		/* mostly the headers */
		lim = f->len < 128 || chance(g, 10) ? f->len : 128;
		pos = below(g, lim);
		if (chance(g, 50))
			f->b[pos] ^= 1 << below(g, 8);
		else
			f->b[pos] = gen_rand(g);
	}
}

void gen_frame(struct gen *g, struct gframe *f)
{
	f->len = 0;
	f->nmark = 0;
	if (chance(g, 3))
		put_junk(g, f);
	else
		put_frame(g, f);
	if (chance(g, 30) && f->len < 60) {	/* Ethernet's minimum */
		while (f->len < 60)
			put8(f, chance(g, 80) ? 0 : gen_rand(g));
	}
	if (f->nmark && chance(g, 30))
		cut(g, f);
	if (chance(g, 20) && f->len)
		mutate(g, f);
	while (f->len < 14)
		put8(f, 0);
}
