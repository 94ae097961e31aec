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
# and ends with "N passed, N failed, N skipped" (when the guest does not get
# through, e.g. a timeout: what it printed plus one failure), exit status
# non-zero on any failure.
#
# The guest runs a snapshot of tests/, ./tcbpf and the test programs, taken
# here before it boots (in $OUTPUT/vmtest/snap): edits and rebuilds in the
# tree during the run (the guest sees the tree live over 9p) do not reach
# it. Results in $OUTPUT/vmtest/ (default .output/vmtest/): vmtest.log
# (everything the guest printed), compare.md and compare.json (the table).
#
#   VMTEST_SUITES="..."      run these instead (tests/run.sh names or paths)
#   VMTEST_INTEGRATION=...   all (default) | quick | test names (tests/vm/integration-vm.sh)
#   VMTEST_TIMEOUT=SECS      limit for the whole guest run (default 1500)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd -P)

OUTPUT=${OUTPUT:-.output}
case $OUTPUT in /*) ;; *) OUTPUT=$ROOT/$OUTPUT ;; esac
OUT=$OUTPUT/vmtest
SUITES=${VMTEST_SUITES:-tests/vm/guest-default.sh tests/vm/guest-edt.sh tests/vm/guest-ingress.sh unit nl bpf pace tests/vm/integration-vm.sh tests/vm/compare.sh}
TIMEOUT=${VMTEST_TIMEOUT:-1500}

summary_fail() {
	echo "vmtest: $*"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
}

# The snapshot: what the guest runs.
SNAP=$OUT/snap
rm -rf "$SNAP" "$OUT/compare.md" "$OUT/compare.json"
mkdir -p "$SNAP/.output/tests" || summary_fail "cannot create $SNAP"
cp -a tests "$SNAP/" && cp -a tcbpf "$SNAP/" || summary_fail "cannot copy tests/ and tcbpf (make tcbpf)"
for t in "$OUTPUT"/tests/*_test; do
	[ -x "$t" ] && { cp -a "$t" "$SNAP/.output/tests/" || summary_fail "cannot copy $t"; }
done

log=$OUT/vmtest.log
t0=$SECONDS
# shellcheck disable=SC2086 # SUITES is a list of words
tests/vm/vmtest.sh --timeout "$TIMEOUT" \
	--env VMTEST_OUT="$OUT" --env VMTEST_INTEGRATION="${VMTEST_INTEGRATION:-all}" \
	--env OUTPUT=.output -- \
	bash -c 'cd "$1" && shift && exec tests/run.sh "$@"' _ "$SNAP" $SUITES 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
echo "vmtest: $((SECONDS - t0)) s; log $log$([ -s "$OUT/compare.md" ] && echo "; table $OUT/compare.md")"
# tests/run.sh's own summary is the guest's last line when it got that far
# (the suites print "N passed, N failed" lines of their own before it).
summary=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1)
last=$(grep -av '^vmtest' "$log" | grep -a . | tail -n1)
if [ -z "$summary" ] || [ "$last" != "$summary" ] ||
   ! [[ $summary =~ ^[0-9]+\ passed,\ [0-9]+\ failed,\ [0-9]+\ skipped$ ]]; then
	echo "vmtest: the guest did not finish its suites (exit $rc); counting what it printed, plus one failure"
	summary="$(grep -ac '^PASS: ' "$log") passed, $(( $(grep -ac '^FAIL: ' "$log") + 1 )) failed, $(grep -ac '^SKIP: ' "$log") skipped"
	rc=1
fi
echo "$summary"
[ "$rc" -eq 0 ] || exit "$rc"
