#!/bin/sh
# SPDX-License-Identifier: ISC
# make check-slurm: a real Slurm cluster on this machine, each node with
# its own schedd, and schedd-slurm between them.
#
#   sh tests/slurm/run.sh BUILDDIR
#
# Debian's slurm-wlm and munge, all in a temporary folder and all in the
# foreground: munged, slurmctld in the root network namespace (on a bridge
# at 10.77.0.1), and two slurmd, n1 and n2, each in a network namespace of
# its own (a veth on the bridge) and pinned to a CPU of its own (n1: CPU 0,
# n2: CPU 1; slurm.conf says CPUs=1 for each). Each node has its own schedd
# (socket, state, cgroup_root), started on that node's CPU, so that it may
# grant only that CPU. A step reaches its node's schedd by the socket's
# path (Unix sockets are not in a network namespace).
#
# Every check prints "ok N - what" or "not ok N - what"; the last line is
# "N passed, N failed" (quickstart.sh adds it to its count), or
# "SKIP: why" with exit 77 when this machine cannot run a cluster.
# Everything is torn down on exit, even on failure: daemons (by pid),
# namespaces, veths, the bridge, cgroups (schedd removes its own) and the
# folder.
set -u

B=${1:?usage: run.sh BUILDDIR}
B=$(cd "$B" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
SCHEDD=$B/schedd
SCHEDCTL=$B/schedctl
WRAP=$HERE/../../client/schedd-slurm

skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, slurmd)"
for p in slurmctld slurmd srun scancel munged ip nsenter unshare python3 \
    taskset chrt; do
	command -v "$p" >/dev/null 2>&1 ||
	    skip "no $p (apt-get install slurm-wlm munge iproute2 util-linux)"
done
[ "$(nproc --all)" -ge 2 ] || skip "needs 2 CPUs (one per node)"
[ -x "$SCHEDD" ] && [ -x "$SCHEDCTL" ] || skip "build schedd first"

TAG=$(printf '%x' $$)
W=$(mktemp -d "/tmp/schedd-slurm.XXXXXX")
chmod 755 "$W"
BR=sdbr$TAG
NODES="n1 n2"
PIDS=
REAPERS=
pass=0 fail=0 n=0

log() { printf '# %s\n' "$*"; }
ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $*"; }
check() { # check WHAT CMD...: ok when CMD succeeds
	what=$1; shift
	if "$@"; then ok "$what"; else notok "$what"; fi
}

node_cpu() { case $1 in n1) echo 0 ;; n2) echo 1 ;; esac; }
node_ip() { case $1 in n1) echo 10.77.0.11 ;; n2) echo 10.77.0.12 ;; esac; }
ns() { echo "sd$TAG$1"; }
ctl() { _n=$1; shift; "$SCHEDCTL" --socket "$W/$_n/schedd.sock" "$@"; }

teardown() {
	set +e
	# The summary stays the log's last line (quickstart.sh counts it):
	# no shell notice of a slurmd ended by the SIGKILL below after it.
	exec 2>/dev/null
	# Slurm first (its steps are schedctl processes), then each schedd
	# with SIGTERM, which stops its jobs and removes its cgroups.
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
	i=0
	while [ $i -lt 50 ]; do
		alive=
		for p in $PIDS $REAPERS; do
			kill -0 "$p" 2>/dev/null && alive="$alive $p"
		done
		[ -z "$alive" ] && break
		sleep 0.2; i=$((i + 1))
	done
	for p in $PIDS $REAPERS; do kill -KILL "$p" 2>/dev/null; done
	# What slurmd leaves behind: the step of a node set down keeps its
	# slurmstepd, reparented to init. Every process in a node's network
	# namespace is one this script started.
	for node in $NODES; do
		for p in $(ip netns pids "$(ns $node)" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
	done
	for node in $NODES; do
		ip netns del "$(ns $node)" 2>/dev/null
	done
	ip link del "$BR" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap teardown EXIT
trap 'exit 1' INT TERM HUP PIPE

# wait_for SECONDS CMD...: poll every 0.1 s.
wait_for() {
	t=$(($1 * 10)); shift
	while [ $t -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1; t=$((t - 1))
	done
	return 1
}

start_schedd() { # start_schedd NODE: under a subreaper, on the node's CPU
	node=$1
	mkdir -p "$W/$node"
	cat >"$W/$node/schedd.conf" <<EOF
cgroup_root = schedd-slurm-$TAG-$node
shared_cpus_min = 0
jobs_dir = $W/$node/jobs
listen = 127.0.0.1:$((FPORT + $(node_cpu $node)))
token_file = $W/token
EOF
	mkdir -p "$W/$node/jobs"
	taskset -c "$(node_cpu $node)" python3 "$HERE/subreaper.py" \
	    "$SCHEDD" -f -s "$W/$node/schedd.sock" -S "$W/$node/state" \
	    -c "$W/$node/schedd.conf" >>"$W/$node/schedd.log" 2>&1 &
	REAPERS="$REAPERS $!"
	wait_for 10 ctl "$node" health || return 1
	# The daemon itself is the subreaper's child.
	eval "SCHEDD_PID_$node=\$(pgrep -P $! -x schedd)"
	PIDS="$PIDS $(eval echo \$SCHEDD_PID_$node)"
}

# --- the cluster -----------------------------------------------------------
log "folder $W"
{ head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n"; echo " root"; } >"$W/token"
chmod 600 "$W/token"
dd if=/dev/urandom of="$W/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$W/munge.key"
mkdir -p "$W/munge" "$W/ctld" "$W/spool"
munged -F -f --key-file="$W/munge.key" --socket="$W/munge/munge.sock" \
    --pid-file="$W/munge/munged.pid" --log-file="$W/munge/munged.log" \
    --seed-file="$W/munge/seed" >"$W/munge/out" 2>&1 &
PIDS="$PIDS $!"
wait_for 10 test -S "$W/munge/munge.sock" || {
	cat "$W/munge/out" "$W/munge/munged.log" 2>/dev/null
	skip "munged does not start here"
}

ip link add "$BR" type bridge || skip "cannot make a bridge"
ip addr add 10.77.0.1/24 dev "$BR"
ip link set "$BR" up
for node in $NODES; do
	ip netns add "$(ns $node)"
	ip link add "v$TAG$node" type veth peer name eth0 netns "$(ns $node)"
	ip link set "v$TAG$node" master "$BR" up
	ip -n "$(ns $node)" addr add "$(node_ip $node)/24" dev eth0
	ip -n "$(ns $node)" link set eth0 up
	ip -n "$(ns $node)" link set lo up
done

PORT=$((6900 + $$ % 1000))
FPORT=$((8700 + $$ % 1000))
cat >"$W/slurm.conf" <<EOF
ClusterName=schedd$TAG
SlurmctldHost=$(hostname -s)(10.77.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
AuthType=auth/munge
AuthInfo=socket=$W/munge/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$W/ctld
SlurmdSpoolDir=$W/spool/%n
SlurmctldPidFile=$W/ctld/slurmctld.pid
SlurmdPidFile=$W/spool/slurmd.%n.pid
SlurmctldLogFile=$W/ctld/slurmctld.log
SlurmdLogFile=$W/spool/slurmd.%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
KillWait=${KILLWAIT:-5}
OverTimeLimit=0
${EXTRA_CONF:-}
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# Each node is one CPU of this machine: n1 CPU 0, n2 CPU 1. Its slurmd
# and its schedd run on that CPU alone.
NodeName=n1 NodeAddr=10.77.0.11 CPUs=1 Port=$((PORT + 1)) State=UNKNOWN
NodeName=n2 NodeAddr=10.77.0.12 CPUs=1 Port=$((PORT + 1)) State=UNKNOWN
PartitionName=all Nodes=n1,n2 Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$W/slurm.conf"

for node in $NODES; do
	start_schedd "$node" || { notok "schedd on $node starts"; exit 1; }
done
for node in $NODES; do
	u=$(ctl $node cpus --json | python3 -c '
import json, sys; print(json.load(sys.stdin)["usable"])')
	check "$node: its schedd may use only CPU $(node_cpu $node) (usable $u)" \
	    [ "$u" = "$(node_cpu $node)" ]
done

t0=$(date +%s%N)
slurmctld -D -i -f "$W/slurm.conf" >"$W/ctld/out" 2>&1 &
PIDS="$PIDS $!"
for node in $NODES; do
	mkdir -p "$W/spool/$node"
	taskset -c "$(node_cpu $node)" nsenter --net="/run/netns/$(ns $node)" \
	    unshare --uts sh -c "hostname $node; exec slurmd -D -N $node \
	    -f $W/slurm.conf" >"$W/spool/$node.out" 2>&1 &
	PIDS="$PIDS $!"
done
idle() { [ "$(sinfo -h -o %T -n n1,n2 | sort -u)" = idle ]; }
if ! wait_for 30 idle; then
	notok "slurmctld and two slurmd come up idle"
	sinfo; tail -n 20 "$W/ctld/slurmctld.log" "$W/spool/"*.log
	echo "$pass passed, $fail failed"
	exit 1
fi
ok "slurmctld and two slurmd come up idle"
log "the cluster was idle $((($(date +%s%N) - t0) / 1000000)) ms after slurmctld started"

# What the steps run: the wrapper, finding its node's schedd.
export SCHEDCTL SCHEDD_SLURM_SOCKET="$W/%n/schedd.sock"
export SCHEDD_SLURM_UNWAITED=2s

# MEASURE=1: measure what a time limit and a node going away send a step
# (tests/slurm/measure.sh), in place of the checks below.
if [ -n "${MEASURE:-}" ]; then
	. "$HERE/measure.sh"
	echo "$pass passed, $fail failed"
	[ $fail -eq 0 ]
	exit
fi

# --- srun -N2: a task under schedd on both nodes --------------------------
out=$W/two.%N.out
srun -N2 -t 1 --output="$out" "$WRAP" -- \
    sh -c 'echo "hello from $SLURMD_NODENAME, slurm job $SLURM_JOB_ID"'
rc=$?
check "srun -N2 schedd-slurm exits 0 (got $rc)" [ $rc -eq 0 ]
for node in $NODES; do
	j=$(ctl $node ps -a --json)
	jid=$(printf '%s' "$j" | python3 -c '
import json, sys
jobs = json.load(sys.stdin)["jobs"]
print(jobs[-1].get("labels", {}).get("slurm.job_id", "") if jobs else "")')
	check "$node: the run is in its schedd's history with its Slurm job id ($jid)" \
	    [ -n "$jid" ]
	check "$node: output in Slurm's output file" \
	    grep -q "hello from $node, slurm job $jid" "$W/two.$node.out"
	lbl=$(ctl $node show --json "$(printf '%s' "$j" | python3 -c '
import json, sys; print(json.load(sys.stdin)["jobs"][-1]["id"])')" |
	    python3 -c '
import json, sys
l = json.load(sys.stdin).get("labels", {})
print(l.get("slurm.node"), l.get("slurm.step_id"), l.get("slurm.procid"))')
	check "$node: labels name node, step and task ($lbl)" \
	    [ "${lbl%% *}" = "$node" ]
	ev=$(timeout 2 "$SCHEDCTL" --socket "$W/$node/schedd.sock" events \
	    --since 0 --json 2>/dev/null | grep '"exited"' | tail -1)
	check "$node: the exited event carries the Slurm ids" \
	    sh -c "printf '%s' '$ev' | grep -q '\"slurm.job_id\":\"$jid\"'"
done

# --- what scancel sends a step (measured, without schedd) --------------------
cat >"$W/sigs.sh" <<'EOF'
#!/bin/sh
t0=$(date +%s%N)
for s in CONT TERM INT HUP USR1 USR2 QUIT; do
	trap "echo \$(( (\$(date +%s%N) - $t0) / 1000000 )) $s >>$1" $s
done
echo ready >>"$1"
i=0
while [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
EOF
chmod 755 "$W/sigs.sh"
sbatch -N1 -w n1 -t 1 -o /dev/null --wrap "srun $W/sigs.sh $W/sigs.log" \
    >"$W/sigs.sbatch" 2>&1
sj=$(sed -n 's/^Submitted batch job //p' "$W/sigs.sbatch")
if wait_for 20 grep -q ready "$W/sigs.log"; then
	sleep 0.3
	scancel "$sj"
	sleep 7 # KillWait is 5 s: the step's processes get SIGKILL then
	log "scancel JOB: what the step's task caught (ms after start): $(
	    grep -v ready "$W/sigs.log" | tr '\n' ' ')"
	check "scancel JOB sends the step SIGTERM (after SIGCONT)" \
	    grep -q TERM "$W/sigs.log"
else
	notok "a step that records its signals runs"
fi

# --- an exclusive CPU with SCHED_FIFO, then scancel -------------------------
# The task traps SIGINT, its stop signal, to show schedd stopped it with
# its stop policy; it sleeps, never spins.
cat >"$W/fifo.sh" <<'EOF'
#!/bin/sh
trap 'echo "stopped by SIGINT"; exit 3' INT
echo "fifo task up"
while :; do sleep 0.2; done
EOF
chmod 755 "$W/fifo.sh"
sbatch -N1 -w n2 -t 2 -o "$W/fifo.out" --wrap "exec $WRAP \
    --exclusive-cpus 1 --policy fifo --priority 10 --stop-signal SIGINT \
    --stop-timeout 3s --name fifo -- $W/fifo.sh" >"$W/fifo.sbatch" 2>&1
fjob=$(sed -n 's/^Submitted batch job //p' "$W/fifo.sbatch")
running() { [ "$(ctl n2 ps --json | python3 -c '
import json, sys
print(",".join(j["state"] for j in json.load(sys.stdin)["jobs"]
    if j.get("name") == "fifo"))')" = running ]; }
if wait_for 20 running; then
	pid=$(ctl n2 show --json fifo | python3 -c '
import json, sys; print(json.load(sys.stdin)["pid"])')
	pol=$(chrt -p "$pid" 2>&1)
	aff=$(taskset -pc "$pid" 2>&1)
	log "chrt -p: $(echo $pol)"
	log "taskset -pc: $aff"
	case $pol in
	*SCHED_FIFO*"priority: 10"*)
		ok "fifo: SCHED_FIFO priority 10 on the node (chrt -p)" ;;
	*)	notok "fifo: SCHED_FIFO priority 10 on the node (chrt -p)" ;;
	esac
	case $aff in
	*": 1") ok "fifo: on n2's CPU 1 alone (taskset -p)" ;;
	*)	notok "fifo: on n2's CPU 1 alone (taskset -p)" ;;
	esac
	ex=$(ctl n2 show --json fifo | python3 -c '
import json, sys; j = json.load(sys.stdin)
print(j.get("cpus_effective"), j.get("cpus_within"))')
	check "fifo: granted CPU 1 within the step's CPUs ($ex)" [ "$ex" = "1 1" ]
	scancel "$fjob"
	stopped() { [ "$(ctl n2 show --json fifo | python3 -c '
import json, sys; print(json.load(sys.stdin)["state"])')" = stopped ]; }
	check "scancel: the schedd job is stopped" wait_for 15 stopped
	check "scancel: through its stop policy (SIGINT)" \
	    sh -c "ctl() { :; }; '$SCHEDCTL' --socket '$W/n2/schedd.sock' \
		logs fifo | grep -q 'stopped by SIGINT'"
	check "scancel: nothing of it runs (pid $pid gone)" \
	    sh -c "! kill -0 $pid 2>/dev/null"
	check "scancel: n2's schedd runs no job" \
	    sh -c "[ -z \"\$('$SCHEDCTL' --socket '$W/n2/schedd.sock' ps \
		--json | python3 -c 'import json,sys; \
		print(\"\".join(j[\"name\"] for j in json.load(sys.stdin)[\"jobs\"]))')\" ]"
	ev=$(timeout 2 "$SCHEDCTL" --socket "$W/n2/schedd.sock" events \
	    --since 0 2>/dev/null | grep ' fifo stopping' | tail -1)
	log "stop event: $ev"
else
	notok "fifo: the job runs under n2's schedd"
	cat "$W/fifo.sbatch" "$W/fifo.out" 2>/dev/null
fi

# --- kill -9 the node's schedd mid-run ----------------------------------------
srun -N1 -w n1 -t 1 --output="$W/k9.out" "$WRAP" --name k9 -- \
    sh -c 'echo k9 up; sleep 3; echo k9 done; exit 7' &
spid=$!
k9up() { [ "$(ctl n1 show --json k9 2>/dev/null | python3 -c '
import json, sys; print(json.load(sys.stdin)["state"])')" = running ]; }
if wait_for 20 k9up; then
	old=$SCHEDD_PID_n1
	kill -KILL "$old"
	log "killed n1's schedd (pid $old) with SIGKILL"
	sleep 0.5
	start_schedd n1
	log "restarted n1's schedd (pid $SCHEDD_PID_n1)"
	wait $spid
	rc=$?
	check "kill -9: srun sees the task's real exit code 7 (got $rc)" \
	    [ $rc -eq 7 ]
	st=$(ctl n1 show --json k9 | python3 -c '
import json, sys; r = json.load(sys.stdin)["last_run"]
print(r.get("exit_code"), r.get("error"))')
	check "kill -9: the new schedd adopted it and stored exit 7 ($st)" \
	    [ "$st" = "7 None" ]
	check "kill -9: output before the kill in Slurm's output file" \
	    grep -q "k9 up" "$W/k9.out"
	check "kill -9: and after the restart, once" \
	    [ "$(grep -c "k9 done" "$W/k9.out")" -eq 1 ]
else
	notok "kill -9: the job runs under n1's schedd"
	kill $spid 2>/dev/null
fi

# --- the wrapper SIGKILLed (scancel JOB.STEP): the job still ends -----------
srun -N1 -w n1 -t 1 --output="$W/orphan.out" "$WRAP" --name orphan -- \
    sleep 60 &
spid=$!
orphanup() { [ "$(ctl n1 show --json orphan 2>/dev/null | python3 -c '
import json, sys; print(json.load(sys.stdin)["state"])')" = running ]; }
if wait_for 20 orphanup; then
	sj=$(squeue -h -o %i -n schedd-slurm | head -1)
	scancel "$sj.0"
	log "scancel $sj.0 (SIGKILL to the step at once)"
	ostop() { [ "$(ctl n1 show --json orphan | python3 -c '
import json, sys; print(json.load(sys.stdin)["state"])')" = stopped ]; }
	check "SIGKILLed wrapper: stop.unwaited_ms stops the job" \
	    wait_for 10 ostop
	wait $spid
else
	notok "SIGKILLed wrapper: the job runs under n1's schedd"
	kill $spid 2>/dev/null
fi

# --- the node set down while a step runs ------------------------------------
# slurmctld has slurmd end the step: its processes get SIGCONT and SIGTERM
# (tests/slurm/measure.sh has the times), and the wrapper stops the job
# through its stop policy; srun says "Node failure".
cat >"$W/down.sh" <<'EOF'
#!/bin/sh
trap 'echo "stopped by SIGINT"; exit 3' INT
echo "down task up"
while :; do sleep 0.2; done
EOF
chmod 755 "$W/down.sh"
srun -N1 -w n2 --output="$W/down.out" "$WRAP" --name down \
    --stop-signal SIGINT --stop-timeout 3s -- "$W/down.sh" \
    2>"$W/down.err" &
spid=$!
dstate() { ctl n2 show --json down 2>/dev/null | python3 -c '
import json, sys; j = json.load(sys.stdin)
print(j["state"], (j.get("last_run") or {}).get("exit_code"))'; }
downup() { [ "$(dstate)" = "running None" ]; }
dstop() { [ "$(dstate)" = "stopped 3" ]; }
if wait_for 20 downup; then
	sleep 0.3 # the trap is set
	scontrol update nodename=n2 state=down reason=check-slurm
	check "node down: the schedd job is stopped with exit 3 ($(
	    wait_for 5 dstop; dstate))" dstop
	check "node down: through its stop policy (SIGINT)" \
	    sh -c "'$SCHEDCTL' --socket '$W/n2/schedd.sock' logs down |
		grep -q 'stopped by SIGINT'"
	wait_for 10 sh -c "! kill -0 $spid 2>/dev/null"
	check "node down: srun reports the node failure" \
	    grep -q "Node failure on n2" "$W/down.err"
	scontrol update nodename=n2 state=resume >/dev/null 2>&1
	wait $spid
else
	notok "node down: the job runs under n2's schedd"
	kill $spid 2>/dev/null
fi

# --- fleet view: both nodes' events, merged ----------------------------------
if [ -x "$B/schedd-fleet" ]; then
	"$B/schedd-fleet" --token-file "$W/token" --since 0 --until-idle 1 \
	    "127.0.0.1:$FPORT" "127.0.0.1:$((FPORT + 1))" >"$W/fleet.out" 2>&1
	check "fleet: events of both nodes in one stream" \
	    sh -c "grep -q '^127.0.0.1:$FPORT ' '$W/fleet.out' &&
		grep -q '^127.0.0.1:$((FPORT + 1)) ' '$W/fleet.out'"
fi

# An ASan build's daemons say what they found in their logs.
if grep -l "AddressSanitizer\|runtime error" "$W"/n*/schedd.log >/dev/null 2>&1
then
	notok "no sanitizer report in the schedd logs"
	grep -h -A20 "AddressSanitizer\|runtime error" "$W"/n*/schedd.log
else
	ok "no sanitizer report in the schedd logs"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
