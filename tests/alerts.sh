#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/alerts.sh - the fleet's alert loop on one machine, with the real
# programs from Debian: `tcbpf export prometheus` -> prometheus (rules from
# docs/examples/tcbpf.rules.yml, scrape and `for:` shortened) ->
# prometheus-alertmanager -> the webhook of `tcbpf daemon` (configured by
# docs/examples/webhook.conf) -> the device is clamped; the flood stops ->
# resolved -> released after the quiet period, with the settings and the
# record from before. Also: promtool/amtool accept the shipped examples, a
# wrong token changes nothing (401), an operator's clamp is never released
# by an alert, and the InfluxDB query of docs/ALERTS.md gives the rates.
#
#   tests/alerts.sh [test_name...]    default: every test_* in TESTS
#   V=1                               show the tcbpf commands
#
# Topology (names, addresses and ifindexes of its own; nothing routes out,
# every server listens on the host namespace's loopback only):
#
#   tcbpf-al-host   prometheus, alertmanager, influxd, the exporter and
#                   the daemon, all on 127.0.0.1
#     vm-6-01b1  10.206.1.1/24  (ifindex 32081) -- tcbpf-al-vm  eth0 .2
#
# Prints PASS/FAIL/SKIP and "  # ..." lines with the measurements (the
# alert-to-clamp time and its parts); exits 1 if anything failed. When the
# servers are missing, their tests FAIL with CI=true and SKIP otherwise.
set -u
. "$(dirname "$0")/lib.sh"

HOST_NS=tcbpf-al-host
VM_NS=tcbpf-al-vm
DEV=vm-6-01b1 DEV_IFX=32081
HOST_IP=10.206.1.1
AL_LOCK=/run/tcbpf-alerts.lock
EXAMPLES=$TCBPF_ROOT/docs/examples
# the test's timing: scrape and evaluate every second, a 3 s rate window,
# `for: 2s`, Alertmanager's group_wait/group_interval 1 s, quiet period 3 s
FOR_SECS=2
SCRAPE_SECS=1
RELEASE_AFTER=3
FLOOD_BW=40M		# the rule fires above 20 Mbit/s
CLAMP_SPEC="rate 8mbit allow 22"

TESTS=(
	test_examples_check
	test_wrong_token
	test_alert_clamps_and_releases
	test_hand_clamp_kept
	test_two_alerts_one_clamp
	test_daemon_restart
	test_settings_checked
	test_unix_socket
	test_influx_query
)

SRV_PIDS=()
PROM_PORT='' AM_PORT='' EXPORT_PORT='' WH_PORT=''
SERVERS_WHY=
DAEMON_PID=
TOKEN=

# ------------------------------------------------------------------ helpers

hrun() { ns_run "$HOST_NS" "$@"; }
now_ns() { date +%s%N; }

free_port() {
	hrun "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL GREP: until the answer at URL (headers and body) matches,
# for up to 15 s
wait_http() {
	for _ in $(seq 1 150); do
		hrun curl -si --max-time 1 "$1" 2>/dev/null | grep -qi "$2" && return 0
		sleep 0.1
	done
	return 1
}

server_missing() {
	if [ "${CI:-}" = true ]; then
		res_bad "$1: $2"
	else
		res_skip "$1: $2"
	fi
}

# settings DEV: `show -j` without counters and program ids ("" if none)
settings() {
	tb -j show "$1" 2>/dev/null | "$PY" -c '
import json, sys
try:
    d = json.load(sys.stdin)[0]
except Exception:
    sys.exit(0)
for k in ("ingress", "egress"):
    d.get(k, {}).pop("classes", None)
    d.get(k, {}).pop("prog_id", None)
print(json.dumps(d, sort_keys=True))'
}

# record DEV: the device's line in the recorded state ("" if none)
record() {
	grep "^$1 " "$TCBPF_STATE_DIR/clamps" 2>/dev/null
}

mode_of() {
	tb -j show "$1" 2>/dev/null | jget "d[0]['$2']['mode']"
}

# post FILE [TOKEN]: POST a notification to the webhook; HTTP status in
# POST_CODE, the answer in POST_OUT
post() {
	local auth=()
	[ -n "${2-$TOKEN}" ] && auth=(-H "Authorization: Bearer ${2-$TOKEN}")
	POST_OUT=$(hrun curl -s --max-time 25 -o - -w '\n%{http_code}' "${auth[@]}" \
		-H 'Content-Type: application/json' --data-binary "@$1" \
		"http://127.0.0.1:$WH_PORT/alerts")
	POST_CODE=${POST_OUT##*$'\n'}
	POST_OUT=${POST_OUT%$'\n'*}
}

# notification FILE STATUS FINGERPRINT: an Alertmanager v4 notification of
# one alert on $DEV, as a script would send it
notification() {
	cat >"$1" <<EOF
{"version": "4", "groupKey": "{}:{alertname=\"ByHand\"}", "status": "$2",
 "receiver": "script", "groupLabels": {}, "commonLabels": {},
 "commonAnnotations": {}, "externalURL": "", "truncatedAlerts": 0,
 "alerts": [{"status": "$2", "fingerprint": "$3",
   "labels": {"alertname": "ByHand", "device": "$DEV"},
   "annotations": {"tcbpf_spec": "rate 6mbit"},
   "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z"}]}
EOF
}

# wev ACTION RESULT [FINGERPRINT]: "COUNT TIME_NS" of the daemon's webhook
# lines for $DEV (the last one's time)
wev() {
	"$PY" -c '
import json, sys
n, t = 0, 0
for l in open(sys.argv[1]):
    try:
        o = json.loads(l)
    except ValueError:
        continue
    if o.get("event") != "webhook" or o.get("action") != sys.argv[2]:
        continue
    if o.get("result") != sys.argv[3] or o.get("ifname", sys.argv[4]) != sys.argv[4]:
        continue
    if len(sys.argv) > 5 and o.get("fingerprint") != sys.argv[5]:
        continue
    n, t = n + 1, o["time_ns"]
print(n, t)' "$WORK/daemon.log" "$@"
}

# wait_ev SECS ACTION RESULT [FP]: until the daemon logged it
wait_ev() {
	local secs=$1 n
	shift
	for _ in $(seq 1 $((secs * 10))); do
		read -r n _ < <(wev "$1" "$2" "$DEV" ${3:+"$3"})
		[ "$n" -gt 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- topology

al_setup() {
	al_teardown
	ip netns add "$HOST_NS" || return 1
	ip -n "$HOST_NS" link set lo up || return 1
	ip netns add "$VM_NS" || return 1
	ip -n "$HOST_NS" link add "$DEV" index "$DEV_IFX" type veth peer name eth0 \
		netns "$VM_NS" || return 1
	ip -n "$HOST_NS" addr add "$HOST_IP/24" dev "$DEV" || return 1
	ip -n "$VM_NS" addr add 10.206.1.2/24 dev eth0 || return 1
	ip -n "$VM_NS" link set lo up && ip -n "$VM_NS" link set eth0 up &&
		ip -n "$HOST_NS" link set "$DEV" up || return 1
	ns_run "$VM_NS" ping -c1 -W2 -q "$HOST_IP" >/dev/null 2>&1
	return 0
}

al_teardown() {
	local ns pid
	ns_exists "$HOST_NS" && [ -x "$TCBPF" ] && tb detach "$DEV" >/dev/null 2>&1
	for ns in "$HOST_NS" "$VM_NS"; do
		ns_exists "$ns" || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$pid" 2>/dev/null
		done
	done
	for ns in "$VM_NS" "$HOST_NS"; do
		ns_exists "$ns" && ip netns del "$ns"
	done
	return 0
}

al_cleanup() {
	local pid
	for pid in "${BG_PIDS[@]}" "${SRV_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${SRV_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	al_teardown
	py_stop
	pins_private_remove
	[ -n "$WORK" ] && [ -z "${KEEP:-}" ] && rm -rf "$WORK"
	WORK=
	return 0
}

# ------------------------------------------------------------------ servers

# The daemon, configured by the shipped example with the test's port,
# token file and quiet period.
start_daemon() {
	mkdir -p "$WORK/conf"
	if [ -z "$TOKEN" ]; then
		TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
		(umask 077 && echo "$TOKEN" >"$WORK/webhook.token")
	fi
	sed -e "s|^set webhook-listen .*|set webhook-listen 127.0.0.1:$WH_PORT|" \
	    -e "s|^set webhook-token-file .*|set webhook-token-file $WORK/webhook.token|" \
	    -e "s|^set webhook-release-after .*|set webhook-release-after $RELEASE_AFTER|" \
		"$EXAMPLES/webhook.conf" >"$WORK/conf/webhook.conf"
	"$TCBPF" -n "$HOST_NS" --config-dir "$WORK/conf" daemon \
		>"$WORK/daemon.log" 2>"$WORK/daemon.err" &
	DAEMON_PID=$!
	SRV_PIDS+=("$DAEMON_PID")
	for _ in $(seq 1 50); do
		hrun ss -Hltn "sport = :$WH_PORT" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	SERVERS_WHY="the daemon's webhook did not listen: $(head -c 300 "$WORK/daemon.err")"
	return 1
}

# restart_daemon: stop the daemon (if it runs) and start it again
restart_daemon() {
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	start_daemon
}

start_servers() {
	local missing='' t
	for t in prometheus prometheus-alertmanager promtool amtool curl; do
		command -v "$t" >/dev/null || missing="${missing:+$missing, }$t"
	done
	if [ -n "$missing" ]; then
		SERVERS_WHY="not installed: $missing (scripts/install-deps.sh installs them)"
		return 1
	fi
	PROM_PORT=$(free_port) && AM_PORT=$(free_port) && EXPORT_PORT=$(free_port) &&
		WH_PORT=$(free_port) || { SERVERS_WHY="no free port"; return 1; }
	start_daemon || return 1
	mkdir -p "$WORK/prom" "$WORK/am"
	# the shipped rules with the test's window, `for:`, threshold and SPEC
	sed -e "s/\[1m\]/[3s]/" -e "s/for: 2m/for: ${FOR_SECS}s/" \
	    -e "s/> 200e6/> 20e6/" -e "s/tcbpf_spec: \"rate 50mbit allow 22\"/tcbpf_spec: \"$CLAMP_SPEC\"/" \
		"$EXAMPLES/tcbpf.rules.yml" >"$WORK/prom/rules.yml"
	cat >"$WORK/prom/prometheus.yml" <<EOF
global:
  scrape_interval: ${SCRAPE_SECS}s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files: ['$WORK/prom/rules.yml']
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$AM_PORT']
scrape_configs:
  - job_name: tcbpf
    static_configs:
      - targets: ['127.0.0.1:$EXPORT_PORT']
EOF
	# the route and receiver of docs/examples/alertmanager.yml, this
	# host's webhook, short waits
	cat >"$WORK/am/alertmanager.yml" <<EOF
route:
  receiver: ops
  group_by: [alertname, instance, device, direction]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['tcbpf="clamp"', 'instance=~"127.0.0.1:.*"']
      receiver: tcbpf-here
receivers:
  - name: ops
  - name: tcbpf-here
    webhook_configs:
      - url: http://127.0.0.1:$WH_PORT/alerts
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials_file: $WORK/webhook.token
EOF
	"$TCBPF" -n "$HOST_NS" export prometheus listen "127.0.0.1:$EXPORT_PORT" \
		>"$WORK/export.log" 2>&1 &
	SRV_PIDS+=($!)
	hrun prometheus-alertmanager --config.file="$WORK/am/alertmanager.yml" \
		--storage.path="$WORK/am/data" --web.listen-address="127.0.0.1:$AM_PORT" \
		--cluster.listen-address= >"$WORK/am/log" 2>&1 &
	SRV_PIDS+=($!)
	hrun prometheus --config.file="$WORK/prom/prometheus.yml" \
		--storage.tsdb.path="$WORK/prom/data" \
		--web.listen-address="127.0.0.1:$PROM_PORT" >"$WORK/prom/log" 2>&1 &
	SRV_PIDS+=($!)
	if ! wait_http "http://127.0.0.1:$AM_PORT/-/ready" ok; then
		SERVERS_WHY="alertmanager not ready: $(tail -3 "$WORK/am/log" | tr '\n' ' ')"
		return 1
	fi
	if ! wait_http "http://127.0.0.1:$PROM_PORT/-/ready" ready; then
		SERVERS_WHY="prometheus not ready: $(tail -3 "$WORK/prom/log" | tr '\n' ' ')"
		return 1
	fi
	return 0
}

promql() {
	hrun curl -sG "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1"
}

# -------------------------------------------------------------------- tests

test_examples_check() {
	local out
	res_begin alerts_examples_promtool_amtool
	if ! command -v promtool >/dev/null || ! command -v amtool >/dev/null; then
		server_missing promtool/amtool "not installed (scripts/install-deps.sh)"
	else
		out=$(promtool check rules "$EXAMPLES/tcbpf.rules.yml" 2>&1) ||
			res_bad "promtool check rules: $(tr '\n' ' ' <<<"$out")"
		grep -q "SUCCESS: 2 rules found" <<<"$out" ||
			res_bad "promtool found other than 2 rules: $(tr '\n' ' ' <<<"$out")"
		out=$(amtool check-config "$EXAMPLES/alertmanager.yml" 2>&1) ||
			res_bad "amtool check-config: $(tr '\n' ' ' <<<"$out")"
		# and that they catch a broken file (a check that cannot fail
		# proves nothing)
		sed 's/for: 2m/for: 2 minutes/' "$EXAMPLES/tcbpf.rules.yml" >"$WORK/bad.rules.yml"
		promtool check rules "$WORK/bad.rules.yml" >/dev/null 2>&1 &&
			res_bad "promtool accepted a broken rules file"
	fi
	res_end
}

test_wrong_token() {
	local before after rec_before n
	res_begin alerts_wrong_token_401
	if [ -n "$SERVERS_WHY" ]; then
		server_missing servers "$SERVERS_WHY"
		res_end
		return
	fi
	tb attach "$DEV" monitor >/dev/null 2>&1
	before=$(settings "$DEV") rec_before=$(record "$DEV")
	notification "$WORK/n-fire.json" firing deadbeef01
	post "$WORK/n-fire.json" "not-the-token"
	[ "$POST_CODE" = 401 ] || res_bad "a wrong token got HTTP $POST_CODE, want 401"
	post "$WORK/n-fire.json" ""
	[ "$POST_CODE" = 401 ] || res_bad "no token got HTTP $POST_CODE, want 401"
	post "$WORK/n-fire.json" "${TOKEN}x"
	[ "$POST_CODE" = 401 ] || res_bad "the token with one byte more got HTTP $POST_CODE, want 401"
	sleep 0.3
	after=$(settings "$DEV")
	[ -n "$before" ] && [ "$before" = "$after" ] || res_bad "settings changed: $before -> $after"
	[ "$rec_before" = "$(record "$DEV")" ] || res_bad "record changed: $rec_before -> $(record "$DEV")"
	n=$(grep -c '"action":"refused","result":"401"' "$WORK/daemon.log")
	[ "$n" -eq 3 ] || res_bad "$n refusals logged, want 3"
	read -r n _ < <(wev clamp "done" "$DEV")
	[ "$n" -eq 0 ] || res_bad "a clamp was logged"
	res_end
}

# activeAt of the firing alert on $DEV (ns since the epoch), from Prometheus
active_at() {
	hrun curl -s "http://127.0.0.1:$PROM_PORT/api/v1/alerts" | "$PY" -c '
import json, re, sys, calendar
for a in json.load(sys.stdin)["data"]["alerts"]:
    if a["labels"].get("device") != sys.argv[1] or a["state"] != "firing":
        continue
    m = re.match(r"(\d+-\d+-\d+T\d+:\d+:\d+)(?:\.(\d+))?Z", a["activeAt"])
    s = calendar.timegm(tuple(int(x) for x in re.split("[-T:]", m.group(1))) + (0, 0, 0))
    print(s * 10**9 + int((m.group(2) or "0").ljust(9, "0")[:9]))
    break' "$DEV"
}

test_alert_clamps_and_releases() {
	local before rec_before t0 n tc act lat detect deliver rel_t sch_t end_t after
	res_begin alerts_flood_clamped_by_alertmanager
	if [ -n "$SERVERS_WHY" ]; then
		server_missing servers "$SERVERS_WHY"
		res_end
		return
	fi
	tb attach "$DEV" monitor >/dev/null 2>&1
	before=$(settings "$DEV") rec_before=$(record "$DEV")
	# the exporter's series must be in Prometheus before the flood
	for _ in $(seq 1 100); do
		promql "tcbpf_bytes_total{device=\"$DEV\"}" | grep -q "\"$DEV\"" && break
		sleep 0.1
	done
	flow_start al from="$VM_NS" to="$HOST_NS" addr="$HOST_IP" port=5381 bw="$FLOOD_BW" time=16
	t0=$(now_ns)
	wait_ev 15 clamp "done" || res_bad "no clamp within 15 s of the flood's start"
	read -r n tc < <(wev clamp "done" "$DEV")
	act=$(active_at)
	if [ "$n" -ge 1 ]; then
		lat=$(awk -v a="$tc" -v b="$t0" 'BEGIN { printf "%.2f", (a - b) / 1e9 }')
		if [ -n "$act" ]; then
			detect=$(awk -v a="$act" -v b="$t0" 'BEGIN { printf "%.2f", (a - b) / 1e9 }')
			deliver=$(awk -v a="$tc" -v b="$act" -v f="$FOR_SECS" 'BEGIN { printf "%.2f", (a - b) / 1e9 - f }')
		fi
		note "flood start -> clamp: $lat s = rule true after ${detect:-?} s (scrape every ${SCRAPE_SECS} s, rate over 3 s)" \
			"+ for: ${FOR_SECS} s + ${deliver:-?} s evaluation, Prometheus -> Alertmanager (group_wait 1 s) -> webhook -> attach"
		le "$lat" 15 || res_bad "clamped $lat s after the flood started, want <= 15 s"
		[ "$(mode_of "$DEV" ingress)" = police ] || res_bad "ingress mode $(mode_of "$DEV" ingress) after the clamp, want police"
		record "$DEV" | grep -q 'reason alert:' || res_bad "record after the clamp: $(record "$DEV")"
		grep -q "\"action\":\"clamp\",\"result\":\"done\".*\"alertname\":\"TcbpfDeviceBitrateHigh\".*\"spec\":\"$CLAMP_SPEC\".*\"before\":\"[^\"]*monitor" \
			"$WORK/daemon.log" || res_bad "the clamp's audit line lacks alertname/spec/before: $(grep -m1 '"clamp"' "$WORK/daemon.log")"
	fi
	flow_wait al 0
	end_t=$(now_ns)
	res_end

	res_begin alerts_resolved_released_as_before
	if wait_ev 30 release "done"; then
		read -r _ rel_t < <(wev release "done" "$DEV")
		read -r _ sch_t < <(wev release-scheduled "done" "$DEV")
		note "flood end -> resolved at the webhook: $(awk -v a="$sch_t" -v b="$end_t" 'BEGIN { printf "%.2f", (a - b) / 1e9 }') s;" \
			"-> released: $(awk -v a="$rel_t" -v b="$sch_t" 'BEGIN { printf "%.2f", (a - b) / 1e9 }') s (webhook-release-after $RELEASE_AFTER)"
		ge "$(awk -v a="$rel_t" -v b="$sch_t" 'BEGIN { print (a - b) / 1e9 }')" $((RELEASE_AFTER - 1)) ||
			res_bad "released before the quiet period of $RELEASE_AFTER s"
	else
		res_bad "not released within 30 s of the flood's end"
	fi
	after=$(settings "$DEV")
	[ "$after" = "$before" ] || res_bad "settings after the release differ: $before -> $after"
	[ "$(record "$DEV")" = "$rec_before" ] || res_bad "record after the release: '$(record "$DEV")', before: '$rec_before'"
	read -r n _ < <(wev clamp "done" "$DEV")
	[ "$n" -eq 1 ] || res_bad "$n clamps logged, want 1 (repeated notifications are idempotent)"
	res_end
}

# An operator's clamp: one set by hand before an alert is left alone; one
# the alert set and the operator changed is theirs, never released.
test_hand_clamp_kept() {
	local s rec n
	res_begin alerts_hand_clamp_never_released
	if [ -n "$SERVERS_WHY" ]; then
		server_missing servers "$SERVERS_WHY"
		res_end
		return
	fi
	tb attach "$DEV" monitor >/dev/null 2>&1
	notification "$WORK/h-fire.json" firing feedface01
	notification "$WORK/h-res.json" resolved feedface01
	post "$WORK/h-fire.json"
	[ "$POST_CODE" = 200 ] || res_bad "firing got HTTP $POST_CODE"
	grep -q '"action":"clamp","result":"done"' <<<"$POST_OUT" || res_bad "no clamp: $POST_OUT"
	post "$WORK/h-fire.json"
	grep -q '"result":"unchanged"' <<<"$POST_OUT" || res_bad "the repeat was not idempotent: $POST_OUT"
	tb change "$DEV" ingress rate 3mbit >/dev/null 2>&1 || res_bad "change by hand failed"
	s=$(settings "$DEV") rec=$(record "$DEV")
	post "$WORK/h-res.json"
	grep -q '"action":"release-scheduled","result":"done"' <<<"$POST_OUT" || res_bad "resolved: $POST_OUT"
	wait_ev $((RELEASE_AFTER + 5)) release-skipped ignored feedface01 ||
		res_bad "no release-skipped within $((RELEASE_AFTER + 5)) s"
	[ "$(settings "$DEV")" = "$s" ] || res_bad "the operator's clamp changed: $(settings "$DEV")"
	[ "$(record "$DEV")" = "$rec" ] || res_bad "the operator's record changed: $(record "$DEV")"
	read -r n _ < <(wev release "done" "$DEV" feedface01)
	[ "$n" -eq 0 ] || res_bad "released by the alert"

	# the operator changes it while the alert still fires: a repeat of
	# the firing leaves it to them
	tb detach "$DEV" >/dev/null 2>&1
	tb attach "$DEV" monitor >/dev/null 2>&1
	notification "$WORK/h3-fire.json" firing feedface03
	post "$WORK/h3-fire.json"
	grep -q '"action":"clamp","result":"done"' <<<"$POST_OUT" || res_bad "no clamp: $POST_OUT"
	tb change "$DEV" ingress rate 4mbit >/dev/null 2>&1 || res_bad "change by hand failed"
	s=$(settings "$DEV")
	post "$WORK/h3-fire.json"
	grep -q '"result":"ignored".*not the alerts' <<<"$POST_OUT" ||
		res_bad "a repeat after a change by hand: $POST_OUT"
	[ "$(settings "$DEV")" = "$s" ] || res_bad "the repeat changed the operator's settings"

	# a clamp by hand first: the alert does not touch it
	tb attach "$DEV" rate 2mbit >/dev/null 2>&1
	s=$(settings "$DEV") rec=$(record "$DEV")
	notification "$WORK/h2-fire.json" firing feedface02
	post "$WORK/h2-fire.json"
	grep -q '"action":"clamp","result":"ignored".*operator' <<<"$POST_OUT" ||
		res_bad "an alert on a device clamped by hand: $POST_OUT"
	[ "$(settings "$DEV")" = "$s" ] && [ "$(record "$DEV")" = "$rec" ] ||
		res_bad "the alert changed a clamp set by hand"
	res_end
}

# Two alerts on one device: one clamp, held until both resolved; a firing
# in the quiet period cancels the release.
test_two_alerts_one_clamp() {
	local before rec n
	res_begin alerts_two_alerts_one_clamp
	if [ -n "$SERVERS_WHY" ]; then
		server_missing servers "$SERVERS_WHY"
		res_end
		return
	fi
	tb detach "$DEV" >/dev/null 2>&1
	tb attach "$DEV" monitor >/dev/null 2>&1
	before=$(settings "$DEV") rec=$(record "$DEV")
	notification "$WORK/a-fire.json" firing aaaa000000000001
	notification "$WORK/a-res.json" resolved aaaa000000000001
	notification "$WORK/b-fire.json" firing bbbb000000000002
	notification "$WORK/b-res.json" resolved bbbb000000000002
	post "$WORK/a-fire.json"
	grep -q '"action":"clamp","result":"done"' <<<"$POST_OUT" || res_bad "first alert: $POST_OUT"
	post "$WORK/b-fire.json"
	grep -q '"result":"unchanged".*held by 2 alerts' <<<"$POST_OUT" || res_bad "second alert: $POST_OUT"
	post "$WORK/a-res.json"
	grep -q '"result":"unchanged".*still held by 1 alert' <<<"$POST_OUT" || res_bad "first resolved: $POST_OUT"
	post "$WORK/b-res.json"
	grep -q '"action":"release-scheduled","result":"done"' <<<"$POST_OUT" || res_bad "second resolved: $POST_OUT"
	post "$WORK/b-fire.json"
	grep -q '"result":"release-cancelled"' <<<"$POST_OUT" || res_bad "firing again: $POST_OUT"
	sleep $((RELEASE_AFTER + 1))
	[ "$(mode_of "$DEV" ingress)" = police ] || res_bad "released although firing again"
	post "$WORK/b-res.json"
	wait_ev $((RELEASE_AFTER + 5)) release "done" bbbb000000000002 || res_bad "no release"
	[ "$(settings "$DEV")" = "$before" ] || res_bad "settings after the release: $(settings "$DEV")"
	[ "$(record "$DEV")" = "$rec" ] || res_bad "record after the release: $(record "$DEV")"
	res_end
}

# The daemon restarts (an upgrade) while an alert holds a clamp: the new one
# adopts it and releases it as before; one an operator changed while the
# daemon was down is theirs.
test_daemon_restart() {
	local before rec s
	res_begin alerts_daemon_restart_keeps_release
	if [ -n "$SERVERS_WHY" ]; then
		server_missing servers "$SERVERS_WHY"
		res_end
		return
	fi
	tb detach "$DEV" >/dev/null 2>&1
	tb attach "$DEV" monitor >/dev/null 2>&1
	before=$(settings "$DEV") rec=$(record "$DEV")
	notification "$WORK/r-fire.json" firing cccc000000000003
	notification "$WORK/r-res.json" resolved cccc000000000003
	post "$WORK/r-fire.json"
	grep -q '"action":"clamp","result":"done"' <<<"$POST_OUT" || res_bad "no clamp: $POST_OUT"
	restart_daemon || res_bad "the daemon did not come back: $SERVERS_WHY"
	wait_ev 5 adopt "done" || res_bad "the clamp was not adopted: $(head -c 300 "$WORK/daemon.log")"
	post "$WORK/r-res.json"
	grep -q '"action":"release-scheduled","result":"done"' <<<"$POST_OUT" || res_bad "resolved: $POST_OUT"
	wait_ev $((RELEASE_AFTER + 5)) release "done" cccc000000000003 || res_bad "no release"
	[ "$(settings "$DEV")" = "$before" ] || res_bad "settings after the release: $(settings "$DEV")"
	[ "$(record "$DEV")" = "$rec" ] || res_bad "record after the release: $(record "$DEV")"

	notification "$WORK/r2-fire.json" firing dddd000000000004
	notification "$WORK/r2-res.json" resolved dddd000000000004
	post "$WORK/r2-fire.json"
	grep -q '"action":"clamp","result":"done"' <<<"$POST_OUT" || res_bad "no second clamp: $POST_OUT"
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	tb change "$DEV" ingress rate 2mbit >/dev/null 2>&1 || res_bad "change by hand failed"
	s=$(settings "$DEV")
	restart_daemon || res_bad "the daemon did not come back: $SERVERS_WHY"
	wait_ev 5 adopt ignored || res_bad "a clamp changed while the daemon was down was adopted"
	post "$WORK/r2-res.json"
	grep -q '"result":"ignored"' <<<"$POST_OUT" || res_bad "resolved after the change: $POST_OUT"
	sleep $((RELEASE_AFTER + 1))
	[ "$(settings "$DEV")" = "$s" ] || res_bad "the operator's settings changed: $(settings "$DEV")"
	res_end
}

# daemon_refuses WHY-GREP CONF-LINES...: a daemon with these settings must
# not start, and say why
daemon_refuses() {
	local want=$1 out rc
	shift
	rm -rf "$WORK/bad" && mkdir -p "$WORK/bad"
	printf '%s\n' "$@" >"$WORK/bad/webhook.conf"
	out=$(timeout 20 "$TCBPF" -n "$HOST_NS" --state-dir "$WORK/state-bad" \
		--config-dir "$WORK/bad" daemon 2>&1 >/dev/null)
	rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "$want" <<<"$out" ||
		res_bad "[$*]: exit $rc, want a refusal saying \"$want\": $(head -c 300 <<<"$out")"
}

test_settings_checked() {
	local port
	res_begin alerts_webhook_settings_checked
	port=$(free_port)
	(umask 022 && echo sometoken >"$WORK/token-0644")
	daemon_refuses "mode 0600" "set webhook-listen 127.0.0.1:$port" \
		"set webhook-token-file $WORK/token-0644"
	daemon_refuses "not a loopback address" "set webhook-listen 0.0.0.0:$port"
	daemon_refuses 'unknown key "webhook-lisen"' "set webhook-lisen 127.0.0.1:$port"
	daemon_refuses "webhook-default-spec" "set webhook-listen 127.0.0.1:$port" \
		'set webhook-default-spec "rate 10 mbit"'
	daemon_refuses "given again" "set webhook-listen 127.0.0.1:$port" \
		"set webhook-listen 127.0.0.1:$port"
	res_end
}

# Listening on a unix socket only (behind a proxy, no token): served,
# the caller's pid and uid in the log, the socket gone when it stops.
test_unix_socket() {
	local sock=$WORK/run/webhook.sock pid out code
	res_begin alerts_webhook_unix_socket
	mkdir -p "$WORK/unix"
	printf '%s\n' "set webhook-listen unix:$sock" 'set webhook-default-spec "rate 1mbit"' \
		>"$WORK/unix/webhook.conf"
	"$TCBPF" -n "$HOST_NS" --state-dir "$WORK/state-unix" --config-dir "$WORK/unix" \
		daemon >"$WORK/unix.log" 2>"$WORK/unix.err" &
	pid=$!
	BG_PIDS+=("$pid")
	for _ in $(seq 1 50); do
		[ -S "$sock" ] && break
		sleep 0.1
	done
	notification "$WORK/u-fire.json" firing 0123456789abcdef
	sed -i "s/\"$DEV\"/\"vm-0-nodev\"/" "$WORK/u-fire.json"
	out=$(curl -s --max-time 20 -w '\n%{http_code}' --unix-socket "$sock" \
		--data-binary "@$WORK/u-fire.json" http://localhost/alerts)
	code=${out##*$'\n'}
	[ "$code" = 200 ] || res_bad "HTTP $code over the unix socket: $(head -c 300 "$WORK/unix.err")"
	grep -q '"why":"no device vm-0-nodev here"' <<<"$out" || res_bad "answer: $out"
	grep -q '"remote":"unix:pid=[0-9]*,uid=0"' "$WORK/unix.log" ||
		res_bad "no caller in the log: $(head -c 300 "$WORK/unix.log")"
	[ "$(stat -c %a "$sock" 2>/dev/null)" = 660 ] || res_bad "socket mode $(stat -c %a "$sock" 2>/dev/null), want 660"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	[ -e "$sock" ] && res_bad "the socket outlived the daemon"
	res_end
}

# docs/ALERTS.md's InfluxQL query: per-device bits/s from `tcbpf export
# influx`, against the real influxd, for a flood of known rate.
test_influx_query() {
	local port rpc q out got want
	res_begin alerts_influx_query_rates
	if ! command -v influxd >/dev/null; then
		server_missing influxd "not installed (package influxdb)"
		res_end
		return
	fi
	port=$(free_port) rpc=$(free_port)
	mkdir -p "$WORK/influx"
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
  bind-address = "127.0.0.1:$port"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
EOF
	hrun influxd -config "$WORK/influx/influxdb.conf" >"$WORK/influx/log" 2>&1 &
	SRV_PIDS+=($!)
	if ! wait_http "http://127.0.0.1:$port/ping" X-Influxdb-Version; then
		server_missing influxd "did not answer: $(tail -2 "$WORK/influx/log" | tr '\n' ' ')"
		res_end
		return
	fi
	hrun curl -s -XPOST "http://127.0.0.1:$port/query" --data-urlencode 'q=CREATE DATABASE tcbpf' >/dev/null
	tb attach "$DEV" monitor >/dev/null 2>&1
	"$TCBPF" -n "$HOST_NS" export influx "http://127.0.0.1:$port/write?db=tcbpf" interval 1 \
		>"$WORK/influx-export.log" 2>&1 &
	SRV_PIDS+=($!)
	sleep 1.5
	flow_start ix from="$VM_NS" to="$HOST_NS" addr="$HOST_IP" port=5382 bw=30M time=8
	flow_wait ix 0
	# the query of docs/ALERTS.md, limited to the flood's middle
	q=$(sed -n '/^-- influx-rates-begin/,/^-- influx-rates-end/p' "$TCBPF_ROOT/docs/ALERTS.md" |
		grep -v '^--' | tr '\n' ' ')
	if [ -z "$q" ]; then
		res_bad "no query between -- influx-rates-begin/end in docs/ALERTS.md"
		res_end
		return
	fi
	q=${q//now() - 1m/now() - 15s}
	q=${q//time(10s)/time(2s)}
	out=$(hrun curl -sG "http://127.0.0.1:$port/query" --data-urlencode db=tcbpf \
		--data-urlencode "q=$q")
	want=$(calc "$FLOW_SENT * 1512 / 1470")
	# the median of the buckets inside the flood (its edges are lower)
	got=$("$PY" -c '
import json, sys
d, want = json.loads(sys.argv[1]), float(sys.argv[3])
v = []
for s in d["results"][0].get("series", []):
    if s.get("tags", {}).get("dev") != sys.argv[2] or s["tags"].get("dir") != "ingress":
        continue
    i = s["columns"].index("bits_per_sec")
    v += [r[i] for r in s["values"] if r[i] and r[i] > want / 2]
v.sort()
print(v[len(v) // 2] if v else 0)' "$out" "$DEV" "$want" 2>/dev/null)
	note "InfluxQL rate of $DEV ingress: $(mbit "${got:-0}") Mbit/s, iperf3 offered $(mbit "$want") Mbit/s (frames)"
	within "${got:-0}" "$want" 10 || res_bad "query gave ${got:-nothing} bits/s, want $want +-10% ($(head -c 300 <<<"$out"))"
	res_end
}

# --------------------------------------------------------------------- main

main() {
	local names=("$@") t t0
	[ ${#names[@]} -gt 0 ] || names=("${TESTS[@]}")
	if [ "$(id -u)" -ne 0 ]; then
		for t in "${names[@]}"; do skip "${t#test_}" "needs root"; done
		exit 0
	fi
	for t in iperf3 "$PY" nsenter ip flock ss; do
		command -v "$t" >/dev/null || { fail alerts_setup "$t not found"; exit 1; }
	done
	[ -x "$TCBPF" ] || { fail alerts_setup "$TCBPF not built (make)"; exit 1; }
	exec 7>"$AL_LOCK"
	flock -w 300 7 || { fail alerts_setup "another alerts run holds $AL_LOCK"; exit 1; }
	lib_init || { fail alerts_setup "mktemp failed"; exit 1; }
	trap al_cleanup EXIT
	trap 'exit 130' INT TERM
	if ! al_setup; then
		fail alerts_setup "cannot build the test namespaces"
		exit 1
	fi
	start_servers || note "servers: $SERVERS_WHY"
	for t in "${names[@]}"; do
		vlog "== $t"
		t0=$SECONDS
		"$t"
		note "$t: $((SECONDS - t0)) s"
	done
	if [ "$NFAIL" -gt 0 ] && [ -n "$WORK" ]; then
		note "daemon log: $(tail -5 "$WORK/daemon.log" | tr '\n' ' ' | head -c 1500)"
		note "daemon stderr: $(head -c 500 "$WORK/daemon.err")"
	fi
	echo "  # alerts: $NPASS passed, $NFAIL failed, $NSKIP skipped"
	[ "$NFAIL" -eq 0 ]
}

main "$@"
