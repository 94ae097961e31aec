// SPDX-License-Identifier: GPL-2.0-only
/*
 * spec.c - the SPEC grammar of attach and change.
 *
 *   SPEC := { [ ingress | egress | both ] KEY VALUE ... }
 *
 * A keyword loop in the style of tc: keys before any direction word apply
 * to both directions, a direction word switches the target for the keys
 * that follow. A key is given once per direction, except that a key for
 * a single direction overrides the same key given for both. Every key
 * records its SPEC_* bit, so that "change" can merge a SPEC onto what is
 * running without resetting the keys the operator did not name.
 *
 * All checking of a SPEC is here too (spec_validate): the grammar catches
 * what one value or the line alone gets wrong, validation what the
 * settings a command would write get wrong together. Nothing here prints.
 */
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/spec.h"
#include "lib/units.h"
#include "util/msg.h"

#define DIR_BIT(d)	(1U << (d))
#define DIR_BOTH	(DIR_BIT(TCBPF_INGRESS) | DIR_BIT(TCBPF_EGRESS))

#define NSEC_PER_MSEC	1000000ULL

enum val_kind {
	V_RATE,
	V_SIZE,
	V_COUNT,
	V_TIME,
	V_PORTS,
	V_MODE,
	V_HOOK,
};

struct key {
	const char *name;
	enum val_kind kind;
	uint32_t bit;		/* SPEC_*; 0 for the device-wide hook */
	size_t off;		/* of the uint64_t field in struct spec_dir */
	uint32_t flags;		/* K_* */
	uint64_t max;		/* the largest value taken; 0: any */
};

enum {
	K_NONZERO	= 1U << 0,	/* 0 is refused rather than meaning "off" */
	K_NONE		= 1U << 1,	/* "none" is the value 0: no such bucket */
};

#define U64_KEY(n, k, b, f, fl, mx) \
	{ n, k, b, offsetof(struct spec_dir, f), fl, mx }

/*
 * 0 is never a rate, burst or packet count: "rate 0" could as well mean
 * "nothing passes" as "no limit", and an operator in a hurry must not
 * get the one for the other. The packet bucket, which the defaults leave
 * out, is removed by name: "pps none". delay 0 is no delay, latency 0
 * derives the horizon, ecn 0 turns marking off.
 */
static const struct key keys[] = {
	U64_KEY("rate",		V_RATE,  SPEC_RATE,	   rate,	K_NONZERO,
		SPEC_RATE_MAX),
	U64_KEY("burst",	V_SIZE,  SPEC_BURST,	   burst,	K_NONZERO, 0),
	U64_KEY("pps",		V_COUNT, SPEC_PPS,	   pps,		K_NONZERO | K_NONE,
		SPEC_PPS_MAX),
	U64_KEY("pburst",	V_COUNT, SPEC_PBURST,	   pburst,	K_NONZERO, 0),
	U64_KEY("allow-rate",	V_RATE,  SPEC_ALLOW_RATE,  allow_rate,	K_NONZERO,
		SPEC_RATE_MAX),
	U64_KEY("allow-burst",	V_SIZE,  SPEC_ALLOW_BURST, allow_burst,	K_NONZERO,
		0),
	U64_KEY("delay",	V_TIME,  SPEC_DELAY,	   delay,	0, 0),
	U64_KEY("latency",	V_TIME,  SPEC_LATENCY,	   latency,	0, 0),
	U64_KEY("ecn",		V_TIME,  SPEC_ECN,	   ecn,		0, 0),
	{ "allow",	V_PORTS, SPEC_ALLOW },
	{ "mode",	V_MODE,  SPEC_MODE },
	{ "hook",	V_HOOK,  0 },
	{ NULL }
};

#define NKEYS	(sizeof(keys) / sizeof(keys[0]) - 1)

struct name_val {
	const char *name;
	uint32_t val;
};

static const struct name_val modes[] = {
	{ "police",	TCBPF_MODE_POLICE },
	{ "edt",	TCBPF_MODE_EDT },
	{ "monitor",	TCBPF_MODE_MONITOR },
	{ NULL }
};

static const struct name_val hooks[] = {
	{ "auto",	TCBPF_HOOK_NONE },
	{ "tc",		TCBPF_HOOK_TC },
	{ "tcx",	TCBPF_HOOK_TCX },
	{ NULL }
};

static const struct name_val protos[] = {
	{ "tcp",	TCBPF_P_TCP },
	{ "udp",	TCBPF_P_UDP },
	{ "sctp",	TCBPF_P_SCTP },
	{ NULL }
};

static const char *const dir_words[TCBPF_NDIR] = {
	[TCBPF_INGRESS] = "ingress",
	[TCBPF_EGRESS] = "egress",
};

/* One parsed VALUE, before it is stored into the directions. */
struct value {
	uint64_t num;
	uint32_t nports;
	struct tcbpf_port ports[TCBPF_MAX_PORTS];
};

/* ---- PORTS ---- */

/* "N" of [s, s+len) -> 1..65535. */
static int parse_port(const char *s, size_t len, uint16_t *port)
{
	uint32_t v = 0;
	size_t i;

	if (!len)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v <= 65535)		/* stop growing, keep checking */
			v = v * 10 + (s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -ERANGE;
	*port = v;
	return 0;
}

static const struct name_val *find_name(const struct name_val *tbl,
					const char *s, size_t len)
{
	for (; tbl->name; tbl++)
		if (strlen(tbl->name) == len && strncmp(tbl->name, s, len) == 0)
			return tbl;
	return NULL;
}

/* One entry [e, e+len): "[PROTO/]PORT[-PORT]". */
static int parse_port_entry(const char *e, size_t len, struct tcbpf_port *p,
			    char *errbuf, size_t errlen)
{
	const char *slash = memchr(e, '/', len);
	const char *num = e, *dash;
	size_t nlen = len;
	int err;

	memset(p, 0, sizeof(*p));
	/* a bare port is what operators mean by "ssh" or "rdp": both */
	p->protos = TCBPF_P_TCP | TCBPF_P_UDP;
	if (slash) {
		const struct name_val *pr = find_name(protos, e, slash - e);

		if (!pr) {
			seterr(errbuf, errlen,
			       "port entry \"%.*s\": unknown protocol \"%.*s\"",
			       (int)len, e, (int)(slash - e), e);
			return -EINVAL;
		}
		p->protos = pr->val;
		num = slash + 1;
		nlen = len - (num - e);
	}

	dash = memchr(num, '-', nlen);
	if (dash) {
		err = parse_port(num, dash - num, &p->lo);
		if (!err)
			err = parse_port(dash + 1, nlen - (dash + 1 - num), &p->hi);
	} else {
		err = parse_port(num, nlen, &p->lo);
		p->hi = p->lo;
	}
	if (err == -ERANGE) {
		seterr(errbuf, errlen,
		       "port entry \"%.*s\": ports must be 1-65535", (int)len, e);
		return err;
	}
	if (err) {
		seterr(errbuf, errlen, "port entry \"%.*s\": bad port \"%.*s\"",
		       (int)len, e, (int)nlen, num);
		return err;
	}
	if (p->lo > p->hi) {
		seterr(errbuf, errlen,
		       "port entry \"%.*s\": range is reversed", (int)len, e);
		return -EINVAL;
	}
	return 0;
}

int parse_ports(const char *str, struct tcbpf_port *ports, uint32_t *nports,
		char *errbuf, size_t errlen)
{
	struct tcbpf_port tmp[TCBPF_MAX_PORTS];
	const char *e = str, *end;
	uint32_t n = 0;
	int err;

	if (!str) {
		seterr(errbuf, errlen, "missing port list");
		return -EINVAL;
	}
	/* "none" empties the allowlist: every packet goes to the default class */
	if (strcmp(str, "none") == 0) {
		*nports = 0;
		return 0;
	}

	for (;;) {
		size_t len;

		end = strchrnul(e, ',');
		len = end - e;
		if (!len) {
			seterr(errbuf, errlen, "empty port entry in \"%s\"", str);
			return -EINVAL;
		}
		if (len == 4 && strncmp(e, "none", 4) == 0) {
			seterr(errbuf, errlen,
			       "\"none\" cannot be combined with ports in \"%s\"", str);
			return -EINVAL;
		}
		if (n == TCBPF_MAX_PORTS) {
			seterr(errbuf, errlen,
			       "port entry \"%.*s\": more than %d entries",
			       (int)len, e, TCBPF_MAX_PORTS);
			return -ERANGE;
		}
		err = parse_port_entry(e, len, &tmp[n], errbuf, errlen);
		if (err)
			return err;
		n++;
		if (!*end)
			break;
		e = end + 1;
	}

	/* only touch the caller's array once the whole list is good */
	memcpy(ports, tmp, n * sizeof(tmp[0]));
	*nports = n;
	return 0;
}

/* ---- SPEC ---- */

static const struct key *find_key(const char *word)
{
	const struct key *k;

	for (k = keys; k->name; k++)
		if (strcmp(k->name, word) == 0)
			return k;
	return NULL;
}

/* "ingress", "egress", "both" -> mask of directions; 0 if not one. */
static uint32_t dir_word(const char *word)
{
	int dir;

	for (dir = 0; dir < TCBPF_NDIR; dir++)
		if (strcmp(word, dir_words[dir]) == 0)
			return DIR_BIT(dir);
	if (strcmp(word, "both") == 0)
		return DIR_BOTH;
	return 0;
}

static int parse_number(const struct key *k, const char *arg, uint64_t *num)
{
	switch (k->kind) {
	case V_RATE:
		return parse_rate(arg, num);
	case V_SIZE:
		return parse_size(arg, num);
	case V_TIME:
		return parse_time(arg, num);
	default:
		return parse_count(arg, num);
	}
}

static int parse_value(const struct key *k, const char *arg, struct value *v,
		       char *errbuf, size_t errlen)
{
	const struct name_val *nv;
	char why[192];
	int err;

	switch (k->kind) {
	case V_PORTS:
		/*
		 * why names the bad entry; repeating a long list before it
		 * could push the culprit out of a short errbuf
		 */
		err = parse_ports(arg, v->ports, &v->nports, why, sizeof(why));
		if (err)
			seterr(errbuf, errlen, "Illegal \"%s\" value: %s",
			       k->name, why);
		return err;
	case V_MODE:
	case V_HOOK:
		nv = find_name(k->kind == V_MODE ? modes : hooks, arg, strlen(arg));
		if (!nv) {
			seterr(errbuf, errlen, "Illegal \"%s\" value \"%s\": expected %s",
			       k->name, arg, k->kind == V_MODE ?
			       "police, edt or monitor" : "auto, tc or tcx");
			return -EINVAL;
		}
		v->num = nv->val;
		return 0;
	default:
		break;
	}

	if ((k->flags & K_NONE) && strcmp(arg, "none") == 0) {
		v->num = 0;
		return 0;
	}
	err = parse_number(k, arg, &v->num);
	if (!err && k->max && v->num > k->max)
		err = -ERANGE;
	if (err == -ERANGE) {
		char b[32] = "";

		if (k->max && k->kind == V_RATE)
			fmt_rate(b, sizeof(b), k->max);
		else if (k->max)
			snprintf(b, sizeof(b), "%llu", (unsigned long long)k->max);
		seterr(errbuf, errlen, "Illegal \"%s\" value \"%s\": too large%s%s",
		       k->name, arg, k->max ? ", the maximum is " : "", b);
		return err;
	}
	if (err) {
		seterr(errbuf, errlen, "Illegal \"%s\" value \"%s\"", k->name, arg);
		return err;
	}
	if ((k->flags & K_NONZERO) && !v->num) {
		if (k->flags & K_NONE)
			seterr(errbuf, errlen, "\"%s\" must be > 0, not \"%s\" "
			       "(\"%s none\": no such bucket)", k->name, arg,
			       k->name);
		else
			seterr(errbuf, errlen, "\"%s\" must be > 0, not \"%s\"",
			       k->name, arg);
		return -ERANGE;
	}
	return 0;
}

static void store_value(struct spec_dir *d, const struct key *k,
			const struct value *v)
{
	switch (k->kind) {
	case V_PORTS:
		/* a spec_dir built by hand must not overrun d->ports */
		d->nports = v->nports < TCBPF_MAX_PORTS ? v->nports : TCBPF_MAX_PORTS;
		memcpy(d->ports, v->ports, d->nports * sizeof(v->ports[0]));
		break;
	case V_MODE:
		d->mode = v->num;
		break;
	default:
		*(uint64_t *)((char *)d + k->off) = v->num;
		break;
	}
	d->set |= k->bit;
}

static void store(struct spec *spec, uint32_t mask, const struct key *k,
		  const struct value *v)
{
	int dir;

	/* the hook is one per device: both directions ride the same attach */
	if (k->kind == V_HOOK) {
		spec->hook = v->num;
		return;
	}
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		if (!(mask & DIR_BIT(dir)))
			continue;
		store_value(&spec->dir[dir], k, v);
		if (mask == DIR_BOTH)
			spec->dir[dir].global |= k->bit;
		else
			spec->dir[dir].global &= ~k->bit;
	}
}

/* Where each key's value was, per direction: argv index + 1, 0 none. */
struct seen {
	int at[NKEYS][TCBPF_NDIR];
	int hook_at;
};

/*
 * A key given twice for a direction is refused: "rate 1mbit rate 2mbit"
 * is a typo or a paste gone wrong more often than a wish for the second.
 * A key for both directions followed by the same key after "ingress" or
 * "egress" is the one way to say "this, but that for one direction".
 */
static int check_repeat(const struct spec *spec, struct seen *seen,
			uint32_t mask, const struct key *k, int at, char **argv,
			char *errbuf, size_t errlen)
{
	size_t ki = k - keys;
	uint32_t twice = 0;
	int dir, first = 0;

	if (k->kind == V_HOOK) {
		if (seen->hook_at) {
			seterr(errbuf, errlen, "\"hook\" given twice (\"%s\", "
			       "then \"%s\")", argv[seen->hook_at - 1], argv[at]);
			return -EINVAL;
		}
		seen->hook_at = at + 1;
		return 0;
	}
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		int prev = seen->at[ki][dir];

		if (!(mask & DIR_BIT(dir)))
			continue;
		if (prev && (mask == DIR_BOTH ||
			     !(spec->dir[dir].global & k->bit))) {
			twice |= DIR_BIT(dir);
			if (!first)
				first = prev;
		}
	}
	if (twice) {
		seterr(errbuf, errlen, "\"%s\" given twice for %s (\"%s\", then "
		       "\"%s\")", k->name, twice == DIR_BOTH ? "both directions" :
		       dir_words[twice == DIR_BIT(TCBPF_INGRESS) ?
				 TCBPF_INGRESS : TCBPF_EGRESS],
		       argv[first - 1], argv[at]);
		return -EINVAL;
	}
	for (dir = 0; dir < TCBPF_NDIR; dir++)
		if (mask & DIR_BIT(dir))
			seen->at[ki][dir] = at + 1;
	return 0;
}

/*
 * The keys of the device, not of a direction: "vni HEX" (a VXLAN network
 * in the hex form of interface names, 00c9 = 201) and "vxlan-port N".
 * 1 when @word is one of them (stored, *@i moved past the value), 0 when
 * not, -EINVAL on a bad or repeated value.
 */
static int parse_vx_key(struct spec *spec, int argc, char **argv, int *i,
			char *errbuf, size_t errlen)
{
	const char *w = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	bool vni = !strcmp(w, "vni");
	unsigned long n;
	char *end;

	if (!vni && strcmp(w, "vxlan-port"))
		return 0;
	if (!v) {
		seterr(errbuf, errlen, "\"%s\" needs a value", w);
		return -EINVAL;
	}
	if (vni ? spec->has_vni : spec->vxlan_port != 0) {
		seterr(errbuf, errlen, "\"%s\" given twice", w);
		return -EINVAL;
	}
	errno = 0;
	n = strtoul(v, &end, vni ? 16 : 10);
	if (errno || !*v || *end || *v == '-' || *v == '+' ||
	    (vni ? n > 0xffffff : !n || n > 65535)) {
		seterr(errbuf, errlen, vni ?
		       "\"vni %s\": want a VXLAN network id in hex, 0 to ffffff" :
		       "\"vxlan-port %s\": want a UDP port, 1 to 65535", v);
		return -EINVAL;
	}
	if (vni) {
		spec->vni = n;
		spec->has_vni = true;
	} else {
		spec->vxlan_port = n;
	}
	(*i)++;
	return 1;
}

int spec_parse(struct spec *spec, int argc, char **argv,
	       char *errbuf, size_t errlen)
{
	const struct key *mode = find_key("mode");
	uint32_t mask = DIR_BOTH;
	struct seen seen;
	struct value v;
	int i, at, err;

	memset(spec, 0, sizeof(*spec));
	memset(&seen, 0, sizeof(seen));
	spec->hook = TCBPF_HOOK_NONE;

	for (i = 0; i < argc; i++) {
		const char *word = argv[i];
		const struct key *k;
		uint32_t m = dir_word(word);

		if (m) {
			mask = m;
			continue;
		}
		err = parse_vx_key(spec, argc, argv, &i, errbuf, errlen);
		if (err < 0)
			return err;
		if (err)
			continue;
		/* "monitor" alone reads better than "mode monitor" in a runbook */
		if (strcmp(word, "monitor") == 0) {
			k = mode;
			at = i;
		} else {
			k = find_key(word);
			if (!k) {
				seterr(errbuf, errlen, "unknown key \"%s\"", word);
				return -EINVAL;
			}
			if (i + 1 >= argc) {
				seterr(errbuf, errlen, "\"%s\" needs a value", word);
				return -EINVAL;
			}
			at = ++i;
		}
		err = parse_value(k, argv[at], &v, errbuf, errlen);
		if (!err)
			err = check_repeat(spec, &seen, mask, k, at, argv,
					   errbuf, errlen);
		if (err)
			return err;
		store(spec, mask, k, &v);
	}
	return 0;
}

void spec_defaults(struct spec_dir *d, int dir)
{
	memset(d, 0, sizeof(*d));
	d->rate = 1000000;			/* 1mbit */
	d->burst = 1200 * 1024 / 8;		/* 1200kbit, tc size units */
	d->pps = 0;				/* no packet bucket */
	d->pburst = 0;
	d->allow_rate = 100000000;		/* 100mbit */
	d->allow_burst = 100 * 1024 * 1024 / 8;	/* 100mbit, tc size units */
	/*
	 * Pacing can only hold back what we send: egress (to the VM) goes
	 * through fq, ingress (from the VM) has no queue to wait in.
	 */
	d->delay = dir == TCBPF_EGRESS ? 400 * NSEC_PER_MSEC : 0;
	d->latency = 0;				/* derived from rate and burst */
	d->mode = TCBPF_MODE_POLICE;

	/* ssh and rdp stay reachable however hard the VM is limited */
	d->ports[0] = (struct tcbpf_port){ .lo = 22, .hi = 22,
		.protos = TCBPF_P_TCP | TCBPF_P_UDP };
	d->ports[1] = (struct tcbpf_port){ .lo = 3389, .hi = 3389,
		.protos = TCBPF_P_TCP | TCBPF_P_UDP };
	d->nports = 2;
	d->set = 0;
}

void spec_apply(struct spec_dir *d, const struct spec_dir *s)
{
	const struct key *k;
	struct value v;

	for (k = keys; k->name; k++) {
		if (!k->bit || !(s->set & k->bit))
			continue;
		switch (k->kind) {
		case V_PORTS:
			v.nports = s->nports;
			memcpy(v.ports, s->ports, sizeof(v.ports));
			break;
		case V_MODE:
			v.num = s->mode;
			break;
		default:
			v.num = *(const uint64_t *)((const char *)s + k->off);
			break;
		}
		/* ORs k->bit into d->set */
		store_value(d, k, &v);
	}
	/*
	 * Nothing more: pps without pburst keeps d->pburst as it was, and
	 * when that is 0 the caller derives a packet burst from the new pps.
	 */
}

/* ---- validation ---- */

static const char *mode_word(uint32_t mode)
{
	const struct name_val *nv;

	for (nv = modes; nv->name; nv++)
		if (nv->val == mode)
			return nv->name;
	return "?";
}

/*
 * One direction. @d: the settings to write; @g: what the command said for
 * this direction. Only what the command said explicitly can be refused
 * for not being enforced: a delay kept from the defaults or the old
 * settings under police or monitor stays, shown as not enforced, so that
 * changing a rate never fails over a delay nobody typed.
 */
static int check_dir(const struct spec_dir *d, const struct spec_dir *g,
		     int dir, const char *dev, char *err, size_t errlen)
{
	const char *dn = dir_words[dir];
	char b1[32], b2[32];

	if (dir == TCBPF_INGRESS && (g->set & SPEC_DELAY) && d->delay) {
		seterr(err, errlen, "%s ingress: \"delay %s\": only traffic to "
		       "the VM (egress) can be delayed", dev,
		       fmt_time(b1, sizeof(b1), d->delay));
		return -EINVAL;
	}
	if (dir == TCBPF_EGRESS && (g->set & SPEC_DELAY) && d->delay &&
	    d->mode != TCBPF_MODE_EDT) {
		seterr(err, errlen, "%s egress: \"delay %s\" cannot be enforced "
		       "in mode %s: only mode edt (pacing with fq) delays",
		       dev, fmt_time(b1, sizeof(b1), d->delay),
		       mode_word(d->mode));
		return -EINVAL;
	}
	if ((g->set & SPEC_PBURST) && d->pburst && !d->pps) {
		seterr(err, errlen, "%s %s: \"pburst %llu\" without a packet "
		       "bucket: give \"pps\" too", dev, dn,
		       (unsigned long long)d->pburst);
		return -EINVAL;
	}
	/* past the horizon a packet is dropped: it could never be marked */
	if ((d->set & SPEC_ECN) && d->ecn && (d->set & SPEC_LATENCY) &&
	    d->latency && d->ecn > d->latency) {
		seterr(err, errlen, "%s %s: \"ecn %s\" is beyond the horizon "
		       "\"latency %s\": nothing would ever be marked", dev, dn,
		       fmt_time(b1, sizeof(b1), d->ecn),
		       fmt_time(b2, sizeof(b2), d->latency));
		return -EINVAL;
	}
	return 0;
}

int spec_validate(struct spec_dir dirs[TCBPF_NDIR], const struct spec *given,
		  const char *dev, char *err, size_t errlen)
{
	static const struct spec nothing;
	struct spec_dir *in = &dirs[TCBPF_INGRESS];
	const struct spec *g = given ? given : &nothing;
	int dir, ret;

	if (!dev)
		dev = "";
	/* "delay" for both directions means the one that can wait. */
	if (g->dir[TCBPF_INGRESS].global & SPEC_DELAY) {
		in->set &= ~SPEC_DELAY;
		in->delay = 0;
	}
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		ret = check_dir(&dirs[dir], &g->dir[dir], dir, dev, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/* Append a line to buf, truncating like snprintf; returns the new offset. */
__attribute__((format(printf, 4, 5)))
static size_t addline(char *buf, size_t len, size_t off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (off && off + 1 < len)
		buf[off] = '\n';
	off += !!off;
	va_start(ap, fmt);
	n = vsnprintf(off < len ? buf + off : NULL, off < len ? len - off : 0,
		      fmt, ap);
	va_end(ap);
	return off + (n > 0 ? n : 0);
}

/*
 * A policer passes TCP at a fraction of its rate unless the burst holds
 * about half a second of it or more: TCP's window outruns a small bucket,
 * losses halve it, and it never gets the rate back (make bench: 25-55 %
 * of the rate with 0.1 s of burst, 85-99 % with 0.8 s). EDT pacing has no
 * such need.
 */
static size_t tcp_burst_warning(char *buf, size_t len, size_t off,
				const char *dev, int dir, const char *key,
				uint64_t rate, uint64_t burst, int *n)
{
	char b[32], r[32], want[32];
	uint64_t ms;

	if (!rate || !burst)
		return off;
	ms = burst * 8000 / rate;
	if (ms >= SPEC_TCP_BURST_MS)
		return off;
	(*n)++;
	return addline(buf, len, off, "warning: %s %s: %s %s is %llu ms at %s: "
		       "a policer gives TCP only part of its rate with less "
		       "than %d ms of burst; %s %s or more lets TCP reach it "
		       "(README: choosing a burst)", dev, dir_words[dir], key,
		       fmt_size(b, sizeof(b), burst), (unsigned long long)ms,
		       fmt_rate(r, sizeof(r), rate), SPEC_TCP_BURST_MS, key,
		       fmt_size(want, sizeof(want),
				(rate / 10 + 1023) / 1024 * 1024));	/* 0.8 s */
}

int spec_warnings(const struct spec_dir dirs[TCBPF_NDIR], const char *dev,
		  char *buf, size_t len)
{
	size_t off = 0;
	char b[32];
	int dir, n = 0;

	if (len)
		buf[0] = '\0';
	if (!dev)
		dev = "";
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		const struct spec_dir *d = &dirs[dir];

		if (d->burst && d->burst < SPEC_FRAME_MAX) {
			off = addline(buf, len, off, "warning: %s %s: burst %s "
				      "is smaller than a full-size frame (%db): "
				      "full-size frames pass only one at a time",
				      dev, dir_words[dir],
				      fmt_size(b, sizeof(b), d->burst),
				      SPEC_FRAME_MAX);
			n++;
		}
		if (d->allow_burst && d->allow_burst < SPEC_FRAME_MAX) {
			off = addline(buf, len, off, "warning: %s %s: allow-burst "
				      "%s is smaller than a full-size frame (%db)",
				      dev, dir_words[dir],
				      fmt_size(b, sizeof(b), d->allow_burst),
				      SPEC_FRAME_MAX);
			n++;
		}
		/* egress policing for want of fq is noted by the limiter */
		if (d->mode != TCBPF_MODE_POLICE)
			continue;
		off = tcp_burst_warning(buf, len, off, dev, dir, "burst",
					d->rate, d->burst, &n);
		off = tcp_burst_warning(buf, len, off, dev, dir, "allow-burst",
					d->allow_rate, d->allow_burst, &n);
	}
	return n;
}

int dev_name_check(const char *name, char *err, size_t errlen)
{
	const char *p;

	if (!name || !*name) {
		seterr(err, errlen, "the device name is empty");
		return -EINVAL;
	}
	if (strlen(name) >= IF_NAMESIZE) {
		seterr(err, errlen, "device name \"%s\" is too long: at most "
		       "%d bytes", name, IF_NAMESIZE - 1);
		return -EINVAL;
	}
	for (p = name; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
			break;
	if (*p || !strcmp(name, ".") || !strcmp(name, "..")) {
		seterr(err, errlen, "\"%s\" cannot be a device name: no '/', ':' "
		       "or white space, not \".\" or \"..\"", name);
		return -EINVAL;
	}
	return 0;
}
