#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""vmtool.py - small tools for tests/vm (python3 stdlib only).

  vmtool.py listen PORT...             accept and close TCP connections on
                                       PORT (IPv4 and IPv6), until killed
  vmtool.py rtt ADDR PORT N GAP [opts] N TCP connects, one every GAP s; the
                                       connect time is one round trip (SYN
                                       out, SYN-ACK back). Prints
                                       "n=N fail=F min= med= p90= max=" (ms)
  vmtool.py rtt2 ADDR1 ADDR2 PORT N GAP  the same, alternating between two
                                       addresses (a path and its control,
                                       measured over the same moments);
                                       three lines: ADDR1, ADDR2, and the
                                       pairwise differences ADDR1 - ADDR2
  vmtool.py json [--dev NAME] EXPR...  evaluate each EXPR over the JSON on
                                       stdin (as d; with --dev, d is the
                                       object whose ifname is NAME in the
                                       array of `tcbpf -j show`); one line
                                       each, empty when it fails
opts: ipopt  send with 4 bytes of IPv4 options (NOP NOP NOP EOL), which
             moves the transport header 4 bytes further
"""
import json
import selectors
import socket
import sys
import time

IPOPT = b"\x01\x01\x01\x00"


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def apply_opts(s, opts):
    for o in opts:
        if o == "ipopt":
            s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, IPOPT)
        else:
            raise SystemExit("vmtool: unknown option %s" % o)


def listen(ports):
    sel = selectors.DefaultSelector()
    for p in ports:
        s = socket.socket(socket.AF_INET6)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::", int(p)))
        s.listen(4096)
        sel.register(s, selectors.EVENT_READ)
    print("listening", " ".join(ports), flush=True)
    while True:
        for key, _ in sel.select():
            try:
                c, _ = key.fileobj.accept()
                c.close()
            except OSError:
                pass


def connect_ms(addr, port, opts):
    """One TCP connect: its time in ms, or None."""
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.settimeout(3)
    apply_opts(s, opts)
    t0 = time.perf_counter()
    try:
        s.connect((addr, port))
        return (time.perf_counter() - t0) * 1000
    except OSError:
        return None
    finally:
        s.close()


def summary(vals, fails):
    vals.sort()
    if not vals:
        print("n=0 fail=%d min=0 med=0 p90=0 max=0" % fails)
        return
    med = vals[(len(vals) - 1) // 2] if len(vals) % 2 else \
        (vals[len(vals) // 2 - 1] + vals[len(vals) // 2]) / 2
    p90 = vals[min(len(vals) - 1, int(round((len(vals) - 1) * 0.9)))]
    print("n=%d fail=%d min=%.2f med=%.2f p90=%.2f max=%.2f"
          % (len(vals), fails, vals[0], med, p90, vals[-1]))


def rtt(addrs, port, n, gap, opts):
    vals = [[] for _ in addrs]
    fails = [0 for _ in addrs]
    for _ in range(n):
        for i, a in enumerate(addrs):
            v = connect_ms(a, port, opts)
            if v is None:
                fails[i] += 1
            vals[i].append(v)
            time.sleep(gap)
    for i in range(len(addrs)):
        summary([v for v in vals[i] if v is not None], fails[i])
    if len(addrs) == 2:
        # Each pair was measured moments apart: their difference leaves
        # out what changes slowly (the load on the machine).
        summary([a - b for a, b in zip(vals[0], vals[1])
                 if a is not None and b is not None], 0)


def jsonx(exprs):
    try:
        d = json.load(sys.stdin)
    except ValueError:
        d = None
    if exprs[:1] == ["--dev"]:
        name, exprs = exprs[1], exprs[2:]
        d = next((o for o in d or [] if isinstance(o, dict)
                  and o.get("ifname") == name), None)
    for e in exprs:
        try:
            v = eval(e, {"d": d})
        except Exception:
            v = ""
        print(json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v)


def main(a):
    if not a:
        raise SystemExit(__doc__)
    cmd, a = a[0], a[1:]
    if cmd == "listen":
        listen(a)
    elif cmd == "rtt":
        rtt([a[0]], int(a[1]), int(a[2]), float(a[3]), a[4:])
    elif cmd == "rtt2":
        rtt(a[0:2], int(a[2]), int(a[3]), float(a[4]), a[5:])
    elif cmd == "json":
        jsonx(a)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
