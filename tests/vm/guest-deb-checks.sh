#!/bin/bash
# SPDX-License-Identifier: ISC
# guest-deb-checks.sh DEB: the Debian package, installed and purged for
# real. Runs as root inside the guest (boot.sh), which has no network: the
# package's dependencies are in the image (mkimage.sh), and DEB is a
# schedd_*.deb on a share.
#
# Prints "ok N - what" or "not ok N - what: detail" per check, "# ..."
# diagnostics, and last "N passed, N failed". Exit 0 when every check
# passed, 1 otherwise.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
DEB=${1:?usage: guest-deb-checks.sh DEB}
SOCK=/run/schedd/schedd.sock
SVC_CG=/sys/fs/cgroup/system.slice/schedd.service
. "$(dirname "$0")/guest-lib.sh"

journal_tail() {
	journalctl -b -u schedd -u schedd.socket --no-pager -o short-monotonic \
	    -n "${1:-25}" | sed 's/^/#   /'
}
# Every process whose executable is schedd, or that runs in schedd's cgroup.
leftovers() {
	pgrep -x schedd | tr '\n' ' '
	[ -d "$SVC_CG" ] && echo "cgroup $SVC_CG"
	find /sys/fs/cgroup -name 'schedd*' ! -name schedd-vm-run.service \
	    -type d 2>/dev/null | tr '\n' ' '
}

note "kernel $(uname -r); $(systemctl --version | head -n 1); $(basename "$DEB")"

# --- 1: apt installs it offline; the service runs, with Debian's paths ----
what="apt install ./$(basename "$DEB"): installed, schedd.service active"
problem=
cp "$DEB" /tmp/ && deb=/tmp/$(basename "$DEB")
# (No --no-download: apt 2.6 then refuses a local .deb, "Pathname to
# install is not absolute". Nothing is downloaded anyway: every dependency
# is installed.)
if (cd /tmp && apt-get install -y "./$(basename "$deb")") >/tmp/apt.log 2>&1; then
	note "installed with apt-get install ./$(basename "$deb")"
else
	sed 's/^/#   apt: /' /tmp/apt.log | tail -n 8
	note "apt could not (offline); dpkg -i instead"
	dpkg -i "$deb" >/tmp/dpkg.log 2>&1 ||
	    { problem="dpkg -i failed: $(tail -n 3 /tmp/dpkg.log | tr '\n' ' ')"; }
fi
if [ -z "$problem" ]; then
	wait_until 20 sh -c '[ "$(systemctl show -P ActiveState schedd)" = active ]'
	note "$(systemctl show -p ActiveState,SubState,MainPID,StatusText,UnitFileState schedd | tr '\n' ' ')"
	note "$(schedd --version | tr '\n' ' ')"
	if [ "$(dpkg-query -W -f='${Status}' schedd)" != "install ok installed" ]; then
		problem="dpkg says $(dpkg-query -W -f='${Status}' schedd)"
	elif [ "$(systemctl show -P ActiveState schedd)" != active ]; then
		problem="schedd.service is $(systemctl show -P ActiveState schedd)"
	elif [ "$(systemctl is-enabled schedd)" != enabled ]; then
		problem="schedd.service is $(systemctl is-enabled schedd), not enabled"
	elif ! schedd --version | grep -qx 'socket: */run/schedd/schedd.sock' ||
	    ! schedd --version | grep -qx 'config: */etc/schedd/schedd.conf'; then
		problem="schedd --version: $(schedd --version | tr '\n' ' ')"
	elif ! out=$(schedctl health 2>&1); then
		problem="schedctl health: $out"
	fi
fi
result "$what" "$problem"
[ -n "$problem" ] && journal_tail

# --- 2: the group, the directories, the conffiles --------------------------
what="group schedd, /var/lib/schedd root:root 0750, conffiles, socket root:schedd 0660"
problem=
conff=$(dpkg-query -W -f='${Conffiles}' schedd | awk '{print $1}' | tr '\n' ' ')
note "conffiles: $conff"
note "$(stat -c '%n %U:%G %a' /var/lib/schedd /etc/schedd/schedd.d $SOCK 2>&1 | tr '\n' ';')"
if ! getent group schedd >/dev/null; then
	problem="no group schedd"
elif [ "$(stat -c '%U:%G %a' /var/lib/schedd 2>&1)" != "root:root 750" ]; then
	problem="/var/lib/schedd is $(stat -c '%U:%G %a' /var/lib/schedd 2>&1)"
elif [ ! -d /etc/schedd/schedd.d ]; then
	problem="no /etc/schedd/schedd.d"
elif ! echo " $conff" | grep -q ' /etc/schedd/schedd.conf '; then
	problem="/etc/schedd/schedd.conf is not a conffile"
elif [ "$(stat -c '%U:%G %a' $SOCK 2>&1)" != "root:schedd 660" ]; then
	problem="$SOCK is $(stat -c '%U:%G %a' $SOCK 2>&1)"
fi
result "$what" "$problem"

# --- 3: a job runs, and its output is kept ---------------------------------
what="schedctl run -w: a job runs under the service and exits 0"
problem=
if ! out=$(timeout 30 schedctl run -w --name hello -- sh -c 'echo hello from the package' 2>&1); then
	problem="schedctl run -w exited $?: $out"
elif [ "$(schedctl logs hello 2>&1)" != "hello from the package" ]; then
	problem="logs: $(schedctl logs hello 2>&1)"
elif ! ls /var/lib/schedd/schedd.db >/dev/null 2>&1; then
	problem="no /var/lib/schedd/schedd.db"
fi
# A job still running at purge time: purge must stop it.
schedctl run --name sleeper -- sleep 1000 >/dev/null 2>&1
wait_until 10 sh -c '[ -n "$(pgrep -f "^sleep 1000")" ]' ||
    problem="${problem:+$problem; }the sleeper did not start"
note "sleeper: pid $(pgrep -f '^sleep 1000'), cgroup $(cat /proc/"$(pgrep -f '^sleep 1000' | head -n 1)"/cgroup 2>/dev/null)"
result "$what" "$problem"

# --- 4: socket activation: systemd listens, the first client starts schedd -
what="schedd.socket: a client's connection starts schedd, which serves on systemd's socket"
problem=
systemctl stop schedd
if ! systemctl start schedd.socket; then
	problem="systemctl start schedd.socket failed"
elif [ "$(systemctl show -P ActiveState schedd)" = active ]; then
	problem="schedd.service is active before any client came"
elif ! out=$(timeout 30 schedctl health 2>&1); then
	problem="schedctl health through the socket: $out"
elif [ "$(systemctl show -P ActiveState schedd)" != active ]; then
	problem="schedd.service is $(systemctl show -P ActiveState schedd) after a client came"
elif ! journalctl -b -u schedd --no-pager | grep -q 'from systemd'; then
	problem="schedd did not say it took the socket from systemd"
else
	note "$(journalctl -b -u schedd --no-pager | grep -m 1 'from systemd' | sed 's/^.*schedd\[[0-9]*\]: //')"
	# Jobs do not inherit LISTEN_FDS / LISTEN_PID.
	timeout 30 schedctl run -w --name envcheck -- sh -c 'env' >/dev/null 2>&1
	if schedctl logs envcheck 2>/dev/null | grep -q '^LISTEN_'; then
		problem="a job inherited $(schedctl logs envcheck | grep '^LISTEN_' | tr '\n' ' ')"
	fi
	# A stop of schedd leaves systemd's socket in place, and the next
	# client starts schedd again.
	systemctl stop schedd
	if [ ! -S $SOCK ]; then
		problem="${problem:+$problem; }$SOCK is gone after schedd stopped"
	elif ! timeout 30 schedctl health >/dev/null 2>&1; then
		problem="${problem:+$problem; }no second activation"
	fi
fi
result "$what" "$problem"
[ -n "$problem" ] && journal_tail
# Back to the package's way: the service listens itself.
systemctl stop schedd.socket schedd
systemctl start schedd
wait_until 20 sh -c 'schedctl health >/dev/null 2>&1'
schedctl run --name sleeper2 -- sleep 1000 >/dev/null 2>&1
wait_until 10 sh -c '[ -n "$(pgrep -f "^sleep 1000")" ]'

# --- 5: purge leaves no process, no cgroup and no state behind -------------
what="apt purge schedd: no schedd process, no job, no schedd cgroup, no state left"
problem=
note "before: $(leftovers); jobs: $(pgrep -f '^sleep 1000' | tr '\n' ' ')"
if ! apt-get purge -y schedd >/tmp/purge.log 2>&1 &&
    ! dpkg --purge schedd >/tmp/purge.log 2>&1; then
	problem="purge failed: $(tail -n 3 /tmp/purge.log | tr '\n' ' ')"
fi
wait_until 15 sh -c '[ -z "$(pgrep -x schedd)" ] && [ ! -d '"$SVC_CG"' ] && [ -z "$(pgrep -f "^sleep 1000")" ]'
left=$(leftovers)
jobs=$(pgrep -f '^sleep 1000' | tr '\n' ' ')
note "after: '$left'; jobs: '$jobs'; $(systemctl show -p LoadState,ActiveState schedd | tr '\n' ' ')"
if [ -n "$problem" ]; then
	:
elif [ -n "$(echo $left)" ]; then
	problem="left behind: $left"
elif [ -n "$jobs" ]; then
	problem="job processes left: $jobs"
elif dpkg-query -W -f='${Status}' schedd 2>/dev/null | grep -q installed; then
	problem="dpkg still has it: $(dpkg-query -W -f='${Status}' schedd)"
elif [ -e /var/lib/schedd ] || [ -e /etc/schedd ] || [ -e $SOCK ]; then
	problem="left: $(ls -d /var/lib/schedd /etc/schedd $SOCK 2>/dev/null | tr '\n' ' ')"
fi
result "$what" "$problem"
[ -n "$problem" ] && journal_tail

summary
