#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# demo.sh - tcbpf on a VM's tap in under a minute (run by `make demo`).
#
# Builds two network namespaces: tcbpf-host holds the host end vm-3-00c9
# of a veth pair, tcbpf-vm the VM's end eth0 (10.203.0.1 and 10.203.0.2).
# Measures traffic from and to the "VM" with iperf3, without and with the
# limiter, shows the ssh port's own class, changes the rate live, shows the
# settings, detaches, and deletes the namespaces again (also on ^C).
# Traffic stays between the two namespaces. Needs root.
set -u
. "$(dirname "$0")/../tests/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (network namespaces, BPF)" >&2
	exit 1
fi
if [ ! -x "$TCBPF" ]; then
	echo "demo: $TCBPF not built: make tcbpf" >&2
	exit 1
fi
for t in iperf3 bpftool nsenter; do
	command -v "$t" >/dev/null ||
		{ echo "demo: $t missing: scripts/install-deps.sh" >&2; exit 1; }
done

lib_lock || { echo "demo: cannot take $LOCK_FILE" >&2; exit 1; }
TCBPF_SHARED_PINS=1	# show the machine's pins, as an operator sees them
lib_init || exit 1
trap lib_cleanup EXIT
trap 'exit 130' INT TERM

head() { printf '\n== %s\n' "$*"; }
# cmd ARGS...: show the command (./tcbpf for the repository's binary), run it
cmd() {
	local shown=("$@")
	[ "$1" = "$TCBPF" ] && shown[0]=./${TCBPF#"$TCBPF_ROOT"/}
	printf '$ %s\n' "${shown[*]}"
	"$@"
}
# line LABEL [LIMIT_TEXT]: one measurement line from the last flow_wait
line() {
	if [ -n "$FLOW_ERR" ]; then
		printf '  %-44s failed: %s\n' "$1" "$FLOW_ERR"
	else
		printf '  %-44s %8s Mbit/s%s\n' "$1" "$(mbit "$FLOW_BPS")" "${2:+   ($2)}"
	fi
}
# tcp LABEL FROM TO ADDR [PORT]: 3 s of TCP, rate after its first second
tcp() {
	measure m 1 proto=tcp time=3 from="$2" to="$3" addr="$4" ${5:+port=$5}
	line "$1"
}
# udp LABEL FROM TO ADDR OFFERED LIMIT: 4 s UDP flood, after its first
# second; the limiter counts whole frames, so show those too
udp() {
	measure m 1 time=4 from="$2" to="$3" addr="$4" bw="$5"
	line "$1" "$(mbit "$FLOW_WIRE") with headers; limit $6"
}

head "setup: host netns $HOST_NS ($DEV $HOST_IP) <-> VM netns $VM_NS (eth0 $VM_IP)"
ns_setup 1 || { echo "demo: cannot build the namespaces" >&2; exit 1; }
echo "  all rates are what the receiver got, after the first second"

head "no limiter"
tcp "from VM (TCP)" "$VM_NS" "$HOST_NS" "$HOST_IP"
tcp "to VM (TCP)" "$HOST_NS" "$VM_NS" "$VM_IP"

head "attach with the defaults (1 Mbit/s each way; ports 22,3389: 100 Mbit/s)"
cmd "$TCBPF" -n "$HOST_NS" attach "$DEV" || exit 1
udp "from VM (UDP flood, 3 Mbit/s offered)" "$VM_NS" "$HOST_NS" "$HOST_IP" 3M 1
udp "to VM (UDP flood, 3 Mbit/s offered)" "$HOST_NS" "$VM_NS" "$VM_IP" 3M 1

head "ssh port while the default class is flooded"
flow_start flood time=4 from="$HOST_NS" to="$VM_NS" addr="$VM_IP" bw=3M
flow_start ssh proto=tcp time=4 from="$HOST_NS" to="$VM_NS" addr="$VM_IP" port=22
flow_wait ssh 1
line "to VM port 22 (TCP, allow class)" "limit 100 Mbit/s"
flow_wait flood 1
line "to VM other port (UDP flood, at the same time)" "$(mbit "$FLOW_WIRE") with headers; limit 1"

head "change the rate live"
cmd "$TCBPF" -n "$HOST_NS" change "$DEV" rate 5mbit || exit 1
udp "from VM (UDP flood, 15 Mbit/s offered)" "$VM_NS" "$HOST_NS" "$HOST_IP" 15M 5
udp "to VM (UDP flood, 15 Mbit/s offered)" "$HOST_NS" "$VM_NS" "$VM_IP" 15M 5

head "settings and counters"
cmd "$TCBPF" -n "$HOST_NS" show "$DEV"

head "the maps, as the BPF programs see them"
echo "\$ bpftool map dump pinned $PIN_DIR/tcbpf_cfg"
echo "\$ bpftool map dump pinned $PIN_DIR/tcbpf_prof"
echo "  ($DEV's entry and the profiles it points at; counters of the"
echo "  default class only, empty allowlist entries left out)"
# bpftool prints every field; keep this device's entry (not other
# namespaces' devices, on a shared machine) and the profiles it uses.
{
	bpftool -j map dump pinned "$PIN_DIR/tcbpf_cfg"
	echo
	bpftool -j map dump pinned "$PIN_DIR/tcbpf_prof"
} | "$PY" -c '
import json, sys
cfg, prof = [json.loads(l) for l in sys.stdin.read().split("\n\n") if l.strip()]
for e in cfg:
    e = e.get("formatted", e)
    dev = e["value"]
    if str(dev.get("netns_ino")) != sys.argv[1]:
        continue
    print("entry %s: ifname %s, hook %s, dirs %s" % (json.dumps(e["key"]),
          dev["ifname"], dev["hook"], dev["dirs"]))
    for d, v in enumerate(dev["dir"]):
        print("  dir %d: id %s, prof %s, flags %s, tl %s" % (d, v["id"],
              v["prof"], v["flags"], json.dumps(v["tl"])))
        print("         counters handed in: %s" % json.dumps(v["ctr"]["cls"][0]))
    for d, v in enumerate(dev["dir"]):
        p = next((x.get("formatted", x)["value"] for x in prof
                  if x.get("formatted", x)["key"] == v["prof"]), None)
        if p is None:
            continue
        p["ports"] = [q for q in p.get("ports", []) if q.get("lo") or q.get("hi")]
        for q in p["ports"]:
            q.pop("pad", None)
        p.pop("prof_pad", None)
        print("profile %s (dir %d): %s" % (v["prof"], d, json.dumps(p)))
' "$(stat -L -c %i "/run/netns/$HOST_NS")"

head "detach"
cmd "$TCBPF" -n "$HOST_NS" detach "$DEV" || exit 1
tcp "from VM (TCP)" "$VM_NS" "$HOST_NS" "$HOST_IP"

head "cleanup: namespaces deleted"
