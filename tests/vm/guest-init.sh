#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=dash
# /init of the vmtest guest (busybox sh, PID 1; /bin/sh is bash). vmtest.sh
# copies this file into the initramfs; changing it rebuilds the initramfs.
#
# Protocol with the host (tests/vm/vmtest.sh):
#   - 9p tag "vmtest" is a per-run control directory: config (REPO=, NONCE=)
#     and cmd.sh (the command, its environment and working directory);
#   - 9p tag "repo" is the repository, mounted at the same absolute path;
#   - "TCBPF-VMTEST-INIT" on the console: /init runs (for boot fallbacks);
#   - "TCBPF-VMTEST-RC-<nonce>=<n>" on the console: the command's exit status
#     (also written to the control directory as rc).

PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

# No console before devtmpfs: mount it first, then reopen stdio on it.
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec 0</dev/console 1>/dev/console 2>&1
echo "TCBPF-VMTEST-INIT"

# vmtest.sh -v boots with vmtest_debug=1 (the kernel hands it to /init).
dbg() {
	[ -n "${vmtest_debug:-}" ] || return 0
	read -r up _ </proc/uptime
	echo "vmtest-init: $* (uptime $up s)"
}

fail() {
	echo "vmtest-init: $*"
	echo "TCBPF-VMTEST-INIT-FAILED"
	poweroff -f
	exit 1
}

mount -t proc proc /proc || fail "mount /proc failed"
mount -t sysfs sysfs /sys || fail "mount /sys failed"
mkdir -p /dev/pts /dev/shm /sys/fs/bpf /run /tmp
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t bpf -o mode=700 bpffs /sys/fs/bpf || fail "mount bpffs failed"
mount -t tmpfs -o mode=755 tmpfs /run || fail "mount /run failed"
mount -t tmpfs -o mode=1777 tmpfs /tmp || fail "mount /tmp failed"
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
ln -sf /proc/mounts /etc/mtab
mkdir -p /run/netns /var/tmp /root
hostname vmtest

# Modules: one file per module asked for, listing "path [options]" lines in
# load order (made by vmtest.sh with modprobe --show-depends). The lists are
# loaded in parallel; a module another list loaded already is no error.
# shellcheck disable=SC3043 # busybox ash has local
load_list() {
	local mod opts out
	while read -r mod opts; do
		[ -n "$mod" ] || continue
		out=$(insmod "$mod" $opts 2>&1) ||
			case $out in
			*"File exists"*) ;;
			*) echo "vmtest-init: insmod $mod failed: $out" ;;
			esac
	done <"$1"
}
dbg "loading modules"
for f in /etc/vmtest/modules.d/*; do
	[ -r "$f" ] && load_list "$f" &
done
wait

dbg "modules loaded"
ip link set lo up || echo "vmtest-init: lo up failed"
# Socket buffer limits of the build machine (Debian's default is 208 KiB):
# tests/lib.sh asks iperf3 for 2 MB buffers (-w 2M) and fails below that.
echo 4194304 >/proc/sys/net/core/rmem_max
echo 4194304 >/proc/sys/net/core/wmem_max

p9opts=trans=virtio,version=9p2000.L,msize=262144
mkdir -p /run/vmtest
mount -t 9p -o "$p9opts" vmtest /run/vmtest ||
	fail "mount of the 9p control share (tag vmtest) failed"
[ -r /run/vmtest/config ] || fail "/run/vmtest/config missing"
. /run/vmtest/config
[ -n "$REPO" ] && [ -n "$NONCE" ] || fail "config lacks REPO or NONCE"
mkdir -p "$REPO"
mount -t 9p -o "$p9opts,cache=none" repo "$REPO" ||
	fail "mount of the repository (9p tag repo) at $REPO failed"
# python3's standard library, read-only (PYLIB= in config when shared):
# it does not change during a run, so the guest may cache it.
if [ -n "${PYLIB:-}" ]; then
	mkdir -p "$PYLIB"
	mount -t 9p -o "$p9opts,ro,cache=loose" pylib "$PYLIB" ||
		echo "vmtest-init: mount of python3's library (9p tag pylib) at $PYLIB failed"
fi

dbg "9p mounted, running the command"
cd "$REPO" || fail "cd $REPO failed"
if [ -x /usr/bin/bash ]; then
	/usr/bin/bash /run/vmtest/cmd.sh </dev/null
else
	sh /run/vmtest/cmd.sh </dev/null
fi
rc=$?
dbg "command exited with $rc"
cd /
echo "$rc" >/run/vmtest/rc
sync
umount "$REPO" 2>/dev/null
echo "TCBPF-VMTEST-RC-$NONCE=$rc"
umount /run/vmtest 2>/dev/null
poweroff -f
# poweroff failing leaves the kernel to panic (panic=-1, qemu -no-reboot).
exit "$rc"
