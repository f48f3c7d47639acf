/* SPDX-License-Identifier: ISC */
/*
 * schedctl run: build a job spec from the command line (or take a job file
 * as it is) and POST it to /v1/jobs; with -w, wait for the run and exit
 * with its status. It checks only its own syntax (numbers, durations,
 * sizes, signal names); every rule about the values belongs to the daemon,
 * whose 400 answer names the field.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <sched.h>
#include <time.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "client/format.h"
#include "client/runopts.h"
#include "client/schedctl.h"
#include "proto/util.h"

#define RUN_FILE_MAX (16u << 20) /* the daemon refuses > 1 MiB anyway */

enum {
	OPT_NAME = CTL_OPT_LONG,
	OPT_CWD,
	OPT_USER,
	OPT_GROUP,
	OPT_NO_START,
	OPT_CPUS,
	OPT_EXCLUSIVE_CPUS,
	OPT_POLICY,
	OPT_PRIORITY,
	OPT_NICE,
	OPT_RUNTIME,
	OPT_DEADLINE,
	OPT_PERIOD,
	OPT_RESET_ON_FORK,
	OPT_MEMORY_MAX,
	OPT_PIDS_MAX,
	OPT_CPU_QUOTA,
	OPT_CPU_WEIGHT,
	OPT_RESTART,
	OPT_MAX_RETRIES,
	OPT_BACKOFF,
	OPT_BACKOFF_MAX,
	OPT_STOP_SIGNAL,
	OPT_STOP_TIMEOUT,
	OPT_AFTER,
	OPT_ON_DRIFT,
	OPT_LABEL,
	OPT_CPUS_WITHIN,
	OPT_STOP_UNWAITED,
};

const struct option cmd_run_longopts[] = {
    {"name", required_argument, NULL, OPT_NAME},
    {"env", required_argument, NULL, 'e'},
    {"cwd", required_argument, NULL, OPT_CWD},
    {"user", required_argument, NULL, OPT_USER},
    {"group", required_argument, NULL, OPT_GROUP},
    {"no-start", no_argument, NULL, OPT_NO_START},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"exclusive-cpus", required_argument, NULL, OPT_EXCLUSIVE_CPUS},
    {"policy", required_argument, NULL, OPT_POLICY},
    {"priority", required_argument, NULL, OPT_PRIORITY},
    {"nice", required_argument, NULL, OPT_NICE},
    {"runtime", required_argument, NULL, OPT_RUNTIME},
    {"deadline", required_argument, NULL, OPT_DEADLINE},
    {"period", required_argument, NULL, OPT_PERIOD},
    {"reset-on-fork", no_argument, NULL, OPT_RESET_ON_FORK},
    {"memory-max", required_argument, NULL, OPT_MEMORY_MAX},
    {"pids-max", required_argument, NULL, OPT_PIDS_MAX},
    {"cpu-quota", required_argument, NULL, OPT_CPU_QUOTA},
    {"cpu-weight", required_argument, NULL, OPT_CPU_WEIGHT},
    {"restart", required_argument, NULL, OPT_RESTART},
    {"max-retries", required_argument, NULL, OPT_MAX_RETRIES},
    {"backoff", required_argument, NULL, OPT_BACKOFF},
    {"backoff-max", required_argument, NULL, OPT_BACKOFF_MAX},
    {"stop-signal", required_argument, NULL, OPT_STOP_SIGNAL},
    {"stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT},
    {"after", required_argument, NULL, OPT_AFTER},
    {"on-drift", required_argument, NULL, OPT_ON_DRIFT},
    {"label", required_argument, NULL, OPT_LABEL},
    {"cpus-within", required_argument, NULL, OPT_CPUS_WITHIN},
    {"stop-unwaited", required_argument, NULL, OPT_STOP_UNWAITED},
    {"file", required_argument, NULL, 'f'},
    {"wait", no_argument, NULL, 'w'},
    {"attach", no_argument, NULL, 'a'},
    {NULL, 0, NULL, 0},
};

static int cmd_run_exec(struct schedctl *, struct args *);

const struct cmd_entry cmd_run_entry = {
    .name = "run",
    .usage = "[-w [-a]] [-e KEY=VALUE]... [options] [--] CMD [ARG ...]\n"
	     "[-w [-a]] -f JOB.json",
    .summary = "create a job and start it (POST /v1/jobs)",
    .help = RUN_JOB_OPTIONS_HELP
    "  -f, --file JOB.json  post this job file as it is ('-': stdin);\n"
    "                       no other job option may be given with it\n"
    "  -w, --wait           wait for the run to end and exit with its status;\n"
    "                       SIGINT and SIGTERM stop the job (its stop\n"
    "                       signal and timeout; a second one, 1 s or more\n"
    "                       later, kills it),\n"
    "                       SIGHUP is passed on to it\n"
    "  -a, --attach         with -w: print the job's stdout and stderr\n"
    "                       while waiting\n"
    "                       (-w looks for a lost daemon for up to 30 s:\n"
    "                       a restarted schedd adopts the run)\n",
    .notes =
	"MS values are milliseconds and also take us, ms or s suffixes. Prints\n"
	"NAME (id N) STATE[, pid P]; exits 1 if the job could not start. With -w,\n"
	"exits as wait does: the job's exit code, or 128+N for signal N, also\n"
	"when schedctl's own SIGTERM stopped it, so that schedctl -w can stand\n"
	"in for the job under another supervisor or scheduler.\n",
    .optstring = "ae:f:w",
    .longopts = cmd_run_longopts,
    .in_order = 1,
    .min_args = 0,
    .max_args = -1,
    .exec = cmd_run_exec,
};

/* The option's name as typed, for messages. */
static const char *
run_optname(int opt)
{
	const struct option *o;

	for (o = cmd_run_longopts; o->name != NULL; o++)
		if (o->val == opt)
			return (o->name);
	return ("?");
}

/* obj[key], created as an empty object if missing. */
static json_t *
sub_object(json_t *obj, const char *key)
{
	json_t *sub = json_object_get(obj, key);

	if (sub == NULL) {
		sub = json_object();
		if (sub == NULL || json_object_set_new(obj, key, sub) == -1)
			return (NULL);
	}
	return (sub);
}

/* obj[key], created as an empty array if missing. */
static json_t *
sub_array(json_t *obj, const char *key)
{
	json_t *sub = json_object_get(obj, key);

	if (sub == NULL) {
		sub = json_array();
		if (sub == NULL || json_object_set_new(obj, key, sub) == -1)
			return (NULL);
	}
	return (sub);
}

/* Set obj[key] to a new value (stolen); -1 if any of it failed. */
static int
set_new(json_t *obj, const char *key, json_t *value)
{
	if (obj == NULL || value == NULL) {
		json_decref(value);
		return (-1);
	}
	return (json_object_set_new(obj, key, value));
}

static int
set_value(json_t *obj, const char *key, json_t *value)
{
	if (set_new(obj, key, value) == -1) {
		ctl_warnx("out of memory");
		return (-1);
	}
	return (0);
}

static int
set_string(
    struct schedctl *ctl, json_t *obj, const char *key, const char *value)
{
	json_t *s;

	if ((s = json_string(value)) == NULL) {
		ctl_usage_error(ctl, "'%s' is not valid UTF-8", value);
		return (-1);
	}
	if (set_new(obj, key, s) == -1) {
		ctl_warnx("out of memory");
		return (-1);
	}
	return (0);
}

static int
set_number(struct schedctl *ctl, json_t *obj, const char *key, int opt,
    const char *value, long long min, long long max)
{
	char name[64];
	long long n;

	snprintf(name, sizeof(name), "--%s", run_optname(opt));
	if (ctl_parse_number(ctl, name, value, min, max, &n) == -1)
		return (-1);
	if (set_new(obj, key, json_integer(n)) == -1) {
		ctl_warnx("out of memory");
		return (-1);
	}
	return (0);
}

/* A T with us/ms/s suffix, sent as microseconds. */
static int
set_duration_us(struct schedctl *ctl, json_t *obj, const char *key, int opt,
    const char *value)
{
	uint64_t us;

	if (util_parse_duration_us(value, &us) == -1 || us > INT64_MAX) {
		ctl_usage_error(ctl,
		    "--%s: '%s' is not a duration (e.g. 500us, 10ms, 1s)",
		    run_optname(opt), value);
		return (-1);
	}
	if (set_new(obj, key, json_integer((json_int_t)us)) == -1) {
		ctl_warnx("out of memory");
		return (-1);
	}
	return (0);
}

/* Milliseconds: a bare number, or a duration with a suffix. */
static int
set_ms(struct schedctl *ctl, json_t *obj, const char *key, int opt,
    const char *value)
{
	const char *p;
	uint64_t us;

	for (p = value; *p >= '0' && *p <= '9'; p++)
		;
	if (*p == '\0')
		return (set_number(ctl, obj, key, opt, value, 0, INT64_MAX));
	if (util_parse_duration_us(value, &us) == -1 || us % 1000 != 0) {
		ctl_usage_error(ctl,
		    "--%s: '%s' is not a number of milliseconds",
		    run_optname(opt), value);
		return (-1);
	}
	if (set_new(obj, key, json_integer((json_int_t)(us / 1000))) == -1) {
		ctl_warnx("out of memory");
		return (-1);
	}
	return (0);
}

static int
add_env(struct schedctl *ctl, json_t *env, const char *opt, const char *kv)
{
	const char *eq = strchr(kv, '=');
	json_t *v;
	char *key;
	int rc;

	if (env == NULL) {
		ctl_warnx("out of memory");
		return (-1);
	}
	if (eq == NULL || eq == kv) {
		ctl_usage_error(ctl, "%s: '%s' is not KEY=VALUE", opt, kv);
		return (-1);
	}
	key = xmalloc((size_t)(eq - kv) + 1);
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	if ((v = json_string(eq + 1)) == NULL) {
		ctl_usage_error(ctl, "%s: '%s' is not valid UTF-8", opt, kv);
		free(key);
		return (-1);
	}
	if ((rc = set_new(env, key, v)) == -1)
		ctl_usage_error(ctl, "%s: '%s' is not valid UTF-8", opt, kv);
	free(key);
	return (rc);
}

static int
add_string(struct schedctl *ctl, json_t *array, const char *s)
{
	json_t *v;

	if (array == NULL) {
		ctl_warnx("out of memory");
		return (-1);
	}
	if ((v = json_string(s)) == NULL) {
		ctl_usage_error(ctl, "'%s' is not valid UTF-8", s);
		return (-1);
	}
	if (json_array_append_new(array, v) == -1) {
		ctl_warnx("out of memory");
		return (-1);
	}
	return (0);
}

/*
 * --cpus-within self: the CPUs schedctl itself may run on. Under an outer
 * scheduler (a Slurm step) that is what it allotted, and the daemon then
 * grants the job nothing outside it.
 */
static int
set_cpus_self(struct schedctl *ctl, json_t *spec)
{
	cpu_set_t set;
	char buf[4096];
	size_t len = 0;
	int i, lo = -1;

	if (sched_getaffinity(0, sizeof(set), &set) == -1) {
		ctl_warnx("sched_getaffinity: %s", strerror(errno));
		return (-1);
	}
	buf[0] = '\0';
	for (i = 0; i <= CPU_SETSIZE; i++) {
		if (i < CPU_SETSIZE && CPU_ISSET(i, &set)) {
			if (lo == -1)
				lo = i;
			continue;
		}
		if (lo == -1)
			continue;
		if (lo == i - 1)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
			    "%s%d", len > 0 ? "," : "", lo);
		else
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
			    "%s%d-%d", len > 0 ? "," : "", lo, i - 1);
		lo = -1;
		if (len >= sizeof(buf)) {
			ctl_warnx("--cpus-within self: too many CPU ranges");
			return (-1);
		}
	}
	return (set_string(ctl, spec, "cpus_within", buf));
}

/* One option into the spec. */
static int
run_option(struct schedctl *ctl, json_t *spec, int opt, const char *v)
{
	long long sig;
	uint64_t size;
	char pct[32];
	size_t n;

	switch (opt) {
	case OPT_NAME:
		return (set_string(ctl, spec, "name", v));
	case 'e':
		return (add_env(ctl, sub_object(spec, "env"), "--env", v));
	case OPT_CWD:
		return (set_string(ctl, spec, "cwd", v));
	case OPT_USER:
		return (set_string(ctl, spec, "user", v));
	case OPT_GROUP:
		return (set_string(ctl, spec, "group", v));
	case OPT_NO_START:
		return (set_value(spec, "start", json_false()));
	case OPT_CPUS:
		return (set_string(ctl, spec, "cpus", v));
	case OPT_EXCLUSIVE_CPUS:
		return (set_number(
		    ctl, spec, "exclusive_cpus", opt, v, 0, INT_MAX));
	case OPT_POLICY:
		return (
		    set_string(ctl, sub_object(spec, "sched"), "policy", v));
	case OPT_PRIORITY:
		return (set_number(ctl, sub_object(spec, "sched"), "priority",
		    opt, v, INT_MIN, INT_MAX));
	case OPT_NICE:
		return (set_number(ctl, sub_object(spec, "sched"), "nice", opt,
		    v, INT_MIN, INT_MAX));
	case OPT_RUNTIME:
		return (set_duration_us(
		    ctl, sub_object(spec, "sched"), "runtime_us", opt, v));
	case OPT_DEADLINE:
		return (set_duration_us(
		    ctl, sub_object(spec, "sched"), "deadline_us", opt, v));
	case OPT_PERIOD:
		return (set_duration_us(
		    ctl, sub_object(spec, "sched"), "period_us", opt, v));
	case OPT_RESET_ON_FORK:
		return (set_value(
		    sub_object(spec, "sched"), "reset_on_fork", json_true()));
	case OPT_MEMORY_MAX:
		/* Checked here, sent as typed ("512M", the contract's form). */
		if (util_parse_size(v, &size) == -1) {
			ctl_usage_error(ctl,
			    "--memory-max: '%s' is not a size (e.g. 512M)", v);
			return (-1);
		}
		return (set_string(
		    ctl, sub_object(spec, "limits"), "memory_max", v));
	case OPT_PIDS_MAX:
		return (set_number(ctl, sub_object(spec, "limits"), "pids_max",
		    opt, v, 0, INT64_MAX));
	case OPT_CPU_QUOTA:
		/* "50" or "50%". */
		n = strlen(v);
		if (n > 0 && n < sizeof(pct) && v[n - 1] == '%') {
			memcpy(pct, v, n - 1);
			pct[n - 1] = '\0';
			v = pct;
		}
		return (set_number(ctl, sub_object(spec, "limits"),
		    "cpu_quota_pct", opt, v, 0, INT_MAX));
	case OPT_CPU_WEIGHT:
		return (set_number(ctl, sub_object(spec, "limits"),
		    "cpu_weight", opt, v, 0, INT_MAX));
	case OPT_RESTART:
		return (
		    set_string(ctl, sub_object(spec, "restart"), "policy", v));
	case OPT_MAX_RETRIES:
		return (set_number(ctl, sub_object(spec, "restart"),
		    "max_retries", opt, v, INT_MIN, INT_MAX));
	case OPT_BACKOFF:
		return (set_ms(
		    ctl, sub_object(spec, "restart"), "backoff_ms", opt, v));
	case OPT_BACKOFF_MAX:
		return (set_ms(ctl, sub_object(spec, "restart"),
		    "backoff_max_ms", opt, v));
	case OPT_STOP_SIGNAL:
		if ((sig = util_signal_parse(v)) == -1 ||
		    util_signal_name((int)sig) == NULL) {
			ctl_usage_error(
			    ctl, "--stop-signal: unknown signal '%s'", v);
			return (-1);
		}
		return (set_string(ctl, sub_object(spec, "stop"), "signal",
		    util_signal_name((int)sig)));
	case OPT_STOP_TIMEOUT:
		return (set_ms(
		    ctl, sub_object(spec, "stop"), "timeout_ms", opt, v));
	case OPT_STOP_UNWAITED:
		return (set_ms(
		    ctl, sub_object(spec, "stop"), "unwaited_ms", opt, v));
	case OPT_AFTER:
		return (add_string(ctl, sub_array(spec, "after"), v));
	case OPT_ON_DRIFT:
		return (set_string(ctl, spec, "on_drift", v));
	case OPT_LABEL:
		return (add_env(ctl, sub_object(spec, "labels"), "--label", v));
	case OPT_CPUS_WITHIN:
		if (strcmp(v, "self") == 0)
			return (set_cpus_self(ctl, spec));
		return (set_string(ctl, spec, "cpus_within", v));
	}
	return (0);
}

/* Read a job file (or stdin for "-"), bounded. Caller frees *buf. */
static int
read_file(const char *path, char **buf, size_t *len)
{
	size_t cap = 0, n = 0;
	ssize_t r;
	char *p = NULL;
	int fd, saved;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		goto fail;
	for (;;) {
		if (n == cap) {
			if (cap >= RUN_FILE_MAX) {
				errno = EFBIG;
				goto fail;
			}
			cap = cap == 0 ? 65536 : cap * 2;
			p = xreallocarray(p, cap + 1, 1);
		}
		r = read(fd, p + n, cap - n);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	p = xreallocarray(p, n + 1, 1);
	p[n] = '\0';
	*buf = p;
	*len = n;
	return (0);
fail:
	saved = errno;
	ctl_warnx("%s: %s", path, strerror(saved));
	if (fd != -1 && fd != STDIN_FILENO)
		close(fd);
	free(p);
	errno = saved;
	return (-1);
}

/* "sleep-3 (id 3) running, pid 4242". */
static void
print_created(const json_t *job)
{
	const char *name = fmt_str(job, "name"), *state = fmt_str(job, "state");
	long long id, pid;

	printf("%s", name != NULL ? name : "?");
	if (fmt_int(job, "id", &id))
		printf(" (id %lld)", id);
	printf(" %s", state != NULL ? state : "?");
	if (fmt_int(job, "pid", &pid))
		printf(", pid %lld", pid);
	printf("\n");
}

/*
 * run -w's signals. The handler only writes the signal's number into a
 * pipe; the pending request polls the pipe's other end (ctl->wake_fd), so
 * a signal that comes at any moment, even before the request starts,
 * ends it and is handled in the ordinary flow.
 */
static int run_sigpipe[2] = {-1, -1};

static void
run_sighandler(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	(void)write(run_sigpipe[1], &b, 1);
	errno = saved;
}

static int
run_signals_catch(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa;
	size_t i;
	int fd;

	if (pipe2(run_sigpipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		ctl_warnx("pipe: %s", strerror(errno));
		return (-1);
	}
	/* ctl->wake_fd must be > 0 even when stdin was closed. */
	if (run_sigpipe[0] < 3) {
		if ((fd = fcntl(run_sigpipe[0], F_DUPFD_CLOEXEC, 3)) == -1) {
			ctl_warnx("fcntl: %s", strerror(errno));
			return (-1);
		}
		close(run_sigpipe[0]);
		run_sigpipe[0] = fd;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = run_sighandler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) == -1) {
			ctl_warnx("sigaction: %s", strerror(errno));
			return (-1);
		}
	return (0);
}

/* The next signal caught, or 0 when none is pending. */
static int
run_signal_next(void)
{
	unsigned char b;

	if (read(run_sigpipe[0], &b, 1) == 1)
		return (b);
	return (0);
}

#define RUN_RECONNECT_MS 30000 /* how long -w looks for a lost daemon */
/*
 * An INT or TERM this soon after the one that stopped the job is the same
 * request, not a second one: Slurm's time limit sends a step SIGTERM,
 * SIGCONT and SIGTERM again within about a millisecond (measured with
 * 22.05, tests/slurm/measure.sh), which must not skip the stop policy.
 */
#define RUN_REPEAT_MS 1000

static long long
run_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * One follower of the run's stdout or stderr (-a), in a child process so
 * that the wait and the signals stay simple. It ignores the terminal's
 * signals: the parent decides what they mean, and the follow ends by
 * itself once the run has ended and its output is drained. When the
 * daemon goes away it follows the run again from a restarted one,
 * skipping the bytes it has copied already: the run's output is in files
 * that outlive the daemon, and the replay is the same bytes in the same
 * order.
 */
struct attach {
	int fd;
	unsigned long long seen; /* bytes of this stream so far */
	unsigned long long done; /* bytes copied, over every stream */
};

static int
attach_write(const char *data, size_t len, void *arg)
{
	struct attach *a = arg;
	int fd = a->fd;
	unsigned long long skip;
	ssize_t w;

	if (a->seen < a->done) {
		skip = a->done - a->seen;
		if (skip >= len) {
			a->seen += len;
			return (0);
		}
		a->seen += skip;
		data += skip;
		len -= (size_t)skip;
	}
	a->seen += len;
	a->done = a->seen;
	if (fd == STDOUT_FILENO)
		return (ctl_write_out(data, len));
	while (len > 0) {
		if ((w = write(fd, data, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		data += w;
		len -= (size_t)w;
	}
	return (0);
}

static pid_t
attach_start(struct schedctl *ctl, const char *id, long long run, int fd)
{
	struct timespec ts = {0, 200 * 1000 * 1000};
	char path[CTL_PATH_MAX], suffix[128];
	struct attach a;
	long long lost = 0;
	pid_t pid;
	int rc;

	if (run > 0)
		snprintf(suffix, sizeof(suffix),
		    "/logs?stream=%s&run=%lld&follow=true",
		    fd == STDOUT_FILENO ? "stdout" : "stderr", run);
	else
		snprintf(suffix, sizeof(suffix), "/logs?stream=%s&follow=true",
		    fd == STDOUT_FILENO ? "stdout" : "stderr");
	if (ctl_job_path(ctl, path, sizeof(path), id, suffix) == -1)
		return (-1);
	fflush(NULL);
	if ((pid = fork()) == -1) {
		ctl_warnx("fork: %s", strerror(errno));
		return (-1);
	}
	if (pid > 0)
		return (pid);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	ctl->wake_fd = 0;
	/* The parent says when the daemon is lost, once. */
	ctl->quiet_unreachable = 1;
	memset(&a, 0, sizeof(a));
	a.fd = fd;
	for (;;) {
		a.seen = 0;
		rc = ctl_stream(ctl, path, CTL_NO_TIMEOUT, attach_write, &a);
		if (rc != CTL_EXIT_UNREACHABLE)
			break;
		if (a.seen > 0 || lost == 0)
			lost = run_now_ms();
		if (run_now_ms() - lost >= RUN_RECONNECT_MS)
			break;
		(void)nanosleep(&ts, NULL);
	}
	_exit(rc);
}

/* POST kill, not to be cut short by the next signal (it stays queued). */
static int
run_kill(struct schedctl *ctl, const char *id, const char *sig)
{
	char path[CTL_PATH_MAX];
	json_t *body;
	int rc, wake = ctl->wake_fd;

	if (ctl_job_path(ctl, path, sizeof(path), id, "/kill") == -1)
		return (CTL_EXIT_USAGE);
	if ((body = json_pack("{s:s}", "signal", sig)) == NULL) {
		ctl_warnx("out of memory");
		return (CTL_EXIT_ERROR);
	}
	ctl->wake_fd = 0;
	rc = ctl_call(ctl, "POST", path, body, CTL_TIMEOUT_MS, NULL);
	ctl->wake_fd = wake;
	json_decref(body);
	/* A job that has just ended answers 409: the wait tells how. */
	return (rc == CTL_EXIT_UNREACHABLE ? rc : 0);
}

/* What a caught signal means for the job; returns an exit code or 0. */
static int
run_forward(struct schedctl *ctl, const char *id, int sig, int *stops)
{
	char path[CTL_PATH_MAX];
	int rc;

	static long long first;

	if (sig == SIGHUP)
		return (run_kill(ctl, id, "SIGHUP"));
	if (*stops > 0 && run_now_ms() - first < RUN_REPEAT_MS)
		return (0);
	if ((*stops)++ > 0) {
		/* A second INT or TERM during the stop: no more waiting. */
		ctl_warnx("%s again: killing job %s", strsignal(sig), id);
		return (run_kill(ctl, id, "SIGKILL"));
	}
	first = run_now_ms();
	if (isatty(STDERR_FILENO))
		ctl_warnx(
		    "%s: stopping job %s (its stop policy; again to kill)",
		    strsignal(sig), id);
	if (ctl_job_path(ctl, path, sizeof(path), id, "/stop") == -1)
		return (CTL_EXIT_USAGE);
	/* Stopping takes up to the job's stop timeout; another signal
	 * ends this request and escalates. */
	for (;;) {
		rc = ctl_call(ctl, "POST", path, NULL, CTL_NO_TIMEOUT, NULL);
		if (rc != CTL_WOKEN)
			break;
		while ((sig = run_signal_next()) != 0)
			if ((rc = run_forward(ctl, id, sig, stops)) != 0)
				return (rc);
	}
	/* A job that ended meanwhile answers 409: the wait tells how. */
	return (rc == CTL_EXIT_UNREACHABLE ? rc : 0);
}

/*
 * The daemon went away (killed, restarting): keep looking for it for
 * RUN_RECONNECT_MS, quietly, as a new schedd adopts the run and answers
 * the same wait. Signals caught meanwhile stay in the pipe and are passed
 * on once it answers. Returns 0 to try again, -1 to give up.
 */
static int
run_lost(struct schedctl *ctl, long long *since)
{
	struct timespec ts = {0, 200 * 1000 * 1000};
	long long now = run_now_ms();

	if (*since == 0) {
		*since = now;
		ctl->quiet_unreachable = 1;
		ctl_warnx("lost schedd; looking for it for up to %d s",
		    RUN_RECONNECT_MS / 1000);
	}
	if (now - *since >= RUN_RECONNECT_MS) {
		ctl->quiet_unreachable = 0;
		ctl_warnx("schedd did not come back within %d s; the job may "
			  "still run",
		    RUN_RECONNECT_MS / 1000);
		return (-1);
	}
	(void)nanosleep(&ts, NULL);
	return (0);
}

/*
 * run -w: wait for the run, passing signals on, and return the job's own
 * status. Followers (-a) are children that end with the run.
 */
static int
run_wait(struct schedctl *ctl, const json_t *job, int attach)
{
	const json_t *last = json_object_get(job, "last_run");
	pid_t out_pid = -1, err_pid = -1;
	char idbuf[32];
	long long id, run = 0, lost = 0;
	int rc, sig, st, stops = 0, gone;

	/* By id: the name could pass to another job after an rm. */
	if (!fmt_int(job, "id", &id)) {
		ctl_warnx("the daemon's answer has no job id");
		return (CTL_EXIT_ERROR);
	}
	snprintf(idbuf, sizeof(idbuf), "%lld", id);
	if (!ctl->json)
		print_created(job);
	if (attach) {
		(void)fmt_int(last, "run", &run);
		fflush(stdout);
		out_pid = attach_start(ctl, idbuf, run, STDOUT_FILENO);
		err_pid = attach_start(ctl, idbuf, run, STDERR_FILENO);
	}
	for (;;) {
		ctl->wake_fd = run_sigpipe[0];
		rc = cmd_wait_job(ctl, idbuf, &gone);
		ctl->wake_fd = 0;
		if (gone) {
			if (run_lost(ctl, &lost) == -1)
				break;
			continue;
		}
		if (lost != 0) {
			lost = 0;
			ctl->quiet_unreachable = 0;
			ctl_warnx("schedd is back; waiting on");
		}
		if (rc != CTL_WOKEN)
			break;
		ctl->wake_fd = run_sigpipe[0];
		while ((sig = run_signal_next()) != 0)
			if ((rc = run_forward(ctl, idbuf, sig, &stops)) != 0)
				break;
		ctl->wake_fd = 0;
		if (rc == CTL_EXIT_UNREACHABLE) {
			/* Passed on once the daemon is back. */
			run_sighandler(sig);
			if (sig != SIGHUP && stops > 0)
				stops--;
			if (run_lost(ctl, &lost) == -1)
				break;
			continue;
		}
		if (rc != 0 && rc != CTL_WOKEN)
			break;
	}
	/* The followers end once the run's output is drained. */
	if (out_pid > 0)
		(void)waitpid(out_pid, &st, 0);
	if (err_pid > 0)
		(void)waitpid(err_pid, &st, 0);
	return (rc);
}

static int
cmd_run_exec(struct schedctl *ctl, struct args *args)
{
	const char *file = args_get(args, 'f');
	json_t *job = NULL;
	char status[512];
	int rc, ended, wait_run = args_has(args, 'w') > 0;
	int attach = args_has(args, 'a') > 0;

	if (attach && !wait_run)
		return (ctl_usage_error(ctl, "-a needs -w"));
	if (attach && ctl->json)
		return (ctl_usage_error(ctl,
		    "-a prints the job's output, which is not JSON: drop --json"));
	/* Before the job exists, so that no signal can orphan it. */
	if (wait_run && run_signals_catch() == -1)
		return (CTL_EXIT_ERROR);

	if (file == NULL && args->argc > 0 && wait_run &&
	    args_has(args, OPT_NO_START))
		return (ctl_usage_error(
		    ctl, "-w cannot wait for a job created with --no-start"));
	rc = cmd_run_request(ctl, args, "/v1/jobs", &job);
	if (rc != CTL_EXIT_OK)
		goto out;
	if (!json_is_object(job)) {
		ctl_warnx("the daemon's answer is not a job");
		rc = CTL_EXIT_ERROR;
		goto out;
	}

	if (fmt_str(job, "state") != NULL &&
	    strcmp(fmt_str(job, "state"), "failed") == 0) {
		/* Created, but it could not start: say why and fail. */
		rc = fmt_run_status(job, status, sizeof(status), &ended);
		if (rc == CTL_EXIT_OK)
			rc = CTL_EXIT_ERROR;
		if (ctl->json)
			ctl_print_json(job);
		ctl_warnx("%s: %s",
		    fmt_str(job, "name") != NULL ? fmt_str(job, "name") : "job",
		    status);
		goto out;
	}
	if (wait_run) {
		rc = run_wait(ctl, job, attach);
		goto out;
	}
	if (ctl->json)
		rc = ctl_print_json(job);
	else
		print_created(job);
out:
	json_decref(job);
	return (rc);
}

/* -f, -w and -a say what run (or plan) does, not what the job is. */
static int
not_job_option(int opt)
{
	return (opt == 'f' || opt == 'w' || opt == 'a');
}

int
cmd_run_request(
    struct schedctl *ctl, struct args *args, const char *path, json_t **answer)
{
	const char *file = args_get(args, 'f');
	json_t *spec = NULL, *argv = NULL, *sched;
	char *body = NULL;
	size_t body_len = 0;
	int i, rc;

	*answer = NULL;
	if (file != NULL) {
		for (i = 0; i < args->nopts; i++)
			if (!not_job_option(args->opts[i].opt))
				return (ctl_usage_error(ctl,
				    "-f cannot be combined with job options"));
		if (args_has(args, 'f') > 1)
			return (ctl_usage_error(ctl, "-f can be given once"));
		if (args->argc > 0)
			return (ctl_usage_error(
			    ctl, "-f cannot be combined with a command"));
		if (read_file(file, &body, &body_len) == -1)
			return (CTL_EXIT_ERROR);
		rc = ctl_call_raw(
		    ctl, "POST", path, body, body_len, CTL_TIMEOUT_MS, answer);
		free(body);
		return (rc);
	}
	if (args->argc == 0)
		return (ctl_usage_error(ctl, "missing command"));
	rc = CTL_EXIT_USAGE;
	if ((spec = json_object()) == NULL || (argv = json_array()) == NULL ||
	    json_object_set(spec, "argv", argv) == -1) {
		ctl_warnx("out of memory");
		rc = CTL_EXIT_ERROR;
		goto out;
	}
	for (i = 0; i < args->argc; i++)
		if (add_string(ctl, argv, args->argv[i]) == -1)
			goto out;
	for (i = 0; i < args->nopts; i++)
		if (!not_job_option(args->opts[i].opt) &&
		    run_option(ctl, spec, args->opts[i].opt,
			args->opts[i].value) == -1)
			goto out;
	/* --nice alone is the nice(1) case: the default policy. */
	sched = json_object_get(spec, "sched");
	if (json_object_get(sched, "policy") == NULL &&
	    json_object_get(sched, "nice") != NULL &&
	    json_object_size(sched) == 1 &&
	    set_value(sched, "policy", json_string("other")) == -1) {
		rc = CTL_EXIT_ERROR;
		goto out;
	}
	rc = ctl_call(ctl, "POST", path, spec, CTL_TIMEOUT_MS, answer);
out:
	json_decref(argv);
	json_decref(spec);
	return (rc);
}
