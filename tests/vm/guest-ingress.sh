#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/vm/guest-ingress.sh - ingress EDT (traffic FROM the VM paced through
# the namespace's pacing ifb tcbpf-ifb0 and its fq) on a kernel that has fq
# and ifb, with real traffic: the issue 11 targets.
#
#   tests/vm/vmtest.sh -- tests/vm/guest-ingress.sh [test_name...]
#   VMTEST_SUITES="tests/vm/guest-ingress.sh" tests/vm/make-vmtest.sh
#
# Runs only inside the vmtest guest: `make vmtest` runs it on Debian's 6.1
# (the refusal; the pacing tests SKIP) and on bookworm-backports' 6.12
# (tests/vm/vmtest.sh --kernel bpo), where a refusal is a failure. Namespaces and
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

# pace_hooked: tcbpf_pace on the ifb's egress, as a tc filter (clsact, before
# 6.6) or as the tcx link tcbpf pins under links/<cookie>_<ifindex>_egress
# (bpftool 7.1 cannot list tcx attachments by device).
pace_hooked() {
	local idx l id
	tc -n "$HOST_NS" filter show dev "$IFB" egress 2>/dev/null | grep -q tcbpf_pace &&
		return 0
	idx=$(ip -n "$HOST_NS" -o link show "$IFB" 2>/dev/null | cut -d: -f1)
	[ -n "$idx" ] || return 1
	for l in "$PIN_DIR"/links/*_"${idx}"_egress; do
		[ -e "$l" ] || continue
		id=$(bpftool link show pinned "$l" 2>/dev/null | grep -o 'prog [0-9]*' | awk '{ print $2 }')
		[ -n "$id" ] && bpftool prog show id "$id" 2>/dev/null | grep -qw tcbpf_pace &&
			return 0
	done
	return 1
}

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

# kernel_should_pace: 6.4 or later (bpf_redirect() marks packets for ifb)
# with sch_fq and ifb loaded (tests/vm/vmtest.sh loads both): a refusal
# there is a failure, not a skip.
kernel_should_pace() {
	local v maj min
	v=$(uname -r)
	maj=${v%%.*}
	min=${v#*.}
	min=${min%%[!0-9]*}
	{ [ "$maj" -gt 6 ] || { [ "$maj" -eq 6 ] && [ "$min" -ge 4 ]; }; } &&
		[ -d /sys/module/sch_fq ] && [ -d /sys/module/ifb ]
}

# ing_unavailable: inside a result, the verdict where ingress EDT was
# refused: a skip before 6.4, a failure where the kernel has what it needs.
ing_unavailable() {
	if kernel_should_pace; then
		res_bad "kernel $(uname -r) has fq and ifb, yet ingress EDT was refused: $ING_WHY"
	else
		res_skip "kernel $(uname -r) cannot pace ingress (6.4 or later needed)"
	fi
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
		kernel_should_pace &&
			res_bad "kernel $(uname -r) has fq and ifb, yet ingress EDT was refused"
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
		pace_hooked ||
			res_bad "tcbpf_pace not on $IFB's egress (neither a tc filter nor a pinned tcx link)"
	fi
	tb detach "$DEV" >/dev/null 2>&1
	has_ifb && res_bad "$IFB left after the last detach"
	res_end
}

# TCP from the VM at 1, 10 and 100 Mbit/s with the default burst, over
# seconds 3-10: goodput >= 99 % of the frame ceiling (payload is at most
# 1448/1514 of the rate: >= 94.7 % of the rate) and frames on the wire
# >= 99 % and <= 102 % of the rate; a second try when the first falls short
# (the vCPUs share two busy cores). Police mode measured alongside, for
# README and bench (printed, not asserted: the policer's shortfall is the
# reason ingress EDT exists).
test_ing_tcp_goodput() {
	local r rate mode pct wpct try
	for r in 1 10 100; do
		rate=$((r * 1000000))
		for mode in police edt; do
			res_begin "ing_${mode}_tcp_from_vm_${r}mbit"
			if [ "$mode" = edt ] && [ -n "$ING_WHY" ]; then
				ing_unavailable
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
				[ -z "$FLOW_ERR" ] && ge "$FLOW_WIRE" "$(calc "$rate * 0.99")" && break
			done
			if [ "$mode" = edt ]; then
				if [ -n "$FLOW_ERR" ]; then
					res_bad "iperf3 failed: $FLOW_ERR"
				else
					# the issue's target: goodput >= 99 % of what
					# full frames can carry (1448 of 1514 bytes:
					# 95.6 % of the rate), frames >= 99 % of it
					ge "$FLOW_BPS" "$(calc "$rate * 0.99 * 1448 / 1514")" ||
						res_bad "goodput $(mbit "$FLOW_BPS") Mbit/s < 99 % of the frame ceiling $(mbit "$(calc "$rate * 1448 / 1514")")"
					ge "$FLOW_WIRE" "$(calc "$rate * 0.99")" ||
						res_bad "frames $(mbit "$FLOW_WIRE") Mbit/s < 99 % of ${r}"
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
		ing_unavailable
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

# The allow class while a UDP flood from the VM saturates the paced default
# class (rate 10mbit, ingress mode edt): TCP on an allowlisted port (3389:
# the VM's listener holds 22) from and to the VM, and the connect time to
# the VM's port 22 against the unlimited control pair (tests/vm/lib-vm.sh).
# Goodput >= 90 % of the allow rate (100 Mbit/s by default) or, where the
# emulated machine carries less, of what the same transfer reached without
# tcbpf in this run (measured first). The ssh path's RTT, minus the control
# path's, may rise by 1 ms (the issue's target) from idle to flooded: the
# allow class is never redirected to the ifb, so what would break it (its
# packets queued behind the default class in fq) adds tens of ms.
ALLOW_RATE=100000000
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
allow_tcp() { # LABEL DIRECTION(from|to) -> A_BPS, A_LINE
	if [ "$2" = from ]; then
		measure a 2 proto=tcp from="$VM_NS" to="$HOST_NS" addr="$VM_IP" port=3389 server=from time=6
	else
		measure a 2 proto=tcp from="$HOST_NS" to="$VM_NS" addr="$VM_IP" port=3389 time=6
	fi
	A_BPS=$FLOW_BPS A_ERR=$FLOW_ERR
	A_LINE=$(flow_line "$1")
}

test_ing_allow_saturated() {
	local dir base want d0 d1 rise idle sat dr0 dr1 again=
	declare -A bases
	res_begin ing_edt_allow_tcp_saturated
	if [ -n "$ING_WHY" ]; then
		ing_unavailable
		res_end
		return
	fi
	for dir in from to; do
		allow_tcp "TCP $dir VM port 3389, no tcbpf" "$dir"
		bases[$dir]=$A_BPS
		note "$A_LINE"
	done
	if ! tb attach "$DEV" rate 10mbit ingress mode edt >/dev/null 2>"$WORK/err"; then
		res_bad "attach: $(cat "$WORK/err")"
		res_end
		return
	fi
	rtt2 "$HOST_NS" "$VM_IP" "$CTL_IP" 22 60 0.005
	d0=$DIFF_MED
	idle="via $DEV $RTT_LINE; control $CTL_LINE; difference $DIFF_LINE"
	tbj "$DEV" 'd["ingress"]["classes"]["default"]["dropped_packets"]'
	dr0=${TBJ[0]:-0}
	flow_start u from="$VM_NS" to="$HOST_NS" addr="$HOST_IP" bw=30M time=24
	sleep 2
	for dir in from to; do
		allow_tcp "TCP $dir VM port 3389, default class flooded" "$dir"
		base=${bases[$dir]}
		want=$ALLOW_RATE
		ge "$base" "$want" || want=$base
		note "$A_LINE [$(calc "$A_BPS * 100 / $ALLOW_RATE") % of the allow rate, $(calc "$A_BPS * 100 / ($base + 1)") % of the run without tcbpf]"
		if [ -n "$A_ERR" ]; then
			res_bad "TCP $dir the VM: iperf3 failed: $A_ERR"
		else
			ge "$A_BPS" "$(calc "$want * 0.9")" ||
				res_bad "allow class $dir the VM $(mbit "$A_BPS") Mbit/s < 90 % of $(mbit "$want")"
		fi
	done
	rtt2 "$HOST_NS" "$VM_IP" "$CTL_IP" 22 60 0.005
	d1=$DIFF_MED
	sat="via $DEV $RTT_LINE; control $CTL_LINE; difference $DIFF_LINE"
	local sf=$RTT_FAIL
	if ! le "$(fsub "$d1" "$d0")" 1; then
		rtt2 "$HOST_NS" "$VM_IP" "$CTL_IP" 22 60 0.005
		again="; measured again: $DIFF_LINE"
		le "$DIFF_MED" "$d1" && d1=$DIFF_MED
		sf=$((sf + RTT_FAIL))
	fi
	tbj "$DEV" 'd["ingress"]["classes"]["default"]["dropped_packets"]'
	dr1=${TBJ[0]:-0}
	flow_wait u 1
	note "$(flow_line "the flood, UDP 30 Mbit/s from the VM") [default class dropped $((dr1 - dr0)) meanwhile]"
	rise=$(fsub "$d1" "$d0")
	note "idle, ssh port: $idle"
	note "flooded, ssh port: $sat$again"
	note "limiter path minus control path, median: idle $d0 ms, flooded $d1 ms: +$rise ms"
	[ "${sf:-1}" = 0 ] || res_bad "$sf ssh connects failed"
	[ $((dr1 - dr0)) -gt 0 ] || res_bad "the default class was not saturated (no drops meanwhile)"
	le "$rise" 1 || res_bad "the ssh port's RTT rose by $rise ms more than the control path's, want <= 1 ms"
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
