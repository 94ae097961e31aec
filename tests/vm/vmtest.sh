#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Run a command inside Debian's distribution kernel (linux-image-amd64, 6.1;
# with --kernel bpo, bookworm-backports' 6.12) under qemu, with the
# repository shared at the same absolute path.
#
#   tests/vm/vmtest.sh [OPTIONS] [--] [COMMAND [ARG...]]
#
# COMMAND (default: tests/vm/guest-default.sh) runs as root in the guest, in
# the repository root, with bash; its stdout and stderr reach this script's
# stdout line by line. The exit status is COMMAND's, or 1 when the guest
# did not report one (boot failure, crash, timeout). See tests/vm/README.md.
set -euo pipefail

# ---------------------------------------------------------------------------
# What goes into the guest: the one list to extend.
# ---------------------------------------------------------------------------
# Kernel modules, loaded at boot with their dependencies (in order).
GUEST_MODULES=(
	sch_fq sch_netem sch_prio sch_tbf sch_htb sch_sfq sch_ingress
	cls_u32 cls_bpf cls_route cls_fw cls_matchall
	act_police act_gact act_mirred act_skbedit
	veth ifb dummy tun bridge pktgen
	9p 9pnet_virtio virtio_pci virtio_net virtio_rng
)
# Options for modules (the host's modprobe.d is ignored).
declare -A GUEST_MODULE_OPTS=(
	[ifb]="numifbs=0"		# no ifb0/ifb1 ahead of tests' own
	[dummy]="numdummies=0"
)
# Programs, looked up on the host (sbin first), copied with the libraries
# ldd lists. "NAME:PACKAGE" installs PACKAGE on the host when NAME is missing.
GUEST_BINS=(
	busybox:busybox-static bash:bash
	ip:iproute2 tc:iproute2 ss:iproute2 bridge:iproute2
	iperf3:iperf3 bpftool:bpftool ethtool:ethtool
	nsenter:util-linux unshare:util-linux flock:util-linux
	python3:python3-minimal strace:strace
)
# python3's standard library (54 MB) is not copied: it is shared read-only
# over 9p (tag pylib) at the same path, so tests/lib.sh's helpers run in
# the guest. TCBPF_VM_PYLIB=DIR picks it, TCBPF_VM_PYLIB= leaves it out.
PYLIB=${TCBPF_VM_PYLIB-auto}
# Libraries the project's binaries need. Those that ./tcbpf and executables
# in $OUTPUT (two levels) link are added by ldd at each run: the binaries come
# over 9p, only their set of libraries counts for the initramfs.
GUEST_LIBS=(libbpf.so.1 libelf.so.1 libz.so.1)
# Plain files or directories copied as they are (missing ones are skipped).
GUEST_FILES=(/etc/iproute2 /usr/lib/x86_64-linux-gnu/tc /etc/services
	/etc/protocols /etc/ethertypes)

# Host programs this script needs, with the package that brings each.
HOST_TOOLS=(qemu-system-x86_64:qemu-system-x86 depmod:kmod modprobe:kmod
	busybox:busybox-static ldconfig:libc-bin ldd:libc-bin xz:xz-utils tar:tar
	dpkg-deb:dpkg apt-get:apt flock:util-linux setsid:util-linux
	timeout:coreutils)

# ---------------------------------------------------------------------------
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
CACHE=${TCBPF_VM_CACHE:-/var/cache/tcbpf-vm}
TIMEOUT=${TCBPF_VM_TIMEOUT:-1200}
BOOT=${TCBPF_VM_BOOT:-auto}		# auto | pvh | bzimage
ACCEL=${TCBPF_VM_ACCEL:-auto}		# auto | kvm | tcg
MEM=${TCBPF_VM_MEM:-2G}
SMP=${TCBPF_VM_SMP:-2}
KERNEL_PKG=${TCBPF_VM_KERNEL_PKG:-}	# e.g. linux-image-6.1.0-56-amd64
KFROM=${TCBPF_VM_KERNEL_FROM:-stable}	# stable | bpo (bookworm-backports)
INIT_WAIT=${TCBPF_VM_INIT_WAIT:-120}	# s for a boot to reach /init
read -r -a PASSENV <<<"V OUTPUT CI ${TCBPF_VM_PASSENV:-}"
read -r -a EXTRA_QEMU <<<"${TCBPF_VM_QEMU_ARGS:-}"
if [ -n "${TCBPF_VM_EXTRA_MODULES:-}" ]; then
	read -r -a _m <<<"$TCBPF_VM_EXTRA_MODULES"
	GUEST_MODULES+=("${_m[@]}")
fi
if [ -n "${TCBPF_VM_EXTRA_BINS:-}" ]; then
	read -r -a _b <<<"$TCBPF_VM_EXTRA_BINS"
	GUEST_BINS+=("${_b[@]}")
fi

ENVS=()
usage() {
	cat <<EOF
usage: tests/vm/vmtest.sh [OPTIONS] [--] [COMMAND [ARG...]]
Boots Debian's linux-image-amd64 kernel under qemu and runs COMMAND (default
tests/vm/guest-default.sh) as root in the repository root ($REPO),
shared into the guest at the same path. Exits with COMMAND's status.

  --timeout SECS     hard limit for the whole VM run (default $TIMEOUT)
  --env NAME=VALUE   set a variable for COMMAND (repeatable)
  --boot MODE        auto | pvh | bzimage (default $BOOT)
  --kernel FROM      stable: the host's apt sources' linux-image-amd64 (6.1);
                     bpo: bookworm-backports' (6.12), through a private apt
                     configuration under the cache (default $KFROM)
  --rebuild          rebuild the cached initramfs
  -v, --verbose      show boot progress and timings on stderr
  -h, --help         this text
Environment: TCBPF_VM_CACHE (default /var/cache/tcbpf-vm), TCBPF_VM_TIMEOUT,
TCBPF_VM_BOOT, TCBPF_VM_ACCEL (auto|kvm|tcg), TCBPF_VM_MEM, TCBPF_VM_SMP,
TCBPF_VM_KERNEL_PKG, TCBPF_VM_KERNEL_FROM (as --kernel), TCBPF_VM_EXTRA_MODULES, TCBPF_VM_EXTRA_BINS,
TCBPF_VM_PASSENV (names passed on, besides V OUTPUT CI), TCBPF_VM_QEMU_ARGS,
TCBPF_VM_APPEND (kernel command line), TCBPF_VM_VERBOSE=1 (as -v).
EOF
}

VERBOSE=${TCBPF_VM_VERBOSE:-0}
REBUILD=0
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) [ $# -ge 2 ] || { usage >&2; exit 2; }; TIMEOUT=$2; shift 2 ;;
	--timeout=*) TIMEOUT=${1#*=}; shift ;;
	--env) [ $# -ge 2 ] || { usage >&2; exit 2; }; ENVS+=("$2"); shift 2 ;;
	--env=*) ENVS+=("${1#*=}"); shift ;;
	--boot) [ $# -ge 2 ] || { usage >&2; exit 2; }; BOOT=$2; shift 2 ;;
	--boot=*) BOOT=${1#*=}; shift ;;
	--kernel) [ $# -ge 2 ] || { usage >&2; exit 2; }; KFROM=$2; shift 2 ;;
	--kernel=*) KFROM=${1#*=}; shift ;;
	--rebuild) REBUILD=1; shift ;;
	-v|--verbose) VERBOSE=1; shift ;;
	-h|--help) usage; exit 0 ;;
	--) shift; break ;;
	-*) echo "vmtest: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) break ;;
	esac
done
CMD=("$@")
if [ ${#CMD[@]} -eq 0 ]; then
	CMD=(tests/vm/guest-default.sh)
fi

case $TIMEOUT in ''|*[!0-9]*) echo "vmtest: bad --timeout '$TIMEOUT'" >&2; exit 2 ;; esac
case $BOOT in auto|pvh|bzimage) ;; *) echo "vmtest: bad boot mode '$BOOT'" >&2; exit 2 ;; esac
case $ACCEL in auto|kvm|tcg) ;; *) echo "vmtest: bad TCBPF_VM_ACCEL '$ACCEL'" >&2; exit 2 ;; esac
case $KFROM in stable|bpo) ;; *) echo "vmtest: bad --kernel '$KFROM' (stable or bpo)" >&2; exit 2 ;; esac
for e in "${ENVS[@]}"; do
	[[ $e =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] ||
		{ echo "vmtest: --env wants NAME=VALUE, got '$e'" >&2; exit 2; }
done

die() { echo "vmtest: error: $*" >&2; exit 1; }
log() { [ "$VERBOSE" = 1 ] && echo "vmtest: $*" >&2; return 0; }
T0=$(date +%s.%N)
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" = 0 ] || die "must run as root (qemu's 9p passthrough, apt-get)"

TMP=$(mktemp -d /tmp/tcbpf-vmtest.XXXXXX) || die "mktemp failed"
QPID=
cleanup() {
	if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
		kill "$QPID" 2>/dev/null || true
		wait "$QPID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# Host tools
# ---------------------------------------------------------------------------
APT_UPDATED=0
apt_update() {
	[ "$APT_UPDATED" = 1 ] && return 0
	echo "vmtest: apt-get update" >&2
	apt-get update -qq >&2 || die "apt-get update failed"
	APT_UPDATED=1
}

# The kernel's apt: the host's own, or for --kernel bpo a private
# configuration under the cache (its sources, lists and archives) that
# leaves the host's apt sources and lists as they are. KAPT holds the
# options every apt-get/apt-cache call about the kernel takes.
KAPT=()
KAPT_LISTS=/var/lib/apt/lists
BPO_SUITE=${TCBPF_VM_BPO_SUITE:-bookworm-backports}
BPO_MIRROR=${TCBPF_VM_BPO_MIRROR:-http://deb.debian.org/debian}
kapt_setup() {
	[ "$KFROM" = bpo ] || return 0
	local d=$CACHE/apt-bpo
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial" ||
		die "cannot create $d"
	echo "deb $BPO_MIRROR $BPO_SUITE main" >"$d/sources.list.new"
	if ! cmp -s "$d/sources.list.new" "$d/sources.list"; then
		mv "$d/sources.list.new" "$d/sources.list"
		rm -f "$d/lists/"*_Packages* "$d/lists/"*Release* 2>/dev/null
	else
		rm -f "$d/sources.list.new"
	fi
	# apt fetches as its _apt user: let it write there (spares a warning).
	chown -R _apt "$d/lists/partial" "$d/cache/archives/partial" 2>/dev/null || true
	KAPT=(-o "Dir::Etc::SourceList=$d/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache"
		-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
	KAPT_LISTS=$d/lists
}

KAPT_UPDATED=0
kapt_update() {
	if [ "$KFROM" != bpo ]; then
		apt_update
		return
	fi
	[ "$KAPT_UPDATED" = 1 ] && return 0
	echo "vmtest: apt-get update ($BPO_SUITE, private lists in $KAPT_LISTS)" >&2
	apt-get "${KAPT[@]}" update -qq >&2 || die "apt-get update of $BPO_SUITE failed"
	KAPT_UPDATED=1
}

apt_install() {
	echo "vmtest: installing host packages: $*" >&2
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2; then
		apt_update
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 ||
			die "apt-get install $* failed"
	fi
}

find_prog() {
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin command -v "$1" || true
}

# ensure_progs NAME:PKG... installs what is missing, in one apt-get call.
ensure_progs() {
	local want=() i name pkg
	for i in "$@"; do
		name=${i%%:*} pkg=${i#*:}
		[ -n "$(find_prog "$name")" ] || want+=("$pkg")
	done
	[ ${#want[@]} -eq 0 ] && return 0
	mapfile -t want < <(printf '%s\n' "${want[@]}" | sort -u)
	apt_install "${want[@]}"
	for i in "$@"; do
		name=${i%%:*}
		[ -n "$(find_prog "$name")" ] || die "$name still missing after installing ${i#*:}"
	done
}

ensure_progs "${HOST_TOOLS[@]}"

# ---------------------------------------------------------------------------
# Kernel: Debian's package, downloaded and unpacked (never installed).
# ---------------------------------------------------------------------------
mkdir -p "$CACHE/debs" "$CACHE/kernel" "$CACHE/initramfs" || die "cannot create cache $CACHE"
exec 9>"$CACHE/.lock"
flock 9 || die "cannot lock $CACHE/.lock"
kapt_setup

# Prints "PKG VERSION" of the kernel linux-image-amd64 stands for.
resolve_kernel() {
	local pkg=$KERNEL_PKG ver
	if [ -z "$pkg" ]; then
		pkg=$(apt-cache "${KAPT[@]}" depends linux-image-amd64 2>/dev/null |
			awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
	fi
	[ -n "$pkg" ] || return 1
	ver=$(apt-cache "${KAPT[@]}" policy "$pkg" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || return 1
	echo "$pkg $ver"
}

# apt-cache takes ~1.5 s: remember its answer until apt's lists change.
RESOLVED=$CACHE/kernel/resolved
[ "$KFROM" = stable ] || RESOLVED=$CACHE/kernel/resolved-$KFROM
resolve_cached() {
	[ -s "$RESOLVED" ] && [ ! "$KAPT_LISTS" -nt "$RESOLVED" ] || return 1
	[ "$(head -n1 "$RESOLVED")" = "pin=${KERNEL_PKG:-}" ] || return 1
	sed -n 2p "$RESOLVED"
}

if kinfo=$(resolve_cached) && [ -n "$kinfo" ]; then
	:
elif kinfo=$(resolve_kernel); then
	printf 'pin=%s\n%s\n' "${KERNEL_PKG:-}" "$kinfo" >"$RESOLVED"
else
	kapt_update
	if ! kinfo=$(resolve_kernel); then
		# Offline with a cache: take the newest kernel already unpacked
		# (of the same origin: backports' versions have "bpo").
		if [ "$KFROM" = bpo ]; then
			k=$(cd "$CACHE/kernel" && ls -td linux-image-*bpo*/ 2>/dev/null | head -n1)
		else
			k=$(cd "$CACHE/kernel" && ls -td linux-image-*/ 2>/dev/null | grep -v bpo | head -n1)
		fi
		k=${k%/}
		[ -n "$k" ] || die "apt knows no linux-image-amd64 kernel (${KERNEL_PKG:-linux-image-amd64}) and the cache is empty"
		echo "vmtest: warning: apt cannot resolve the kernel, using cached $k" >&2
		kinfo="${k%_*} ${k##*_}"
	else
		printf 'pin=%s\n%s\n' "${KERNEL_PKG:-}" "$kinfo" >"$RESOLVED"
	fi
fi
KPKG=${kinfo% *} KPVER=${kinfo#* }
KVER=${KPKG#linux-image-}			# 6.1.0-56-amd64
KID=${KPKG}_${KPVER//:/%3a}
KDIR=$CACHE/kernel/$KID
DEB=$CACHE/debs/${KID}_amd64.deb

fetch_deb() {
	[ -s "$DEB" ] && return 0
	log "downloading $KPKG=$KPVER"
	local d
	d=$(mktemp -d "$CACHE/debs/.dl.XXXXXX")
	# apt fetches as its _apt user: let it write there (spares a warning).
	chown _apt "$d" 2>/dev/null || true
	if ! (cd "$d" && apt-get "${KAPT[@]}" download -qq "$KPKG=$KPVER" >&2); then
		kapt_update
		(cd "$d" && apt-get "${KAPT[@]}" download -qq "$KPKG=$KPVER" >&2) ||
			{ rm -rf "$d"; die "apt-get download $KPKG=$KPVER failed"; }
	fi
	mv "$d"/*.deb "$DEB" || { rm -rf "$d"; die "download of $KPKG left no .deb"; }
	rm -rf "$d"
}

# Hardware driver trees a qemu test guest never needs: not unpacked (they are
# half the package, and the unpacking is the slow part of a rebuild).
DEB_SKIP=(gpu media infiniband scsi staging usb hid input bluetooth iio mtd
	isdn net/wireless net/ethernet)

# unpack_kernel_deb: the package's boot/ and modules in $KX, once a run.
KX=$TMP/kdeb
unpack_kernel_deb() {
	[ -d "$KX/lib/modules/$KVER" ] && return 0
	fetch_deb
	local ex=(--exclude="./lib/modules/$KVER/kernel/sound")
	for d in "${DEB_SKIP[@]}"; do
		ex+=(--exclude="./lib/modules/$KVER/kernel/drivers/$d")
	done
	mkdir -p "$KX"
	dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$KX" "${ex[@]}" ./boot ./lib/modules ||
		die "unpacking $DEB failed"
	[ -d "$KX/lib/modules/$KVER" ] || die "$DEB has no lib/modules/$KVER"
}

# extract_vmlinux BZIMAGE OUT: the uncompressed ELF inside a bzImage (as the
# kernel's scripts/extract-vmlinux does), for a direct PVH boot.
extract_vmlinux() {
	local off
	for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$1" | cut -d: -f1); do
		# (xz stops after its stream: tail's SIGPIPE must not count)
		if xz -dc --single-stream <(tail -c +$((off + 1)) "$1") >"$2" 2>/dev/null &&
			[ "$(head -c 4 "$2" | od -An -c | tr -d ' ')" = '177ELF' ]; then
			return 0
		fi
	done
	rm -f "$2"
	return 1
}

if [ ! -s "$KDIR/vmlinuz" ]; then
	log "unpacking kernel $KID"
	x=$KX
	unpack_kernel_deb
	rm -rf "$KDIR.tmp"
	mkdir -p "$KDIR.tmp"
	cp "$x/boot/vmlinuz-$KVER" "$KDIR.tmp/vmlinuz" || die "no boot/vmlinuz-$KVER in $DEB"
	cp "$x/boot/config-$KVER" "$KDIR.tmp/config" || true
	rm -rf "$KDIR"
	mv "$KDIR.tmp" "$KDIR"
fi
if [ ! -s "$KDIR/vmlinux" ] && [ ! -e "$KDIR/no-vmlinux" ]; then
	if extract_vmlinux "$KDIR/vmlinuz" "$KDIR/vmlinux.tmp"; then
		mv "$KDIR/vmlinux.tmp" "$KDIR/vmlinux"
	else
		echo "vmtest: warning: no xz ELF payload in vmlinuz: bzImage boot only" >&2
		touch "$KDIR/no-vmlinux"
	fi
fi

# ---------------------------------------------------------------------------
# Initramfs: busybox, real tools with their libraries, modules, /init.
# Cached under a hash of everything that goes in (not the repository).
# ---------------------------------------------------------------------------
ensure_progs "${GUEST_BINS[@]}"
if [ "$PYLIB" = auto ]; then
	p=$(readlink -f "$(find_prog python3)")
	PYLIB=/usr/lib/${p##*/}		# /usr/bin/python3.11 -> /usr/lib/python3.11
fi

# The programs and libraries asked for, as host paths.
guest_roots() {
	local i p ldcache out=${OUTPUT:-.output}
	[[ $out == /* ]] || out=$REPO/$out
	# (ld.so --list is ldd without its script: 8 times faster; it crashes on
	# a static program, hence the subshell that hides that.)
	find "$REPO/tcbpf" "$out" -maxdepth 2 -type f -perm -u+x 2>/dev/null |
		while IFS= read -r p; do
			(/lib64/ld-linux-x86-64.so.2 --list "$p") 2>/dev/null || true
		done | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'
	for i in "${GUEST_BINS[@]}"; do
		find_prog "${i%%:*}"
	done
	ldcache=$(ldconfig -p)
	for i in "${GUEST_LIBS[@]}"; do
		p=$(awk -v n="$i" '$1 == n && /x86-64/ { print $NF; exit }' <<<"$ldcache")
		if [ -n "$p" ]; then
			echo "$p"
		else
			echo "vmtest: warning: library $i not on the host, left out" >&2
		fi
	done
}

# Each host file copied into the guest, one per line: ROOTS, the files their
# symlinks point to, the libraries ldd lists, GUEST_FILES.
guest_manifest() {
	local p
	for p in "$@"; do
		echo "$p"
		[ "$(readlink -f "$p")" = "$p" ] || readlink -f "$p"
		ldd "$p" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' || true
	done
	for p in "${GUEST_FILES[@]}"; do
		[ -e "$p" ] && find -L "$p" -type f
	done
	return 0
}

# Host file SRC to STAGE at the same path; a symlink stays one, to its
# target (copied too).
stage_copy() {
	local src=$1 dst=$STAGE$1 t
	[ -e "$dst" ] || [ -L "$dst" ] && return 0
	[ -d "${dst%/*}" ] || mkdir -p "${dst%/*}"
	if [ -L "$src" ]; then
		t=$(readlink -f "$src")
		stage_copy "$t"
		[ -e "$dst" ] || ln -s "$t" "$dst"
		return 0
	fi
	cp --preserve=mode "$src" "$dst" || die "copy of $src into the initramfs failed"
}

build_initramfs() {
	local x=$KX i p name line mod
	STAGE=$TMP/stage
	rm -rf "$STAGE"
	mkdir -p "$STAGE"/{usr/bin,usr/sbin,usr/lib,usr/lib64,etc/vmtest,dev,proc,sys,run,tmp,root,var}
	ln -s usr/bin "$STAGE/bin"
	ln -s usr/sbin "$STAGE/sbin"
	ln -s usr/lib "$STAGE/lib"
	ln -s usr/lib64 "$STAGE/lib64"
	ln -s ../run "$STAGE/var/run"

	# Files and libraries, then the programs' names where PATH finds them.
	local names=()
	while IFS= read -r p; do
		[ -n "$p" ] && stage_copy "$p"
	done <<<"$MANIFEST"
	for i in "${GUEST_BINS[@]}"; do
		name=${i%%:*}
		names+=("$name")
		p=$(find_prog "$name")
		stage_copy "$p"
	done
	# busybox applets where no real program of that name is in the guest:
	# its ip/tc/nsenter must not shadow the real ones.
	while IFS= read -r p; do
		name=${p##*/}
		[[ " ${names[*]} " == *" $name "* ]] && continue
		[ -e "$STAGE/$p" ] || [ -L "$STAGE/$p" ] && continue
		[ -d "$STAGE/${p%/*}" ] || mkdir -p "$STAGE/${p%/*}"
		ln -s /usr/bin/busybox "$STAGE/$p"
	done < <(busybox --list-full)
	# /bin/sh is bash: busybox sh runs its own applets before PATH, so
	# system("ip ...") / sh -c "tc ..." would get busybox's ip and tc.
	ln -sf bash "$STAGE/usr/bin/sh"

	cat >"$STAGE/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/bin/bash
		nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
	EOF
	cat >"$STAGE/etc/group" <<-'EOF'
		root:x:0:
		nogroup:x:65534:
	EOF
	printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$STAGE/etc/hosts"
	echo 'hosts: files' >"$STAGE/etc/nsswitch.conf"
	printf '/usr/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n' >"$STAGE/etc/ld.so.conf"
	ldconfig -r "$STAGE" 2>/dev/null || echo "vmtest: warning: ldconfig -r failed" >&2

	# Modules: the package's tree, depmod, then the load order of the list.
	unpack_kernel_deb
	depmod -b "$x" "$KVER" || die "depmod -b $x $KVER failed"
	mkdir -p "$TMP/noconf" "$STAGE/etc/vmtest/modules.d"
	local n=0 list
	for mod in "${GUEST_MODULES[@]}"; do
		n=$((n + 1))
		list=$STAGE/etc/vmtest/modules.d/$(printf '%02d' "$n")-$mod
		: >"$list"
		local deps
		deps=$(modprobe -C "$TMP/noconf" -d "$x" -S "$KVER" --show-depends "$mod" 2>&1) ||
			die "module $mod not found in $KPKG: $deps"
		while read -r line; do
			set -- $line
			[ "${1:-}" = insmod ] || continue	# "builtin NAME": nothing to load
			p=${2#"$x"}
			name=${p##*/}
			name=${name%.ko*}
			name=${name//-/_}
			[ -d "$STAGE${p%/*}" ] || mkdir -p "$STAGE${p%/*}"
			# 6.12's modules are .ko.xz, which the guest's busybox
			# insmod may not read: stored uncompressed
			case $p in
			*.ko.xz)
				[ -e "$STAGE${p%.xz}" ] ||
					xz -dc "$x$p" >"$STAGE${p%.xz}" ||
					die "decompressing $p failed"
				p=${p%.xz} ;;
			*) [ -e "$STAGE$p" ] || cp "$x$p" "$STAGE$p" ;;
			esac
			echo "$p ${GUEST_MODULE_OPTS[$name]:-}" >>"$list"

		done <<<"$deps"
	done
	local md=/lib/modules/$KVER
	cp "$x$md"/modules.{order,builtin,builtin.modinfo} "$STAGE$md/" 2>/dev/null || true
	depmod -b "$STAGE" "$KVER" 2>/dev/null || true
	rm -rf "$x"

	install -m 755 "$INIT_SRC" "$STAGE/init"

	(cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort | busybox cpio -o -H newc 2>/dev/null) \
		>"$INITRD.tmp" || die "packing the initramfs failed"
	mv "$INITRD.tmp" "$INITRD"
	rm -rf "$STAGE"
}

# ldd over everything takes ~1 s: the manifest is cached under the state of
# its roots (a library updated in place is still caught by IHASH's stat).
mapfile -t ROOTS < <(guest_roots | sort -u)
mkey=$({
	printf '%s\n' "${GUEST_FILES[@]}"
	declare -f guest_manifest
	stat -L -c '%n %s %Y' "${ROOTS[@]}" "${GUEST_FILES[@]}" 2>/dev/null
} | sha256sum | cut -c1-16)
MFILE=$CACHE/initramfs/manifest-$mkey
if [ ! -s "$MFILE" ]; then
	guest_manifest "${ROOTS[@]}" | sort -u >"$MFILE.tmp"
	mv "$MFILE.tmp" "$MFILE"
	ls -t "$CACHE/initramfs"/manifest-* 2>/dev/null | tail -n +9 | xargs -r rm -f
fi
MANIFEST=$(cat "$MFILE")
INIT_SRC=$HERE/guest-init.sh
[ -r "$INIT_SRC" ] || die "missing $INIT_SRC"
mods_key=$(for m in "${GUEST_MODULES[@]}"; do echo "$m ${GUEST_MODULE_OPTS[$m]:-}"; done)
IHASH=$({
	echo "$KID"
	echo "$mods_key"
	cat "$INIT_SRC"
	declare -f build_initramfs stage_copy
	# shellcheck disable=SC2086
	stat -L -c '%n %s %Y' $MANIFEST
} | sha256sum | cut -c1-16)
INITRD=$CACHE/initramfs/$KID-$IHASH.cpio

if [ "$REBUILD" = 1 ] || [ ! -s "$INITRD" ]; then
	log "building initramfs $(basename "$INITRD")"
	build_initramfs
	log "initramfs built at $(elapsed) s ($(du -h "$INITRD" | cut -f1))"
	# Keep the newest few (and any a parallel run may be booting).
	ls -t "$CACHE/initramfs"/*.cpio 2>/dev/null | tail -n +5 |
		xargs -r -I{} find {} -mmin +60 -delete
fi
touch "$INITRD"
flock -u 9
exec 9>&-

# ---------------------------------------------------------------------------
# Boot
# ---------------------------------------------------------------------------
NONCE=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
CTL=$TMP/ctl
mkdir -p "$CTL"
{
	printf 'REPO=%q\n' "$REPO"
	printf 'NONCE=%q\n' "$NONCE"
	[ -z "$PYLIB" ] || printf 'PYLIB=%q\n' "$PYLIB"
} >"$CTL/config"
# The smoke check (guest-default.sh, the default command or run by another)
# loads a tiny tc program: build it here, where clang is, into the control
# share (/run/vmtest in the guest). Cached; given to every command.
SMOKE_ENV=
build_smoke() {
	[ -s "$1" ] && return 0
	clang -g -O2 -target bpf -mcpu=v3 -I"/usr/include/$(uname -m)-linux-gnu" \
		-c "$HERE/smoke.bpf.c" -o "$TMP/smoke.o" 2>"$TMP/clang.err" &&
		mv "$TMP/smoke.o" "$1"
}
if command -v clang >/dev/null; then
	smoke=$CACHE/smoke-$(sha256sum "$HERE/smoke.bpf.c" | cut -c1-16).bpf.o
	if build_smoke "$smoke"; then
		cp "$smoke" "$CTL/smoke.bpf.o"
		SMOKE_ENV="export TCBPF_VM_SMOKE_OBJ=/run/vmtest/smoke.bpf.o"
	else
		echo "vmtest: warning: building tests/vm/smoke.bpf.c failed:" >&2
		cat "$TMP/clang.err" >&2 || true
	fi
fi
{
	echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
	echo 'export HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb LANG=C'
	echo "export TCBPF_IN_VM=1 TCBPF_VM_KERNEL=$KVER"
	[ -z "$SMOKE_ENV" ] || echo "$SMOKE_ENV"
	for n in "${PASSENV[@]}"; do
		if [ -n "${!n+x}" ]; then
			printf 'export %s=%q\n' "$n" "${!n}"
		fi
	done
	for e in "${ENVS[@]}"; do
		printf 'export %s=%q\n' "${e%%=*}" "${e#*=}"
	done
	printf 'cd %q || exit 126\n' "$REPO"
	printf 'exec'
	printf ' %q' "${CMD[@]}"
	echo
} >"$CTL/cmd.sh"

APPEND="console=ttyS0 panic=-1 quiet mitigations=off 8250.nr_uarts=1 i8042.noaux i8042.nokbd ${TCBPF_VM_APPEND:-}"
[ "$VERBOSE" = 1 ] && APPEND+=" vmtest_debug=1"
KVM_OK=0
if grep -qwE 'vmx|svm' /proc/cpuinfo && [ -w /dev/kvm ]; then
	KVM_OK=1
fi
PVH_BAD=$KDIR/pvh-failed
PYSHARE=()
if [ -n "$PYLIB" ]; then
	[ -r "$PYLIB/os.py" ] || die "no python3 standard library in $PYLIB (set TCBPF_VM_PYLIB)"
	PYSHARE=(-virtfs "local,path=${PYLIB//,/,,},mount_tag=pylib,security_model=none,readonly=on")
fi

attempts=()
accels=()
case $ACCEL in
auto) [ "$KVM_OK" = 1 ] && accels+=(kvm); accels+=(tcg) ;;
*) accels=("$ACCEL") ;;
esac
for a in "${accels[@]}"; do
	case $BOOT in
	auto)
		if [ -s "$KDIR/vmlinux" ] && [ ! -e "$PVH_BAD" ]; then
			attempts+=("$a pvh")
		fi
		attempts+=("$a bzimage") ;;
	pvh)
		[ -s "$KDIR/vmlinux" ] || die "no vmlinux extracted from $KDIR/vmlinuz for PVH"
		attempts+=("$a pvh") ;;
	bzimage) attempts+=("$a bzimage") ;;
	esac
done

CONSOLE=$TMP/console.log
RC=

# The console filter: drops the protocol lines, records them in files,
# passes the rest on as it comes. mawk needs -W interactive not to wait for a
# full input buffer.
AWK=(awk)
awk -W version 2>&1 | grep -q mawk && AWK=(awk -W interactive)
# shellcheck disable=SC2016
FILTER='
{
	sub(/\r$/, "")
	print > logf
	if ((i = index($0, marker)) > 0) {
		if (i > 1) { print substr($0, 1, i - 1); fflush() }
		rc = substr($0, i + length(marker)); sub(/[^0-9].*/, "", rc)
		print rc > rcf; close(rcf); done = 1
		next
	}
	if ($0 == "TCBPF-VMTEST-INIT") { print "" > initf; close(initf); next }
	if (done && $0 ~ /reboot: (Power down|Restarting system)/) next
	print; fflush()
}'

# Running, not a zombie waiting to be reaped.
alive() {
	local st
	read -r _ _ st _ 2>/dev/null <"/proc/$1/stat" || return 1
	[ "$st" != Z ]
}

# boot_once ACCEL BOOT: 0 = COMMAND's status is in RC, 2 = the guest never
# reached /init (worth another way), 1 = anything else.
boot_once() {
	local accel=$1 boot=$2 kernel cpu fifo=$TMP/console.fifo
	case $boot in
	pvh) kernel=$KDIR/vmlinux ;;
	*) kernel=$KDIR/vmlinuz ;;
	esac
	case $accel in
	kvm) cpu=host ;;
	*) cpu=max ;;
	esac
	# shellcheck disable=SC2054
	local qemu=(qemu-system-x86_64 -nodefaults -no-user-config -no-reboot
		-machine pc -accel "$accel" -cpu "$cpu" -m "$MEM" -smp "$SMP"
		-display none -monitor none
		-chardev stdio,id=con,signal=off -serial chardev:con
		-kernel "$kernel" -initrd "$INITRD" -append "$APPEND"
		-virtfs "local,path=${REPO//,/,,},mount_tag=repo,security_model=passthrough,multidevs=remap"
		-virtfs "local,path=${CTL//,/,,},mount_tag=vmtest,security_model=passthrough"
		-device virtio-rng-pci
		"${PYSHARE[@]}"
		"${EXTRA_QEMU[@]}")
	rm -f "$fifo" "$CTL/rc" "$TMP/init" "$TMP/rc"
	mkfifo "$fifo" "$TMP/tick"
	exec 6<>"$TMP/tick"
	local left=$((TIMEOUT - SECONDS))
	[ "$left" -gt 0 ] || left=1
	log "boot at $(elapsed) s: $accel, $boot kernel, ${left}s left"
	# timeout(1) is a backstop that ends qemu even if this script is killed
	# outright; the loop below is the real limit.
	setsid timeout -k 5 $((left + 15)) "${qemu[@]}" </dev/null >"$fifo" 2>"$TMP/qemu.err" &
	QPID=$!
	"${AWK[@]}" -v marker="TCBPF-VMTEST-RC-$NONCE=" -v logf="$CONSOLE" \
		-v rcf="$TMP/rc" -v initf="$TMP/init" "$FILTER" <"$fifo" &
	local apid=$! start=$SECONDS init=0
	while alive "$QPID"; do
		if [ "$init" = 0 ] && [ -e "$TMP/init" ]; then
			init=1
			log "/init reached at $(elapsed) s ($boot, $accel)"
		fi
		if [ "$init" = 0 ] && [ $((SECONDS - start)) -ge "$INIT_WAIT" ]; then
			echo "vmtest: the $boot boot did not reach /init in ${INIT_WAIT}s" >&2
			kill "$QPID" 2>/dev/null || true
			break
		fi
		if [ "$SECONDS" -ge "$TIMEOUT" ]; then
			echo "vmtest: timeout: no exit status after ${TIMEOUT}s, stopping qemu" >&2
			kill "$QPID" 2>/dev/null || true
			break
		fi
		read -r -t 0.2 -u 6 || true	# a sleep without a process
	done
	exec 6>&-
	rm -f "$TMP/tick"
	local qrc=0
	# bash may have reaped it already ("not a child of this shell" on
	# stderr, which would end the log after the guest's summary line and
	# make make-vmtest.sh count the run as unfinished): its status is
	# only logged, the guest's own is what counts
	wait "$QPID" 2>/dev/null || qrc=$?
	QPID=
	wait "$apid" || true
	[ -e "$TMP/init" ] && init=1
	log "qemu exited ($qrc) at $(elapsed) s"
	RC=
	[ -s "$TMP/rc" ] && RC=$(head -n1 "$TMP/rc")
	# The control share has it too, should the console have garbled it.
	[ -n "$RC" ] || { [ -s "$CTL/rc" ] && RC=$(head -n1 "$CTL/rc"); } || true
	if [ -n "$RC" ]; then
		log "guest reported status $RC"
		return 0
	fi
	if [ -s "$TMP/qemu.err" ]; then
		sed 's/^/qemu: /' "$TMP/qemu.err" >&2
	fi
	[ "$init" = 1 ] && return 1
	return 2
}

status=1
SECONDS=0
for a in "${attempts[@]}"; do
	set -- $a
	st=0
	boot_once "$1" "$2" || st=$?
	if [ "$st" = 0 ]; then
		if [ "$2" = bzimage ] && [ "$BOOT" = auto ] && [ -s "$KDIR/vmlinux" ] &&
			[ ! -e "$PVH_BAD" ] && [ "${tried_pvh:-0}" = 1 ]; then
			touch "$PVH_BAD"	# PVH failed where bzImage works: stop trying
		fi
		status=0
		break
	fi
	[ "$2" = pvh ] && tried_pvh=1
	[ "$st" = 2 ] || break
	[ $SECONDS -lt "$TIMEOUT" ] || break
	echo "vmtest: $1/$2 boot did not reach /init; trying the next way" >&2
done

if [ "$status" != 0 ]; then
	echo "vmtest: error: the guest reported no exit status (see the console lines above); last console lines:" >&2
	tail -n 30 "$CONSOLE" 2>/dev/null | sed 's/^/  | /' >&2 || true
	exit 1
fi
log "done in $(elapsed) s, command exit status $RC"
exit "$RC"
