#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""nlcorpus.py OUTDIR - seed inputs for lf_nl and lf_linkwatch: real
rtnetlink answers of this kernel, recorded byte for byte.

Run it as root inside a scratch network namespace of its own, e.g.
  ip netns add lf-seed
  ip netns exec lf-seed tests/fuzz/nlcorpus.py tests/fuzz/corpus
  ip netns del lf-seed
It creates veth pairs there, puts qdiscs on them (those this kernel has:
htb, tbf, pfifo, mq, clsact), and records the qdisc dumps, a link query,
an error with extended-ack text (capped and uncapped), link dumps and
link events, in the input format of lf_nl.c and lf_linkwatch.c. Filter
dumps are built from the recorded qdisc messages (no classifier but bpf
here): an instance, a u32 hash table, a u32 node, a bpf filter.
"""
import os
import socket
import struct
import subprocess
import sys

RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
RTM_NEWQDISC, RTM_GETQDISC, RTM_NEWTFILTER = 36, 38, 44
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLM_F_CREATE, NLM_F_EXCL = 0x400, 0x200
NETLINK_CAP_ACK, NETLINK_EXT_ACK = 10, 11
SOL_NETLINK = 270
RTMGRP_LINK = 1


def sh(*cmd):
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def ifindex(name):
    return socket.if_nametoindex(name)


class Nl:
    def __init__(self, groups=0, cap=True):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                               socket.NETLINK_ROUTE)
        self.s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        if cap:
            self.s.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        self.s.bind((0, groups))
        self.portid = self.s.getsockname()[0]
        self.seq = 100

    def send(self, typ, flags, payload):
        self.seq += 1
        msg = struct.pack('=IHHII', 16 + len(payload), typ,
                          flags | NLM_F_REQUEST, self.seq, 0) + payload
        self.s.send(msg)

    def answer(self):
        """Datagrams up to NLMSG_DONE or NLMSG_ERROR of our seq."""
        out = []
        while True:
            d = self.s.recv(65536)
            out.append(d)
            off = 0
            while off + 16 <= len(d):
                ln, typ, _, seq, _ = struct.unpack_from('=IHHII', d, off)
                if seq == self.seq and typ in (2, 3):
                    return out
                off += (ln + 3) & ~3


def attr(typ, data):
    ln = 4 + len(data)
    return struct.pack('=HH', ln, typ) + data + b'\0' * ((-ln) & 3)


def tcmsg(ifi, handle=0, parent=0):
    return struct.pack('=BxxxiIII', 0, ifi, handle, parent, 0)


def ifinfo(ifi=0):
    return struct.pack('=BxHiII', 0, 0, ifi, 0, 0)


def frames(dgrams):
    return b''.join(struct.pack('=H', len(d)) + d for d in dgrams)


def nl_input(mode, ifi, dgrams):
    return bytes([mode]) + struct.pack('=I', ifi) + frames(dgrams)


def lw_input(flags, seq, portid, dgrams):
    return bytes([flags]) + struct.pack('=II', seq, portid) + frames(dgrams)


def save(outdir, target, name, data):
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def qdisc_dump(nl):
    nl.send(RTM_GETQDISC, NLM_F_DUMP, tcmsg(0))
    return nl.answer()


def messages(dgrams):
    for d in dgrams:
        off = 0
        while off + 16 <= len(d):
            ln = struct.unpack_from('=I', d, off)[0]
            yield d[off:off + ln]
            off += (ln + 3) & ~3


def filter_msg(seq, ifi, handle, kind):
    body = tcmsg(ifi, handle, 0xfffffff2) + attr(1, kind + b'\0') + \
        attr(11, struct.pack('=I', 0))
    return struct.pack('=IHHII', 16 + len(body), RTM_NEWTFILTER, 2, seq,
                       0) + body


def main():
    outdir = sys.argv[1]
    sh('ip', 'link', 'add', 'v0', 'numtxqueues', '4', 'type', 'veth',
       'peer', 'v1')
    sh('ip', 'link', 'add', 'v2', 'type', 'veth', 'peer', 'v3')
    for dev in ('v0', 'v1', 'v2', 'v3'):
        sh('ip', 'link', 'set', dev, 'up')
    sh('tc', 'qdisc', 'add', 'dev', 'v0', 'clsact')
    nl = Nl()
    v0, v2 = ifindex('v0'), ifindex('v2')
    roots = [
        ('mq', ['mq']),
        ('htb', ['htb', 'default', '1']),
        ('tbf', ['tbf', 'rate', '1mbit', 'burst', '10k', 'latency', '50ms']),
        ('tbf_stab', ['stab', 'overhead', '20', 'linklayer', 'ethernet',
                      'tbf', 'rate', '5mbit', 'burst', '20k', 'limit', '30k']),
        ('pfifo', ['pfifo', 'limit', '500']),
    ]
    for name, args in roots:
        sh('tc', 'qdisc', 'replace', 'dev', 'v2', 'root', *args)
        d = qdisc_dump(nl)
        save(outdir, 'nl', 'qdisc_dump_' + name, nl_input(4, v2, d))
    save(outdir, 'nl', 'qdisc_dump_clsact', nl_input(4, v0, qdisc_dump(nl)))
    save(outdir, 'nl', 'qdisc_dump_seq_checked',
         nl_input(4 | 8, v0, qdisc_dump(nl)))
    # one link, with NUM_TX_QUEUES, and its ack
    nl.send(RTM_GETLINK, NLM_F_ACK, ifinfo(v0))
    save(outdir, 'nl', 'link_v0', nl_input(2, v0, nl.answer()))
    # errors with the kernel's text, capped and uncapped
    bad = tcmsg(v2, 0x7cbf0000, 0xffffffff) + attr(1, b'nosuchqdisc\0')
    nl.send(RTM_NEWQDISC, NLM_F_ACK | NLM_F_CREATE, bad)
    save(outdir, 'nl', 'extack_capped', nl_input(3, v2, nl.answer()))
    un = Nl(cap=False)
    un.send(RTM_NEWQDISC, NLM_F_ACK | NLM_F_CREATE, bad)
    save(outdir, 'nl', 'extack_uncapped', nl_input(3, v2, un.answer()))
    un.send(RTM_GETLINK, NLM_F_ACK, ifinfo(999999))
    save(outdir, 'nl', 'error_nodev', nl_input(2, 999999, un.answer()))
    # filter dumps from kinds the fuzzer then mutates
    fl = [filter_msg(nl.seq, v0, h, k) for h, k in
          ((0, b'bpf'), (1, b'bpf'), (0x80000000, b'u32'),
           (0x80000800, b'u32'), (0x800, b'u32'))]
    done = struct.pack('=IHHIIi', 20, 3, 2, nl.seq, 0, 0)
    save(outdir, 'nl', 'filter_dump', nl_input(1 | 4, v0,
                                              [b''.join(fl), done]))
    # linkwatch: a dump, then events
    lw = Nl(groups=RTMGRP_LINK)
    lw.send(RTM_GETLINK, NLM_F_DUMP, ifinfo())
    save(outdir, 'linkwatch', 'dump',
         lw_input(0, lw.seq, lw.portid, lw.answer()))
    sh('ip', 'link', 'set', 'v1', 'down')
    sh('ip', 'link', 'add', 'v4', 'type', 'veth', 'peer', 'v5')
    sh('ip', 'link', 'set', 'v4', 'name', 'tap-renamed')
    sh('ip', 'link', 'del', 'tap-renamed')
    lw.s.settimeout(0.5)
    ev = []
    try:
        while True:
            ev.append(lw.s.recv(65536))
    except socket.timeout:
        pass
    save(outdir, 'linkwatch', 'events',
         lw_input(0, lw.seq, lw.portid, ev[:16]))
    save(outdir, 'linkwatch', 'events_refused',
         lw_input(1, lw.seq, lw.portid, ev[:16]))
    for i, d in enumerate(ev[:6]):
        save(outdir, 'linkwatch', 'event_%d' % i,
             lw_input(0, lw.seq, lw.portid, [d]))


if __name__ == '__main__':
    main()
