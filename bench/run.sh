#!/bin/sh
# SPDX-License-Identifier: ISC
# Run every benchmark (issue 6) and rewrite bench/RESULTS.md; about 5 minutes
# on a 2-CPU machine, never more than 10.
#
# usage: bench/run.sh            (from the source or the build tree)
#        make bench              (the same, through automake)
#        bench/run.sh faults     the fault benchmark (issue 12) instead:
#                                bench/faults.py, about 3 minutes; it
#                                replaces only the "Faults (issue 12)"
#                                section of bench/RESULTS.md
#        make bench-faults       (the same, through automake)
#        bench/run.sh logs       the job output benchmark (issue 14):
#                                bench/logs.py, 1 GiB through a job's
#                                output against a plain file, and
#                                create+wait of /bin/true before and after
#                                (BENCH_LOGS_BEFORE=/path/to/old/schedd);
#                                replaces only its RESULTS.md section
#        bench/run.sh floor      issue 18's targets (bench/floor.py, about
#                                6 minutes): create+wait against the
#                                floor reference (bench/floor.c), GET
#                                against bare evhttp, 10,000 jobs, one-shot
#                                jobs against supervisord, cold start of
#                                100 jobs against s6 and supervisord, RSS
#                                and loop lag; replaces only its
#                                RESULTS.md section
#        bench/run.sh callgrind  where the instructions of a create+wait
#                                job go, schedd and the floor under
#                                valgrind's callgrind, by function group
#                                (bench/callgrind.py, about 3 minutes;
#                                needs valgrind); its own section
#   e.g. BENCH_BUILDDIR=build bench/run.sh faults
#        BENCH_BUILDDIR=build BENCH_QUICK=1 bench/run.sh faults  (a ~1 min check)
#   faults' own environment: BENCH_FAULTS=1,3 (only those faults),
#   BENCH_FAULTS_ROUNDS (default 3), BENCH_QUICK=1 (short faults, 1 round:
#   a smoke run), BENCH_FAULTS_BEFORE=1 (store the figures as the "before"
#   column, bench/faults-before.json), BENCH_FAULT_RSS_CAP_MB (default
#   2048). See bench/faults.py.
# environment: BENCH_BUILDDIR (the build tree holding ./schedd; default: the
#   source tree), BENCH_QUICK=1 (small N, 2 rounds: a smoke run, not a
#   result), BENCH_ROUNDS, BENCH_ONLY=spawn,latency,api,scale,durability,
#   peer,profile, BENCH_OUT (default bench/RESULTS.md in the source tree),
#   BENCH_COMMIT (the commit ./schedd was built from, when BENCH_BUILDDIR is
#   a clean export rather than this work tree).
#
# It builds the bench programs (through `make bench-progs` when the Makefile
# has that target, else straight with cc), installs supervisor from Debian if
# supervisord is missing and apt-get is there, raises RLIMIT_NOFILE for the
# scale benchmark, and hands over to bench/bench.py (bench/faults.py for
# `faults`, which needs no supervisor). Everything it starts
# runs on temporary sockets and directories and is killed by pid at the end.
set -eu

driver=bench.py
case ${1:-} in
faults) driver=faults.py ;;
logs) driver=logs.py ;;
floor) driver=floor.py ;;
callgrind) driver=callgrind.py ;;
"") ;;
*)
	echo "usage: bench/run.sh [faults | logs | floor | callgrind]" >&2
	exit 2
	;;
esac

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${BENCH_BUILDDIR:-$srcdir}
builddir=$(cd "$builddir" && pwd)
bindir=$builddir/bench

if [ ! -x "$builddir/schedd" ]; then
	echo "run.sh: $builddir/schedd not built (make schedd)" >&2
	exit 1
fi

# The programs: through automake if bench/include.am is wired in.
if [ -f "$builddir/Makefile" ] &&
    grep -q '^bench-progs:' "$builddir/Makefile" 2>/dev/null; then
	make -C "$builddir" -s bench-progs tests/integration/forkwait
else
	mkdir -p "$bindir"
	cc=${CC:-cc}
	w="-std=gnu11 -O2 -g -Wall -Wextra -I$srcdir -I$builddir"
	nolibc="-O2 -ffreestanding -fno-builtin -fno-stack-protector -fno-pie
	    -fno-asynchronous-unwind-tables -nostdlib -static -no-pie"
	b=$srcdir/bench
	$cc $w -o "$bindir/bare-spawn" "$b/bare-spawn.c" "$b/bench.c"
	$cc $w -o "$bindir/loadgen" "$b/loadgen.c" "$b/bench.c"
	$cc $w -o "$bindir/faultprobe" "$b/faultprobe.c" "$b/bench.c"
	$cc $w -o "$bindir/forkbomb" "$b/forkbomb.c"
	$cc $w -o "$bindir/upmark" "$b/upmark.c"
	$cc $w -o "$bindir/forkwait" "$srcdir/tests/integration/forkwait.c"
	# shellcheck disable=SC2046
	$cc $w $(pkg-config --cflags libevent jansson sqlite3) \
	    -o "$bindir/floor" "$b/floor.c" \
	    $(pkg-config --libs libevent jansson sqlite3)
	$cc $w -pthread -o "$bindir/schedd-bench" "$b/schedd-bench.c" \
	    "$b/bench.c"
	# shellcheck disable=SC2046
	$cc $w $(pkg-config --cflags libevent) -o "$bindir/bare-http" \
	    "$b/bare-http.c" $(pkg-config --libs libevent)
	# shellcheck disable=SC2086
	$cc $nolibc -o "$bindir/true-static" "$b/true-static.c"
	# shellcheck disable=SC2086
	$cc $nolibc -o "$bindir/stamp-static" "$b/stamp-static.c"
fi

# The peer: Debian's supervisor, if we can have it. policy-rc.d (or its
# absence of an init) keeps the package's own service from starting; we
# only ever run supervisord with our own config.
if { [ "$driver" = bench.py ] || [ "$driver" = floor.py ]; } &&
    ! command -v supervisord >/dev/null 2>&1 && [ "$(id -u)" = 0 ] &&
    command -v apt-get >/dev/null 2>&1; then
	echo "run.sh: installing supervisor (the peer benchmark)" >&2
	{ apt-get update -qq &&
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    supervisor; } >/dev/null 2>&1 ||
		echo "run.sh: could not install supervisor; peer skipped" >&2
fi
# And s6, for the cold start of issue 18 (bench/floor.py).
if [ "$driver" = floor.py ] && ! command -v s6-svscan >/dev/null 2>&1 &&
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "run.sh: installing s6 (the cold start benchmark)" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq s6 \
	    >/dev/null 2>&1 ||
		echo "run.sh: could not install s6; s6 skipped" >&2
fi

# 10,000 running jobs hold 10,000 pidfds in schedd.
ulimit -n "$(ulimit -H -n)" 2>/dev/null || true

# The floor section ends with the analysis of its missed targets.
[ "$driver" = floor.py ] &&
    export BENCH_FLOOR_NOTES="${BENCH_FLOOR_NOTES:-$srcdir/bench/floor-notes.md}"

py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
BENCH_SRCDIR=$srcdir BENCH_BUILDDIR=$builddir BENCH_BINDIR=$bindir \
    exec "$py" "$srcdir/bench/$driver"
