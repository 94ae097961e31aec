#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/fuzz/libfuzz.sh [SECONDS [TARGET...]] - run the libFuzzer targets
# (make libfuzz) for SECONDS each (default 60), on their committed corpus
# (tests/fuzz/corpus/NAME/, read only: what a run finds goes to a scratch
# copy). Prints "PASS: libfuzz_NAME: figures" or "FAIL: libfuzz_NAME:
# why" per target and "N passed, N failed".
#
# Any crash, leak (LeakSanitizer), UBSan report, broken property (lf.h's
# LF_CHECK aborts), timeout of one input (10 s) or more than 2 GB of
# memory is a failure; the input that caused it is kept in
# $LIBFUZZ_KEEP (default .output/libfuzz/findings/) with the log, to add
# to the corpus once the bug is fixed. Needs clang's libFuzzer
# (libclang-rt-14-dev).
set -u
cd "$(dirname "$0")/../.."

OUT=${OUTPUT:-.output}/libfuzz
secs=${1:-60}
shift
targets=("$@")
KEEP=${LIBFUZZ_KEEP:-$OUT/findings}
if [ ${#targets[@]} -eq 0 ]; then
	for b in "$OUT"/lf_*; do
		[ -x "$b" ] && targets+=("${b##*/lf_}")
	done
fi

pass=0 fail=0
result() { # PASS|FAIL NAME TEXT
	echo "$1: libfuzz_$2: $3"
	if [ "$1" = PASS ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}

if [ ${#targets[@]} -eq 0 ]; then
	result FAIL build "no targets in $OUT (make libfuzz)"
	echo "$pass passed, $fail failed"
	exit 1
fi

work=$(mktemp -d -p /dev/shm tcbpf-libfuzz.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$work"' EXIT

# "stat::name: value" of libFuzzer's -print_final_stats
stat() { sed -nE "s/^stat::$1: *([0-9]+).*/\1/p" "$2" | tail -1; }

for t in "${targets[@]}"; do
	bin=$OUT/lf_$t corpus=tests/fuzz/corpus/$t
	if [ ! -x "$bin" ]; then
		result FAIL "$t" "$bin not built (make libfuzz)"
		continue
	fi
	mkdir -p "$work/$t/new" "$work/$t/tmp"
	log=$work/$t/log
	# the scratch corpus first: libFuzzer writes what it finds there
	TMPDIR=$work/$t/tmp ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		${LIBFUZZ_SEED:+-seed="$LIBFUZZ_SEED"} \
		-print_final_stats=1 -artifact_prefix="$work/$t/" \
		"$work/$t/new" "$corpus" >"$log" 2>&1
	rc=$?
	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
	execs=$(stat number_of_executed_units "$log")
	rate=$(stat average_exec_per_sec "$log")
	cov=$(sed -nE 's/.* cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+).*/\1 \2 \3/p' <<<"$done_line")
	art=$(find "$work/$t" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
		-o -name 'timeout-*' -o -name 'oom-*' \) | head -1)
	if [ "$rc" -eq 0 ] && [ -z "$art" ] && [ -n "$done_line" ] &&
	   ! grep -qE 'runtime error|ERROR: (Address|Leak|Undefined)' "$log"; then
		read -r c f n <<<"$cov"
		result PASS "$t" "$execs execs in $secs s ($rate/s), cov $c, ft $f, corpus $n (seeds $(ls "$corpus" | wc -l))"
	else
		mkdir -p "$KEEP"
		cp "$log" "$KEEP/$t.log"
		[ -n "$art" ] && cp "$art" "$KEEP/$t-${art##*/}"
		why=$(grep -m1 -E 'property|ERROR:|runtime error' "$log" | cut -c1-200)
		result FAIL "$t" "exit $rc: ${why:-see log}; log and input in $KEEP/"
	fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
