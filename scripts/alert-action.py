#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""alert-action.py - an example alert action: clamp, change, release.

Call it from an alerting system (or by hand) with a device or a network id.
It drives tcbpf with -j and decides on tcbpf's JSON, never on scraped text.
Standard library only.

  alert-action.py [--tcbpf PATH] [-n NETNS] [--state-dir DIR] ACTION TARGET [SPEC...]

  TARGET  := DEV | net NETID
  ACTION  := alert [--bps RATE] [--pps N] [--interval SECS]
                 measure TARGET (tcbpf -j stats) and clamp the devices whose
                 offered load in either direction is over a threshold (every
                 device when no threshold is given)
           | clamp       clamp now: `tcbpf attach DEV SPEC` (attach's defaults
                         when no SPEC); remembers what each device had before
           | change      `tcbpf change DEV SPEC`, live
           | release     give each clamped device back what it had before the
                         clamp: its settings (monitor mode), or no limiter
           | status      what tcbpf has on TARGET, one JSON line per device

Every action prints one JSON line per device: {"ifname", "action",
"result", "command", ...}; exit status 0 when every step succeeded.
The state (what each device had before its clamp) is kept in
--state-dir (default /run/tcbpf-alert), one JSON file per device.
"""
import argparse
import json
import os
import re
import subprocess
import sys

RATE_UNITS = {  # tc(8) rate units -> bits/s; "bps" means BYTES per second
    "bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "tbit": 1e12,
    "bps": 8, "kbps": 8e3, "mbps": 8e6, "gbps": 8e9, "tbps": 8e12,
}


def parse_rate(text):
    m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)", text)
    if not m or m.group(2).lower() not in RATE_UNITS | {"": 1}:
        raise argparse.ArgumentTypeError("bad rate %r (e.g. 100mbit)" % text)
    return float(m.group(1)) * RATE_UNITS.get(m.group(2).lower(), 1)


class Tcbpf:
    def __init__(self, path, netns):
        self.base = [path] + (["-n", netns] if netns else [])

    def run(self, *args):
        """Run tcbpf -j ARGS; return (exit code, parsed JSON or None, argv)."""
        argv = self.base + ["-j"] + [str(a) for a in args]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if p.stderr.strip():
            sys.stderr.write(p.stderr)
        out = p.stdout.strip()
        data = None
        if out:
            try:
                data = json.loads(out)
            except ValueError:  # stats: one JSON object per line
                data = [json.loads(line) for line in out.splitlines() if line]
        return p.returncode, data, argv[len(self.base):]

    def devices(self, target):
        """The devices a TARGET names: [DEV] or those of net NETID."""
        if target[0] != "net":
            return [target[0]]
        rc, data, _ = self.run("show", "net", target[1])
        if rc != 0 or not isinstance(data, list):
            sys.exit("alert-action: no interface of network %s" % target[1])
        return [d["ifname"] for d in data]

    def show(self, dev):
        rc, data, _ = self.run("show", dev)
        if rc == 0 and isinstance(data, list) and data:
            return data[0]
        return None


def spec_of(show):
    """The SPEC that gives a device back the settings `show -j` reported."""
    spec = []
    for d in ("ingress", "egress"):
        c = show.get(d)
        if not c:
            continue
        entries = []
        for a in c["allow"]:
            ports = "%d" % a["port_min"]
            if a["port_max"] != a["port_min"]:
                ports += "-%d" % a["port_max"]
            if sorted(a["protocols"]) == ["tcp", "udp"]:  # a bare port
                entries.append(ports)
            else:
                entries += ["%s/%s" % (p, ports) for p in a["protocols"]]
        allow = ",".join(entries) or "none"
        spec += [d, "mode", c["mode"],
                 "rate", "%dbit" % c["rate_bits_per_sec"],
                 "burst", "%db" % c["burst_bytes"],
                 "pps", c["pps"] or "none",  # pps 0 is refused
                 "allow", allow,
                 "allow-rate", "%dbit" % c["allow_rate_bits_per_sec"],
                 "allow-burst", "%db" % c["allow_burst_bytes"]]
        if c["pps"]:
            spec += ["pburst", c["pburst_packets"]]
        if d == "egress" and c["mode"] == "edt":
            spec += ["delay", "%dns" % c["delay_ns"]]
    return spec


class State:
    def __init__(self, directory):
        self.dir = directory

    def path(self, dev):
        return os.path.join(self.dir, dev + ".json")

    def save(self, dev, before):
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        tmp = self.path(dev) + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"before": before}, f)
        os.replace(tmp, self.path(dev))

    def load(self, dev):
        try:
            with open(self.path(dev)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def drop(self, dev):
        try:
            os.unlink(self.path(dev))
        except OSError:
            pass


def emit(**kw):
    print(json.dumps(kw, sort_keys=True), flush=True)


def clamp(tb, state, dev, spec, why=None):
    before = tb.show(dev)
    if state.load(dev) is None:  # a second clamp keeps the first "before"
        state.save(dev, before)
    rc, _, argv = tb.run("attach", dev, *spec)
    emit(ifname=dev, action="clamp", result="ok" if rc == 0 else "failed",
         command=argv, had_limiter=before is not None, why=why)
    return rc == 0


def release(tb, state, dev):
    st = state.load(dev)
    if st is None:
        emit(ifname=dev, action="release", result="nothing-to-do",
             why="no clamp of this script on record")
        return True
    before = st["before"]
    if before is None:
        rc, _, argv = tb.run("detach", dev)
    else:
        rc, _, argv = tb.run("attach", dev, *spec_of(before))
    if rc == 0:
        state.drop(dev)
    emit(ifname=dev, action="release", result="ok" if rc == 0 else "failed",
         command=argv, restored="settings" if before else "no limiter")
    return rc == 0


def measure(tb, target, interval):
    """Offered bits/s and packets/s per device and direction (all classes)."""
    args = ["stats"] + (["net", target[1]] if target[0] == "net" else [target[0]])
    rc, lines, _ = tb.run(*args, "interval", interval, "count", 1)
    seen = {}
    for ln in lines or []:
        d = seen.setdefault(ln["ifname"], {}).setdefault(ln["dir"], [0, 0])
        d[0] += ln["seen_bits_per_sec"]
        d[1] += ln["seen_packets_per_sec"]
    return rc, seen


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tcbpf", default=os.environ.get("TCBPF", "tcbpf"))
    ap.add_argument("-n", "--netns")
    ap.add_argument("--state-dir", default="/run/tcbpf-alert")
    ap.add_argument("--bps", type=parse_rate, help="alert: bits/s threshold")
    ap.add_argument("--pps", type=float, help="alert: packets/s threshold")
    ap.add_argument("--interval", default="1", help="alert: measure for SECS")
    ap.add_argument("action", choices=["alert", "clamp", "change", "release", "status"])
    ap.add_argument("target", nargs="+", help="DEV [SPEC...] | net NETID [SPEC...]")
    a = ap.parse_args()

    tb = Tcbpf(a.tcbpf, a.netns)
    state = State(a.state_dir)
    n = 2 if a.target[0] == "net" else 1
    if len(a.target) < n:
        ap.error("net needs a NETID")
    target, spec = a.target[:n], a.target[n:]
    ok = True

    if a.action == "alert":
        over = None
        if a.bps or a.pps:
            rc, seen = measure(tb, target, a.interval)
            if rc != 0:
                sys.exit("alert-action: tcbpf stats failed (exit %d)" % rc)
            over = {}
            for dev, dirs in seen.items():
                for d, (bps, pps) in dirs.items():
                    if (a.bps and bps > a.bps) or (a.pps and pps > a.pps):
                        over[dev] = "%s %.0f bit/s %.0f pkt/s" % (d, bps, pps)
            for dev in sorted(set(seen) - set(over)):
                emit(ifname=dev, action="alert", result="under-threshold",
                     rates=seen[dev])
        for dev in tb.devices(target):
            if over is None or dev in over:
                ok &= clamp(tb, state, dev, spec,
                            why=over.get(dev) if over else "alert")
    elif a.action == "clamp":
        for dev in tb.devices(target):
            ok &= clamp(tb, state, dev, spec)
    elif a.action == "change":
        if not spec:
            ap.error("change needs a SPEC")
        for dev in tb.devices(target):
            rc, _, argv = tb.run("change", dev, *spec)
            emit(ifname=dev, action="change", result="ok" if rc == 0 else "failed",
                 command=argv)
            ok &= rc == 0
    elif a.action == "release":
        for dev in tb.devices(target):
            ok &= release(tb, state, dev)
    else:
        for dev in tb.devices(target):
            emit(ifname=dev, action="status", show=tb.show(dev),
                 clamped_by_us=state.load(dev) is not None)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
