// SPDX-License-Identifier: GPL-2.0-only
/*
 * spec.c - the SPEC grammar of attach and change.
 *
 *   SPEC := { [ ingress | egress | both ] KEY VALUE ... }
 *
 * A keyword loop in the style of tc: keys before any direction word apply
 * to both directions, a direction word switches the target for the keys
 * that follow, later keys override earlier ones. Every key records its
 * SPEC_* bit, so that "change" can merge a SPEC onto what is running
 * without resetting the keys the operator did not name.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lib/spec.h"
#include "lib/units.h"

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
	bool nonzero;		/* 0 is refused rather than meaning "off" */
};

#define U64_KEY(n, k, b, f, nz) \
	{ n, k, b, offsetof(struct spec_dir, f), nz }

/*
 * rate/burst 0 would be a bucket that never admits a packet, which is
 * what "mode police" with a tiny rate already says more honestly; pps 0
 * is the documented "no packet bucket", pburst/latency 0 mean "derive".
 */
static const struct key keys[] = {
	U64_KEY("rate",		V_RATE,  SPEC_RATE,	   rate,	true),
	U64_KEY("burst",	V_SIZE,  SPEC_BURST,	   burst,	true),
	U64_KEY("pps",		V_COUNT, SPEC_PPS,	   pps,		false),
	U64_KEY("pburst",	V_COUNT, SPEC_PBURST,	   pburst,	false),
	U64_KEY("allow-rate",	V_RATE,  SPEC_ALLOW_RATE,  allow_rate,	true),
	U64_KEY("allow-burst",	V_SIZE,  SPEC_ALLOW_BURST, allow_burst,	true),
	U64_KEY("delay",	V_TIME,  SPEC_DELAY,	   delay,	false),
	U64_KEY("latency",	V_TIME,  SPEC_LATENCY,	   latency,	false),
	U64_KEY("ecn",		V_TIME,  SPEC_ECN,	   ecn,		false),
	{ "allow",	V_PORTS, SPEC_ALLOW },
	{ "mode",	V_MODE,  SPEC_MODE },
	{ "hook",	V_HOOK,  0 },
	{ NULL }
};

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

/* One parsed VALUE, before it is stored into the directions. */
struct value {
	uint64_t num;
	uint32_t nports;
	struct tcbpf_port ports[TCBPF_MAX_PORTS];
};

__attribute__((format(printf, 3, 4)))
static void seterr(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errbuf || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

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
	if (strcmp(word, "ingress") == 0)
		return DIR_BIT(TCBPF_INGRESS);
	if (strcmp(word, "egress") == 0)
		return DIR_BIT(TCBPF_EGRESS);
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

	err = parse_number(k, arg, &v->num);
	if (err == -ERANGE) {
		seterr(errbuf, errlen, "Illegal \"%s\" value \"%s\": too large",
		       k->name, arg);
		return err;
	}
	if (err) {
		seterr(errbuf, errlen, "Illegal \"%s\" value \"%s\"", k->name, arg);
		return err;
	}
	if (k->nonzero && !v->num) {
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
	for (dir = 0; dir < TCBPF_NDIR; dir++)
		if (mask & DIR_BIT(dir))
			store_value(&spec->dir[dir], k, v);
}

int spec_parse(struct spec *spec, int argc, char **argv,
	       char *errbuf, size_t errlen)
{
	static const struct key monitor = { "mode", V_MODE, SPEC_MODE };
	uint32_t mask = DIR_BOTH;
	struct value v;
	int i, err;

	memset(spec, 0, sizeof(*spec));
	spec->hook = TCBPF_HOOK_NONE;

	for (i = 0; i < argc; i++) {
		const char *word = argv[i];
		const struct key *k;
		uint32_t m = dir_word(word);

		if (m) {
			mask = m;
			continue;
		}
		/* "monitor" alone reads better than "mode monitor" in a runbook */
		if (strcmp(word, "monitor") == 0) {
			v.num = TCBPF_MODE_MONITOR;
			store(spec, mask, &monitor, &v);
			continue;
		}
		k = find_key(word);
		if (!k) {
			seterr(errbuf, errlen, "unknown key \"%s\"", word);
			return -EINVAL;
		}
		if (i + 1 >= argc) {
			seterr(errbuf, errlen, "\"%s\" needs a value", word);
			return -EINVAL;
		}
		err = parse_value(k, argv[++i], &v, errbuf, errlen);
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
