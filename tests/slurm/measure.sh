# SPDX-License-Identifier: ISC
# What a time limit and a node going away send a step that runs
# schedd-slurm, and what becomes of the schedd job. Sourced by run.sh,
# which sets up the cluster (and tears it down, with what this adds to
# PIDS):
#
#   MEASURE=1 KILLWAIT=3 sh tests/slurm/run.sh BUILDDIR      (root)
#
# It takes about 100 s: Slurm's shortest time limit is one minute, and
# slurmctld looks for jobs over their limit every 30 s. Each case prints
# "# " lines with the times (seconds, from date +%s.%N and strace -ttt)
# at which the wrapper (schedctl run -w, seen by strace from outside the
# step) and the job (a script under schedd that traps and logs signals)
# saw each signal, who sent it (si_pid), the job's events, its final
# state in schedd, and what srun and scontrol said. The node cases run on
# n2 while the time limit runs out on n1. strace stops the wrapper at each
# signal (so that two close ones are never merged into one pending);
# NOSTRACE=1 leaves it out, to see the job's side undisturbed.

command -v strace >/dev/null 2>&1 || skip "MEASURE=1 needs strace"

cat >"$W/trap.sh" <<'EOF'
#!/bin/sh
# trap.sh LOG [SECONDS]: log each signal with its time; INT and TERM
# end it with status 3, else it ends by itself with 0 after SECONDS.
L=$1
for s in CONT TERM INT HUP USR1 USR2 QUIT PIPE; do
	case $s in
	INT|TERM) trap "echo \$(date +%s.%N) job $s >>$L; exit 3" $s ;;
	*) trap "echo \$(date +%s.%N) job $s >>$L" $s ;;
	esac
done
echo "$(date +%s.%N) job ready $$" >>"$L"
i=0
while [ $i -lt $((${2:-600} * 10)) ]; do
	sleep 0.1 & wait $!
	i=$((i + 1))
done
echo "$(date +%s.%N) job done" >>"$L"
EOF
chmod 755 "$W/trap.sh"

# stepctl NAME: the pid of the schedctl run -w (the step's process) that
# runs the schedd job NAME.
stepctl() {
	for p in $(pgrep -f -- "--name $1 "); do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = schedctl ] && echo "$p"
	done | head -1
}
state() { # state NODE NAME: the schedd job's state
	ctl "$1" show --json "$2" 2>/dev/null | python3 -c '
import json, sys; print(json.load(sys.stdin)["state"])'
}
is() { [ "$(state "$1" "$2")" = "$3" ]; }
# report NODE NAME: the job's log, the wrapper's signals, its events and
# final state, all as "# " lines.
report() {
	_n=$1 _j=$2
	log "$_j: the job saw:"
	sed 's/^/#   /' "$W/$_j.job"
	log "$_j: the wrapper (schedctl, pid $(cat "$W/$_j.ctlpid")) saw:"
	grep -- "---\\|+++" "$W/$_j.strace" 2>/dev/null | sed 's/^/#   /'
	log "$_j: schedd's events:"
	timeout 4 "$SCHEDCTL" --socket "$W/$_n/schedd.sock" events --since 0 \
	    --json 2>/dev/null | grep "\"job\":\"$_j\"" | python3 -c '
import json, sys
for l in sys.stdin:
    e = json.loads(l)
    print("#   %s %s %s" % (e["time"], e["type"], json.dumps(e.get("data", {}))))'
	log "$_j: in schedd: $(ctl "$_n" show --json "$_j" | python3 -c '
import json, sys; j = json.load(sys.stdin)
print(j["state"], json.dumps(j.get("last_run")))')"
	log "$_j: srun exited $(cat "$W/$_j.rc" 2>/dev/null), said: $(
	    tr '\n' ' ' <"$W/$_j.err")"
	log "$_j: scontrol: $(scontrol show job "$(cat "$W/$_j.sjob")" 2>&1 |
	    grep -o 'JobState=[^ ]*\|Reason=[^ ]*\|ExitCode=[^ ]*' |
	    tr '\n' ' ')"
}
# launch NODE NAME SECONDS [SRUN OPTIONS]: srun the trap script under
# schedd-slurm on NODE; when the job runs, strace its wrapper.
launch() {
	_n=$1 _j=$2 _s=$3; shift 3
	(
		srun -N1 -w "$_n" "$@" -o "$W/$_j.out" -e "$W/$_j.terr" \
		    "$WRAP" --name "$_j" --stop-signal SIGINT \
		    --stop-timeout 2s -- "$W/trap.sh" "$W/$_j.job" "$_s" \
		    2>"$W/$_j.err" &
		echo $! >"$W/$_j.srun"
		wait $!
		echo $? >"$W/$_j.rc"
	) &
	PIDS="$PIDS $!"
	wait_for 5 test -s "$W/$_j.srun"
	PIDS="$PIDS $(cat "$W/$_j.srun")"
	if ! wait_for 20 is "$_n" "$_j" running; then
		notok "$_j: the job runs under $_n's schedd"
		return 1
	fi
	wait_for 5 grep -q ready "$W/$_j.job"
	p=$(stepctl "$_j")
	echo "$p" >"$W/$_j.ctlpid"
	[ -n "${NOSTRACE:-}" ] || strace -ttt -e trace=none -e signal=all -p "$p" -o "$W/$_j.strace" \
	    2>/dev/null &
	PIDS="$PIDS $!"
	squeue -h -o %i -w "$_n" | head -1 >"$W/$_j.sjob"
	sleep 0.3
	log "$_j: runs on $_n, Slurm job $(cat "$W/$_j.sjob"), wrapper pid $p," \
	    "at $(date +%s.%N)"
}

# --- 1. the time limit (n1) -------------------------------------------------
TL=tl$TAG
launch n1 "$TL" 600 -t 1 || true
tl_start=$(date +%s)

# --- 2a. scontrol update state=down while a step runs (n2) -----------------
D=down$TAG
if launch n2 "$D" 600; then
	log "$D: scontrol update nodename=n2 state=down at $(date +%s.%N)"
	scontrol update nodename=n2 state=down reason=measure
	wait_for 15 sh -c "[ -s '$W/$D.rc' ]"
	sleep 3
	report n2 "$D"
	check "$D: the schedd job is no longer running" \
	    sh -c "[ \"$(state n2 "$D")\" != running ]"
fi
scontrol update nodename=n2 state=resume
wait_for 20 sh -c '[ "$(sinfo -h -o %T -n n2)" = idle ]'
log "n2 back: $(sinfo -h -o %T -n n2)"

# --- 2b. slurmd stopped with SIGTERM, slurmstepd goes on (n2) --------------
start_slurmd() { # start_slurmd NODE, as run.sh does
	taskset -c "$(node_cpu $1)" nsenter --net="/run/netns/$(ns $1)" \
	    unshare --uts sh -c "hostname $1; exec slurmd -D -N $1 \
	    -f $W/slurm.conf" >>"$W/spool/$1.out" 2>&1 &
	PIDS="$PIDS $!"
	SLURMD_n2=$!
}
SLURMD_n2=$(pgrep -x slurmd | while read p; do
	tr '\0' ' ' </proc/$p/cmdline | grep -q -- "-N n2 " && echo "$p"
done | head -1)
S=term$TAG
if launch n2 "$S" 12; then
	stepd=$(ps -o ppid= -p "$(cat "$W/$S.ctlpid")" | tr -d ' ')
	log "$S: kill -TERM slurmd of n2 (pid $SLURMD_n2) at $(date +%s.%N)" \
	    "(slurmstepd pid $stepd)"
	kill -TERM "$SLURMD_n2"
	sleep 3
	log "$S: 3 s later: slurmd $(kill -0 "$SLURMD_n2" 2>/dev/null &&
	    echo alive || echo gone), slurmstepd $(kill -0 "$stepd" \
	    2>/dev/null && echo alive || echo gone), job $(state n2 "$S"), n2" \
	    "$(sinfo -h -o %T -n n2)"
	start_slurmd n2
	log "$S: slurmd of n2 started again (pid $SLURMD_n2) at $(date +%s.%N)"
	wait_for 30 sh -c "[ -s '$W/$S.rc' ]"
	report n2 "$S"
	check "$S: the step ends with the job's exit 0 after slurmd's restart" \
	    [ "$(cat "$W/$S.rc" 2>/dev/null)" = 0 ]
fi
wait_for 20 sh -c '[ "$(sinfo -h -o %T -n n2)" = idle ]'

# --- 2c. slurmd and slurmstepd SIGKILLed, the wrapper too (n2) --------------
# As when the node dies under the step: nothing of Slurm is left to send a
# signal, and the wrapper dies with it. stop.unwaited_ms (2 s here) must
# stop the job.
K=kill$TAG
if launch n2 "$K" 600; then
	cp=$(cat "$W/$K.ctlpid")
	stepd=$(ps -o ppid= -p "$cp" | tr -d ' ')
	log "$K: kill -KILL slurmd $SLURMD_n2, slurmstepd $stepd, wrapper $cp" \
	    "at $(date +%s.%N)"
	kill -KILL "$SLURMD_n2" "$stepd" "$cp"
	wait_for 10 is n2 "$K" stopped
	sleep 1
	log "$K: n2 is $(sinfo -h -o %T -n n2); srun still waits: $(
	    [ -s "$W/$K.rc" ] && echo no || echo yes)"
	report n2 "$K"
	check "$K: stop.unwaited_ms stopped the job" \
	    [ "$(state n2 "$K")" = stopped ]
	scancel "$(cat "$W/$K.sjob")" 2>/dev/null
fi

# --- 1, continued: wait for the time limit ----------------------------------
log "$TL: waiting for the time limit (up to 100 s after its start)"
wait_for $((100 - ($(date +%s) - tl_start))) sh -c "[ -s '$W/$TL.rc' ]"
sleep 1
report n1 "$TL"
check "$TL: the time limit stopped the schedd job" \
    [ "$(state n1 "$TL")" = stopped ]
