#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# bench/guest.sh - the bench's old-recipe columns, inside the full-kernel
# guest of tests/vm/vmtest.sh (Debian's 6.1 kernel: fq, netem, prio,
# act_police, cls_route), which bench/run.sh starts:
#
#   tests/vm/vmtest.sh --env BENCH_GUEST_REC=/abs/path.jsonl \
#       [--env BENCH_SMOKE=1] -- bench/guest.sh
#
# On the same veth pair as the host part (bench/lib.sh), side by side:
# the control plane of the old recipe (11 tc processes to attach, a tc |
# awk handle scrape and two tc processes to change, two to detach) and of
# the tcbpf CLI; packets/s with no filter, the recipe and tcbpf; rates
# from and to the VM with the recipe, tcbpf (egress paced with fq: EDT)
# and tcbpf policing egress. The guest runs under software emulation:
# its figures compare with each other, not with the host's.
#
# With BENCH_GUEST_PART=ingress (bench/run.sh boots bookworm-backports'
# 6.12 for it: tests/vm/vmtest.sh --kernel bpo) it measures instead what
# 6.1 cannot run: traffic from the VM paced through the pacing ifb
# (`ingress mode edt`) next to ingress policing, both with tcbpf's default
# burst: TCP goodput at 1, 10 and 100 Mbit/s, a UDP flood at 3x 10 Mbit/s,
# and packets/s through each (records of env "guest-bpo").
#
# Writes records (JSON lines) to BENCH_GUEST_REC, prints PASS:/FAIL:
# lines, exits 1 on any FAIL.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
# shellcheck disable=SC2034	# the parameters of bench/lib.sh's parts

ENV_NAME=guest
REC=${BENCH_GUEST_REC:-}
SMOKE=${BENCH_SMOKE:-0}
if [ -z "$REC" ]; then
	echo "FAIL: guest: BENCH_GUEST_REC is not set"
	exit 1
fi
: >"$REC" || exit 1
WORK=$(mktemp -d /tmp/tcbpf-bench-guest.XXXXXX) || exit 1
trap 'bench_cleanup; rm -rf "$WORK"' EXIT

# Libraries tcbpf needs beyond what vmtest.sh copies in: run.sh puts them
# in bench/tmp/guest-lib. Copied to the guest's tmpfs and given to tcbpf
# alone (a library path on 9p would slow every exec in the guest).
if [ -d "$ROOT/bench/tmp/guest-lib" ]; then
	mkdir -p "$WORK/lib" && cp "$ROOT"/bench/tmp/guest-lib/* "$WORK/lib/" 2>/dev/null
	printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' "$WORK/lib" "$TCBPF" >"$WORK/tcbpf"
	chmod +x "$WORK/tcbpf"
	TCBPF=$WORK/tcbpf
	export TCBPF
fi
if ! out=$("$TCBPF" help 2>&1 >/dev/null) || [ -n "$out" ]; then
	echo "FAIL: guest: tcbpf does not run here: $out"
	exit 1
fi

if [ "$SMOKE" = 1 ]; then
	TPUT_SECS=0.5 TPUT_ROUNDS=1
	RATES="10000000" ACC_SECS=1.5 WARM=0.5
	CTL_N=2
else
	TPUT_SECS=0.7 TPUT_ROUNDS=1
	RATES="10000000 100000000 1000000" ACC_SECS=2.5 WARM=1
	CTL_N=3
fi
# Seconds this script may take (run.sh passes what is left of its budget);
# accuracy rates that would not fit are skipped.
BUDGET=${BENCH_GUEST_BUDGET:-600}
ACC_SENDERS="1"
PPS_LIST="" PPS_SENDERS=""
TCP_BIG_BURST=""
TPUT_LIMS_FROM="none tcbpf recipe"
TPUT_LIMS_TO="none tcbpf"	# the recipe holds default traffic 400 ms in netem
ACC_LIMS_FROM="tcbpf recipe"
ACC_LIMS_TO="tcbpf tcbpf-police recipe"
TB_EXTRA="egress delay 0"	# pace at the rate, no extra delay

# ingress_part: TCP and UDP from the VM, ingress EDT vs police, at
# tcbpf's default burst (the target's condition; bench/lib.sh's acc_part
# sets 100 ms), then packets/s through each, far above the load.
ingress_part() {
	local rate mode burst lims why got
	ENV_NAME=guest-bpo
	for rate in 1000000 10000000 100000000; do
		for mode in edt police; do
			if ! limiter tcbpf rate "${rate}bit" egress delay 0 \
				ingress mode "$mode" >"$WORK/apply.err" 2>&1; then
				fail "ingress $mode $rate" "cannot attach: $(head -c 200 "$WORK/apply.err")"
				continue
			fi
			why=$(tb -j show "$DEV" | python3 -c '
import json, sys
d = json.load(sys.stdin)
d = d[0] if isinstance(d, list) else d
i = d["ingress"]
print(i["mode"], i["burst_bytes"])')
			read -r got burst <<<"$why"
			if [ "$got" != "$mode" ]; then
				fail "ingress $mode $rate" "show says ingress mode '$got'"
				continue
			fi
			acc_flow tcbpf "$mode" from_vm tcp 1 "$rate" "$burst" null 0
			[ "$rate" = 10000000 ] &&
				acc_flow tcbpf "$mode" from_vm udp 1 "$rate" "$burst" null $((FRAME - UDP_OV))
		done
	done
	limiter none
	# packets/s: tcbpf = TB_EXTRA's ingress EDT, tcbpf-police polices
	TB_EXTRA="egress delay 0 ingress mode edt"
	TPUT_LIMS_FROM="none tcbpf tcbpf-police" TPUT_LIMS_TO=""
	lims=ok
	tput_part || lims=
	if [ -n "$lims" ]; then
		pass "guest-bpo throughput from the VM, ingress EDT and police"
	else
		fail "guest-bpo throughput" "a run failed (see above)"
	fi
}

T0=$SECONDS
echo "guest: kernel $(uname -r), $(nproc) CPUs"
if ! bench_ns_setup; then
	echo "FAIL: guest namespaces: cannot build tcbpf-bench-h / tcbpf-bench-v"
	exit 1
fi
if [ "${BENCH_GUEST_PART:-recipe}" = ingress ]; then
	ACC_SECS=$([ "$SMOKE" = 1 ] && echo 2 || echo 5)
	echo "== guest $(uname -r): traffic from the VM, ingress EDT vs police"
	ingress_part
	note "ingress part done at $((SECONDS - T0)) s"
	echo "$NPASS passed, $NFAIL failed, $NSKIP skipped"
	[ "$NFAIL" = 0 ]
	exit
fi

echo "== guest: control plane, one device (tcbpf CLI and the old recipe)"
if nsx "$NS_H" env WORK="$WORK" ENV_NAME=guest bash -c \
	". '$BENCH_DIR/lib.sh'; cp_times $CTL_N 20mbit 2mbit" >"$WORK/cp.jsonl" 2>"$WORK/cp.err"; then
	cat "$WORK/cp.jsonl" >>"$REC"
	if grep -q '"tool": "recipe", "op": "attach"' "$WORK/cp.jsonl"; then
		pass "guest control plane, tcbpf and the old recipe"
	else
		fail "guest control plane, old recipe" "$(grep -o '"why": "[^"]*"' "$WORK/cp.jsonl")"
	fi
else
	fail "guest control plane" "$(head -c 300 "$WORK/cp.err")"
fi
note "control plane done at $((SECONDS - T0)) s"

# What matters most first: one rate (the recipe's accuracy, EDT), then
# throughput, then the other rates, while the budget lasts (about 70 s a
# rate and 40 s of throughput here).
fits() { [ $((SECONDS - T0 + $1)) -le "$BUDGET" ]; }
all_rates=$RATES
first=${all_rates%% *}
echo "== guest: accuracy at $first bit/s"
RATES=$first acc_part
note "accuracy at $first bit/s done at $((SECONDS - T0)) s"

echo "== guest: throughput"
if ! fits 40; then
	skip "guest throughput" "out of the ${BUDGET} s budget"
elif tput_part; then
	pass "guest throughput"
else
	fail "guest throughput" "a run failed (see above)"
fi
note "throughput done at $((SECONDS - T0)) s"

for RATES in ${all_rates#"$first"}; do
	if ! fits 70; then
		skip "guest accuracy at $RATES bit/s" "out of the ${BUDGET} s budget"
		continue
	fi
	echo "== guest: accuracy at $RATES bit/s"
	acc_part
done
note "accuracy done at $((SECONDS - T0)) s"

echo "$NPASS passed, $NFAIL failed, $NSKIP skipped"
[ "$NFAIL" = 0 ]
