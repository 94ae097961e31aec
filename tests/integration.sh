#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/integration.sh - tcbpf with real traffic between network namespaces.
#
#   tests/integration.sh [test_name...]    default: every test_* below
#   V=1                                    show the tcbpf commands
#
# Needs root (prints SKIP for every test otherwise) and ./tcbpf built in the
# repository root; runs a copy of it, so that a rebuild during the run
# cannot swap the binary between two steps of a test. Builds the namespaces of tests/lib.sh (tcbpf-host with
# vm-3-00c9 and vm-4-00c9, VMs tcbpf-vm and tcbpf-vm2; tcbpf-host2 for one
# test), sends iperf3 traffic only between them, and deletes them on exit.
# Prints "PASS: name", "FAIL: name: why", "SKIP: name: why" per result and
# "  # ..." lines with what it measured; exits 1 if anything failed.
#
# Stale state from an interrupted run: the namespaces are deleted (after
# `tcbpf detach` on their devices, while they still exist). The pins are
# this run's own (tests/lib.sh's lib_init: a private TCBPF_PIN_DIR), and a
# killed run's private pin directory is removed by the next lib_init.
#
# Rates: the limiter counts frames (Ethernet + IP + L4 + payload), iperf3
# reports payload; results compare the frame rate ("on the wire") with the
# configured rate. Measurements run 3-4 s and leave out the first second,
# where the bucket's burst and TCP's slow start distort the rate; the burst
# is set explicitly to 100 ms of the rate (see burst_for).
set -u
. "$(dirname "$0")/lib.sh"

PCT=10			# rate tolerance, percent

TESTS=(
	test_spec_json
	test_udp_rate
	test_direction
	test_tcp_rate
	test_allowlist
	test_allowlist_vm_side
	test_arp_nd_allowed
	test_pps
	test_pps_tcp
	test_ipv6
	test_change
	test_two_devices
	test_detach
	test_hooks
	test_foreign_clsact
	test_qdisc_tree_kept
	test_bad_input
	test_concurrent_attach
	test_same_ifindex_other_netns
)

# ------------------------------------------------------------------ helpers

have_tcx() {
	local v maj min
	v=$(uname -r)
	maj=${v%%.*}
	min=${v#*.}
	min=${min%%[!0-9]*}
	[ "$maj" -gt 6 ] || { [ "$maj" -eq 6 ] && [ "$min" -ge 6 ]; }
}

# burst_for RATE_BITS: 100 ms of the rate in bytes, at least 3 full frames.
# Small enough not to matter once the first second is left out; large
# enough that the receiving side, starved of CPU for tens of milliseconds
# on a loaded 2-core machine, does not lose tokens while it waits (the
# bucket stops filling when full, so a burst of 10 ms made the measured
# rates up to 15% low under load).
burst_for() { calc "($1 * 0.1 / 8 > 4536) ? $1 * 0.1 / 8 : 4536"; }
# send_for RATE_BITS: iperf3 -b for a flood: 3x the rate, 2.5x from 50 Mbit/s.
send_for() { calc "($1 >= 50000000) ? $1 * 2.5 : $1 * 3"; }

# tb_try ARGS...: run tcbpf; TB_RC, TB_OUT, TB_ERR.
tb_try() {
	TB_OUT=$(tb "$@" 2>"$WORK/tb.err")
	TB_RC=$?
	TB_ERR=$(tr '\n' ' ' <"$WORK/tb.err")
}

# setup DEV CMD SPEC...: "tcbpf CMD DEV SPEC..." before a group of results;
# on failure SETUP_ERR says why (each result of the group reports it).
setup() {
	local dev=$1 cmd=$2
	shift 2
	tb_try "$cmd" "$dev" "$@"
	SETUP_ERR=
	[ "$TB_RC" -eq 0 ] ||
		SETUP_ERR="tcbpf $cmd $dev $* exited $TB_RC: $TB_ERR"
	[ -z "$SETUP_ERR" ]
}
# setup_failed: at the top of a result: report the setup error, if any.
setup_failed() {
	[ -n "$SETUP_ERR" ] || return 1
	res_bad "$SETUP_ERR"
	return 0
}

ifindex_of() { # NS DEV
	case $1:$2 in
	"$HOST_NS:$DEV") echo "$DEV_IFX" ;;	# set by ns_setup
	"$HOST_NS:$DEV2") echo "$DEV2_IFX" ;;
	*) ip -n "$1" -j link show dev "$2" 2>/dev/null | jget 'd[0]["ifindex"]' ;;
	esac
}

# devj DEV: DEVJ = this device's object of `tcbpf -j show DEV` ("" if none)
devj() {
	DEVJ=$(tb -j show "$1" 2>/dev/null | py -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception:
    sys.exit(0)
for o in d if isinstance(d, list) else []:
    if o.get("ifname") == sys.argv[1] and str(o.get("ifindex")) == sys.argv[2]:
        print(json.dumps(o))
' "$1" "$(ifindex_of "$HOST_NS" "$1")")
}
# dget EXPR: EXPR over DEVJ (as d), e.g. dget 'd["ingress"]["pps"]'
dget() { jget "$1" <<<"$DEVJ"; }

# list_ours: `tcbpf -j list` entries of our devices, as "ifname:hook" lines
# (other namespaces' devices, on a shared machine, are left out).
list_ours() {
	tb -j list 2>/dev/null | py -c '
import json, sys
ours = {sys.argv[1]: sys.argv[2], sys.argv[3]: sys.argv[4]}
for o in json.load(sys.stdin):
    if str(o.get("ifindex")) == ours.get(o.get("ifname")):
        print("%s:%s" % (o["ifname"], o.get("hook")))
' "$DEV" "$DEV_IFX" "$DEV2" "$DEV2_IFX" | sort | tr '\n' ' '
}

tc_filters() { tc -n "$HOST_NS" filter show dev "$1" "$2" 2>&1; }
has_clsact() { tc -n "$HOST_NS" qdisc show dev "$1" | grep -q '^qdisc clsact'; }

# cfg_entries: "ifindex dir netns_ino" per entry of the pinned settings map
cfg_entries() {
	[ -e "$PIN_DIR/tcbpf_cfg" ] || return 0
	bpftool -j map dump pinned "$PIN_DIR/tcbpf_cfg" 2>/dev/null | py -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception:
    sys.exit(1)
if not isinstance(d, list):
    sys.exit(1)		# {"error": ...}
for e in d:
    e = e.get("formatted", e)
    k, v = e.get("key"), e.get("value")
    if not isinstance(k, dict) or not isinstance(v, dict):
        continue
    for d, c in enumerate(v.get("dir", [])):	# one entry per device
        if v.get("dirs", 0) >> d & 1:
            print(k.get("ifindex"), d, c.get("netns_ino"))
'
}

netns_ino() { stat -L -c %i "/run/netns/$1" 2>/dev/null; }

# pinned_ids [IFINDEX...]: the pinned maps, the programs of $HOST_NS
# (ns/COOKIE/), and the pinned links whose names hold one of IFINDEX
# (links/COOKIE_IFINDEX_DIR; a shared machine may hold hundreds of other
# devices' links), as "kind path id"
pinned_ids() {
	[ -d "$PIN_DIR" ] || return 0
	py -n -c '
import json, os, re, subprocess, sys
root, cookie, ifx = sys.argv[1], sys.argv[2], sys.argv[3:]
paths = [os.path.join(root, f) for f in sorted(os.listdir(root))]
nsdir = os.path.join(root, "ns", cookie)
if os.path.isdir(nsdir):
    paths += [os.path.join(nsdir, f) for f in sorted(os.listdir(nsdir))]
try:
    links = sorted(os.listdir(os.path.join(root, "links")))
except OSError:
    links = []
paths += [os.path.join(root, "links", f) for f in links
          if any(re.search(r"(^|\D)%s(\D|$)" % i, f) for i in ifx)]
for p in paths:
    if not os.path.isfile(p):
        continue
    for kind in ("prog", "link", "map"):
        r = subprocess.run(["bpftool", "-j", kind, "show", "pinned", p],
                           capture_output=True, text=True)
        if r.returncode == 0:
            try:
                print(kind, os.path.relpath(p, root), json.loads(r.stdout)["id"])
            except (ValueError, KeyError):
                continue
            break
' "$PIN_DIR" "$(ns_cookie "$HOST_NS")" "$@"
}
# our_pins: the shared programs and maps, and our devices' links
our_pins() { pinned_ids "$DEV_IFX" "$DEV2_IFX"; }
# link_ids IFINDEX: ids of the pinned links whose name has IFINDEX in it
# (links/IFINDEX_DIR today); other namespaces' links share the directory.
link_ids() {
	pinned_ids "$1" | awk '$1 == "link" { print $3 }' | sort
}
all_link_ids() { bpftool -j link show 2>/dev/null | jget '" ".join(str(l["id"]) for l in d)'; }
prog_exists() { bpftool prog show id "$1" >/dev/null 2>&1; }

# pins_clean: after our last detach: no settings entry of ours is left and,
# unless someone else's limiters share it, no pin directory at all.
pins_clean() {
	local mine=$(netns_ino "$HOST_NS") n_ours n_other entries i
	# Other users of the machine may be creating or removing the
	# directory right now: look again a few times before judging.
	for i in 1 2 3 4 5; do
		[ -d "$PIN_DIR" ] || return 0
		if entries=$(cfg_entries); then
			n_ours=$(awk -v ns="$mine" '$3 == ns' <<<"$entries" | grep -c .)
			n_other=$(awk -v ns="$mine" '$3 != ns' <<<"$entries" | grep -c .)
			if [ "$n_ours" -gt 0 ]; then
				PINS_WHY="$n_ours settings entries of ours left in $PIN_DIR/tcbpf_cfg"
				return 1
			fi
			if [ "$n_other" -gt 0 ]; then
				note "$PIN_DIR kept: $n_other settings entries of other namespaces (not ours)"
				return 0
			fi
		fi
		sleep 0.3
	done
	PINS_WHY="$PIN_DIR still there with no settings in it: $(ls -R "$PIN_DIR" 2>&1 | tr '\n' ' ')"
	return 1
}

# state: what a refused command must not change (settings without counters,
# our list entries, pins, tc filters and qdiscs of both devices)
state() {
	local d dir
	for d in "$DEV" "$DEV2"; do
		echo "== $d"
		devj "$d"
		[ -n "$DEVJ" ] && dget '{k: {kk: vv for kk, vv in v.items() if kk != "classes"} if isinstance(v, dict) else v for k, v in d.items()}'
		for dir in ingress egress; do
			tc_filters "$d" "$dir"
		done
		tc -n "$HOST_NS" qdisc show dev "$d"
	done
	echo "== list: $(list_ours)"
	our_pins
	cfg_entries | awk -v ns="$(netns_ino "$HOST_NS")" '$3 == ns' | sort
}

# Floods used by several tests (udp, 4 s by default). Floods in opposite
# directions run one after the other: iperf3's control connection of one
# would have to get through the other's flooded bucket.
from_vm() { # NAME BW [more flow_start args]
	local name=$1 bw=$2
	shift 2
	flow_start "$name" from="$VM_NS" to="$HOST_NS" addr="$HOST_IP" bw="$bw" "$@"
}
to_vm() {
	local name=$1 bw=$2
	shift 2
	flow_start "$name" from="$HOST_NS" to="$VM_NS" addr="$VM_IP" bw="$bw" "$@"
}

# ctr DEV DIR: passed bytes of the default class (for ctr_bps)
ctr() {
	devj "$1"
	dget "d['$2']['classes']['default']['passed_bytes']"
}
# ctr_bps BEFORE AFTER SECS: CTR_BPS, the rate the limiter passed
ctr_bps() {
	CTR_BPS=
	[ -n "$1" ] && [ -n "$2" ] && CTR_BPS=$(calc "($2 - $1) * 8 / $3")
}

# check_rate LABEL RATE_BITS [PCT]: after flow_wait, the frame rate within
# PCT% of RATE; SKIP when the sender could not even offer 1.3x the rate.
check_rate() {
	local label=$1 rate=$2 pct=${3:-$PCT}
	note "$(flow_line "$label") [limit $(mbit "$rate")]"
	if [ -n "$FLOW_ERR" ]; then
		res_bad "$label: iperf3 failed: $FLOW_ERR"
		return 1
	fi
	if ! ge "$FLOW_SENT" "$(calc "$rate * 1.3")"; then
		res_skip "$label: the sender reached only $(mbit "$FLOW_SENT") Mbit/s, too little to load a $(mbit "$rate") Mbit/s limit"
		return 1
	fi
	within "$FLOW_WIRE" "$rate" "$pct" && return 0
	# Short because the receiving socket overflowed (a loaded machine)?
	# Then the measurement says nothing about the limiter.
	if [ "$FLOW_RCVBUF" -gt 0 ] &&
	   within "$(calc "$FLOW_WIRE + $FLOW_LOSTBPS")" "$rate" "$pct"; then
		res_skip "$label: $(mbit "$FLOW_WIRE") Mbit/s received, but the receiving socket dropped $FLOW_RCVBUF datagrams ($(mbit "$FLOW_LOSTBPS") Mbit/s): machine too loaded to tell"
		return 1
	fi
	# Short, while the limiter's own counters say it passed the rate:
	# lost after the limiter (veth backlog, socket) on a loaded machine.
	if [ -n "${CTR_BPS:-}" ] && le "$FLOW_WIRE" "$rate" &&
	   within "$CTR_BPS" "$rate" "$pct"; then
		res_skip "$label: $(mbit "$FLOW_WIRE") Mbit/s received, but the limiter passed $(mbit "$CTR_BPS") Mbit/s (its counters): lost after it, machine too loaded to tell"
		return 1
	fi
	res_bad "$label: $(mbit "$FLOW_WIRE") Mbit/s on the wire, want $(mbit "$rate") +-$pct%"
	return 1
}

# check_min LABEL MIN_BITS: after flow_wait, payload rate >= MIN
check_min() {
	local label=$1 min=$2
	note "$(flow_line "$label") [want >= $(mbit "$min")]"
	if [ -n "$FLOW_ERR" ]; then
		res_bad "$label: iperf3 failed: $FLOW_ERR"
		return 1
	fi
	ge "$FLOW_BPS" "$min" && return 0
	res_bad "$label: $(mbit "$FLOW_BPS") Mbit/s, want >= $(mbit "$min")"
	return 1
}

# expect FIELD_EXPR WANT: one JSON check on DEVJ
expect() {
	local got
	got=$(dget "$1")
	[ "$got" = "$2" ] && return 0
	res_bad "$1 = ${got:-<missing>}, want $2"
	return 1
}

reset_devices() {
	tb_detach_all
}

# -------------------------------------------------------------------- tests

# Defaults, units and direction words as `show -j` reports them.
test_spec_json() {
	local hook=tc dir allow22
	have_tcx && hook=tcx
	allow22='[{"port_max": 22, "port_min": 22, "protocols": ["tcp", "udp"]}, {"port_max": 3389, "port_min": 3389, "protocols": ["tcp", "udp"]}]'

	res_begin spec_defaults
	if ! setup "$DEV" attach; then
		setup_failed
	else
		devj "$DEV"
		expect 'd["hook"]' "$hook"
		# To the VM tcbpf paces (edt) where the kernel has fq and says
		# so; without fq it polices and the 400 ms delay is not enforced.
		local egmode=police egdelay=False
		if [ "$(dget 'd["egress"]["qdisc"]')" = fq ]; then
			egmode=edt egdelay=True
		fi
		for dir in ingress egress; do
			if [ "$dir" = egress ]; then
				expect "d['$dir']['mode']" "$egmode"
				expect "d['$dir']['delay_enforced']" "$egdelay"
				expect "d['$dir']['delay_ns']" 400000000
			else
				expect "d['$dir']['mode']" police
				expect "d['$dir']['delay_enforced']" False
			fi
			expect "d['$dir']['rate_bits_per_sec']" 1000000
			expect "d['$dir']['burst_bytes']" 153600
			expect "d['$dir']['pps']" 0
			expect "d['$dir']['pburst_packets']" 0
			expect "d['$dir']['allow']" "$allow22"
			expect "d['$dir']['allow_rate_bits_per_sec']" 100000000
			expect "d['$dir']['allow_burst_bytes']" 13107200
			expect "int(d['$dir']['prog_id']) > 0" True
			expect "sorted(d['$dir']['classes'])" '["allow", "default"]'
			expect "{'passed_packets', 'passed_bytes', 'dropped_packets', 'dropped_bytes'} <= set(d['$dir']['classes']['allow']) & set(d['$dir']['classes']['default'])" True
		done
	fi
	res_end

	res_begin list_json
	local l
	l=$(list_ours)
	[ "$l" = "$DEV:$hook " ] || res_bad "list -j (our devices): '$l', want '$DEV:$hook'"
	res_end

	res_begin show_text
	tb_try show "$DEV"
	[ "$TB_RC" -eq 0 ] || res_bad "show $DEV exited $TB_RC: $TB_ERR"
	grep -q "$DEV" <<<"$TB_OUT" || res_bad "show $DEV does not name the device: $TB_OUT"
	res_end

	# bps is BYTES per second; kb is kilobytes (1024), kbit is 128 bytes.
	res_begin units_json
	if setup "$DEV" attach rate 1250kbps burst 64kb allow-rate 2mbit \
		allow-burst 10kbit pps 300 pburst 30; then
		devj "$DEV"
		for dir in ingress egress; do
			expect "d['$dir']['rate_bits_per_sec']" 10000000
			expect "d['$dir']['burst_bytes']" 65536
			expect "d['$dir']['allow_rate_bits_per_sec']" 2000000
			expect "d['$dir']['allow_burst_bytes']" 1280
			expect "d['$dir']['pps']" 300
			expect "d['$dir']['pburst_packets']" 30
		done
	else
		setup_failed
	fi
	res_end

	# attach on an attached device replaces the settings: what the new
	# SPEC does not give is back to its default (contrast: change).
	res_begin attach_replaces
	if setup "$DEV" attach rate 5mbit; then
		devj "$DEV"
		for dir in ingress egress; do
			expect "d['$dir']['rate_bits_per_sec']" 5000000
			expect "d['$dir']['burst_bytes']" 153600
			expect "d['$dir']['pps']" 0
			expect "d['$dir']['allow_rate_bits_per_sec']" 100000000
		done
	else
		setup_failed
	fi
	res_end

	res_begin direction_keys_json
	if setup "$DEV" attach rate 3mbit egress rate 7mbit burst 10k; then
		devj "$DEV"
		expect "d['ingress']['rate_bits_per_sec']" 3000000
		expect "d['ingress']['burst_bytes']" 153600
		expect "d['egress']['rate_bits_per_sec']" 7000000
		expect "d['egress']['burst_bytes']" 10240
	else
		setup_failed
	fi
	res_end

	res_begin allow_ports_json
	if setup "$DEV" attach allow 80,1000-2000; then
		devj "$DEV"
		expect "d['ingress']['allow']" '[{"port_max": 80, "port_min": 80, "protocols": ["tcp", "udp"]}, {"port_max": 2000, "port_min": 1000, "protocols": ["tcp", "udp"]}]'
		expect "d['egress']['allow'] == d['ingress']['allow']" True
	else
		setup_failed
	fi
	res_end
	tb detach "$DEV" >/dev/null 2>&1
}

# UDP floods held at 1, 10 and 100 Mbit/s, from and to the VM.
test_udp_rate() {
	local r rate bw c0
	for r in 1 10 100; do
		rate=$((r * 1000000))
		bw=$(send_for "$rate")
		setup "$DEV" attach rate "${r}mbit" burst "$(burst_for "$rate")"

		# The limiter's counters over the whole 4 s flow (its burst:
		# +2.5%) tell losses after it from its own shortfalls.
		res_begin "udp_rate_from_vm_${r}mbit"
		if ! setup_failed; then
			c0=$(ctr "$DEV" ingress)
			from_vm f "$bw"
			flow_wait f 1
			ctr_bps "$c0" "$(ctr "$DEV" ingress)" 4
			check_rate "from VM ${r}mbit" "$rate"
			note "limiter passed $(mbit "$CTR_BPS") Mbit/s (counters, 4 s)"
		fi
		res_end

		res_begin "udp_rate_to_vm_${r}mbit"
		if ! setup_failed; then
			c0=$(ctr "$DEV" egress)
			to_vm t "$bw"
			flow_wait t 1
			ctr_bps "$c0" "$(ctr "$DEV" egress)" 4
			check_rate "to VM ${r}mbit" "$rate"
			note "limiter passed $(mbit "$CTR_BPS") Mbit/s (counters, 4 s)"
		fi
		res_end
		CTR_BPS=
		tb detach "$DEV" >/dev/null 2>&1
	done
}

# Different limits per direction land on the right direction: ingress is
# FROM the VM, egress TO the VM (both flows at once).
test_direction() {
	res_begin direction_ingress_is_from_vm
	if setup "$DEV" attach ingress rate 2mbit burst 25000 egress rate 6mbit burst 75000; then
		from_vm f 6M
		flow_wait f 1
		check_rate "from VM (ingress 2mbit)" 2000000
		to_vm t 18M
		flow_wait t 1
		check_rate "to VM (egress 6mbit)" 6000000
	else
		setup_failed
	fi
	res_end
	tb detach "$DEV" >/dev/null 2>&1
}

# TCP through a 10 Mbit/s policer. Policing makes TCP saw-tooth, and a
# burst much below a second's worth of rate starves it: measured here, the
# default 1200kbit (120 ms at 10 Mbit/s) gives TCP only ~55% of the rate.
# So the test gives the 0.5 s burst that OVS/Neutron advise for TCP and
# measures 4 s after the first 2 (when that burst is spent): goodput must
# stay <= rate +10% and keep >= 70% of it (a collapse, e.g. GSO packets
# larger than the bucket being dropped every time, shows as far less).
tcp_case() { # RESULT LABEL PORT flow args...
	local res=$1 label=$2 rate=10000000
	shift 2
	res_begin "$res"
	if ! setup_failed; then
		measure f 2 proto=tcp time=6 "$@"
		note "$(flow_line "$label") [limit 10.00, goodput $(calc "$FLOW_BPS * 100 / $rate")%]"
		if [ -n "$FLOW_ERR" ]; then
			res_bad "iperf3 failed: $FLOW_ERR"
		else
			le "$FLOW_BPS" "$(calc "$rate * 1.1")" || res_bad "goodput $(mbit "$FLOW_BPS") > 11 Mbit/s"
			ge "$FLOW_BPS" "$(calc "$rate * 0.7")" || res_bad "goodput $(mbit "$FLOW_BPS") < 7 Mbit/s"
		fi
	fi
	res_end
}
# (No added delay to the VM: where fq paces, a host-local TCP sender would
# be held back by TCP small queues behind a 400 ms delay; README.)
test_tcp_rate() {
	setup "$DEV" attach rate 10mbit burst 5mbit egress delay 0
	tcp_case tcp_rate_from_vm "TCP from VM" from="$VM_NS" to="$HOST_NS" addr="$HOST_IP"
	tcp_case tcp_rate_to_vm "TCP to VM" from="$HOST_NS" to="$VM_NS" addr="$VM_IP"
	tb detach "$DEV" >/dev/null 2>&1
}

# Port 22 keeps its own bucket while the default class is flooded. The VM's
# side of the port counts: TO the VM its destination port, FROM the VM its
# source port (the VM's server answering from port 22: the iperf3 server
# runs in the VM on port 22 and the host's client uses -R).
ALLOW_SPEC=(rate 2mbit burst 25000 allow-rate 20mbit allow-burst 10mbit)
test_allowlist() {
	local def=2000000 allow=20000000
	setup "$DEV" attach "${ALLOW_SPEC[@]}"

	res_begin allowlist_to_vm_udp
	if ! setup_failed; then
		to_vm flood 6M
		to_vm ssh 40M port=22
		flow_wait flood 1
		check_rate "to VM default class (flooded)" "$def"
		flow_wait ssh 1
		check_rate "to VM UDP dport 22 (allow class)" "$allow"
	fi
	res_end

	res_begin allowlist_to_vm_tcp
	if ! setup_failed; then
		to_vm flood 6M
		flow_start ssh proto=tcp from="$HOST_NS" to="$VM_NS" addr="$VM_IP" port=22
		flow_wait flood 1
		check_rate "to VM default class (flooded)" "$def"
		flow_wait ssh 1
		check_min "to VM TCP dport 22 (allow class)" "$(calc "$allow * 0.5")" &&
			{ le "$FLOW_BPS" "$(calc "$allow * 1.1")" || res_bad "TCP to port 22 $(mbit "$FLOW_BPS") Mbit/s > allow-rate +10%"; }
	fi
	res_end

	res_begin allowlist_from_vm_udp
	if ! setup_failed; then
		from_vm flood 6M
		flow_start ssh from="$VM_NS" to="$HOST_NS" addr="$VM_IP" port=22 bw=40M server=from
		flow_wait flood 1
		check_rate "from VM default class (flooded)" "$def"
		flow_wait ssh 1
		check_rate "from VM UDP sport 22 (allow class)" "$allow"
	fi
	res_end

	res_begin allowlist_from_vm_tcp
	if ! setup_failed; then
		from_vm flood 6M
		flow_start ssh proto=tcp from="$VM_NS" to="$HOST_NS" addr="$VM_IP" port=22 server=from
		flow_wait flood 1
		check_rate "from VM default class (flooded)" "$def"
		flow_wait ssh 1
		check_min "from VM TCP sport 22 (allow class)" "$(calc "$allow * 0.5")" &&
			{ le "$FLOW_BPS" "$(calc "$allow * 1.1")" || res_bad "TCP from port 22 $(mbit "$FLOW_BPS") Mbit/s > allow-rate +10%"; }
	fi
	res_end
	tb detach "$DEV" >/dev/null 2>&1
}

# The other side's port does not count: FROM the VM to the host's port 22,
# and TO the VM from the host's port 3389, stay in the default class.
test_allowlist_vm_side() {
	res_begin allowlist_ignores_host_side_port
	if setup "$DEV" attach "${ALLOW_SPEC[@]}"; then
		# VM -> host:22 (dport 22 from the VM)
		from_vm a 40M port=22
		# host:3389 -> VM (sport 3389 to the VM): server on the host, -R
		flow_start b from="$HOST_NS" to="$VM_NS" addr="$HOST_IP" port=3389 bw=40M server=from
		flow_wait a 1
		check_rate "from VM to host port 22 (default class)" 2000000
		flow_wait b 1
		check_rate "to VM from host port 3389 (default class)" 2000000
	else
		setup_failed
	fi
	res_end
	tb detach "$DEV" >/dev/null 2>&1
}

# pps 1000 pburst 100 on 64-byte UDP datagrams (~9800 pkt/s offered), with
# a byte rate far above; the counters must agree with what was received.
test_pps() {
	local before after c
	setup "$DEV" attach rate 1gbit burst 1mb pps 1000 pburst 100
	devj "$DEV"
	before=$DEVJ

	res_begin pps_limit
	if ! setup_failed; then
		from_vm f 5M len=64
		flow_wait f 1
		note "$(flow_line "from VM 64-byte UDP") [limit 1000 pkt/s]"
		if [ -n "$FLOW_ERR" ]; then
			res_bad "from VM: iperf3 failed: $FLOW_ERR"
		else
			within "$FLOW_PPS" 1000 "$PCT" || res_bad "from VM: $FLOW_PPS pkt/s, want 1000 +-$PCT%"
		fi
		local rx_from=$FLOW_PPS tx_from=$FLOW_SENT
		devj "$DEV"
		after=$DEVJ
		to_vm t 5M len=64
		flow_wait t 1
		note "$(flow_line "to VM 64-byte UDP") [limit 1000 pkt/s]"
		if [ -n "$FLOW_ERR" ]; then
			res_bad "to VM: iperf3 failed: $FLOW_ERR"
		else
			within "$FLOW_PPS" 1000 "$PCT" || res_bad "to VM: $FLOW_PPS pkt/s, want 1000 +-$PCT%"
		fi
	fi
	res_end

	# In the 4 s from-VM flood the ingress default class passes ~4000 +
	# pburst packets (plus a few of iperf3's control connection) and drops
	# the rest.
	res_begin pps_counters
	if ! setup_failed; then
		c=$(py -n -c '
import json, sys
b, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def delta(dir, key):
    return a[dir]["classes"]["default"][key] - b[dir]["classes"]["default"][key]
print(delta("ingress", "passed_packets"), delta("ingress", "dropped_packets"))
' "$before" "$after" 2>/dev/null)
		local passed=${c% *} dropped=${c#* }
		local sent=$(calc "$tx_from * 4 / 8 / 64")
		note "ingress counters: passed $passed dropped $dropped packets; iperf3 sent ~$sent"
		if [ -z "$c" ]; then
			res_bad "no counters in show -j"
		else
			within "$passed" 4100 15 || res_bad "ingress passed_packets +$passed, want ~4100 (4 s x 1000 + 100) +-15%"
			within "$((passed + dropped))" "$sent" 10 || res_bad "passed + dropped = $((passed + dropped)), iperf3 sent ~$sent"
		fi
	fi
	res_end
	tb detach "$DEV" >/dev/null 2>&1
}

# ARP and IPv6 neighbour discovery are in the allow class: with the
# default class of traffic FROM the VM flooded, the VM still resolves the
# host (IPv4 and IPv6), and the ingress allow counters see the requests.
test_arp_nd_allowed() {
	local a0 a1 n4 n6
	res_begin arp_nd_allowed
	if setup "$DEV" attach rate 1mbit burst 4536; then
		devj "$DEV"
		a0=$(dget 'd["ingress"]["classes"]["allow"]["passed_packets"]')
		from_vm f 10M time=5
		sleep 1.5
		ns_run "$VM_NS" ip -4 neigh flush dev eth0
		ns_run "$VM_NS" ip -6 neigh flush dev eth0
		ns_run "$VM_NS" ping -c2 -i0.5 -W1 -q "$HOST_IP" >/dev/null 2>&1
		ns_run "$VM_NS" ping -6 -c2 -i0.5 -W1 -q "$HOST_IP6" >/dev/null 2>&1
		n4=$(ns_run "$VM_NS" ip -4 neigh show dev eth0 "$HOST_IP")
		n6=$(ns_run "$VM_NS" ip -6 neigh show dev eth0 "$HOST_IP6")
		flow_wait f 1
		check_rate "from VM default class (flooded)" 1000000
		devj "$DEV"
		a1=$(dget 'd["ingress"]["classes"]["allow"]["passed_packets"]')
		note "VM's neighbours: '$n4' '$n6'; ingress allow class passed $((a1 - a0)) packets"
		grep -qE 'lladdr .*(REACHABLE|STALE|DELAY|PROBE)' <<<"$n4" ||
			res_bad "VM did not resolve $HOST_IP: '$n4'"
		grep -qE 'lladdr .*(REACHABLE|STALE|DELAY|PROBE)' <<<"$n6" ||
			res_bad "VM did not resolve $HOST_IP6: '$n6'"
		[ "$((a1 - a0))" -ge 2 ] ||
			res_bad "ingress allow class passed $((a1 - a0)) packets, want >= 2 (ARP request, neighbour solicitation)"
	else
		setup_failed
	fi
	res_end
	tb detach "$DEV" >/dev/null 2>&1
}

# pps counts packets on the wire: a TCP sender's GSO packet (up to 64 KB,
# ~45 segments) leaves the VM's tap as that many packets, so the segments
# per second must stay at pps (+10%, + pburst over the window). Segments
# are estimated from the goodput as full-MSS segments, a lower bound.
test_pps_tcp() {
	local dir
	setup "$DEV" attach rate 1gbit burst 1mb pps 1000 pburst 100
	for dir in from_vm to_vm; do
		res_begin "pps_tcp_$dir"
		if ! setup_failed; then
			if [ $dir = from_vm ]; then
				measure f 1 proto=tcp from="$VM_NS" to="$HOST_NS" addr="$HOST_IP"
			else
				measure f 1 proto=tcp from="$HOST_NS" to="$VM_NS" addr="$VM_IP"
			fi
			note "$(flow_line "TCP ${dir%_vm} VM, pps 1000") [>= $(printf %.0f "$FLOW_PPS") segments/s]"
			if [ -n "$FLOW_ERR" ]; then
				res_bad "iperf3 failed: $FLOW_ERR"
			elif ! le "$FLOW_PPS" 1135; then
				res_bad "at least $(printf %.0f "$FLOW_PPS") segments/s ($(mbit "$FLOW_BPS") Mbit/s of 1448-byte segments) through a 1000 pkt/s limit"
			fi
		fi
		res_end
	done
	tb detach "$DEV" >/dev/null 2>&1
}

# IPv6 is limited like IPv4 (no `protocol ip`-only hole).
test_ipv6() {
	setup "$DEV" attach rate 10mbit burst 125000
	res_begin ipv6_rate
	if ! setup_failed; then
		flow_start f from="$VM_NS" to="$HOST_NS" addr="$HOST_IP6" bw=30M
		flow_wait f 1
		check_rate "IPv6 from VM" 10000000
		flow_start t from="$HOST_NS" to="$VM_NS" addr="$VM_IP6" bw=30M
		flow_wait t 1
		check_rate "IPv6 to VM" 10000000
	fi
	res_end
	tb detach "$DEV" >/dev/null 2>&1
}

# change takes effect at once, in the middle of a flood: the limit in force
# from the second after the change is the new one. It keeps the programs
# (and links) and changes only the keys given.
CHANGE_BURST=50000	# 40 ms at 10 Mbit/s, 200 ms at 2 Mbit/s
# live_change RESULT LABEL OFFERED NEW_RATE_SPEC NEW_RATE_BITS flow args...:
# a 6 s flood; `change rate NEW` 2 s in; measured over seconds 3-6.
live_change() {
	local res=$1 label=$2 bw=$3 spec=$4 rate=$5
	shift 5
	local try t0 ms
	res_begin "$res"
	for try in 1 2; do
		setup_failed && break
		flow_start c time=6 bw="$bw" "$@"
		sleep 2
		t0=${EPOCHREALTIME/./}	# us; the guest's busybox date has no %N
		tb_try change "$DEV" rate "$spec"
		ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
		[ "$TB_RC" -eq 0 ] || res_bad "change $DEV rate $spec exited $TB_RC: $TB_ERR"
		flow_wait c 3
		# A change that returned after second 3 (rtnl held by someone
		# else's work on a shared machine) puts old-rate seconds into
		# the window: it measures nothing; once more.
		if [ "$try" = 1 ] && [ "$TB_RC" -eq 0 ] && [ "$ms" -gt 800 ]; then
			note "$label: change took $ms ms, the window held the old rate: once more"
			continue
		fi
		check_rate "$label, seconds 3-6 after change rate $spec at 2 s ($ms ms)" "$rate"
		break
	done
	res_end
}
test_change() {
	local ids_before ids_after p_in p_eg
	setup "$DEV" attach rate 10mbit burst "$CHANGE_BURST" allow 22,3389,8000-8100

	res_begin change_before_10mbit
	if ! setup_failed; then
		from_vm f 30M time=3
		flow_wait f 1
		check_rate "from VM before change" 10000000
		to_vm t 30M time=3
		flow_wait t 1
		check_rate "to VM before change" 10000000
	fi
	res_end
	devj "$DEV"
	p_in=$(dget 'd["ingress"]["prog_id"]')
	p_eg=$(dget 'd["egress"]["prog_id"]')
	ids_before=$(our_pins)

	live_change change_live_from_vm "from VM, 10mbit -> 2mbit" 6M 2mbit 2000000 \
		from="$VM_NS" to="$HOST_NS" addr="$HOST_IP"
	live_change change_live_to_vm "to VM, 2mbit -> 4mbit" 12M 4mbit 4000000 \
		from="$HOST_NS" to="$VM_NS" addr="$VM_IP"

	res_begin change_keeps_programs
	if [ -z "$SETUP_ERR" ]; then
		devj "$DEV"
		ids_after=$(our_pins)
		expect 'd["ingress"]["prog_id"]' "$p_in"
		expect 'd["egress"]["prog_id"]' "$p_eg"
		[ "$ids_before" = "$ids_after" ] ||
			res_bad "pinned ids changed: '$(echo $ids_before)' -> '$(echo $ids_after)'"
		note "ids kept: $(echo $ids_after)"
	else
		res_bad "$SETUP_ERR"
	fi
	res_end

	res_begin change_only_given_keys
	if setup "$DEV" change egress pps 500; then
		devj "$DEV"
		expect 'd["ingress"]["rate_bits_per_sec"]' 4000000
		expect 'd["egress"]["rate_bits_per_sec"]' 4000000
		expect 'd["ingress"]["burst_bytes"]' "$CHANGE_BURST"
		expect 'd["egress"]["burst_bytes"]' "$CHANGE_BURST"
		expect 'd["ingress"]["pps"]' 0
		expect 'd["egress"]["pps"]' 500
		expect 'd["ingress"]["allow"][2]["port_max"]' 8100
		expect 'd["egress"]["allow_rate_bits_per_sec"]' 100000000
	else
		setup_failed
	fi
	res_end
	tb detach "$DEV" >/dev/null 2>&1
}

# Two devices with their own limits at once; detaching one leaves the
# other limited.
# two_floods BW1 BW2 LABEL1 RATE1 LABEL2 RATE2: from VM 1 and VM 2 at once,
# each checked against its rate; the limiters' own counters (4 s) tell a
# loss after them (two floods load a 2-CPU guest) from their own shortfall.
two_floods() {
	local c1 c2
	c1=$(ctr "$DEV" ingress)
	c2=$(ctr "$DEV2" ingress)
	from_vm a "$1"
	flow_start b from="$VM2_NS" to="$HOST_NS" addr="$HOST2_IP" bw="$2"
	flow_wait a 1
	ctr_bps "$c1" "$(ctr "$DEV" ingress)" 4
	check_rate "$3" "$4"
	flow_wait b 1
	ctr_bps "$c2" "$(ctr "$DEV2" ingress)" 4
	check_rate "$5" "$6"
	CTR_BPS=
}

# Bursts of 250 ms of the rate: a flood's sender stalled longer than the
# burst (two floods on an emulated 2-CPU guest) would lose tokens.
test_two_devices() {
	local e1 e2
	setup "$DEV" attach rate 3mbit burst 93750
	e1=$SETUP_ERR
	setup "$DEV2" attach rate 12mbit burst 375000
	e2=$SETUP_ERR
	SETUP_ERR="$e1${e1:+${e2:+; }}$e2"

	res_begin two_devices_limits
	if ! setup_failed; then
		local l=$(list_ours)
		[ "$l" = "$DEV:$(tb_hook) $DEV2:$(tb_hook) " ] || res_bad "list: '$l'"
		two_floods 9M 36M "VM 1 ($DEV, 3mbit)" 3000000 "VM 2 ($DEV2, 12mbit)" 12000000
	fi
	res_end

	res_begin two_devices_detach_one
	if ! setup_failed; then
		tb_try detach "$DEV"
		[ "$TB_RC" -eq 0 ] || res_bad "detach $DEV exited $TB_RC: $TB_ERR"
		local l=$(list_ours)
		[ "$l" = "$DEV2:$(tb_hook) " ] || res_bad "list after detaching $DEV: '$l'"
		local c2
		c2=$(ctr "$DEV2" ingress)
		from_vm a 30M
		flow_start b from="$VM2_NS" to="$HOST_NS" addr="$HOST2_IP" bw=36M
		flow_wait a 1
		check_min "VM 1 ($DEV, detached)" 25000000
		flow_wait b 1
		ctr_bps "$c2" "$(ctr "$DEV2" ingress)" 4
		check_rate "VM 2 ($DEV2, still 12mbit)" 12000000
		CTR_BPS=
	fi
	res_end
	tb_detach_all
}
tb_hook() { if have_tcx; then echo tcx; else echo tc; fi; }

# detach removes everything and traffic is unlimited again; both hooks.
test_detach() {
	local hook links_ours p_in p_eg id left
	for hook in tcx tc; do
		if [ $hook = tcx ] && ! have_tcx; then
			skip "detach_leaves_nothing_tcx" "kernel $(uname -r) has no tcx"
			continue
		fi
		setup "$DEV" attach hook "$hook" rate 2mbit burst 25000

		res_begin "detach_limited_before_$hook"
		if ! setup_failed; then
			from_vm f 6M time=3
			flow_wait f 1
			check_rate "from VM before detach (hook $hook)" 2000000
		fi
		res_end

		devj "$DEV"
		p_in=$(dget 'd["ingress"]["prog_id"]')
		p_eg=$(dget 'd["egress"]["prog_id"]')
		links_ours=$(link_ids "$DEV_IFX")

		res_begin "detach_leaves_nothing_$hook"
		if ! setup_failed; then
			tb_try detach "$DEV"
			[ "$TB_RC" -eq 0 ] || res_bad "detach exited $TB_RC: $TB_ERR"
			for dir in ingress egress; do
				left=$(tc_filters "$DEV" "$dir")
				[ -z "$left" ] || res_bad "tc filter $dir left: $(echo $left)"
			done
			has_clsact "$DEV" && res_bad "clsact qdisc left (tcbpf created it)"
			for id in $links_ours; do
				grep -qw "$id" <<<"$(all_link_ids)" && res_bad "link $id still exists"
			done
			[ $hook = tcx ] && [ -z "$links_ours" ] && res_bad "hook tcx attach pinned no link"
			[ -z "$(list_ours)" ] || res_bad "list still shows: $(list_ours)"
			PINS_WHY=
			pins_clean || res_bad "$PINS_WHY"
			# With the pins gone nothing holds the programs: freed.
			if [ ! -d "$PIN_DIR" ]; then
				for id in $p_in $p_eg; do
					for i in 1 2 3 4 5 6 7 8 9 10; do
						prog_exists "$id" || break
						sleep 0.3
					done
					prog_exists "$id" && res_bad "program $id still loaded"
				done
			fi
			tb_try detach "$DEV"
			[ "$TB_RC" -eq 0 ] || res_bad "second detach exited $TB_RC (want 0): $TB_ERR"
		fi
		res_end

		res_begin "detach_unlimited_after_$hook"
		if ! setup_failed; then
			from_vm f 40M time=3
			to_vm t 40M time=3
			flow_wait f 1
			check_min "from VM after detach" 20000000
			flow_wait t 1
			check_min "to VM after detach" 20000000
		fi
		res_end
		tb detach "$DEV" >/dev/null 2>&1
	done
}

# hook tc and hook tcx: the hook in show -j, its kernel objects, the rate.
test_hooks() {
	local hook f
	for hook in tcx tc; do
		if [ $hook = tcx ] && ! have_tcx; then
			skip "hook_tcx" "kernel $(uname -r) has no tcx"
			continue
		fi
		setup "$DEV" attach hook "$hook" rate 1250kbps burst 125000

		res_begin "hook_${hook}_attached"
		if ! setup_failed; then
			devj "$DEV"
			expect 'd["hook"]' "$hook"
			expect 'd["ingress"]["rate_bits_per_sec"]' 10000000
			for dir in ingress egress; do
				f=$(tc_filters "$DEV" "$dir")
				if [ $hook = tc ]; then
					grep -q 'pref 31935 bpf .*handle 0x7cbf .*direct-action' <<<"$f" ||
						res_bad "no cls_bpf filter handle 0x7cbf pref 0x7cbf direct-action on $dir: $(echo $f)"
				else
					[ -z "$f" ] || res_bad "hook tcx but tc filters on $dir: $(echo $f)"
				fi
			done
			if [ $hook = tc ]; then
				has_clsact "$DEV" || res_bad "hook tc but no clsact qdisc"
			else
				has_clsact "$DEV" && res_bad "hook tcx but a clsact qdisc was created"
				[ "$(link_ids "$DEV_IFX" | wc -l)" -ge 2 ] ||
					res_bad "hook tcx but no two links pinned for ifindex $DEV_IFX: $(ls "$PIN_DIR/links" 2>/dev/null | tr '\n' ' ')"
			fi
		fi
		res_end

		res_begin "hook_${hook}_rate"
		if ! setup_failed; then
			from_vm f 30M
			flow_wait f 1
			check_rate "from VM, hook $hook, rate 1250kbps" 10000000
			to_vm t 30M
			flow_wait t 1
			check_rate "to VM, hook $hook, rate 1250kbps" 10000000
		fi
		res_end
		tb detach "$DEV" >/dev/null 2>&1
	done
}

# Someone else's clsact and filters (which match none of the test traffic)
# survive attach and detach with either hook; the limiter still works
# behind them.
test_foreign_clsact() {
	local before after f hook
	tc -n "$HOST_NS" qdisc add dev "$DEV" clsact &&
	tc -n "$HOST_NS" filter add dev "$DEV" ingress prio 1 protocol ip \
		u32 match ip dst 10.203.0.99/32 classid 1:1 &&
	tc -n "$HOST_NS" filter add dev "$DEV" egress prio 2 protocol ip \
		u32 match ip dst 10.203.0.98/32 classid 1:2
	if [ $? -ne 0 ]; then
		skip foreign_clsact "cannot add the foreign clsact/u32 filters"
		tc -n "$HOST_NS" qdisc del dev "$DEV" clsact 2>/dev/null
		return
	fi
	before="$(tc_filters "$DEV" ingress)
$(tc_filters "$DEV" egress)"

	for hook in tc tcx; do
		if [ $hook = tcx ] && ! have_tcx; then
			continue
		fi
		res_begin "foreign_clsact_attach_$hook"
		if setup "$DEV" attach hook "$hook" rate 10mbit burst 125000; then
			f=$(tc_filters "$DEV" ingress)
			grep -q 'pref 1 u32' <<<"$f" || res_bad "foreign ingress filter gone after attach"
			grep -q 'pref 2 u32' <<<"$(tc_filters "$DEV" egress)" || res_bad "foreign egress filter gone after attach"
			if [ $hook = tc ]; then
				grep -q 'handle 0x7cbf' <<<"$f" || res_bad "no tcbpf filter next to the foreign one"
			fi
			from_vm f 30M time=3
			flow_wait f 1
			check_rate "from VM, hook $hook, behind a foreign filter" 10000000
		else
			setup_failed
		fi
		res_end

		res_begin "foreign_clsact_detach_$hook"
		if [ -z "$SETUP_ERR" ]; then
			tb_try detach "$DEV"
			[ "$TB_RC" -eq 0 ] || res_bad "detach exited $TB_RC: $TB_ERR"
			has_clsact "$DEV" || res_bad "the pre-existing clsact qdisc was removed"
			after="$(tc_filters "$DEV" ingress)
$(tc_filters "$DEV" egress)"
			[ "$before" = "$after" ] ||
				res_bad "filters differ after detach: before '$(echo $before)' after '$(echo $after)'"
		else
			res_bad "$SETUP_ERR"
		fi
		res_end
		tb detach "$DEV" >/dev/null 2>&1
	done
	tc -n "$HOST_NS" qdisc del dev "$DEV" clsact 2>/dev/null
}

# Someone's qdisc tree as the device's root (htb with a class, a tbf leaf
# and a u32 filter): pacing would replace it and detach could put back only
# its root, so tcbpf leaves it alone: attach polices egress (show -j: qdisc
# "kept"; on a kernel without fq the tree is found first), an explicit
# `egress mode edt` is refused naming the tree, and detach leaves the tree
# exactly as it was. The limiter polices in front of it.
test_qdisc_tree_kept() {
	local before after
	tree() {
		tc -n "$HOST_NS" qdisc show dev "$DEV" | grep -v clsact
		tc -n "$HOST_NS" class show dev "$DEV"
		tc -n "$HOST_NS" filter show dev "$DEV" parent 1:
	}
	res_begin qdisc_tree_kept
	tc -n "$HOST_NS" qdisc del dev "$DEV" root 2>/dev/null
	if ! { tc -n "$HOST_NS" qdisc add dev "$DEV" root handle 1: htb default 10 &&
	       tc -n "$HOST_NS" class add dev "$DEV" parent 1: classid 1:10 htb rate 500mbit &&
	       tc -n "$HOST_NS" qdisc add dev "$DEV" parent 1:10 handle 10: tbf rate 500mbit burst 256kb latency 50ms &&
	       tc -n "$HOST_NS" filter add dev "$DEV" parent 1: protocol ip prio 1 u32 match ip dst 10.203.0.97/32 flowid 1:10; } 2>"$WORK/tree.err"; then
		res_skip "cannot build the htb tree: $(tr '\n' ' ' <"$WORK/tree.err")"
		res_end
		tc -n "$HOST_NS" qdisc del dev "$DEV" root 2>/dev/null
		return
	fi
	before=$(tree)
	if setup "$DEV" attach rate 10mbit burst 125000; then
		grep -q 'htb 1:' <<<"$TB_ERR" || res_bad "attach did not say why egress is not paced: '$TB_ERR'"
		devj "$DEV"
		expect 'd["egress"]["qdisc"]' kept
		expect 'd["egress"]["mode"]' police
		expect 'd["egress"]["delay_enforced"]' False
		after=$(tree)
		[ "$before" = "$after" ] || res_bad "the tree changed on attach: $(echo $after)"
		tb_try attach "$DEV" rate 10mbit burst 125000 egress mode edt
		[ "$TB_RC" -eq 1 ] || res_bad "attach ... egress mode edt over the tree exited $TB_RC, want 1"
		grep -q 'htb 1:' <<<"$TB_ERR" || res_bad "egress mode edt refused without naming the tree: '$TB_ERR'"
		devj "$DEV"
		expect 'd["egress"]["qdisc"]' kept
		to_vm t 30M time=3
		flow_wait t 1
		check_rate "to VM, in front of the htb tree" 10000000
		tb_try detach "$DEV"
		[ "$TB_RC" -eq 0 ] || res_bad "detach exited $TB_RC: $TB_ERR"
		after=$(tree)
		[ "$before" = "$after" ] ||
			res_bad "the tree changed: before '$(echo $before)' after detach '$(echo $after)'"
	else
		setup_failed
	fi
	res_end
	tb detach "$DEV" >/dev/null 2>&1
	tc -n "$HOST_NS" qdisc del dev "$DEV" root 2>/dev/null
}

# bad_case NAME WANT_RC CULPRIT [RAW] ARGS...: tcbpf ARGS must exit WANT_RC
# ("1|2" for either), name CULPRIT on stderr, and change nothing. RAW: run
# ./tcbpf ARGS without "-n tcbpf-host".
bad_case() {
	local name=$1 want=$2 culprit=$3 s0 s1
	shift 3
	res_begin "bad_input_$name"
	s0=$BAD_STATE	# the state before (unchanged by earlier refusals)
	if [ "$1" = RAW ]; then	# without tb's -n tcbpf-host
		shift
		TB_OUT=$("$TCBPF" "$@" 2>"$WORK/tb.err")
		TB_RC=$?
		TB_ERR=$(tr '\n' ' ' <"$WORK/tb.err")
	else
		tb_try "$@"
	fi
	s1=$(state)
	note "tcbpf $* -> exit $TB_RC: $TB_ERR"
	case "|$want|" in
	*"|$TB_RC|"*) ;;
	*) res_bad "exit $TB_RC, want $want" ;;
	esac
	grep -qiF -- "$culprit" <<<"$TB_ERR" || res_bad "stderr does not name '$culprit': '$TB_ERR'"
	if [ "$s0" != "$s1" ]; then
		res_bad "state changed: $(diff <(echo "$s0") <(echo "$s1") | grep '^[<>]' | head -5 | tr '\n' ' ')"
		BAD_STATE=$s1
	fi
	res_end
}

test_bad_input() {
	res_begin bad_input_setup
	setup "$DEV" attach rate 3mbit burst 15000 allow 22,80 || setup_failed
	res_end
	BAD_STATE=$(state)
	bad_case missing_device 1 vm-nope-0 attach vm-nope-0 rate 1mbit
	bad_case bad_unit 2 10xbit attach "$DEV" rate 10xbit
	bad_case bad_unit_unattached 2 10xbit attach "$DEV2" rate 10xbit
	bad_case bad_size 2 12zz change "$DEV" burst 12zz
	bad_case rate_overflow 2 99999999999tbit attach "$DEV" rate 99999999999tbit
	bad_case unknown_key 2 bogus-key change "$DEV" bogus-key 1
	bad_case unknown_key_unattached 2 frobnicate attach "$DEV2" frobnicate 5
	bad_case missing_value 2 rate attach "$DEV" rate
	bad_case bad_port 2 70000 attach "$DEV" allow 70000
	bad_case bad_hook 2 tcy attach "$DEV" hook tcy
	bad_case change_unattached 1 "$DEV2" change "$DEV2" rate 5mbit
	# A delay needs fq: refused only where the kernel has none.
	devj "$DEV"
	if [ "$(dget 'd["egress"]["qdisc"]')" = unavailable ]; then
		bad_case delay_attach '1|2' delay attach "$DEV" delay 100ms
		bad_case delay_change '1|2' delay change "$DEV" egress delay 100ms
		bad_case delay_unattached '1|2' delay attach "$DEV2" delay 100ms
	else
		local c
		for c in delay_attach delay_change delay_unattached; do
			skip "bad_input_$c" "kernel $(uname -r) has fq: a delay is valid here (tests/vm/guest-edt.sh tests it)"
		done
	fi
	# A delay only mode edt can enforce, given with police or monitor:
	# refused before anything runs, whether the kernel has fq or not.
	bad_case police_delay 2 '"delay 100ms"' attach "$DEV" mode police delay 100ms
	bad_case police_delay_egress 2 '"delay 100ms"' attach "$DEV" egress mode police delay 100ms
	bad_case police_delay_change 2 '"delay 100ms"' change "$DEV" egress mode police delay 100ms
	bad_case monitor_delay_change 2 'mode monitor' change "$DEV" monitor delay 100ms
	bad_case police_delay_unattached 2 '"delay 100ms"' attach "$DEV2" mode police delay 100ms
	bad_case ecn_beyond_latency 2 '"ecn 20ms"' attach "$DEV" latency 10ms ecn 20ms
	bad_case ecn_beyond_latency_change 2 '"ecn 20ms"' change "$DEV" egress latency 10ms ecn 20ms
	bad_case repeated_allow 2 '"allow" given twice' attach "$DEV" allow 22 allow 23
	bad_case repeated_rate 2 '"rate" given twice' change "$DEV" rate 1mbit rate 2mbit
	bad_case repeated_rate_egress 2 '"rate" given twice for egress' \
		change "$DEV" rate 1mbit egress rate 2mbit egress rate 3mbit
	bad_case repeated_hook 2 '"hook" given twice' attach "$DEV" hook tcx hook tc
	bad_case repeated_mode 2 '"mode" given twice' change "$DEV" mode edt monitor
	bad_case pps_zero 2 '"pps"' change "$DEV" pps 0
	bad_case pburst_zero 2 '"pburst"' change "$DEV" ingress pburst 0
	bad_case pburst_without_pps 2 '"pburst 10"' change "$DEV" pburst 10
	bad_case rate_above_max 2 18446744073709551615bit attach "$DEV" rate 18446744073709551615bit
	bad_case allow_rate_above_max 2 2tbit change "$DEV" allow-rate 2tbit
	# A name no device can have (empty, 16 bytes) is a usage error.
	local cmd spec
	for cmd in attach change detach show; do
		spec=()
		case $cmd in attach|change) spec=(rate 1mbit) ;; esac
		bad_case "empty_device_$cmd" 2 'device name is empty' "$cmd" "" "${spec[@]}"
		bad_case "long_device_$cmd" 2 vm-123456-00c9xy "$cmd" vm-123456-00c9xy "${spec[@]}"
	done
	bad_case no_device 2 attach attach
	bad_case unknown_command 2 frobnicate frobnicate
	bad_case missing_netns 1 no-such-netns RAW -n no-such-netns list
	tb detach "$DEV" >/dev/null 2>&1
}

# Two attaches started at the same moment on two devices, first on an empty
# pin directory (both may create it), then again; both succeed, both limit.
test_concurrent_attach() {
	local round p1 p2 r1 r2 l bad=
	tb_detach_all
	res_begin concurrent_attach
	for round in 1 2 3 4 5; do
		tb attach "$DEV" rate 3mbit burst 37500 >/dev/null 2>"$WORK/c1.err" &
		p1=$!
		tb attach "$DEV2" rate 12mbit burst 150000 >/dev/null 2>"$WORK/c2.err" &
		p2=$!
		wait "$p1"; r1=$?
		wait "$p2"; r2=$?
		[ "$r1" -eq 0 ] || res_bad "round $round: attach $DEV exited $r1: $(cat "$WORK/c1.err")"
		[ "$r2" -eq 0 ] || res_bad "round $round: attach $DEV2 exited $r2: $(cat "$WORK/c2.err")"
		l=$(list_ours)
		[ "$l" = "$DEV:$(tb_hook) $DEV2:$(tb_hook) " ] || res_bad "round $round: list '$l'"
		devj "$DEV"
		expect 'd["ingress"]["rate_bits_per_sec"]' 3000000 >/dev/null
		devj "$DEV2"
		expect 'd["ingress"]["rate_bits_per_sec"]' 12000000 >/dev/null
		[ $round -eq 5 ] && break
		tb detach "$DEV" >/dev/null 2>"$WORK/c1.err" &
		p1=$!
		tb detach "$DEV2" >/dev/null 2>"$WORK/c2.err" &
		p2=$!
		wait "$p1"; r1=$?
		wait "$p2"; r2=$?
		[ "$r1" -eq 0 ] && [ "$r2" -eq 0 ] ||
			res_bad "round $round: concurrent detach exited $r1/$r2: $(cat "$WORK/c1.err" "$WORK/c2.err")"
		PINS_WHY=
		pins_clean || res_bad "round $round, after both detached: $PINS_WHY"
		[ -n "$RES_WHY" ] && break
	done
	res_end

	res_begin concurrent_attach_limits
	two_floods 9M 36M "VM 1 after concurrent attach (3mbit)" 3000000 \
		"VM 2 after concurrent attach (12mbit)" 12000000
	res_end
	tb_detach_all
}

# A device in another namespace with the same ifindex as vm-3-00c9: tcbpf's
# settings are keyed by ifindex. Whatever tcbpf does with the second device
# (limit it too, or refuse with exit 1 and a message), vm-3-00c9's limiter
# must stay as it was, through attach and detach on the other device.
test_same_ifindex_other_netns() {
	local s0 s1
	res_begin same_ifindex_other_netns
	if ! ip netns add "$HOST2_NS" ||
	   ! ip -n "$HOST2_NS" link add "$DEV3" index "$DEV_IFX" type veth peer name vm-5-peer; then
		res_skip "cannot build $HOST2_NS with ifindex $DEV_IFX"
	elif setup "$DEV" attach rate 3mbit burst 37500; then
		ip -n "$HOST2_NS" link set "$DEV3" up
		ip -n "$HOST2_NS" link set vm-5-peer up
		s0=$(state)
		"$TCBPF" -n "$HOST2_NS" attach "$DEV3" rate 7mbit >"$WORK/o.out" 2>"$WORK/o.err"
		local rc=$?
		note "tcbpf -n $HOST2_NS attach $DEV3 (ifindex $DEV_IFX too) -> exit $rc: $(tr '\n' ' ' <"$WORK/o.err")"
		case $rc in
		0) ;;
		1) [ -s "$WORK/o.err" ] || res_bad "exit 1 without a message" ;;
		*) res_bad "attach in $HOST2_NS exited $rc" ;;
		esac
		"$TCBPF" -n "$HOST2_NS" detach "$DEV3" >"$WORK/o.out" 2>"$WORK/o.err"
		rc=$?
		note "tcbpf -n $HOST2_NS detach $DEV3 -> exit $rc: $(tr '\n' ' ' <"$WORK/o.err")"
		# detach succeeds also when there is nothing of ours on the device
		[ "$rc" -eq 0 ] || res_bad "detach of $DEV3 exited $rc"
		s1=$(state)
		[ "$s0" = "$s1" ] || res_bad "$DEV's state changed: $(diff <(echo "$s0") <(echo "$s1") | grep '^[<>]' | head -5 | tr '\n' ' ')"
		from_vm f 9M time=3
		flow_wait f 1
		check_rate "VM 1 still limited" 3000000
	else
		setup_failed
	fi
	res_end
	"$TCBPF" -n "$HOST2_NS" detach "$DEV3" >/dev/null 2>&1
	ip netns del "$HOST2_NS" 2>/dev/null
	tb detach "$DEV" >/dev/null 2>&1
}

# --------------------------------------------------------------------- main

# Leftovers of an interrupted run: its namespaces (the names are fixed).
stale_cleanup() {
	lib_cleanup_quiet
	return 0
}
lib_cleanup_quiet() {
	tb_detach_all
	ns_teardown
}

suite_cleanup() {
	lib_cleanup
}

main() {
	local t names=("$@")
	[ ${#names[@]} -gt 0 ] || names=("${TESTS[@]}")

	if [ "$(id -u)" -ne 0 ]; then
		for t in "${names[@]}"; do
			skip "$t" "needs root"
		done
		exit 0
	fi
	for t in iperf3 "$PY" bpftool nsenter tc ip flock ping; do
		if ! command -v "$t" >/dev/null; then
			for t2 in "${names[@]}"; do
				skip "$t2" "$t not installed (scripts/install-deps.sh)"
			done
			exit 0
		fi
	done
	if [ ! -x "$TCBPF" ]; then
		fail integration "$TCBPF not built (make tcbpf)"
		exit 1
	fi

	lib_lock || { fail integration "cannot take $LOCK_FILE"; exit 1; }
	lib_init || { fail integration "mktemp failed"; exit 1; }
	# Test a copy: a rebuild of the tree during the run must not swap the
	# binary (or remove it) between two steps of a test.
	if ! cp "$TCBPF" "$WORK/tcbpf"; then
		fail integration "cannot copy $TCBPF"
		exit 1
	fi
	TCBPF=$WORK/tcbpf
	trap suite_cleanup EXIT
	trap 'exit 130' INT TERM
	stale_cleanup
	if ! ns_setup; then
		fail integration "cannot build the test namespaces"
		exit 1
	fi

	for t in "${names[@]}"; do
		if ! declare -F "$t" >/dev/null; then
			fail "$t" "no such test"
			continue
		fi
		[ "${V:-0}" = 1 ] && echo "== $t"
		reset_devices
		local t0=$SECONDS
		"$t"
		note "$t: $((SECONDS - t0)) s"
	done
	echo "integration: $NPASS passed, $NFAIL failed, $NSKIP skipped"
	[ "$NFAIL" -eq 0 ]
}

main "$@"
