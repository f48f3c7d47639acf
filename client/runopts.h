/* SPDX-License-Identifier: ISC */
/*
 * The job options run and plan share: their --help text (run's long
 * options are cmd_run_longopts, in schedctl.h). One text, so that the two
 * commands' help and shell completion never differ.
 */
#ifndef SCHEDCTL_RUNOPTS_H
#define SCHEDCTL_RUNOPTS_H

#define RUN_JOB_OPTIONS_HELP                                                        \
	"  --name NAME          the job's name (default: CMD's basename-ID)\n"      \
	"  -e, --env KEY=VALUE  set an environment variable (repeatable)\n"         \
	"  --cwd DIR            working directory (default /)\n"                    \
	"  --user USER          run as this user\n"                                 \
	"  --group GROUP        run with this group\n"                              \
	"  --no-start           create the job but do not start it\n"               \
	"  --cpus LIST          pin to these CPUs, e.g. 0-3,8\n"                    \
	"  --exclusive-cpus N   N CPUs for this job alone, picked by the daemon\n"  \
	"  --policy POLICY      other, batch, idle, fifo, rr or deadline\n"         \
	"  --priority N         real-time priority 1..99 (fifo, rr)\n"              \
	"  --nice N             nice value -20..19 (other, batch); alone, it\n"     \
	"                       means --policy other, as nice(1) would\n"           \
	"  --runtime T          deadline runtime; T takes us, ms or s (bare: us)\n" \
	"  --deadline T         deadline relative deadline\n"                       \
	"  --period T           deadline period\n"                                  \
	"  --reset-on-fork      children do not inherit a real-time policy\n"       \
	"  --memory-max SIZE    memory limit; SIZE takes K, M or G\n"               \
	"  --pids-max N         process limit\n"                                    \
	"  --cpu-quota PCT      CPU time limit in percent of one CPU\n"             \
	"  --cpu-weight N       CPU weight 1..10000\n"                              \
	"  --restart POLICY     no, on-failure or always\n"                         \
	"  --max-retries N      give up after N restarts\n"                         \
	"  --backoff MS         first restart delay\n"                              \
	"  --backoff-max MS     longest restart delay\n"                            \
	"  --stop-signal SIG    signal that stops the job (default SIGTERM)\n"      \
	"  --stop-timeout MS    SIGKILL this long after the stop signal\n"          \
	"  --stop-unwaited MS   stop the run once no wait (run -w) has watched\n"   \
	"                       it this long: its waiter died\n"                    \
	"  --after NAME         start only once job NAME runs (repeatable)\n"       \
	"  --on-drift WHAT      report (default) or restore: put a pinned or\n"     \
	"                       exclusive job's threads back on their CPUs and\n"   \
	"                       policy when they drift\n"                           \
	"  --label KEY=VALUE    a label shown with the job and in its events,\n"    \
	"                       e.g. slurm.job_id=42 (repeatable)\n"                \
	"  --cpus-within LIST   grant only CPUs in LIST; 'self': the CPUs\n"        \
	"                       schedctl may run on (a Slurm step's)\n"

#endif
