/* SPDX-License-Identifier: ISC */
/*
 * schedctl logs: a job's captured stdout or stderr, written to our stdout
 * byte for byte as it arrives (GET /v1/jobs/{job}/logs). The bytes are the
 * job's, not ours to interpret: no decoding, no sanitising, no buffering
 * beyond what the HTTP helper needs; -f follows the job across its runs
 * until it is deleted (or, with --run N, until that run ends).
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "client/format.h"
#include "client/schedctl.h"
#include "proto/util.h"

enum {
	OPT_TAIL = CTL_OPT_LONG,
	OPT_STDERR,
	OPT_RUN,
	OPT_ALL,
	OPT_SINCE,
};

static const struct option logs_longopts[] = {
    {"follow", no_argument, NULL, 'f'},
    {"tail", required_argument, NULL, OPT_TAIL},
    {"stderr", no_argument, NULL, OPT_STDERR},
    {"run", required_argument, NULL, OPT_RUN},
    {"all", no_argument, NULL, OPT_ALL},
    {"since", required_argument, NULL, OPT_SINCE},
    {"timestamps", no_argument, NULL, 't'},
    {NULL, 0, NULL, 0},
};

static int cmd_logs_exec(struct schedctl *, struct args *);

const struct cmd_entry cmd_logs_entry = {
    .name = "logs",
    .usage = "[-ft] [-n N] [--stderr | --all] [--run N | --since TIME] JOB",
    .summary = "print a job's output (stdout, stderr or both)",
    .help =
	"  -f, --follow         keep printing as the job writes, across its\n"
	"                       next runs (\"--- run N ---\" marks each), until\n"
	"                       the job is deleted; with --run N, until run N ends\n"
	"  -t, --timestamps     start each line with the time schedd read it\n"
	"                       (RFC 3339 UTC, ms)\n"
	"  -n, --tail N         only the last N lines\n"
	"  --stderr             the job's stderr instead of its stdout\n"
	"  --all                stdout and stderr interleaved, in the order\n"
	"                       schedd read them\n"
	"  --run N              run N instead of the last one\n"
	"  --since TIME         output written since TIME, of every run:\n"
	"                       2026-12-02T21:30:00Z, or an age: 90s, 10m, 2h, 1d\n",
    .notes =
	"With --json: one JSON object a line, {\"stream\", \"run\", \"time\",\n"
	"\"text\"} (\"partial\": true when no newline ended it), as the\n"
	"daemon sends them for logs?format=json.\n",
    .optstring = "fn:t",
    .longopts = logs_longopts,
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_logs_exec,
};

static int
logs_write(const char *data, size_t len, void *arg)
{
	(void)arg;
	return (ctl_write_out(data, len));
}

/* --since: an RFC 3339 time, or an age ("10m") before now; into buf as
 * RFC 3339 UTC. */
static int
logs_since(const char *s, char *buf, size_t len)
{
	const char *errstr;
	int64_t ms, unit;
	long long n;
	size_t k = strlen(s);
	char num[32];

	if (util_time_parse(s, &ms) == 0) {
		util_time_format(ms, buf, len);
		return (0);
	}
	if (k < 2 || k >= sizeof(num))
		return (-1);
	switch (s[k - 1]) {
	case 's':
		unit = 1000;
		break;
	case 'm':
		unit = 60 * 1000;
		break;
	case 'h':
		unit = 3600 * 1000;
		break;
	case 'd':
		unit = 86400 * 1000;
		break;
	default:
		return (-1);
	}
	memcpy(num, s, k - 1);
	num[k - 1] = '\0';
	n = util_strtonum(num, 0, 100000000, &errstr);
	if (errstr != NULL)
		return (-1);
	util_time_format(fmt_now_ms() - n * unit, buf, len);
	return (0);
}

static int
cmd_logs_exec(struct schedctl *ctl, struct args *args)
{
	char path[CTL_PATH_MAX], suffix[256], since[40];
	const char *tail, *run, *s;
	long long ntail = -1, nrun = -1;
	int follow = args_has(args, 'f') > 0;
	size_t n;

	/* -n and --tail are one option: the last one given wins. */
	tail = NULL;
	for (n = 0; n < (size_t)args->nopts; n++)
		if (args->opts[n].opt == 'n' || args->opts[n].opt == OPT_TAIL)
			tail = args->opts[n].value;
	if (tail != NULL &&
	    ctl_parse_number(ctl, "--tail", tail, 0, 1000000, &ntail) == -1)
		return (CTL_EXIT_USAGE);
	if ((run = args_get(args, OPT_RUN)) != NULL &&
	    ctl_parse_number(ctl, "--run", run, 1, INT64_MAX, &nrun) == -1)
		return (CTL_EXIT_USAGE);

	if (args_has(args, OPT_STDERR) && args_has(args, OPT_ALL))
		return (ctl_usage_error(ctl, "--stderr and --all exclude each "
					     "other"));
	since[0] = '\0';
	if ((s = args_get(args, OPT_SINCE)) != NULL &&
	    logs_since(s, since, sizeof(since)) == -1)
		return (ctl_usage_error(ctl,
		    "--since: '%s' is not a time (2026-12-02T21:30:00Z) or an "
		    "age (90s, 10m, 2h, 1d)",
		    s));
	n = (size_t)snprintf(suffix, sizeof(suffix), "/logs?stream=%s",
	    args_has(args, OPT_STDERR) ? "stderr"
	    : args_has(args, OPT_ALL)  ? "all"
				       : "stdout");
	/* --json: one object a line (stream, run, time, text), as sent. */
	if (ctl->json)
		n += (size_t)snprintf(
		    suffix + n, sizeof(suffix) - n, "&format=json");
	else if (args_has(args, 't'))
		n += (size_t)snprintf(
		    suffix + n, sizeof(suffix) - n, "&timestamps=true");
	if (since[0] != '\0')
		n += (size_t)snprintf(
		    suffix + n, sizeof(suffix) - n, "&since=%s", since);
	if (ntail >= 0)
		n += (size_t)snprintf(
		    suffix + n, sizeof(suffix) - n, "&tail=%lld", ntail);
	if (nrun >= 0)
		n += (size_t)snprintf(
		    suffix + n, sizeof(suffix) - n, "&run=%lld", nrun);
	if (follow)
		snprintf(suffix + n, sizeof(suffix) - n, "&follow=true");
	if (ctl_job_path(ctl, path, sizeof(path), args->argv[0], suffix) == -1)
		return (CTL_EXIT_USAGE);
	return (ctl_stream(ctl, path, follow ? CTL_NO_TIMEOUT : CTL_TIMEOUT_MS,
	    logs_write, NULL));
}
