#!/bin/bash
# SPDX-License-Identifier: ISC
# boot.sh [-s DIR]... SCRIPT [ARG...]: boot the guest that mkimage.sh made,
# run SCRIPT with bash as root in it, print its output as it comes, power
# the guest off and exit with SCRIPT's exit status.
#
# Each -s DIR is shared into the guest (9p) at the same absolute path; the
# script starts in the first one (else in /root). The guest's disk is a
# throw-away snapshot of rootfs.img: every boot starts from the same image.
# systemd is PID 1 on the unified cgroup v2 hierarchy.
#
# Exit status: SCRIPT's own (0-123); 124 when VM_TIMEOUT ran out after the
# script had started; 125 when the guest never started it (qemu failed,
# the kernel or systemd did not come up: not the project's fault, and the
# console log says why); 2 on a usage error.
#
# Environment:
#   VM_DIR      where the image is (default /var/tmp/schedd-vm)
#   VM_TIMEOUT  seconds from qemu's start to the end of the script (300)
#   VM_ACCEL    kvm, tcg, or auto (default): KVM only where the CPU has
#               vmx or svm and /dev/kvm opens (a /dev/kvm without them, as on
#               some cloud machines, is a paravirtual KVM that runs a stock
#               kernel far slower than software emulation); a KVM start that
#               fails is retried under TCG
#   VM_CPUS     guest CPUs (2)     VM_MEM  guest MiB (1024)
#   VM_KEEP=1   keep the run folder (console log, the guest's journal)
#   VM_APPEND   more kernel command line
set -u

usage() { echo "usage: boot.sh [-s DIR]... SCRIPT [ARG...]" >&2; exit 2; }
say() { echo "vm: $*" >&2; }

shares=()
while getopts s: opt; do
	case $opt in
	s) [ -d "$OPTARG" ] || { say "-s $OPTARG: not a folder"; exit 2; }
	   shares+=("$(cd "$OPTARG" && pwd -P)") ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
script=$1
shift
[ -r "$script" ] || { say "cannot read $script"; exit 2; }

VM_DIR=${VM_DIR:-/var/tmp/schedd-vm}
timeout=${VM_TIMEOUT:-300}
image=$VM_DIR/rootfs.img
initrd=$VM_DIR/initrd.img
kernel=$VM_DIR/vmlinux
[ -r "$kernel" ] || kernel=$VM_DIR/vmlinuz
for f in "$image" "$initrd" "$kernel"; do
	[ -r "$f" ] || { say "no $f: run mkimage.sh first"; exit 125; }
done
command -v qemu-system-x86_64 >/dev/null ||
	{ say "no qemu-system-x86_64 (Debian: apt-get install qemu-system-x86)"; exit 125; }

accel=${VM_ACCEL:-auto}
if [ "$accel" = auto ]; then
	accel=tcg
	grep -qwE 'vmx|svm' /proc/cpuinfo && [ -r /dev/kvm ] && [ -w /dev/kvm ] &&
		accel=kvm
	retry_tcg=1
fi
case $accel in kvm | tcg) ;; *) say "VM_ACCEL: kvm, tcg or auto"; exit 2 ;; esac

run=$(mktemp -d "${TMPDIR:-/tmp}/schedd-vm-run.XXXXXX") || exit 125
qpid= tpid=
cleanup() {
	[ -n "$tpid" ] && kill "$tpid" 2>/dev/null
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
	if [ "${VM_KEEP:-0}" = 1 ]; then say "run folder kept: $run"
	else rm -rf "$run"; fi
}
trap cleanup EXIT
trap 'exit 130' HUP INT TERM

# The share "vmrun" carries the script in and its output and status out.
mkdir "$run/share"
cp "$script" "$run/share/script"
# A library the script sources from its own directory, if it has one.
[ ! -r "$(dirname "$script")/guest-lib.sh" ] ||
	cp "$(dirname "$script")/guest-lib.sh" "$run/share/guest-lib.sh"
: >"$run/share/out"
{
	echo '# Made by boot.sh; run by the image'"'"'s schedd-vm-run.'
	echo 'S=/run/vmrun'
	echo 'first=/root'
	i=0
	for d in "${shares[@]}"; do
		printf 'mkdir -p %q && mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 share%d %q ||\n' "$d" $i "$d"
		printf '\techo "vm: cannot mount %q" >>$S/out\n' "$d"
		[ $i -eq 0 ] && printf 'first=%q\n' "$d"
		i=$((i + 1))
	done
	printf 'args=('
	for a in "$@"; do printf ' %q' "$a"; done
	printf ' )\n'
	cat <<'EOF'
cut -d' ' -f1 /proc/uptime >$S/started
echo "vm: running the script" >/dev/console
# Its own session: nothing the script signals reaches this runner.
(cd "$first" && exec setsid -w /bin/bash $S/script "${args[@]}") \
	>>$S/out 2>&1 </dev/null
rc=$?
cut -d' ' -f1 /proc/uptime >$S/ended
echo "vm: the script exited with $rc" >/dev/console
systemd-analyze time >$S/boot-time 2>&1
[ -e $S/keep ] && journalctl -b --no-pager -o short-monotonic >$S/journal.txt 2>&1
echo $rc >$S/rc.new && mv $S/rc.new $S/rc
sync
# The disk is thrown away: no need to stop every unit first.
systemctl poweroff -ff
EOF
} >"$run/share/guest.sh"
[ "${VM_KEEP:-0}" = 1 ] && : >"$run/share/keep"

boot() { # boot ACCEL: run qemu until it exits or time runs out
	# Under TCG the plainest CPU model boots fastest: the kernel finds no
	# feature to set up or load a module for.
	local args=(-accel tcg,thread=multi -cpu qemu64)
	[ "$1" = kvm ] && args=(-accel kvm -cpu host)
	local i=0 fsdevs=()
	for d in "${shares[@]}"; do
		fsdevs+=(-virtfs "local,path=$d,mount_tag=share$i,security_model=none,id=share$i")
		i=$((i + 1))
	done
	rm -f "$run/share/rc" "$run/share/started" "$run/console.log"
	qemu-system-x86_64 -M pc "${args[@]}" -m "${VM_MEM:-1024}" \
	    -smp "${VM_CPUS:-2}" -nodefaults -no-user-config -display none \
	    -no-reboot -nic none \
	    -kernel "$kernel" -initrd "$initrd" \
	    -append "root=/dev/vda rw console=ttyS0 panic=-1 schedd.vm systemd.unified_cgroup_hierarchy=1 systemd.show_status=0 ${VM_APPEND:-}" \
	    -drive "file=$image,if=virtio,format=raw,snapshot=on" \
	    -virtfs "local,path=$run/share,mount_tag=vmrun,security_model=none,id=vmrun" \
	    "${fsdevs[@]}" -serial "file:$run/console.log" \
	    >"$run/qemu.log" 2>&1 &
	qpid=$!
	tail -n +1 -f --pid=$qpid "$run/share/out" &
	tpid=$!
	timed_out=0
	while kill -0 $qpid 2>/dev/null; do
		if [ $SECONDS -ge $deadline ]; then
			timed_out=1
			kill $qpid
			break
		fi
		sleep 0.5
	done
	wait $qpid 2>/dev/null
	qpid=
	wait $tpid 2>/dev/null
	tpid=
}

deadline=$((SECONDS + timeout))
boot "$accel"
if [ ! -e "$run/share/started" ] && [ "$accel" = kvm ] && [ -n "${retry_tcg:-}" ] &&
    [ $timed_out = 0 ]; then
	say "KVM did not run the guest ($(head -c 300 "$run/qemu.log")); trying TCG"
	accel=tcg
	: >"$run/share/out"
	deadline=$((SECONDS + timeout))
	boot tcg
fi

if [ -s "$run/share/rc" ]; then
	rc=$(cat "$run/share/rc")
	say "exit status $rc; $accel; ${SECONDS}s in all; the script ran from" \
	    "guest uptime $(cat "$run/share/started")s to $(cat "$run/share/ended")s"
	sed -n 's/^Startup finished in /vm: boot: /p' "$run/share/boot-time" >&2
elif [ -e "$run/share/started" ]; then
	say "timed out after ${timeout}s while the script ran (VM_TIMEOUT)"
	rc=124
else
	if [ $timed_out = 1 ]; then
		say "the guest did not start the script within ${timeout}s"
	else
		say "the guest did not start the script"
	fi
	sed 's/^/vm: qemu: /' "$run/qemu.log" >&2
	echo "vm: the console's last lines:" >&2
	tail -n 25 "$run/console.log" 2>/dev/null | sed 's/^/vm: | /' >&2
	rc=125
fi
exit "$rc"
