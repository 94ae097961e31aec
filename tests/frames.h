/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * frames.h - hand-built frames for BPF_PROG_TEST_RUN: Ethernet, up to three
 * VLAN tags, IPv4 with options or IPv6 with an extension header chain,
 * TCP/UDP/SCTP/ICMP/ICMPv6 or ARP, every length field and the IPv4
 * checksum right. The one frame builder of tests/bpf_test.c and
 * bench/ppcost.c, so that the bench times the frames the tests check.
 *
 *	struct fspec s = IP6(UDP, 40000, 53, EXT(IPPROTO_HOPOPTS), .len = 100);
 *	struct frame f;
 *
 *	build(&f, &s);		// f.b, f.len: the frame
 */
#ifndef TCBPF_TESTS_FRAMES_H
#define TCBPF_TESTS_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip6.h>
#include <linux/icmpv6.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/types.h>
#include <linux/udp.h>

#define FRAME_BUF	4096	/* test_run takes up to a page less overhead */

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

struct sctp_common {
	__be16 source;
	__be16 dest;
	__be32 vtag;
	__le32 checksum;
};

/* What build() puts in a frame. Zero fields mean "the usual". */
struct fspec {
	__u16 tags[3];		/* VLAN TPIDs, outermost first; 0 ends */
	__u16 proto;		/* ethertype after the tags */
	__u8 l4;		/* IPPROTO_* after the IP headers */
	__u16 sport, dport;
	__u8 icmp6;		/* ICMPv6 type */
	__u8 hlim;		/* IPv6 hop limit to claim instead of the usual */
	__u8 optlen;		/* IPv4 option bytes, a multiple of 4 */
	__u16 frag;		/* frag_off of IPv4 or of the IPv6 fragment
				 * header, host order, flags included */
	__u8 ihl;		/* IPv4 IHL to claim instead of the real one */
	__u8 version;		/* IP version nibble to claim */
	__u8 tos;		/* IPv4 TOS: DSCP and ECN bits */
	__u8 next;		/* IPv6 extension headers, in order */
	__u8 ext[12];
	__u16 len;		/* pad with payload to this frame length */
};

struct frame {
	__u8 b[FRAME_BUF] __attribute__((aligned(8)));
	size_t len;
	size_t ports_end;	/* length that holds both ports; 0: none */
};

#define IP4(p, s, d, ...) { .proto = ETH_P_IP, .l4 = IPPROTO_##p,	\
			    .sport = (s), .dport = (d), __VA_ARGS__ }
#define IP6(p, s, d, ...) { .proto = ETH_P_IPV6, .l4 = IPPROTO_##p,	\
			    .sport = (s), .dport = (d), __VA_ARGS__ }
#define EXT(...)	.ext = { __VA_ARGS__ },				\
			.next = sizeof((__u8[]){ __VA_ARGS__ })
#define ND(type)	IP6(ICMPV6, 0, 0, .icmp6 = (type))
#define Q	.tags = { ETH_P_8021Q }
#define QINQ	.tags = { ETH_P_8021AD, ETH_P_8021Q }
#define TAGS3	.tags = { ETH_P_8021AD, ETH_P_8021Q, ETH_P_8021Q }

static const __u8 mac_vm[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const __u8 mac_host[ETH_ALEN] = { 0xfe, 0x54, 0x00, 0x12, 0x34, 0x56 };

static inline __u16 csum16(const void *data, size_t len)
{
	const __u8 *p = data;
	__u32 sum = 0;

	for (; len > 1; len -= 2, p += 2)
		sum += p[0] << 8 | p[1];
	if (len)
		sum += p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static inline bool has_ports(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP;
}

/* IPv4 header and NOP options; length fields are fixed by build(). */
static inline size_t put_ipv4(__u8 *p, const struct fspec *s)
{
	struct iphdr *ip = (struct iphdr *)p;
	size_t hlen = sizeof(*ip) + s->optlen;

	ip->version = s->version ? s->version : 4;
	ip->ihl = s->ihl ? s->ihl : hlen / 4;
	ip->tos = s->tos;
	ip->ttl = 64;
	ip->protocol = s->l4;
	ip->frag_off = htons(s->frag);
	ip->id = htons(0x7cbf);
	ip->saddr = htonl(0x0a000001);
	ip->daddr = htonl(0x0a000002);
	/* With a short IHL, what it points at reads as ports 22 -> 22. */
	if (s->ihl && s->ihl < 5)
		memcpy(&ip->daddr, "\x00\x16\x00\x16", 4);
	memset(p + sizeof(*ip), 1 /* NOP */, s->optlen);
	if (s->optlen)
		p[hlen - 1] = 0;	/* end of options */
	return hlen;
}

static inline size_t put_ext(__u8 *p, __u8 type, __u8 next, __u16 frag)
{
	struct ipv6_opt_hdr *opt = (struct ipv6_opt_hdr *)p;
	struct ipv6_rt_hdr *rt = (struct ipv6_rt_hdr *)p;
	struct ip_auth_hdr *ah = (struct ip_auth_hdr *)p;
	struct ip6_frag *fh = (struct ip6_frag *)p;
	size_t len;

	switch (type) {
	case IPPROTO_HOPOPTS:		/* 8 bytes */
	case IPPROTO_DSTOPTS:		/* 16: a parser must read hdrlen */
		len = type == IPPROTO_HOPOPTS ? 8 : 16;
		opt->nexthdr = next;
		opt->hdrlen = len / 8 - 1;
		p[2] = 1;		/* PadN over the rest */
		p[3] = len - 4;
		return len;
	case IPPROTO_ROUTING:		/* 24 bytes, no segments left */
		rt->nexthdr = next;
		rt->hdrlen = 2;
		rt->type = 0;
		rt->segments_left = 0;
		return 24;
	case IPPROTO_FRAGMENT:
		fh->ip6f_nxt = next;
		fh->ip6f_offlg = htons(frag);
		fh->ip6f_ident = htonl(0x7cbf);
		return sizeof(*fh);
	case IPPROTO_AH:		/* 24 bytes; hdrlen: 4-byte words - 2 */
		ah->nexthdr = next;
		ah->hdrlen = 24 / 4 - 2;
		ah->spi = htonl(0x100);
		ah->seq_no = htonl(1);
		return 24;
	}
	return 0;
}

/* IPv6 header and the extension header chain of @s. */
static inline size_t put_ipv6(__u8 *p, const struct fspec *s)
{
	struct ipv6hdr *ip6 = (struct ipv6hdr *)p;
	size_t off = sizeof(*ip6);
	int i;

	ip6->version = s->version ? s->version : 6;
	ip6->nexthdr = s->next ? s->ext[0] : s->l4;
	/* Neighbour discovery is link-local with hop limit 255. */
	ip6->hop_limit = s->hlim ? s->hlim : s->l4 == IPPROTO_ICMPV6 ? 255 : 64;
	ip6->saddr.s6_addr[0] = 0xfe;
	ip6->saddr.s6_addr[1] = 0x80;
	ip6->saddr.s6_addr[15] = 1;
	ip6->daddr.s6_addr[0] = 0xfe;
	ip6->daddr.s6_addr[1] = 0x80;
	ip6->daddr.s6_addr[15] = 2;
	for (i = 0; i < s->next; i++)
		off += put_ext(p + off, s->ext[i],
			       i + 1 < s->next ? s->ext[i + 1] : s->l4,
			       s->frag);
	return off;
}

/* The L4 header; for later fragments these bytes are payload that looks
 * like one. */
static inline size_t put_l4(__u8 *p, const struct fspec *s)
{
	struct tcphdr *tcp = (struct tcphdr *)p;
	struct udphdr *udp = (struct udphdr *)p;
	struct sctp_common *sctp = (struct sctp_common *)p;
	struct icmp6hdr *icmp6 = (struct icmp6hdr *)p;

	switch (s->l4) {
	case IPPROTO_TCP:
		tcp->source = htons(s->sport);
		tcp->dest = htons(s->dport);
		tcp->seq = htonl(1);
		tcp->doff = sizeof(*tcp) / 4;
		tcp->ack = 1;
		tcp->window = htons(512);
		return sizeof(*tcp);
	case IPPROTO_UDP:
		udp->source = htons(s->sport);
		udp->dest = htons(s->dport);
		return sizeof(*udp);
	case IPPROTO_SCTP:
		sctp->source = htons(s->sport);
		sctp->dest = htons(s->dport);
		sctp->vtag = htonl(0x7cbf);
		return sizeof(*sctp);
	case IPPROTO_ICMPV6:		/* header + 16 bytes: an ND target */
		icmp6->icmp6_type = s->icmp6;
		return sizeof(*icmp6) + 16;
	case IPPROTO_ICMP:		/* echo request */
		p[0] = 8;
		return 8;
	}
	return 0;
}

/* ARP request for IPv4 over Ethernet. */
static inline size_t put_arp(__u8 *p)
{
	struct arphdr *arp = (struct arphdr *)p;

	arp->ar_hrd = htons(ARPHRD_ETHER);
	arp->ar_pro = htons(ETH_P_IP);
	arp->ar_hln = ETH_ALEN;
	arp->ar_pln = 4;
	arp->ar_op = htons(ARPOP_REQUEST);
	memcpy(p + sizeof(*arp), mac_vm, ETH_ALEN);
	return sizeof(*arp) + 2 * (ETH_ALEN + 4);
}

static inline void put_be16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* Offset != 0: what follows the headers is mid-datagram payload. */
static inline bool later_fragment(const struct fspec *s)
{
	int i;

	if (s->proto == ETH_P_IP)
		return s->frag & 0x1fff;
	for (i = 0; i < s->next; i++)
		if (s->ext[i] == IPPROTO_FRAGMENT)
			return s->frag & 0xfff8;
	return false;
}

static inline void build(struct frame *f, const struct fspec *s)
{
	struct ethhdr *eth = (struct ethhdr *)f->b;
	__u8 *p = f->b + sizeof(*eth), *ip, *l4;
	__u8 *type = f->b + offsetof(struct ethhdr, h_proto);
	size_t n;
	int i;

	memset(f, 0, sizeof(*f));
	memcpy(eth->h_dest, mac_vm, ETH_ALEN);
	memcpy(eth->h_source, mac_host, ETH_ALEN);
	for (i = 0; i < 3 && s->tags[i]; i++) {
		struct vlan_tag *v = (struct vlan_tag *)p;

		put_be16(type, s->tags[i]);
		v->tci = htons(100 + i);
		type = (__u8 *)&v->proto;
		p += sizeof(*v);
	}
	put_be16(type, s->proto);

	ip = p;
	if (s->proto == ETH_P_IP)
		p += put_ipv4(p, s);
	else if (s->proto == ETH_P_IPV6)
		p += put_ipv6(p, s);
	else if (s->proto == ETH_P_ARP)
		p += put_arp(p);
	l4 = p;
	if (s->proto == ETH_P_IP || s->proto == ETH_P_IPV6) {
		p += put_l4(p, s);
		if (has_ports(s->l4) && !s->ihl && !s->version &&
		    !later_fragment(s))
			f->ports_end = l4 - f->b + 4;
	}
	n = p - f->b;
	for (; n < s->len && n < sizeof(f->b); n++)
		f->b[n] = n;
	f->len = n;

	/* Lengths and the IPv4 header checksum over the final frame. */
	if (s->proto == ETH_P_IP) {
		struct iphdr *iph = (struct iphdr *)ip;

		iph->tot_len = htons(n - (ip - f->b));
		iph->check = htons(csum16(ip, sizeof(*iph) + s->optlen));
	} else if (s->proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)ip;

		ip6->payload_len = htons(n - (ip - f->b) - sizeof(*ip6));
	}
	if (s->l4 == IPPROTO_UDP && l4 != ip)
		((struct udphdr *)l4)->len = htons(n - (l4 - f->b));
}

#endif /* TCBPF_TESTS_FRAMES_H */
