# SPDX-License-Identifier: GPL-2.0-only
# tests/lib.sh - helpers for tests/integration.sh and scripts/demo.sh.
# Source it from bash; it sets no shell options of its own.
#
# Topology (all traffic stays between these namespaces; nothing has a
# default route, so no packet can leave them):
#
#   tcbpf-host  the hypervisor side
#                 vm-3-00c9  10.203.0.1/24  fd00:7cbf::1/64   (VM 1's tap)
#                 vm-4-00c9  10.203.1.1/24                    (VM 2's tap)
#   tcbpf-vm    VM 1: eth0   10.203.0.2/24  fd00:7cbf::2/64
#   tcbpf-vm2   VM 2: eth0   10.203.1.2/24
#
# Commands run in a namespace through `nsenter --net=/run/netns/NAME`,
# never `ip netns exec`: the latter makes a mount namespace with a fresh
# /sys in which /sys/fs/bpf (tcbpf's pins) is empty. tcbpf itself always
# runs in the root namespaces with `-n tcbpf-host`.
#
# Traffic: iperf3, one server per flow, with `-1` (one test then exit) and
# JSON output. Received rates are always read on the RECEIVING side (the
# server, or the client in -R mode), from the per-second intervals, so the
# first seconds (bucket burst, TCP slow start) can be left out.
#
# Reporting: pass/fail/skip print exactly "PASS: name", "FAIL: name: why",
# "SKIP: name: why"; note prints "  # text" lines with the measurements.

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TCBPF_ROOT=$(cd "$LIB_DIR/.." && pwd)
TCBPF=${TCBPF:-$TCBPF_ROOT/tcbpf}
PIN_DIR=${TCBPF_PIN_DIR:-/sys/fs/bpf/tcbpf}
PIN_PRIVATE=
# The distribution's python3 (stdlib only): a python3 earlier in PATH may be
# a version-manager shim that takes a second per start on a loaded machine.
if [ -x /usr/bin/python3 ]; then
	PY=/usr/bin/python3
else
	PY=python3
fi

HOST_NS=tcbpf-host
VM_NS=tcbpf-vm
VM2_NS=tcbpf-vm2
HOST2_NS=tcbpf-host2	# a second host namespace (same-ifindex test)
DEV3=vm-5-00c9		# its device, with DEV's ifindex
DEV=vm-3-00c9
DEV2=vm-4-00c9
HOST_IP=10.203.0.1
VM_IP=10.203.0.2
HOST_IP6=fd00:7cbf::1
VM_IP6=fd00:7cbf::2
HOST2_IP=10.203.1.1
VM2_IP=10.203.1.2
# Fixed ifindexes for the host ends. tcbpf keys its settings by ifindex and
# refuses an ifindex that already has a limiter in another namespace; a
# fresh namespace numbers its first veth 2, as every other engineer's test
# namespace on a shared machine does, so auto-numbered devices collide.
DEV_IFX=31923
DEV2_IFX=31924

# One lock for everything that builds these namespaces: the suite and the
# demo must not tear down each other's namespaces.
LOCK_FILE=/run/tcbpf-netns.lock

NPASS=0
NFAIL=0
NSKIP=0
NEXT_PORT=0
WORK=
BG_PIDS=()
# Per flow name: FLOW_RX / FLOW_TX the receiver's / sender's iperf3 JSON
# file (tests/monitor.sh reads FLOW_TX too), the rest flow_wait's inputs.
declare -A FLOW_RX FLOW_TX FLOW_PIDS FLOW_LEN FLOW_OV FLOW_RXNS FLOW_RCVBUF0

# ns_cookie NS: the network namespace cookie of /run/netns/NS in hex, as
# tcbpf names its pins (ns/COOKIE/, links/COOKIE_IFINDEX_DIR)
ns_cookie() {
	nsenter --net="/run/netns/$1" "$PY" -c '
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
print("%x" % int.from_bytes(s.getsockopt(socket.SOL_SOCKET, 71, 8), "little"))'
}

# ---------------------------------------------------------------- reporting

pass() { NPASS=$((NPASS + 1)); echo "PASS: $1"; }
fail() { NFAIL=$((NFAIL + 1)); echo "FAIL: $1: $2"; }
skip() { NSKIP=$((NSKIP + 1)); echo "SKIP: $1: $2"; }
note() { echo "  # $*"; }
# V=1: the commands, on the stderr the script started with (fd 8, opened
# by lib_init), also from inside $(...) whose stderr goes to a file
vlog() { [ "${V:-0}" = 1 ] && echo "  + $*" >&8; return 0; }

# Collect the reasons one result fails, then report it once:
#   res_begin NAME; res_check COND WHY...; res_end
res_begin() { RES_NAME=$1; RES_WHY=; RES_SKIP=; }
res_bad() { RES_WHY="${RES_WHY:+$RES_WHY; }$*"; }
res_skip() { RES_SKIP="${RES_SKIP:+$RES_SKIP; }$*"; }
res_end() {
	if [ -n "$RES_WHY" ]; then
		fail "$RES_NAME" "$RES_WHY"
	elif [ -n "$RES_SKIP" ]; then
		skip "$RES_NAME" "$RES_SKIP"
	else
		pass "$RES_NAME"
	fi
}

# ------------------------------------------------------------------ numbers

# mbit BITS_PER_SEC -> "12.34"
mbit() { awk -v v="$1" 'BEGIN { printf "%.2f", v / 1e6 }'; }

# within VALUE TARGET PERCENT: |VALUE - TARGET| <= TARGET * PERCENT / 100
within() {
	awk -v v="$1" -v t="$2" -v p="$3" \
		'BEGIN { exit !(v >= t * (1 - p / 100) && v <= t * (1 + p / 100)) }'
}
# ge A B: A >= B;  le A B: A <= B (floating point)
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
# calc EXPR: awk arithmetic, integer result
calc() { awk "BEGIN { printf \"%.0f\", $1 }"; }

# jget EXPR: evaluate a python expression over the JSON on stdin (as d);
# prints scalars plainly, containers as JSON; prints nothing on bad JSON.
jget() {
	py -c '
import json, sys
try:
    d = json.load(sys.stdin)
    v = eval(sys.argv[1])
except Exception:
    sys.exit(1)
print(json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v)
' "$1"
}

# py [-n] -c CODE [ARG...]: python3 CODE with ARGs as sys.argv[1:] and
# this function's stdin (-n: none, for callers whose stdin may never end);
# its stdout, stderr and exit status. After py_start (by lib_init) CODE
# runs in one long-lived python3 instead of a new one: under emulation
# (tests/vm) every python3 start costs ~0.3 s, and the suites run hundreds.
# Calls are serialised with flock. Without the server (or PY_SERVER=0): a
# plain python3. The server holds none of the suite's output (a pipe to
# tee must see its end) and exits with the suite.
PY_DIR='' PY_PID=''
py_start() {
	[ "${PY_SERVER:-1}" = 1 ] && [ -n "${WORK:-}" ] || return 0
	PY_DIR=$WORK/py
	mkdir -p "$PY_DIR" && mkfifo "$PY_DIR/req" "$PY_DIR/resp" || { PY_DIR=; return 0; }
	"$PY" -c '
import io, os, sys, threading, time, traceback
d, parent = sys.argv[1], int(sys.argv[2])
os.closerange(3, 1024)	# whatever else of the suite it inherited
real_in, real_out, real_argv = sys.stdin, sys.stdout, sys.argv

def watch():
    # The suite is gone (killed, or ended without py_stop): so are we.
    while True:
        time.sleep(1)
        try:
            os.kill(parent, 0)
        except OSError:
            os._exit(0)

threading.Thread(target=watch, daemon=True).start()
while True:
    with open(d + "/req", "rb") as f:
        data = f.read()
    if data == b"quit\0":
        break
    rc, out = 1, io.StringIO()
    try:
        code, n, rest = data.split(b"\0", 2)
        args = rest.split(b"\0", int(n))
        stdin = args.pop() if len(args) > int(n) else b""
        sys.argv = ["-c"] + [a.decode() for a in args]
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
        sys.stdout = out
        try:
            exec(compile(code.decode(), "<py>", "exec"), {"__name__": "__main__"})
            rc = 0
        except SystemExit as e:
            if e.code is None or isinstance(e.code, int):
                rc = e.code or 0
            else:
                print(e.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdin, sys.stdout, sys.argv = real_in, real_out, real_argv
    with open(d + "/resp", "w") as f:
        f.write("%d\n%s" % (rc, out.getvalue()))
' "$PY_DIR" "$$" </dev/null >/dev/null 2>"$PY_DIR/err" 8>&- 9>&- &
	PY_PID=$!
}
py_stop() {
	[ -n "$PY_PID" ] || return 0
	if kill -0 "$PY_PID" 2>/dev/null; then
		printf 'quit\0' >"$PY_DIR/req" &
		local i
		for i in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$PY_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$PY_PID" 2>/dev/null
	fi
	wait "$PY_PID" 2>/dev/null
	PY_PID='' PY_DIR=''
}
py() {
	local code rc nostdin=
	[ "$1" = -n ] && { nostdin=1; shift; }
	code=$2
	shift 2
	if [ -z "$PY_PID" ] || ! kill -0 "$PY_PID" 2>/dev/null; then
		if [ -n "$nostdin" ]; then
			"$PY" -c "$code" "$@" </dev/null
		else
			"$PY" -c "$code" "$@"
		fi
		return
	fi
	{
		flock 9 || return 1
		{
			printf '%s\0' "$code" "$#" "$@"
			[ -n "$nostdin" ] || cat
		} >"$PY_DIR/req"
		{ read -r rc; cat; } <"$PY_DIR/resp"
		if [ -s "$PY_DIR/err" ]; then
			cat "$PY_DIR/err" >&2
			: >"$PY_DIR/err"
		fi
		return "${rc:-1}"
	} 9>"$PY_DIR/lock"
}

# ---------------------------------------------------------------- namespaces

ns_run() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

ns_exists() { [ -e "/run/netns/$1" ]; }

# qdisc_dumps FILE: the RTM_GETQDISC dumps in FILE, strace's record of a
# command's sendto/sendmsg (raw or decoded); each is a dump of every
# device's qdiscs in the namespace (the kernel has no filter for one).
qdisc_dumps() {
	grep -cE '(RTM_GETQDISC|nlmsg_type=0x26)[^}]*(NLM_F_DUMP|0x300)' "$1"
}
# qdisc_asked FILE: FILE holds any RTM_GETQDISC, i.e. qdisc_dumps reads
# what strace wrote there
qdisc_asked() { grep -qE 'RTM_GETQDISC|nlmsg_type=0x26' "$1"; }

# tb ARGS...: ./tcbpf -n tcbpf-host ARGS...
tb() {
	vlog "tcbpf -n $HOST_NS $*"
	"$TCBPF" -n "$HOST_NS" "$@"
}

# Take the namespace lock (wait up to 10 minutes for another run).
lib_lock() {
	exec 9>"$LOCK_FILE" || return 1
	if ! flock -n 9; then
		echo "  # waiting for another tcbpf test or demo run ($LOCK_FILE)" >&2
		flock -w 600 9 || return 1
	fi
}

lib_init() {
	exec 8>&2
	WORK=$(mktemp -d /tmp/tcbpf-test.XXXXXX) || return 1
	# tcbpf records clamps in /var/lib/tcbpf: a test keeps its own record,
	# never the machine's (a daemon there would act on ours)
	export TCBPF_STATE_DIR="$WORK/state"
	# and its own pins (another run's, or an older tcbpf's, must not be
	# in the way); the demo shows the machine's: TCBPF_SHARED_PINS=1
	if [ -z "${TCBPF_SHARED_PINS:-}" ]; then
		echo $$ >"$WORK/owner"
		pins_dead_remove
		PIN_PRIVATE=/sys/fs/bpf/tcbpf-test-${WORK##*.}	# bpffs refuses "."
		export TCBPF_PIN_DIR=$PIN_PRIVATE
		PIN_DIR=$PIN_PRIVATE
	fi
	py_start
}

# Private pin directories of runs that were killed (SIGKILL leaves no
# trap): the run's $WORK names its owner; a directory whose owner is dead,
# or whose $WORK is gone, is nobody's. Their devices and namespaces went
# with the run (or go with the next one's ns_teardown); rm -rf releases
# the maps, programs and links.
pins_dead_remove() {
	local d w pid
	for d in /sys/fs/bpf/tcbpf-test-*; do
		[ -d "$d" ] || continue
		w=/tmp/tcbpf-test.${d#/sys/fs/bpf/tcbpf-test-}
		if [ -d "$w" ]; then
			[ -f "$w/owner" ] || continue	# starting, or an older lib.sh
			pid=$(cat "$w/owner" 2>/dev/null)
			[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && continue
		fi
		rm -rf "$d" && note "removed $d of a killed test run"
	done
	return 0
}

# Remove this run's private pin directory (its limiters are detached by
# then; whatever a kill left is not anybody else's).
pins_private_remove() {
	[ -n "$PIN_PRIVATE" ] && rm -rf "$PIN_PRIVATE"
	PIN_PRIVATE=
	return 0
}

# pair_add HOSTDEV IFINDEX VMNS IPV4_PREFIX [IPV6_PREFIX]
#   host end HOSTDEV (ifindex IFINDEX) in tcbpf-host with PREFIX.1, VM end
#   eth0 in VMNS with
#   PREFIX.2; IPv6 (prefix given as "fd00:7cbf::") PREFIX1 / PREFIX2, nodad
#   so they are usable at once.
pair_add() {
	local hdev=$1 ifx=$2 vns=$3 p4=$4 p6=${5:-}
	ip netns add "$vns" || return 1
	ip -n "$HOST_NS" link add "$hdev" index "$ifx" type veth \
		peer name eth0 netns "$vns" || return 1
	ip -n "$HOST_NS" addr add "$p4.1/24" dev "$hdev" || return 1
	ip -n "$vns" addr add "$p4.2/24" dev eth0 || return 1
	if [ -n "$p6" ]; then
		ip -n "$HOST_NS" addr add "${p6}1/64" dev "$hdev" nodad || return 1
		ip -n "$vns" addr add "${p6}2/64" dev eth0 nodad || return 1
	fi
	ip -n "$vns" link set lo up || return 1
	ip -n "$vns" link set eth0 up || return 1
	ip -n "$HOST_NS" link set "$hdev" up || return 1
}

# daemon_ready LOG SECS: wait up to SECS for `tcbpf daemon`'s "start"
# event in LOG (it comes once the recorded clamps are back); 1 if not.
daemon_ready() {
	local i n=$(( $2 * 50 ))
	for ((i = 0; i < n; i++)); do
		grep -q '"event":"start"' "$1" 2>/dev/null && return 0
		sleep 0.02
	done
	return 1
}

# iperf3 -w 2M (and the floods' receivers) need socket buffers above
# Debian's default 208 KiB cap: raised to 4 MiB, never lowered.
sockbufs_raise() {
	local k
	for k in net.core.rmem_max net.core.wmem_max; do
		[ "$(sysctl -n "$k" 2>/dev/null || echo 0)" -ge 4194304 ] ||
			sysctl -qw "$k=4194304"
	done
}

# ns_setup [1]: build the namespaces (both VMs; with 1, only VM 1).
ns_setup() {
	ns_teardown
	sockbufs_raise
	ip netns add "$HOST_NS" || return 1
	ip -n "$HOST_NS" link set lo up || return 1
	pair_add "$DEV" "$DEV_IFX" "$VM_NS" 10.203.0 fd00:7cbf:: || return 1
	# The first packets must not wait for ARP/ND in a measurement.
	ns_run "$VM_NS" ping -c1 -W2 -q "$HOST_IP" >/dev/null 2>&1
	ns_run "$VM_NS" ping -6 -c1 -W2 -q "$HOST_IP6" >/dev/null 2>&1
	[ "${1:-2}" = 1 ] && return 0
	pair_add "$DEV2" "$DEV2_IFX" "$VM2_NS" 10.203.1 || return 1
	ns_run "$VM2_NS" ping -c1 -W2 -q "$HOST2_IP" >/dev/null 2>&1
	return 0
}

# Kill what still runs inside our namespaces (only ours: we made them).
ns_kill_pids() {
	local ns pid
	for ns in "$HOST_NS" "$VM_NS" "$VM2_NS" "$HOST2_NS"; do
		ns_exists "$ns" || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$pid" 2>/dev/null
		done
	done
}

ns_teardown() {
	local ns
	ns_kill_pids
	for ns in "$VM_NS" "$VM2_NS" "$HOST_NS" "$HOST2_NS"; do
		ns_exists "$ns" && ip netns del "$ns"
	done
	return 0
}

# Detach tcbpf from our devices (the tool's own cleanup, while they exist).
tb_detach_all() {
	[ -x "$TCBPF" ] && ns_exists "$HOST_NS" || return 0
	tb detach "$DEV" >/dev/null 2>&1
	tb detach "$DEV2" >/dev/null 2>&1
	ns_exists "$HOST2_NS" &&
		"$TCBPF" -n "$HOST2_NS" detach "$DEV3" >/dev/null 2>&1
	return 0
}

# The EXIT trap: always kill iperf3 and delete the namespaces.
lib_cleanup() {
	local pid
	for pid in "${BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	tb_detach_all
	ns_teardown
	py_stop
	pins_private_remove
	[ -n "$WORK" ] && rm -rf "$WORK"
	WORK=
	return 0
}

# ------------------------------------------------------------------ traffic

# rcvbuf_errors NS: UDP datagrams the namespace's sockets dropped for want
# of receive buffer (IPv4 + IPv6): the receiver, not the limiter, lost them.
rcvbuf_errors() {
	ns_run "$1" cat /proc/net/snmp /proc/net/snmp6 2>/dev/null | awk '
		$1 == "Udp:" && !hdr { for (i = 2; i <= NF; i++) if ($i == "RcvbufErrors") c = i; hdr = 1; next }
		$1 == "Udp:" && c { s += $c }
		$1 == "Udp6RcvbufErrors" { s += $2 }
		END { print s + 0 }'
}

# wait_listen NS PORT: until a TCP listener (iperf3's control port) is up.
wait_listen() {
	local i
	for i in $(seq 1 100); do
		ns_run "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q . && return 0
		sleep 0.05
	done
	return 1
}

# flow_start NAME KEY=VALUE...   start one iperf3 flow in the background
#   proto=udp|tcp    (udp)
#   from=NS to=NS    the namespaces the data goes from and to
#   addr=IP          the iperf3 server's address
#   port=N           iperf3 port, data and control; default: the next of
#                    5201-5299 in turn, so no two flows of a run share one
#   bw=RATE          iperf3 -b (udp: required; tcp: none = unlimited)
#   len=BYTES        UDP payload (1470 IPv4, 1440 IPv6: under the MTU)
#   time=SECS        (4)
#   server=to|from   where the iperf3 server runs (to); "from" runs it in
#                    the sending namespace and the client with -R, so the
#                    data leaves the sender from the server's port
flow_start() {
	local name=$1 kv
	shift
	local proto=udp from= to= addr= port= bw= len= time=4 server=to
	for kv in "$@"; do
		case $kv in
		proto=* | from=* | to=* | addr=* | port=* | bw=* | len=* | time=* | server=*)
			local "$kv" ;;
		*)	echo "flow_start: bad argument $kv" >&2; return 1 ;;
		esac
	done
	if [ -z "$port" ]; then
		port=$((5201 + NEXT_PORT % 99))
		NEXT_PORT=$((NEXT_PORT + 1))
	fi
	local v6=0 srv_ns cli_ns rev=() opts=() ov
	case $addr in *:*) v6=1 ;; esac
	if [ "$server" = to ]; then
		srv_ns=$to cli_ns=$from
	else
		srv_ns=$from cli_ns=$to rev=(-R)
	fi
	if [ "$proto" = udp ]; then
		[ -n "$len" ] || len=$((v6 ? 1440 : 1470))
		ov=$((v6 ? 62 : 42))	# Ethernet + IP + UDP headers
		# 2 MB socket buffers: the receiver may not run for a while
		# on a loaded machine, and what its socket drops is not the
		# limiter's doing.
		opts=(-u -b "${bw:-1M}" -l "$len" -w 2M)
	else
		len=$((v6 ? 1428 : 1448))	# MSS with timestamps
		ov=$((v6 ? 86 : 66))	# Ethernet + IP + TCP + options
		[ -n "$bw" ] && opts=(-b "$bw")
	fi
	local sf="$WORK/$name.srv.json" cf="$WORK/$name.cli.json"
	rm -f "$sf" "$cf"
	FLOW_RXNS[$name]=$to
	FLOW_RCVBUF0[$name]=$(rcvbuf_errors "$to")
	ns_run "$srv_ns" timeout $((time + 25)) iperf3 -s -1 -J -p "$port" \
		>"$sf" 2>"$WORK/$name.srv.err" &
	local spid=$!
	BG_PIDS+=("$spid")
	if ! wait_listen "$srv_ns" "$port"; then
		echo "flow_start: iperf3 server on port $port in $srv_ns not up" >&2
	fi
	vlog "[$cli_ns] iperf3 -c $addr -p $port -t $time ${rev[*]} ${opts[*]}"
	ns_run "$cli_ns" timeout $((time + 20)) iperf3 -c "$addr" -p "$port" \
		-t "$time" -J --connect-timeout 3000 "${rev[@]}" "${opts[@]}" \
		>"$cf" 2>"$WORK/$name.cli.err" &
	local cpid=$!
	BG_PIDS+=("$cpid")
	FLOW_PIDS[$name]="$spid $cpid"
	FLOW_LEN[$name]=$len
	FLOW_OV[$name]=$ov
	if [ "$server" = to ]; then
		FLOW_RX[$name]=$sf FLOW_TX[$name]=$cf
	else
		FLOW_RX[$name]=$cf FLOW_TX[$name]=$sf
	fi
}

# flow_wait NAME [SKIP]: wait for the flow, leave out its first SKIP
# seconds, and set
#   FLOW_BPS   received payload bits/s (what iperf3 reports)
#   FLOW_WIRE  the same as frame bits/s (payload + Ethernet/IP/L4 headers
#              per packet: what the limiter counts)
#   FLOW_PPS   received packets/s (UDP; segments for TCP, estimated)
#   FLOW_SENT  the sender's bits/s (payload)
#   FLOW_RCVBUF  datagrams the receiving namespace dropped for want of
#              socket buffer meanwhile (a loaded machine, not the limiter)
#   FLOW_LOSTBPS the frame bits/s those drops amount to over the window
#   FLOW_ERR   why the flow failed (and returns 1), else empty
flow_wait() {
	local name=$1 skipn=${2:-1} out st i spid cpid total
	read -r spid cpid <<<"${FLOW_PIDS[$name]}"
	wait "$cpid" 2>/dev/null
	# The server ends right after the client; not if the client failed.
	for i in $(seq 1 40); do
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	FLOW_BPS=0 FLOW_WIRE=0 FLOW_PPS=0 FLOW_SENT=0 FLOW_ERR= FLOW_RCVBUF=0 FLOW_LOSTBPS=0
	out=$(py -n -c '
import json, sys
rx, tx, skip, length, ov = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    float(sys.argv[4]), float(sys.argv[5])

def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except Exception as e:
        return {"error": "no iperf3 JSON in %s (%s)" % (path.rsplit("/", 1)[-1],
                                                      e.__class__.__name__)}

r, t = load(rx), load(tx)
errs = [d["error"].replace("\n", " ") for d in (r, t) if d.get("error")]
if errs:
    print("ERR", "; ".join(errs))
    sys.exit(0)
iv = [i["sum"] for i in r.get("intervals", [])]
use = [s for s in iv[skip:] if s["seconds"] >= 0.5]
if not use:
    print("ERR no receiver intervals after skipping %d" % skip)
    sys.exit(0)
secs = sum(s["seconds"] for s in use)
by = sum(s["bytes"] for s in use)
pkts = by / length
end = t.get("end", {})
sent = end.get("sum_sent") or end.get("sum") or {}
total = sum(s["seconds"] for s in iv)
print("OK %.0f %.0f %.1f %.0f %.3f" % (by * 8 / secs, (by + pkts * ov) * 8 / secs,
                                        pkts / secs, sent.get("bits_per_second", 0),
                                        total))
' "${FLOW_RX[$name]}" "${FLOW_TX[$name]}" "$skipn" \
		"${FLOW_LEN[$name]}" "${FLOW_OV[$name]}"
)
	read -r st FLOW_BPS FLOW_WIRE FLOW_PPS FLOW_SENT total <<<"$out"
	if [ "$st" = OK ]; then
		FLOW_RCVBUF=$(($(rcvbuf_errors "${FLOW_RXNS[$name]}") - FLOW_RCVBUF0[$name]))
		FLOW_LOSTBPS=$(calc "$FLOW_RCVBUF * (${FLOW_LEN[$name]} + ${FLOW_OV[$name]}) * 8 / $total")
	else
		FLOW_ERR="${out#ERR }; $(cat "$WORK/$name".*.err 2>/dev/null | tr '\n' ' ' | cut -c1-200)"
		FLOW_BPS=0 FLOW_WIRE=0 FLOW_PPS=0 FLOW_SENT=0
		return 1
	fi
	return 0
}

# measure NAME SKIP KEY=VALUE...: one flow, start to end.
measure() {
	local name=$1 skipn=$2
	shift 2
	flow_start "$name" "$@" || return 1
	flow_wait "$name" "$skipn"
}

# flow_line LABEL: one readable line about the last flow_wait.
flow_line() {
	if [ -n "$FLOW_ERR" ]; then
		echo "$1: failed: $FLOW_ERR"
	else
		printf '%s: %s Mbit/s received (%s on the wire, %.0f pkt/s), sent %s%s\n' \
			"$1" "$(mbit "$FLOW_BPS")" "$(mbit "$FLOW_WIRE")" \
			"$FLOW_PPS" "$(mbit "$FLOW_SENT")" \
			"$([ "${FLOW_RCVBUF:-0}" -gt 0 ] && echo ", receiver socket dropped $FLOW_RCVBUF")"
	fi
}
