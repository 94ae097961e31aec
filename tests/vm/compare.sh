#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/vm/compare.sh - the old tc recipe (tests/vm/recipe.sh) and tcbpf side
# by side, on the same workloads, in the same guest and namespaces.
#
#   tests/vm/vmtest.sh -- tests/vm/compare.sh
#   tests/vm/vmtest.sh --kernel bpo -- tests/vm/compare.sh from-vm-tcp
#
# Both at the recipe's settings, which are tcbpf's defaults: 1mbit burst
# 1200kbit for the default class, ssh/rdp (22, 3389) at 100mbit, 400 ms
# extra delay for default traffic to the VM; then `change` to 10mbit.
# Prints the table and writes it to $OUTPUT/vmtest/compare.md and .json
# (OUTPUT defaults to .output, in the repository: the host sees it at
# once). PASS/FAIL lines: that both ran, and the properties tcbpf claims
# over the recipe (limits from and to the VM on IPv4 and IPv6, the ssh
# port kept fast with IP options and over IPv6, a working change).
#
# Workloads (iperf3 through tests/lib.sh; rates are frames on the wire,
# goodput is payload, both as the receiver saw them after the first
# second(s)):
#   "to the VM" traffic is forwarded from tcbpf-wan unless it says "from a
#   host socket" (see tests/vm/lib-vm.sh for why that differs).
#
# from-vm-tcp, or COMPARE_PART=from-vm-tcp in the environment (make vmtest
# runs it so in the 6.12 boot: ingress EDT needs
# 6.4): TCP from the VM at 10 and 100 Mbit/s, each limiter started at that
# rate with the default burst (1200kbit): the recipe's policer, tcbpf's
# default (ingress police) and tcbpf with `ingress mode edt`. Its table is
# compare-from-vm.md and .json.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib-vm.sh

OUTDIR=${VMTEST_OUT:-${OUTPUT:-.output}/vmtest}
RATE=1000000		# the recipe's 1mbit
RATE2=10000000		# after change
FLOOD=3M		# 3x the rate
FLOOD2=30M

declare -A VAL TXT CHANGE_LOG
ROWS=()		# "key|workload|target" in table order
row() { ROWS+=("$1|$2|$3"); }

# put LIM KEY VALUE TEXT
put() { VAL[$1:$2]=$3; TXT[$1:$2]=$4; }

# mb BITS: "1.23 Mbit/s"
mb() { echo "$(mbit "$1") Mbit/s"; }
# vs BITS TARGET: "1.13 Mbit/s (+13%)"
vs() { awk -v v="$1" -v t="$2" 'BEGIN { printf "%.2f Mbit/s (%+.0f%%)", v / 1e6, (v - t) * 100 / t }'; }

# ------------------------------------------------------------ the limiters

LIM=
lim_start() {
	local t=$EPOCHREALTIME rc
	case $LIM in
	recipe) ns_run "$HOST_NS" tests/vm/recipe.sh start "$DEV" 2>"$WORK/lim.err" ;;
	tcbpf) tb attach "$DEV" 2>"$WORK/lim.err" >/dev/null ;;
	esac
	rc=$?
	put "$LIM" attach "$rc" "$(el_ms "$t") ms$([ "$rc" = 0 ] || echo ", $rc failed")"
	note "$LIM start: exit $rc in ${TXT[$LIM:attach]}: $(grep -v '^recipe: scraped' "$WORK/lim.err" | tr '\n' ' ' | cut -c1-400)"
	return "$rc"
}
lim_change() { # RATE_SPEC
	local t=$EPOCHREALTIME rc
	case $LIM in
	recipe) ns_run "$HOST_NS" tests/vm/recipe.sh change "$DEV" "$1" 2>"$WORK/lim.err" ;;
	tcbpf) tb change "$DEV" rate "$1" 2>"$WORK/lim.err" >/dev/null ;;
	esac
	rc=$?
	put "$LIM" change "$rc" "$(el_ms "$t") ms$([ "$rc" = 0 ] || echo ", $rc command(s) failed")"
	CHANGE_LOG[$LIM]=$(grep -v '^vm-3' "$WORK/lim.err" | tr '\n' ' ' | cut -c1-300)
	note "$LIM change $1: exit $rc in $(el_ms "$t") ms: $(tr '\n' ' ' <"$WORK/lim.err" | cut -c1-400)"
}
lim_stop() {
	local t=$EPOCHREALTIME rc left
	case $LIM in
	recipe) ns_run "$HOST_NS" tests/vm/recipe.sh stop "$DEV" 2>"$WORK/lim.err" ;;
	tcbpf) tb detach "$DEV" 2>"$WORK/lim.err" >/dev/null ;;
	esac
	rc=$?
	left=$(tc -n "$HOST_NS" qdisc show dev "$DEV" | awk '{ print $2 }' | tr '\n' ' ')
	left+=$(tc -n "$HOST_NS" filter show dev "$DEV" ingress 2>/dev/null | grep -c . | sed 's/^0$//; s/.\+/+ ingress filters/')
	[ -e "$PIN_DIR" ] && left+=" + pins"
	put "$LIM" stop "$rc" "$(el_ms "$t") ms, leaves: ${left% }"
	note "$LIM stop: exit $rc: ${TXT[$LIM:stop]} $(tr '\n' ' ' <"$WORK/lim.err" | cut -c1-200)"
}

# The start an alert's jumpscript sees on a quiet host where tcbpf is
# installed as packaged: its daemon runs in the taps' namespace and keeps
# the programs loaded (no clamp anywhere), so the first attach does not
# wait for the verifier. The recipe has no daemon: its own start again.
attach_daemon() {
	local d=$WORK/daemon t rc dp
	mkdir -p "$d/conf"
	ns_run "$HOST_NS" "$TCBPF" --config-dir "$d/conf" daemon >"$d/log" 2>&1 &
	dp=$!
	BG_PIDS+=("$dp")
	t=$EPOCHREALTIME
	daemon_ready "$d/log" 60
	note "tcbpf's daemon ready after $(el_ms "$t") ms"
	t=$EPOCHREALTIME
	tb attach "$DEV" >/dev/null 2>"$WORK/lim.err"
	rc=$?
	put tcbpf attach_daemon "$rc" "$(el_ms "$t") ms$([ "$rc" = 0 ] || echo ", failed")"
	put recipe attach_daemon "${VAL[recipe:attach]:-}" "${TXT[recipe:attach]:-} (no daemon)"
	note "tcbpf start, its daemon running: exit $rc in ${TXT[tcbpf:attach_daemon]} $(tr '\n' ' ' <"$WORK/lim.err" | cut -c1-200)"
	tb detach "$DEV" >/dev/null 2>&1
	kill "$dp" 2>/dev/null
	wait "$dp" 2>/dev/null
}

# ------------------------------------------------------------- workloads

# flow KEY TARGET SKIP flow_start-args...: one iperf3 flow; the frame rate
# against TARGET (bits/s) or, with TARGET "-", the goodput.
flow() {
	local key=$1 target=$2 skipn=$3
	shift 3
	measure "$key" "$skipn" "$@"
	if [ -n "$FLOW_ERR" ]; then
		put "$LIM" "$key" "" "failed: ${FLOW_ERR:0:80}"
	elif [ "$target" = - ]; then
		put "$LIM" "$key" "$FLOW_BPS" "$(mb "$FLOW_BPS")"
	else
		put "$LIM" "$key" "$FLOW_WIRE" "$(vs "$FLOW_WIRE" "$target")"
	fi
	note "$LIM: $(flow_line "$key")"
}

# rtt_row KEY NS ADDR PORT [vmtool opts]: median TCP connect time, 15 tries
rtt_row() {
	local key=$1 ns=$2
	shift 2
	rtt "$ns" "$1" "$2" 15 0.03 "${@:3}"
	put "$LIM" "$key" "$RTT_MED" "$RTT_MED ms$([ "${RTT_FAIL:-0}" = 0 ] || echo ", $RTT_FAIL failed")"
	note "$LIM: $key: $RTT_LINE"
}

# Every workload, with the limiter $LIM in place (defaults, then change).
workloads() {
	local dmesg0
	dmesg0=$(dmesg 2>/dev/null | grep -c 'reclassify loop')
	lim_start

	# rate accuracy, IPv4 UDP floods at 3x the rate (the 1200kbit burst is
	# spent in the first 0.6 s)
	flow udp_from "$RATE" 1 from="$VM_NS" to="$HOST_NS" addr="$HOST_IP" bw="$FLOOD" time=4
	flow udp_to "$RATE" 1 from="$WAN_NS" to="$VM_NS" addr="$VM_IP" bw="$FLOOD" time=4
	# TCP goodput, default class (seconds 3-7: slow start and the burst,
	# 1.2 s of the rate, left out)
	flow tcp_from - 3 proto=tcp from="$VM_NS" to="$HOST_NS" addr="$HOST_IP" time=7
	flow tcp_to - 3 proto=tcp from="$WAN_NS" to="$VM_NS" addr="$VM_IP" time=7
	flow tcp_to_local - 3 proto=tcp from="$HOST_NS" to="$VM_NS" addr="$VM_IP" time=7
	# The VM's outbound ssh: TCP to port 22 of a host (the recipe's
	# `match ip dport 22` from the VM; tcbpf's allowlist is the VM's ports)
	flow ssh_out - 1 proto=tcp from="$VM_NS" to="$HOST_NS" addr="$HOST_IP" port=22 time=4

	# ssh port under a flood of the default class, in each direction:
	# TCP to the VM's port 22; TCP from the VM's port 22 (its sshd answers
	# from there: the iperf3 server runs in the VM, the client with -R).
	listener_stop
	flow_start fl from="$WAN_NS" to="$VM_NS" addr="$VM_IP" bw="$FLOOD" time=5
	flow ssh_to - 1 proto=tcp from="$HOST_NS" to="$VM_NS" addr="$VM_IP" port=22 time=4
	flow_wait fl 1
	note "$LIM: $(flow_line "flood to VM meanwhile")"
	flow_start fl from="$VM_NS" to="$HOST_NS" addr="$HOST_IP" bw="$FLOOD" time=5
	flow ssh_from - 1 proto=tcp from="$VM_NS" to="$HOST_NS" addr="$VM_IP" port=22 server=from time=4
	flow_wait fl 1
	note "$LIM: $(flow_line "flood from VM meanwhile")"
	listener_start

	# round trips: default class idle (ICMP), ssh port idle and flooded
	ping_rtt "$WAN_NS" "$VM_IP" 5
	put "$LIM" ping "$PING_AVG" "$PING_AVG ms"
	note "$LIM: ping min/avg/max $PING_MIN/$PING_AVG/$PING_MAX ms"
	rtt_row ssh_rtt "$HOST_NS" "$VM_IP" 22
	flow_start fl from="$WAN_NS" to="$VM_NS" addr="$VM_IP" bw="$FLOOD" time=4
	sleep 1.5
	rtt_row ssh_rtt_flood "$HOST_NS" "$VM_IP" 22
	flow_wait fl 1

	# IPv6: the recipe's filters say `protocol ip`
	flow udp6_from "$RATE" 1 from="$VM_NS" to="$HOST_NS" addr="$HOST_IP6" bw="$FLOOD" time=4
	flow udp6_to "$RATE" 1 from="$HOST_NS" to="$VM_NS" addr="$VM_IP6" bw="$FLOOD" time=4
	rtt_row ssh6_rtt "$HOST_NS" "$VM_IP6" 22

	# IPv4 options: the transport header moves 4 bytes further
	rtt_row ssh_ipopt_rtt "$HOST_NS" "$VM_IP" 22 ipopt

	# change to 10mbit, live
	lim_change 10mbit
	flow udp_from_10 "$RATE2" 1 from="$VM_NS" to="$HOST_NS" addr="$HOST_IP" bw="$FLOOD2" time=4
	flow udp_to_10 "$RATE2" 1 from="$WAN_NS" to="$VM_NS" addr="$VM_IP" bw="$FLOOD2" time=4

	lim_stop
	local n=$(( $(dmesg 2>/dev/null | grep -c 'reclassify loop') - dmesg0 ))
	put "$LIM" klog "$n" "$n"
}

row attach "start: wall time (guest)" "one step"
row attach_daemon "start, tcbpf's daemon running (programs kept loaded; no clamp anywhere): wall time (guest)" "one step"
row udp_from "UDP flood from the VM, IPv4 (3 Mbit/s offered)" "1.00 Mbit/s"
row udp_to "UDP flood to the VM, IPv4 (3 Mbit/s offered)" "1.00 Mbit/s"
row tcp_from "TCP from the VM, goodput" "<= 1 Mbit/s, steady"
row tcp_to "TCP to the VM, goodput (forwarded sender)" "<= 1 Mbit/s, steady"
row tcp_to_local "TCP to the VM, goodput (sender on the host itself)" "<= 1 Mbit/s, steady"
row ssh_out "TCP from the VM to port 22 of a host (its outbound ssh)" "not the VM's port: 1 Mbit/s"
row ssh_to "ssh port: TCP to the VM's port 22, default class flooded" "up to 100 Mbit/s"
row ssh_from "ssh port: TCP from the VM's port 22 (its sshd), default class flooded" "up to 100 Mbit/s"
row ping "RTT, default class (ping, forwarded), idle" "+400 ms"
row ssh_rtt "RTT, ssh port (TCP connect), idle" "no delay"
row ssh_rtt_flood "RTT, ssh port (TCP connect), default class flooded" "no delay"
row udp6_from "IPv6 UDP flood from the VM (3 Mbit/s offered)" "1.00 Mbit/s"
row udp6_to "IPv6 UDP flood to the VM (3 Mbit/s offered)" "1.00 Mbit/s"
row ssh6_rtt "IPv6 RTT, ssh port (TCP connect), idle" "no delay"
row ssh_ipopt_rtt "IPv4 with IP options: RTT, ssh port (TCP connect)" "no delay"
row change "change to 10mbit: wall time (guest)" "applies"
row udp_from_10 "after change: UDP flood from the VM (30 Mbit/s offered)" "10.00 Mbit/s"
row udp_to_10 "after change: UDP flood to the VM (30 Mbit/s offered)" "10.00 Mbit/s"
row stop "stop: wall time, what is left on the device" "the device as before"
row klog "kernel \"reclassify loop\" warnings" "0"

# ------------------------------------------------------------------ output

write_table() {
	local r key label target md=$OUTDIR/compare.md js=$OUTDIR/compare.json first=1
	mkdir -p "$OUTDIR" || return 1
	{
		echo "# Old tc recipe vs tcbpf"
		echo
		echo "Guest: Debian kernel $(uname -r) under qemu (software emulation), $(nproc) vCPUs; $(date -u '+%Y-%m-%d %H:%M UTC')."
		echo "Settings: rate 1mbit burst 1200kbit, ssh/rdp 100mbit, delay 400ms to the VM (the recipe's, and tcbpf's defaults); then change to 10mbit."
		echo "Rates are frames on the wire after the first second; goodput is payload. \"Forwarded\": sent from a namespace beyond the hypervisor."
		echo
		echo "| workload | target | old recipe | tcbpf |"
		echo "|---|---|---|---|"
		for r in "${ROWS[@]}"; do
			IFS='|' read -r key label target <<<"$r"
			echo "| $label | $target | ${TXT[recipe:$key]:-n/a} | ${TXT[tcbpf:$key]:-n/a} |"
		done
		echo
		echo "Reading it:"
		echo "- The recipe sends the default class to the VM to netem, which delays it but has no rate: not limited, over IPv4 and IPv6."
		echo "- TCP from the VM: its ACKs to the VM are default-class traffic and wait 400 ms with either limiter, so the flow is window-bound; the recipe polices \`dport 22\` from the VM at 100mbit (the VM's outbound ssh), tcbpf's allowlist is the VM's own ports."
		echo "- ssh port to the VM: the recipe's tbf has \`limit 3000\` bytes at the default rate; from the VM, its sshd answers from port 22, which the recipe's \`dport 22\` does not match."
		echo "- IPv6 and IP options: the recipe's \`protocol ip\` u32 filters see no IPv6, and read the port at a fixed offset (IHL 5): the ssh port lands in netem (400 ms)."
		echo "- The recipe's change: ${CHANGE_LOG[recipe]:-}"
		echo "- TCP to the VM from a socket on the hypervisor itself, tcbpf: paced at the rate, without the 400 ms delay. TCP small queues let a local socket have only ~2 packets in the qdisc, so fq holding them for the delay would cap the flow at ~2 packets per 400 ms (netem orphans what it delays; a tc program cannot), and tcbpf gives the hypervisor's own sockets the rate only. Forwarded traffic, what a VM's tap mostly carries, and every ping get the delay."
		echo "- Wall times are the guest's (software emulation: one tc or tcbpf process start costs 50-200 ms there)."
	} >"$md.tmp" && mv "$md.tmp" "$md"
	{
		echo "{\"kernel\": \"$(uname -r)\", \"rows\": ["
		for r in "${ROWS[@]}"; do
			IFS='|' read -r key label target <<<"$r"
			[ $first = 1 ] || echo ","
			first=0
			printf '  {"key": "%s", "workload": "%s", "target": "%s", "recipe": %s, "recipe_text": "%s", "tcbpf": %s, "tcbpf_text": "%s"}' \
				"$key" "${label//\"/\\\"}" "$target" "$(jnum "${VAL[recipe:$key]:-}")" \
				"${TXT[recipe:$key]//\"/\\\"}" "$(jnum "${VAL[tcbpf:$key]:-}")" "${TXT[tcbpf:$key]//\"/\\\"}"
		done
		echo
		echo "]}"
	} >"$js.tmp" && mv "$js.tmp" "$js"
}
jnum() { [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?$ ]] && echo "$1" || echo null; }

# ------------------------------------------------------------------ checks

# claim NAME WHY: after a condition: PASS, or FAIL with WHY
claim() {
	if [ $? -eq 0 ]; then pass "$1"; else fail "$1" "$2"; fi
}
v() { echo "${VAL[$1]:-0}"; }

checks() {
	[ "$(v recipe:attach)" = 0 ]
	claim compare_recipe_starts "recipe start: ${TXT[recipe:attach]:-}"
	[ "$(v tcbpf:attach)" = 0 ]
	claim compare_tcbpf_attaches "tcbpf attach: ${TXT[tcbpf:attach]:-}"
	[ "$(v tcbpf:attach_daemon)" = 0 ]
	claim compare_tcbpf_attaches_daemon_running "tcbpf attach, daemon running: ${TXT[tcbpf:attach_daemon]:-}"
	within "$(v tcbpf:udp_from)" "$RATE" 10
	claim compare_tcbpf_rate_from_vm "${TXT[tcbpf:udp_from]:-}"
	within "$(v tcbpf:udp_to)" "$RATE" 10
	claim compare_tcbpf_rate_to_vm "${TXT[tcbpf:udp_to]:-}"
	within "$(v tcbpf:udp6_from)" "$RATE" 10 && within "$(v tcbpf:udp6_to)" "$RATE" 10
	claim compare_tcbpf_ipv6_limited "from ${TXT[tcbpf:udp6_from]:-}, to ${TXT[tcbpf:udp6_to]:-}"
	[ -n "${VAL[tcbpf:ssh6_rtt]:-}" ] && le "$(v tcbpf:ssh_ipopt_rtt)" 50 && le "$(v tcbpf:ssh6_rtt)" 50
	claim compare_tcbpf_ssh_rtt_ipopt_ipv6 "ssh RTT with IP options ${TXT[tcbpf:ssh_ipopt_rtt]:-}, over IPv6 ${TXT[tcbpf:ssh6_rtt]:-} (want < 50 ms)"
	ge "$(v tcbpf:ssh_to)" "$(v recipe:ssh_to)" && ge "$(v tcbpf:ssh_from)" "$(v recipe:ssh_from)"
	claim compare_tcbpf_ssh_throughput "ssh port under a flood: to the VM ${TXT[tcbpf:ssh_to]:-} vs ${TXT[recipe:ssh_to]:-}, from ${TXT[tcbpf:ssh_from]:-} vs ${TXT[recipe:ssh_from]:-}"
	ge "$(v tcbpf:tcp_to)" "$(calc "$RATE * 0.7")" && le "$(v tcbpf:tcp_to)" "$(calc "$RATE * 1.1")" &&
	ge "$(v tcbpf:tcp_to_local)" "$(calc "$RATE * 0.7")" && le "$(v tcbpf:tcp_to_local)" "$(calc "$RATE * 1.1")"
	claim compare_tcbpf_tcp_to_vm "TCP goodput to the VM, want 70-110% of the rate: forwarded ${TXT[tcbpf:tcp_to]:-}, from the host itself ${TXT[tcbpf:tcp_to_local]:-}"
	[ "$(v tcbpf:change)" = 0 ] && within "$(v tcbpf:udp_from_10)" "$RATE2" 10 && within "$(v tcbpf:udp_to_10)" "$RATE2" 10
	claim compare_tcbpf_change "change: ${TXT[tcbpf:change]:-}; from ${TXT[tcbpf:udp_from_10]:-}, to ${TXT[tcbpf:udp_to_10]:-}"
	[ "$(v tcbpf:stop)" = 0 ] && [[ "${TXT[tcbpf:stop]:-}" == *"leaves: noqueue" ]]
	claim compare_tcbpf_stop_clean "${TXT[tcbpf:stop]:-}"
	[ -s "$OUTDIR/compare.md" ] && [ -s "$OUTDIR/compare.json" ]
	claim compare_table_written "cannot write $OUTDIR/compare.{md,json}"
}

# ------------------------------------------------- TCP from the VM (6.12)

FV_RATES="10 100"
FV_LIMS="recipe tcbpf tcbpf-edt"

# fv_start LIM MBIT: the limiter at that rate, default burst
fv_start() {
	case $1 in
	recipe) ns_run "$HOST_NS" tests/vm/recipe.sh start "$DEV" "${2}mbit" ;;
	tcbpf) tb attach "$DEV" rate "${2}mbit" >/dev/null ;;
	tcbpf-edt) tb attach "$DEV" rate "${2}mbit" ingress mode edt >/dev/null ;;
	esac 2>"$WORK/lim.err"
}
fv_stop() {
	case $1 in
	recipe) ns_run "$HOST_NS" tests/vm/recipe.sh stop "$DEV" ;;
	*) tb detach "$DEV" >/dev/null ;;
	esac 2>/dev/null
}

from_vm_tcp() {
	local r key md=$OUTDIR/compare-from-vm.md js=$OUTDIR/compare-from-vm.json first=1
	for r in $FV_RATES; do
		for LIM in $FV_LIMS; do
			key=tcp_from_$r
			if ! fv_start "$LIM" "$r"; then
				put "$LIM" "$key" "" "start failed: $(head -c 80 "$WORK/lim.err")"
				note "$LIM ${r}mbit: start failed: $(cat "$WORK/lim.err")"
				fv_stop "$LIM"
				continue
			fi
			# seconds 3-8: slow start and the burst left out
			flow "$key" - 3 proto=tcp from="$VM_NS" to="$HOST_NS" addr="$HOST_IP" time=8
			fv_stop "$LIM"
		done
	done
	mkdir -p "$OUTDIR" || return 1
	{
		echo "| workload | target | old recipe | tcbpf (ingress police, the default) | tcbpf \`ingress mode edt\` |"
		echo "|---|---|---|---|---|"
		for r in $FV_RATES; do
			key=tcp_from_$r
			echo "| TCP from the VM at $r Mbit/s, goodput (kernel $(uname -r)) | $(awk -v r="$r" 'BEGIN { printf "%.2f", r * 1448 / 1514 }') Mbit/s (the frame ceiling) | ${TXT[recipe:$key]:-n/a} | ${TXT[tcbpf:$key]:-n/a} | ${TXT[tcbpf-edt:$key]:-n/a} |"
		done
	} >"$md.tmp" && mv "$md.tmp" "$md"
	{
		echo "{\"kernel\": \"$(uname -r)\", \"rows\": ["
		for r in $FV_RATES; do
			key=tcp_from_$r
			[ $first = 1 ] || echo ","
			first=0
			printf '  {"key": "%s", "rate_mbit": %s, "recipe": %s, "tcbpf": %s, "tcbpf_edt": %s}' \
				"$key" "$r" "$(jnum "${VAL[recipe:$key]:-}")" \
				"$(jnum "${VAL[tcbpf:$key]:-}")" "$(jnum "${VAL[tcbpf-edt:$key]:-}")"
		done
		echo
		echo "]}"
	} >"$js.tmp" && mv "$js.tmp" "$js"
	echo
	cat "$md"
	echo
	# What the rows claim: pacing gives TCP from the VM more than either
	# policer at the same rate and burst (guest-ingress.sh holds it to
	# the issue's 95 %).
	for r in $FV_RATES; do
		key=tcp_from_$r
		[ -n "${VAL[tcbpf-edt:$key]:-}" ] &&
			ge "$(v "tcbpf-edt:$key")" "$(v "recipe:$key")" &&
			ge "$(v "tcbpf-edt:$key")" "$(v "tcbpf:$key")"
		claim "compare_edt_tcp_from_vm_${r}mbit" "ingress edt ${TXT[tcbpf-edt:$key]:-}, recipe ${TXT[recipe:$key]:-}, tcbpf police ${TXT[tcbpf:$key]:-}"
	done
	[ -s "$md" ] && [ -s "$js" ]
	claim compare_from_vm_table_written "cannot write $md, $js"
}

main() {
	if [ -z "${TCBPF_IN_VM:-}" ]; then
		echo "SKIP: compare: runs inside tests/vm/vmtest.sh's guest only (the recipe needs prio, netem, police)"
		exit 0
	fi
	if [ ! -x "$TCBPF" ]; then
		fail compare "$TCBPF not built (make tcbpf)"
		exit 1
	fi
	trap vm_cleanup EXIT
	trap 'exit 130' INT TERM
	if ! vm_setup; then
		fail compare "cannot build the namespaces"
		exit 1
	fi
	local t0
	if [ "${1:-${COMPARE_PART:-}}" = from-vm-tcp ]; then
		from_vm_tcp
		echo "compare: $NPASS passed, $NFAIL failed, $NSKIP skipped"
		[ "$NFAIL" -eq 0 ]
		return
	fi
	for LIM in recipe tcbpf; do
		t0=$SECONDS
		echo "== compare: $LIM"
		workloads
		note "$LIM: $((SECONDS - t0)) s"
	done
	attach_daemon
	write_table
	echo
	cat "$OUTDIR/compare.md"
	echo
	checks
	echo "compare: $NPASS passed, $NFAIL failed, $NSKIP skipped"
	[ "$NFAIL" -eq 0 ]
}

main "$@"
