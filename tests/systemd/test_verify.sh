#!/bin/sh
# SPDX-License-Identifier: ISC
# The generated unit: every @dir@ substituted, ExecStart an absolute path
# to schedd, ExecStopPost one to stop-post, the settings that keep jobs
# alive across a crash of schedd, and "systemd-analyze verify" clean (no
# output at all about schedd.service, exit 0). verify needs the Exec*
# programs to exist and the Documentation= man pages to open, so it runs
# on a copy whose ExecStart is the built $SCHEDD and whose ExecStopPost is
# the tree's stop-post, with MANPATH pointing at the pages in the tree
# (which also proves that man finds and renders them). Skipped (77)
# without systemd-analyze (Debian package "systemd"). The socket unit,
# schedd.socket, is verified beside it and must listen on the socket that
# "schedd --version" names.
set -u

top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
schedd=${SCHEDD:-}
[ -n "$schedd" ] || { echo "test_verify: \$SCHEDD is not set" >&2; exit 99; }
unit=$(dirname "$schedd")/systemd/schedd.service

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze is not installed (apt-get install systemd)"
	exit 77
fi
[ -r "$unit" ] || { echo "test_verify: no $unit (make all?)" >&2; exit 99; }
[ -x "$schedd" ] || { echo "test_verify: no $schedd" >&2; exit 99; }

rc=0
if grep -n '@[A-Za-z_]*@' "$unit"; then
	echo "FAIL: $unit has unsubstituted @variables@"
	rc=1
fi
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
case $exec_start in
/*/schedd\ --foreground) ;;
*)	echo "FAIL: ExecStart=$exec_start (want /.../schedd --foreground)"
	rc=1 ;;
esac
stop_post=$(sed -n 's/^ExecStopPost=//p' "$unit")
case $stop_post in
-/*/stop-post\ %n) ;;
*)	echo "FAIL: ExecStopPost=$stop_post (want -/.../stop-post %n)"
	rc=1 ;;
esac
for key in Type=notify Delegate=yes KillMode=process Restart=on-failure \
    LimitNOFILE=65536; do
	grep -qx "$key" "$unit" || { echo "FAIL: no $key in $unit"; rc=1; }
done
# Commented out by make away from /run and /var (systemd/include.am).
for key in RuntimeDirectory=schedd StateDirectory=schedd; do
	grep -qx "#\{0,1\}$key" "$unit" || { echo "FAIL: no $key in $unit"; rc=1; }
done
socket_unit=$(dirname "$unit")/schedd.socket
[ -r "$socket_unit" ] || { echo "test_verify: no $socket_unit" >&2; exit 99; }
listen=$(sed -n 's/^ListenStream=//p' "$socket_unit")
want=$("$schedd" --version | sed -n 's/^socket: *//p')
if [ -z "$want" ] || [ "$listen" != "$want" ]; then
	echo "FAIL: schedd.socket ListenStream=$listen, schedd --version says socket $want"
	rc=1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/schedd-verify.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT HUP INT TERM
mkdir -p "$tmp/unit" "$tmp/man/man1" "$tmp/man/man5" "$tmp/man/man7" \
    "$tmp/man/man8"
sed -e "s|^ExecStart=[^ ]*|ExecStart=$schedd|" \
    -e "s|^ExecStopPost=-[^ ]*|ExecStopPost=-$top/systemd/stop-post|" \
    "$unit" >"$tmp/unit/schedd.service"
cp "$socket_unit" "$tmp/unit/schedd.socket"
for page in "$top"/man/*.[1578]; do
	[ -r "$page" ] || continue
	ln -s "$page" "$tmp/man/man${page##*.}/$(basename "$page")"
done

MANPATH=$tmp/man SYSTEMD_LOG_COLOR=0 SYSTEMD_PAGER=cat \
    systemd-analyze verify --man=yes "$tmp/unit/schedd.service" \
    "$tmp/unit/schedd.socket" \
    >"$tmp/out" 2>&1
vrc=$?
# verify also reads the units it depends on; only our unit's lines count.
grep -e 'schedd' "$tmp/out" >"$tmp/ours"
if [ $vrc -ne 0 ] || [ -s "$tmp/ours" ]; then
	echo "FAIL: systemd-analyze verify (exit $vrc):"
	cat "$tmp/out"
	rc=1
fi
[ $rc -eq 0 ] && echo "PASS: $unit and $socket_unit ($(systemd-analyze --version | head -1))"
exit $rc
