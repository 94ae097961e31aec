#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Run every test suite; each prints "PASS: name", "FAIL: name: why" or
# "SKIP: name: why" lines. A suite that exits non-zero without printing a
# FAIL line counts as one failure. Ends with "N passed, N failed".
#
#   tests/run.sh [SUITE...]     default: all suites, in order
#   V=1                         verbose suite output
set -u
cd "$(dirname "$0")/.."

OUT=${OUTPUT:-.output}
suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then
	suites=(layers man completion unit state nl linkwatch bpf monitor_bpf pace parse fuzz integration ingress durable killsweep monitor vxlan alerts upgrade pkg)
fi

pass=0 fail=0 skip=0
for s in "${suites[@]}"; do
	case $s in
	layers)		cmd=(tests/layers.sh) ;;
	unit)		cmd=("$OUT/tests/unit_test") ;;
	state)		cmd=("$OUT/tests/state_test") ;;
	nl)		cmd=("$OUT/tests/nl_test") ;;
	linkwatch)	cmd=("$OUT/tests/linkwatch_test") ;;
	bpf)		cmd=("$OUT/tests/bpf_test") ;;
	monitor_bpf)	cmd=("$OUT/tests/monitor_bpf_test") ;;
	pace)		cmd=("$OUT/tests/pace_test") ;;
	ingress)	cmd=(tests/ingress.sh) ;;
	parse)		cmd=("$OUT/tests/parse_test") ;;
	fuzz)		cmd=(tests/fuzz/run.sh) ;;
	integration)	cmd=(tests/integration.sh) ;;
	durable)	cmd=(tests/durable.sh) ;;
	killsweep)	cmd=(tests/killsweep.sh quick) ;;
	killsweep-full)	cmd=(tests/killsweep.sh full) ;;
	monitor)	cmd=(tests/monitor.sh) ;;
	alerts)		cmd=(tests/alerts.sh) ;;
	vxlan)		cmd=(tests/vxlan.sh) ;;
	upgrade)	cmd=(tests/upgrade.sh) ;;
	man)		cmd=(tests/pkg.sh man) ;;
	completion)	cmd=(tests/pkg.sh completion) ;;
	pkg)		cmd=(tests/pkg.sh deb) ;;
	*)		cmd=("$s") ;;
	esac
	echo "== $s"
	t0=$SECONDS
	log=$(mktemp)
	"${cmd[@]}" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(grep -ac '^PASS: ' "$log")
	f=$(grep -ac '^FAIL: ' "$log")
	k=$(grep -ac '^SKIP: ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $s: suite exited with $rc"
		f=1
	fi
	rm -f "$log"
	echo "== $s: $p passed, $f failed, $k skipped in $((SECONDS - t0)) s"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + k))
done

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
