#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Default command of tests/vm/vmtest.sh: a smoke check that the guest kernel
# has what the host lacks (fq, netem, prio, police, route4) and that BPF,
# bpffs, BTF and network namespaces work. Prints PASS:/FAIL:/SKIP: lines and
# "N passed, N failed"; exits non-zero on any failure.
set -u

IP=/usr/bin/ip
TC=/usr/sbin/tc
[ -x "$IP" ] || IP=/usr/sbin/ip
NS=vmsmoke$$
pass=0 fail=0

ok() { echo "PASS: $1"; pass=$((pass + 1)); }
ko() { echo "FAIL: $1: $2"; fail=$((fail + 1)); }

# check NAME COMMAND...: PASS when COMMAND succeeds, else FAIL with its output.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$name"
	else
		ko "$name" "$(echo "$out" | tr '\n' ' ')"
	fi
}

in_ns() { "$IP" netns exec "$NS" "$@"; }

echo "kernel $(uname -r), $(nproc) cpus"

check netns_add "$IP" netns add "$NS"
check netns_link "$IP" -n "$NS" link set lo up
check netns_veth "$IP" -n "$NS" link add va type veth peer name vb

check qdisc_fq "$TC" -n "$NS" qdisc add dev va root fq
check qdisc_netem "$TC" -n "$NS" qdisc add dev vb root netem delay 10ms
check qdisc_prio bash -c "$TC -n $NS qdisc replace dev va root handle 1: prio &&
	$TC -n $NS qdisc add dev va parent 1:1 handle 10: tbf rate 1mbit burst 10kb latency 50ms"
check qdisc_htb "$TC" -n "$NS" qdisc add dev lo root htb default 1
check qdisc_clsact "$TC" -n "$NS" qdisc add dev vb clsact
check police bash -c "$TC -n $NS qdisc add dev va ingress &&
	$TC -n $NS filter add dev va parent ffff: protocol ip prio 1 u32 \
		match ip dport 22 0xffff police rate 1mbit burst 100k drop flowid :1"
check route4 "$TC" -n "$NS" filter add dev va parent 1: protocol ip prio 5 route to 1 flowid 1:2
check act_gact "$TC" -n "$NS" filter add dev vb egress prio 1 matchall action pass
check ifb "$IP" -n "$NS" link add ifbx type ifb

# netem really delays: ping over lo with 10ms each way.
if "$TC" -n "$NS" qdisc add dev lo root netem delay 10ms 2>/dev/null ||
	"$TC" -n "$NS" qdisc replace dev lo root netem delay 10ms 2>/dev/null; then
	rtt=$(in_ns ping -c 2 -i 0.2 -q 127.0.0.1 2>&1 | awk -F/ '/min\/avg/ { printf "%d", $4 }')
	if [ -n "$rtt" ] && [ "$rtt" -ge 18 ]; then
		ok "netem_delays (rtt ${rtt} ms)"
	else
		ko netem_delays "rtt '${rtt}' ms, want >= 20"
	fi
else
	ko netem_delays "cannot put netem on lo"
fi

# BPF: bpffs, BTF, a tc program loaded and attached.
if awk '$2 == "/sys/fs/bpf" && $3 == "bpf" { f = 1 } END { exit !f }' /proc/mounts; then
	ok bpffs
else
	ko bpffs "/sys/fs/bpf is not a bpf filesystem"
fi
[ -s /sys/kernel/btf/vmlinux ] && ok btf_vmlinux || ko btf_vmlinux "no /sys/kernel/btf/vmlinux"
check bpftool_prog bpftool prog show
check bpftool_btf bash -c "bpftool btf dump file /sys/kernel/btf/vmlinux format raw | head -n1 | grep -q ."
# A tc program with a map (tests/vm/smoke.bpf.c, built on the host by
# vmtest.sh): loaded and pinned by bpftool, attached by tc, and counting.
obj=${TCBPF_VM_SMOKE_OBJ:-}
if [ -n "$obj" ] && [ -r "$obj" ]; then
	pin=/sys/fs/bpf/smoke$$
	check bpf_prog_load bpftool prog load "$obj" "$pin" type classifier
	# tc -n (like ip netns exec) remounts /sys, hiding the pin: only enter
	# the network namespace.
	check bpf_tc_attach bash -c "nsenter --net=/run/netns/$NS $TC qdisc add dev lo clsact &&
		nsenter --net=/run/netns/$NS $TC filter add dev lo ingress bpf direct-action pinned $pin"
	in_ns ping -c 3 -i 0.2 -q 127.0.0.1 >/dev/null 2>&1
	id=$(bpftool prog show pinned "$pin" 2>/dev/null | awk -F: 'NR == 1 { print $1 }')
	map=$(bpftool prog show pinned "$pin" 2>/dev/null | sed -n 's/.*map_ids \([0-9]*\).*/\1/p')
	cnt=$(bpftool map dump id "${map:-0}" 2>/dev/null | sed -n 's/.*"value": *\([0-9]*\).*/\1/p')
	if [ -n "$cnt" ] && [ "$cnt" -gt 0 ]; then
		ok "bpf_tc_counts (prog $id counted $cnt packets)"
	else
		ko bpf_tc_counts "prog '$id' map '${map:-}' count '$cnt'"
	fi
	rm -f "$pin"
else
	echo "SKIP: bpf_prog_load: no TCBPF_VM_SMOKE_OBJ (clang missing on the host?)"
fi

"$IP" netns del "$NS" 2>/dev/null
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
