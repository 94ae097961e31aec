// SPDX-License-Identifier: GPL-2.0-only
/*
 * spec_words.c - a SPEC back to words (spec_words.h), for the recorded
 * state: the keys a SPEC sets, in tc's units, exact, so that spec_parse()
 * of the words gives the same SPEC again.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/spec_words.h"
#include "lib/names.h"
#include "lib/units.h"

struct out {
	char *buf;		/* the words, each ending in '\0' */
	size_t len, cap;
	int n;
	int err;
};

static void put(struct out *o, const char *w)
{
	size_t l = strlen(w) + 1;
	char *b;

	if (o->err)
		return;
	if (o->len + l > o->cap) {
		o->cap = (o->len + l) * 2 + 64;
		b = realloc(o->buf, o->cap);
		if (!b) {
			o->err = -ENOMEM;
			return;
		}
		o->buf = b;
	}
	memcpy(o->buf + o->len, w, l);
	o->len += l;
	o->n++;
}

static void put_ports(struct out *o, const struct spec_dir *d)
{
	char buf[TCBPF_MAX_PORTS * 32] = "", one[32];
	size_t off = 0;
	__u32 i;

	if (!d->nports) {
		put(o, "none");
		return;
	}
	for (i = 0; i < d->nports && i < TCBPF_MAX_PORTS; i++) {
		const struct tcbpf_port *p = &d->ports[i];
		static const struct { __u8 bit; const char *name; } pr[] = {
			{ TCBPF_P_TCP, "tcp" }, { TCBPF_P_UDP, "udp" },
			{ TCBPF_P_SCTP, "sctp" },
		};
		unsigned int k;

		if (p->hi != p->lo)
			snprintf(one, sizeof(one), "%u-%u", p->lo, p->hi);
		else
			snprintf(one, sizeof(one), "%u", p->lo);
		/* a bare port is tcp and udp */
		if (p->protos == (TCBPF_P_TCP | TCBPF_P_UDP)) {
			off += snprintf(buf + off, sizeof(buf) - off, "%s%s",
					off ? "," : "", one);
			continue;
		}
		for (k = 0; k < sizeof(pr) / sizeof(pr[0]); k++)
			if (p->protos & pr[k].bit)
				off += snprintf(buf + off, sizeof(buf) - off,
						"%s%s/%s", off ? "," : "",
						pr[k].name, one);
	}
	put(o, buf);
}

/* The value of key @bit of @d as a word. */
static void put_value(struct out *o, const struct spec_dir *d, __u32 bit)
{
	char b[64];

	switch (bit) {
	case SPEC_RATE:
		put(o, fmt_rate(b, sizeof(b), d->rate));
		break;
	case SPEC_BURST:
		put(o, fmt_size(b, sizeof(b), d->burst));
		break;
	case SPEC_PPS:
		if (!d->pps) {
			put(o, "none");
			break;
		}
		snprintf(b, sizeof(b), "%llu", (unsigned long long)d->pps);
		put(o, b);
		break;
	case SPEC_PBURST:
		snprintf(b, sizeof(b), "%llu", (unsigned long long)d->pburst);
		put(o, b);
		break;
	case SPEC_ALLOW:
		put_ports(o, d);
		break;
	case SPEC_ALLOW_RATE:
		put(o, fmt_rate(b, sizeof(b), d->allow_rate));
		break;
	case SPEC_ALLOW_BURST:
		put(o, fmt_size(b, sizeof(b), d->allow_burst));
		break;
	case SPEC_DELAY:
		put(o, d->delay ? fmt_time(b, sizeof(b), d->delay) : "0");
		break;
	case SPEC_LATENCY:
		put(o, d->latency ? fmt_time(b, sizeof(b), d->latency) : "0");
		break;
	case SPEC_ECN:
		put(o, d->ecn ? fmt_time(b, sizeof(b), d->ecn) : "0");
		break;
	case SPEC_MODE:
		put(o, mode_name(d->mode));
		break;
	}
}

static const struct {
	__u32 bit;
	const char *key;
} keys[] = {
	{ SPEC_MODE, "mode" },
	{ SPEC_RATE, "rate" },
	{ SPEC_BURST, "burst" },
	{ SPEC_PPS, "pps" },
	{ SPEC_PBURST, "pburst" },
	{ SPEC_ALLOW, "allow" },
	{ SPEC_ALLOW_RATE, "allow-rate" },
	{ SPEC_ALLOW_BURST, "allow-burst" },
	{ SPEC_DELAY, "delay" },
	{ SPEC_LATENCY, "latency" },
	{ SPEC_ECN, "ecn" },
};

/* Key @bit set in both directions, with the same value. */
static bool same_both(const struct spec *s, __u32 bit)
{
	const struct spec_dir *i = &s->dir[TCBPF_INGRESS], *e = &s->dir[TCBPF_EGRESS];
	struct out a = {}, b = {};
	bool same;

	if (!(i->set & bit) || !(e->set & bit))
		return false;
	put_value(&a, i, bit);
	put_value(&b, e, bit);
	same = !a.err && !b.err && a.len == b.len && !memcmp(a.buf, b.buf, a.len);
	free(a.buf);
	free(b.buf);
	return same;
}

int spec_words(const struct spec *s, int *argc, char ***argv)
{
	struct out o = {};
	unsigned int k;
	char **v, *p;
	int dir, i;

	if (s->hook != TCBPF_HOOK_NONE) {
		put(&o, "hook");
		put(&o, hook_name(s->hook));
	}
	/* the underlay's keys: one VXLAN network, its UDP port */
	if (s->has_vni) {
		char b[16];

		snprintf(b, sizeof(b), "%06x", s->vni);
		put(&o, "vni");
		put(&o, b);
	}
	if (s->vxlan_port) {
		char b[8];

		snprintf(b, sizeof(b), "%u", s->vxlan_port);
		put(&o, "vxlan-port");
		put(&o, b);
	}
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		if (!same_both(s, keys[k].bit))
			continue;
		put(&o, keys[k].key);
		put_value(&o, &s->dir[TCBPF_INGRESS], keys[k].bit);
	}
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		const struct spec_dir *d = &s->dir[dir];
		bool said = false;

		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			if (!(d->set & keys[k].bit) || same_both(s, keys[k].bit))
				continue;
			if (!said)
				put(&o, dir_name(dir));
			said = true;
			put(&o, keys[k].key);
			put_value(&o, d, keys[k].bit);
		}
	}
	if (o.err) {
		free(o.buf);
		return o.err;
	}
	/* one block, as words.h hands out: pointers, then the strings */
	v = malloc((o.n + 1) * sizeof(*v) + o.len);
	if (!v) {
		free(o.buf);
		return -ENOMEM;
	}
	p = (char *)(v + o.n + 1);
	if (o.len)
		memcpy(p, o.buf, o.len);
	for (i = 0; i < o.n; i++) {
		v[i] = p;
		p += strlen(p) + 1;
	}
	v[o.n] = NULL;
	free(o.buf);
	*argc = o.n;
	*argv = v;
	return 0;
}

void spec_merge(struct spec *dst, const struct spec *src)
{
	int dir;

	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		struct spec_dir *d = &dst->dir[dir];
		const struct spec_dir *n = &src->dir[dir];

		/* a new pps without pburst: pburst derived from it again */
		if ((n->set & SPEC_PPS) && !(n->set & SPEC_PBURST)) {
			d->set &= ~SPEC_PBURST;
			d->pburst = 0;
		}
		spec_apply(d, n);
		d->global = (d->global & ~n->set) | n->global;
		d->set |= n->set;
	}
	if (src->hook != TCBPF_HOOK_NONE)
		dst->hook = src->hook;
	if (src->has_vni) {
		dst->vni = src->vni;
		dst->has_vni = true;
	}
	if (src->vxlan_port)
		dst->vxlan_port = src->vxlan_port;
}
