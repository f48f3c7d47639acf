#!/bin/sh
# SPDX-License-Identifier: ISC
# check-vm-deb.sh BUILDDIR DEB: what "make check-vm-deb" runs. Boots the
# Debian 12 guest of check-vm.sh (mkimage.sh makes or reuses it) with
# DEB's directory shared, and runs guest-deb-checks.sh there: apt install
# of the package, the service, a job, socket activation, and apt purge
# leaving nothing behind.
#
# The output also goes to BUILDDIR/tests/vm/check-vm-deb.log, whose last
# line is "N passed, N failed" or "SKIP: why". Exit status as check-vm.sh:
# 0 passed, 1 failed, 77 skipped for a reason outside the project.
set -u
here=$(cd "$(dirname "$0")" && pwd)
builddir=$(cd "${1:?usage: check-vm-deb.sh BUILDDIR DEB}" && pwd)
deb=${2:?usage: check-vm-deb.sh BUILDDIR DEB}
log=$builddir/tests/vm/check-vm-deb.log
mkdir -p "$builddir/tests/vm"
: >"$log"
NAME=check-vm-deb
. "$here/host-lib.sh"


need_vm_tools
[ -f "$deb" ] || fail "no package $deb"
debdir=$(cd "$(dirname "$deb")" && pwd -P)
deb=$debdir/$(basename "$deb")

run() {
	status=$1
	shift
	{ "$@"; echo $? >"$status"; } 2>&1 | tee -a "$log"
}

t0=$(date +%s)
run "$builddir/tests/vm/.rc-deb" sh "$here/mkimage.sh" >&2
[ "$(cat "$builddir/tests/vm/.rc-deb")" = 0 ] ||
	skip "could not make the guest image (see above); the package was not tried"
t1=$(date +%s)
run "$builddir/tests/vm/.rc-deb" \
    bash "$here/boot.sh" -s "$debdir" "$here/guest-deb-checks.sh" "$deb"
rc=$(cat "$builddir/tests/vm/.rc-deb")
rm -f "$builddir/tests/vm/.rc-deb"
t2=$(date +%s)
say "image $((t1 - t0)) s, boot and checks $((t2 - t1)) s"
case $rc in
125) skip "the guest did not boot (see above): not a failure of schedd" ;;
124) fail "the checks did not finish in time (VM_TIMEOUT)" ;;
esac
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
[ -n "$line" ] || fail "the checks ended (exit $rc) without their summary line"
echo "$line" >>"$log"
[ "$rc" -eq 0 ] && exit 0
exit 1
