#!/bin/sh
# SPDX-License-Identifier: ISC
# What the drift check costs (issue 17): with an exclusive job running,
# the worker walks every task of the machine once a second. This starts
# N sleeping processes of its own (killed by pid at the end) for N in
# $DRIFT_NS, waits for a few scans at each N and prints the last scan's
# time and task count from GET /v1/cpus, and the loop lag GET /v1/health
# saw meanwhile (the scan must never hold the loop).
# Usage: flock /work/.heavy.lock sh bench/drift-scan.sh [BUILD_DIR]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top}
ns=${DRIFT_NS:-0 1000 2000 4000}
dir=$(mktemp -d /tmp/schedd-driftscan.XXXXXX)
touch "$dir/schedd.conf"
"$build/schedd" --foreground --config "$dir/schedd.conf" --socket "$dir/s.sock" \
    --state-dir "$dir/state" --log-level warn 2>"$dir/schedd.log" &
daemon=$!
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	kill -TERM "$daemon" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
ctl() { "$build/schedctl" --socket "$dir/s.sock" "$@"; }
i=0
until ctl health >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 50 ] || { cat "$dir/schedd.log"; exit 1; }
	sleep 0.1
done
ctl run --name guarded --exclusive-cpus 1 -- sleep 600 >/dev/null
have=0
echo "| sleeping processes added | tasks scanned | scan time (worker) | loop lag max |"
echo "|---|---|---|---|"
for n in $ns; do
	while [ $have -lt "$n" ]; do
		sleep 600 &
		pids="$pids $!"
		have=$((have + 1))
	done
	sleep 4
	cpus=$(ctl --json cpus)
	us=$(echo "$cpus" | sed -n 's/.*"scan_us": \([0-9]*\).*/\1/p')
	tasks=$(echo "$cpus" | sed -n 's/.*"tasks": \([0-9]*\).*/\1/p')
	lag=$(ctl --json health | sed -n 's/.*"loop_lag_max_ms": \([0-9]*\).*/\1/p')
	echo "| $n | $tasks | $us us | $lag ms |"
done
