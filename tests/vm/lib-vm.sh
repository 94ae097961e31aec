# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# shellcheck disable=SC2034 # the results it sets are read by the scripts
# tests/vm/lib-vm.sh - helpers for guest-edt.sh and compare.sh, on top of
# tests/lib.sh (its namespaces, iperf3 flows and PASS/FAIL reporting).
# Source it from bash inside the vmtest guest (tests/vm/vmtest.sh).
#
# Topology: tests/lib.sh's pair (tcbpf-host with vm-3-00c9 10.203.0.1 and
# fd00:7cbf::1; the VM tcbpf-vm with eth0 10.203.0.2 and fd00:7cbf::2),
# plus tcbpf-wan, "the network beyond the hypervisor":
#
#   tcbpf-wan  wan0 10.203.9.2/24  <->  tcbpf-host  up0 10.203.9.1/24
#
# and a second, unlimited pair between the hypervisor and the VM, a control
# path to the same VM that does not cross vm-3-00c9 (same sockets, same CPU,
# same receive backlog in the VM; no limiter, no fq):
#
#   tcbpf-host ctl-h 10.203.8.1/24  <->  tcbpf-vm ctl0 10.203.8.2/24
#
# tcbpf-host forwards between up0 and vm-3-00c9, so traffic to the VM can
# come from a socket on the hypervisor itself (tcbpf-host) or be forwarded
# from outside (tcbpf-wan). The difference matters for pacing with a delay:
# the kernel's TCP small queues let a LOCAL socket have only ~2 packets in
# the qdisc, and fq holds each for the whole delay.

LIB_VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$LIB_VM_DIR/../lib.sh"

WAN_NS=tcbpf-wan
WAN_IP=10.203.9.2
UP_IP=10.203.9.1
VMTOOL=$LIB_VM_DIR/vmtool.py
CTL_IP=10.203.8.2	# the VM, over the control pair

el_ms() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }
# flat TEXT: on one line
# shellcheck disable=SC2086,SC2116
flat() { (set -f; echo $1); }	# split on purpose (one space between words), no globbing

# vmt ARGS...: tests/vm/vmtool.py
# vmtool.py's subcommands that end (json), in tests/lib.sh's long-lived
# python3 (py): one python3 start under emulation is ~0.3 s.
vmt() {
	py -c '
import runpy, sys
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
' "$VMTOOL" "$@"
}

# vm_setup: namespaces, the wan side, the control pair, a TCP listener in
# the VM (22 and 7000: the allow class and a default-class port, for
# connect-time RTTs).
vm_setup() {
	lib_init || return 1
	if ! cp "$TCBPF" "$WORK/tcbpf"; then
		echo "cannot copy $TCBPF" >&2
		return 1
	fi
	TCBPF=$WORK/tcbpf	# a rebuild on the host must not swap it mid-run
	# iperf3 -w 2M (tests/lib.sh) needs the limits of the build host.
	sysctl -qw net.core.rmem_max=4194304 net.core.wmem_max=4194304
	ns_setup 1 || return 1
	ip netns add "$WAN_NS" || return 1
	ip -n "$HOST_NS" link add up0 type veth peer name wan0 netns "$WAN_NS" || return 1
	ip -n "$HOST_NS" addr add "$UP_IP/24" dev up0
	ip -n "$WAN_NS" addr add "$WAN_IP/24" dev wan0
	ip -n "$WAN_NS" link set lo up
	ip -n "$WAN_NS" link set wan0 up
	ip -n "$HOST_NS" link set up0 up
	ns_run "$HOST_NS" sysctl -qw net.ipv4.ip_forward=1 || return 1
	ip -n "$WAN_NS" route add 10.203.0.0/24 via "$UP_IP" || return 1
	ip -n "$VM_NS" route add 10.203.9.0/24 via "$HOST_IP" || return 1
	ns_run "$WAN_NS" ping -c1 -W2 -q "$VM_IP" >/dev/null 2>&1 ||
		{ echo "no route from $WAN_NS to $VM_IP" >&2; return 1; }
	ip -n "$HOST_NS" link add ctl-h type veth peer name ctl0 netns "$VM_NS" || return 1
	ip -n "$HOST_NS" addr add 10.203.8.1/24 dev ctl-h
	ip -n "$VM_NS" addr add "$CTL_IP/24" dev ctl0
	ip -n "$HOST_NS" link set ctl-h up
	ip -n "$VM_NS" link set ctl0 up
	ns_run "$HOST_NS" ping -c1 -W2 -q "$CTL_IP" >/dev/null 2>&1
	listener_start || { echo "no listener in $VM_NS" >&2; return 1; }
}

# listener_start / listener_stop: the VM's TCP listener on 22 (allow class)
# and 7000 (default class) for connect-time RTTs; stopped while an iperf3
# server needs port 22.
LISTENER_PID=
listener_start() {
	# nsenter itself (not the ns_run function, which would put a subshell
	# in between): $! is then python's pid.
	nsenter --net="/run/netns/$VM_NS" "$PY" "$VMTOOL" listen 22 7000 >/dev/null 2>&1 &
	LISTENER_PID=$!
	BG_PIDS+=("$LISTENER_PID")
	wait_listen "$VM_NS" 7000 && wait_listen "$VM_NS" 22
}
listener_stop() {
	[ -n "$LISTENER_PID" ] || return 0
	kill "$LISTENER_PID" 2>/dev/null
	wait "$LISTENER_PID" 2>/dev/null
	LISTENER_PID=
}

vm_cleanup() {
	lib_cleanup
	ip netns del "$WAN_NS" 2>/dev/null
	return 0
}

# rtt NS ADDR PORT N GAP [vmtool opts]: connect-time round trips; sets
# RTT_MED, RTT_P90, RTT_LINE ("n= fail= min= med= p90= max=" in ms).
rtt() {
	local ns=$1
	shift
	RTT_LINE=$(ns_run "$ns" "$PY" "$VMTOOL" rtt "$@" 2>&1 | tail -n1)
	RTT_MED=$(sed -n 's/.* med=\([0-9.]*\).*/\1/p' <<<"$RTT_LINE")
	RTT_P90=$(sed -n 's/.* p90=\([0-9.]*\).*/\1/p' <<<"$RTT_LINE")
	RTT_FAIL=$(sed -n 's/.* fail=\([0-9]*\).*/\1/p' <<<"$RTT_LINE")
	[ -n "$RTT_MED" ] || { RTT_MED=0 RTT_P90=0; return 1; }
	[ "${RTT_FAIL:-1}" = 0 ]
}

# rtt2 NS ADDR CTLADDR PORT N GAP: alternating connects to ADDR and to
# CTLADDR (its control path); RTT_* for ADDR, CTL_MED, CTL_LINE for
# CTLADDR, DIFF_MED, DIFF_LINE for the pairwise differences ADDR - CTLADDR.
rtt2() {
	local ns=$1 out
	shift
	out=$(ns_run "$ns" "$PY" "$VMTOOL" rtt2 "$@" 2>&1 | tail -n3)
	RTT_LINE=$(sed -n 1p <<<"$out")
	CTL_LINE=$(sed -n 2p <<<"$out")
	DIFF_LINE=$(sed -n 3p <<<"$out")
	DIFF_MED=$(sed -n 's/.* med=\(-*[0-9.]*\).*/\1/p' <<<"$DIFF_LINE")
	RTT_MED=$(sed -n 's/.* med=\([0-9.]*\).*/\1/p' <<<"$RTT_LINE")
	RTT_P90=$(sed -n 's/.* p90=\([0-9.]*\).*/\1/p' <<<"$RTT_LINE")
	RTT_FAIL=$(sed -n 's/.* fail=\([0-9]*\).*/\1/p' <<<"$RTT_LINE")
	CTL_MED=$(sed -n 's/.* med=\([0-9.]*\).*/\1/p' <<<"$CTL_LINE")
	[ -n "$RTT_MED" ] && [ -n "$CTL_MED" ] || { RTT_MED=0 CTL_MED=0; return 1; }
}

# pktgen_start NS DEV DST_IP DST_MAC MBIT [SIZE]: the kernel's packet
# generator floods DST_IP (UDP port 9, SIZE-byte frames, default 1500, one
# flow) out of DEV at MBIT, until
# pktgen_stop: a load no user-space sender reaches under emulation.
PKTGEN_PID='' PKTGEN_NS=''
pktgen_start() {
	local ns=$1 dev=$2 ip=$3 mac=$4 mbit=$5 size=${6:-1500} src
	src=$(ip -n "$ns" -4 -o addr show dev "$dev" | awk '{ sub(/\/.*/, "", $4); print $4; exit }')
	[ -d /sys/module/pktgen ] || { echo "no pktgen module" >&2; return 1; }
	ns_run "$ns" bash -c '
		pg() { echo "$2" >"/proc/net/pktgen/$1" || exit 1; }
		[ -e /proc/net/pktgen/pgctrl ] || exit 1
		pg kpktgend_0 rem_device_all
		pg kpktgend_0 "add_device $0"
		for kv in "count 0" "clone_skb 0" "pkt_size $5" "burst 1" \
			"dst $1" "dst_mac $2" "src_min $3" "src_max $3" \
			"udp_src_min 9999" "udp_src_max 9999" "udp_dst_min 9" \
			"udp_dst_max 9" "rate $4"; do
			pg "$0" "$kv"
		done' "$dev" "$ip" "$mac" "$src" "$mbit" "$size" || return 1
	ns_run "$ns" bash -c 'echo start >/proc/net/pktgen/pgctrl' 2>/dev/null &
	PKTGEN_PID=$! PKTGEN_NS=$ns
	BG_PIDS+=("$PKTGEN_PID")
}
pktgen_stop() {
	[ -n "$PKTGEN_PID" ] || return 0
	ns_run "$PKTGEN_NS" bash -c 'echo stop >/proc/net/pktgen/pgctrl' 2>/dev/null
	wait "$PKTGEN_PID" 2>/dev/null
	PKTGEN_PID=
}

# rx_count NS DEV: "bytes packets" received so far (/proc/net/dev)
rx_count() {
	ns_run "$1" cat /proc/net/dev | awk -v d="$2:" '$1 == d { print $2, $3 }'
}
# tx_count NS DEV: "bytes packets" sent so far
tx_count() {
	ns_run "$1" cat /proc/net/dev | awk -v d="$2:" '$1 == d { print $10, $11 }'
}
mac_of() { ip -n "$1" -br link show dev "$2" | awk '{ print $3 }'; }

# ping_rtt NS ADDR N: ICMP echo (default class), every 0.2 s; PING_AVG and
# PING_MIN, PING_MAX in ms.
ping_rtt() {
	local out
	out=$(ns_run "$1" ping -c "$3" -i 0.2 -W 3 -q "$2" 2>&1 | sed -n 's|.*= *\([0-9.]*\)/\([0-9.]*\)/\([0-9.]*\) *ms.*|\1 \2 \3|p')
	read -r PING_MIN PING_AVG PING_MAX <<<"$out"
	[ -n "${PING_AVG:-}" ] || { PING_MIN=0 PING_AVG=0 PING_MAX=0; return 1; }
}

# tbj DEV EXPR...: `tcbpf -j show DEV`, each EXPR over its device object
# (as d), into the array TBJ (one python start for all of them).
tbj() {
	local dev=$1
	shift
	mapfile -t TBJ < <(tb -j show "$dev" 2>/dev/null | vmt json --dev "$dev" "$@")
}
