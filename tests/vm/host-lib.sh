# SPDX-License-Identifier: ISC
# Sourced by check-vm.sh and check-vm-deb.sh (on the host): their log,
# how they say, skip and fail, and the tools a guest run needs. The
# sourcing script sets NAME (its name in messages) and log first.

say() { echo "$NAME: $*" | tee -a "$log" >&2; }
skip() { say "$*"; echo "SKIP: $*" >>"$log"; exit 77; }
fail() { say "$*"; echo "0 passed, 1 failed" >>"$log"; exit 1; }

# Root, QEMU and what makes the image: skip (77) with the reason if not.
need_vm_tools() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (mmdebstrap, qemu's 9p shares)"
	missing=
	for tool in qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils \
	    mmdebstrap:mmdebstrap mkfs.ext4:e2fsprogs cpio:cpio xz:xz-utils; do
		PATH=$PATH:/usr/sbin:/sbin command -v "${tool%%:*}" \
		    >/dev/null 2>&1 || missing="$missing ${tool#*:}"
	done
	[ -z "$missing" ] ||
		skip "missing tools; on Debian: apt-get install$missing"
}
