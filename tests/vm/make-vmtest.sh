#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/vm/make-vmtest.sh - what `make vmtest` runs (after building tcbpf and
# the test programs): one boot of Debian's kernel (tests/vm/vmtest.sh) that
# runs, through tests/run.sh,
#
#   1. tests/vm/guest-default.sh     smoke check of the guest kernel
#   2. tests/vm/guest-edt.sh         tcbpf's EDT pacing with fq
#   3. unit nl bpf                   the foundation suites, on 6.1 ...
#      tests/vm/integration-vm.sh    ... and tests/integration.sh (clsact path)
#   4. tests/vm/compare.sh           the old tc recipe vs tcbpf: the table
#
# then a second boot, of bookworm-backports' 6.12 (vmtest.sh --kernel bpo),
# for what 6.1 cannot run: ingress EDT (bpf_redirect() to an ifb needs 6.4)
#
#   5. tests/vm/guest-default.sh     smoke check of the 6.12 kernel
#      ingress                       tests/ingress.sh: the pacing ifb's
#                                    control plane where it can pace
#   6. tests/vm/guest-ingress.sh     traffic from the VM paced (issue 11)
#   7. tests/vm/compare.sh           with COMPARE_PART=from-vm-tcp: TCP from
#                                    the VM, the recipe vs tcbpf police vs
#                                    ingress EDT (compare-from-vm.md)
#
# and ends with one "N passed, N failed, N skipped" over both boots (when a
# guest does not get through, e.g. a timeout: what it printed plus one
# failure), exit status non-zero on any failure.
#
# The guest runs a snapshot of tests/, ./tcbpf and the test programs, taken
# here before it boots (in $OUTPUT/vmtest/snap): edits and rebuilds in the
# tree during the run (the guest sees the tree live over 9p) do not reach
# it. Results in $OUTPUT/vmtest/ (default .output/vmtest/): vmtest.log
# (everything the guest printed), compare.md and compare.json (the table);
# vmtest-bpo.log and compare-from-vm.{md,json} from the 6.12 boot.
#
#   VMTEST_SUITES="..."      run these instead (tests/run.sh names or paths)
#   VMTEST_INTEGRATION=...   all (default) | quick | test names (tests/vm/integration-vm.sh)
#   VMTEST_TIMEOUT=SECS      limit for the whole guest run (default 1500)
#   VMTEST_BPO_SUITES="..."  the 6.12 boot's suites; empty: no second boot
#   VMTEST_BPO_TIMEOUT=SECS  limit for the 6.12 guest run (default 600)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd -P)

OUTPUT=${OUTPUT:-.output}
case $OUTPUT in /*) ;; *) OUTPUT=$ROOT/$OUTPUT ;; esac
OUT=$OUTPUT/vmtest
SUITES=${VMTEST_SUITES:-tests/vm/guest-default.sh tests/vm/guest-edt.sh tests/vm/guest-ingress.sh unit nl bpf pace tests/vm/integration-vm.sh tests/vm/compare.sh}
TIMEOUT=${VMTEST_TIMEOUT:-1500}
BPO_SUITES=${VMTEST_BPO_SUITES-tests/vm/guest-default.sh ingress tests/vm/guest-ingress.sh tests/vm/compare.sh}
BPO_TIMEOUT=${VMTEST_BPO_TIMEOUT:-600}

summary_fail() {
	echo "vmtest: $*"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
}

# The snapshot: what the guest runs.
SNAP=$OUT/snap
rm -rf "$SNAP" "$OUT"/compare.md "$OUT"/compare.json "$OUT"/compare-from-vm.*
mkdir -p "$SNAP/.output/tests" || summary_fail "cannot create $SNAP"
cp -a tests "$SNAP/" && cp -a tcbpf "$SNAP/" || summary_fail "cannot copy tests/ and tcbpf (make tcbpf)"
for t in "$OUTPUT"/tests/*_test; do
	[ -x "$t" ] && { cp -a "$t" "$SNAP/.output/tests/" || summary_fail "cannot copy $t"; }
done

# boot LOG TIMEOUT VMTEST_ARGS -- SUITES...: one guest run of tests/run.sh
# over the snapshot, its output in LOG too; sets RC and SUMMARY (the guest's
# last line, or what it printed plus one failure when it did not finish).
boot() {
	local log=$1 timeout=$2 args=() t0=$SECONDS summary last
	shift 2
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	tests/vm/vmtest.sh --timeout "$timeout" "${args[@]}" \
		--env VMTEST_OUT="$OUT" --env VMTEST_INTEGRATION="${VMTEST_INTEGRATION:-all}" \
		--env OUTPUT=.output -- \
		bash -c 'cd "$1" && shift && exec tests/run.sh "$@"' _ "$SNAP" "$@" 2>&1 | tee "$log"
	RC=${PIPESTATUS[0]}
	echo "vmtest: $((SECONDS - t0)) s; log $log$(for f in compare.md compare-from-vm.md; do
		[ ! -s "$OUT/$f" ] || printf '; table %s' "$OUT/$f"; done)"
	# tests/run.sh's own summary is the guest's last line when it got that
	# far (the suites print "N passed, N failed" lines of their own before
	# it).
	summary=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1)
	last=$(grep -av '^vmtest' "$log" | grep -a . | tail -n1)
	if [ -z "$summary" ] || [ "$last" != "$summary" ] ||
	   ! [[ $summary =~ ^[0-9]+\ passed,\ [0-9]+\ failed,\ [0-9]+\ skipped$ ]]; then
		echo "vmtest: the guest did not finish its suites (exit $RC); counting what it printed, plus one failure"
		summary="$(grep -ac '^PASS: ' "$log") passed, $(( $(grep -ac '^FAIL: ' "$log") + 1 )) failed, $(grep -ac '^SKIP: ' "$log") skipped"
		RC=1
	fi
	SUMMARY=$summary
}

t0=$SECONDS
# shellcheck disable=SC2086 # SUITES is a list of words
boot "$OUT/vmtest.log" "$TIMEOUT" -- $SUITES
rc=$RC
read -r np _ nf _ ns _ <<<"$SUMMARY"
if [ -n "$BPO_SUITES" ]; then
	echo "vmtest: second boot: bookworm-backports' kernel (--kernel bpo): $BPO_SUITES"
	# shellcheck disable=SC2086
	boot "$OUT/vmtest-bpo.log" "$BPO_TIMEOUT" --kernel bpo \
		--env COMPARE_PART=from-vm-tcp -- $BPO_SUITES
	[ "$RC" -eq 0 ] || rc=$RC
	read -r p _ f _ s _ <<<"$SUMMARY"
	echo "vmtest: 6.1: $np passed, $nf failed, $ns skipped; 6.12: $SUMMARY; both: $((SECONDS - t0)) s"
	np=$((np + p)) nf=$((nf + f)) ns=$((ns + s))
fi
echo "$np passed, $nf failed, $ns skipped"
[ "$rc" -eq 0 ] || exit "$rc"
