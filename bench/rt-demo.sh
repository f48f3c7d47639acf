#!/bin/sh
# SPDX-License-Identifier: ISC
# The real-time demonstration of issue 3: cyclictest started through
# schedctl with an exclusive CPU and SCHED_FIFO, against the same cyclictest
# as SCHED_OTHER on the shared pool, both while stress-ng --cpu 2 loads the
# machine. Each run is bounded (20,000 loops of 1 ms = 20 s); cyclictest
# sleeps between wake-ups, so the FIFO job never busy-loops. Writes the
# "Real-time demonstration" section of bench/RESULTS.md (between markers).
# Usage: sh bench/rt-demo.sh [BUILD_DIR]   (needs root, rt-tests, stress-ng)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top}
schedd=$build/schedd
schedctl=$build/schedctl
loops=${RT_LOOPS:-20000}
results=$top/bench/RESULTS.md

for t in cyclictest stress-ng; do
	command -v $t >/dev/null || {
		echo "rt-demo: $t missing (apt-get install rt-tests stress-ng)" >&2
		exit 1
	}
done
dir=$(mktemp -d /tmp/schedd-rt.XXXXXX)
touch "$dir/schedd.conf"
"$schedd" --foreground --config "$dir/schedd.conf" --socket "$dir/s.sock" \
    --state-dir "$dir/state" --log-level warn 2>"$dir/schedd.log" &
daemon=$!
stress=
cleanup() {
	[ -n "$stress" ] && kill "$stress" 2>/dev/null
	kill -TERM "$daemon" 2>/dev/null
	wait "$daemon" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
ctl() { "$schedctl" --socket "$dir/s.sock" "$@"; }
i=0
until ctl health >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 50 ] || { cat "$dir/schedd.log"; exit 1; }
	sleep 0.1
done

stress-ng --cpu 2 --timeout $((loops / 1000 * 2 + 30))s --quiet &
stress=$!
sleep 2

# -q: summary only; -m: lock memory; -i 1000 us; -l loops; one thread. The FIFO run's
# measuring thread is FIFO 80 (-p 80) inside the job schedd made FIFO 80 on
# an exclusive CPU (with its cgroup RT budget).
ctl run --name rt --exclusive-cpus 1 --policy fifo --priority 80 -- \
    cyclictest -m -q -i 1000 -l "$loops" -p 80 >/dev/null
rt_cpu=$(ctl --json show rt | sed -n 's/.*"cpus_effective": "\([^"]*\)".*/\1/p')
ctl wait rt >/dev/null || true
# cyclictest always raises a thread to an RT policy, which a job cgroup
# without RT budget refuses: the SCHED_OTHER reference runs outside schedd,
# on the shared CPU, as BASELINE.md measured it.
shared=$(ctl --json cpus | sed -n 's/.*"shared": "\([^"]*\)".*/\1/p')
taskset -c "${shared:-0-1}" cyclictest -m -q -i 1000 -l "$loops" \
    --policy=other > "$dir/other.out" 2>&1 || true
kill "$stress" 2>/dev/null || true
stress=

rt=$(ctl logs rt | grep 'T: 0' | tail -1)
ot=$(grep 'T: 0' "$dir/other.out" | tail -1)
field() { echo "$1" | sed -n "s/.*$2: *\([0-9]*\).*/\1/p"; }
commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
section=$(cat <<EOT
<!-- rt-demo begin -->
## Real-time demonstration (issue 3)

\`sh bench/rt-demo.sh\` at commit \`$commit\`, $(date -u '+%Y-%m-%d %H:%M UTC'):
cyclictest, 1 ms interval, $loops loops, while \`stress-ng --cpu 2\` loads
both CPUs. One run through \`schedctl run --exclusive-cpus 1 --policy fifo
--priority 80\` (it got CPU $rt_cpu; cyclictest's thread at FIFO 80), one as
SCHED_OTHER pinned to the shared pool (CPU ${shared:-?}) outside schedd.

| run | min µs | avg µs | max µs |
|---|---|---|---|
| FIFO 80, exclusive CPU | $(field "$rt" Min) | $(field "$rt" Avg) | $(field "$rt" Max) |
| SCHED_OTHER, shared pool | $(field "$ot" Min) | $(field "$ot" Avg) | $(field "$ot" Max) |

Raw: FIFO \`$rt\`; OTHER \`$ot\`. Maximum latencies in this VM are the
hypervisor's (BASELINE.md: up to 50 ms); compare the averages.
<!-- rt-demo end -->
EOT
)
if [ -f "$results" ] && grep -q '<!-- rt-demo begin -->' "$results"; then
	awk -v s="$section" '
	    /<!-- rt-demo begin -->/ { print s; skip = 1; next }
	    /<!-- rt-demo end -->/ { skip = 0; next }
	    !skip' "$results" > "$results.tmp" && mv "$results.tmp" "$results"
else
	printf '\n%s\n' "$section" >> "$results"
fi
echo "$section"
