#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/pkg.sh - what an operator installs: man pages, bash completion and
# the Debian package.
#
#   tests/pkg.sh man         the pages build and lint clean, and tcbpf(8)
#                            has an entry for every command of `tcbpf help`,
#                            every SPEC key and direction word, and names
#                            every JSON key of README's JSON section; the
#                            example configuration loads (conf_example_test)
#   tests/pkg.sh completion  _tcbpf's answers at several positions, with
#                            devices and network ids from a namespace of
#                            its own (-n)
#   tests/pkg.sh deb         make install/uninstall into a DESTDIR; make
#                            deb, lintian, then the package installed
#                            into a throwaway root with dpkg --root, its
#                            units verified, its binary run (attach/detach
#                            in a namespace of its own), removed and purged
#                            (with and without recorded clamps)
#
# Prints PASS/FAIL/SKIP lines (tests/run.sh counts them). Needs root for
# the namespace and the package root; leaves nothing behind, also when a
# check fails (trap).
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${OUTPUT:-.output}
TCBPF=${TCBPF:-$ROOT/tcbpf}

NPASS=0 NFAIL=0
pass() { NPASS=$((NPASS + 1)); echo "PASS: $1"; }
fail() { NFAIL=$((NFAIL + 1)); echo "FAIL: $1: $2"; }
skip() { echo "SKIP: $1: $2"; }
note() { echo "  # $*"; }

# check NAME WHY-IF-NOT COMMAND...: PASS when COMMAND succeeds
check() {
	local name=$1 why=$2
	shift 2
	if "$@"; then pass "$name"; else fail "$name" "$why"; fi
}

# A namespace of our own, with a VM tap and a VXLAN device of network 0abc.
# Fixed, unusual ifindexes: tcbpf refuses an ifindex that has a limiter in
# another namespace, and other tests' fresh namespaces start at 2.
NS=tcbpf-pkg-$$
NS_DEV=vm-7-0abc
NS_UP=
WORK=$(mktemp -d /tmp/tcbpf-pkg.XXXXXX)

cleanup() {
	# the devices go with the namespace; the attach test's pins went
	# with its mount namespace
	[ -n "$NS_UP" ] && ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

ns_up() {
	ip netns add "$NS" || return 1
	NS_UP=1
	# a veth pair (the machine has no dummy module) stands for both
	ip -n "$NS" link add "$NS_DEV" index 31987 type veth \
			peer name vx-0abc index 31988 &&
		ip -n "$NS" link set "$NS_DEV" up &&
		ip -n "$NS" link set vx-0abc up
}

# help_cmds: the commands `tcbpf help` lists; help_keys: its SPEC keys;
# help_dirs: its direction words
help_cmds() { "$TCBPF" help | sed -n 's/^  tcbpf \([a-z][a-z-]*\).*/\1/p' | sort -u; }
help_keys() {
	"$TCBPF" help | sed -n '/^KEY  :=/,/^PORTS/p' | sed '$d' |
		sed -e 's/^KEY  :=//' -e 's/{[^}]*}//g' | tr '|' '\n' | awk 'NF { print $1 }' | sort -u
}
help_dirs() {
	"$TCBPF" help | sed -n 's/^SPEC := { \[\(.*\)\].*/\1/p' | tr -d '|' |
		tr -s ' ' '\n' | sed '/^$/d'
}

# ------------------------------------------------------------------- man

# render PAGE: plain text, wide, no overstriking
render() { MANWIDTH=200 man -E UTF-8 -l "$1" 2>/dev/null | col -b; }

# section TEXT NAME: the lines of section NAME of a rendered page
section() { awk -v s="$1" '/^[A-Z]/ { on = ($0 == s) ; next } on'; }

# has_entry FILE SECTION WORD: WORD starts a tagged entry of SECTION
has_entry() {
	section <"$1" "$2" | grep -q -E "^ {7}$(printf '%s' "$3" | sed 's/[.]/\\./g')( |\$)"
}

test_man() {
	local p name out missing w text=$WORK/tcbpf.8.txt

	make -s man >/dev/null || { fail man-build "make man failed"; return; }
	[ -x "$TCBPF" ] || { fail man-help "$TCBPF not built"; return; }
	for p in "$OUT"/man/*.[0-9]; do
		name=${p##*/}
		# groff's warnings: what lintian and man(1) users see
		out=$(LC_ALL=C.UTF-8 man --warnings -E UTF-8 -l "$p" 2>&1 >/dev/null)
		check "man-groff-$name" "man --warnings: $out" [ -z "$out" ]
		# mandoc: every warning and error, but scdoc's habit of a .PP
		# right after .SH or after another .PP (nothing is printed for
		# it either way)
		out=$(mandoc -T lint -W warning "$p" 2>&1 |
			grep -v -E 'skipping paragraph macro: PP (empty|after SH)')
		check "man-mandoc-$name" "mandoc -T lint: $out" [ -z "$out" ]
	done

	render "$OUT/man/tcbpf.8" >"$text"
	missing=
	for w in $(help_cmds) net; do
		has_entry "$text" COMMANDS "$w" || missing="$missing $w"
	done
	check man-commands "no COMMANDS entry in tcbpf.8 for:$missing" [ -z "$missing" ]
	note "commands: $(help_cmds | tr '\n' ' ')"

	missing=
	for w in $(help_keys) $(help_dirs); do
		has_entry "$text" SPEC "$w" || missing="$missing $w"
	done
	check man-spec-keys "no SPEC entry in tcbpf.8 for:$missing" [ -z "$missing" ]
	note "keys: $(help_keys | tr '\n' ' ')"
	[ "$(help_keys | wc -l)" -ge 13 ] ||
		fail man-spec-keys-parsed "only $(help_keys | wc -l) keys read from tcbpf help"

	# every unit suffix of lib/units.c's tables
	missing=
	for w in $(sed -n 's/^\t{ "\([a-z]\{1,\}\)",.*/\1/p' user/lib/units.c | sort -u); do
		section <"$text" UNITS | grep -q -w -- "$w" || missing="$missing $w"
	done
	check man-units "UNITS of tcbpf.8 lacks:$missing" [ -z "$missing" ]
	note "units: $(sed -n 's/^\t{ "\([a-z]\{1,\}\)",.*/\1/p' user/lib/units.c | wc -l) suffixes"

	# README's JSON section is the contract for -j: every key it names
	missing=
	for w in $(sed -n '/^### JSON/,/^## /p' README.md | grep -o '`[a-z_.]*`' |
			tr -d '`' | sort -u); do
		grep -q -F -w -- "$w" "$text" || missing="$missing $w"
	done
	check man-json-keys "tcbpf.8 does not name JSON keys:$missing" [ -z "$missing" ]

	# the example configuration the package ships loads and means what
	# it says (policy.c, SPECs checked)
	if make -s "$OUT/tests/conf_example_test" >/dev/null; then
		mkdir -p "$WORK/conf"
		cp scripts/tcbpf.conf.example "$WORK/conf/example.conf"
		"$OUT/tests/conf_example_test" "$WORK/conf" || :
	else
		fail conf-example-build "make $OUT/tests/conf_example_test failed"
	fi

	missing=
	for w in "EXIT STATUS" FILES EXAMPLES UNITS; do
		grep -q "^$w" "$text" || missing="$missing $w"
	done
	check man-sections "tcbpf.8 lacks sections:$missing" [ -z "$missing" ]
	missing=
	for w in /sys/fs/bpf/tcbpf/ /run/tcbpf.lock /run/tcbpf/ \
		 /var/lib/tcbpf/clamps "/etc/tcbpf/*.conf"; do
		section <"$text" FILES | grep -q -F -- "$w" || missing="$missing $w"
	done
	check man-files "FILES of tcbpf.8 lacks:$missing" [ -z "$missing" ]
}

# ------------------------------------------------------------ completion

# comp WORD...: run _tcbpf as bash would with the cursor on the last WORD;
# prints COMPREPLY, one per line, sorted
comp() {
	bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_tcbpf tcbpf "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"' \
		bash "$ROOT/scripts/tcbpf.bash-completion" "$@" | sed '/^$/d' | sort
}

# comp_is NAME EXPECTED WORD...: COMPREPLY is exactly EXPECTED (words)
comp_is() {
	local name=$1 want got
	want=$(printf '%s\n' $2 | sort)
	shift 2
	got=$(comp "$@")
	check "$name" "tcbpf ${*:2}|: got [$(echo $got)], want [$(echo $want)]" \
		[ "$got" = "$want" ]
}

# comp_has NAME "WORDS" WORD...: COMPREPLY contains every one of WORDS
comp_has() {
	local name=$1 want=$2 got w missing=
	shift 2
	got=$(comp "$@")
	for w in $want; do
		grep -q -x -F -- "$w" <<<"$got" || missing="$missing $w"
	done
	check "$name" "tcbpf ${*:2}|: missing$missing in [$(echo $got)]" [ -z "$missing" ]
}

# the network ids of this namespace's device names, as the completion
# should find them (computed here independently, with a regex)
host_netids() {
	ls /sys/class/net | sed -n -E \
		's/^(vm-[^-]+-|vx-|spc-|pub-)([0-9a-fA-F]+)$/\2/p' | sort -u
}

test_completion() {
	local got want i

	[ -x "$TCBPF" ] || { fail completion "$TCBPF not built"; return; }
	ns_up || { fail completion-ns "cannot create namespace $NS"; return; }

	comp_has comp-commands "$(help_cmds) apply daemon" tcbpf ""
	comp_is comp-command-prefix "change" tcbpf ch
	comp_has comp-options "-j -n -v -q" tcbpf -
	comp_has comp-netns-names "$NS" tcbpf -n ""
	comp_is comp-devices-of-netns "$NS_DEV" tcbpf -n "$NS" attach vm-
	comp_has comp-devices-and-net "net lo $NS_DEV vx-0abc" tcbpf -n "$NS" show ""
	comp_is comp-net-ids-of-netns "0abc" tcbpf -n "$NS" attach net ""
	comp_is comp-net-ids-netns-long "0abc" tcbpf --netns "$NS" -j stats net ""
	# this namespace: the ids in /sys/class/net's names; devices of other
	# tests come and go, so compare against a fresh look, twice at most
	for i in 1 2; do
		want=$(host_netids)
		got=$(comp tcbpf detach net "")
		[ "$got" = "$want" ] && break
	done
	check comp-net-ids-host "got [$(echo $got)], want [$(echo $want)]" \
		[ "$got" = "$want" ]

	comp_has comp-spec-keys "$(help_keys) $(help_dirs)" tcbpf attach "$NS_DEV" ""
	comp_has comp-spec-keys-later "$(help_keys)" \
		tcbpf -n "$NS" change "$NS_DEV" ingress rate 5mbit ""
	comp_is comp-direction-prefix "egress" tcbpf attach x rate 10mbit eg
	comp_is comp-rate-units "1mbit 10mbit 100mbit 1gbit" tcbpf attach x rate ""
	comp_is comp-allow-rate-units "1mbit 10mbit 100mbit 1gbit" \
		tcbpf change net 0abc allow-rate ""
	comp_is comp-delay-units "0 10ms 100ms 400ms" tcbpf change x egress delay ""
	comp_is comp-mode-values "police edt monitor" tcbpf attach x mode ""
	comp_is comp-hook-values "auto tc tcx" tcbpf attach x hook ""
	comp_has comp-burst-units "1200kbit" tcbpf attach x burst ""
	comp_is comp-watch-then-spec "1mbit 10mbit 100mbit 1gbit" \
		tcbpf watch 'vm-*' pps 1000 then ingress rate ""
	comp_has comp-watch-words "bps pps for then release-after exec" tcbpf watch ""
	comp_is comp-export "influx prometheus" tcbpf export ""
	comp_has comp-export-listen "127.0.0.1:9761" tcbpf export prometheus listen ""
	comp_is comp-stats-words "interval count --influx" tcbpf stats "$NS_DEV" ""
	comp_is comp-apply "--check" tcbpf apply -
	comp_is comp-help-nothing "" tcbpf help ""

	# installed as bash-completion expects: `complete -F _tcbpf tcbpf`
	got=$(bash -c 'source "$1"; complete -p tcbpf' bash \
		scripts/tcbpf.bash-completion 2>&1)
	check comp-registered "complete -p tcbpf: $got" \
		[ "$got" = "complete -F _tcbpf tcbpf" ]
}

# ------------------------------------------------------------------- deb

# A root for dpkg --root: an empty dpkg database, a shell and the few
# tools the maintainer scripts run (they run chrooted into it), /dev/null,
# and stubs for deb-systemd-helper/-invoke and systemctl that record their
# arguments, so the test sees which units the package enables and starts
# and the host's systemd is never touched.
PKG_ROOT=
make_root() {
	local b r l
	PKG_ROOT=$WORK/root
	mkdir -p "$PKG_ROOT"/var/lib/dpkg/{info,updates,triggers,alternatives} \
		"$PKG_ROOT"/{bin,usr/bin,dev,tmp,run} || return 1
	: >"$PKG_ROOT/var/lib/dpkg/status"
	: >"$PKG_ROOT/var/lib/dpkg/available"
	mknod -m 666 "$PKG_ROOT/dev/null" c 1 3 || return 1
	for b in sh rm rmdir grep cat mkdir; do
		r=$(readlink -f "$(command -v $b)") || return 1
		cp "$r" "$PKG_ROOT/bin/$b" || return 1
		for l in $(ldd "$r" | grep -o '/[^ ]*'); do
			mkdir -p "$PKG_ROOT${l%/*}" && cp -L "$l" "$PKG_ROOT$l" || return 1
		done
	done
	for b in deb-systemd-helper deb-systemd-invoke systemctl; do
		cat >"$PKG_ROOT/usr/bin/$b" <<-EOF
		#!/bin/sh
		echo "$b \$*" >>/tmp/systemd.log
		# a first installation: nothing was enabled or installed before
		case "\$1" in debian-installed) exit 1 ;; esac
		exit 0
		EOF
		chmod +x "$PKG_ROOT/usr/bin/$b"
	done
	(cd "$PKG_ROOT" && find . | sort) >"$WORK/root.before"
}

# what is in the root now that was not before the package
root_extra() {
	(cd "$PKG_ROOT" && find . | sort) | comm -13 "$WORK/root.before" - |
		grep -v -E '^\./(var/lib/dpkg|tmp)(/|$)'
}

dpkg_root() { dpkg --root="$PKG_ROOT" --force-depends --force-not-root "$@"; }

# installed_ok: the files an operator relies on
PKG_FILES="/usr/sbin/tcbpf /usr/share/man/man8/tcbpf.8.gz
	/usr/share/man/man8/tcbpf-daemon.8.gz /usr/share/man/man5/tcbpf.conf.5.gz
	/usr/share/bash-completion/completions/tcbpf
	/lib/systemd/system/tcbpf.service /lib/systemd/system/tcbpf-watch.service
	/usr/share/doc/tcbpf/examples/tcbpf.conf
	/usr/share/doc/tcbpf/examples/alert-action.py
	/usr/share/doc/tcbpf/copyright /var/lib/tcbpf /etc/tcbpf"

test_deb() {
	local deb out f missing t0 log rc

	[ -x "$TCBPF" ] || { fail deb "$TCBPF not built"; return; }
	# make install / uninstall into a DESTDIR with another PREFIX
	local d=$WORK/destdir
	if make -s install DESTDIR="$d" PREFIX=/usr/local >"$WORK/install.log" 2>&1; then
		missing=
		for f in /usr/local/sbin/tcbpf /usr/local/share/man/man8/tcbpf.8 \
			 /usr/local/share/man/man8/tcbpf-daemon.8 \
			 /usr/local/share/man/man5/tcbpf.conf.5 \
			 /usr/local/share/bash-completion/completions/tcbpf \
			 /usr/local/share/doc/tcbpf/examples/tcbpf.conf \
			 /usr/local/share/doc/tcbpf/examples/alert-action.py \
			 /etc/tcbpf /var/lib/tcbpf; do
			[ -e "$d$f" ] || missing="$missing $f"
		done
		out=$(find "$d" -name '*.service' -exec grep -h '^ExecStart=' {} +)
		check install-destdir "missing:$missing; $out" \
			eval '[ -z "$missing" ] && [ "$(grep -c "=/usr/local/sbin/tcbpf " <<<"$out")" -eq 2 ]'
		make -s uninstall DESTDIR="$d" PREFIX=/usr/local >>"$WORK/install.log" 2>&1
		out=$(find "$d" ! -type d)
		check uninstall-destdir "left: $(echo $out)" [ -z "$out" ]
	else
		fail install-destdir "make install: $(tail -3 "$WORK/install.log")"
	fi

	t0=$SECONDS
	if ! make -s deb >"$WORK/make-deb.log" 2>&1; then
		fail deb-build "make deb: $(tail -5 "$WORK/make-deb.log")"
		return
	fi
	deb=$(ls "$OUT"/deb/tcbpf_*.deb 2>/dev/null | head -1)
	check deb-build "no .deb in $OUT/deb" [ -n "$deb" ]
	[ -n "$deb" ] || return
	note "make deb: $((SECONDS - t0)) s, $(stat -c %s "$deb") bytes"

	if command -v lintian >/dev/null; then
		out=$(lintian --allow-root -I "$deb" 2>&1)
		check deb-lintian-errors "lintian: $(grep '^E:' <<<"$out")" \
			eval '! grep -q "^E:" <<<"$out"'
		[ -n "$out" ] && note "lintian: $(echo $out)"
	else
		skip deb-lintian "lintian not installed"
	fi

	make_root || { fail deb-root "cannot build a package root"; return; }
	out=$(dpkg_root -i "$deb" 2>&1)
	check deb-install "dpkg -i: $out" \
		eval '[ "$(dpkg-query --root="$PKG_ROOT" -W -f="\${Status}" tcbpf)" = "install ok installed" ]'

	missing=
	for f in $PKG_FILES; do
		[ -e "$PKG_ROOT$f" ] || missing="$missing $f"
		[ "$f" = /var/lib/tcbpf ] || [ "$f" = /etc/tcbpf ] ||
			dpkg_root -S "$f" >/dev/null 2>&1 || missing="$missing $f(not listed)"
	done
	check deb-files "missing:$missing" [ -z "$missing" ]
	check deb-state-dir "/var/lib/tcbpf is not a directory" [ -d "$PKG_ROOT/var/lib/tcbpf" ]

	# postinst: the daemon enabled and started, watch neither
	log=$(cat "$PKG_ROOT/tmp/systemd.log" 2>/dev/null)
	check deb-enables-daemon "postinst did not enable tcbpf.service: $log" \
		grep -q "^deb-systemd-helper enable tcbpf.service" <<<"$log"
	check deb-watch-not-enabled "postinst enabled tcbpf-watch.service" \
		eval '! grep -q "enable tcbpf-watch" <<<"$log"'

	if command -v systemd-analyze >/dev/null; then
		# verify against the installed binary and man pages: the unit's
		# paths pointed into the package root
		mkdir -p "$WORK/units"
		for f in "$PKG_ROOT"/lib/systemd/system/*.service; do
			sed "s|/usr/sbin/tcbpf|$PKG_ROOT/usr/sbin/tcbpf|g" "$f" \
				>"$WORK/units/${f##*/}"
		done
		out=$(cd "$WORK/units" && MANPATH=$PKG_ROOT/usr/share/man \
			systemd-analyze verify "$WORK"/units/*.service 2>&1)
		check deb-units-verify "systemd-analyze verify: $out" [ -z "$out" ]
	else
		skip deb-units-verify "no systemd-analyze"
	fi
	out=$(grep -h '^ExecStart=' "$PKG_ROOT"/lib/systemd/system/*.service)
	check deb-units-sbin "ExecStart not /usr/sbin/tcbpf: $out" \
		eval '[ "$(grep -c "=/usr/sbin/tcbpf " <<<"$out")" -eq 2 ]'

	# Documentation=file:... of the units: shipped as named (uncompressed)
	missing=
	for f in $(sed -n 's/^Documentation=//p' "$PKG_ROOT"/lib/systemd/system/*.service |
			tr ' ' '\n' | sed -n 's/^file://p'); do
		[ -f "$PKG_ROOT$f" ] || missing="$missing $f"
	done
	check deb-units-doc-files "units name missing files:$missing" [ -z "$missing" ]

	out=$(MANPATH=$PKG_ROOT/usr/share/man man -w tcbpf.conf 2>&1)
	check deb-man-found "man -w tcbpf.conf: $out" [ "$out" = "$PKG_ROOT/usr/share/man/man5/tcbpf.conf.5.gz" ]

	# the installed binary, on a device of our own namespace
	local bin=$PKG_ROOT/usr/sbin/tcbpf
	out=$("$bin" help 2>&1)
	check deb-bin-help "tcbpf help: $out" grep -q "^Usage: tcbpf" <<<"$out"
	# Attach and detach with the installed binary on our own device, in a
	# mount namespace with a bpffs of its own at /sys/fs/bpf: the machine's
	# /sys/fs/bpf/tcbpf may hold the pins of another tcbpf build (another
	# map layout) that this one must not touch. Whatever the run leaves
	# there goes with the namespace.
	if ns_up; then
		unshare -m --propagation private bash -c '
			bin=$1 ns=$2 dev=$3 w=$4
			mount -t bpf bpf /sys/fs/bpf || exit 1
			export TCBPF_STATE_DIR=$w/state	# not the machine'"'"'s records
			"$bin" -n "$ns" attach "$dev" rate 5mbit >"$w/attach.out" 2>&1 || exit 2
			"$bin" -j -n "$ns" show "$dev" >"$w/show.json" 2>&1 || exit 3
			"$bin" -n "$ns" detach "$dev" >"$w/detach.out" 2>&1 || exit 4
			"$bin" -j -n "$ns" list >"$w/list.json" 2>&1 || exit 5
			ls /sys/fs/bpf/tcbpf/links >"$w/links.txt" 2>&1
			exit 0' bash "$bin" "$NS" "$NS_DEV" "$WORK"
		rc=$?
		check deb-bin-attach "rc $rc: $(cat "$WORK/attach.out" "$WORK/show.json" 2>/dev/null)" \
			eval '[ $rc -eq 0 ] || [ $rc -gt 3 ]' &&
		check deb-bin-show "show: $(cat "$WORK/show.json")" \
			grep -q '"rate_bits_per_sec":5000000' "$WORK/show.json"
		note "installed tcbpf attach: $(head -c 300 "$WORK/attach.out" | tr '\n' ' ')"
		if [ $rc -eq 0 ] || [ $rc -gt 3 ]; then
			check deb-bin-detach "rc $rc: $(cat "$WORK/detach.out" "$WORK/list.json" "$WORK/links.txt" 2>/dev/null)" \
				eval '[ $rc -eq 0 ] && ! grep -q "\"$NS_DEV\"" "$WORK/list.json" &&
					! grep -q "_31987_" "$WORK/links.txt"'
		fi
	else
		fail deb-bin-attach "cannot create namespace $NS"
	fi

	# purge with an empty record set: nothing of the package stays
	printf 'tcbpf-state 1\n# no clamps\n' >"$PKG_ROOT/var/lib/tcbpf/clamps"
	out=$(dpkg_root -P tcbpf 2>&1)
	check deb-purge "dpkg -P: $out" \
		eval '! dpkg-query --root="$PKG_ROOT" -W tcbpf >/dev/null 2>&1'
	out=$(root_extra)
	check deb-purge-clean "left behind: $(echo $out)" [ -z "$out" ]

	# remove, then purge, with a recorded clamp: it stays, and we are told
	dpkg_root -i "$deb" >/dev/null 2>&1
	printf 'tcbpf-state 1\nvm-3-00c9 at 1764471234 spec rate 10mbit\n' \
		>"$PKG_ROOT/var/lib/tcbpf/clamps"
	cp "$PKG_ROOT/var/lib/tcbpf/clamps" "$WORK/clamps"
	dpkg_root -r tcbpf >/dev/null 2>&1
	check deb-remove-keeps-clamps "clamps gone after dpkg -r" \
		cmp -s "$WORK/clamps" "$PKG_ROOT/var/lib/tcbpf/clamps"
	check deb-remove-binary "/usr/sbin/tcbpf left after dpkg -r" \
		[ ! -e "$PKG_ROOT/usr/sbin/tcbpf" ]
	out=$(dpkg_root -P tcbpf 2>&1)
	check deb-purge-live-keeps "clamps gone after purge with a record" \
		cmp -s "$WORK/clamps" "$PKG_ROOT/var/lib/tcbpf/clamps"
	check deb-purge-live-says "purge did not say why: $out" \
		grep -q "records live clamps; keeping /var/lib/tcbpf" <<<"$out"
	out=$(root_extra)
	check deb-purge-live-only-state "left behind: $(echo $out)" \
		[ "$(echo $out)" = "./var/lib/tcbpf ./var/lib/tcbpf/clamps" ]
}

case ${1:-} in
man)		test_man ;;
completion)	test_completion ;;
deb)		test_deb ;;
*)		echo "usage: $0 man|completion|deb" >&2; exit 2 ;;
esac
echo "pkg.sh ${1}: $NPASS passed, $NFAIL failed"
[ "$NFAIL" -eq 0 ]
