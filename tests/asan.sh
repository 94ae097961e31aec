#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/asan.sh [SUITE...] - the C test programs and the CLI's bad-input
# cases under AddressSanitizer (LeakSanitizer on) and UBSan, from the
# build of `make asan` (.output-asan/, or $ASAN_OUT).
#
#   suites: unit state nl linkwatch parse conf_example bad_input
#           (default: all)
#
# Each suite's own PASS/FAIL lines are passed through; a suite passes
# only when it also leaves no sanitizer report (they are written to log
# files, not the suite's output: the bad-input cases capture the CLI's
# stderr for their own checks, and a sanitizer's exit code 1 could pass
# for an expected failure). Prints "PASS: asan_SUITE" or "FAIL:
# asan_SUITE: why" per suite and ends with "N passed, N failed, N
# skipped" over all lines. bpf_test is not run: its frame builder
# (tests/frames.h) writes IPv4 headers at 2-byte aligned addresses,
# which UBSan stops at.
set -u
cd "$(dirname "$0")/.."

OUT=${ASAN_OUT:-.output-asan}
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(unit state nl linkwatch parse conf_example bad_input)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# halt_on_error: the build has -fno-sanitize-recover=all anyway
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:log_path=$work/san/asan
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$work/san/ubsan
export LSAN_OPTIONS=log_path=$work/san/lsan

pass=0 fail=0 skip=0

suite_cmd() { # SUITE -> cmd array
	case $1 in
	unit|state|nl|linkwatch|parse)
		cmd=("$OUT/tests/$1_test") ;;
	conf_example)
		mkdir -p "$work/conf"
		cp scripts/tcbpf.conf.example "$work/conf/example.conf"
		cmd=("$OUT/tests/conf_example_test" "$work/conf") ;;
	bad_input)
		cmd=(env TCBPF="$OUT/tcbpf" tests/integration.sh test_bad_input) ;;
	*)	return 1 ;;
	esac
}

for s in "${suites[@]}"; do
	echo "== asan $s"
	if ! suite_cmd "$s"; then
		echo "FAIL: asan_$s: no such suite"
		fail=$((fail + 1))
		continue
	fi
	bin=${cmd[0]}
	[ "$s" = bad_input ] && bin=$OUT/tcbpf
	if [ ! -x "$bin" ]; then
		echo "FAIL: asan_$s: $bin not built (make asan)"
		fail=$((fail + 1))
		continue
	fi
	rm -rf "$work/san" && mkdir -p "$work/san"
	log=$work/log
	t0=$SECONDS
	"${cmd[@]}" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	k=$(grep -c '^SKIP: ' "$log")
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + k))
	reports=$(cat "$work"/san/* 2>/dev/null; grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log")
	if [ -n "$reports" ]; then
		echo "$reports" | head -60 | sed 's/^/  # /'
		why=$(grep -m1 -E 'ERROR: |runtime error' <<<"$reports" | cut -c1-200)
		echo "FAIL: asan_$s: sanitizer report: $why"
		fail=$((fail + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: asan_$s: exited $rc"
		fail=$((fail + 1))
	elif [ "$p" -eq 0 ]; then
		echo "FAIL: asan_$s: no test passed"
		fail=$((fail + 1))
	else
		echo "PASS: asan_$s ($p passed, $f failed, $k skipped, $((SECONDS - t0)) s, no sanitizer report)"
		pass=$((pass + 1))
	fi
done

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
