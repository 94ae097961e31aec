#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# bench/durable.sh [N] - how fast clamps stick (issue 10), N devices
# (1000 by default), each figure next to its target:
#
#   attach net (N devices, one process)         <= 1 s
#   apply of N recorded devices, one process    <= 1 s
#   daemon: N recorded clamps back after a
#     "reboot", from its start                  <= 1 s
#   event to clamp: a recorded tap made again
#     with the daemon running (median, max)     <= 100 ms
#
# and next to them the kernel's floor (bench/hookfloor.c: the same
# devices given a program with no tcbpf code at all, tc and tcx), tcbpf's
# attach net with hook tcx (on BD_TCX devices, 100), apply with the
# programs still loaded, and how much of the cold figures is the verifier
# loading the programs (once after a boot). attach net and apply with
# the programs loaded run BD_ROUNDS times (3; median), event to clamp BD_EVENTS times (20).
#
# A "reboot" here: the devices deleted and made again (their links and
# filters go), the pins gone (a fresh bpffs), /run/tcbpf emptied; the
# state file kept. Everything runs in a private mount namespace with its
# own bpffs, /run/tcbpf and lock file (other runs of tcbpf on the machine
# neither wait for this one nor make it wait) and in the namespace
# tcbpf-bench-dur: the machine's pins and devices are never touched.
# Prints "  # ..." figures, "PASS: name" per measurement that ran, "FAIL:
# name: why" for one that could not; a missed target is reported, not
# failed (bench/run.sh's rule). With BD_REC=FILE, one JSON line
# {"part": "durable", ...} is appended to FILE (bench/report.py).
set -u
N=${1:-1000}
ROUNDS=${BD_ROUNDS:-3}
EVENTS=${BD_EVENTS:-20}
NT=${BD_TCX:-100}
[ "$NT" -gt "$N" ] && NT=$N
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: durable: needs root"
	exit 0
fi
if [ "${BD_INNER:-}" != 1 ]; then
	BD_INNER=1 exec unshare -m --propagation private "$SELF" "$@"
fi

NS=${BD_NS:-tcbpf-bench-dur}	# not run.sh's tcbpf-bench-d: a run of it would delete ours
NETID=0abc
NETT=0abd			# the hook tcx comparison's devices
WORK=$(mktemp -d /tmp/tcbpf-bench-d.XXXXXX)
TCBPF=$WORK/tcbpf
HF=$ROOT/.output/bench/hookfloor
cp "$ROOT/tcbpf" "$TCBPF" || { echo "FAIL: durable: no $ROOT/tcbpf"; exit 1; }
export TCBPF_STATE_DIR=$WORK/state TCBPF_CONFIG_DIR=$WORK/conf
mkdir -p "$TCBPF_CONFIG_DIR"
DPID=
NFAIL=0
declare -A R	# figures for the JSON record: name -> number or JSON

cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }
ms() { echo $((($2 - $1) / 1000000)); }
fig() { # NAME MS TARGET_MS
	local v=met
	[ "$2" -le "$3" ] || v="MISSED by $(($2 - $3)) ms"
	echo "  # $1: $2 ms (target <= $3 ms: $v)"
}
fail() { NFAIL=$((NFAIL + 1)); echo "FAIL: $1: $2"; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
jnum() { sed -n "s/.*\"$1\":\\([0-9-]*\\).*/\\1/p"; }

mount -t bpf bpf /sys/fs/bpf && mkdir -p /run/tcbpf && mount -t tmpfs tmpfs /run/tcbpf ||
	{ fail durable "cannot mount a private bpffs and /run/tcbpf"; exit 1; }
# the lock file too: the machine's other tcbpf runs serialise on it
{ [ -e /run/tcbpf.lock ] || : >/run/tcbpf.lock; } && : >"$WORK/lock" &&
	mount --bind "$WORK/lock" /run/tcbpf.lock ||
	{ fail durable "cannot give the run its own lock file"; exit 1; }

# devices OP [COUNT [NETID]]: add (and up) or delete the taps vm-I-NETID
devices() {
	local i
	for i in $(seq 1 "${2:-$N}"); do
		if [ "$1" = add ]; then
			echo "link add vm-$i-${3:-$NETID} type veth peer name p$i-${3:-$NETID}"
			echo "link set vm-$i-${3:-$NETID} up"
		else
			echo "link del vm-$i-${3:-$NETID}"
		fi
	done | ip -n "$NS" -batch -
}

# reboot [keep-pins]: what a host reboot takes with it, the state file kept
reboot() {
	devices del && devices add || return 1
	[ "${1:-}" = keep-pins ] && return 0
	umount /sys/fs/bpf && mount -t bpf bpf /sys/fs/bpf || return 1
	umount /run/tcbpf && mount -t tmpfs tmpfs /run/tcbpf
}

# attached [NETID]: how many of the taps have tcbpf's programs on them
attached() { "$TCBPF" -n "$NS" list 2>/dev/null | grep -c "vm-.*-${1:-$NETID}"; }

ip netns add "$NS" && ip -n "$NS" link set lo up && devices add ||
	{ fail durable "cannot make $N devices in $NS"; exit 1; }
echo "== durable: $N devices"

# 0. the kernel's floor: the same devices, a program with no tcbpf code
# (clsact + two cls_bpf filters each; two tcx links each, on NT of them:
# each link waits for an RCU grace period under rtnl)
if [ -x "$HF" ]; then
	ftc=$(nsenter --net="/run/netns/$NS" "$HF" tc "$N" "vm-%d-$NETID" 2>&1 | jnum attach_us)
	ftcx=$(nsenter --net="/run/netns/$NS" "$HF" tcx "$NT" "vm-%d-$NETID" 2>&1 | jnum attach_us)
	if [ -n "$ftc" ] && [ -n "$ftcx" ]; then
		R[floor_tc_ms]=$((ftc / 1000))
		R[floor_tcx_ms_per_dev]=$(awk -v u="$ftcx" -v n="$NT" 'BEGIN { printf "%.1f", u / n / 1000 }')
		R[floor_tcx_ms]=$((ftcx * N / NT / 1000))
		echo "  # kernel floor, hook tc, $N devices: ${R[floor_tc_ms]} ms"
		echo "  # kernel floor, hook tcx: ${R[floor_tcx_ms_per_dev]} ms a device" \
		     "($NT timed): ${R[floor_tcx_ms]} ms for $N"
		echo "PASS: kernel floor"
	else
		fail "kernel floor" "hookfloor gave no figure"
	fi
else
	echo "SKIP: kernel floor: no $HF (make -f bench/Makefile)"
fi

# 1. attach net, one process (the programs loaded already, as on a host
# with a limiter or the daemon: the verifier is not what is measured);
# ROUNDS times, detach net between, the last one left for the record
ip -n "$NS" link add keep0 type veth peer name keep1
"$TCBPF" -n "$NS" attach keep0 rate 1mbit >/dev/null 2>&1
: >"$WORK/an"
for r in $(seq 1 "$ROUNDS"); do
	t0=$(now_ns)
	if ! "$TCBPF" -n "$NS" attach net "$NETID" rate 10mbit >/dev/null 2>"$WORK/err"; then
		fail "attach net $N" "$(head -c 300 "$WORK/err")"
		break
	fi
	t1=$(now_ns)
	ms "$t0" "$t1" >>"$WORK/an"
	[ "$r" -lt "$ROUNDS" ] && "$TCBPF" -n "$NS" detach net "$NETID" >/dev/null 2>&1
done
n=$(attached)
if [ -s "$WORK/an" ]; then
	R[attach_net_ms]=$(median <"$WORK/an")
	fig "attach net of $N devices, one process, median of $(wc -l <"$WORK/an") (ms: $(sort -n "$WORK/an" | tr '\n' ' ')$n attached)" \
	    "${R[attach_net_ms]}" 1000
	[ "$n" -eq "$N" ] && echo "PASS: attach net $N" ||
		fail "attach net $N" "only $n attached"
fi

# 1b. the same with hook tcx, on NT devices of another network
if devices add "$NT" "$NETT"; then
	t0=$(now_ns)
	"$TCBPF" -n "$NS" attach net "$NETT" rate 10mbit hook tcx >/dev/null 2>"$WORK/err"
	t1=$(now_ns)
	n=$(attached "$NETT")
	R[attach_net_tcx_ms_per_dev]=$(awk -v a="$t0" -v b="$t1" -v n="$NT" 'BEGIN { printf "%.1f", (b - a) / n / 1e6 }')
	echo "  # attach net hook tcx: ${R[attach_net_tcx_ms_per_dev]} ms a device ($NT timed," \
	     "$n attached): $(awk -v a="$t0" -v b="$t1" -v n="$NT" -v N="$N" 'BEGIN { printf "%d", (b - a) / n * N / 1e6 }') ms for $N"
	[ "$n" -eq "$NT" ] && echo "PASS: attach net hook tcx" ||
		fail "attach net hook tcx" "only $n attached: $(head -c 300 "$WORK/err")"
	"$TCBPF" -n "$NS" detach net "$NETT" >/dev/null 2>&1
	devices del "$NT" "$NETT"
fi

# 2. apply of N recorded devices, one process: after the devices were
# made again with the programs still loaded (ROUNDS times, median), then
# after a reboot (the verifier loads them first: the difference is that
# load)
: >"$WORK/al"
for how in $(for r in $(seq 1 "$ROUNDS"); do echo keep-pins; done) cold; do
	if ! reboot "$how"; then
		fail "apply $N ($how)" "reboot simulation failed"
		continue
	fi
	t0=$(now_ns)
	"$TCBPF" apply >/dev/null 2>"$WORK/err"
	t1=$(now_ns)
	n=$(attached)
	if [ "$how" = cold ]; then
		R[apply_ms]=$(ms "$t0" "$t1")
		fig "apply of $N recorded devices after a reboot, one process ($n attached)" "${R[apply_ms]}" 1000
	else
		ms "$t0" "$t1" >>"$WORK/al"
	fi
	[ "$n" -ge "$N" ] || fail "apply $N ($how)" "only $n attached: $(head -c 300 "$WORK/err")"
done
if [ -s "$WORK/al" ]; then
	R[apply_loaded_ms]=$(median <"$WORK/al")
	fig "apply of $N recorded devices, programs loaded, median of $(wc -l <"$WORK/al") (ms: $(sort -n "$WORK/al" | tr '\n' ' ')$N devices)" \
	    "${R[apply_loaded_ms]}" 1000
fi
[ -n "${R[apply_ms]:-}" ] && [ -n "${R[apply_loaded_ms]:-}" ] && echo "PASS: apply $N"

# 3. the daemon after a reboot: from its start to the last clamp back
if reboot; then
	t0=$(now_ns)
	"$TCBPF" daemon >"$WORK/daemon.log" 2>"$WORK/daemon.err" &
	DPID=$!
	for i in $(seq 1 1200); do	# a minute at most
		[ "$(grep -c '"action":"attach".*"result":"done"' "$WORK/daemon.log")" -ge "$N" ] && break
		sleep 0.05
	done
	last=$(grep '"action":"attach".*"result":"done"' "$WORK/daemon.log" | tail -1 |
		sed -n 's/.*"time_ns":\([0-9]*\).*/\1/p')
	n=$(attached)
	if [ -n "$last" ] && [ "$n" -ge "$N" ]; then
		R[daemon_ms]=$(ms "$t0" "$last")
		fig "daemon: $N recorded clamps back from its start" "${R[daemon_ms]}" 1000
		echo "PASS: daemon $N"
	else
		fail "daemon $N" "$n attached; $(tail -c 300 "$WORK/daemon.err")"
	fi
else
	fail "daemon $N" "reboot simulation failed"
fi
if [ -n "${R[apply_ms]:-}" ] && [ -n "${R[apply_loaded_ms]:-}" ]; then
	R[load_ms]=$((R[apply_ms] - R[apply_loaded_ms]))
	echo "  # of the cold figures, loading the programs (the verifier, once" \
	     "after a boot): ${R[load_ms]} ms (apply cold - apply loaded)"
fi

# 4. event to clamp, the daemon running: a tap deleted and made again
if [ -n "$DPID" ]; then
	: >"$WORK/e2c"
	for i in $(seq 1 "$EVENTS"); do
		d=vm-$i-$NETID
		ip -n "$NS" link del "$d"
		sleep 0.2
		before=$(wc -l <"$WORK/daemon.log")
		t0=$(now_ns)
		ip -n "$NS" link add "$d" type veth peer name "p$i-$NETID"
		for j in $(seq 1 200); do
			ev=$(tail -n +$((before + 1)) "$WORK/daemon.log" |
				grep "\"ifname\":\"$d\".*\"result\":\"done\"" |
				sed -n 's/.*"time_ns":\([0-9]*\).*/\1/p' | head -1)
			[ -n "$ev" ] && break
			sleep 0.01
		done
		[ -n "$ev" ] && echo $(((ev - t0) / 1000)) >>"$WORK/e2c"
	done
	if [ "$(wc -l <"$WORK/e2c")" -eq "$EVENTS" ]; then
		R[e2c_median_us]=$(median <"$WORK/e2c")
		R[e2c_max_us]=$(sort -n "$WORK/e2c" | tail -1)
		R[e2c_us]="[$(sort -n "$WORK/e2c" | paste -sd,)]"
		fig "event to clamp, median of $EVENTS (us: $(sort -n "$WORK/e2c" | tr '\n' ' '))" \
		    $((R[e2c_median_us] / 1000)) 100
		fig "event to clamp, max of $EVENTS" $((R[e2c_max_us] / 1000)) 100
		echo "PASS: event to clamp"
	else
		fail "event to clamp" "$(wc -l <"$WORK/e2c") of $EVENTS re-created taps clamped"
	fi
	kill "$DPID"
	wait "$DPID" 2>/dev/null
	DPID=
fi

if [ -n "${BD_REC:-}" ]; then
	{
		printf '{"part": "durable", "env": "host", "devices": %d, "tcx_devices": %d, "rounds": %d' \
			"$N" "$NT" "$ROUNDS"
		for k in "${!R[@]}"; do printf ', "%s": %s' "$k" "${R[$k]}"; done
		printf '}\n'
	} >>"$BD_REC"
fi
[ "$NFAIL" -eq 0 ]
