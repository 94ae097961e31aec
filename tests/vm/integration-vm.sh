#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/vm/integration-vm.sh - tests/integration.sh in the vmtest guest, for
# `make vmtest` (tests/run.sh passes no arguments to a suite).
#
#   VMTEST_INTEGRATION=all          every test (the default)
#   VMTEST_INTEGRATION=quick        all but those that exercise only the CLI's
#                                   argument checks and the pin directory's
#                                   locking (test_bad_input, test_concurrent_attach:
#                                   ~100 s in the guest, where each python3
#                                   start costs ~0.3 s); `make test` runs them
#                                   on the host
#   VMTEST_INTEGRATION="test_a ..." these
set -u
cd "$(dirname "$0")/../.." || exit 1

QUICK_SKIP="test_bad_input test_concurrent_attach"
sel=${VMTEST_INTEGRATION:-all}
case $sel in
all)
	exec tests/integration.sh ;;
quick)
	mapfile -t all < <(sed -n '/^TESTS=(/,/^)/p' tests/integration.sh | grep -o 'test_[A-Za-z0-9_]*')
	run=()
	for t in "${all[@]}"; do
		[[ " $QUICK_SKIP " == *" $t "* ]] || run+=("$t")
	done
	if [ ${#run[@]} -eq 0 ]; then
		echo "FAIL: integration-vm: no tests found in tests/integration.sh"
		exit 1
	fi
	echo "  # integration in the guest, quick: not run here: $QUICK_SKIP (make test runs them)"
	exec tests/integration.sh "${run[@]}" ;;
*)
	# shellcheck disable=SC2086 # a list of test names
	exec tests/integration.sh $sel ;;
esac
