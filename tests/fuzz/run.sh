#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# run.sh - the "fuzz" suite of tests/run.sh: a short differential run of
# the data plane's parsing and classification against tests/fuzz/ref.py,
# then the self-test: with each of the reference's rules flipped in turn,
# the fuzzer must report mismatches (a fuzzer that cannot fail proves
# nothing).
#
#   tests/fuzz/run.sh            200 000 frames, fixed seed, + self-test
#   FUZZ_FRAMES=N FUZZ_SEED=S    another length or seed
#   tests/fuzz/run.sh full       make fuzz: 10 million frames, a new seed
#                                each run (printed), coverage summary
set -u
cd "$(dirname "$0")/../.."

BIN=${OUTPUT:-.output}/tests/fuzz/fuzz
PLANTS=(nd-any-hoplimit ingress-dport ignore-totlen ext-limit-9 count-fcs
	sctp-bare nd-past-plen tcp-hdr-20)

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: fuzz: needs root for BPF_PROG_TEST_RUN"
	exit 0
fi
if [ ! -x "$BIN" ]; then
	echo "FAIL: fuzz: $BIN is not built (make test builds it)"
	exit 1
fi

if [ "${1:-}" = full ]; then
	seed=${FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
	exec "$BIN" -c -n "${FUZZ_FRAMES:-10000000}" -s "$seed"
fi

# The allowlist's extremes: empty, and all 16 entries (single ports,
# ranges, each protocol, ranges touching 1 and 65535).
FULL="1-21,tcp/22,udp/23,sctp/24,80,443,tcp/1000-1999,udp/1500-2500"
FULL+=",sctp/2000-3000,3389,tcp/8080-8090,udp/53,sctp/36412,udp/4789"
FULL+=",tcp/50000-65535,sctp/65535"

rc=0
"$BIN" -n "${FUZZ_FRAMES:-200000}" -s "${FUZZ_SEED:-0x7cbf}" || rc=1
"$BIN" -n 50000 -s 1 -a none || rc=1
"$BIN" -n 50000 -s 2 -a "$FULL" || rc=1
for p in "${PLANTS[@]}"; do
	"$BIN" -n 50000 -m 1 -p "$p" || rc=1
done
exit $rc
