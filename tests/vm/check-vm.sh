#!/bin/sh
# SPDX-License-Identifier: ISC
# check-vm.sh BUILDDIR STAGE: what "make check-vm" runs. Makes (or reuses)
# the Debian 12 guest image, boots it with BUILDDIR shared, and runs
# guest-checks.sh there on STAGE (a "make install DESTDIR=STAGE" of the
# build, which make did first).
#
# The output also goes to BUILDDIR/tests/vm/check-vm.log, whose last line
# is "N passed, N failed" or, when the checks could not run, "SKIP: why".
# Exit status: 0 every check passed; 1 a check failed, or the guest booted
# but the checks did not finish; 77 skipped for a reason outside the
# project: not root, no qemu or mmdebstrap, the image could not be made
# (no archive), the guest never booted.
#
# Environment: VM_DIR (image cache, default /var/tmp/schedd-vm), VM_REBUILD,
# VM_TIMEOUT, VM_ACCEL, VM_KEEP: see mkimage.sh and boot.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
builddir=$(cd "${1:?usage: check-vm.sh BUILDDIR STAGE}" && pwd)
stage=${2:?usage: check-vm.sh BUILDDIR STAGE}
log=$builddir/tests/vm/check-vm.log
mkdir -p "$builddir/tests/vm"
: >"$log"
NAME=check-vm
. "$here/host-lib.sh"


need_vm_tools

[ -x "$stage/usr/local/sbin/schedd" ] || [ -n "$(find "$stage" -name schedd -type f)" ] ||
	fail "no schedd in $stage"
# A build configured --with-systemdsystemunitdir=no installs no unit.
if [ -z "$(find "$stage" -name schedd.service)" ]; then
	mkdir -p "$stage/etc/systemd/system"
	cp "$builddir/systemd/schedd.service" "$stage/etc/systemd/system/"
fi

# run STATUSFILE COMMAND...: COMMAND's output to the terminal and the log
# as it comes, its exit status into STATUSFILE.
run() {
	status=$1
	shift
	{ "$@"; echo $? >"$status"; } 2>&1 | tee -a "$log"
}

t0=$(date +%s)
run "$builddir/tests/vm/.rc" sh "$here/mkimage.sh" >&2
[ "$(cat "$builddir/tests/vm/.rc")" = 0 ] ||
	skip "could not make the guest image (see above); schedd was not tried"
t1=$(date +%s)

run "$builddir/tests/vm/.rc" \
    bash "$here/boot.sh" -s "$builddir" "$here/guest-checks.sh" "$stage"
rc=$(cat "$builddir/tests/vm/.rc")
rm -f "$builddir/tests/vm/.rc"
t2=$(date +%s)
say "image $((t1 - t0)) s, boot and checks $((t2 - t1)) s"
case $rc in
125) skip "the guest did not boot (see above): not a failure of schedd" ;;
124) say "the checks did not finish in time (VM_TIMEOUT)"
     echo "0 passed, 1 failed" >>"$log"
     exit 1 ;;
esac
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
if [ -z "$line" ]; then
	say "the checks ended (exit $rc) without their summary line"
	echo "0 passed, 1 failed" >>"$log"
	exit 1
fi
echo "$line" >>"$log"
[ "$rc" -eq 0 ] && exit 0
exit 1
