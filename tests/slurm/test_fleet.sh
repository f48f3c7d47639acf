#!/bin/sh
# SPDX-License-Identifier: ISC
# schedd-fleet against two real daemons with TCP listeners and a token:
# one merged stream tagged per node, a cursor file per node that resumes
# without repeating or losing an event, and a node killed with -9 and
# restarted mid-stream. Needs root (the token file must belong to root);
# exits 77 without it. Prints "ok"/"not ok" lines and fails on any.
set -u

SCHEDD=${SCHEDD:?}
SCHEDCTL=${SCHEDCTL:?}
FLEET=$(dirname "$SCHEDCTL")/schedd-fleet

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }

W=$(mktemp -d /tmp/schedd-fleet-test.XXXXXX)
P1=$((20000 + $$ % 20000))
P2=$((P1 + 1))
PIDS=
fail=0
cleanup() {
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fail=1; }

{ head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; echo " root"; } \
    >"$W/token"
chmod 600 "$W/token"

start() { # start N PORT
	mkdir -p "$W/n$1/jobs"
	cat >"$W/n$1/schedd.conf" <<EOF
cgroup_root = schedd-fleet-test-$$-n$1
jobs_dir = $W/n$1/jobs
listen = 127.0.0.1:$2
token_file = $W/token
EOF
	"$SCHEDD" -f -s "$W/n$1/s.sock" -S "$W/n$1/state" \
	    -c "$W/n$1/schedd.conf" >>"$W/n$1/log" 2>&1 &
	eval "PID$1=$!"
	PIDS="$PIDS $!"
	i=0
	while ! "$SCHEDCTL" --socket "$W/n$1/s.sock" health >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || { cat "$W/n$1/log"; exit 1; }
		sleep 0.1
	done
}
run() { "$SCHEDCTL" --socket "$W/n$1/s.sock" run -w --label "node=n$1" \
    -- true >/dev/null; }
fleet() {
	"$FLEET" --token-file "$W/token" --cursor "$W/cursor" \
	    --until-idle 1 "127.0.0.1:$P1" "127.0.0.1:$P2" 2>>"$W/fleet.err"
}

start 1 "$P1"
start 2 "$P2"
run 1; run 2
fleet >"$W/a"
n1=$(grep -c "^127.0.0.1:$P1 {" "$W/a")
n2=$(grep -c "^127.0.0.1:$P2 {" "$W/a")
if [ "$n1" -eq 3 ] && [ "$n2" -eq 3 ]; then
	ok "both nodes' events in one stream, tagged (3 + 3)"
else
	notok "both nodes' events in one stream, tagged ($n1 + $n2)"; cat "$W/a"
fi
grep -q '"labels":{"node":"n2"}' "$W/a" &&
    ok "labels ride along" || notok "labels ride along"
if [ "$(cat "$W/cursor")" = "127.0.0.1:$P1 3
127.0.0.1:$P2 3" ]; then
	ok "the cursor file holds the last id per node"
else
	notok "the cursor file: $(cat "$W/cursor")"
fi

# Resume: only what is new, from each node.
run 1
fleet >"$W/b"
if [ "$(wc -l <"$W/b")" -eq 3 ] && ! grep -q "^127.0.0.1:$P2 " "$W/b" &&
    grep -q "^127.0.0.1:$P1 {\"id\":4," "$W/b"; then
	ok "resumes from the cursor: no repeat, no loss"
else
	notok "resume"; cat "$W/b"
fi

# A node killed with -9 and back while following: nothing lost.
"$FLEET" --token-file "$W/token" --cursor "$W/cursor" "127.0.0.1:$P1" \
    "127.0.0.1:$P2" >"$W/c" 2>>"$W/fleet.err" &
FP=$!
PIDS="$PIDS $FP"
sleep 0.5
kill -KILL "$PID2"
run 1
start 2 "$P2"
run 2
i=0
while [ "$(grep -c "^127.0.0.1:$P2 " "$W/c")" -lt 3 ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
kill -TERM "$FP"
if [ "$(grep -c "^127.0.0.1:$P2 {\"id\":[4-6]," "$W/c")" -eq 3 ] &&
    [ "$(grep -c "^127.0.0.1:$P1 {\"id\":[7-9]," "$W/c")" -eq 3 ]; then
	ok "follows a node through kill -9 and restart"
else
	notok "kill -9 and restart"; cat "$W/c" "$W/fleet.err"
fi
exit $fail
