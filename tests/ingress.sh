#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/ingress.sh - ingress EDT's control plane on the host: the pacing
# ifb (tcbpf-ifb0) made and removed, the refusal where the kernel cannot
# pace, the default that still polices, other users' ifbs left alone.
#
#   tests/ingress.sh          needs root; ./tcbpf built
#
# Runs in a private mount namespace with a fresh bpffs on /sys/fs/bpf, so
# its pins never meet those of other tcbpf builds on a shared machine (and
# theirs are never touched), and in its own network namespaces
# tcbpf-ing-h (device vm-9-00c9) and tcbpf-ing-v, deleted on exit.
# Where the kernel can pace (6.4 or later with fq and ifb: the 6.12 guest,
# tests/vm/vmtest.sh --kernel bpo) the pacing path is checked instead of
# the refusal; the traffic itself is tests/vm/guest-ingress.sh's. Prints
# PASS/FAIL/SKIP lines.
set -u
cd "$(dirname "$0")/.."
TCBPF=${TCBPF:-$PWD/tcbpf}
H=tcbpf-ing-h
V=tcbpf-ing-v
DEV=vm-9-00c9
IFB=tcbpf-ifb0
FOREIGN=ifb-notours

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: all: needs root"
	exit 0
fi
if [ -z "${TCBPF_ING_PRIVATE:-}" ]; then
	TCBPF_ING_PRIVATE=1 exec unshare -m --propagation private "$0" "$@"
fi
mount -t bpf bpf /sys/fs/bpf || { echo "FAIL: bpffs: cannot mount"; exit 1; }
WORK=$(mktemp -d /tmp/tcbpf-ingress.XXXXXX)
export TCBPF_STATE_DIR=$WORK/state

NPASS=0 NFAIL=0
pass() { NPASS=$((NPASS + 1)); echo "PASS: $1"; }
fail() { NFAIL=$((NFAIL + 1)); echo "FAIL: $1: $2"; }
note() { echo "  # $*"; }
tb() { "$TCBPF" -n "$H" "$@"; }
hrun() { nsenter --net="/run/netns/$H" "$@"; }
has_link() { hrun ip link show "$1" >/dev/null 2>&1; }

cleanup() {
	[ -n "${MON:-}" ] && kill "$MON" 2>/dev/null
	tb detach "$DEV" >/dev/null 2>&1
	ip netns del "$H" 2>/dev/null
	ip netns del "$V" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

ip netns del "$H" 2>/dev/null
ip netns del "$V" 2>/dev/null
ip netns add "$H" && ip netns add "$V" &&
ip -n "$H" link add "$DEV" type veth peer name eth0 netns "$V" &&
ip -n "$H" link set "$DEV" up && ip -n "$V" link set eth0 up || {
	echo "FAIL: setup: cannot build the namespaces"
	exit 1
}

# Does this kernel have fq (and ifb)? Ask it on a scratch ifb.
KERNEL_FQ=0
if ip -n "$H" link add ing-probe type ifb 2>/dev/null; then
	tc -n "$H" qdisc add dev ing-probe root fq 2>/dev/null && KERNEL_FQ=1
	ip -n "$H" link del ing-probe
fi
# bpf_redirect() reaches an ifb from 6.4 on (user/lib/ingress.c)
KERNEL_REDIR=0
IFS=. read -r KMAJ KMIN _ <<<"$(uname -r)"
[ "$KMAJ" -gt 6 ] || { [ "$KMAJ" -eq 6 ] && [ "${KMIN%%[!0-9]*}" -ge 4 ]; } && KERNEL_REDIR=1
note "kernel $(uname -r): fq $([ $KERNEL_FQ = 1 ] && echo yes || echo no), bpf_redirect to ifb $([ $KERNEL_REDIR = 1 ] && echo yes || echo no)"
# what the refusal must quote: the kernel's words, or the version check
if [ $KERNEL_REDIR = 0 ]; then
	WORDS="it needs 6.4 or later"
else
	WORDS="Specified qdisc kind is unknown"
fi
CAN_PACE=$((KERNEL_FQ && KERNEL_REDIR))

# Another user's ifb: present before, after, and never touched.
ip -n "$H" link add "$FOREIGN" type ifb 2>/dev/null
FOREIGN_OK=$?

# Watch links come and go while ingress mode edt is tried.
hrun ip -o monitor link >"$WORK/mon" 2>&1 &
MON=$!
sleep 0.3

test_edt() {
	local out rc
	out=$(tb attach "$DEV" ingress mode edt 2>&1)
	rc=$?
	if [ $CAN_PACE = 0 ]; then
		if [ $rc -eq 0 ]; then
			fail "ingress mode edt refused where it cannot pace" "attach succeeded: $out"
		elif ! grep -q "ingress: mode edt needs the ifb device $IFB" <<<"$out" ||
		     ! grep -q "$WORDS" <<<"$out"; then
			fail "ingress mode edt refused where it cannot pace" "message: $out"
		else
			pass "ingress mode edt refused where it cannot pace, saying why"
		fi
		note "$(grep ingress <<<"$out")"
		if tb show "$DEV" >/dev/null 2>&1; then
			fail "refused attach leaves nothing" "$DEV has a limiter"
		elif has_link "$IFB"; then
			fail "refused attach leaves nothing" "$IFB left behind"
		else
			pass "refused attach leaves nothing (no limiter, no $IFB)"
		fi
		sleep 0.3
		if [ $KERNEL_REDIR = 0 ]; then
			if grep -q "$IFB" "$WORK/mon"; then
				fail "no $IFB made where redirects cannot reach it" "made"
			else
				pass "no $IFB made where redirects cannot reach it"
			fi
		elif grep -q "$IFB" "$WORK/mon" && grep -q "Deleted.*$IFB" "$WORK/mon"; then
			pass "$IFB created on need and removed after the failure"
		elif grep -q "$IFB" "$WORK/mon"; then
			fail "$IFB created on need and removed after the failure" \
				"created, never deleted"
		else
			fail "$IFB created on need and removed after the failure" \
				"never created (kernel without ifb?)"
		fi
		return
	fi
	if [ $rc -ne 0 ]; then
		fail "ingress mode edt paces with fq" "attach failed: $out"
		return
	fi
	out=$(tb show "$DEV" 2>&1)
	if grep -q "ingress edt.*paced through $IFB" <<<"$out" && has_link "$IFB" &&
	   hrun tc qdisc show dev "$IFB" | grep -q " fq "; then
		pass "ingress mode edt paces through $IFB with fq"
	else
		fail "ingress mode edt paces through $IFB with fq" "$out"
	fi
	tb detach "$DEV" >/dev/null 2>&1
	if has_link "$IFB"; then
		fail "$IFB removed with the last pacing device" "still there"
	else
		pass "$IFB removed with the last pacing device"
	fi
}

test_default_polices() {
	local out
	if ! out=$(tb attach "$DEV" 2>&1); then
		fail "default attach polices ingress" "attach failed: $out"
		return
	fi
	out=$(tb show "$DEV" 2>&1)
	if grep -q "ingress police" <<<"$out" && ! has_link "$IFB"; then
		pass "default attach polices ingress, no $IFB made"
	else
		fail "default attach polices ingress" "$out"
	fi
	if [ $CAN_PACE = 0 ]; then
		out=$(tb change "$DEV" ingress mode edt 2>&1)
		if [ $? -ne 0 ] && grep -q "$WORDS" <<<"$out" &&
		   tb show "$DEV" | grep -q "ingress police" && ! has_link "$IFB"; then
			pass "change to ingress mode edt refused, settings kept"
		else
			fail "change to ingress mode edt refused, settings kept" "$out"
		fi
	fi
	tb detach "$DEV" >/dev/null 2>&1
}

test_foreign_ifb() {
	if [ $FOREIGN_OK -ne 0 ]; then
		echo "SKIP: another user's ifb left alone: kernel without ifb"
		return
	fi
	if has_link "$FOREIGN" && ! hrun tc qdisc show dev "$FOREIGN" | grep -q fq &&
	   ! hrun tc filter show dev "$FOREIGN" egress 2>/dev/null | grep -q bpf; then
		pass "another user's ifb left alone"
	else
		fail "another user's ifb left alone" "$FOREIGN changed or gone"
	fi
}

test_edt
test_default_polices
test_foreign_ifb
[ $FOREIGN_OK -eq 0 ] && ip -n "$H" link del "$FOREIGN"
echo "$NPASS passed, $NFAIL failed"
[ $NFAIL -eq 0 ]
