#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/layers.sh - user/'s layers by its #include lines.
#
#   util  <  kern  <  lib  <  cli
#
# A file may include headers of its own layer and of the layers below it,
# always by "layer/name.h"; a module (name.c + name.h) may not reach itself
# again through other modules (no circle). Prints PASS/FAIL per rule.
#
#   tests/layers.sh [DIR]    DIR defaults to the repository's user/; the
#                            unit of the check is tested against a scratch
#                            tree with a violation planted (self-test).
set -u
cd "$(dirname "$0")/.."

check() {
	/usr/bin/python3 - "$1" <<'EOF'
import os, re, sys

root = sys.argv[1]
rank = {"util": 0, "kern": 1, "lib": 2, "cli": 3}
inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
bad, edges = [], {}

for layer in sorted(os.listdir(root)):
    d = os.path.join(root, layer)
    if not os.path.isdir(d):
        continue
    if layer not in rank:
        bad.append(f"user/{layer}/ is no layer ({', '.join(rank)})")
        continue
    for f in sorted(os.listdir(d)):
        if not f.endswith((".c", ".h")):
            continue
        mod = f"{layer}/{f.rsplit('.', 1)[0]}"
        edges.setdefault(mod, set())
        for h in inc.findall(open(os.path.join(d, f)).read()):
            if "/" not in h:
                if h == "tcbpf.h" or h.endswith(".skel.h"):
                    continue	# include/ and generated: below every layer
                bad.append(f"{layer}/{f} includes \"{h}\" without its layer")
                continue
            hl = h.split("/", 1)[0]
            if hl not in rank:
                bad.append(f"{layer}/{f} includes \"{h}\": no such layer")
            elif rank[hl] > rank[layer]:
                bad.append(f"{layer}/{f} ({layer}) includes \"{h}\" ({hl}): upwards")
            target = h.rsplit(".", 1)[0]
            if target != mod:
                edges[mod].add(target)

# circles: depth-first search over modules
state, stack, circles = {}, [], []
def dfs(m):
    state[m] = 1
    stack.append(m)
    for n in sorted(edges.get(m, ())):
        if state.get(n) == 1:
            circles.append(" -> ".join(stack[stack.index(n):] + [n]))
        elif n in edges and not state.get(n):
            dfs(n)
    stack.pop()
    state[m] = 2
for m in sorted(edges):
    if not state.get(m):
        dfs(m)
bad += [f"include circle: {c}" for c in circles]
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOF
}

pass=0
out=$(check user) && { echo "PASS: layers: includes point downwards, no circle"; pass=1; } ||
	echo "FAIL: layers: $(echo "$out" | tr '\n' ';')"

# The check itself must catch what it is for: plant each violation in a
# scratch copy and expect a failure naming it.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# selftest NAME WANT FILE LINE [FILE LINE]...
selftest() {
	local name=$1 want=$2 out
	shift 2
	rm -rf "$tmp/user" && cp -r user "$tmp/user"
	while [ $# -ge 2 ]; do
		printf '%s\n' "$2" >> "$tmp/user/$1"
		shift 2
	done
	if out=$(check "$tmp/user"); then
		echo "FAIL: layers self-test: $name not caught"
	elif ! grep -q -- "$want" <<<"$out"; then
		echo "FAIL: layers self-test: $name: said \"$out\""
	else
		echo "PASS: layers self-test: $name caught"
	fi
}
nth_h() { (cd user && ls "$1"/*.h | sed -n "$2p"); }
selftest upwards upwards "$(nth_h kern 1)" "#include \"$(nth_h lib 1)\""
selftest "no layer" "without its layer" "$(nth_h lib 1)" '#include "log.h"'
a=$(nth_h lib 1) b=$(nth_h lib 2)
selftest circle "include circle" "$a" "#include \"$b\"" "$b" "#include \"$a\""
