#!/bin/sh
# SPDX-License-Identifier: ISC
# The README's two commands, for a fresh Debian 12 machine as root:
#   sh quickstart.sh demo   install what is missing, build, start schedd with
#                           its default paths and run a job through it
#   sh quickstart.sh test   install what is missing, build, run every test
#                           (plain build, then ASan+UBSan), make distcheck,
#                           then make check-vm (schedd under systemd on
#                           cgroup v2, in a QEMU guest) when QEMU can be
#                           installed; SCHEDD_CHECK_VM=no leaves it out;
#                           then make check-slurm (a Slurm cluster in
#                           network namespaces, a schedd per node) with
#                           slurm-wlm and munge installed when missing;
#                           SCHEDD_CHECK_SLURM=no leaves it out
# .ci/run runs "sh quickstart.sh test".
set -eu

cd "$(dirname "$0")"
TOP=$(pwd)
JOBS=$(nproc 2>/dev/null || echo 2)

PACKAGES="build-essential autoconf automake autoconf-archive pkg-config \
libevent-dev libjansson-dev libsqlite3-dev libcmocka-dev libcurl4-openssl-dev \
sqlite3 curl procps systemd groff-base man-db python3-yaml python3-jsonschema"

say() { printf '\n==> %s\n' "$*"; }

# missing_of PACKAGE...: the ones not installed, in $missing.
missing_of() {
	missing=
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q 'install ok installed' || missing="$missing $p"
	done
}

install_missing() {
	missing_of $PACKAGES
	if [ -n "$missing" ]; then
		say "installing:$missing"
		if [ "$(id -u)" -ne 0 ]; then
			echo "quickstart: run as root to install packages" >&2
			exit 1
		fi
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends $missing
	fi
}

build() { # build DIR [configure args...]
	dir=$1; shift
	say "building in $dir ($*)"
	[ -x "$TOP/configure" ] || (cd "$TOP" && autoreconf -fi)
	mkdir -p "$dir"
	# The programs in /usr/local, their files where a system keeps them:
	# /etc/schedd/schedd.conf, /var/lib/schedd, /run/schedd/schedd.sock.
	(cd "$dir" && "$TOP/configure" -q --sysconfdir=/etc \
	    --localstatedir=/var --runstatedir=/run "$@" && make -s -j"$JOBS")
}

# Sum the cmocka cases of every test log; a binary that died before its
# summary counts as one failure, an exit-77 binary as one skip.
count() {
	pass=0 fail=0 skip=0
	for trs in $(find "$@" -name '*.trs' 2>/dev/null); do
		log=${trs%.trs}.log
		res=$(sed -n 's/^:test-result: //p' "$trs" | head -1)
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" |
		    awk '{s+=$1} END {print s+0}')
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" |
		    awk '{s+=$1} END {print s+0}')
		case $res in
		SKIP) skip=$((skip + 1)) ;;
		PASS) pass=$((pass + p)); [ "$p" -eq 0 ] && pass=$((pass + 1)) ;;
		*) pass=$((pass + p)); fail=$((fail + f));
		   [ "$f" -eq 0 ] && fail=$((fail + 1)) ;;
		esac
	done
	echo "$pass $fail $skip"
}

check() { # check DIR
	# Judges the tests use when they can (issue 15): promtool for
	# /metrics, chromium and node for the status page; without them
	# those tests SKIP and say so.
	try_install observe-tests $OBSERVE_PACKAGES
	say "make check in $1"
	(cd "$1" && make -s -j"$JOBS" check) || {
		cat "$1/test-suite.log" 2>/dev/null || true
		return 1
	}
}

# make check-vm, if QEMU and mmdebstrap are there or can be installed from
# the Debian archive; otherwise say why it is skipped. It fails only for a
# check that failed in a guest that booted (tests/vm/README.md).
VM_PACKAGES="qemu-system-x86 qemu-utils mmdebstrap e2fsprogs cpio xz-utils"
OBSERVE_PACKAGES="prometheus chromium nodejs"
DEB_PACKAGES="debhelper dpkg-dev devscripts lintian"
# try_install WHAT PACKAGE...: install what is missing, if we can; the
# check itself says why it skips when something is still missing.
try_install() {
	what=$1; shift
	missing_of "$@"
	[ -n "$missing" ] && [ "$(id -u)" -eq 0 ] || return 0
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq &&
	    apt-get install -y -qq --no-install-recommends $missing; } \
	    >/dev/null 2>&1 ||
	    echo "$what: could not install$missing from the archive"
}

check_vm() { # check_vm DIR
	if [ "${SCHEDD_CHECK_VM:-yes}" = no ]; then
		mkdir -p "$1/tests/vm"
		echo "SKIP: check-vm (SCHEDD_CHECK_VM=no)" >"$1/tests/vm/check-vm.log"
		return 0
	fi
	say "make check-vm in $1 (schedd under systemd on cgroup v2, in QEMU)"
	try_install check-vm $VM_PACKAGES
	# check-vm skips with its reason when something is still missing.
	(cd "$1" && make -s check-vm) || vrc=1
	# The Debian package, built here and installed in the same guest;
	# lintian must find no error in it.
	try_install check-vm-deb $DEB_PACKAGES
	say "make check-vm-deb in $1 (the .deb: apt install, service, purge)"
	rm -f "$1/tests/vm/check-vm-deb.log"
	(cd "$1" && make -s check-vm-deb) || vrc=1
	[ -s "$1/tests/vm/check-vm-deb.log" ] ||
	    echo "SKIP: check-vm-deb (no package tools, see above)" \
		>"$1/tests/vm/check-vm-deb.log"
	for deb in "$1"/tests/vm/deb/schedd_*.deb; do
		[ -f "$deb" ] && command -v lintian >/dev/null 2>&1 || continue
		say "lintian $(basename "$deb")"
		lintian -I --pedantic "$deb" 2>&1 | tee "$1/tests/vm/lintian.log"
		if grep -q '^E:' "$1/tests/vm/lintian.log"; then
			echo "lintian: errors"; vrc=1
		fi
	done
	return ${vrc:-0}
}

# make check-slurm, with Debian's slurm-wlm and munge installed when they
# are missing; it skips, saying why, only when they cannot be.
SLURM_PACKAGES="slurm-wlm munge"
check_slurm() { # check_slurm DIR
	mkdir -p "$1/tests/slurm"
	if [ "${SCHEDD_CHECK_SLURM:-yes}" = no ]; then
		echo "SKIP: check-slurm (SCHEDD_CHECK_SLURM=no)" \
		    >"$1/tests/slurm/check-slurm.log"
		return 0
	fi
	say "make check-slurm in $1 (slurmctld and two slurmd in network" \
	    "namespaces, a schedd per node)"
	try_install check-slurm $SLURM_PACKAGES
	(cd "$1" && make -s check-slurm)
}

# Add the VM checks' last line ("N passed, N failed" or "SKIP: why") to
# the counts of count; no such line (make check-vm broke first) is one
# failure.
count_vm() { # count_vm LOG PASS FAIL SKIP
	last=$(tail -n 1 "$1" 2>/dev/null)
	case $last in
	[0-9]*" passed, "[0-9]*" failed")
		p=${last%% passed*}
		f=${last#* passed, }
		f=${f% failed}
		echo "$(($2 + p)) $(($3 + f)) $4" ;;
	SKIP:*)	echo "$2 $3 $(($4 + 1))" ;;
	*)	echo "$2 $(($3 + 1)) $4" ;;
	esac
}

cmd_test() {
	install_missing
	rc=0
	build "$TOP/build" || exit 1
	check "$TOP/build" || rc=1
	build "$TOP/build-asan" --enable-sanitizers || exit 1
	check "$TOP/build-asan" || rc=1
	say "make distcheck"
	# A failure leaves the tree; the logs of its failed tests are shown
	# now, before a later `make dist` (check-vm-deb) removes it.
	(cd "$TOP/build" && make -s distcheck >distcheck.log 2>&1) || {
		tail -50 "$TOP/build/distcheck.log"
		cat "$TOP"/build/schedd-*/_build/sub/test-suite.log \
		    2>/dev/null || true
		rc=1; }
	check_vm "$TOP/build" || rc=1
	check_slurm "$TOP/build" || rc=1
	set -- $(count "$TOP/build/tests" "$TOP/build-asan/tests")
	set -- $(count_vm "$TOP/build/tests/vm/check-vm.log" "$@")
	if [ "${SCHEDD_CHECK_VM:-yes}" != no ]; then
		set -- $(count_vm "$TOP/build/tests/vm/check-vm-deb.log" "$@")
	fi
	set -- $(count_vm "$TOP/build/tests/slurm/check-slurm.log" "$@")
	echo
	if [ "$3" -gt 0 ]; then
		echo "$1 passed, $2 failed, $3 skipped"
	else
		echo "$1 passed, $2 failed"
	fi
	[ "$2" -eq 0 ] || rc=1
	exit $rc
}

cmd_demo() {
	install_missing
	build "$TOP/build"
	sock=/run/schedd/schedd.sock
	ctl="$TOP/build/schedctl"
	if ! "$ctl" health >/dev/null 2>&1; then
		say "starting schedd (socket $sock, state /var/lib/schedd)"
		"$TOP/build/schedd" --daemonize
		for i in 1 2 3 4 5 6 7 8 9 10; do
			"$ctl" health >/dev/null 2>&1 && break
			sleep 0.2
		done
	fi
	"$ctl" health
	say "schedctl run --name hello -- sh -c 'echo hello from schedd; sleep 30'"
	"$ctl" rm -f hello >/dev/null 2>&1 || true
	"$ctl" run --name hello -- sh -c 'echo hello from schedd; sleep 30'
	sleep 0.3
	say "schedctl ps"
	"$ctl" ps
	say "schedctl logs hello"
	"$ctl" logs hello
	say "curl --unix-socket $sock http://localhost/v1/jobs/hello"
	curl -s --unix-socket "$sock" http://localhost/v1/jobs/hello
	echo
	pid=$(curl -s --unix-socket "$sock" http://localhost/v1/health |
	    sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
	say "schedd (pid $pid) keeps running. Try: $ctl ps -a; $ctl stop hello." \
	    "Stop the daemon and its jobs with: kill -TERM $pid"
}

case ${1:-} in
demo) cmd_demo ;;
test) cmd_test ;;
*) echo "usage: sh quickstart.sh demo|test" >&2; exit 2 ;;
esac
