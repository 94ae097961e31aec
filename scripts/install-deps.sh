#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# install-deps.sh - install what tcbpf needs to build, test and demo.
#
# Idempotent: asks dpkg what is already installed and only calls apt-get
# (update first, then install) when something is missing. Mounts nothing,
# changes no other system state. Needs root only when it has to install.
set -eu

PKGS=(
	clang llvm			# BPF compiler, llvm-strip
	libclang-rt-14-dev		# clang's ASan/UBSan/libFuzzer runtimes (make
				# libfuzz); only recommended by clang-14
	libbpf-dev libelf-dev zlib1g-dev	# libbpf and what it links
	libmnl-dev			# netlink transport (user/kern/nl.c)
	bpftool				# skeletons, pins, dumps in tests
	iproute2			# ip, tc
	gcc make pkg-config		# user space build
	iperf3				# traffic in integration tests and demo
	python3				# JSON parsing in tests
	util-linux			# nsenter
	ethtool				# offload inspection in tests
	iputils-ping			# ping: ARP/ND in tests
	strace				# tests/killsweep.sh: kill -9 at every syscall
	libcurl4-openssl-dev		# export influx (push over HTTP)
	libmicrohttpd-dev		# export prometheus (serves /metrics)
	influxdb influxdb-client	# monitor tests: a real InfluxDB 1.x
	prometheus			# monitor tests: a real Prometheus
	prometheus-alertmanager		# alerts tests: a real Alertmanager, amtool
	libjson-c-dev			# the daemon's webhook: Alertmanager's JSON
	curl				# monitor tests: query the servers
	libmnl-dev			# rtnetlink: link events (kern/linkwatch)
	# packaging: make man, make deb, the pkg and man test suites
	scdoc				# man pages: docs/man/*.scd -> roff
	mandoc				# man page lint (mandoc -T lint)
	bash-completion			# completion dir (pkg-config), _tcbpf tests
	debhelper dpkg-dev fakeroot	# dpkg-buildpackage with dh 13
	lintian				# package checks
)

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${PKGS[@]}"; do
	installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PKGS[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing ${missing[*]}; run as root to install them" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for p in "${missing[@]}"; do
	if ! installed "$p"; then
		echo "install-deps: $p did not install" >&2
		exit 1
	fi
done
echo "install-deps: done"
