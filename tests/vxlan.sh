#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/vxlan.sh - monitor mode's would-drop counters and per-VNI
# accounting and limits on a VXLAN underlay (`vxbackend`), with real
# floods (iperf3) between namespaces this suite creates.
#
#   tests/vxlan.sh [test_name...]    default: every test_* in TESTS
#   V=1                              show the tcbpf commands
#
# Topology (own names and ifindexes; nothing has a route out):
#
#   tcbpf-vx-host   the hypervisor side
#     vm-11-0a01  10.206.1.1/24 (ifindex 32081) -- tcbpf-vx-vm   eth0 .2
#     vxbackend   10.206.9.1/24 (ifindex 32082) -- tcbpf-vx-peer eth0 .2
#                 fd00:7cbf:9::1/64                              ...::2
#     vx-00c9 (VNI 201) 10.207.201.1/24, vx-00ca (VNI 202) 10.207.202.1/24
#     vx6-00cb (VNI 203, IPv6 underlay) 10.207.203.1/24
#   tcbpf-vx-peer   the other host of the underlay: the same VXLANs, .2
#
# The suite runs in a mount namespace of its own with a fresh bpffs on
# /sys/fs/bpf: its pins (maps of this build's layout) are never those of
# another engineer's run on the same machine, and the other way round.
set -u
if [ "${TCBPF_VX_PRIVATE:-}" != 1 ] && [ "$(id -u)" -eq 0 ]; then
	exec unshare --mount --propagation private \
		env TCBPF_VX_PRIVATE=1 "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

HOST_NS=tcbpf-vx-host
VM_NS=tcbpf-vx-vm
PEER_NS=tcbpf-vx-peer
VM2_NS=tcbpf-vx-none HOST2_NS=tcbpf-vx-none	# lib.sh's teardown: unused
DEV=vm-11-0a01 DEV_IFX=32081
VXB=vxbackend VXB_IFX=32082
DEV2= DEV3=
VX_LOCK=/run/tcbpf-vxlan.lock
WIRE=1512	# a 1470-byte UDP payload as the hook counts it
# A 1400-byte UDP payload in the overlay, on the underlay: + UDP, IP,
# Ethernet inside, + VXLAN, UDP, IP (v4) and Ethernet outside.
VXWIRE=$((1400 + 8 + 20 + 14 + 8 + 8 + 20 + 14))
VXWIRE6=$((VXWIRE + 20))	# the same over an IPv6 underlay

TESTS=(
	test_would_drop
	test_vxbackend_counts
	test_vxbackend_limit
)

hrun() { ns_run "$HOST_NS" "$@"; }

tb_try() {
	TB_OUT=$(tb "$@" 2>"$WORK/tb.err")
	TB_RC=$?
	TB_ERR=$(tr '\n' ' ' <"$WORK/tb.err")
}

sent_packets() {
	"$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["end"]["sum"]["packets"])' "${FLOW_TX[$1]}" 2>/dev/null || echo 0
}

# ---------------------------------------------------------------- topology

vx_setup() {
	ns_teardown
	ip netns del "$PEER_NS" 2>/dev/null
	sockbufs_raise
	mount -t bpf bpf /sys/fs/bpf || return 1
	ip netns add "$HOST_NS" && ip -n "$HOST_NS" link set lo up || return 1
	# the monitored "tap"
	ip netns add "$VM_NS" || return 1
	ip -n "$HOST_NS" link add "$DEV" index "$DEV_IFX" type veth \
		peer name eth0 netns "$VM_NS" || return 1
	ip -n "$HOST_NS" addr add 10.206.1.1/24 dev "$DEV" || return 1
	ip -n "$VM_NS" addr add 10.206.1.2/24 dev eth0 || return 1
	ip -n "$VM_NS" link set lo up && ip -n "$VM_NS" link set eth0 up &&
		ip -n "$HOST_NS" link set "$DEV" up || return 1
	# the underlay and its VXLANs
	ip netns add "$PEER_NS" && ip -n "$PEER_NS" link set lo up || return 1
	ip -n "$HOST_NS" link add "$VXB" index "$VXB_IFX" type veth \
		peer name eth0 netns "$PEER_NS" || return 1
	ip -n "$HOST_NS" addr add 10.206.9.1/24 dev "$VXB" || return 1
	ip -n "$PEER_NS" addr add 10.206.9.2/24 dev eth0 || return 1
	ip -n "$HOST_NS" addr add fd00:7cbf:9::1/64 dev "$VXB" nodad || return 1
	ip -n "$PEER_NS" addr add fd00:7cbf:9::2/64 dev eth0 nodad || return 1
	ip -n "$PEER_NS" link set eth0 up && ip -n "$HOST_NS" link set "$VXB" up ||
		return 1
	vx_pair vx-00c9 201 10.206.9 4 || return 1
	vx_pair vx-00ca 202 10.206.9 4 || return 1
	vx_pair vx6-00cb 203 fd00:7cbf:9: 6 || return 1
	ns_run "$VM_NS" ping -c1 -W2 -q 10.206.1.1 >/dev/null 2>&1
	local n
	for n in 201 202 203; do
		ns_run "$PEER_NS" ping -c1 -W2 -q "10.207.$n.1" >/dev/null 2>&1
	done
	return 0
}

# vx_pair NAME VNI UNDERLAY_PREFIX 4|6: the VXLAN on both sides, the
# overlay 10.207.VNI.0/24 (.1 host, .2 peer)
vx_pair() {
	local name=$1 id=$2 p=$3 v=$4 ns i
	for ns in "$HOST_NS" "$PEER_NS"; do
		[ "$ns" = "$HOST_NS" ] && i=1 || i=2
		local r=$((3 - i))
		if [ "$v" = 4 ]; then
			ip -n "$ns" link add "$name" type vxlan id "$id" \
				local "$p.$i" remote "$p.$r" dstport 4789 \
				dev "$([ "$ns" = "$HOST_NS" ] && echo "$VXB" || echo eth0)" ||
				return 1
		else
			ip -n "$ns" link add "$name" type vxlan id "$id" \
				local "$p:$i" remote "$p:$r" dstport 4789 \
				dev "$([ "$ns" = "$HOST_NS" ] && echo "$VXB" || echo eth0)" ||
				return 1
		fi
		ip -n "$ns" addr add "10.207.$id.$i/24" dev "$name" || return 1
		ip -n "$ns" link set "$name" up || return 1
	done
}

vx_cleanup() {
	local pid
	for pid in "${BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	if ns_exists "$HOST_NS"; then
		tb detach "$DEV" >/dev/null 2>&1
		tb detach "$VXB" >/dev/null 2>&1
	fi
	ns_exists "$PEER_NS" && for pid in $(ip netns pids "$PEER_NS"); do
		kill "$pid" 2>/dev/null
	done
	ns_teardown
	ns_exists "$PEER_NS" && ip netns del "$PEER_NS"
	py_stop
	[ -n "$WORK" ] && rm -rf "$WORK"
	WORK=
	return 0
}

# scrape_prometheus: one scrape of `tcbpf export prometheus` on the host
# namespace's loopback
scrape_prometheus() {
	local port=$((19700 + RANDOM % 200)) pid out i
	hrun "$TCBPF" export prometheus listen "127.0.0.1:$port" >/dev/null 2>&1 &
	pid=$!
	for i in $(seq 1 50); do
		out=$(hrun curl -s --max-time 1 "http://127.0.0.1:$port/metrics" 2>/dev/null) &&
			[ -n "$out" ] && break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	echo "$out"
}

# push_influx: what one `tcbpf export influx ... count 1` posts, caught
# by a one-request HTTP server on the host namespace's loopback
push_influx() {
	local port=$((19900 + RANDOM % 90)) pid
	hrun "$PY" -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        sys.stdout.write(self.rfile.read(n).decode())
        sys.stdout.flush()
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
s.timeout = 10
s.handle_request()' "$port" >"$WORK/influx.txt" 2>/dev/null &
	pid=$!
	sleep 0.5
	hrun "$TCBPF" export influx "http://127.0.0.1:$port/write?db=t" count 1 \
		>/dev/null 2>&1
	wait "$pid" 2>/dev/null
	cat "$WORK/influx.txt"
}

# ------------------------------------------------------------------- tests

# counters DEV DIR: "passed_pkts dropped_pkts would_pkts would_bytes" of
# `show -j`, both classes
counters() {
	tb -j show "$1" 2>/dev/null | jget "' '.join(str(sum(d[0]['$2']['classes'][c][k] for c in ('default', 'allow'))) for k in ('passed_packets', 'dropped_packets', 'would_drop_packets', 'would_drop_bytes'))"
}

# monitor rate 5mbit, a 10 Mbit/s flood: nothing dropped, about half
# counted as would-drop, in show, stats and both exports.
test_would_drop() {
	local b a sent pp dp wp wb st prom infl
	res_begin would_drop_half_of_a_flood_twice_the_rate
	tb_try attach "$DEV" monitor rate 5mbit burst 64k
	if [ "$TB_RC" -ne 0 ]; then
		res_bad "attach $DEV monitor rate 5mbit exited $TB_RC: $TB_ERR"
		res_end
		return
	fi
	read -r -a b <<<"$(counters "$DEV" ingress)"
	flow_start wd from="$VM_NS" to="$HOST_NS" addr=10.206.1.1 bw=10M time=5
	sleep 2
	"$TCBPF" -n "$HOST_NS" -j stats "$DEV" interval 2 count 1 >"$WORK/st.json" 2>&1
	flow_wait wd 0
	read -r -a a <<<"$(counters "$DEV" ingress)"
	sent=$(sent_packets wd)
	pp=$((a[0] - b[0])) dp=$((a[1] - b[1])) wp=$((a[2] - b[2])) wb=$((a[3] - b[3]))
	note "iperf3 sent $sent datagrams at 10 Mbit/s; passed $pp, dropped $dp, would drop $wp ($wb bytes)"
	if [ -n "$FLOW_ERR" ] || [ "$sent" -eq 0 ]; then
		res_bad "iperf3 failed: $FLOW_ERR"
		res_end
		return
	fi
	[ "$dp" -eq 0 ] || res_bad "$dp packets dropped in monitor mode"
	[ "$pp" -ge "$sent" ] || res_bad "passed $pp packets, iperf3 sent $sent"
	# 5 s at 10 Mbit/s against 5 Mbit/s and a 64 KB burst: the excess is
	# (10 - 5) * 5 s - 64 KB of 50 Mbit: ~49 % of the datagrams
	local want=$(calc "($sent * $WIRE * 8 - 5000000 * 5 - 65536 * 8) / ($WIRE * 8)")
	note "want ~$want would-drops (the flood's excess over 5 Mbit/s + the burst)"
	within "$wp" "$want" 10 || res_bad "would drop $wp packets, want $want +-10%"
	[ "$wb" -eq $((wp * WIRE)) ] || res_bad "would drop $wb bytes, want $wp x $WIRE"
	st=$(head -1 "$WORK/st.json" | jget "(d['dir'], d['class'], d['would_drop_bits_per_sec'], d['passed_bits_per_sec'], d['dropped_bits_per_sec'])")
	note "stats (dir, class, would-drop, passed, dropped b/s): $st"
	local wbps
	wbps=$(head -1 "$WORK/st.json" | jget "d['would_drop_bits_per_sec']")
	within "${wbps:-0}" 5000000 25 ||
		res_bad "stats: would-drop ${wbps:-none} bit/s, want ~5 Mbit/s"
	prom=$(scrape_prometheus)
	echo "$prom" | grep -q "^tcbpf_would_drop_packets_total{device=\"$DEV\",direction=\"ingress\",class=\"default\".*} $((a[2]))\$" ||
		res_bad "Prometheus: no would-drop series of $((a[2])) packets: $(echo "$prom" | grep would_drop | head -2 | tr '\n' ' ')"
	echo "$prom" | grep -q "^tcbpf_would_drop_bytes_total{device=\"$DEV\",direction=\"ingress\",class=\"default\".*} $((a[3]))\$" ||
		res_bad "Prometheus: no would-drop series of $((a[3])) bytes"
	# a sum over verdicts stays the offered load: no would-drop verdict
	echo "$prom" | grep -q 'verdict="would' && res_bad "Prometheus: a would-drop verdict"
	infl=$(push_influx)
	echo "$infl" | grep -q "^tcbpf,dev=$DEV,dir=ingress,class=default.*would_drop_packets=$((a[2]))i,would_drop_bytes=$((a[3]))i" ||
		res_bad "Influx: no would_drop fields of $((a[2])) packets: $(echo "$infl" | grep "dir=ingress,class=default" | head -1)"
	"$TCBPF" -n "$HOST_NS" stats "$DEV" interval 0.5 count 1 --influx >"$WORK/st.influx" 2>&1
	grep -q "would_drop_bps=[0-9]*i,would_drop_pps=" "$WORK/st.influx" ||
		res_bad "stats --influx: no would_drop fields: $(head -c 300 "$WORK/st.influx")"
	tb detach "$DEV" >/dev/null 2>&1
	res_end
}

# vni_ctr PROM VNI DIR VERDICT [bytes]: a tcbpf_vxlan_*_total value
vni_ctr() {
	local m=packets
	[ "${5:-}" = bytes ] && m=bytes
	echo "$1" | awk -v want="tcbpf_vxlan_${m}_total{device=\"$VXB\",direction=\"$3\",netid=\"$2\",verdict=\"$4\"}" \
		'$1 == want { print $2; f = 1 } END { if (!f) print 0 }'
}

# Three networks at once, two over the IPv4 underlay, one over IPv6, in
# both directions: `tcbpf attach vxbackend monitor` counts each on its
# own (packets against what iperf3 sent), and `stats` ranks them.
test_vxbackend_counts() {
	local p0 p1 n v dir sent got bps
	res_begin vxbackend_counts_per_network
	tb_try attach "$VXB" monitor
	if [ "$TB_RC" -ne 0 ]; then
		res_bad "attach $VXB monitor exited $TB_RC: $TB_ERR"
		res_end
		return
	fi
	p0=$(scrape_prometheus)
	# 00c9: 8 Mbit/s peer -> host (vxbackend ingress); 00ca: 2 Mbit/s
	# host -> peer (egress); 00cb: 4 Mbit/s peer -> host, IPv6 outside
	flow_start c9 from="$PEER_NS" to="$HOST_NS" addr=10.207.201.1 bw=8M len=1400 time=5
	flow_start ca from="$HOST_NS" to="$PEER_NS" addr=10.207.202.2 bw=2M len=1400 time=5
	flow_start cb from="$PEER_NS" to="$HOST_NS" addr=10.207.203.1 bw=4M len=1400 time=5
	sleep 1.5
	"$TCBPF" -n "$HOST_NS" -j stats "$VXB" interval 2.5 count 1 >"$WORK/vst.json" 2>&1
	"$TCBPF" -n "$HOST_NS" stats "$VXB" interval 0.5 count 1 >"$WORK/vst.txt" 2>&1
	for n in c9 ca cb; do
		flow_wait "$n" 0 || res_bad "iperf3 $n failed: $FLOW_ERR"
	done
	p1=$(scrape_prometheus)
	for v in 00c9:ingress:c9 00ca:egress:ca 00cb:ingress:cb; do
		IFS=: read -r n dir f <<<"$v"
		sent=$(sent_packets "$f")
		got=$(($(vni_ctr "$p1" "$n" "$dir" passed) - $(vni_ctr "$p0" "$n" "$dir" passed)))
		note "vni $n $dir: iperf3 sent $sent datagrams, counted $got"
		[ "$sent" -gt 0 ] && [ "$got" -ge "$sent" ] && [ "$got" -le $((sent + 80)) ] ||
			res_bad "vni $n $dir: counted $got packets, iperf3 sent $sent"
		[ "$(vni_ctr "$p1" "$n" "$dir" dropped)" -eq 0 ] ||
			res_bad "vni $n $dir: drops in monitor mode"
	done
	# the iperf3 control connections go the other way: a few packets
	[ "$(vni_ctr "$p1" 00c9 egress passed)" -lt 200 ] ||
		res_bad "vni 00c9 egress: $(vni_ctr "$p1" 00c9 egress passed) packets, want only iperf3's acks"
	note "stats: $(tr '\n' ' ' <"$WORK/vst.txt" | cut -c1-600)"
	# ranked by bits/s: 00c9 (8), 00cb (4), 00ca (2)
	local order
	order=$(grep '"vni"' "$WORK/vst.json" | "$PY" -c '
import json, sys
print(" ".join(json.loads(l)["netid"] for l in sys.stdin))')
	note "stats -j order: $order"
	[ "$order" = "00c9 00cb 00ca" ] || res_bad "stats order $order, want 00c9 00cb 00ca"
	bps=$(grep '"netid":"00c9"' "$WORK/vst.json" | jget "d['ingress']['bits_per_sec']")
	local want=$(calc "8000000 * $VXWIRE / 1400")
	note "stats 00c9 ingress ${bps:-?} bit/s, want ~$want"
	within "${bps:-0}" "$want" 15 || res_bad "stats 00c9: ${bps:-none} bit/s, want $want +-15%"
	bps=$(grep '"netid":"00cb"' "$WORK/vst.json" | jget "d['ingress']['bits_per_sec']")
	want=$(calc "4000000 * $VXWIRE6 / 1400")
	note "stats 00cb ingress (IPv6 underlay) ${bps:-?} bit/s, want ~$want"
	within "${bps:-0}" "$want" 15 || res_bad "stats 00cb: ${bps:-none} bit/s, want $want +-15%"
	res_end
}

# `attach vxbackend vni 00c9 rate 4mbit`: 00c9 held to 4 Mbit/s under a
# 10 Mbit/s flood, 00ca's 6 Mbit/s next to it untouched, nothing else on
# the device dropped.
test_vxbackend_limit() {
	local p0 p1 d9 da pa wb want
	res_begin vxbackend_limit_one_network
	tb attach "$VXB" monitor >/dev/null 2>&1
	tb_try attach "$VXB" vni 00c9 rate 4mbit burst 32k
	if [ "$TB_RC" -ne 0 ]; then
		res_bad "attach $VXB vni 00c9 exited $TB_RC: $TB_ERR"
		res_end
		return
	fi
	p0=$(scrape_prometheus)
	flow_start l9 from="$PEER_NS" to="$HOST_NS" addr=10.207.201.1 bw=10M len=1400 time=5
	flow_start la from="$PEER_NS" to="$HOST_NS" addr=10.207.202.1 bw=6M len=1400 time=5
	flow_wait l9 1 || res_bad "iperf3 00c9 failed: $FLOW_ERR"
	local w9=$FLOW_WIRE
	flow_wait la 1 || res_bad "iperf3 00ca failed: $FLOW_ERR"
	local wa=$FLOW_WIRE sa=$(sent_packets la)
	p1=$(scrape_prometheus)
	d9=$(($(vni_ctr "$p1" 00c9 ingress dropped) - $(vni_ctr "$p0" 00c9 ingress dropped)))
	da=$(($(vni_ctr "$p1" 00ca ingress dropped) - $(vni_ctr "$p0" 00ca ingress dropped)))
	pa=$(($(vni_ctr "$p1" 00ca ingress passed) - $(vni_ctr "$p0" 00ca ingress passed)))
	# what 00c9 delivered, on the underlay: the inner frames' wire rate
	# scaled to the outer frame
	wb=$(calc "$w9 * $VXWIRE / (1400 + 42)")
	want=4000000
	note "00c9: received $(mbit "$wb") Mbit/s on the underlay (limit 4), $d9 dropped"
	note "00ca: received $(mbit "$wa") Mbit/s inner, iperf3 sent $sa, counted $pa, $da dropped"
	within "$wb" "$want" 10 || res_bad "00c9 received $(mbit "$wb") Mbit/s, want 4 +-10%"
	[ "$d9" -gt 0 ] || res_bad "00c9: nothing dropped by its limit"
	[ "$da" -eq 0 ] || res_bad "00ca: $da dropped, want none (no limit of its own)"
	[ "$pa" -ge "$sa" ] || res_bad "00ca: counted $pa packets, iperf3 sent $sa"
	local devdrop
	devdrop=$(tb -j show "$VXB" | jget "sum(d[0][x]['classes'][c]['dropped_packets'] for x in ('ingress', 'egress') for c in ('default', 'allow'))")
	[ "${devdrop:-1}" -eq 0 ] || res_bad "the device's own settings dropped ${devdrop:-?} packets"
	local sh
	sh=$(tb -j show "$VXB" | jget "[(n['netid'], n['limited'], n['ingress']['dropped_packets'] > 0) for n in d[0]['vxlan']['networks'] if n['netid'] in ('00c9', '00ca')]")
	note "show -j networks (netid, limited, dropped): $sh"
	[ "$sh" = '[["00c9", true, true], ["00ca", false, false]]' ] ||
		res_bad "show -j vxlan networks: $sh"
	# non-VXLAN traffic on the underlay passes
	ns_run "$PEER_NS" ping -c3 -i0.2 -W2 -q 10.206.9.1 >/dev/null 2>&1 ||
		res_bad "ping over the underlay failed"
	res_end

	# `detach vxbackend vni 00c9`: the limit goes, the counting stays
	res_begin vxbackend_detach_one_network
	tb_try detach "$VXB" vni 00c9
	[ "$TB_RC" -eq 0 ] || res_bad "detach $VXB vni 00c9 exited $TB_RC: $TB_ERR"
	tb_try detach "$VXB" vni 00c9
	[ "$TB_RC" -ne 0 ] || res_bad "a second detach of vni 00c9 succeeded"
	p0=$(scrape_prometheus)
	flow_start l9b from="$PEER_NS" to="$HOST_NS" addr=10.207.201.1 bw=10M len=1400 time=2
	flow_wait l9b 0 || res_bad "iperf3 00c9 failed: $FLOW_ERR"
	p1=$(scrape_prometheus)
	d9=$(($(vni_ctr "$p1" 00c9 ingress dropped) - $(vni_ctr "$p0" 00c9 ingress dropped)))
	local s9=$(sent_packets l9b)
	local c9=$(($(vni_ctr "$p1" 00c9 ingress passed) - $(vni_ctr "$p0" 00c9 ingress passed)))
	note "00c9 after detach: iperf3 sent $s9 at 10 Mbit/s, counted $c9, $d9 dropped"
	[ "$d9" -eq 0 ] || res_bad "00c9: $d9 dropped after its limit was removed"
	[ "$c9" -ge "$s9" ] && [ "$s9" -gt 0 ] || res_bad "00c9: counted $c9, iperf3 sent $s9"
	sh=$(tb -j show "$VXB" | jget "[n['limited'] for n in d[0]['vxlan']['networks'] if n['netid'] == '00c9']")
	[ "$sh" = '[false]' ] || res_bad "show: 00c9 limited: $sh"
	tb detach "$VXB" >/dev/null 2>&1
	res_end
}

# --------------------------------------------------------------------- main

main() {
	local names=("$@") t
	[ ${#names[@]} -gt 0 ] || names=("${TESTS[@]}")
	if [ "$(id -u)" -ne 0 ]; then
		for t in "${names[@]}"; do skip "${t#test_}" "needs root"; done
		exit 0
	fi
	for t in iperf3 "$PY" nsenter ip flock unshare; do
		command -v "$t" >/dev/null || { fail vxlan_setup "$t not found"; exit 1; }
	done
	[ -x "$TCBPF" ] || { fail vxlan_setup "$TCBPF not built (make)"; exit 1; }
	exec 7>"$VX_LOCK"
	flock -w 300 7 || { fail vxlan_setup "another run holds $VX_LOCK"; exit 1; }
	lib_init || { fail vxlan_setup "mktemp failed"; exit 1; }
	trap vx_cleanup EXIT
	trap 'exit 130' INT TERM
	if ! vx_setup; then
		fail vxlan_setup "cannot build the test namespaces"
		exit 1
	fi
	for t in "${names[@]}"; do
		vlog "== $t"
		"$t"
	done
	echo "  # vxlan: $NPASS passed, $NFAIL failed, $NSKIP skipped"
	[ "$NFAIL" -eq 0 ]
}

main "$@"
