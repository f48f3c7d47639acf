/* SPDX-License-Identifier: ISC */
/*
 * schedctl logs: a job's captured stdout or stderr, written to our stdout
 * byte for byte as it arrives (GET /v1/jobs/{job}/logs). The bytes are the
 * job's, not ours to interpret: no decoding, no sanitising, no buffering
 * beyond what the HTTP helper needs; -f follows until the run ends.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "client/schedctl.h"

enum {
	OPT_TAIL = CTL_OPT_LONG,
	OPT_STDERR,
	OPT_RUN,
};

static const struct option logs_longopts[] = {
    {"follow", no_argument, NULL, 'f'},
    {"tail", required_argument, NULL, OPT_TAIL},
    {"stderr", no_argument, NULL, OPT_STDERR},
    {"run", required_argument, NULL, OPT_RUN},
    {NULL, 0, NULL, 0},
};

static int cmd_logs_exec(struct schedctl *, struct args *);

const struct cmd_entry cmd_logs_entry = {
    .name = "logs",
    .usage = "[-f] [--tail N] [--stderr] [--run N] JOB",
    .summary = "print a job's output (stdout, or stderr)",
    .help = "  -f, --follow         keep printing until the run ends\n"
	    "  -n, --tail N         only the last N lines\n"
	    "  --stderr             the job's stderr instead of its stdout\n"
	    "  --run N              run N instead of the last one\n",
    .optstring = "fn:",
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

static int
cmd_logs_exec(struct schedctl *ctl, struct args *args)
{
	char path[CTL_PATH_MAX], suffix[128];
	const char *tail, *run;
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

	n = (size_t)snprintf(suffix, sizeof(suffix), "/logs?stream=%s",
	    args_has(args, OPT_STDERR) ? "stderr" : "stdout");
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
