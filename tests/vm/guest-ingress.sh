#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/vm/guest-ingress.sh - ingress EDT (traffic FROM the VM paced through
# the namespace's pacing ifb tcbpf-ifb0 and its fq) on a kernel that has fq
# and ifb, with real traffic: the issue 11 targets.
#
#   tests/vm/vmtest.sh -- tests/vm/guest-ingress.sh [test_name...]
#   VMTEST_SUITES="tests/vm/guest-ingress.sh" tests/vm/make-vmtest.sh
#
# Runs only inside the vmtest guest (Debian's 6.1 kernel). Namespaces and
# helpers: tests/vm/lib-vm.sh. Traffic from the VM (tcbpf-vm) arrives on
# vm-3-00c9's ingress in tcbpf-host; the receiver is tcbpf-host. Prints
# PASS/FAIL/SKIP lines and "  # ..." lines with every figure measured.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib-vm.sh

IFB=tcbpf-ifb0
TESTS=(
	test_ing_attach
	test_ing_tcp_goodput
	test_ing_udp_flood
	test_ing_allow_saturated
)

has_ifb() { ip -n "$HOST_NS" link show "$IFB" >/dev/null 2>&1; }

# can_pace: can this kernel pace ingress? Sets ING_WHY to the refusal.
can_pace() {
	ING_WHY=
	if tb attach "$DEV" ingress mode edt >/dev/null 2>"$WORK/err"; then
		tb detach "$DEV" >/dev/null 2>&1
		return 0
	fi
	ING_WHY=$(cat "$WORK/err")
	return 1
}

# attach ingress mode edt: show says edt through the ifb, the ifb has fq
# (mq + fq per queue) and tcbpf's program on its egress; detach removes it.
test_ing_attach() {
	if [ -n "$ING_WHY" ]; then
		res_begin ing_edt_refused_saying_why
		note "refusal: $ING_WHY"
		grep -q "ingress: mode edt needs the ifb device $IFB" <<<"$ING_WHY" ||
			res_bad "refusal does not say what failed: $ING_WHY"
		has_ifb && res_bad "$IFB left after the refusal"
		res_end
		return
	fi
	res_begin ing_edt_attach_makes_ifb
	if ! tb attach "$DEV" rate 10mbit ingress mode edt >/dev/null 2>"$WORK/err"; then
		res_bad "attach: $(cat "$WORK/err")"
	else
		tbj "$DEV" 'd["ingress"]["mode"]' 'd["ingress"].get("pace_ifindex")'
		note "show -j: ingress mode ${TBJ[0]}, pace_ifindex ${TBJ[1]}"
		note "tc: $(tc -n "$HOST_NS" qdisc show dev "$IFB" | head -3 | tr '\n' ';')"
		[ "${TBJ[0]}" = edt ] || res_bad "ingress mode '${TBJ[0]}', want edt"
		has_ifb || res_bad "no $IFB"
		tc -n "$HOST_NS" qdisc show dev "$IFB" | grep -q '^qdisc fq ' ||
			res_bad "no fq on $IFB"
		tc -n "$HOST_NS" filter show dev "$IFB" egress | grep -q tcbpf_pace ||
			res_bad "tcbpf_pace not on $IFB's egress"
	fi
	tb detach "$DEV" >/dev/null 2>&1
	has_ifb && res_bad "$IFB left after the last detach"
	res_end
}

# TCP from the VM at 1, 10 and 100 Mbit/s with the default burst: frames
# on the wire >= 95 % of the rate over seconds 3-10 (payload is at most
# 1448/1514 of that). Police mode measured alongside, for the README.
test_ing_tcp_goodput() {
	local r rate mode pct wpct try
	for r in 1 10 100; do
		rate=$((r * 1000000))
		for mode in police edt; do
			res_begin "ing_${mode}_tcp_from_vm_${r}mbit"
			if [ "$mode" = edt ] && [ -n "$ING_WHY" ]; then
				res_skip "this kernel cannot pace ingress"
				res_end
				continue
			fi
			if ! tb attach "$DEV" rate "${r}mbit" ingress mode "$mode" >/dev/null 2>"$WORK/err"; then
				res_bad "attach: $(cat "$WORK/err")"
				res_end
				continue
			fi
			for try in 1 2; do
				measure t 3 proto=tcp from="$VM_NS" to="$HOST_NS" addr="$HOST_IP" time=10
				tbj "$DEV" 'd["ingress"]["classes"]["default"]["dropped_packets"]' \
					'd["ingress"]["classes"]["default"]["marked_packets"]'
				pct=$(calc "$FLOW_BPS * 100 / $rate")
				wpct=$(calc "$FLOW_WIRE * 100 / $rate")
				note "$(flow_line "TCP from VM, ingress $mode ${r}mbit, try $try") [goodput $pct %, frames $wpct % of the rate; dropped ${TBJ[0]} marked ${TBJ[1]}]"
				[ "$mode" = police ] && break
				[ -z "$FLOW_ERR" ] && ge "$FLOW_WIRE" "$(calc "$rate * 0.95")" && break
			done
			if [ "$mode" = edt ]; then
				if [ -n "$FLOW_ERR" ]; then
					res_bad "iperf3 failed: $FLOW_ERR"
				else
					ge "$FLOW_WIRE" "$(calc "$rate * 0.95")" ||
						res_bad "frames $(mbit "$FLOW_WIRE") Mbit/s < 95 % of ${r}"
					le "$FLOW_WIRE" "$(calc "$rate * 1.02")" ||
						res_bad "frames $(mbit "$FLOW_WIRE") Mbit/s > rate + 2 %"
				fi
			fi
			res_end
			tb detach "$DEV" >/dev/null 2>&1
		done
	done
}

# A UDP flood from the VM at 3x 10 Mbit/s: what arrives is the rate within
# 1 % over seconds 2-8, the excess dropped at the horizon and counted.
test_ing_udp_flood() {
	local rate=10000000 dr
	res_begin ing_edt_udp_flood_from_vm_10mbit
	if [ -n "$ING_WHY" ]; then
		res_skip "this kernel cannot pace ingress"
	elif ! tb attach "$DEV" rate 10mbit ingress mode edt >/dev/null 2>"$WORK/err"; then
		res_bad "attach: $(cat "$WORK/err")"
	else
		measure u 2 from="$VM_NS" to="$HOST_NS" addr="$HOST_IP" bw=30M time=8
		tbj "$DEV" 'd["ingress"]["classes"]["default"]["dropped_packets"]'
		dr=${TBJ[0]:-0}
		note "$(flow_line "UDP 30 Mbit/s from VM, ingress edt 10mbit") [frames $(calc "$FLOW_WIRE * 100 / $rate") % of the rate; horizon drops $dr]"
		if [ -n "$FLOW_ERR" ]; then
			res_bad "iperf3 failed: $FLOW_ERR"
		else
			within "$FLOW_WIRE" "$rate" 1 ||
				res_bad "frames $(mbit "$FLOW_WIRE") Mbit/s not within 1 % of 10"
			[ "$dr" -gt 0 ] || res_bad "no horizon drops counted"
		fi
	fi
	res_end
	tb detach "$DEV" >/dev/null 2>&1
}

# TCP from the VM on an allowlisted port (3389: the VM's listener holds 22)
# while a UDP flood saturates the default class: >= 90 % of what the same
# transfer reaches without tcbpf in this run (the emulated machine carries
# less than the 100 Mbit/s allow rate).
test_ing_allow_saturated() {
	local base
	res_begin ing_edt_allow_tcp_from_vm_saturated
	if [ -n "$ING_WHY" ]; then
		res_skip "this kernel cannot pace ingress"
		res_end
		return
	fi
	measure b 2 proto=tcp from="$VM_NS" to="$HOST_NS" addr="$VM_IP" port=3389 server=from time=6
	base=$FLOW_BPS
	note "$(flow_line "TCP from VM port 3389, no tcbpf")"
	if ! tb attach "$DEV" rate 10mbit ingress mode edt >/dev/null 2>"$WORK/err"; then
		res_bad "attach: $(cat "$WORK/err")"
	else
		flow_start u from="$VM_NS" to="$HOST_NS" addr="$HOST_IP" bw=30M time=10
		sleep 2
		measure a 2 proto=tcp from="$VM_NS" to="$HOST_NS" addr="$VM_IP" port=3389 server=from time=6
		note "$(flow_line "TCP from VM port 3389, default class flooded") [$(calc "$FLOW_BPS * 100 / ($base + 1)") % of the unlimited run]"
		flow_wait u 1
		note "$(flow_line "the flood")"
		if [ -z "$FLOW_ERR" ]; then
			ge "$FLOW_BPS" "$(calc "$base * 0.9")" ||
				res_bad "allow class $(mbit "$FLOW_BPS") Mbit/s < 90 % of $(mbit "$base")"
		fi
	fi
	res_end
	tb detach "$DEV" >/dev/null 2>&1
}

main() {
	local t names=("$@")
	[ ${#names[@]} -gt 0 ] || names=("${TESTS[@]}")
	if [ -z "${TCBPF_IN_VM:-}" ]; then
		echo "SKIP: guest-ingress: runs inside tests/vm/vmtest.sh's guest only"
		exit 0
	fi
	trap vm_cleanup EXIT
	trap 'exit 130' INT TERM
	if ! vm_setup; then
		fail guest-ingress "cannot build the namespaces"
		exit 1
	fi
	echo "guest-ingress: kernel $(uname -r), $(nproc) CPUs"
	can_pace || note "ingress EDT unavailable here: $ING_WHY"
	for t in "${names[@]}"; do
		local t0=$SECONDS
		"$t"
		note "$t: $((SECONDS - t0)) s"
	done
	echo "guest-ingress: $NPASS passed, $NFAIL failed, $NSKIP skipped"
	[ "$NFAIL" -eq 0 ]
}

main "$@"
