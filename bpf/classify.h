/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * classify.h - allow or default class.
 *
 * A packet is in the allow class when its port on the VM side is in the
 * device's allowlist: the source port for traffic from the VM (its sshd
 * answers from 22), the destination port for traffic to the VM. ARP and
 * IPv6 neighbour discovery are allowed too, so the VM stays reachable.
 */
#ifndef TCBPF_CLASSIFY_H
#define TCBPF_CLASSIFY_H

#include "parse.h"

static __always_inline __u8 proto_bit(__u8 l4proto)
{
	switch (l4proto) {
	case IPPROTO_TCP:
		return TCBPF_P_TCP;
	case IPPROTO_UDP:
		return TCBPF_P_UDP;
	case IPPROTO_SCTP:
		return TCBPF_P_SCTP;
	}
	return 0;
}

__noinline __u32 classify(const struct tcbpf_prof *cfg, const struct pkt *p,
			  __u32 dir)
{
	__u16 port;
	__u8 bit;
	__u32 n;
	int i;

	if (!cfg || !p)		/* a global function's pointers may be NULL */
		return TCBPF_CLASS_DEFAULT;
	port = dir == TCBPF_INGRESS ? p->sport : p->dport;
	bit = proto_bit(p->l4proto);
	n = cfg->nports;

	if (p->flags & (PKT_ARP | PKT_ND))
		return TCBPF_CLASS_ALLOW;
	if (!(p->flags & PKT_PORTS))
		return TCBPF_CLASS_DEFAULT;

#pragma unroll
	for (i = 0; i < TCBPF_MAX_PORTS; i++) {
		const struct tcbpf_port *e = &cfg->ports[i];

		if (i >= n)
			break;
		if ((e->protos & bit) && port >= e->lo && port <= e->hi)
			return TCBPF_CLASS_ALLOW;
	}
	return TCBPF_CLASS_DEFAULT;
}

#endif /* TCBPF_CLASSIFY_H */
