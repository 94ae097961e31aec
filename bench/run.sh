#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# bench/run.sh - `make bench`: what tcbpf costs per packet, what it does to
# throughput, how exactly it holds a rate, and how fast its control plane
# is, side by side with the old tc recipe, in one run. See
# docs/PERFORMANCE.md for the method.
#
#   bench/run.sh            full run (< 10 minutes on 2 cores); results in
#                           bench/results/<date>-<host>.{md,json} and the
#                           table in docs/PERFORMANCE.md
#   BENCH_SMOKE=1           every measurement once and short (< 90 s);
#                           results in bench/tmp/, docs untouched
#   BENCH_VM=auto|1|0       the old-recipe columns from the full-kernel
#                           guest of tests/vm/vmtest.sh (auto: in a full
#                           run when the guest's kernel is cached), and
#                           traffic from the VM paced (ingress EDT) in
#                           bookworm-backports' 6.12 guest (vmtest.sh
#                           --kernel bpo; auto: when that kernel is cached)
#
# Prints "PASS: name" for every measurement that ran, "FAIL: name: why"
# for one that could not run, and ends with "N passed, N failed, N
# skipped"; exits 1 on any FAIL. No figure is asserted against a target:
# the report says which targets are met.
#
# Needs root and ./tcbpf (the Makefile builds it first). Traffic flows only
# between the namespaces tcbpf-bench-{h,v} (10.204.x.0/24); devices are
# named bnch*; everything is detached and deleted on exit, also on failure.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
# shellcheck disable=SC2034	# the parameters of bench/lib.sh's parts

SMOKE=${BENCH_SMOKE:-0}
VMODE=${BENCH_VM:-auto}
BUDGET=${BENCH_BUDGET:-570}	# seconds a full run may take, 6.1 guest included
BPO_BUDGET=${BENCH_BPO_BUDGET:-260}	# and the 6.12 guest's, beyond it
T0=$SECONDS

if [ "$SMOKE" = 1 ]; then
	REPEAT=10000 ROUNDS=1
	TPUT_SECS=0.5 TPUT_ROUNDS=1 TPUT_SENDERS="1 2"
	RATES="10000000" ACC_SECS=1.5 WARM=0.5 ACC_SENDERS="1 2"
	PPS_LIST="10000" PPS_SENDERS="1 2"
	CTL_N=3 SCALE_LIST="10"
else
	REPEAT=1000000 ROUNDS=5
	TPUT_SECS=0.3 TPUT_ROUNDS=10 TPUT_SENDERS="1 2"
	RATES="1000000 10000000 100000000 1000000000" ACC_SECS=2.5 WARM=1
	ACC_SENDERS="1 2"
	PPS_LIST="1000 10000 100000" PPS_SENDERS="1 2"
	CTL_N=20 SCALE_LIST="100 1000"
fi
TPUT_LIMS_FROM="none empty floor tcbpf"
TPUT_LIMS_TO="none empty floor tcbpf"
ACC_LIMS_FROM="tcbpf"
ACC_LIMS_TO="tcbpf"
TB_EXTRA=""		# this kernel has no fq: egress is policed, no delay
TCP_BIG_BURST=from_vm	# policing is all tcbpf can do from the VM

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: bench: needs root (namespaces, BPF)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
if [ ! -x "$TCBPF" ]; then
	echo "FAIL: bench: $TCBPF is not built (make tcbpf)"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi

WORK=$(mktemp -d /tmp/tcbpf-bench.XXXXXX) || exit 1
export TCBPF_STATE_DIR="$WORK/state"	# not the machine's records
# nor its pins (bpffs refuses "." in names)
export TCBPF_PIN_DIR=/sys/fs/bpf/tcbpf-bench-${WORK##*.}
REC=$WORK/records.jsonl
: >"$REC"
# One binary for the whole run, even if ./tcbpf is rebuilt meanwhile; in
# the repository, so that the guest runs the very same one.
mkdir -p bench/tmp
TCBPF_COPY=$ROOT/bench/tmp/tcbpf.$$
cp "$TCBPF" "$TCBPF_COPY" || exit 1
TCBPF_SUM=$(sha256sum "$TCBPF_COPY" | cut -c1-12)
TCBPF=$TCBPF_COPY
export TCBPF
on_exit() {
	bench_cleanup
	[ -n "${BENCH_KEEP:-}" ] && cp "$WORK"/*.json* "$BENCH_KEEP"/ 2>/dev/null
	rm -rf "$WORK" "$TCBPF_COPY" "$TCBPF_PIN_DIR"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

exec 8>/run/tcbpf-bench.lock
if ! flock -w 600 8; then
	echo "FAIL: bench: another bench run holds /run/tcbpf-bench.lock"
	exit 1
fi

elapsed() { echo $((SECONDS - T0)); }
part_done() { note "$1 done at $(elapsed) s"; }

# ------------------------------------------------------------------ build

if ! make --no-print-directory -f bench/Makefile >"$WORK/build.log" 2>&1; then
	sed 's/^/  | /' "$WORK/build.log" | tail -n 20
	# ctl links the CLI's library: without it only in-process timings go.
	if [ -x "$BOUT/ppcost" ] && [ -x "$BOUT/flood" ]; then
		fail "build bench/ctl" "see the compiler output above"
	else
		fail "build" "bench programs did not build"
		echo "$NPASS passed, $NFAIL failed, $NSKIP skipped"
		exit 1
	fi
fi

# -------------------------------------------------------------- the run

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
DATE_ISO=$(date -u +%Y-%m-%dT%H:%M:%SZ)
STAMP=$(date -u +%Y-%m-%d-%H%M)
HOST=$(hostname -s 2>/dev/null || hostname)

# Entries of ours left by a run that was killed before it could detach
# (their namespace is gone, so no CLI can reach them): our device names,
# our ifindexes, a namespace that no longer exists. Nothing else.
stale_cleanup() {
	local pin=$TCBPF_PIN_DIR/tcbpf_cfg key live=
	[ -e "$pin" ] || return 0
	for key in /run/netns/*; do
		[ -e "$key" ] && live+=" $(stat -L -c %i "$key" 2>/dev/null)"
	done
	bpftool -j map dump pinned "$pin" 2>/dev/null | python3 -c '
import json, sys
live = set(int(x) for x in sys.argv[1].split())
try:
    entries = json.load(sys.stdin)
except Exception:
    sys.exit(0)
for e in entries:
    f = e.get("formatted", {})
    k, v = f.get("key", {}), f.get("value", {})
    d = [c for i, c in enumerate(v.get("dir", [])) if v.get("dirs", 0) >> i & 1]
    if not d:
        continue
    ifx, name = k.get("ifindex", 0), str(d[0].get("ifname", ""))
    ours = 40100 <= ifx <= 40102 or 41000 <= ifx < 42000
    if ours and name.startswith("bnch") and d[0].get("netns_ino") not in live:
        print(" ".join(e["key"]))
' "$live" | while read -r key; do
		# shellcheck disable=SC2086
		bpftool map delete pinned "$pin" key hex $key 2>/dev/null &&
			note "removed a stale settings entry of an earlier bench run"
	done
}

bench_ns_teardown
stale_cleanup
if ! bench_ns_setup; then
	fail "namespaces" "cannot build tcbpf-bench-h / tcbpf-bench-v"
	echo "$NPASS passed, $NFAIL failed, $NSKIP skipped"
	exit 1
fi

# 1. Per-packet cost under BPF_PROG_TEST_RUN.
echo "== per-packet cost (test_run, repeat $REPEAT, $ROUNDS rounds)"
if "$BOUT/ppcost" -r "$REPEAT" -R "$ROUNDS" -o "$WORK/ppcost.json" 2>&1; then
	pass "per-packet cost"
else
	fail "per-packet cost" "ppcost failed"
fi
part_done "per-packet cost"

# 2. Throughput through the veth pair.
echo "== throughput (60-byte UDP from one CPU, forwarded through $DEV)"
if tput_part; then
	pass "throughput"
else
	fail "throughput" "a run failed (see above)"
fi
part_done throughput

# 3. Accuracy.
echo "== accuracy (configured vs achieved)"
acc_part
part_done accuracy

# 4. Control plane: one device, CLI and in-process.
echo "== control plane, one device"
if nsx "$NS_H" env WORK="$WORK" ENV_NAME=host bash -c \
	". '$BENCH_DIR/lib.sh'; cp_times $CTL_N 20mbit 2mbit" >"$WORK/cp.jsonl" 2>"$WORK/cp.err"; then
	cat "$WORK/cp.jsonl" >>"$REC"
	pass "control plane CLI and old recipe (host)"
else
	fail "control plane CLI" "$(head -c 300 "$WORK/cp.err")"
fi
# In-process, with the programs loaded (a keeper limiter on the sink
# device, as when any other VM is limited): as attached by default (egress EDT, which on a kernel
# without fq falls back to policing) and with egress policing asked for.
tb attach "$HSINK" >/dev/null 2>&1
for variant in default "egress mode police"; do
	aspec=()
	[ "$variant" = default ] || aspec=(-a "$variant")
	if [ -x "$CTL" ] && out=$("$CTL" -n "$NS_H" "${aspec[@]}" cycle "$DEV" \
		"$CTL_N" rate 20mbit burst 2mbit 2>"$WORK/ctl.err"); then
		rec "{\"part\": \"ctl_inproc\", \"env\": \"host\", \"attach_spec\": \"$variant\", \"result\": $out}"
		pass "control plane in-process ($variant)"
	else
		fail "control plane in-process ($variant)" "$(head -c 300 "$WORK/ctl.err" 2>/dev/null)"
	fi
done
tb detach "$HSINK" >/dev/null 2>&1
part_done "control plane"

# 5. Control plane at scale.
memlock() {
	local m
	for m in tcbpf_cfg tcbpf_prof tcbpf_pcache; do
		bpftool -j map show pinned "$TCBPF_PIN_DIR/$m" 2>/dev/null | jf bytes_memlock
	done | awk '{ v[NR] = $1 } END { printf "{\"tcbpf_cfg\": %d, \"tcbpf_prof\": %d, \"tcbpf_pcache\": %d}", v[1], v[2], v[3] }'
}
# cfg_entries PREFIX: device entries (one per device) named PREFIX*.
cfg_entries() {
	bpftool -j map dump pinned $TCBPF_PIN_DIR/tcbpf_cfg 2>/dev/null |
		python3 -c '
import json, sys
try:
    e = json.load(sys.stdin)
except Exception:
    e = []
print(sum(1 for x in e if str(x.get("formatted", {}).get("value", {})
                               .get("ifname", "")).startswith(sys.argv[1])))
' "$1"
}

# scale_one N: N ifb devices, attached one CLI process each (the figure),
# detached one CLI process each up to SCALE_CLI_DETACH devices and
# in-process beyond; then attached and detached again in-process.
SCALE_CLI_DETACH=100
scale_one() {
	local n=$1 i t0 t1 first=() last=() fails=0 m0 m1 m10=null ent
	local attach_s detach_s=null inproc=null attach_tc_s=null a d errs
	ns_exists "$NS_D" && ip netns del "$NS_D"
	ip netns add "$NS_D" || return 1
	for ((i = 0; i < n; i++)); do
		echo "link add bnch$i index $((SCALE_IFX + i)) type ifb"
	done >"$WORK/scale.batch"
	ip -n "$NS_D" -batch "$WORK/scale.batch" || return 1
	: >"$WORK/scale.err"
	m0=$(memlock)
	t0=$EPOCHREALTIME
	for ((i = 0; i < n; i++)); do
		if [ "$i" -lt 10 ] || [ "$i" -ge $((n - 10)) ]; then
			t_run "$TCBPF" -q -n "$NS_D" attach "bnch$i" || fails=$((fails + 1))
			[ "$i" -lt 10 ] && first+=("$T_US") || last+=("$T_US")
			# Memory after 10: the maps exist (the first attach may
			# have created them), so the rest is per device.
			[ "$i" = 9 ] && m10=$(memlock)
		else
			"$TCBPF" -q -n "$NS_D" attach "bnch$i" >/dev/null 2>>"$WORK/scale.err" ||
				fails=$((fails + 1))
		fi
	done
	t1=$EPOCHREALTIME
	attach_s=$(calc "${t1/./} / 1e6 - ${t0/./} / 1e6")
	m1=$(memlock)
	ent=$(cfg_entries bnch)
	if [ "$n" -le "$SCALE_CLI_DETACH" ]; then
		t0=$EPOCHREALTIME
		for ((i = 0; i < n; i++)); do
			"$TCBPF" -q -n "$NS_D" detach "bnch$i" >/dev/null 2>>"$WORK/scale.err" ||
				fails=$((fails + 1))
		done
		t1=$EPOCHREALTIME
		detach_s=$(calc "${t1/./} / 1e6 - ${t0/./} / 1e6")
	elif ! "$CTL" -n "$NS_D" detach-many bnch "$n" >/dev/null 2>>"$WORK/scale.err"; then
		fails=$((fails + 1))
	fi
	if [ -x "$CTL" ]; then
		a=$("$CTL" -n "$NS_D" attach-many bnch "$n" 2>>"$WORK/scale.err")
		d=$("$CTL" -n "$NS_D" detach-many bnch "$n" 2>>"$WORK/scale.err")
		[ -n "$a" ] && [ -n "$d" ] && inproc="{\"attach\": $a, \"detach\": $d}"
		# the same CLI processes with hook tc (no RCU grace periods)
		t0=$EPOCHREALTIME
		for ((i = 0; i < n; i++)); do
			"$TCBPF" -q -n "$NS_D" attach "bnch$i" hook tc >/dev/null 2>>"$WORK/scale.err" ||
				fails=$((fails + 1))
		done
		t1=$EPOCHREALTIME
		attach_tc_s=$(calc "${t1/./} / 1e6 - ${t0/./} / 1e6")
		"$CTL" -n "$NS_D" detach-many bnch "$n" >/dev/null 2>>"$WORK/scale.err" ||
			fails=$((fails + 1))
	fi
	ip netns del "$NS_D"
	errs=$(sort "$WORK/scale.err" | uniq -c | sort -rn | head -n 3 |
		sed 's/^ *//; s/["\\]/ /g' | awk '{ printf "%s\"%s\"", (NR > 1 ? ", " : ""), $0 }')
	rec "{\"part\": \"scale\", \"env\": \"host\", \"devices\": $n, \"failures\": $fails, \"errors\": [$errs], \"attach_total_s\": $attach_s, \"attach_tc_total_s\": $attach_tc_s, \"detach_total_s\": $detach_s, \"first10\": {$(ustats "${first[@]}")}, \"last10\": {$(ustats "${last[@]}")}, \"entries\": $(num "$ent"), \"memlock_before\": $m0, \"memlock_after_10\": $m10, \"memlock_after\": $m1, \"inproc\": $inproc}"
	note "$n devices: attach $attach_s s, CLI detach $([ "$detach_s" = null ] && echo "not timed" || echo "$detach_s s"), $fails failures, $ent settings entries"
	[ -s "$WORK/scale.err" ] && sort "$WORK/scale.err" | uniq -c | sort -rn | head -n 3 | sed 's/^/  # /'
	[ "$fails" = 0 ]
}

echo "== control plane at scale ($SCALE_LIST devices)"
for n in $SCALE_LIST; do
	if scale_one "$n"; then
		pass "attach and detach $n devices"
	else
		fail "attach and detach $n devices" "see above"
	fi
done
part_done "control plane at scale"

# 6. The old recipe side by side: the full-kernel guest (6.1); then the
# 6.12 guest for ingress EDT. Both get the libraries our binaries link
# beyond what vmtest.sh copies in.
guest_libs() {
	mkdir -p bench/tmp
	# The guest has the libraries vmtest.sh copies in; whatever else our
	# binaries link (tcbpf's export code: libcurl, libmicrohttpd and their
	# dependencies) goes through the shared repository, for guest.sh's
	# LD_LIBRARY_PATH. The C library and the loader stay the guest's own.
	rm -rf bench/tmp/guest-lib
	mkdir -p bench/tmp/guest-lib
	ldd "$TCBPF" "$BOUT/flood" "$BOUT/ctl" 2>/dev/null |
		awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u |
		grep -Ev '/(libc|libm|libdl|librt|libpthread)\.so|/ld-linux' |
		xargs -r cp -L -t bench/tmp/guest-lib 2>/dev/null
}

# guest_run WHAT SECS [VMTEST OPTIONS] -- [GUEST ENV NAME=VALUE...]:
# bench/guest.sh in a guest, its PASS/FAIL/SKIP counted, its records kept.
guest_run() {
	local what=$1 left=$2 vmopts=() genv=() grec rc
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do vmopts+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	for rc in "$@"; do genv+=(--env "$rc"); done
	grec=$ROOT/bench/tmp/guest.$$.jsonl
	rm -f "$grec"
	timeout -k 10 $((left + 30)) tests/vm/vmtest.sh "${vmopts[@]}" --timeout "$left" \
		--env BENCH_SMOKE="$SMOKE" --env BENCH_GUEST_REC="$grec" \
		--env BENCH_GUEST_BUDGET=$((left - 25)) --env TCBPF="$TCBPF" \
		"${genv[@]}" -- bench/guest.sh 2>&1 | tee "$WORK/guest.out"
	rc=${PIPESTATUS[0]}
	NPASS=$((NPASS + $(grep -c '^PASS: ' "$WORK/guest.out")))
	NFAIL=$((NFAIL + $(grep -c '^FAIL: ' "$WORK/guest.out")))
	NSKIP=$((NSKIP + $(grep -c '^SKIP: ' "$WORK/guest.out")))
	if [ -s "$grec" ]; then
		cat "$grec" >>"$REC"
	fi
	rm -f "$grec"
	if [ "$rc" != 0 ] && ! grep -q '^FAIL: ' "$WORK/guest.out"; then
		fail "$what" "vmtest exited with $rc"
	fi
}

# guest_wanted WHAT stable|bpo: run this guest? (BENCH_VM, smoke, its
# kernel in vmtest.sh's cache: backports' versions have "bpo")
guest_wanted() {
	case $VMODE in
	0) skip "$1" "BENCH_VM=0"; return 1 ;;
	1) ;;
	*)
		if [ "$SMOKE" = 1 ]; then
			skip "$1" "smoke run (BENCH_VM=1 adds it)"
			return 1
		fi
		local k found=
		for k in /var/cache/tcbpf-vm/kernel/linux-image-*/vmlinuz; do
			[ -e "$k" ] || continue
			if [[ $k == *bpo* ]]; then
				[ "$2" = bpo ] && found=1
			else
				[ "$2" = stable ] && found=1
			fi
		done
		if [ -z "$found" ]; then
			skip "$1" "no cached guest kernel (run make vmtest once, or BENCH_VM=1)"
			return 1
		fi ;;
	esac
	if [ ! -x tests/vm/vmtest.sh ]; then
		skip "$1" "tests/vm/vmtest.sh missing"
		return 1
	fi
}

guest_part() {
	local left
	guest_wanted "guest (old recipe)" stable ||
		return 0
	left=$((BUDGET - $(elapsed)))
	[ "$VMODE" = 1 ] && [ "$left" -lt 300 ] && left=300
	if [ "$left" -lt 120 ]; then
		skip "guest (old recipe)" "only $left s left of the $BUDGET s budget"
		return 0
	fi
	guest_libs
	echo "== the old recipe in the full-kernel guest (tests/vm/vmtest.sh, up to $left s)"
	guest_run "guest (old recipe)" "$left" --kernel stable --
}

# The 6.12 guest: its own budget, after the 6.1 one's (its figures are the
# ingress EDT rows; the 6.1 guest cannot redirect to an ifb).
guest_bpo_part() {
	guest_wanted "guest 6.12 (ingress EDT)" bpo ||
		return 0
	guest_libs
	echo "== traffic from the VM, ingress EDT vs police, in the 6.12 guest (vmtest.sh --kernel bpo, up to $BPO_BUDGET s)"
	guest_run "guest 6.12 (ingress EDT)" "$BPO_BUDGET" --kernel bpo -- BENCH_GUEST_PART=ingress
}
guest_part
part_done guest
guest_bpo_part
rm -rf bench/tmp/guest-lib
part_done "guest 6.12"

BD_REC="$REC" bench/durable.sh "$([ "$SMOKE" = 1 ] && echo 100 || echo 1000)" && pass "durable (bench/durable.sh)" || fail durable "bench/durable.sh failed"

# ----------------------------------------------------------------- report

bench_ns_teardown
cat >"$WORK/meta.json" <<EOF
{"date": "$DATE_ISO", "host": "$HOST", "kernel": "$(uname -r)",
 "cpu": "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)",
 "cpus": $(nproc), "mem_mb": $(awk '/^MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo),
 "loadavg_start": "$LOAD_START", "loadavg_end": "$(cut -d' ' -f1-3 /proc/loadavg)",
 "mode": "$([ "$SMOKE" = 1 ] && echo smoke || echo full)",
 "commit": "$(git rev-parse --short HEAD 2>/dev/null)", "tcbpf_sha256": "$TCBPF_SUM",
 "dirty": $(git diff --quiet HEAD -- bpf user include 2>/dev/null && echo false || echo true),
 "clang": "$(clang --version 2>/dev/null | head -n1)",
 "libbpf": "$(pkg-config --modversion libbpf 2>/dev/null)",
 "bpftool": "$(bpftool version 2>/dev/null | head -n1)",
 "duration_s": $(elapsed),
 "params": {"repeat": $REPEAT, "rounds": $ROUNDS, "tput_secs": $TPUT_SECS,
  "tput_rounds": $TPUT_ROUNDS, "acc_secs": $ACC_SECS, "warm": $WARM,
  "ctl_n": $CTL_N, "scale": [${SCALE_LIST// /, }]}}
EOF
if [ "$SMOKE" = 1 ]; then
	mkdir -p bench/tmp
	base=bench/tmp/smoke-$STAMP-$HOST
	docs=()
else
	mkdir -p bench/results
	base=bench/results/$STAMP-$HOST
	docs=(--docs docs/PERFORMANCE.md)
fi
if python3 bench/report.py --meta "$WORK/meta.json" --records "$REC" \
	--ppcost "$WORK/ppcost.json" --md "$base.md" --json "$base.json" \
	"${docs[@]}" 2>"$WORK/report.err"; then
	pass "report"
	echo "results: $base.md, $base.json"
	[ "$SMOKE" = 1 ] || echo "table copied into docs/PERFORMANCE.md"
else
	fail "report" "$(tail -n 5 "$WORK/report.err" | tr '\n' ' ')"
fi
note "bench took $(elapsed) s"
echo "$NPASS passed, $NFAIL failed, $NSKIP skipped"
[ "$NFAIL" = 0 ]
