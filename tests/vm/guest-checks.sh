#!/bin/bash
# SPDX-License-Identifier: ISC
# guest-checks.sh STAGE: schedd as a systemd service on cgroup v2, checked
# for real. Runs as root inside the guest (boot.sh); STAGE is a
# "make install DESTDIR=STAGE" tree of the build under test, which is
# copied into / first (so schedd is /usr/local/sbin/schedd and the unit is
# the one make generated).
#
# Prints one line per check, "ok N - what" or "not ok N - what: detail",
# diagnostics as "# ..." lines, and last "N passed, N failed". Exit status:
# 0 when every check passed, 1 otherwise.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

STAGE=${1:?usage: guest-checks.sh STAGE}
# The socket the build under test defaults to (configure's runstatedir),
# as "schedd --version" reports it; schedctl's default is the same.
SOCK=$("$(find "$STAGE" -path '*/sbin/schedd' -type f | head -n 1)" --version |
    sed -n 's/^socket: *//p')
SOCK=${SOCK:-/run/schedd/schedd.sock}
SVC_CG=/sys/fs/cgroup/system.slice/schedd.service
. "$(dirname "$0")/guest-lib.sh"

# api METHOD PATH [JSON] [SOCKET]: the body in $body, the status in $code.
api() {
	local out
	out=$(curl -sS --max-time 20 --unix-socket "${4:-$SOCK}" -X "$1" \
	    -H 'Content-Type: application/json' ${3:+-d "$3"} \
	    -w '\n%{http_code}' "http://localhost$2" 2>&1)
	code=${out##*$'\n'}
	body=${out%$'\n'*}
}
# job_field JOB JQ-FILTER [SOCKET]: one field of GET /v1/jobs/JOB.
job_field() {
	curl -s --max-time 20 --unix-socket "${3:-$SOCK}" \
	    "http://localhost/v1/jobs/$1" | jq -r "$2" 2>/dev/null
}
# The start time of a process (field 22 of /proc/PID/stat): with the pid,
# what tells it from a later process with the same pid.
starttime() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	set -- $stat
	echo "${20}"
}
alive() { [ -n "$1" ] && [ "$(starttime "$1")" = "$2" ]; }
state_is() { [ "$(job_field "$1" .state "${3:-}")" = "$2" ]; }
main_pid() { systemctl show -P MainPID schedd; }
health() { schedctl --socket "${1:-$SOCK}" health >/dev/null 2>&1; }
journal_tail() {
	journalctl -b -u schedd --no-pager -o short-monotonic -n "${1:-25}" |
	    sed 's/^/#   /'
}

note "kernel $(uname -r); $(systemctl --version | head -n 1)"
note "PID 1: $(cat /proc/1/comm); /sys/fs/cgroup: $(stat -fc %T /sys/fs/cgroup);" \
    "controllers: $(cat /sys/fs/cgroup/cgroup.controllers); $(nproc) CPUs"

# --- a: the unit starts (Type=notify, READY=1) and the API answers --------
what="a: systemctl start schedd (Type=notify, READY=1) and schedctl health"
problem=
# (tar: /lib and friends must stay the merged-/usr symlinks they are.)
if ! tar -C "$STAGE" -cf - . | tar -C / -xf - --keep-directory-symlink ||
    ! systemctl daemon-reload; then
	problem="cannot install $STAGE into the guest"
elif ! timeout 60 systemctl start schedd; then
	problem="systemctl start failed: $(systemctl show -P Result schedd)"
else
	note "$(systemctl show -p Type,MainPID,StatusText,KillMode,Delegate,Restart schedd | tr '\n' ' ')"
	note "MainPID's cgroup: $(cat /proc/"$(main_pid)"/cgroup)"
	note "MainPID's open files limit: $(grep '^Max open files' /proc/"$(main_pid)"/limits)"
	if [ "$(systemctl show -P Type schedd)" != notify ]; then
		problem="Type is $(systemctl show -P Type schedd), not notify"
	elif [ "$(systemctl show -P ActiveState schedd)" != active ]; then
		problem="ActiveState $(systemctl show -P ActiveState schedd)"
	elif ! systemctl show -P StatusText schedd | grep -q '^ready'; then
		problem="no STATUS=ready (StatusText: $(systemctl show -P StatusText schedd))"
	elif ! out=$(schedctl health 2>&1); then
		problem="schedctl health: $out"
	fi
fi
result "$what" "$problem"
[ -n "$problem" ] && journal_tail

# --- b: a job in its own v2 leaf with cpuset, memory and pids limits ------
what='b: job with cpus "1", memory_max 64M, pids_max 32 runs in its own v2 leaf'
problem=
api POST /v1/jobs '{"name":"pinned","argv":["sleep","1000"],"cpus":"1","limits":{"memory_max":"64M","pids_max":32}}'
if [ "$code" != 201 ]; then
	problem="POST /v1/jobs answered $code: $body"
elif ! wait_until 10 state_is pinned running; then
	problem="state $(job_field pinned .state): $(job_field pinned .last_run.error)"
else
	pid=$(job_field pinned .pid)
	id=$(job_field pinned .id)
	cg=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
	d=/sys/fs/cgroup$cg
	cpus=$(cat "$d/cpuset.cpus" 2>&1)
	mem=$(cat "$d/memory.max" 2>&1)
	pids=$(cat "$d/pids.max" 2>&1)
	mask=$(taskset -p "$pid" | sed 's/.*: //')
	note "job pinned: id $id, pid $pid, /proc/$pid/cgroup: 0::$cg"
	note "cpuset.cpus=$cpus cpuset.cpus.effective=$(cat "$d/cpuset.cpus.effective" 2>&1)" \
	    "memory.max=$mem pids.max=$pids taskset -p: $(taskset -p "$pid")"
	if [ "$cg" != "/system.slice/schedd.service/schedd/job-$id" ]; then
		problem="cgroup $cg, not /system.slice/schedd.service/schedd/job-$id"
	elif [ -n "$(find "$d" -mindepth 1 -type d)" ]; then
		problem="$cg is not a leaf"
	elif [ "$(cat "$d/cgroup.procs")" != "$pid" ]; then
		problem="$cg holds $(cat "$d/cgroup.procs" | tr '\n' ' '), not just $pid"
	elif [ "$cpus" != 1 ]; then
		problem="cpuset.cpus is '$cpus'"
	elif [ "$mem" != 67108864 ]; then
		problem="memory.max is '$mem'"
	elif [ "$pids" != 32 ]; then
		problem="pids.max is '$pids'"
	elif [ "$mask" != 2 ]; then
		problem="affinity mask is $mask, not 2 (CPU 1)"
	fi
fi
result "$what" "$problem"

# --- j: job output into the journal, one stream each, named after the job --
what='j: a job with "logs": {"journal": true}: journalctl -t NAME has its lines, stderr at priority err'
problem=
token=tok$RANDOM$RANDOM
api POST /v1/jobs '{"name":"journaled","argv":["sh","-c","echo out-'"$token"'; echo err-'"$token"' >&2"],"logs":{"journal":true}}'
if [ "$code" != 201 ]; then
	problem="POST /v1/jobs answered $code: $body"
elif ! wait_until 10 state_is journaled exited; then
	problem="state $(job_field journaled .state): $(job_field journaled .last_run.error)"
elif ! wait_until 10 sh -c "journalctl -t journaled -o cat --no-pager | grep -q '^out-$token\$'"; then
	problem="no out-$token under -t journaled: $(journalctl -t journaled -o cat --no-pager | tail -n 3 | tr '\n' ' ')"
elif [ "$(journalctl -t journaled -p err -o cat --no-pager | grep -c "$token")" != 1 ] ||
    ! journalctl -t journaled -p err -o cat --no-pager | grep -q "^err-$token\$"; then
	problem="priority err has: $(journalctl -t journaled -p err -o cat --no-pager | tr '\n' ' ')"
elif [ -n "$(schedctl logs journaled 2>&1)" ]; then
	problem="its output is in schedd's files too: $(schedctl logs journaled 2>&1 | head -n 2)"
fi
note "journalctl -t journaled: $(journalctl -t journaled -o short-monotonic --no-pager | tail -n 2 | tr '\n' ' ')"
result "$what" "$problem"
api DELETE /v1/jobs/journaled

# --- c: a crash of schedd does not take the job with it -------------------
# The job waits for /tmp/go, then exits 7: that code must reach its run
# although the daemon that started it is gone.
what="c: the job survives SIGSEGV of schedd and the restarted schedd re-adopts it"
# Its real exit status reaches the new schedd only through the kernel:
# PIDFD_GET_INFO's exit status (Linux 6.15 and later) once systemd, which
# inherited the orphan, has reaped it. On an older kernel the run must say
# honestly that the status is unknown.
kv=$(uname -r | awk -F'[.-]' '{ printf "%d", $1 * 1000 + $2 }')
if [ "$kv" -ge 6015 ]; then
	want_exit=7
	what2="c: the re-adopted job's exit code 7 is recorded (last_run.exit_code)"
else
	want_exit=null
	what2="c: the re-adopted job's end is recorded as exit status unknown (kernel $(uname -r) < 6.15 has no PIDFD_INFO_EXIT)"
fi
problem= problem2="not tried: the job was not re-adopted"
rm -f /tmp/go
api POST /v1/jobs '{"name":"survivor","argv":["sh","-c","while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 7"]}'
if [ "$code" != 201 ] || ! wait_until 10 state_is survivor running; then
	problem="could not start the job: $code $body"
else
	jpid=$(job_field survivor .pid)
	jstart=$(starttime "$jpid")
	old=$(main_pid)
	note "before: schedd MainPID $old, job survivor pid $jpid (start time $jstart)"
	kill -SEGV "$old"
	restarted() {
		local p
		p=$(main_pid)
		[ "$p" != 0 ] && [ "$p" != "$old" ] && health
	}
	wait_until 30 restarted
	new=$(main_pid)
	note "after: MainPID $new, $(systemctl show -p ActiveState,SubState,Result,NRestarts,ExecMainStatus schedd | tr '\n' ' ')"
	note "job pid $jpid: $(alive "$jpid" "$jstart" && echo alive || echo gone);" \
	    "schedctl show: state $(job_field survivor .state), pid $(job_field survivor .pid)," \
	    "last_run.error $(job_field survivor .last_run.error)"
	if ! alive "$jpid" "$jstart"; then
		problem="the job's process $jpid died with schedd"
	elif ! restarted; then
		problem="systemd did not bring schedd back (MainPID $new, $(systemctl show -P SubState schedd), Result $(systemctl show -P Result schedd))"
	elif ! state_is survivor running ||
	    [ "$(job_field survivor .pid)" != "$jpid" ]; then
		problem="the new schedd says state $(job_field survivor .state), pid $(job_field survivor .pid), error $(job_field survivor .last_run.error)"
	else
		problem2=
		touch /tmp/go
		if ! wait_until 15 sh -c '! kill -0 '"$jpid"' 2>/dev/null'; then
			problem2="the job did not end after /tmp/go"
		elif ! wait_until 10 sh -c '[ "$(curl -s --unix-socket '"$SOCK"' http://localhost/v1/jobs/survivor | jq -r .state)" != running ]'; then
			problem2="schedd did not see the job end (state $(job_field survivor .state))"
		else
			got=$(job_field survivor .last_run.exit_code)
			note "after /tmp/go: state $(job_field survivor .state), last_run $(job_field survivor '.last_run|tojson')"
			if [ "$want_exit" = null ]; then
				case $(job_field survivor .last_run.error) in
				"exit status unknown"*) [ "$got" = null ] ||
				    problem2="last_run.exit_code is $got, not null" ;;
				*) problem2="last_run.error is $(job_field survivor .last_run.error), not 'exit status unknown...'" ;;
				esac
			else
				[ "$got" = "$want_exit" ] ||
				    problem2="last_run.exit_code is $got, not $want_exit (state $(job_field survivor .state), error: $(job_field survivor .last_run.error))"
			fi
		fi
	fi
fi
result "$what" "$problem"
[ -n "$problem" ] && journal_tail 30
result "$what2" "$problem2"

# The crash took the controllers back from the job cgroups (stop-post, so
# that systemd could start schedd again in the unit's cgroup); the new
# schedd must have given the pinned job of b its cpuset and limits again.
what="c: after the restart the pinned job's cpuset.cpus, memory.max and pids.max are back"
problem=
if ! state_is pinned running; then
	problem="the pinned job is $(job_field pinned .state)"
else
	d=/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$(job_field pinned .pid)/cgroup")
	got="cpuset.cpus=$(cat "$d/cpuset.cpus" 2>&1) memory.max=$(cat "$d/memory.max" 2>&1) pids.max=$(cat "$d/pids.max" 2>&1)"
	note "pinned job after the restart: $got"
	[ "$got" = "cpuset.cpus=1 memory.max=67108864 pids.max=32" ] ||
	    problem="$got"
fi
result "$what" "$problem"

# --- d: systemctl stop stops every job, and the cgroups go ----------------
# A job with a process tree, one process in a session of its own (not in
# the job's process group: only the job's cgroup still holds it), and one
# moved out of the job's cgroup into another of the service's, where
# schedd does not look: the unit's ExecStopPost must get that one.
what="d: systemctl stop schedd stops every job and leaves no process or job cgroup"
problem=
if ! systemctl is-active -q schedd; then
	# What c left: start from an empty service cgroup.
	note "schedd is $(systemctl show -P SubState schedd) after c; cleaning up"
	systemctl stop schedd
	[ -e "$SVC_CG/cgroup.kill" ] && echo 1 >"$SVC_CG/cgroup.kill"
	wait_until 10 sh -c "! grep -qs 'populated 1' $SVC_CG/cgroup.events"
	systemctl reset-failed schedd 2>/dev/null
fi
systemctl start schedd
api POST /v1/jobs '{"name":"tree","argv":["sh","-c","setsid sleep 1001 & sleep 1002 & wait"]}'
if [ "$code" != 201 ] || ! wait_until 10 state_is tree running; then
	problem="could not start the job tree: $code $body"
else
	sleep 0.5
	before=$(cat "$SVC_CG"/schedd/job-*/cgroup.procs 2>/dev/null | sort -n | tr '\n' ' ')
	escapee=$(pgrep -x -f 'sleep 1001')
	mkdir -p "$SVC_CG/escaped" && echo "$escapee" >"$SVC_CG/escaped/cgroup.procs" ||
		problem="could not move $escapee out of its job's cgroup"
	jobcgs=$(cd "$SVC_CG/schedd" 2>/dev/null && ls -d job-* 2>/dev/null | tr '\n' ' ')
	note "before stop: job cgroups $jobcgs; their processes $before; moved to schedd.service/escaped: $escapee"
	t0=$SECONDS
	if ! timeout 150 systemctl stop schedd; then
		problem="${problem:-systemctl stop failed}"
	fi
	note "stop took $((SECONDS - t0)) s; $(systemctl show -p ActiveState,Result,ExecMainStatus schedd | tr '\n' ' ')"
	left=
	for p in $before; do [ -d "/proc/$p" ] && left="$left $p($(cat /proc/$p/comm))"; done
	svcprocs=$(cat $(find "$SVC_CG" -name cgroup.procs 2>/dev/null) 2>/dev/null | tr '\n' ' ')
	cgsleft=$(find "$SVC_CG" -mindepth 1 -type d -name 'job-*' 2>/dev/null | tr '\n' ' ')
	note "after stop: service cgroup $([ -d "$SVC_CG" ] && echo "still there, processes: ${svcprocs:-none}" || echo removed)"
	if [ -n "$problem" ]; then
		:
	elif [ -n "$left" ]; then
		problem="job processes left:$left"
	elif [ -n "$svcprocs" ]; then
		problem="processes left in schedd.service's cgroup: $svcprocs"
	elif [ -n "$cgsleft" ]; then
		problem="job cgroups left: $cgsleft"
	elif [ "$(systemctl show -P Result schedd)" != success ]; then
		problem="Result=$(systemctl show -P Result schedd), ExecMainStatus=$(systemctl show -P ExecMainStatus schedd)"
	fi
fi
result "$what" "$problem"
[ -n "$problem" ] && journal_tail

# --- e: sharing its cgroup, schedd refuses what it cannot do --------------
# A shell and schedd in one scope: the scope holds a process, so no
# controller can be enabled below it (cgroup v2's no-internal-processes
# rule), and a job with "cpus" cannot be honoured: 422 at create.
what='e: schedd sharing its cgroup refuses a job with "cpus" (422, field cpus)'
problem=
E=/tmp/shared-cg
rm -rf "$E" && mkdir -p "$E"
systemd-run --quiet --scope --unit=schedd-shared -p Delegate=yes -- \
    /bin/sh -c "schedd --foreground --socket $E/s.sock --state-dir $E/st 2>$E/log & wait" &
if ! wait_until 20 health "$E/s.sock"; then
	problem="the second schedd did not answer: $(tail -n 3 "$E/log")"
else
	scope=/sys/fs/cgroup/system.slice/schedd-shared.scope
	note "scope processes: $(cat $scope/cgroup.procs | tr '\n' ' '); subtree_control: '$(cat $scope/cgroup.subtree_control)'"
	note "$(grep -m 1 'cgroup' "$E/log")"
	api POST /v1/jobs '{"name":"pin","argv":["sleep","100"],"cpus":"1"}' "$E/s.sock"
	field=$(jq -r .error.field <<<"$body" 2>/dev/null)
	if [ "$code" != 422 ] || [ "$field" != cpus ]; then
		problem="POST answered $code $body"
		[ "$code" = 201 ] && wait_until 5 sh -c '[ "$(curl -s --unix-socket '"$E/s.sock"' http://localhost/v1/jobs/pin | jq -r .state)" != starting ]' &&
			problem="$problem; then state $(job_field pin .state "$E/s.sock"), error: $(job_field pin .last_run.error "$E/s.sock")"
	fi
fi
result "$what" "$problem"
spid=$(pgrep -f "schedd --foreground --socket $E/s.sock")
[ -n "$spid" ] && kill -TERM $spid
wait_until 15 sh -c "! pgrep -f 'schedd --foreground --socket $E/s.sock' >/dev/null"
systemctl stop schedd-shared.scope 2>/dev/null
wait

summary
