#!/bin/sh
# SPDX-License-Identifier: ISC
# mkimage.sh [VM_DIR]: make (or reuse) the Debian 12 guest that boot.sh runs.
#
# Everything comes from the Debian archive: the root file system from
# mmdebstrap, the kernel from Debian's linux-image package. VM_DIR
# (default $VM_DIR, else /var/tmp/schedd-vm) ends up holding
#   rootfs.img  raw ext4, systemd as PID 1; nothing of schedd is in it (the
#               build tree is shared at boot)
#   vmlinuz     Debian's kernel; vmlinux is the same kernel uncompressed,
#               which QEMU starts through its PVH entry point, skipping the
#               decompressor (seconds under software emulation)
#   initrd.img  a tiny initrd: busybox loads the virtio and ext4 modules,
#               mounts /dev/vda and hands over to systemd (no udev, no
#               initramfs-tools)
#   image.key   what the image was made from; an image whose key matches is
#               reused, anything else is rebuilt (VM_REBUILD=1 forces it)
#
# Environment: VM_SUITE (bookworm), VM_MIRROR (a sources file or URL for
# mmdebstrap; default the host's Debian sources, else deb.debian.org),
# VM_EXTRA_PKGS (more guest packages). Needs root, mmdebstrap, mkfs.ext4,
# cpio and xz. Exit status: 0 image ready, 1 it could not be made.
set -eu

# Called by mmdebstrap as a customize hook: adjust the guest tree in $2.
if [ "${1:-}" = --customize ]; then
	root=$2
	PATH=/usr/sbin:/usr/bin:/sbin:/bin
	# Debian's kernel: the package linux-image-amd64 points at, unpacked
	# into the tree. Installing it through dpkg would drag in
	# initramfs-tools and build an initrd this guest never uses.
	kpkg=$(chroot "$root" apt-cache depends linux-image-amd64 |
	    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
	[ -n "$kpkg" ] || { echo "mkimage: no kernel behind linux-image-amd64" >&2; exit 1; }
	chroot "$root" sh -c "cd /var/cache/apt/archives && apt-get download -q $kpkg" >&2
	# (tar, not dpkg-deb -x: /lib must stay the merged-/usr symlink.)
	for deb in "$root"/var/cache/apt/archives/"$kpkg"_*.deb; do
		dpkg-deb --fsys-tarfile "$deb" |
		    tar -x --keep-directory-symlink -C "$root"
		rm -f "$deb"
	done
	kver=${kpkg#linux-image-}
	chroot "$root" depmod -a "$kver"

	echo schedd-vm >"$root/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\tschedd-vm\n' >"$root/etc/hosts"
	chroot "$root" passwd -q -d root      # for vm-shell by hand: log in as root
	mkdir -p "$root/etc/systemd/journald.conf.d"
	printf '[Journal]\nStorage=volatile\n' \
	    >"$root/etc/systemd/journald.conf.d/schedd-vm.conf"

	# The runner: when the kernel command line says schedd.vm, mount the
	# 9p share "vmrun" and run the guest.sh that boot.sh put there, so that
	# what runs lives in the build tree, not in the image.
	mkdir -p "$root/usr/local/libexec"
	cat >"$root/usr/local/libexec/schedd-vm-run" <<'EOF'
#!/bin/sh
# Started by schedd-vm-run.service: run the host's guest.sh, then power off.
mkdir -p /run/vmrun
modprobe -q 9pnet_virtio
if mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 vmrun /run/vmrun &&
    [ -r /run/vmrun/guest.sh ]; then
	exec /bin/bash /run/vmrun/guest.sh
fi
echo "schedd-vm-run: no share vmrun with a guest.sh" >/dev/console
systemctl poweroff --no-block
EOF
	chmod 755 "$root/usr/local/libexec/schedd-vm-run"
	cat >"$root/etc/systemd/system/schedd-vm-run.service" <<'EOF'
[Unit]
Description=Run the schedd VM checks from the host's share
ConditionKernelCommandLine=schedd.vm
# After boot, so that what runs sees a settled system.
After=multi-user.target

[Service]
Type=exec
ExecStart=/usr/local/libexec/schedd-vm-run
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
EOF
	chroot "$root" systemctl enable -q schedd-vm-run.service
	# Nothing in the guest that runs on a timer or waits for a terminal,
	# nor boot steps that cost seconds under emulation and serve no check
	# (the random seed, module loads for hardware the guest lacks).
	chroot "$root" systemctl mask -q apt-daily.timer \
	    apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
	    e2scrub_reap.service fstrim.timer systemd-tmpfiles-clean.timer \
	    getty@tty1.service serial-getty@ttyS0.service \
	    systemd-timesyncd.service systemd-random-seed.service \
	    modprobe@dm_mod.service modprobe@drm.service \
	    modprobe@efi_pstore.service modprobe@fuse.service
	exit 0
fi

VM_DIR=${1:-${VM_DIR:-/var/tmp/schedd-vm}}
SUITE=${VM_SUITE:-bookworm}
SELF=$(readlink -f "$0")
PATH=$PATH:/usr/sbin:/sbin

# What the guest needs: systemd as init, schedd's and schedctl's runtime
# libraries (plus the sanitizer runtimes, for an --enable-sanitizers
# build), the tools the checks use, busybox for the initrd, and adduser,
# which the Debian package's postinst needs (make check-vm-deb: the guest
# has no network, so every dependency of the package must be here).
PKGS="systemd systemd-sysv dbus kmod procps util-linux psmisc curl jq sqlite3
libevent-2.1-7 libevent-extra-2.1-7 libjansson4 libsqlite3-0 libcurl4
libasan8 libubsan1 busybox-static adduser ${VM_EXTRA_PKGS:-}"

say() { echo "mkimage: $*" >&2; }

[ "$(id -u)" -eq 0 ] || { say "needs root (mmdebstrap, chroot)"; exit 1; }
for tool in mmdebstrap mkfs.ext4 cpio xz flock sha256sum; do
	command -v "$tool" >/dev/null 2>&1 || { say "needs $tool"; exit 1; }
done

# The archive: the host's own Debian sources (its mirror, its snapshot
# pin) when it has them, else the Debian archive itself.
if [ -n "${VM_MIRROR:-}" ]; then
	MIRROR=$VM_MIRROR
elif [ -s /etc/apt/sources.list.d/debian.sources ]; then
	MIRROR=/etc/apt/sources.list.d/debian.sources
elif grep -qs '^deb .*debian' /etc/apt/sources.list; then
	MIRROR=/etc/apt/sources.list
else
	MIRROR=$(mktemp)
	printf '%s\n' \
	    "deb http://deb.debian.org/debian $SUITE main" \
	    "deb http://deb.debian.org/debian $SUITE-updates main" \
	    "deb http://deb.debian.org/debian-security $SUITE-security main" \
	    >"$MIRROR"
fi

mkdir -p "$VM_DIR"
VM_DIR=$(cd "$VM_DIR" && pwd)
# One build at a time; a second caller waits, then finds the image made.
exec 9>"$VM_DIR/.lock"
flock 9

key=$( { cat "$SELF"; echo "$SUITE $PKGS"; [ -f "$MIRROR" ] && cat "$MIRROR" ||
    echo "$MIRROR"; } | sha256sum | cut -c1-16)
if [ "${VM_REBUILD:-0}" != 1 ] && [ "$(cat "$VM_DIR/image.key" 2>/dev/null)" = "$key" ] &&
    [ -s "$VM_DIR/rootfs.img" ] && [ -s "$VM_DIR/initrd.img" ] && [ -s "$VM_DIR/vmlinuz" ]; then
	say "image $key in $VM_DIR is up to date"
	exit 0
fi

say "building the $SUITE image into $VM_DIR (key $key)"
t0=$(date +%s)
WORK=$(mktemp -d "$VM_DIR/.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 1' HUP INT TERM
ROOT=$WORK/root
rm -f "$VM_DIR/image.key"

# Man pages, docs and translations are of no use in the guest.
mmdebstrap --mode=root --format=directory --variant=minbase \
    --include="$(echo $PKGS | tr ' ' ',')" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook="'$SELF' --customize \"\$1\"" \
    "$SUITE" "$ROOT" "$MIRROR" >"$WORK/mmdebstrap.log" 2>&1 || {
	tail -n 30 "$WORK/mmdebstrap.log" >&2
	say "mmdebstrap failed"
	exit 1
}
t1=$(date +%s)

kver=$(ls "$ROOT/lib/modules" | head -n 1)
cp "$ROOT/boot/vmlinuz-$kver" "$WORK/vmlinuz"

# vmlinux: bzImage carries the kernel as one xz stream after its setup code.
# Find the stream's magic and decompress from there; xz stops at the end of
# the stream and warns about the trailing bytes, which is expected.
off=$(LC_ALL=C grep -aboU -m 1 "$(printf '\3757zXZ')" "$WORK/vmlinuz" |
    head -n 1 | cut -d: -f1)
if [ -n "$off" ] &&
    tail -c "+$((off + 1))" "$WORK/vmlinuz" | xz -dcq --single-stream \
    >"$WORK/vmlinux" 2>/dev/null &&
    [ "$(head -c 4 "$WORK/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
	:
else
	say "could not unpack vmlinux; boot.sh will use vmlinuz"
	rm -f "$WORK/vmlinux"
fi

# The initrd: busybox, the modules for a virtio disk with ext4 (the list
# and their order from the guest's own modprobe), and an /init.
I=$WORK/initrd
mkdir -p "$I/bin" "$I/dev" "$I/proc" "$I/newroot"
cp "$ROOT/bin/busybox" "$I/bin/busybox"
chroot "$ROOT" modprobe -S "$kver" --show-depends -a virtio_pci virtio_blk \
    crc32c_generic ext4 | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' \
    >"$I/modules"
grep -q '/virtio_blk\.ko' "$I/modules" && grep -q '/ext4\.ko' "$I/modules" || {
	say "the initrd's module list lacks virtio_blk or ext4:"
	cat "$I/modules" >&2
	exit 1
}
while read -r m; do
	mkdir -p "$I${m%/*}"
	cp "$ROOT$m" "$I$m"
done <"$I/modules"
cat >"$I/init" <<'EOF'
#!/bin/busybox sh
# Load the disk's modules, mount root= (default /dev/vda) and start systemd.
bb=/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t devtmpfs dev /dev
while read -r m; do
	$bb insmod "$m" || echo "initrd: insmod $m failed"
done </modules
root=/dev/vda
for arg in $($bb cat /proc/cmdline); do
	case $arg in root=/dev/*) root=${arg#root=} ;; esac
done
n=0
until [ -b "$root" ] || [ $n -ge 50 ]; do $bb sleep 0.1; n=$((n + 1)); done
if ! $bb mount -t ext4 -o rw "$root" /newroot; then
	echo "initrd: cannot mount $root"
	$bb grep -qw schedd.vm /proc/cmdline && $bb poweroff -f
	exec $bb sh
fi
$bb mount --move /dev /newroot/dev
$bb umount /proc
exec $bb switch_root /newroot /sbin/init
EOF
chmod 755 "$I/init"
(cd "$I" && find . | cpio -o -H newc --quiet) >"$WORK/initrd.img"

# The file system: the tree plus room for what the checks write (the disk
# is a snapshot at boot, so nothing is ever written back to the image).
mb=$(du -sm "$ROOT" | cut -f1)
truncate -s "$((mb + 512))M" "$WORK/rootfs.img"
mkfs.ext4 -q -L schedd-vm -d "$ROOT" "$WORK/rootfs.img"

for f in rootfs.img vmlinuz vmlinux initrd.img; do
	if [ -f "$WORK/$f" ]; then mv -f "$WORK/$f" "$VM_DIR/$f"
	else rm -f "$VM_DIR/$f"; fi
done
echo "$kver" >"$VM_DIR/kernel.version"
echo "$key" >"$VM_DIR/image.key"
t2=$(date +%s)
say "made kernel $kver, ${mb} MB tree; mmdebstrap $((t1 - t0)) s, the rest $((t2 - t1)) s"
