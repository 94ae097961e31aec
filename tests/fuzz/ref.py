#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""ref.py - the reference classifier of the differential fuzzer.

Reads batches of frames and the kernel's results from tests/fuzz/fuzz.c on
stdin (layout: tests/fuzz/fuzz.h), decides on its own what tcbpf's contract
(README.md) says each frame is, and writes one reply per batch: frames
checked, mismatches, frames test_run refused. Mismatches are printed with
the frame's hex and both sides' fields.

Independent of bpf/: written from the RFCs and the README's rules, no code
or structure shared. The frame is decoded into a list of layers first
(decode()), and the contract is applied to that list afterwards (judge()).
Python's scapy was considered and not used: it is not installed here, is
far too slow for ten million frames, and on the corner cases that matter
(IHL < 5, a total length shorter than the headers, options cut short) it
guesses rather than following the RFCs, so those rules would have had to
be written by hand anyway.

The contract, with its sources:
  * Ethernet II (IEEE 802.3 clause 3.2.6): 6+6 bytes of addresses, then an
    EtherType. Up to two VLAN tags (IEEE 802.1Q C-tag 0x8100, 802.1ad S-tag
    0x88A8, in any order) are looked through; a third tag means "unknown".
  * ARP (RFC 826) for IPv4 over Ethernet is 28 bytes: fewer is malformed.
    Whole ARP packets go to the allow class, so the VM stays reachable.
  * IPv4 (RFC 791): version 4, IHL >= 5 words. A fragment offset other than
    0 means a later fragment: its payload starts mid-datagram, no ports.
    Total Length bounds the datagram (what follows is Ethernet padding);
    0 means "unknown" (BIG TCP, RFC 791 allows no 0, Linux uses it for
    > 64 KiB GSO packets). A datagram whose Total Length leaves fewer than
    4 bytes past the header has no room for any transport header: malformed.
  * IPv6 (RFC 8200): version 6; extension headers hop-by-hop (0), routing
    (43) and destination options (60) are (Hdr Ext Len + 1) * 8 bytes
    (sections 4.3, 4.4, 4.6), fragment (44) 8 bytes (4.5, offset in the top
    13 bits of bytes 2-3), AH (51) (Payload Len + 2) * 4 bytes (RFC 4302
    2.2). tcbpf reads at most 8 headers after the IPv6 header: the upper
    layer must come within them, i.e. after at most 7 extension headers
    (RFC 8200's recommended full chain has 6); when the 8th is still an
    extension header it is read (a later fragment is still one, a cut one
    still short) but what it leads to is malformed, with that protocol.
    A fragment header with an offset is a later fragment. Payload Length 0
    is a jumbogram (RFC 2675) / BIG TCP: unknown. What the classifier reads
    of the upper layer must lie within Payload Length: the 4 port bytes, or
    the ICMPv6 header (an ND message cut short by its own IP length is not
    one, RFC 4861 7.1.1); the extension headers before it are not checked
    on their own.
  * ICMPv6 (RFC 4443) needs its 8-byte header in the frame. Types 133-137
    (router solicitation/advertisement, neighbour solicitation/
    advertisement, redirect; RFC 4861 section 4) with Hop Limit 255 (RFC
    4861 6.1.1, 7.1.1, 8.1) are neighbour discovery: allow class.
  * TCP (RFC 9293), UDP (RFC 768), SCTP (RFC 9260): source and destination
    port are the first 4 bytes. Ports are only believed when all 4 bytes
    are in the frame and within the IP length; otherwise malformed.
  * Class: allow when the VM's port (the source port of traffic from the VM
    = ingress, the destination port of traffic to it = egress) and protocol
    match an allowlist entry ("[tcp/|udp/|sctp/]PORT[-PORT]", a bare port
    meaning tcp and udp), or for ARP and ND; default for everything else.
  * Counted length: the frame's length (test_run makes no GSO packets).
    hdr_len (what each GSO segment would repeat): through the TCP header
    (its Data Offset, when the 20-byte fixed header is in the frame) or the
    8-byte UDP header, when ports were found; else 0.
  * Verdict of the real limiter as fuzz.c configures it: allow class
    passes (TC_ACT_UNSPEC, -1), default class is dropped (TC_ACT_SHOT, 2),
    and the class's pass or drop counters move by one packet and the
    counted length, nothing else.
  * test_run itself refuses a frame whose outer EtherType is IPv4 or IPv6
    when it is shorter than Ethernet + that IP header (20 / 40 bytes).

FUZZ_PLANT=RULE flips one rule, for the self-test (see PLANTS).
"""

import argparse
import collections
import os
import struct
import sys

BATCH = struct.Struct('<IIQ')
REC = struct.Struct('<HBBi4Ii8I')
TOTALS = struct.Struct('<16Q')
REPLY = struct.Struct('<III')
BATCH_MAGIC = 0x7a55f2b0
HARNESS_MAGIC = 0xf2

RAN, REFUSED = 0, 1
INGRESS, EGRESS = 0, 1
PASS, DROP = -1, 2

# EtherTypes
ET_IPV4, ET_ARP, ET_IPV6 = 0x0800, 0x0806, 0x86DD
ET_TAGS = (0x8100, 0x88A8)
# IP protocol numbers (IANA)
HOPOPT, ICMP, TCP, UDP, ROUTING, FRAGMENT, AH, ICMPV6, DSTOPTS, SCTP = \
    0, 1, 6, 17, 43, 44, 51, 58, 60, 132
PORTED = {TCP: 'tcp', UDP: 'udp', SCTP: 'sctp'}
ND_TYPES = range(133, 138)
EXT_HEADERS = (HOPOPT, ROUTING, DSTOPTS, FRAGMENT, AH)
HEADERS_READ = 8        # after the IPv6 header, the upper layer's included
ETH_LEN, ARP_LEN, V4_LEN, V6_LEN = 14, 28, 20, 40

# The self-test's planted disagreements: each breaks one rule above.
PLANTS = {
    'nd-any-hoplimit': 'ND is believed whatever its hop limit',
    'ingress-dport': 'traffic from the VM is classified by its dport',
    'ignore-totlen': 'IPv4 Total Length does not bound the ports',
    'ext-limit-9': 'nine headers after IPv6 are read, not eight',
    'count-fcs': 'the counted length includes a 4-byte FCS',
    'sctp-bare': 'a bare allowlist port also means sctp',
    'nd-past-plen': 'the ICMPv6 header is not held to Payload Length',
    'tcp-hdr-20': 'a TCP header is 20 bytes whatever its Data Offset',
}
PLANT = os.environ.get('FUZZ_PLANT', '')
if PLANT and PLANT not in PLANTS:
    sys.exit('ref.py: unknown FUZZ_PLANT "%s"; one of %s' %
             (PLANT, ', '.join(PLANTS)))


class Short(Exception):
    """The frame ends before a field the decoder needs."""


def be16(b, off):
    if off + 2 > len(b):
        raise Short
    return b[off] << 8 | b[off + 1]


def byte(b, off):
    if off >= len(b):
        raise Short
    return b[off]


def need(b, off, n):
    if off + n > len(b):
        raise Short


# ---- decoding: the frame as a list of (layer, facts) ---------------------

def decode_l2(b):
    """EtherType after at most two VLAN tags and the offset it leads to."""
    off, etype = ETH_LEN - 2, None
    for _ in range(3):
        etype = be16(b, off)
        off += 2
        if etype not in ET_TAGS:
            return etype, off
        off += 2            # the tag's TCI; its EtherType follows
    return 'third-tag', off


def decode_ipv4(b, o):
    """IPv4 facts: protocol, later fragment, where the transport starts."""
    need(b, o, V4_LEN)
    version, ihl = b[o] >> 4, b[o] & 15
    facts = {'net': 'ipv4', 'proto': b[o + 9]}
    if version != 4 or ihl < 5:
        return dict(facts, bad='version or IHL', proto=None)
    offset = be16(b, o + 6) & 0x1FFF
    if offset:
        return dict(facts, later_fragment=True)
    total = be16(b, o + 2)
    hlen = ihl * 4
    if total and total < hlen + 4 and PLANT != 'ignore-totlen':
        return dict(facts, bad='total length')
    return dict(facts, l4=o + hlen)


def ext_len(b, o, kind):
    if kind == FRAGMENT:
        return 8
    if kind == AH:
        return (byte(b, o + 1) + 2) * 4
    return (byte(b, o + 1) + 1) * 8


def decode_ipv6(b, o):
    """IPv6 facts: where the upper layer starts and what it is."""
    need(b, o, V6_LEN)
    facts = {'net': 'ipv6', 'proto': None}
    if b[o] >> 4 != 6:
        return dict(facts, bad='version')
    plen, kind, hlim = be16(b, o + 4), b[o + 6], b[o + 7]
    cur = o + V6_LEN
    for _ in range(HEADERS_READ + (PLANT == 'ext-limit-9')):
        if kind not in EXT_HEADERS:
            break
        need(b, cur, 8 if kind == FRAGMENT else 2)
        if kind == FRAGMENT and be16(b, cur + 2) >> 3:
            return dict(facts, proto=b[cur], later_fragment=True)
        kind, cur = b[cur], cur + ext_len(b, cur, kind)
    else:
        return dict(facts, proto=kind, bad='header limit')
    facts.update(proto=kind, l4=cur, hlim=hlim)
    # what the classifier reads of the upper layer: the ICMPv6 header, or
    # the ports (any other protocol is held to the ports' 4 bytes too)
    read = 8 if kind == ICMPV6 else 4
    if kind == ICMPV6 and PLANT == 'nd-past-plen':
        read = 0
    if plen and cur + read - (o + V6_LEN) > plen:
        return dict(facts, bad='payload length')
    return facts


def decode(b):
    """Facts about frame @b, or those found before it ended ('short')."""
    facts = {'net': None, 'proto': None}
    try:
        etype, o = decode_l2(b)
        if etype == ET_ARP:
            need(b, o, ARP_LEN)
            return {'net': 'arp', 'proto': None}
        if etype == ET_IPV4:
            facts['net'] = 'ipv4'
            facts = decode_ipv4(b, o)
        elif etype == ET_IPV6:
            facts['net'] = 'ipv6'
            facts = decode_ipv6(b, o)
        else:
            return facts
        l4 = facts.get('l4')
        if l4 is None or 'bad' in facts:
            return facts
        if facts['proto'] == ICMPV6 and facts['net'] == 'ipv6':
            need(b, l4, 8)
            facts['icmp6_type'] = b[l4]
        elif facts['proto'] in PORTED:
            need(b, l4, 4)
            facts['ports'] = (be16(b, l4), be16(b, l4 + 2))
            facts['hdr_len'] = transport_len(b, l4, facts['proto'])
        return facts
    except Short:
        return dict(facts, bad='short')


def transport_len(b, l4, proto):
    """Bytes from the frame's start through the TCP or UDP header."""
    if proto == TCP and l4 + 20 <= len(b):
        return l4 + (20 if PLANT == 'tcp-hdr-20' else (b[l4 + 12] >> 4) * 4)
    if proto == UDP and l4 + 8 <= len(b):
        return l4 + 8
    return 0


# ---- the contract: facts -> what the data plane must report ---------------

def parse_allow(spec):
    """'22,tcp/80,1000-2000' -> [(lo, hi, {'tcp', 'udp'}), ...]"""
    rules = []
    if spec == 'none':
        return rules
    for item in spec.split(','):
        protos, _, ports = item.rpartition('/')
        protos = {protos} if protos else {'tcp', 'udp'}
        if not item.count('/') and PLANT == 'sctp-bare':
            protos.add('sctp')
        lo, _, hi = ports.partition('-')
        rules.append((int(lo), int(hi or lo), protos))
    return rules


def judge(facts, direction, allow):
    """The expected fields, same names as kernel_fields()."""
    ports = facts.get('ports')
    malformed = 'bad' in facts
    nd = (facts.get('icmp6_type') in ND_TYPES and
          (facts.get('hlim') == 255 or PLANT == 'nd-any-hoplimit'))
    cls = 'default'
    if facts['net'] == 'arp' or nd:
        cls = 'allow'
    elif ports:
        by_dport = direction == EGRESS or PLANT == 'ingress-dport'
        port = ports[1] if by_dport else ports[0]
        name = PORTED[facts['proto']]
        if any(lo <= port <= hi and name in p for lo, hi, p in allow):
            cls = 'allow'
    return {
        'class': cls,
        'ports': ports,
        'l4proto': facts['proto'] or 0,
        'hdr_len': facts.get('hdr_len', 0) if ports else 0,
        'arp': facts['net'] == 'arp' and not malformed,
        'ip': facts['net'] if facts['net'] in ('ipv4', 'ipv6') else None,
        'nd': nd,
        'later_fragment': bool(facts.get('later_fragment')),
        'malformed': malformed,
    }


def refused(b):
    """test_run's own check: an outer IP EtherType needs its IP header."""
    etype = b[12] << 8 | b[13]
    return ((etype == ET_IPV4 and len(b) < ETH_LEN + V4_LEN) or
            (etype == ET_IPV6 and len(b) < ETH_LEN + V6_LEN))


# ---- the kernel's side ---------------------------------------------------

# bits of the harness's flags byte (bpf/parse.h's PKT_*, as the data plane's
# public output; only their meaning is assumed here)
F_PORTS, F_ARP, F_ND, F_FRAG, F_BAD, F_V4, F_V6 = (1 << i for i in range(7))


def kernel_fields(cb):
    flags, sp = cb[0] >> 8 & 0xFF, cb[1]
    ip = None
    if flags & F_V4:
        ip = 'ipv4' if not flags & F_V6 else 'ipv4+ipv6'
    elif flags & F_V6:
        ip = 'ipv6'
    return {
        'class': {0: 'default', 1: 'allow'}.get(cb[0] & 0xFF, cb[0] & 0xFF),
        'ports': (sp >> 16, sp & 0xFFFF) if flags & F_PORTS else None,
        'l4proto': cb[0] >> 16 & 0xFF,
        'hdr_len': cb[2],
        'arp': bool(flags & F_ARP),
        'ip': ip,
        'nd': bool(flags & F_ND),
        'later_fragment': bool(flags & F_FRAG),
        'malformed': bool(flags & F_BAD),
    }


def expected_counters(cls, length):
    """[class][pass_pkts, pass_bytes, drop_pkts, drop_bytes] moves."""
    c = [[0] * 4, [0] * 4]
    if cls == 'allow':
        c[1][0:2] = [1, length]
    else:
        c[0][2:4] = [1, length]
    return c


class Checker:
    def __init__(self, allow, max_print):
        self.allow = parse_allow(allow)
        self.max_print = max_print
        self.printed = 0
        self.totals = [[[0] * 4 for _ in range(2)] for _ in range(2)]
        self.coverage = collections.Counter()

    def report(self, index, direction, frame, what, kernel, ref):
        if self.printed >= self.max_print:
            return
        self.printed += 1
        print('mismatch: frame %d (%s, %d bytes): %s\n  frame:     %s\n'
              '  kernel:    %s\n  reference: %s' %
              (index, 'egress' if direction else 'ingress', len(frame), what,
               frame.hex(), kernel, ref), flush=True)

    def check(self, index, rec, frame):
        """Number of mismatches (0 or 1) of one frame."""
        length, direction, status, err, cb0, cb1, cb2, cb3, verdict = rec[:9]
        moved = [list(rec[9:13]), list(rec[13:17])]
        if refused(frame):
            if status == REFUSED and not any(map(any, moved)):
                return 0
            self.report(index, direction, frame, 'test_run should refuse it',
                        'status %d err %d counters %s' % (status, err, moved),
                        'refused, no counter moves')
            return 1
        if status != RAN:
            self.report(index, direction, frame, 'test_run failed',
                        'status %d err %d' % (status, err), 'runs')
            return 1
        if cb0 >> 24 != HARNESS_MAGIC:
            self.report(index, direction, frame, 'harness did not run',
                        'cb %#x' % cb0, 'cb[0] top byte %#x' % HARNESS_MAGIC)
            return 1
        facts = decode(frame)
        want = judge(facts, direction, self.allow)
        self.coverage[kind(facts, want)] += 1
        got = kernel_fields((cb0, cb1, cb2))
        counted = length + 4 * (PLANT == 'count-fcs')
        want_moved = expected_counters(want['class'], counted)
        want_verdict = PASS if want['class'] == 'allow' else DROP
        for d in (0, 1):
            for k in range(4):
                self.totals[direction][d][k] += want_moved[d][k]
        diff = [k for k in want if want[k] != got[k]]
        if cb3 != counted:
            diff.append('length %d/%d' % (cb3, counted))
        if verdict != want_verdict:
            diff.append('verdict %d/%d' % (verdict, want_verdict))
        if moved != want_moved:
            diff.append('counters %s/%s' % (moved, want_moved))
        if not diff:
            return 0
        self.report(index, direction, frame, 'differs in ' + ', '.join(diff),
                    dict(got, length=cb3, verdict=verdict, counters=moved),
                    dict(want, length=counted, verdict=want_verdict,
                         counters=want_moved))
        return 1

    def check_totals(self, first, tot):
        flat = [v for d in self.totals for c in d for v in c]
        if list(tot) == flat:
            return 0
        self.report(first, 0, b'', 'counter totals of both directions '
                    'after this batch', list(tot), flat)
        return 1


def kind(facts, want):
    """What a frame exercised, for the coverage summary."""
    net = facts['net'] or 'other'
    if 'bad' in facts:
        return net, 'malformed: ' + facts['bad']
    if want['ports']:
        return net, '%s ports, %s' % (PORTED[facts['proto']], want['class'])
    if want['later_fragment']:
        return net, 'later fragment'
    if want['nd']:
        return net, 'neighbour discovery'
    if 'icmp6_type' in facts:
        return net, 'icmpv6, not ND'
    return net, 'no ports' if net != 'arp' else 'arp'


def print_coverage(coverage):
    total = sum(coverage.values()) or 1
    for (net, what), n in sorted(coverage.items()):
        print('info: coverage: %-5s %-30s %9d %5.1f%%' %
              (net, what, n, 100.0 * n / total), file=sys.stderr)


def read_exact(f, n):
    data = f.read(n)
    if len(data) != n:
        raise EOFError
    return data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--allow', required=True)
    ap.add_argument('--max', type=int, default=20)
    ap.add_argument('--reply-fd', type=int, default=1)
    ap.add_argument('--coverage', action='store_true')
    args = ap.parse_args()
    checker = Checker(args.allow, args.max)
    inp = sys.stdin.buffer
    out = os.fdopen(args.reply_fd, 'wb', buffering=0)
    total_bad = 0
    while True:
        try:
            head = inp.read(BATCH.size)
            if not head:
                break
            magic, n, first = BATCH.unpack(head)
            if magic != BATCH_MAGIC:
                sys.exit('ref.py: lost sync with fuzz.c at frame %d' % first)
            bad = refused_n = 0
            for i in range(n):
                rec = REC.unpack(read_exact(inp, REC.size))
                frame = read_exact(inp, rec[0])
                refused_n += rec[2] == REFUSED
                bad += checker.check(first + i, rec, frame)
            bad += checker.check_totals(first + n - 1,
                                        TOTALS.unpack(read_exact(inp, TOTALS.size)))
        except EOFError:
            sys.exit('ref.py: fuzz.c stopped in the middle of a batch')
        total_bad += bad
        try:
            out.write(REPLY.pack(n, bad, refused_n))
        except BrokenPipeError:
            break           # fuzz.c had seen enough mismatches
    if args.coverage:
        print_coverage(checker.coverage)
    return 1 if total_bad else 0


if __name__ == '__main__':
    sys.exit(main())
