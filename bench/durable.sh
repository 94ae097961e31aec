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
# A "reboot" here: the devices deleted and made again (their links and
# filters go), the pins gone (a fresh bpffs), /run/tcbpf emptied; the
# state file kept. Everything runs in a private mount namespace with its
# own bpffs and in the namespace tcbpf-bench-dur: the machine's pins and
# devices are never touched. Prints "  # ..." figures, "PASS: name" per
# measurement that ran, "FAIL: name: why" for one that could not; a
# missed target is reported, not failed (bench/run.sh's rule).
set -u
N=${1:-1000}
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
WORK=$(mktemp -d /tmp/tcbpf-bench-d.XXXXXX)
TCBPF=$WORK/tcbpf
cp "$ROOT/tcbpf" "$TCBPF" || { echo "FAIL: durable: no $ROOT/tcbpf"; exit 1; }
export TCBPF_STATE_DIR=$WORK/state TCBPF_CONFIG_DIR=$WORK/conf
mkdir -p "$TCBPF_CONFIG_DIR"
DPID=
NFAIL=0

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

mount -t bpf bpf /sys/fs/bpf && mkdir -p /run/tcbpf && mount -t tmpfs tmpfs /run/tcbpf ||
	{ fail durable "cannot mount a private bpffs and /run/tcbpf"; exit 1; }

# devices OP: add (and up) or delete the N taps vm-I-NETID
devices() {
	local i
	for i in $(seq 1 "$N"); do
		if [ "$1" = add ]; then
			echo "link add vm-$i-$NETID type veth peer name p$i"
			echo "link set vm-$i-$NETID up"
		else
			echo "link del vm-$i-$NETID"
		fi
	done | ip -n "$NS" -batch -
}

# reboot: what a host reboot takes with it, the state file kept
reboot() {
	devices del && devices add || return 1
	umount /sys/fs/bpf && mount -t bpf bpf /sys/fs/bpf || return 1
	umount /run/tcbpf && mount -t tmpfs tmpfs /run/tcbpf
}

# attached: how many of the taps have tcbpf's programs on them
attached() { "$TCBPF" -n "$NS" list 2>/dev/null | grep -c "vm-.*-$NETID"; }

ip netns add "$NS" && ip -n "$NS" link set lo up && devices add ||
	{ fail durable "cannot make $N devices in $NS"; exit 1; }
echo "== durable: $N devices"

# 1. attach net, one process (the programs loaded already, as on a host
# with a limiter or the daemon: the verifier is not what is measured)
ip -n "$NS" link add keep0 type veth peer name keep1
"$TCBPF" -n "$NS" attach keep0 rate 1mbit >/dev/null 2>&1
t0=$(now_ns)
if "$TCBPF" -n "$NS" attach net "$NETID" rate 10mbit >/dev/null 2>"$WORK/err"; then
	t1=$(now_ns)
	n=$(attached)
	fig "attach net of $N devices, one process ($n attached)" "$(ms "$t0" "$t1")" 1000
	[ "$n" -eq "$N" ] && echo "PASS: attach net $N" ||
		fail "attach net $N" "only $n attached"
else
	fail "attach net $N" "$(head -c 300 "$WORK/err")"
fi

# 2. apply of N recorded devices after a reboot, one process
if reboot; then
	t0=$(now_ns)
	"$TCBPF" apply >/dev/null 2>"$WORK/err"
	t1=$(now_ns)
	n=$(attached)
	fig "apply of $N recorded devices, one process ($n attached)" "$(ms "$t0" "$t1")" 1000
	[ "$n" -ge "$N" ] && echo "PASS: apply $N" || fail "apply $N" "only $n attached: $(head -c 300 "$WORK/err")"
else
	fail "apply $N" "reboot simulation failed"
fi

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
		fig "daemon: $N recorded clamps back from its start" "$(ms "$t0" "$last")" 1000
		echo "PASS: daemon $N"
	else
		fail "daemon $N" "$n attached; $(tail -c 300 "$WORK/daemon.err")"
	fi
else
	fail "daemon $N" "reboot simulation failed"
fi

# 4. event to clamp, the daemon running: a tap deleted and made again
if [ -n "$DPID" ]; then
	: >"$WORK/e2c"
	for i in 1 2 3 4 5 6 7 8 9 10; do
		d=vm-$i-$NETID
		ip -n "$NS" link del "$d"
		sleep 0.2
		: >"$WORK/mark"
		before=$(wc -l <"$WORK/daemon.log")
		t0=$(now_ns)
		ip -n "$NS" link add "$d" type veth peer name "p$i"
		for j in $(seq 1 200); do
			ev=$(tail -n +$((before + 1)) "$WORK/daemon.log" |
				grep "\"ifname\":\"$d\".*\"result\":\"done\"" |
				sed -n 's/.*"time_ns":\([0-9]*\).*/\1/p' | head -1)
			[ -n "$ev" ] && break
			sleep 0.01
		done
		[ -n "$ev" ] && echo $(((ev - t0) / 1000)) >>"$WORK/e2c"
	done
	if [ "$(wc -l <"$WORK/e2c")" -eq 10 ]; then
		med=$(sort -n "$WORK/e2c" | sed -n 5p)
		max=$(sort -n "$WORK/e2c" | tail -1)
		fig "event to clamp, median of 10 (us: $(sort -n "$WORK/e2c" | tr '\n' ' '))" $((med / 1000)) 100
		fig "event to clamp, max of 10" $((max / 1000)) 100
		echo "PASS: event to clamp"
	else
		fail "event to clamp" "$(wc -l <"$WORK/e2c") of 10 re-created taps clamped"
	fi
	kill "$DPID"
	wait "$DPID" 2>/dev/null
	DPID=
fi
[ "$NFAIL" -eq 0 ]
