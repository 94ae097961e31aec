#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/upgrade.sh - upgrading a host with live clamps: clamps made by a
# previous release (git tags v0.1, map layout 1, and v0.2, layout 2,
# built from git), then this tcbpf.
#
#   tests/upgrade.sh [test_name...]    default: every test_* in TESTS
#   V=1                                show the tcbpf commands
#
# A previous release is built once from `git archive v0.1` (commit
# ed726dc when the tag is missing; v0.2: 455fc15) into .output/prev-COMMIT/
# and kept there; without the git history the suite fails saying so.
#
# Topology (own names and ifindexes; nothing has a route out):
#
#   tcbpf-up-host   the hypervisor side
#     vm-21-0a01  10.208.1.1/24 (ifindex 32121) -- tcbpf-up-vm   eth0 .2
#     vm-22-0a01  10.208.2.1/24 (ifindex 32122) -- tcbpf-up-vm2  eth0 .2
#
# The suite runs in a mount namespace of its own with a fresh bpffs on
# /sys/fs/bpf, so a run killed half way leaves no pins behind, and the
# pins of other runs (of this or another build) are never in the way.
set -u
if [ "${TCBPF_UP_PRIVATE:-}" != 1 ] && [ "$(id -u)" -eq 0 ]; then
	exec unshare --mount --propagation private \
		env TCBPF_UP_PRIVATE=1 "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

HOST_NS=tcbpf-up-host
VM_NS=tcbpf-up-vm
VM2_NS=tcbpf-up-vm2
HOST2_NS=tcbpf-up-none	# lib.sh's teardown: unused
DEV=vm-21-0a01 DEV_IFX=32121
DEV2=vm-22-0a01 DEV2_IFX=32122
DEV3=
HOST_IP=10.208.1.1 HOST2_IP=10.208.2.1
UP_LOCK=/run/tcbpf-upgrade.lock
PREV_TAG=v0.1
PREV_COMMIT=ed726dc
PREV=			# the previous release's binary (v0.1: layout 1)
PREV2=			# v0.2's: layout 2, the last before this layout
# this build's map layout
LAYOUT=$(sed -n 's/^#define TCBPF_LAYOUT[[:space:]]*\([0-9]*\).*/\1/p' \
	"$(dirname "$0")/../include/tcbpf.h")
LIMIT=2000000		# bit/s: the clamp the floods run into
OFFER=100M		# what the floods offer: 50x the limit
PAYLOAD=1000		# UDP payload; + 42 bytes of headers on the wire

TESTS=(
	test_prev_build
	test_migrate_live
	test_migrate_live_v2
	test_detach_old
	test_apply_first
	test_detach_unmigrated
	test_takeover_no_loss
	test_daemon_takeover
	test_postinst
	test_newer_refused
)

# old ARGS...: the previous release, like tb
old() {
	vlog "tcbpf(prev) -n $HOST_NS $*"
	"$PREV" -n "$HOST_NS" "$@"
}

# try CMD...: TRY_OUT, TRY_ERR (one line), TRY_RC
try() {
	TRY_OUT=$("$@" 2>"$WORK/try.err")
	TRY_RC=$?
	TRY_ERR=$(tr '\n' ' ' <"$WORK/try.err")
}

# --------------------------------------------------------------- the build

# The previous release's tcbpf, built once per commit and kept.
prev_commit() {
	git -C "$TCBPF_ROOT" rev-parse -q --verify "$PREV_TAG^{commit}" 2>/dev/null ||
		git -C "$TCBPF_ROOT" rev-parse -q --verify "$PREV_COMMIT^{commit}" 2>/dev/null
}

prev_build() {
	local commit dir log
	commit=$(prev_commit)
	# a shallow clone (CI's may be): the history from where it came
	if [ -z "$commit" ] &&
	   [ "$(git -C "$TCBPF_ROOT" rev-parse --is-shallow-repository 2>/dev/null)" = true ]; then
		note "shallow clone: fetching the history for $PREV_TAG"
		timeout 300 git -C "$TCBPF_ROOT" fetch -q --unshallow --tags >/dev/null 2>&1
		commit=$(prev_commit)
	fi
	if [ -z "$commit" ]; then
		PREV_WHY="neither tag $PREV_TAG nor commit $PREV_COMMIT is in the git history of $TCBPF_ROOT (a shallow clone or an export?): fetch them (git fetch --tags --unshallow) to test upgrades"
		return 1
	fi
	dir=$TCBPF_ROOT/.output/prev-$commit
	PREV=$dir/tcbpf
	[ -x "$PREV" ] && return 0
	log=$dir.log
	rm -rf "$dir" "$dir.tmp" && mkdir -p "$dir.tmp" || return 1
	note "building $PREV_TAG ($commit) into $dir (once)"
	if ! git -C "$TCBPF_ROOT" archive "$commit" | tar -x -C "$dir.tmp" ||
	   ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$dir.tmp" tcbpf \
			>"$log" 2>&1; then
		PREV_WHY="cannot build $PREV_TAG ($commit): $(tail -3 "$log" 2>/dev/null | tr '\n' ' ')"
		PREV=
		return 1
	fi
	mv "$dir.tmp" "$dir" || return 1
	[ -x "$PREV" ]
}

# ---------------------------------------------------------------- topology

up_setup() {
	ns_teardown
	sockbufs_raise
	mount -t bpf bpf /sys/fs/bpf || return 1
	ip netns add "$HOST_NS" && ip -n "$HOST_NS" link set lo up || return 1
	pair_up "$DEV" "$DEV_IFX" "$VM_NS" 10.208.1 || return 1
	pair_up "$DEV2" "$DEV2_IFX" "$VM2_NS" 10.208.2 || return 1
}

# pair_up HOSTDEV IFINDEX VMNS PREFIX: lib.sh's pair, ARP done before a
# measurement needs it
pair_up() {
	pair_add "$@" || return 1
	ns_run "$3" ping -c1 -W2 -q "$4.1" >/dev/null 2>&1
	return 0
}

up_cleanup() {
	local pid
	for pid in "${BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	mountpoint -q "$PIN_DIR/upgrade" 2>/dev/null && umount "$PIN_DIR/upgrade"
	ns_exists "$HOST_NS" && info_restore
	lib_cleanup
}

# A clean start: nothing attached, no pins, no records.
fresh() {
	mountpoint -q "$PIN_DIR/upgrade" 2>/dev/null && umount "$PIN_DIR/upgrade"
	info_restore
	tb detach "$DEV" >/dev/null 2>&1
	tb detach "$DEV2" >/dev/null 2>&1
	rm -rf "$PIN_DIR" "$TCBPF_STATE_DIR"
}

# ------------------------------------------------------------------- pins

# info_set LAYOUT BUILD VERSION: write the tcbpf_info pin (as another
# tcbpf would have), keeping the real one to put back (info_restore).
info_set() {
	[ -e "$WORK/info.real" ] ||
		bpftool -j map dump pinned "$PIN_DIR/tcbpf_info" >"$WORK/info.real" || return 1
	# shellcheck disable=SC2046
	bpftool map update pinned "$PIN_DIR/tcbpf_info" key 0 0 0 0 value \
		$("$PY" -c '
import struct, sys
v = struct.pack("<IIQ32s", int(sys.argv[1]), 0, int(sys.argv[2]), sys.argv[3].encode())
print(" ".join(str(b) for b in v))' "$@")
}

info_restore() {
	[ -e "$WORK/info.real" ] || return 0
	# shellcheck disable=SC2046
	[ -e "$PIN_DIR/tcbpf_info" ] &&
		bpftool map update pinned "$PIN_DIR/tcbpf_info" key 0 0 0 0 value \
			$(py -c '
import json, sys
print(" ".join(str(int(b, 16)) for b in json.load(sys.stdin)[0]["value"]))' \
				<"$WORK/info.real")
	rm -f "$WORK/info.real"
}

# info_layout: the layout the tcbpf_info pin says ("" none)
info_layout() {
	bpftool -j map dump pinned "$PIN_DIR/tcbpf_info" 2>/dev/null | py -c '
import json, sys
v = json.load(sys.stdin)[0]["value"]
print(int.from_bytes(bytes(int(b, 16) for b in v[:4]), "little"))'
}

# hook_progs: "DEV/DIR=HOOK:PROG_ID ..." for both devices, read from the
# kernel (tcx link pins, tc filters), not from tcbpf
hook_progs() {
	local d dir out
	for d in "$DEV" "$DEV2"; do
		for dir in ingress egress; do
			out=$(tcx_prog "$d" "$dir")
			[ -n "$out" ] && out="tcx:$out" || {
				out=$(tc_prog "$d" "$dir")
				[ -n "$out" ] && out="tc:$out" || out=none
			}
			echo -n "$d/$dir=$out "
		done
	done
}

tcx_prog() {
	local ifx=$DEV_IFX
	[ "$1" = "$DEV2" ] && ifx=$DEV2_IFX
	ls "$PIN_DIR/links/"*"_${ifx}_$2" >/dev/null 2>&1 || return 0
	bpftool -j link show pinned "$PIN_DIR"/links/*"_${ifx}_$2" 2>/dev/null |
		py -c 'import json, sys; print(json.load(sys.stdin)["prog_id"])'
}

tc_prog() {
	ns_run "$HOST_NS" tc -j filter show dev "$1" "$2" 2>/dev/null | py -c '
import json, sys
try:
    fs = json.load(sys.stdin)
except Exception:
    sys.exit(0)
for f in fs:
    p = f.get("options", {}).get("prog", {})
    if f.get("options", {}).get("handle") == "0x7cbf" and p.get("id"):
        print(p["id"])'
}

# prog_alive ID: the kernel still has program ID
prog_alive() { bpftool prog show id "$1" >/dev/null 2>&1; }

# --------------------------------------------------------------- traffic

# flood_start NAME VMNS ADDR PORT SECS: UDP from the VM to the host at
# OFFER, per-0.1 s intervals on the receiving side; FLOOD_T0 its start
# (unix seconds, fractions)
flood_start() {
	local name=$1 vns=$2 addr=$3 port=$4 secs=$5
	ns_run "$HOST_NS" timeout $((secs + 20)) iperf3 -s -1 -J -i 0.1 \
		-p "$port" >"$WORK/$name.srv.json" 2>"$WORK/$name.srv.err" &
	BG_PIDS+=($!)
	FLOOD_SPID=$!
	wait_listen "$HOST_NS" "$port" || return 1
	FLOOD_T0=$(date +%s.%N)
	ns_run "$vns" timeout $((secs + 15)) iperf3 -c "$addr" -p "$port" -u \
		-b "$OFFER" -l "$PAYLOAD" -w 2M -t "$secs" -J \
		>"$WORK/$name.cli.json" 2>"$WORK/$name.cli.err" &
	BG_PIDS+=($!)
	FLOOD_CPID=$!
}

flood_wait() {
	local i
	wait "$FLOOD_CPID" 2>/dev/null
	for i in $(seq 1 40); do
		kill -0 "$FLOOD_SPID" 2>/dev/null || break
		sleep 0.1
	done
	kill "$FLOOD_SPID" 2>/dev/null
	wait "$FLOOD_SPID" 2>/dev/null
}

# flood_judge NAME T0 UP_START UP_END: the received wire rate before,
# during (the upgrade +- 0.2 s) and after it; prints
#   OK|BAD before_mbit during_mbit during_max_mbit after_mbit intervals why
# judged against LIMIT: every 0.1 s interval after the first 0.3 s (the
# burst) at most 3x the limit (a receiver that ran late shows two
# intervals' packets in one), each phase's mean at most 1.3x
flood_judge() {
	py -c '
import json, sys
f, t0, u0, u1, limit, payload = sys.argv[1], float(sys.argv[2]), \
    float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
try:
    d = json.load(open(f))
except Exception as e:
    print("BAD 0 0 0 0 0 no iperf3 JSON (%s)" % e.__class__.__name__)
    sys.exit(0)
if d.get("error"):
    print("BAD 0 0 0 0 0 iperf3: %s" % d["error"].replace(" ", "_"))
    sys.exit(0)
ph = {"before": [], "during": [], "after": []}
worst = 0
for i in d.get("intervals", []):
    s = i["sum"]
    if s["end"] <= 0.3 or s["seconds"] < 0.05:
        continue
    bits = s["bytes"] * 8 * (payload + 42) / payload / s["seconds"]
    a, b = t0 + s["start"], t0 + s["end"]
    k = "before" if b < u0 - 0.2 else "after" if a > u1 + 0.2 else "during"
    ph[k].append(bits)
    worst = max(worst, bits)
m = {k: (sum(v) / len(v) if v else -1) for k, v in ph.items()}
why = []
for k in ph:
    if not ph[k]:
        why.append("no_interval_" + k)
    elif m[k] > 1.3 * limit:
        why.append("%s_%.2fMbit_over_1.3x" % (k, m[k] / 1e6))
if worst > 3 * limit:
    why.append("an_interval_at_%.2fMbit" % (worst / 1e6))
print("%s %.2f %.2f %.2f %.2f %d %s" % ("BAD" if why else "OK",
      m["before"] / 1e6, m["during"] / 1e6, max(ph["during"] or [0]) / 1e6,
      m["after"] / 1e6, sum(len(v) for v in ph.values()), ",".join(why) or "-"))
' "$WORK/$1.srv.json" "$2" "$3" "$4" "$LIMIT" "$PAYLOAD"
}

# quick_rate VMNS ADDR PORT: the received wire bit/s of a 2 s flood (the
# first 0.5 s left out)
quick_rate() {
	flood_start quick "$1" "$2" "$3" 2 || { echo 0; return; }
	flood_wait
	py -c '
import json, sys
payload = float(sys.argv[2])
try:
    iv = [i["sum"] for i in json.load(open(sys.argv[1]))["intervals"]]
except Exception:
    print(0)
    sys.exit(0)
use = [s for s in iv if s["start"] >= 0.5]
secs = sum(s["seconds"] for s in use)
print("%.0f" % (sum(s["bytes"] for s in use) * 8 * (payload + 42) / payload / secs if secs else 0))
' "$WORK/quick.srv.json" "$PAYLOAD"
}

# settings DEV SHOWJSON: the settings of DEV in a `show -j` (counters,
# program ids and what says where the counters are left out: layout 2's
# "slot", layout 3's "id"), one JSON line
settings_of() {
	py -c '
import json, sys
for d in json.loads(sys.argv[2]):
    if d["ifname"] == sys.argv[1]:
        out = {}
        for k in ("ingress", "egress"):
            if k in d:
                out[k] = {kk: vv for kk, vv in d[k].items()
                          if kk not in ("prog_id", "classes", "slot", "id")}
        print(json.dumps(out, sort_keys=True))' "$1" "$2"
}

# passed DEV SHOWJSON DIR: the default class's passed packets
passed_of() {
	py -c '
import json, sys
for d in json.loads(sys.argv[2]):
    if d["ifname"] == sys.argv[1]:
        print(d[sys.argv[3]]["classes"]["default"]["passed_packets"])' "$@"
}

# counted DEV SHOWJSON DIR: packets DIR of DEV passed and dropped, all classes
counted() {
	py -c '
import json, sys
for d in json.loads(sys.argv[2]):
    if d["ifname"] == sys.argv[1]:
        print(sum(c["passed_packets"] + c["dropped_packets"]
                  for c in d[sys.argv[3]]["classes"].values()))' "$@"
}

# ------------------------------------------------------------------ tests

test_prev_build() {
	local p1
	if prev_build; then
		note "previous release: $PREV ($("$PREV" help 2>&1 | head -1 | cut -c1-40)...)"
		pass prev-build
	else
		fail prev-build "${PREV_WHY:-cannot build the previous release}"
		PREV=
	fi
	p1=$PREV
	if PREV_TAG=v0.2 PREV_COMMIT=455fc15 prev_build; then
		PREV2=$PREV
		note "layout 2 release: $PREV2"
		pass prev-build-v0.2
	else
		fail prev-build-v0.2 "${PREV_WHY:-cannot build v0.2}"
		PREV2=
	fi
	PREV=$p1
}

need_prev() {
	[ -n "$PREV" ] && return 0
	fail "$1" "no previous release to upgrade from (see prev-build)"
	return 1
}

# v0.1 clamps two devices (tcx and tc); this tcbpf migrates them during a
# flood: the flood stays limited, settings and counters carried over.
test_migrate_live() {
	need_prev migrate-live || return
	migrate_live migrate-live 1
}

# The same from v0.2 (layout 2: the timelines and counters by slot).
test_migrate_live_v2() {
	local p1=$PREV
	if [ -z "$PREV2" ]; then
		fail migrate-live-v0.2 "no v0.2 build to upgrade from (see prev-build-v0.2)"
		return
	fi
	PREV=$PREV2
	migrate_live migrate-live-v0.2 2
	PREV=$p1
}

# migrate_live NAME FROM: the previous release in $PREV has map layout FROM
migrate_live() {
	fresh
	local name=$1 from=$2
	local spec="ingress rate 2mbit burst 20kb egress rate 50mbit"
	local before after s1 s2 p0 p1 hooks0 hooks1 u0 u1 j st id r rate2 recv n d
	res_begin "$name"
	old attach "$DEV" $spec >/dev/null 2>&1 || res_bad "old attach $DEV failed"
	old attach "$DEV2" $spec hook tc >/dev/null 2>&1 ||
		res_bad "old attach $DEV2 hook tc failed"
	if [ "$from" = 1 ]; then
		[ -e "$PIN_DIR/tcbpf_info" ] && res_bad "v0.1 pinned a tcbpf_info (layout 1 has none)"
	else
		[ "$(info_layout)" = "$from" ] || res_bad "the old release pinned layout '$(info_layout)', not $from"
	fi
	hooks0=$(hook_progs)
	case $hooks0 in
	*"$DEV/ingress=tcx:"*"$DEV2/ingress=tc:"*) ;;
	*) res_bad "the old release's hooks not as expected: $hooks0" ;;
	esac
	# long enough for an upgrade of seconds (the verifier, on a loaded
	# machine) with a second of flood after it
	flood_start mig "$VM_NS" "$HOST_IP" 5301 12 || res_bad "flood did not start"
	sleep 2.5
	before=$(old -j show 2>/dev/null)
	u0=$(date +%s.%N)
	try tb -j upgrade
	u1=$(date +%s.%N)
	flood_wait
	after=$(tb -j show 2>/dev/null)
	[ "$TRY_RC" -eq 0 ] || res_bad "upgrade exited $TRY_RC: $TRY_ERR"
	j=$(echo "$TRY_OUT" | jget '[d["result"], d["from_layout"], d["layout"], d["hooks"], d["settings"]]')
	[ "$j" = "[\"migrated\", $from, $LAYOUT, 4, 2]" ] ||
		res_bad "upgrade said $TRY_OUT (want migrated from $from to $LAYOUT, 4 hooks, 2 settings)"
	note "upgrade took $(calc "($u1 - $u0) * 1000") ms: $TRY_OUT"
	# the flood, limited throughout
	read -r st r <<<"$(flood_judge mig "$FLOOD_T0" "$u0" "$u1")"
	note "flood $DEV ingress (limit $(mbit $LIMIT) Mbit/s, offered $OFFER): before/during(max)/after Mbit/s: $r"
	[ "$st" = OK ] || res_bad "flood not limited across the migration: $r"
	# settings and counters carried over
	for d in "$DEV" "$DEV2"; do
		s1=$(settings_of "$d" "$before")
		s2=$(settings_of "$d" "$after")
		[ -n "$s1" ] && [ "$s1" = "$s2" ] ||
			res_bad "$d settings changed: before $s1 after $s2"
	done
	# every datagram that arrived crossed a program of ours, old or new,
	# and its count survived the move
	recv=$(py -c '
import json, sys
try:
    s = json.load(open(sys.argv[1]))["end"]["sum"]
    print(s["packets"] - s["lost_packets"])
except Exception:
    print(-1)' "$WORK/mig.srv.json")
	n=$(passed_of "$DEV" "$after" ingress)
	note "$DEV ingress: $recv datagrams received, $n packets counted passed"
	[ "$recv" -gt 0 ] && [ "${n:-0}" -ge "$recv" ] ||
		res_bad "$recv datagrams received but $n counted passed: some crossed no program, or counts were lost"
	p0=$(passed_of "$DEV" "$before" ingress)
	p1=$(passed_of "$DEV" "$after" ingress)
	note "$DEV ingress passed packets: $p0 before the upgrade, $p1 after the flood"
	[ -n "$p0" ] && [ -n "$p1" ] && [ "$p0" -gt 100 ] && [ "$p1" -gt "$p0" ] ||
		res_bad "counters not carried over: passed $p0 before, $p1 after"
	# new programs on every hook, the old ones gone, the pins this layout
	hooks1=$(hook_progs)
	note "hooks before: $hooks0"
	note "hooks after:  $hooks1"
	for id in $(echo "$hooks0" | grep -o '[0-9]*' | sort -u); do
		case " $(echo "$hooks1" | tr '=:' '  ') " in
		*" $id "*) res_bad "program $id of the old release still on a hook" ;;
		esac
		prog_alive "$id" && res_bad "program $id of the old release still loaded"
	done
	[ "$(echo "$hooks1" | grep -o 'tcx:[0-9]*' | wc -l)" -eq 2 ] &&
		[ "$(echo "$hooks1" | grep -o 'tc:[0-9]*' | wc -l)" -eq 2 ] ||
		res_bad "hooks after: $hooks1 (want $DEV on tcx, $DEV2 on tc)"
	[ "$(info_layout)" = "$LAYOUT" ] || res_bad "tcbpf_info says layout '$(info_layout)', not $LAYOUT"
	for m in tcbpf_state tcbpf_stats; do
		[ "$LAYOUT" -ge 3 ] && [ -e "$PIN_DIR/$m" ] && res_bad "layout 2's $m is still pinned"
	done
	[ -e "$PIN_DIR/upgrade" ] && res_bad "the stage $PIN_DIR/upgrade is left"
	# the records the old release made are what is enforced: nothing to do
	try "$TCBPF" apply --check
	[ "$TRY_RC" -eq 0 ] && ! echo "$TRY_OUT" | grep -q -i "attach\|reapply\|change" ||
		res_bad "apply --check after the upgrade (rc $TRY_RC): $TRY_OUT $TRY_ERR"
	# the tc-hooked device is still limited by the new programs
	rate2=$(quick_rate "$VM2_NS" "$HOST2_IP" 5302)
	note "$DEV2 (tc) after the upgrade: $(mbit "$rate2") Mbit/s"
	le "$rate2" "$(calc "$LIMIT * 1.3")" && ge "$rate2" "$(calc "$LIMIT * 0.5")" ||
		res_bad "$DEV2 at $(mbit "$rate2") Mbit/s after the upgrade, limit $(mbit $LIMIT)"
	# a change now goes through the new maps
	tb change "$DEV" ingress rate 4mbit >/dev/null 2>&1 || res_bad "change after the upgrade failed"
	rate2=$(quick_rate "$VM_NS" "$HOST_IP" 5303)
	note "$DEV after change to 4 Mbit/s: $(mbit "$rate2") Mbit/s"
	within "$rate2" 4000000 25 || res_bad "$DEV at $(mbit "$rate2") Mbit/s after change to 4mbit"
	res_end
}

# This tcbpf detaches a clamp v0.1 made, as the first command it runs.
test_detach_old() {
	need_prev detach-old || return
	fresh
	local rate
	res_begin detach-old
	old attach "$DEV" ingress rate 2mbit burst 20kb >/dev/null 2>&1 ||
		res_bad "v0.1 attach failed"
	try tb detach "$DEV"
	[ "$TRY_RC" -eq 0 ] || res_bad "detach exited $TRY_RC: $TRY_ERR"
	[ "$(hook_progs)" = "$DEV/ingress=none $DEV/egress=none $DEV2/ingress=none $DEV2/egress=none " ] ||
		res_bad "hooks left: $(hook_progs)"
	[ -e "$PIN_DIR" ] && res_bad "pins left: $(ls -R "$PIN_DIR" | tr '\n' ' ')"
	grep -q "^$DEV " "$TCBPF_STATE_DIR/clamps" 2>/dev/null &&
		res_bad "record left: $(cat "$TCBPF_STATE_DIR/clamps")"
	rate=$(quick_rate "$VM_NS" "$HOST_IP" 5304)
	note "after detach: $(mbit "$rate") Mbit/s"
	ge "$rate" "$(calc "$LIMIT * 5")" || res_bad "still limited after detach: $(mbit "$rate") Mbit/s"
	res_end
}

# `apply --check` as the first command of this tcbpf on v0.1's clamps:
# migrates (saying so), then finds the machine as recorded.
test_apply_first() {
	need_prev apply-first || return
	fresh
	res_begin apply-first
	old attach "$DEV" ingress rate 2mbit burst 20kb >/dev/null 2>&1 ||
		res_bad "v0.1 attach failed"
	try "$TCBPF" apply --check
	[ "$TRY_RC" -eq 0 ] || res_bad "apply --check exited $TRY_RC: $TRY_OUT $TRY_ERR"
	case $TRY_ERR in
	*"migrated the limiter"*"from layout 1"*"nothing to do"*) ;;
	*) res_bad "apply --check said: $TRY_OUT $TRY_ERR" ;;
	esac
	note "apply --check: $TRY_ERR"
	res_end
}

# This tcbpf detaches a v0.1 clamp it cannot migrate (here: the stage of
# the migration is taken by a mount), without migrating.
test_detach_unmigrated() {
	need_prev detach-unmigrated || return
	fresh
	local rate n
	res_begin detach-unmigrated
	old attach "$DEV" ingress rate 2mbit burst 20kb >/dev/null 2>&1 ||
		res_bad "v0.1 attach failed"
	old attach "$DEV2" ingress rate 2mbit burst 20kb >/dev/null 2>&1 ||
		res_bad "v0.1 attach $DEV2 failed"
	mkdir "$PIN_DIR/upgrade" && mount -t tmpfs none "$PIN_DIR/upgrade" ||
		res_bad "cannot block $PIN_DIR/upgrade"
	try tb show
	[ "$TRY_RC" -eq 1 ] && case $TRY_ERR in *upgrade*) true ;; *) false ;; esac ||
		res_bad "show with the migration blocked: rc $TRY_RC: $TRY_ERR"
	note "migration blocked: $TRY_ERR"
	try tb detach "$DEV"
	[ "$TRY_RC" -eq 0 ] || res_bad "detach exited $TRY_RC: $TRY_ERR"
	note "detach: $TRY_ERR"
	case $(hook_progs) in
	"$DEV/ingress=none $DEV/egress=none $DEV2/ingress=tcx:"*"$DEV2/egress=tcx:"*) ;;
	*) res_bad "hooks after detach: $(hook_progs)" ;;
	esac
	[ -e "$PIN_DIR/tcbpf_info" ] && res_bad "migrated after all (tcbpf_info pinned)"
	n=$(bpftool -j map dump pinned "$PIN_DIR/tcbpf_cfg" 2>/dev/null | jget 'len(d)')
	[ "$n" = 1 ] || res_bad "$n settings entries left in layout 1's map, want 1 ($DEV2's)"
	grep -q "^$DEV " "$TCBPF_STATE_DIR/clamps" && res_bad "record of $DEV left"
	# v0.1 still runs its own clamps, this one's is gone
	old -j show 2>/dev/null | jget '[x["ifname"] for x in d]' | grep -q "$DEV\"" &&
		res_bad "v0.1 still shows $DEV"
	rate=$(quick_rate "$VM_NS" "$HOST_IP" 5306)
	ge "$rate" "$(calc "$LIMIT * 5")" || res_bad "$DEV still limited after detach: $(mbit "$rate") Mbit/s"
	umount "$PIN_DIR/upgrade" && rmdir "$PIN_DIR/upgrade"
	# unblocked, the next command migrates what is left
	try tb -j upgrade
	[ "$(echo "$TRY_OUT" | jget '[d["result"], d["settings"]]')" = '["migrated", 1]' ] ||
		res_bad "upgrade after unblocking: $TRY_OUT $TRY_ERR"
	res_end
}

# ping_start NAME VMNS ADDR [COUNT]: COUNT (1500) pings, 2 ms apart (3 s),
# under the limit
ping_start() {
	ns_run "$2" ping -q -c "${4:-1500}" -i 0.002 -W 2 "$3" >"$WORK/$1.ping" 2>&1 &
	BG_PIDS+=($!)
	PING_PIDS+=($!)
}

# loss NAME: "SENT RECEIVED" of a finished ping
loss() {
	sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$WORK/$1.ping"
}

# Same layout, another build: the programs are swapped on live hooks (tcx
# and tc) while pings cross them, and not one is lost.
test_takeover_no_loss() {
	fresh
	local hooks0 hooks1 id s r sent recv d c0 c1 n_in n_eg p
	res_begin takeover-no-loss
	tb attach "$DEV" rate 10mbit >/dev/null 2>&1 || res_bad "attach $DEV failed"
	tb attach "$DEV2" rate 10mbit hook tc >/dev/null 2>&1 || res_bad "attach $DEV2 failed"
	try tb -j upgrade
	[ "$(echo "$TRY_OUT" | jget 'd["result"]')" = current ] ||
		res_bad "upgrade by the same build: $TRY_OUT $TRY_ERR (want current)"
	s=$(tb -j show 2>/dev/null)
	# the pins as another build of this layout left them
	info_set "$LAYOUT" 12345 0.2-other || res_bad "cannot write tcbpf_info"
	rm -f "$WORK/info.real"	# this one stays: the takeover replaces it
	hooks0=$(hook_progs)
	c0=$(tb -j show 2>/dev/null)
	PING_PIDS=()
	ping_start p1 "$VM_NS" "$HOST_IP"
	ping_start p2 "$VM2_NS" "$HOST2_IP"
	sleep 1.2
	try tb -j upgrade
	wait "${PING_PIDS[@]}" 2>/dev/null
	[ "$TRY_RC" -eq 0 ] || res_bad "upgrade exited $TRY_RC: $TRY_ERR"
	r=$(echo "$TRY_OUT" | jget '[d["result"], d["from_version"], d["hooks"], d["settings"]]')
	[ "$r" = '["takeover", "0.2-other", 4, 0]' ] ||
		res_bad "upgrade said $TRY_OUT (want takeover from 0.2-other, 4 hooks)"
	note "upgrade: $TRY_OUT"
	c1=$(tb -j show 2>/dev/null)
	for p in p1 p2; do
		read -r sent recv <<<"$(loss $p)"
		d=$DEV
		[ $p = p2 ] && d=$DEV2
		# every request and reply crossed a program of ours, old or new:
		# a moment without one would pass packets uncounted
		n_in=$(($(counted "$d" "$c1" ingress) - $(counted "$d" "$c0" ingress)))
		n_eg=$(($(counted "$d" "$c1" egress) - $(counted "$d" "$c0" egress)))
		note "ping through the swap on $d: $sent sent, $recv received; counted $n_in in, $n_eg out"
		[ -n "$sent" ] && [ "$sent" -ge 1000 ] && [ "$sent" = "$recv" ] ||
			res_bad "ping on $d: ${sent:-?} sent, ${recv:-?} received: $(tail -2 "$WORK/$p.ping" | tr '\n' ' ')"
		[ "$n_in" -ge "${sent:-1}" ] && [ "$n_eg" -ge "${recv:-1}" ] ||
			res_bad "$d: $n_in packets counted in, $n_eg out for $sent pings: some crossed no program"
	done
	hooks1=$(hook_progs)
	note "hooks before: $hooks0"
	note "hooks after:  $hooks1"
	[ "$(echo "$hooks1" | grep -c none)" -eq 0 ] || res_bad "a hook lost its program: $hooks1"
	for id in $(echo "$hooks0" | grep -o '[0-9]*' | sort -u); do
		case " $(echo "$hooks1" | tr '=:' '  ') " in
		*" $id "*) res_bad "old program $id still on a hook" ;;
		esac
		prog_alive "$id" && res_bad "old program $id still loaded"
	done
	for d in "$DEV" "$DEV2"; do
		[ "$(settings_of "$d" "$s")" = "$(settings_of "$d" "$(tb -j show 2>/dev/null)")" ] ||
			res_bad "$d settings changed by the takeover"
	done
	try tb -j upgrade
	[ "$(echo "$TRY_OUT" | jget 'd["result"]')" = current ] ||
		res_bad "a second upgrade: $TRY_OUT (want current)"
	res_end
}

# The daemon takes over at its start (what a package upgrade restarts): a
# v0.1 clamp migrated, then another build's programs swapped, pings
# crossing the hooks all the while.
test_daemon_takeover() {
	need_prev daemon-takeover || return
	fresh
	local hooks0 hooks1 sent recv pid
	res_begin daemon-takeover
	old attach "$DEV" rate 10mbit >/dev/null 2>&1 || res_bad "v0.1 attach failed"
	hooks0=$(hook_progs)
	PING_PIDS=()
	ping_start d1 "$VM_NS" "$HOST_IP" 10000
	"$TCBPF" daemon >"$WORK/daemon.log" 2>"$WORK/daemon.err" &
	pid=$!
	# the verifier's time for the new programs first (seconds, loaded)
	daemon_ready "$WORK/daemon.log" 15
	[ "$(info_layout)" = "$LAYOUT" ] || res_bad "the daemon did not migrate: $(tr '\n' ' ' <"$WORK/daemon.err")"
	hooks1=$(hook_progs)
	case $hooks1 in
	"$DEV/ingress=tcx:"*"$DEV/egress=tcx:"*) ;;
	*) res_bad "hooks after the daemon started: $hooks1" ;;
	esac
	[ "$hooks0" != "$hooks1" ] || res_bad "the daemon left v0.1's programs: $hooks1"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# another build's pins, and the daemon starts again
	info_set "$LAYOUT" 4242 0.2-before || res_bad "cannot write tcbpf_info"
	rm -f "$WORK/info.real"
	hooks0=$hooks1
	: >"$WORK/daemon.log"
	"$TCBPF" daemon >"$WORK/daemon.log" 2>"$WORK/daemon.err" &
	pid=$!
	# the verifier's time for the new programs first (seconds, loaded)
	daemon_ready "$WORK/daemon.log" 15
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	hooks1=$(hook_progs)
	note "hooks after the second start: $hooks1 (before: $hooks0); daemon: $(tr "\n" " " <"$WORK/daemon.err")"
	case $hooks1 in
	"$DEV/ingress=tcx:"*"$DEV/egress=tcx:"*) ;;
	*) res_bad "hooks after the second start: $hooks1" ;;
	esac
	[ "$hooks0" != "$hooks1" ] || res_bad "the daemon did not take over from another build"
	kill -0 "${PING_PIDS[0]}" 2>/dev/null || res_bad "the pings ended before the second start"
	wait "${PING_PIDS[@]}" 2>/dev/null
	read -r sent recv <<<"$(loss d1)"
	note "ping through both starts: $sent sent, $recv received"
	[ -n "$sent" ] && [ "$sent" = "$recv" ] || res_bad "ping: ${sent:-?} sent, ${recv:-?} received"
	res_end
}

# The package's postinst on an upgrade (debian/tcbpf.postinst configure
# OLD-VERSION), on the machine's pin directory, which in this suite's
# mount namespace is a bpffs of its own: v0.1's clamp taken over.
test_postinst() {
	need_prev postinst || return
	fresh
	local sys=/sys/fs/bpf/tcbpf hooks0 hooks1 out rc
	res_begin postinst
	if [ "${TCBPF_UP_PRIVATE:-}" != 1 ] || [ -e "$sys" ]; then
		res_skip "no private bpffs here (or $sys exists): the postinst would act on the machine's pins"
		res_end
		return
	fi
	env -u TCBPF_PIN_DIR "$PREV" -n "$HOST_NS" attach "$DEV" rate 10mbit >/dev/null 2>&1 ||
		res_bad "v0.1 attach failed"
	hooks0=$(PIN_DIR=$sys hook_progs)
	out=$(env -u TCBPF_PIN_DIR PATH="$(dirname "$TCBPF"):$PATH" 		sh "$TCBPF_ROOT/debian/tcbpf.postinst" configure 0.1 2>&1)
	rc=$?
	note "postinst configure 0.1: rc $rc: $(echo "$out" | tr '\n' ' ')"
	[ "$rc" -eq 0 ] || res_bad "postinst exited $rc: $out"
	case $out in
	*"migrated: the maps were migrated"*) ;;
	*) res_bad "postinst said: $out" ;;
	esac
	hooks1=$(PIN_DIR=$sys hook_progs)
	case $hooks1 in
	"$DEV/ingress=tcx:"*"$DEV/egress=tcx:"*) ;;
	*) res_bad "hooks after postinst: $hooks1" ;;
	esac
	[ "$hooks0" != "$hooks1" ] || res_bad "postinst left v0.1's programs: $hooks1"
	[ "$(PIN_DIR=$sys info_layout)" = "$LAYOUT" ] || res_bad "$sys not at layout $LAYOUT"
	env -u TCBPF_PIN_DIR "$TCBPF" -n "$HOST_NS" detach "$DEV" >/dev/null 2>&1 ||
		res_bad "detach failed"
	[ -e "$sys" ] && res_bad "$sys left: $(ls -R "$sys" | tr '\n' ' ')"
	res_end
}

# Pins of a newer layout: refused with a message saying what to do,
# nothing changed; detach still takes the programs off.
test_newer_refused() {
	fresh
	local pins0 pins1 hooks0 hooks1 c cmd rate
	res_begin newer-refused
	tb attach "$DEV" ingress rate 2mbit burst 20kb >/dev/null 2>&1 || res_bad "attach $DEV failed"
	tb attach "$DEV2" rate 10mbit hook tc >/dev/null 2>&1 || res_bad "attach $DEV2 failed"
	info_set 99 777 9.9 || res_bad "cannot write tcbpf_info"
	snap() {
		ls -R "$PIN_DIR"
		bpftool -j map dump pinned "$PIN_DIR/tcbpf_cfg"
		bpftool -j map dump pinned "$PIN_DIR/tcbpf_info"
		hook_progs
		cat "$TCBPF_STATE_DIR/clamps"
	}
	pins0=$(snap 2>&1 | md5sum)
	hooks0=$(hook_progs)
	for cmd in upgrade "attach $DEV rate 5mbit" "change $DEV rate 5mbit" show; do
		# shellcheck disable=SC2086
		try tb $cmd
		c=${cmd%% *}
		[ "$TRY_RC" -eq 1 ] || res_bad "$c exited $TRY_RC (want 1)"
		case $TRY_ERR in
		*"map layout 99, tcbpf 9.9, newer than this tcbpf's $LAYOUT"*"use that version"*"detach its clamps with it first"*) ;;
		*) res_bad "$c said: $TRY_ERR" ;;
		esac
	done
	note "refusal: $TRY_ERR"
	pins1=$(snap 2>&1 | md5sum)
	[ "$pins0" = "$pins1" ] || res_bad "pins, hooks or records changed by refused commands"
	# detach works all the same (and says so)
	try tb detach "$DEV"
	[ "$TRY_RC" -eq 0 ] || res_bad "detach exited $TRY_RC: $TRY_ERR"
	note "detach: $TRY_ERR"
	hooks1=$(hook_progs)
	case $hooks1 in
	*"$DEV/ingress=none $DEV/egress=none $DEV2/ingress=tc:"*"$DEV2/egress=tc:"*) ;;
	*) res_bad "hooks after detach: $hooks1" ;;
	esac
	grep -q "^$DEV " "$TCBPF_STATE_DIR/clamps" && res_bad "record of $DEV left"
	rate=$(quick_rate "$VM_NS" "$HOST_IP" 5305)
	ge "$rate" "$(calc "$LIMIT * 5")" || res_bad "$DEV still limited after detach: $(mbit "$rate") Mbit/s"
	info_restore
	res_end
}

main() {
	local names=("$@") t
	[ ${#names[@]} -gt 0 ] || names=("${TESTS[@]}")
	if [ "$(id -u)" -ne 0 ]; then
		for t in "${names[@]}"; do skip "${t#test_}" "needs root"; done
		exit 0
	fi
	for t in iperf3 "$PY" nsenter ip flock unshare bpftool git tar; do
		command -v "$t" >/dev/null || { fail upgrade_setup "$t not found"; exit 1; }
	done
	[ -x "$TCBPF" ] || { fail upgrade_setup "$TCBPF not built (make)"; exit 1; }
	exec 7>"$UP_LOCK"
	flock -w 300 7 || { fail upgrade_setup "another run holds $UP_LOCK"; exit 1; }
	lib_init || { fail upgrade_setup "mktemp failed"; exit 1; }
	mkdir -p "$WORK/conf"
	export TCBPF_CONFIG_DIR=$WORK/conf
	trap up_cleanup EXIT
	trap 'exit 130' INT TERM
	if ! up_setup; then
		fail upgrade_setup "cannot build the test namespaces"
		exit 1
	fi
	# the previous release is what the others upgrade from
	case " ${names[*]} " in
	*" test_prev_build "*) ;;
	*)
		if PREV_TAG=v0.2 PREV_COMMIT=455fc15 prev_build; then
			PREV2=$PREV
		fi
		prev_build || PREV=
		;;
	esac
	for t in "${names[@]}"; do
		vlog "== $t"
		"$t"
	done
	echo "  # upgrade: $NPASS passed, $NFAIL failed, $NSKIP skipped"
	[ "$NFAIL" -eq 0 ]
}

main "$@"
