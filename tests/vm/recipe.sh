#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/vm/recipe.sh - the operators' old tc recipe, as they run it, for the
# side-by-side comparison (tests/vm/compare.sh). Needs a kernel with
# sch_prio, sch_tbf, sch_netem, act_police, cls_u32 and cls_route (the
# vmtest guest; not the build host).
#
#   tests/vm/recipe.sh start DEV [RATE [BURST]]   (1mbit, 1200kbit)
#   tests/vm/recipe.sh change DEV RATE [BURST]
#   tests/vm/recipe.sh stop DEV
#
# Runs tc in the current network namespace (wrap it in nsenter). Like the
# pasted shell lines it stands for, every command runs even when one before
# it failed; each failure is reported on stderr as "recipe: FAILED: cmd:
# error", and the exit status is the number of failed commands (0 = all
# went through).
#
# The text: the issue's description (ingress qdisc with u32 `match ip dport
# 22` / `3389` police 100mbit and a catch-all police rate 1mbit burst
# 1200kbit drop; egress prio with tbf on band 2 and netem delay 400ms on band
# 3, u32 filters; `tc ... change` for rate changes; `tc qdisc del` to stop),
# with the details measured on the recipe as operators ran it (see
# /work/shared/guide/ANCHORS.md): 11 commands; the ssh/rdp police has no
# action (so exceed is "reclassify"); the catch-all names neither protocol
# nor prio (so it is `protocol all` at pref 49152); a `route` filter (needs
# cls_route); tbf `limit 3000`; and the change step's awk scrape, which
# prints the handle of every u32 node and names pref 2, so the filter change
# fails and only the tbf change applies. Keep these lines as they are: the
# comparison is with what operators actually run, mistakes included.
set -u

TC=${TC:-tc}
NFAILED=0

# run CMD...: one line of the recipe; failures counted, not fatal.
run() {
	local out
	if ! out=$("$@" 2>&1); then
		NFAILED=$((NFAILED + 1))
		echo "recipe: FAILED: $*: $(echo "$out" | tr '\n' ' ')" >&2
	elif [ -n "$out" ]; then
		echo "recipe: $*: $(echo "$out" | tr '\n' ' ')" >&2
	fi
	return 0
}

recipe_start() {
	local DEV=$1 RATE=${2:-1mbit} BURST=${3:-1200kbit}
	# from the VM: police on the ingress qdisc
	run $TC qdisc add dev $DEV ingress
	run $TC filter add dev $DEV parent ffff: protocol ip prio 1 u32 match ip dport 22 0xffff police rate 100mbit burst 100mbit
	run $TC filter add dev $DEV parent ffff: protocol ip prio 1 u32 match ip dport 3389 0xffff police rate 100mbit burst 100mbit
	run $TC filter add dev $DEV parent ffff: u32 match u32 0 0 police rate $RATE burst $BURST drop
	# to the VM: ssh/rdp through tbf, everything else 400 ms late
	run $TC qdisc add dev $DEV root handle 1: prio
	run $TC qdisc add dev $DEV parent 1:2 handle 20: tbf rate $RATE burst $BURST limit 3000
	run $TC qdisc add dev $DEV parent 1:3 handle 30: netem delay 400ms
	run $TC filter add dev $DEV parent 1: protocol ip prio 1 u32 match ip dport 22 0xffff flowid 1:2
	run $TC filter add dev $DEV parent 1: protocol ip prio 1 u32 match ip dport 3389 0xffff flowid 1:2
	run $TC filter add dev $DEV parent 1: protocol ip prio 5 route to 1 flowid 1:2
	run $TC filter add dev $DEV parent 1: prio 9 u32 match u32 0 0 flowid 1:3
}

recipe_change() {
	local DEV=$1 RATE=$2 BURST=${3:-1200kbit} h
	h=$($TC filter show dev $DEV parent ffff: | awk '/fh/ && /::/ { for (i = 1; i < NF; i++) if ($i == "fh") print $(i + 1) }')
	echo "recipe: scraped handle(s): $(echo $h)" >&2
	run $TC filter change dev $DEV parent ffff: prio 2 handle $h u32 match u32 0 0 police rate $RATE burst $BURST drop
	run $TC qdisc change dev $DEV parent 1:2 handle 20: tbf rate $RATE burst $BURST limit 3000
}

recipe_stop() {
	local DEV=$1
	run $TC qdisc del dev $DEV ingress
	run $TC qdisc del dev $DEV root
}

usage() {
	echo "usage: tests/vm/recipe.sh start DEV [RATE [BURST]] | change DEV RATE [BURST] | stop DEV" >&2
	exit 255
}

[ $# -ge 2 ] || usage
case $1 in
start) [ $# -le 4 ] || usage; recipe_start "${@:2}" ;;
change) [ $# -ge 3 ] && [ $# -le 4 ] || usage; recipe_change "${@:2}" ;;
stop) [ $# -eq 2 ] || usage; recipe_stop "$2" ;;
*) usage ;;
esac
exit "$NFAILED"
