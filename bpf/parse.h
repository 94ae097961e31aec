/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * parse.h - find what the classifier needs in a frame: the L4 protocol and
 * ports, or that it is ARP / IPv6 neighbour discovery.
 *
 * Ethernet, up to two VLAN tags (802.1Q, 802.1ad), IPv4 honouring IHL,
 * IPv6 walking a bounded number of extension headers. Non-first fragments
 * carry no ports. Anything truncated or malformed yields PKT_MALFORMED and
 * no ports, so it can only ever land in the default class.
 */
#ifndef TCBPF_PARSE_H
#define TCBPF_PARSE_H

#define ETH_P_IP	0x0800
#define ETH_P_ARP	0x0806
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88A8
#define ETH_P_IPV6	0x86DD

#define IPPROTO_HOPOPTS		0
#define IPPROTO_TCP		6
#define IPPROTO_UDP		17
#define IPPROTO_ROUTING		43
#define IPPROTO_FRAGMENT	44
#define IPPROTO_AH		51
#define IPPROTO_ICMPV6		58
#define IPPROTO_NONE		59
#define IPPROTO_DSTOPTS		60
#define IPPROTO_SCTP		132

#define PARSE_MAX_VLANS		2
#define ARP_LEN			28	/* Ethernet/IPv4 ARP */
/* RFC 8200's full chain (HBH, DST, RT, FRAG, AH, DST) plus the L4 step */
#define PARSE_MAX_EXTHDRS	8
/* How much of a non-linear skb to pull when its headers are not linear. */
#define PARSE_PULL_LEN		512

enum {
	PKT_PORTS	= 1 << 0,	/* sport/dport are valid */
	PKT_ARP		= 1 << 1,
	PKT_ND		= 1 << 2,	/* ICMPv6 RS/RA/NS/NA/redirect */
	PKT_FRAG	= 1 << 3,	/* a non-first fragment */
	PKT_MALFORMED	= 1 << 4,
	PKT_IPV4	= 1 << 5,
	PKT_IPV6	= 1 << 6,
};

struct pkt {
	__u16 sport;		/* host byte order */
	__u16 dport;
	__u8 l4proto;
	__u8 flags;
	__u16 hdr_len;		/* bytes of headers through L4, 0 if unknown:
				 * what each GSO segment repeats on the wire */
};

struct vlan_hdr_ {
	__be16 tci;
	__be16 proto;
};

/* The first 4 bytes of TCP, UDP and SCTP headers are the two ports. */
struct l4ports {
	__be16 source;
	__be16 dest;
};

/* Returned by the parsers when the frame may be longer than its linear part. */
#define PARSE_SHORT	(-1)

/* Headers a GSO segment carries: through the TCP header (with options)
 * or the UDP header. Only GSO packets use it, whose headers are linear. */
static __always_inline void parse_hdr_len(struct pkt *p, void *l4, void *end,
					  void *data)
{
	struct tcphdr *th = l4;

	if (p->l4proto == IPPROTO_UDP && l4 + sizeof(struct udphdr) <= end)
		p->hdr_len = l4 + sizeof(struct udphdr) - data;
	else if (p->l4proto == IPPROTO_TCP && (void *)(th + 1) <= end)
		p->hdr_len = l4 - data + th->doff * 4;
}

static __always_inline int parse_ports(struct pkt *p, void *l4, void *end,
				       __u8 proto, void *data)
{
	struct l4ports *ports = l4;

	p->l4proto = proto;
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != IPPROTO_SCTP)
		return 0;
	if ((void *)(ports + 1) > end)
		return PARSE_SHORT;
	p->sport = bpf_ntohs(ports->source);
	p->dport = bpf_ntohs(ports->dest);
	p->flags |= PKT_PORTS;
	parse_hdr_len(p, l4, end, data);
	return 0;
}

static __always_inline int parse_ipv4(struct pkt *p, void *nh, void *end,
				      void *data)
{
	struct iphdr *iph = nh;
	__u32 hlen, tot;

	p->flags |= PKT_IPV4;
	if ((void *)(iph + 1) > end)
		return PARSE_SHORT;
	hlen = iph->ihl * 4;
	if (iph->version != 4 || hlen < sizeof(*iph)) {
		p->flags |= PKT_MALFORMED;
		return 0;
	}
	/* Offset != 0: a later fragment, its payload starts mid-datagram. */
	if (iph->frag_off & bpf_htons(0x1fff)) {
		p->l4proto = iph->protocol;
		p->flags |= PKT_FRAG;
		return 0;
	}
	/* Ports past tot_len would be Ethernet padding. tot_len 0 is BIG
	 * TCP's "see skb->len". */
	tot = bpf_ntohs(iph->tot_len);
	if (tot && tot < hlen + sizeof(struct l4ports)) {
		p->l4proto = iph->protocol;
		p->flags |= PKT_MALFORMED;
		return 0;
	}
	return parse_ports(p, nh + hlen, end, iph->protocol, data);
}

static __always_inline int parse_ipv6(struct pkt *p, void *nh, void *end,
				      void *data)
{
	struct ipv6hdr *ip6h = nh;
	struct ipv6_opt_hdr *opt;
	struct frag_hdr *fh;
	void *cur = ip6h + 1;
	__u8 next;
	int i;

	p->flags |= PKT_IPV6;
	if (cur > end)
		return PARSE_SHORT;
	if (ip6h->version != 6) {
		p->flags |= PKT_MALFORMED;
		return 0;
	}
	next = ip6h->nexthdr;

#pragma unroll
	for (i = 0; i < PARSE_MAX_EXTHDRS; i++) {
		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_AH:
			opt = cur;
			if ((void *)(opt + 1) > end)
				return PARSE_SHORT;
			/* AH counts 4-byte words less two (RFC 4302), the
			 * others 8-byte words less one (RFC 8200). */
			cur += next == IPPROTO_AH ? (opt->hdrlen + 2) * 4 :
						    (opt->hdrlen + 1) * 8;
			next = opt->nexthdr;
			break;
		case IPPROTO_FRAGMENT:
			fh = cur;
			if ((void *)(fh + 1) > end)
				return PARSE_SHORT;
			next = fh->nexthdr;
			if (fh->frag_off & bpf_htons(0xfff8)) {
				p->l4proto = next;
				p->flags |= PKT_FRAG;
				return 0;
			}
			cur = fh + 1;
			break;
		case IPPROTO_ICMPV6: {
			struct icmp6hdr *icmp = cur;

			p->l4proto = next;
			if ((void *)(icmp + 1) > end)
				return PARSE_SHORT;
			/* As for ports: a header past payload_len is padding,
			 * not a message (RFC 4861 7.1.1: the ICMP length is
			 * derived from the IP length). 0: jumbo / BIG TCP. */
			if (ip6h->payload_len &&
			    (void *)(icmp + 1) - (void *)(ip6h + 1) >
			    bpf_ntohs(ip6h->payload_len)) {
				p->flags |= PKT_MALFORMED;
				return 0;
			}
			/* Router/neighbour solicitation, advertisement, redirect;
			 * valid only with hop limit 255 (RFC 4861), so a flood
			 * of anything else cannot ride in the allow class. */
			if (icmp->icmp6_type >= 133 && icmp->icmp6_type <= 137 &&
			    ip6h->hop_limit == 255)
				p->flags |= PKT_ND;
			return 0;
		}
		default:
			/* As for IPv4: payload_len 0 is a jumbo / BIG TCP. */
			if (ip6h->payload_len &&
			    cur + sizeof(struct l4ports) - (void *)(ip6h + 1) >
			    bpf_ntohs(ip6h->payload_len)) {
				p->l4proto = next;
				p->flags |= PKT_MALFORMED;
				return 0;
			}
			return parse_ports(p, cur, end, next, data);
		}
	}
	/* Too many extension headers to follow: no ports, default class. */
	p->l4proto = next;
	p->flags |= PKT_MALFORMED;
	return 0;
}

/*
 * Fill *p from the frame. Returns 0 when done (possibly with PKT_MALFORMED),
 * PARSE_SHORT when a header ran past the linear data.
 */
static __always_inline int parse_frame(struct __sk_buff *skb, struct pkt *p)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	void *nh = eth + 1;
	__be16 proto;
	int i;

	__builtin_memset(p, 0, sizeof(*p));
	if (nh > end)
		return PARSE_SHORT;
	proto = eth->h_proto;

#pragma unroll
	for (i = 0; i < PARSE_MAX_VLANS; i++) {
		struct vlan_hdr_ *vh = nh;

		if (proto != bpf_htons(ETH_P_8021Q) &&
		    proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > end)
			return PARSE_SHORT;
		proto = vh->proto;
		nh = vh + 1;
	}

	switch (proto) {
	case bpf_htons(ETH_P_IP):
		return parse_ipv4(p, nh, end, data);
	case bpf_htons(ETH_P_IPV6):
		return parse_ipv6(p, nh, end, data);
	case bpf_htons(ETH_P_ARP):
		/* The allow class is for real ARP: header plus IPv4 addresses. */
		if (nh + ARP_LEN > end)
			return PARSE_SHORT;
		p->flags |= PKT_ARP;
		return 0;
	default:
		/* A third VLAN tag or an unknown ethertype: default class. */
		return 0;
	}
}

/*
 * Parse, pulling the headers into the linear area once if they are not
 * (GSO skbs from some drivers). Only a frame that is really too short is
 * left PKT_MALFORMED.
 */
static __always_inline void parse_skb(struct __sk_buff *skb, struct pkt *p)
{
	__u32 linear = skb->data_end - skb->data;

	if (parse_frame(skb, p) != PARSE_SHORT)
		return;
	if (skb->len > linear &&
	    !bpf_skb_pull_data(skb, skb->len < PARSE_PULL_LEN ?
				    skb->len : PARSE_PULL_LEN) &&
	    parse_frame(skb, p) != PARSE_SHORT)
		return;
	p->flags &= ~PKT_PORTS;
	p->flags |= PKT_MALFORMED;
}

/*
 * The VNI of a VXLAN frame (RFC 7348): UDP to @port, then 8 bytes: flags
 * (0x08: the VNI is valid), 3 reserved, the 24-bit VNI, 1 reserved.
 * Returns the VNI, -1 when the frame is not VXLAN. Apart from struct pkt
 * on purpose: parse_frame() stays what the differential fuzzer compares.
 * Read with bpf_skb_load_bytes(): the VXLAN header may lie past the
 * linear part.
 */
#define VXLAN_HLEN	8
#define VXLAN_F_VNI	0x08

static __always_inline long parse_vxlan(struct __sk_buff *skb,
					const struct pkt *p, __u16 port)
{
	__u8 vx[VXLAN_HLEN];

	if ((p->flags & (PKT_PORTS | PKT_MALFORMED)) != PKT_PORTS ||
	    p->l4proto != IPPROTO_UDP || p->dport != port || !p->hdr_len)
		return -1;
	if (bpf_skb_load_bytes(skb, p->hdr_len, vx, sizeof(vx)))
		return -1;
	if (!(vx[0] & VXLAN_F_VNI))
		return -1;
	return (long)vx[4] << 16 | (long)vx[5] << 8 | vx[6];
}

#endif /* TCBPF_PARSE_H */
