#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/monitor.sh - monitoring, export, watch and network-id operations,
# with real traffic and the real servers (Debian's influxdb and prometheus).
#
#   tests/monitor.sh [test_name...]    default: every test_* in TESTS
#   V=1                                show the tcbpf commands
#
# Topology (its own names and ifindexes, so that the integration suite
# can run at the same time on a shared machine; nothing has a route out):
#
#   tcbpf-mon-host   the hypervisor side; influxd, prometheus and
#                    `tcbpf export prometheus` listen on ITS loopback
#     vm-7-01a2  10.205.1.1/24  (ifindex 32051) -- tcbpf-mon-vm   eth0 .2
#     vm-8-01a3  10.205.2.1/24  (ifindex 32052) -- tcbpf-mon-vm2  eth0 .2
#     pub-01a2   10.205.3.1/24  (ifindex 32053) -- tcbpf-mon-pub  eth0 .2
#     vx-01a2 (32054) <-> spc-01a2 (32055)       a veth pair, no addresses
#   tcbpf-mon-other  one veth with ifindex 32055 (net ops failure test)
#
# Network 0x1a2 thus has four interfaces here (vm-7-01a2, vx-01a2,
# spc-01a2, pub-01a2), network 0x1a3 one. Prints PASS/FAIL/SKIP lines and
# "  # ..." lines with the measurements; exits 1 if anything failed. When
# influxd or prometheus are missing or do not start, their tests FAIL with
# CI=true and SKIP otherwise.
set -u
. "$(dirname "$0")/lib.sh"

HOST_NS=tcbpf-mon-host
VM_NS=tcbpf-mon-vm
VM2_NS=tcbpf-mon-vm2
PUB_NS=tcbpf-mon-pub
HOST2_NS=tcbpf-mon-other
DEV=vm-7-01a2 DEV_IFX=32051
DEV2=vm-8-01a3 DEV2_IFX=32052
PUB=pub-01a2 PUB_IFX=32053
VX=vx-01a2 VX_IFX=32054
SPC=spc-01a2 SPC_IFX=32055
GONE=vm-9-01a4 GONE_IFX=32056
NET_DEVS="$PUB $SPC $DEV $VX"		# network 0x1a2, sorted by name
ALL_DEVS="$DEV $DEV2 $PUB $VX $SPC $GONE"
MON_LOCK=/run/tcbpf-monitor.lock
WIRE=1512	# a 1470-byte UDP payload as the hook counts it (+ UDP, IP, Ethernet)

TESTS=(
	test_monitor_counts
	test_monitor_stats_live_change
	test_stats_output
	test_export
	test_watch
	test_watch_pps
	test_alert_script
	test_net_ops
)

SRV_PIDS=()
INFLUX_PORT='' PROM_PORT='' EXPORT_PORT=''
SERVERS_WHY=

# ------------------------------------------------------------------ helpers

hrun() { ns_run "$HOST_NS" "$@"; }
now_ns() { date +%s%N; }

# tb_try ARGS...: TB_RC, TB_OUT, TB_ERR of `tcbpf -n tcbpf-mon-host ARGS`
tb_try() {
	TB_OUT=$(tb "$@" 2>"$WORK/tb.err")
	TB_RC=$?
	TB_ERR=$(tr '\n' ' ' <"$WORK/tb.err")
}

# mode_of DEV DIR: the mode `show -j` reports ("" when no limiter)
mode_of() {
	tb -j show "$1" 2>/dev/null | jget "d[0]['$2']['mode']"
}

# free_port: a free TCP port on the host namespace's loopback
free_port() {
	hrun "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL GREP [GREP-OPTION]: until the answer at URL (host netns,
# headers and body) matches, for up to 15 s
wait_http() {
	for _ in $(seq 1 150); do
		hrun curl -si --max-time 1 "$1" 2>/dev/null | grep -q ${3:-} "$2" && return 0
		sleep 0.1
	done
	return 1
}

# server_missing NAME WHY: FAIL on CI, SKIP elsewhere
server_missing() {
	if [ "${CI:-}" = true ]; then
		res_bad "$1: $2"
	else
		res_skip "$1: $2"
	fi
}

# Flows (iperf3 UDP, 1470-byte payload) from a "VM" to the host side.
flood() { # NAME VMNS HOSTIP PORT BW SECS
	flow_start "$1" from="$2" to="$HOST_NS" addr="$3" port="$4" bw="$5" time="$6"
}

# sent_packets NAME: datagrams the iperf3 client of a flow sent
sent_packets() {
	"$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["end"]["sum"]["packets"])' "${FLOW_TX[$1]}" 2>/dev/null || echo 0
}

# ---------------------------------------------------------------- topology

pair_mk() { # DEV IFX VMNS SUBNET
	ip netns add "$3" || return 1
	ip -n "$HOST_NS" link add "$1" index "$2" type veth peer name eth0 netns "$3" || return 1
	ip -n "$HOST_NS" addr add "10.205.$4.1/24" dev "$1" || return 1
	ip -n "$3" addr add "10.205.$4.2/24" dev eth0 || return 1
	ip -n "$3" link set lo up && ip -n "$3" link set eth0 up &&
		ip -n "$HOST_NS" link set "$1" up
}

mon_setup() {
	mon_teardown
	ip netns add "$HOST_NS" || return 1
	ip -n "$HOST_NS" link set lo up || return 1
	pair_mk "$DEV" "$DEV_IFX" "$VM_NS" 1 || return 1
	pair_mk "$DEV2" "$DEV2_IFX" "$VM2_NS" 2 || return 1
	pair_mk "$PUB" "$PUB_IFX" "$PUB_NS" 3 || return 1
	ip -n "$HOST_NS" link add "$VX" index "$VX_IFX" type veth peer name "$SPC" \
		index "$SPC_IFX" || return 1
	ip -n "$HOST_NS" link set "$VX" up && ip -n "$HOST_NS" link set "$SPC" up || return 1
	ns_run "$VM_NS" ping -c1 -W2 -q 10.205.1.1 >/dev/null 2>&1
	ns_run "$VM2_NS" ping -c1 -W2 -q 10.205.2.1 >/dev/null 2>&1
	ns_run "$PUB_NS" ping -c1 -W2 -q 10.205.3.1 >/dev/null 2>&1
	return 0
}

mon_detach_all() {
	local d
	ns_exists "$HOST_NS" || return 0
	for d in $ALL_DEVS; do
		tb detach "$d" >/dev/null 2>&1
	done
	ns_exists "$HOST2_NS" && "$TCBPF" -n "$HOST2_NS" detach blk0 >/dev/null 2>&1
	return 0
}

mon_teardown() {
	local ns pid
	[ -x "$TCBPF" ] && mon_detach_all
	for ns in "$HOST_NS" "$VM_NS" "$VM2_NS" "$PUB_NS" "$HOST2_NS"; do
		ns_exists "$ns" || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$pid" 2>/dev/null
		done
	done
	for ns in "$VM_NS" "$VM2_NS" "$PUB_NS" "$HOST2_NS" "$HOST_NS"; do
		ns_exists "$ns" && ip netns del "$ns"
	done
	return 0
}

mon_cleanup() {
	local pid
	for pid in "${BG_PIDS[@]}" "${SRV_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${SRV_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	mon_teardown
	py_stop
	pins_private_remove
	[ -n "$WORK" ] && [ -z "${KEEP:-}" ] && rm -rf "$WORK"
	WORK=
	return 0
}

# ------------------------------------------------------------------ servers

# Both servers run in the host namespace on its loopback, with their data
# in $WORK, on free ports; started once, up front (Prometheus takes ~5 s
# to its first scrape).
start_servers() {
	local missing=
	command -v influxd >/dev/null || missing="influxd (package influxdb)"
	command -v prometheus >/dev/null || missing="${missing:+$missing, }prometheus"
	command -v curl >/dev/null || missing="${missing:+$missing, }curl"
	if [ -n "$missing" ]; then
		SERVERS_WHY="not installed: $missing (scripts/install-deps.sh installs them)"
		return 1
	fi
	INFLUX_PORT=$(free_port) && PROM_PORT=$(free_port) && EXPORT_PORT=$(free_port) ||
		{ SERVERS_WHY="no free port"; return 1; }
	local rpc
	rpc=$(free_port)
	mkdir -p "$WORK/influx" "$WORK/prom"
	cat >"$WORK/influx/influxdb.conf" <<EOF
reporting-disabled = true
bind-address = "127.0.0.1:$rpc"
[meta]
  dir = "$WORK/influx/meta"
[data]
  dir = "$WORK/influx/data"
  wal-dir = "$WORK/influx/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$INFLUX_PORT"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
EOF
	cat >"$WORK/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
scrape_configs:
  - job_name: tcbpf
    static_configs:
      - targets: ['127.0.0.1:$EXPORT_PORT']
EOF
	hrun influxd -config "$WORK/influx/influxdb.conf" >"$WORK/influx/log" 2>&1 &
	SRV_PIDS+=($!)
	hrun prometheus --config.file="$WORK/prom/prometheus.yml" \
		--storage.tsdb.path="$WORK/prom/data" \
		--web.listen-address="127.0.0.1:$PROM_PORT" >"$WORK/prom/log" 2>&1 &
	SRV_PIDS+=($!)
	"$TCBPF" -n "$HOST_NS" export prometheus listen "127.0.0.1:$EXPORT_PORT" \
		>"$WORK/export-prom.log" 2>&1 &
	SRV_PIDS+=($!)
	if ! wait_http "http://127.0.0.1:$INFLUX_PORT/ping" X-Influxdb-Version -i; then
		SERVERS_WHY="influxd did not answer on 127.0.0.1:$INFLUX_PORT: $(tail -3 "$WORK/influx/log" | tr '\n' ' ')"
		return 1
	fi
	hrun curl -s -XPOST "http://127.0.0.1:$INFLUX_PORT/query" \
		--data-urlencode 'q=CREATE DATABASE tcbpf' >/dev/null
	if ! wait_http "http://127.0.0.1:$PROM_PORT/-/ready" ready -i; then
		SERVERS_WHY="prometheus not ready on 127.0.0.1:$PROM_PORT: $(tail -3 "$WORK/prom/log" | tr '\n' ' ')"
		return 1
	fi
	return 0
}

# influxql QUERY: the JSON answer of InfluxDB's /query (db tcbpf)
influxql() {
	hrun curl -sG "http://127.0.0.1:$INFLUX_PORT/query" --data-urlencode db=tcbpf \
		--data-urlencode epoch=ns --data-urlencode "q=$1"
}

# promql QUERY [TIME]: the JSON answer of Prometheus' /api/v1/query
promql() {
	hrun curl -sG "http://127.0.0.1:$PROM_PORT/api/v1/query" \
		--data-urlencode "query=$1" ${2:+--data-urlencode "time=$2"}
}

# -------------------------------------------------------------------- tests

# Monitor mode counts every packet and drops none: the counters against
# the datagrams iperf3 sent.
test_monitor_counts() {
	local before after sent dp db dd
	res_begin monitor_counts_every_packet
	tb_try attach "$DEV" monitor
	if [ "$TB_RC" -ne 0 ]; then
		res_bad "attach $DEV monitor exited $TB_RC: $TB_ERR"
		res_end
		return
	fi
	[ "$(mode_of "$DEV" ingress)/$(mode_of "$DEV" egress)" = monitor/monitor ] ||
		res_bad "modes after attach monitor: $(mode_of "$DEV" ingress)/$(mode_of "$DEV" egress)"
	before=$(tb -j show "$DEV")
	flood cnt "$VM_NS" 10.205.1.1 5311 30M 2
	flow_wait cnt 0
	after=$(tb -j show "$DEV")
	sent=$(sent_packets cnt)
	read -r dp db dd < <("$PY" -c '
import json, sys
b, a = json.loads(sys.argv[1])[0], json.loads(sys.argv[2])[0]
c = lambda o, k: sum(o["ingress"]["classes"][x][k] for x in ("default", "allow"))
print(c(a, "passed_packets") - c(b, "passed_packets"),
      c(a, "passed_bytes") - c(b, "passed_bytes"),
      c(a, "dropped_packets") - c(b, "dropped_packets"))' "$before" "$after")
	note "iperf3 sent $sent datagrams; monitor counted ${dp:-?} packets, ${db:-?} bytes passed, ${dd:-?} dropped"
	if [ -n "$FLOW_ERR" ] || [ "$sent" -eq 0 ]; then
		res_bad "iperf3 failed: $FLOW_ERR"
	else
		[ "${dd:-1}" -eq 0 ] || res_bad "$dd packets dropped in monitor mode"
		# the iperf3 control connection adds a few dozen packets
		[ "${dp:-0}" -ge "$sent" ] && [ "$dp" -le $((sent + 60)) ] ||
			res_bad "counted $dp packets, iperf3 sent $sent"
		within "${db:-0}" "$((sent * WIRE))" 1 ||
			res_bad "counted $db bytes, want $((sent * WIRE)) (+-1%)"
	fi
	res_end
}

# stats -j during one flood that goes monitor -> police -> monitor with
# `change`, live: the rates of each phase against what iperf3 offered.
test_monitor_stats_live_change() {
	local offered police=5000000 out
	res_begin monitor_stats_live_change
	tb attach "$DEV" monitor >/dev/null 2>&1
	flood live "$VM_NS" 10.205.1.1 5312 40M 8
	sleep 0.3
	"$TCBPF" -n "$HOST_NS" -j stats "$DEV" interval 1 count 7 >"$WORK/stats.jsonl" 2>"$WORK/stats.err" &
	local spid=$!
	BG_PIDS+=("$spid")
	sleep 2.3
	tb change "$DEV" ingress mode police rate 5mbit burst 32k >/dev/null 2>&1 ||
		res_bad "change to police failed"
	sleep 2.3
	tb change "$DEV" monitor >/dev/null 2>&1 || res_bad "change back to monitor failed"
	wait "$spid"
	flow_wait live 0
	if [ -n "$FLOW_ERR" ]; then
		res_bad "iperf3 failed: $FLOW_ERR"
		res_end
		return
	fi
	offered=$(calc "$FLOW_SENT * $WIRE / 1470")
	# a reference of 0 would make every comparison below vacuous
	ge "$offered" 1000000 || res_bad "iperf3 reported no offered rate ($FLOW_SENT)"
	out=$("$PY" - "$WORK/stats.jsonl" "$offered" "$police" <<'EOF'
import json, sys
path, offered, police = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
s = {}
for ln in open(path):
    o = json.loads(ln)
    if o["ifname"] != "vm-7-01a2" or o["dir"] != "ingress":
        continue
    t = s.setdefault(o["time_ns"], {"mode": o["mode"], "seen": 0, "passed": 0,
                                    "dropped": 0, "pkts": 0})
    t["seen"] += o["seen_bits_per_sec"]
    t["passed"] += o["passed_bits_per_sec"]
    t["dropped"] += o["dropped_bits_per_sec"]
    t["pkts"] += o["seen_packets_per_sec"]
rows = [s[k] for k in sorted(s)]
bad = []
print("NOTE intervals (mode seen/passed/dropped Mbit/s): " + "; ".join(
    "%s %.2f/%.2f/%.2f" % (r["mode"], r["seen"] / 1e6, r["passed"] / 1e6,
                           r["dropped"] / 1e6) for r in rows))
if len(rows) < 6:
    bad.append("only %d intervals" % len(rows))
# an interval is all of one mode when the one before ended in it too
mon = [r for i, r in enumerate(rows) if r["mode"] == "monitor" and i > 0
       and rows[i - 1]["mode"] == "monitor"]
pol = [r for i, r in enumerate(rows) if r["mode"] == "police" and i > 0
       and rows[i - 1]["mode"] == "police"]
if len(rows) and rows[0]["mode"] == "monitor":
    mon.insert(0, rows[0])
mon = [r for r in mon if r["seen"] > 0.5 * offered]   # not the flow's end
if not mon or not pol:
    bad.append("no whole monitor (%d) or police (%d) interval" % (len(mon), len(pol)))
for r in mon:
    if r["dropped"]:
        bad.append("monitor interval dropped %.2f Mbit/s" % (r["dropped"] / 1e6))
    if abs(r["seen"] - offered) > 0.05 * offered:
        bad.append("monitor: seen %.2f Mbit/s, iperf3 offered %.2f (+-5%%)"
                   % (r["seen"] / 1e6, offered / 1e6))
for r in pol:
    if abs(r["passed"] - police) > 0.15 * police:
        bad.append("police: passed %.2f Mbit/s, want 5 (+-15%%)" % (r["passed"] / 1e6))
    if abs(r["seen"] - offered) > 0.05 * offered:
        bad.append("police: seen %.2f Mbit/s, offered %.2f (+-5%%)"
                   % (r["seen"] / 1e6, offered / 1e6))
err = [abs(r["seen"] - offered) / offered * 100 for r in mon + pol]
if err:
    print("NOTE stats vs iperf3 offered %.2f Mbit/s: worst error %.2f%%, mean %.2f%%"
          % (offered / 1e6, max(err), sum(err) / len(err)))
for b in bad:
    print("BAD " + b)
EOF
)
	while IFS= read -r l; do
		case $l in
		NOTE\ *) note "${l#NOTE }" ;;
		BAD\ *) res_bad "${l#BAD }" ;;
		esac
	done <<<"$out"
	[ -s "$WORK/stats.err" ] && note "stats stderr: $(head -c 200 "$WORK/stats.err")"
	res_end
}

# Output formats and selection: text, -j lines, --influx line protocol,
# "net NETID", errors.
test_stats_output() {
	tb attach "$DEV2" monitor >/dev/null 2>&1
	tb attach "$PUB" monitor >/dev/null 2>&1

	res_begin stats_influx_line_protocol
	tb_try stats net 1a2 interval 0.3 count 1 --influx
	[ "$TB_RC" -eq 0 ] || res_bad "stats --influx exited $TB_RC: $TB_ERR"
	"$PY" - "$TB_OUT" <<'EOF' | while IFS= read -r l; do res_bad "$l"; done
import re, sys
lines = [l for l in sys.argv[1].splitlines() if l]
pat = re.compile(r'^tcbpf_rate,dev=([^, ]+),dir=(ingress|egress),class=(default|allow)'
                 r'(,netid=([0-9a-f]+))? ((seen|passed|dropped)_(bps|pps)=\d+i,?){6} (\d{19})$')
devs = set()
for l in lines:
    m = pat.match(l)
    if not m:
        print("bad line: %r" % l)
        continue
    devs.add(m.group(1))
    if m.group(5) != "01a2":
        print("netid tag %r in %r" % (m.group(5), l))
if devs != {"vm-7-01a2", "pub-01a2"}:
    print("devices %s, want vm-7-01a2 and pub-01a2 (the attached ones of net 1a2)" % sorted(devs))
if len(lines) != 8:
    print("%d lines, want 8 (2 devices x 2 directions x 2 classes)" % len(lines))
EOF
	res_end

	res_begin stats_json_lines
	tb_try -j stats "$DEV2" interval 0.3 count 2
	[ "$TB_RC" -eq 0 ] || res_bad "-j stats exited $TB_RC: $TB_ERR"
	"$PY" - "$TB_OUT" <<'EOF' | while IFS= read -r l; do res_bad "$l"; done
import json, sys
keys = {"time_ns", "interval_ms", "ifname", "ifindex", "netid", "dir", "class", "mode",
        "seen_bits_per_sec", "seen_packets_per_sec", "passed_bits_per_sec",
        "passed_packets_per_sec", "dropped_bits_per_sec", "dropped_packets_per_sec"}
lines = [l for l in sys.argv[1].splitlines() if l]
if len(lines) != 8:
    print("%d lines, want 8" % len(lines))
for l in lines:
    o = json.loads(l)
    if set(o) != keys:
        print("keys %s" % sorted(set(o) ^ keys))
    if o["ifname"] != "vm-8-01a3" or o["netid"] != "01a3" or o["mode"] != "monitor":
        print("line %s" % l)
    if not 250 <= o["interval_ms"] <= 450:
        print("interval_ms %s, want ~300" % o["interval_ms"])
EOF
	res_end

	res_begin stats_text_and_errors
	tb_try stats interval 0.2 count 1
	grep -q '^DEV ' <<<"$TB_OUT" && grep -q "^$DEV2 " <<<"$TB_OUT" ||
		res_bad "text: no header or no $DEV2 row: $TB_OUT"
	tb_try stats no-such-dev count 1
	[ "$TB_RC" -eq 1 ] || res_bad "stats of an unknown device exited $TB_RC, want 1"
	tb_try stats "$DEV2" interval 0 count 1
	[ "$TB_RC" -eq 2 ] || res_bad "interval 0 exited $TB_RC, want 2"
	tb_try stats net zz count 1
	[ "$TB_RC" -eq 2 ] || res_bad "net zz exited $TB_RC, want 2"
	local args
	for args in "watch vm-*" "watch bps 10qbit" "watch bps 1mbit then rate" \
		"watch pps 10 exec /nonexistent" "export prometheus listen nowhere" \
		"export influx ftp://x" "export nothing"; do
		# shellcheck disable=SC2086
		tb_try $args
		[ "$TB_RC" -eq 2 ] || res_bad "\"$args\" exited $TB_RC, want 2 (usage)"
	done
	res_end
}

# One flood, both exporters: InfluxDB (push, then query the points back)
# and Prometheus (scrape, then query the series back).
test_export() {
	local t0 t1 sent expr out
	if [ -n "$SERVERS_WHY" ]; then
		for t in export_influx_counters export_influx_rate export_prometheus_format export_prometheus_rate; do
			res_begin "$t"
			server_missing "$t" "$SERVERS_WHY"
			res_end
		done
		return
	fi
	tb attach "$DEV" monitor >/dev/null 2>&1
	# Prometheus scrapes its first target ~5 s after start
	for _ in $(seq 1 150); do
		[ "$(promql 'up{job="tcbpf"}' | jget 'd["data"]["result"][0]["value"][1]')" = 1 ] && break
		sleep 0.1
	done
	"$TCBPF" -n "$HOST_NS" export influx "http://127.0.0.1:$INFLUX_PORT/write?db=tcbpf" interval 1 count 9 \
		>"$WORK/export-influx.log" 2>&1 &
	local epid=$!
	BG_PIDS+=("$epid")
	sleep 1.3
	t0=$(now_ns)
	flood exp "$VM_NS" 10.205.1.1 5313 30M 5
	flow_wait exp 0
	t1=$(now_ns)
	wait "$epid"
	local erc=$?
	sent=$(sent_packets exp)
	expr=$(calc "$FLOW_SENT * $WIRE / 1470")
	ge "$expr" 1000000 || echo "FAIL: export_reference: iperf3 reported no offered rate ($FLOW_SENT)"

	res_begin export_influx_counters
	[ "$erc" -eq 0 ] || res_bad "export influx exited $erc: $(head -c 300 "$WORK/export-influx.log")"
	out=$(influxql "SELECT spread(passed_packets) AS p, spread(passed_bytes) AS b, spread(dropped_packets) AS d, count(passed_bytes) AS n FROM tcbpf WHERE dev='$DEV' AND dir='ingress' AND class='default' AND netid='01a2'")
	local p b d n
	read -r p b d n < <("$PY" -c '
import json, sys
r = json.loads(sys.argv[1])["results"][0]["series"][0]["values"][0]
print(r[1], r[2], r[3], r[4])' "$out" 2>/dev/null)
	note "influx: $n points; passed $p packets / $b bytes over the flood; iperf3 sent $sent datagrams ($((sent * WIRE)) bytes on the wire)"
	if [ -z "${n:-}" ]; then
		res_bad "no points for $DEV in InfluxDB: $(head -c 300 <<<"$out")"
	else
		[ "$n" -ge 7 ] || res_bad "$n points, want >= 7 (9 batches)"
		[ "$p" -ge "$sent" ] && [ "$p" -le $((sent + 60)) ] ||
			res_bad "passed_packets grew by $p, iperf3 sent $sent"
		within "$b" "$((sent * WIRE))" 1 || res_bad "passed_bytes grew by $b, want $((sent * WIRE)) +-1%"
		[ "$d" -eq 0 ] || res_bad "dropped_packets $d in monitor mode"
	fi
	res_end

	res_begin export_influx_rate
	# the server derives the rate from the counters
	out=$(influxql "SELECT non_negative_derivative(passed_bytes, 1s) * 8 FROM tcbpf WHERE dev='$DEV' AND dir='ingress' AND class='default' AND time >= ${t0} AND time <= ${t1}")
	local med
	med=$("$PY" -c '
import json, sys
want = float(sys.argv[2])
try:
    v = [r[1] for r in json.loads(sys.argv[1])["results"][0]["series"][0]["values"]]
except Exception:
    sys.exit(0)
v = sorted(x for x in v if x > 0.5 * want)   # the flow, not its ends
print(v[len(v) // 2] if v else 0)' "$out" "$expr")
	note "influx: non_negative_derivative(passed_bytes) median $(mbit "${med:-0}") Mbit/s; iperf3 offered $(mbit "$expr") Mbit/s on the wire"
	within "${med:-0}" "$expr" 5 || res_bad "InfluxQL rate $(mbit "${med:-0}") Mbit/s, want $(mbit "$expr") +-5%"
	res_end

	res_begin export_prometheus_format
	out=$(hrun curl -s "http://127.0.0.1:$EXPORT_PORT/metrics")
	local lint
	lint=$(promtool check metrics <<<"$out" 2>&1) || res_bad "promtool check metrics: $lint"
	grep -q "^tcbpf_packets_total{device=\"$DEV\",direction=\"ingress\",class=\"default\",netid=\"01a2\",verdict=\"passed\"} [0-9]" <<<"$out" ||
		res_bad "no tcbpf_packets_total series for $DEV in /metrics"
	grep -q '^# TYPE tcbpf_bytes_total counter' <<<"$out" || res_bad "tcbpf_bytes_total is not a counter"
	out=$(promql 'up{job="tcbpf"}')
	[ "$(jget 'd["data"]["result"][0]["value"][1]' <<<"$out")" = 1 ] ||
		res_bad "Prometheus: up{job=tcbpf} is not 1: $(head -c 200 <<<"$out")"
	res_end

	res_begin export_prometheus_rate
	local mid q got
	# a 3 s window that ends 1 s before the flow did: all inside the flow
	mid=$(awk -v b="$t1" 'BEGIN { printf "%.3f", b / 1e9 - 1 }')
	q="sum(rate(tcbpf_bytes_total{device=\"$DEV\",direction=\"ingress\",netid=\"01a2\"}[3s])) * 8"
	out=$(promql "$q" "$mid")
	got=$(jget 'd["data"]["result"][0]["value"][1]' <<<"$out")
	[ "${V:-0}" = 1 ] && promql "tcbpf_bytes_total{device=\"$DEV\",direction=\"ingress\",class=\"default\",verdict=\"passed\"}[10s]" "$(awk -v b="$t1" 'BEGIN { printf "%.3f", b / 1e9 }')" >&2 && echo "t0=$t0 t1=$t1" >&2
	note "prometheus: $q at the flow's end - 1 s = $(mbit "${got:-0}") Mbit/s; iperf3 offered $(mbit "$expr")"
	if [ -z "$got" ]; then
		res_bad "no answer from Prometheus: $(head -c 300 <<<"$out")"
	else
		within "$got" "$expr" 7 || res_bad "PromQL rate $(mbit "$got") Mbit/s, want $(mbit "$expr") +-7%"
	fi
	out=$(promql "count(tcbpf_packets_total{netid=\"01a2\",device=\"$DEV\"})")
	[ "$(jget 'd["data"]["result"][0]["value"][1]' <<<"$out")" = 8 ] ||
		res_bad "want 8 tcbpf_packets_total series for $DEV (2 dirs x 2 classes x 2 verdicts): $(head -c 200 <<<"$out")"
	res_end
}

# watch: a flood over the threshold is clamped within 2 s, the event and
# the hook fire once, a device under the threshold and a device not
# watched are left alone, devices come and go, the clamp is released.
test_watch() {
	local t0 hook lat n ts dir result seen
	for d in "$DEV" "$DEV2" "$PUB"; do
		tb attach "$d" monitor >/dev/null 2>&1
	done
	cat >"$WORK/hook.sh" <<EOF
#!/bin/sh
env | grep '^TCBPF_' | sort >"$WORK/hook.\$TCBPF_EVENT.\$TCBPF_DEV.\$\$"
EOF
	chmod +x "$WORK/hook.sh"
	rm -f "$WORK"/hook.*.*
	# not through tb(): $! must be tcbpf itself, not a subshell
	"$TCBPF" -n "$HOST_NS" watch 'vm-*' bps 20mbit 'then' rate 5mbit burst 64k release-after 2 \
		exec "$WORK/hook.sh" auto-monitor >"$WORK/watch.jsonl" 2>"$WORK/watch.err" &
	local wpid=$!
	BG_PIDS+=("$wpid")
	sleep 1
	flood w8 "$VM2_NS" 10.205.2.1 5322 8M 5
	flood wp "$PUB_NS" 10.205.3.1 5323 60M 5
	# flow_start returns as it launches the client: the flood starts now
	flood w7 "$VM_NS" 10.205.1.1 5321 60M 4
	t0=$(now_ns)
	# a device that comes (auto-monitor attaches it) and goes
	ip -n "$HOST_NS" link add "$GONE" index "$GONE_IFX" type veth peer name gone0 &&
		ip -n "$HOST_NS" link set "$GONE" up
	sleep 1.5
	ip -n "$HOST_NS" link del "$GONE" 2>/dev/null
	flow_wait w7 2
	local w7_wire=$FLOW_WIRE w7_err=$FLOW_ERR
	flow_wait w8 1
	local w8_wire=$FLOW_WIRE w8_err=$FLOW_ERR
	flow_wait wp 1
	local wp_wire=$FLOW_WIRE wp_err=$FLOW_ERR
	# release: 2 s quiet after the flood
	for _ in $(seq 1 60); do
		grep -q '"event":"release"' "$WORK/watch.jsonl" && break
		sleep 0.1
	done
	local alive=yes
	kill -0 "$wpid" 2>/dev/null || alive=no
	kill -TERM "$wpid" 2>/dev/null
	wait "$wpid"
	local wrc=$?
	tb detach "$GONE" >/dev/null 2>&1	# its settings outlived it

	wev() { "$PY" -c '
import json, sys
n = 0
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o["event"] == sys.argv[2] and o.get("ifname", sys.argv[3]) == sys.argv[3]:
        n += 1
        last = o
if n:
    print(n, last.get("time_ns", 0), last.get("dir", "-"), last.get("result", "-"),
          last.get("ingress", {}).get("seen_bits_per_sec", 0))
else:
    print(0, 0, "-", "-", 0)' "$WORK/watch.jsonl" "$1" "$2"; }

	res_begin watch_clamps_within_2s
	read -r n ts dir result seen < <(wev clamp "$DEV")
	lat=$(awk -v a="$ts" -v b="$t0" 'BEGIN { printf "%.2f", (a - b) / 1e9 }')
	note "clamp of $DEV: $n event(s), ${lat} s after the flood started (offered $(mbit "$seen") Mbit/s, dir $dir, $result)"
	[ "$n" -eq 1 ] || res_bad "$n clamp events for $DEV, want 1"
	[ "$result" = ok ] || res_bad "clamp result $result: $(grep clamp "$WORK/watch.jsonl" | head -c 300)"
	[ "$dir" = ingress ] || res_bad "clamp dir $dir, want ingress"
	[ "$n" -ge 1 ] && { le "$lat" 2 && ge "$lat" 0; } || res_bad "clamped ${lat} s after the flood started, want <= 2 s"
	note "$DEV after the clamp (last 2 s): $(mbit "$w7_wire") Mbit/s on the wire [then rate 5mbit]"
	[ -z "$w7_err" ] || res_bad "flood of $DEV: $w7_err"
	[ -z "$w7_err" ] && ! within "$w7_wire" 5000000 20 &&
		res_bad "$DEV got $(mbit "$w7_wire") Mbit/s after the clamp, want 5 +-20%"
	res_end

	res_begin watch_hook_fires_once
	local hooks
	hooks=$(ls "$WORK"/hook.clamp.* 2>/dev/null | wc -l)
	[ "$hooks" -eq 1 ] || res_bad "$hooks clamp hook runs, want 1"
	hook=$(cat "$WORK"/hook.clamp.* 2>/dev/null)
	for kv in "TCBPF_DEV=$DEV" TCBPF_DIR=ingress TCBPF_EVENT=clamp TCBPF_NETID=01a2 \
		TCBPF_THRESHOLD_BITS_PER_SEC=20000000; do
		grep -qx "$kv" <<<"$hook" || res_bad "hook environment has no $kv"
	done
	local hb
	hb=$(sed -n 's/^TCBPF_BITS_PER_SEC=//p' <<<"$hook")
	ge "${hb:-0}" 20000000 || res_bad "hook TCBPF_BITS_PER_SEC=${hb:-}, want > 20000000"
	note "hook environment: $(tr '\n' ' ' <<<"$hook" | head -c 400)"
	res_end

	res_begin watch_leaves_others_alone
	read -r n _ <<<"$(wev clamp "$DEV2")"
	[ "$n" -eq 0 ] || res_bad "$DEV2 (under the threshold) clamped"
	read -r n _ <<<"$(wev clamp "$PUB")"
	[ "$n" -eq 0 ] || res_bad "$PUB (not watched) clamped"
	[ "$(mode_of "$DEV2" ingress)" = monitor ] || res_bad "$DEV2 not in monitor mode"
	[ "$(mode_of "$PUB" ingress)" = monitor ] || res_bad "$PUB not in monitor mode"
	note "$DEV2 (watched, under): $(mbit "$w8_wire") Mbit/s; $PUB (not watched, over): $(mbit "$wp_wire") Mbit/s"
	[ -z "$w8_err$wp_err" ] || res_bad "floods: $w8_err $wp_err"
	ge "$wp_wire" 30000000 || res_bad "$PUB got $(mbit "$wp_wire") Mbit/s: not over the threshold, so the test says nothing"
	within "$w8_wire" "$(calc "8000000 * $WIRE / 1470")" 10 || res_bad "$DEV2 got $(mbit "$w8_wire") Mbit/s, want 8.2 unlimited"
	res_end

	res_begin watch_devices_come_and_go
	read -r n _ <<<"$(wev monitor "$GONE")"
	[ "$n" -eq 1 ] || res_bad "auto-monitor: $n monitor events for $GONE, want 1"
	[ "$alive" = yes ] || res_bad "watch died: $(tail -3 "$WORK/watch.err")"
	[ "$wrc" -eq 0 ] || res_bad "watch exited $wrc on SIGTERM"
	grep -q '"event":"stop"' "$WORK/watch.jsonl" || res_bad "no stop event"
	res_end

	res_begin watch_release
	read -r n ts _ result _ < <(wev release "$DEV")
	[ "$n" -eq 1 ] && [ "$result" = ok ] || res_bad "$n release events ($result), want 1 ok"
	[ "$(mode_of "$DEV" ingress)/$(mode_of "$DEV" egress)" = monitor/monitor ] ||
		res_bad "$DEV after release: $(mode_of "$DEV" ingress)/$(mode_of "$DEV" egress), want monitor/monitor"
	[ "$(ls "$WORK"/hook.release.* 2>/dev/null | wc -l)" -eq 1 ] || res_bad "release hook did not run once"
	res_end
	[ "${V:-0}" = 1 ] && cat "$WORK/watch.jsonl" "$WORK/watch.err" >&2
	unset -f wev
}

# watch on packets/s alone: small packets under the bit rate threshold but
# over the packet one; "then" with a packet bucket (pps is SPEC's there).
test_watch_pps() {
	local n
	res_begin watch_pps_threshold
	tb attach "$DEV2" monitor >/dev/null 2>&1
	"$TCBPF" -n "$HOST_NS" watch "$DEV2" bps 100mbit pps 3000 dir ingress for 0.5 \
		'then' pps 1000 pburst 100 >"$WORK/watchp.jsonl" 2>"$WORK/watchp.err" &
	local wpid=$!
	BG_PIDS+=("$wpid")
	sleep 0.7
	flow_start wpps from="$VM2_NS" to="$HOST_NS" addr=10.205.2.1 port=5324 bw=4M len=64 time=4
	flow_wait wpps 2
	kill -TERM "$wpid" 2>/dev/null
	wait "$wpid"
	n=$(grep -c '"event":"clamp"' "$WORK/watchp.jsonl")
	note "64-byte datagrams at 4 Mbit/s (~7800 pkt/s offered): $n clamp(s); after it $(printf '%.0f' "$FLOW_PPS") pkt/s received [then pps 1000]"
	[ "$n" -eq 1 ] || res_bad "$n clamp events, want 1: $(head -c 300 "$WORK/watchp.jsonl") $(head -c 200 "$WORK/watchp.err")"
	[ "$(tb -j show "$DEV2" | jget 'd[0]["ingress"]["pps"]')" = 1000 ] || res_bad "$DEV2 ingress pps is not 1000 after the clamp"
	[ -z "$FLOW_ERR" ] && within "$FLOW_PPS" 1000 15 || res_bad "received $FLOW_PPS pkt/s after the clamp, want 1000 +-15% ($FLOW_ERR)"
	tb attach "$DEV2" monitor >/dev/null 2>&1
	res_end
}

# The example alert action: clamp on an alert over a threshold, change,
# release back to monitor mode.
test_alert_script() {
	local A=("$PY" "$TCBPF_ROOT/scripts/alert-action.py" --tcbpf "$TCBPF" -n "$HOST_NS"
		--state-dir "$WORK/alert-state")
	local out
	tb attach "$DEV" monitor >/dev/null 2>&1
	tb attach "$PUB" monitor >/dev/null 2>&1

	res_begin alert_script_clamps_over_threshold
	flood al "$VM_NS" 10.205.1.1 5331 40M 3
	sleep 0.5
	out=$("${A[@]}" alert --bps 20mbit --interval 1 net 1a2 rate 4mbit 2>/dev/null)
	local rc=$?
	flow_wait al 0
	[ "$rc" -eq 0 ] || res_bad "alert exited $rc: $out"
	grep -q "\"action\": \"clamp\".*\"ifname\": \"$DEV\".*\"result\": \"ok\"" <<<"$out" ||
		res_bad "no clamp of $DEV: $out"
	grep -q "\"ifname\": \"$PUB\", \"rates\".*under-threshold" <<<"$out" ||
		res_bad "$PUB not reported under the threshold: $out"
	[ "$(mode_of "$DEV" ingress)" = police ] || res_bad "$DEV ingress is $(mode_of "$DEV" ingress) after the clamp"
	[ "$(mode_of "$PUB" ingress)" = monitor ] || res_bad "$PUB changed"
	res_end

	res_begin alert_script_change_release
	out=$("${A[@]}" change "$DEV" ingress rate 6mbit 2>/dev/null) || res_bad "change: $out"
	[ "$(tb -j show "$DEV" | jget 'd[0]["ingress"]["rate_bits_per_sec"]')" = 6000000 ] ||
		res_bad "rate after change is not 6mbit"
	out=$("${A[@]}" release net 1a2 2>/dev/null) || res_bad "release: $out"
	grep -q "\"ifname\": \"$DEV\", \"restored\": \"settings\", \"result\": \"ok\"" <<<"$out" ||
		res_bad "release of $DEV: $out"
	[ "$(mode_of "$DEV" ingress)/$(mode_of "$DEV" egress)" = monitor/monitor ] ||
		res_bad "$DEV after release: $(mode_of "$DEV" ingress)/$(mode_of "$DEV" egress)"
	res_end
}

# attach|change|detach|show|stats net NETID, and all-or-nothing attach.
test_net_ops() {
	local out
	for d in $NET_DEVS; do tb detach "$d" >/dev/null 2>&1; done
	tb attach "$DEV2" monitor >/dev/null 2>&1

	res_begin net_attach_change_show
	tb_try -j attach net 0x1A2 rate 10mbit
	[ "$TB_RC" -eq 0 ] || res_bad "attach net 0x1A2 exited $TB_RC: $TB_ERR"
	out=$(jget '" ".join("%s:%s" % (o["ifname"], o["result"]) for o in d)' <<<"$TB_OUT")
	[ "$out" = "$PUB:done $SPC:done $DEV:done $VX:done" ] || res_bad "attach net report: $out"
	tb_try change net 01a2 ingress rate 2mbit
	[ "$TB_RC" -eq 0 ] || res_bad "change net exited $TB_RC: $TB_ERR"
	tb_try -j show net 1a2
	out=$(jget '" ".join("%s:%s:%s" % (o["ifname"], o["ingress"]["rate_bits_per_sec"], o["egress"]["rate_bits_per_sec"]) for o in d)' <<<"$TB_OUT")
	[ "$out" = "$PUB:2000000:10000000 $SPC:2000000:10000000 $DEV:2000000:10000000 $VX:2000000:10000000" ] ||
		res_bad "show net after change: ${out:-$TB_OUT}"
	[ "$(mode_of "$DEV2" ingress)" = monitor ] || res_bad "$DEV2 (network 1a3) touched"
	tb_try -j stats net 1a2 interval 0.2 count 1
	out=$("$PY" -c '
import json, sys
print(" ".join(sorted({json.loads(l)["ifname"] for l in sys.argv[1].splitlines() if l})))' "$TB_OUT")
	[ "$out" = "$PUB $SPC $DEV $VX" ] || res_bad "stats net 1a2 devices: $out"
	res_end

	res_begin net_attach_all_or_nothing
	for d in $NET_DEVS; do tb detach "$d" >/dev/null 2>&1; done
	tb attach "$PUB" monitor >/dev/null 2>&1
	# spc-01a2 has a classic ingress qdisc, which excludes the clsact
	# that hook tc needs: attach fails there, after pub-01a2 was done and
	# before vm-7-01a2
	tc -n "$HOST_NS" qdisc add dev "$SPC" ingress ||
		res_bad "cannot add a classic ingress qdisc to $SPC"
	tb_try -j attach net 1a2 rate 3mbit hook tc
	[ "$TB_RC" -eq 1 ] || res_bad "attach net with one failing device exited $TB_RC, want 1"
	out=$(jget '" ".join("%s:%s" % (o["ifname"], o["result"]) for o in d)' <<<"$TB_OUT")
	note "attach net 1a2 with $SPC failing: $out"
	[ "$out" = "$PUB:rolled-back $SPC:failed $DEV:not-attempted $VX:not-attempted" ] ||
		res_bad "report: $out"
	[ "$(mode_of "$PUB" ingress)/$(mode_of "$PUB" egress)" = monitor/monitor ] ||
		res_bad "$PUB not back to its monitor settings: $(mode_of "$PUB" ingress)"
	for d in "$SPC" "$DEV" "$VX"; do
		[ -z "$(mode_of "$d" ingress)" ] || res_bad "$d has a limiter after the failed attach"
	done
	# no hook asked for: $SPC falls back to tcx, quietly (the classic
	# qdisc's warning is for an attach that cannot fall back)
	tb_try -j attach net 1a2 rate 3mbit
	note "attach net 1a2, no hook, $SPC with a classic ingress qdisc: exit $TB_RC"
	[ "$TB_RC" -eq 0 ] || res_bad "attach net without a hook exited $TB_RC: $TB_ERR"
	! grep -qi "classic\|hook tcx" <<<"$TB_ERR" ||
		res_bad "attach net that fell back to tcx warned: $TB_ERR"
	out=$(tb -j show "$SPC" 2>/dev/null | jget "d[0]['hook']")
	[ "$out" = tcx ] || res_bad "$SPC's hook after the fallback: '$out', want tcx"
	tb attach net 1a2 monitor >/dev/null 2>&1
	for d in "$SPC" "$DEV" "$VX"; do tb detach "$d" >/dev/null 2>&1; done
	tc -n "$HOST_NS" qdisc del dev "$SPC" ingress
	res_end

	res_begin net_detach_and_errors
	tb attach net 1a2 monitor >/dev/null 2>&1
	tb_try detach net 1a2
	[ "$TB_RC" -eq 0 ] || res_bad "detach net exited $TB_RC: $TB_ERR"
	[ "$(sort <<<"$TB_OUT" | tr '\n' ' ')" = "$PUB: detached $SPC: detached $DEV: detached $VX: detached " ] ||
		res_bad "detach net report: $TB_OUT"
	[ "$(mode_of "$DEV2" ingress)" = monitor ] || res_bad "$DEV2 (network 1a3) touched"
	tb_try attach net xyz
	[ "$TB_RC" -eq 2 ] || res_bad "attach net xyz exited $TB_RC, want 2"
	tb_try attach net 7777
	[ "$TB_RC" -eq 1 ] || res_bad "attach net 7777 (no such interfaces) exited $TB_RC, want 1"
	tb_try change net 1a2 rate 1mbit
	[ "$TB_RC" -eq 1 ] || res_bad "change net without limiters exited $TB_RC, want 1"
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
	for t in iperf3 "$PY" bpftool nsenter ip flock; do
		command -v "$t" >/dev/null || { fail monitor_setup "$t not found"; exit 1; }
	done
	[ -x "$TCBPF" ] || { fail monitor_setup "$TCBPF not built (make)"; exit 1; }
	exec 8>"$MON_LOCK"
	flock -w 300 8 || { fail monitor_setup "another monitor run holds $MON_LOCK"; exit 1; }
	lib_init || { fail monitor_setup "mktemp failed"; exit 1; }
	trap mon_cleanup EXIT
	trap 'exit 130' INT TERM
	if ! mon_setup; then
		fail monitor_setup "cannot build the test namespaces"
		exit 1
	fi
	start_servers || note "servers: $SERVERS_WHY"
	local t0
	for t in "${names[@]}"; do
		vlog "== $t"
		t0=$SECONDS
		"$t"
		note "$t: $((SECONDS - t0)) s"
	done
	echo "  # monitor: $NPASS passed, $NFAIL failed, $NSKIP skipped"
	[ "$NFAIL" -eq 0 ]
}

main "$@"
