/* SPDX-License-Identifier: ISC */
/*
 * schedctl's main: global options, the one table of commands, option and
 * operand parsing for every command, help, and the shared plumbing that
 * turns a daemon answer into output and an exit status (0 ok, 1 the daemon
 * answered an error, 2 usage, 3 unreachable, 4 no such job). Commands live
 * in cmd-*.c and must never print a daemon error themselves: ctl_call()
 * already has.
 */
#include "config.h"

#include <sys/ioctl.h>

#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "client/http.h"
#include "client/schedctl.h"
#include "client/table.h"
#include "proto/util.h"

#define OPT_JSON    (CTL_OPT_LONG + 900)
#define OPT_SOCKET  (CTL_OPT_LONG + 901)
#define OPT_HOST    (CTL_OPT_LONG + 903)
#define OPT_TOKEN   (CTL_OPT_LONG + 904)
#define OPT_VERSION (CTL_OPT_LONG + 902)

static int stdout_reported; /* stdout failed and we said so */

static const struct cmd_entry *const cmd_table[] = {
    &cmd_run_entry,
    &cmd_ps_entry,
    &cmd_show_entry,
    &cmd_status_entry,
    &cmd_top_entry,
    &cmd_tree_entry,
    &cmd_start_entry,
    &cmd_stop_entry,
    &cmd_restart_entry,
    &cmd_pause_entry,
    &cmd_resume_entry,
    &cmd_rm_entry,
    &cmd_kill_entry,
    &cmd_wait_entry,
    &cmd_logs_entry,
    &cmd_events_entry,
    &cmd_cpus_entry,
    &cmd_plan_entry,
    &cmd_reload_entry,
    &cmd_health_entry,
    &cmd_policy_entry,
    NULL,
};

void *
xmalloc(size_t size)
{
	void *p;

	if ((p = malloc(size == 0 ? 1 : size)) == NULL) {
		fprintf(stderr, "schedctl: out of memory\n");
		exit(CTL_EXIT_ERROR);
	}
	return (p);
}

void *
xcalloc(size_t n, size_t size)
{
	void *p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL) {
		fprintf(stderr, "schedctl: out of memory\n");
		exit(CTL_EXIT_ERROR);
	}
	return (p);
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	void *np;

	if (size != 0 && n > SIZE_MAX / size) {
		fprintf(stderr, "schedctl: out of memory\n");
		exit(CTL_EXIT_ERROR);
	}
	if ((np = realloc(p, n * size == 0 ? 1 : n * size)) == NULL) {
		fprintf(stderr, "schedctl: out of memory\n");
		exit(CTL_EXIT_ERROR);
	}
	return (np);
}

char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;

	p = xmalloc(n);
	memcpy(p, s, n);
	return (p);
}

const char *
args_get(const struct args *args, int opt)
{
	int i;

	for (i = args->nopts; i-- > 0;)
		if (args->opts[i].opt == opt)
			return (args->opts[i].value);
	return (NULL);
}

int
args_has(const struct args *args, int opt)
{
	int i, n = 0;

	for (i = 0; i < args->nopts; i++)
		if (args->opts[i].opt == opt)
			n++;
	return (n);
}

void
ctl_warnx(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("schedctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Print the usage lines of cmd ("usage: schedctl NAME ..."). */
static void
usage_lines(FILE *fp, const struct cmd_entry *cmd)
{
	const char *p = cmd->usage, *nl;
	int first = 1;

	for (;;) {
		nl = strchr(p, '\n');
		fprintf(fp, "%s schedctl %s%s%.*s\n",
		    first ? "usage:" : "      ", cmd->name,
		    *p != '\0' ? " " : "",
		    (int)(nl != NULL ? (size_t)(nl - p) : strlen(p)), p);
		if (nl == NULL)
			break;
		p = nl + 1;
		first = 0;
	}
}

static void
usage_cmd(FILE *fp, const struct cmd_entry *cmd)
{
	usage_lines(fp, cmd);
	fprintf(fp, "\n%s\n", cmd->summary);
	fputs("\nOptions:\n", fp);
	if (cmd->help != NULL)
		fputs(cmd->help, fp);
	fputs("  --json               print the daemon's JSON answer\n"
	      "  -h, --help           show this help\n",
	    fp);
	fputs(
	    "\nExit status: 0 ok, 1 the daemon answered an error, 2 usage error,\n"
	    "3 the daemon is unreachable, 4 no such job.\n",
	    fp);
	if (cmd->notes != NULL)
		fprintf(fp, "\n%s", cmd->notes);
}

static void
usage_global(FILE *fp)
{
	const struct cmd_entry *const *cmd;

	fputs(
	    "usage: schedctl [--socket PATH | --host HOST:PORT --token-file F]\n"
	    "                [--json] COMMAND [ARGS ...]\n"
	    "       schedctl help [COMMAND]\n"
	    "       schedctl --version\n"
	    "\n"
	    "Control schedd, the job supervisor, over its Unix socket (or its\n"
	    "TCP listener, with a token).\n"
	    "\n"
	    "Commands:\n",
	    fp);
	for (cmd = cmd_table; *cmd != NULL; cmd++)
		fprintf(fp, "  %-8s %s\n", (*cmd)->name, (*cmd)->summary);
	fputs(
	    "  help     show this help, or a command's: schedctl help COMMAND\n"
	    "\n"
	    "Global options:\n"
	    "  --socket PATH  the daemon's socket (default: $SCHEDD_SOCKET, else\n"
	    "                 " CTL_SOCKET_DEFAULT ")\n"
	    "  --host HOST:PORT  the daemon's TCP listener instead (default:\n"
	    "                 $SCHEDD_HOST); plain HTTP, so keep it on a trusted\n"
	    "                 network or behind a TLS tunnel\n"
	    "  --token-file F the bearer token for --host: the first word of F\n"
	    "                 (default: $SCHEDD_TOKEN_FILE)\n"
	    "  --json         print JSON instead of text (errors too: {\"error\": ...}\n"
	    "                 on stdout); every command also takes it after its name\n"
	    "  -h, --help     show this help; schedctl COMMAND --help for one command\n"
	    "  --version      print the version\n"
	    "\n"
	    "Exit status:\n"
	    "  0  success\n"
	    "  1  the daemon answered with an error (message on stderr), or the\n"
	    "     job could not start\n"
	    "  2  usage error\n"
	    "  3  the daemon could not be reached, or the connection broke\n"
	    "  4  no such job\n"
	    "  wait and run -w exit with the job's own status instead: its exit\n"
	    "  code, 128+N when signal N ended it, 1 when it could not start.\n",
	    fp);
}

static void json_error_out(
    struct schedctl *, json_t *, const char *, const char *);

int
ctl_usage_error(struct schedctl *ctl, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* --json (when already seen): the error as JSON on stdout too. */
	json_error_out(ctl, NULL, "usage", msg);
	fflush(stdout);
	fputs("schedctl: ", stderr);
	if (ctl->cmd != NULL)
		fprintf(stderr, "%s: ", ctl->cmd->name);
	fputs(msg, stderr);
	fputc('\n', stderr);
	if (ctl->cmd != NULL) {
		usage_lines(stderr, ctl->cmd);
		fprintf(stderr, "Try 'schedctl %s --help'.\n", ctl->cmd->name);
	} else
		fputs("Try 'schedctl help'.\n", stderr);
	return (CTL_EXIT_USAGE);
}

int
ctl_parse_number(struct schedctl *ctl, const char *optname, const char *s,
    long long min, long long max, long long *out)
{
	const char *errstr;
	long long v;

	v = util_strtonum(s, min, max, &errstr);
	if (errstr != NULL) {
		ctl_usage_error(ctl, "%s: '%s' is %s", optname, s,
		    strcmp(errstr, "invalid") == 0 ? "not a number" : errstr);
		return (-1);
	}
	*out = v;
	return (0);
}

int
ctl_job_path(struct schedctl *ctl, char *buf, size_t len, const char *job,
    const char *suffix)
{
	char enc[CTL_PATH_MAX];
	int n;

	if (*job == '\0') {
		ctl_usage_error(ctl, "the job name is empty");
		return (-1);
	}
	if (http_urlencode(enc, sizeof(enc), job) == -1)
		goto toolong;
	n = snprintf(buf, len, "/v1/jobs/%s%s", enc, suffix);
	if (n < 0 || (size_t)n >= len)
		goto toolong;
	return (0);
toolong:
	ctl_usage_error(ctl, "the job name is too long");
	return (-1);
}

/* Print msg (from the daemon: may hold anything) without control bytes. */
static void
warn_clean(const char *prefix, const char *msg, const char *suffix)
{
	char *clean;

	clean = table_sanitize(msg, NULL);
	ctl_warnx("%s%s%s", prefix, clean, suffix);
	free(clean);
}

/*
 * With --json, an error is JSON on stdout too: the contract's error body
 * as the daemon sent it, or one of ours with the same shape.
 */
static void
json_error_out(
    struct schedctl *ctl, json_t *body, const char *code, const char *msg)
{
	json_t *o = body;

	if (!ctl->json)
		return;
	if (!json_is_object(json_object_get(o, "error")))
		o = json_pack(
		    "{s:{s:s, s:s}}", "error", "code", code, "message", msg);
	else
		json_incref(o);
	if (o != NULL)
		ctl_print_json(o);
	json_decref(o);
}

/* An error answer: the contract's JSON error, or whatever libevent sent. */
static int
report_answer_error(struct schedctl *ctl, const struct http_response *resp)
{
	json_t *root, *err;
	const char *msg, *field;
	char extra[256], *clean;
	json_int_t oldest;
	int rc = CTL_EXIT_ERROR;

	root = json_loadb(
	    resp->body != NULL ? resp->body : "", resp->body_len, 0, NULL);
	err = json_object_get(root, "error");
	msg = json_string_value(json_object_get(err, "message"));
	if (msg == NULL) {
		ctl_warnx("the daemon answered HTTP %d %s", resp->status,
		    resp->reason);
		snprintf(extra, sizeof(extra), "HTTP %d %s", resp->status,
		    resp->reason);
		json_error_out(ctl, NULL, "http", extra);
		json_decref(root);
		return (CTL_EXIT_ERROR);
	}
	json_error_out(ctl, root, NULL, NULL);
	/* "No such job" has its own status, so scripts need not parse. */
	field = json_string_value(json_object_get(err, "field"));
	if (resp->status == 404 && field != NULL && strcmp(field, "job") == 0)
		rc = CTL_EXIT_NOJOB;
	extra[0] = '\0';
	field = json_string_value(json_object_get(err, "field"));
	if (field != NULL && *field != '\0' && strstr(msg, field) == NULL) {
		clean = table_sanitize(field, NULL);
		snprintf(extra, sizeof(extra), " (field: %s)", clean);
		free(clean);
	}
	if (json_is_integer(json_object_get(err, "oldest_id"))) {
		oldest = json_integer_value(json_object_get(err, "oldest_id"));
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
		    " (oldest event id: %" JSON_INTEGER_FORMAT ")", oldest);
	}
	warn_clean("", msg, extra);
	json_decref(root);
	return (rc);
}

static int
report_transport_error(
    struct schedctl *ctl, int r, const struct http_response *resp)
{
	switch (r) {
	case HTTP_EWAKE:
		return (CTL_WOKEN);
	case HTTP_EABORT:
		/* The reader has said why already. */
		return (CTL_EXIT_ERROR);
	case HTTP_ECONNECT:
		if (ctl->quiet_unreachable)
			return (CTL_EXIT_UNREACHABLE);
		warn_clean("", resp->error, "");
		json_error_out(ctl, NULL, "unreachable", resp->error);
		/* Which daemon we looked for, and how to have one. */
		if (ctl->host != NULL)
			ctl_warnx("is schedd listening on %s (listen = in "
				  "schedd.conf)?",
			    ctl->host);
		else
			ctl_warnx("is schedd running? Start it with "
				  "'schedd --daemonize' (as root, or under "
				  "systemd: 'systemctl start schedd'), or give "
				  "its socket with --socket or $SCHEDD_SOCKET");
		return (CTL_EXIT_UNREACHABLE);
	case HTTP_EIO:
		if (ctl->quiet_unreachable)
			return (CTL_EXIT_UNREACHABLE);
		warn_clean("", resp->error, "");
		json_error_out(ctl, NULL, "unreachable", resp->error);
		return (CTL_EXIT_UNREACHABLE);
	default:
		warn_clean("", resp->error, "");
		json_error_out(ctl, NULL, "protocol", resp->error);
		return (CTL_EXIT_ERROR);
	}
}

int
ctl_call_raw(struct schedctl *ctl, const char *method, const char *path,
    const char *body, size_t body_len, int timeout_ms, json_t **out)
{
	struct http_request req;
	struct http_response resp;
	json_error_t jerr;
	json_t *root;
	int r, rc;

	if (out != NULL)
		*out = NULL;
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.body = body;
	req.body_len = body_len;
	req.timeout_ms = timeout_ms;
	req.host = ctl->host;
	req.token = ctl->token;
	req.wake_fd = ctl->wake_fd;
	req.on_wake = ctl->on_wake;
	req.wake_arg = ctl->wake_arg;
	r = http_request(ctl->socket_path, &req, &resp);
	if (r != HTTP_OK) {
		rc = report_transport_error(ctl, r, &resp);
		goto out;
	}
	if (resp.status < 200 || resp.status > 299) {
		rc = report_answer_error(ctl, &resp);
		goto out;
	}
	rc = CTL_EXIT_OK;
	if (resp.body_len == 0)
		goto out;
	root = json_loadb(resp.body, resp.body_len, 0, &jerr);
	if (root == NULL) {
		ctl_warnx("the daemon's answer is not JSON: %s", jerr.text);
		rc = CTL_EXIT_ERROR;
		goto out;
	}
	if (out != NULL)
		*out = root;
	else
		json_decref(root);
out:
	http_response_free(&resp);
	return (rc);
}

int
ctl_call(struct schedctl *ctl, const char *method, const char *path,
    const json_t *body, int timeout_ms, json_t **out)
{
	char *text = NULL;
	int rc;

	if (body != NULL && (text = json_dumps(body,
				 JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
		ctl_warnx("cannot encode the request");
		return (CTL_EXIT_ERROR);
	}
	rc = ctl_call_raw(ctl, method, path, text,
	    text != NULL ? strlen(text) : 0, timeout_ms, out);
	free(text);
	return (rc);
}

int
ctl_stream(struct schedctl *ctl, const char *path, int timeout_ms,
    http_data_cb cb, void *arg)
{
	struct http_request req;
	struct http_response resp;
	int r, rc;

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.path = path;
	req.timeout_ms = timeout_ms;
	req.on_data = cb;
	req.arg = arg;
	req.host = ctl->host;
	req.token = ctl->token;
	req.wake_fd = ctl->wake_fd;
	req.on_wake = ctl->on_wake;
	req.wake_arg = ctl->wake_arg;
	r = http_request(ctl->socket_path, &req, &resp);
	if (r != HTTP_OK)
		rc = report_transport_error(ctl, r, &resp);
	else if (resp.status < 200 || resp.status > 299)
		rc = report_answer_error(ctl, &resp);
	else
		rc = CTL_EXIT_OK;
	http_response_free(&resp);
	return (rc);
}

int
ctl_print_json(const json_t *root)
{
	if (json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ==
		-1 ||
	    fputc('\n', stdout) == EOF)
		return (CTL_EXIT_ERROR); /* reported when stdout is closed */
	return (CTL_EXIT_OK);
}

/* Say once why stdout failed; a reader that went away (EPIPE) is no news. */
static void
stdout_failed(int err)
{
	if (stdout_reported)
		return;
	stdout_reported = 1;
	if (err != EPIPE)
		fprintf(stderr, "schedctl: cannot write to stdout: %s\n",
		    err != 0 ? strerror(err) : "write error");
}

int
ctl_flush_out(void)
{
	errno = 0;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		stdout_failed(errno);
		return (-1);
	}
	return (0);
}

int
ctl_write_out(const char *data, size_t len)
{
	ssize_t w;

	if (ctl_flush_out() == -1)
		return (-1);
	while (len > 0) {
		w = write(STDOUT_FILENO, data, len);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			stdout_failed(errno);
			return (-1);
		}
		data += w;
		len -= (size_t)w;
	}
	return (0);
}

int
ctl_term_width(void)
{
	struct winsize ws;
	const char *cols;
	long long n;
	const char *errstr;

	if (!isatty(STDOUT_FILENO))
		return (0);
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return (ws.ws_col);
	if ((cols = getenv("COLUMNS")) != NULL) {
		n = util_strtonum(cols, 1, 100000, &errstr);
		if (errstr == NULL)
			return ((int)n);
	}
	return (80);
}

static const struct cmd_entry *
cmd_find(const char *name)
{
	const struct cmd_entry *const *cmd;

	for (cmd = cmd_table; *cmd != NULL; cmd++)
		if (strcmp((*cmd)->name, name) == 0)
			return (*cmd);
	return (NULL);
}

/* getopt said '?': name the option as the user wrote it. */
static int
unknown_option(struct schedctl *ctl, char **argv)
{
	const char *arg = argv[optind - 1];

	if (optopt > 0 && optopt < 128 && arg[0] == '-' && arg[1] != '-')
		return (ctl_usage_error(ctl, "unknown option -%c", optopt));
	return (ctl_usage_error(ctl, "unknown option %s", arg));
}

/*
 * Parse a command's options and operands into args. Returns -1 when the
 * command should run, or an exit status (help printed, usage error).
 */
static int
cmd_parse(struct schedctl *ctl, int argc, char **argv, struct args *args)
{
	const struct cmd_entry *cmd = ctl->cmd;
	struct option *longopts;
	char optstring[128];
	size_t n = 0, i;
	int ch, rc = -1;

	if (cmd->longopts != NULL)
		while (cmd->longopts[n].name != NULL)
			n++;
	longopts = xcalloc(n + 3, sizeof(*longopts));
	for (i = 0; i < n; i++)
		longopts[i] = cmd->longopts[i];
	longopts[n].name = "json";
	longopts[n].has_arg = no_argument;
	longopts[n].val = OPT_JSON;
	longopts[n + 1].name = "help";
	longopts[n + 1].has_arg = no_argument;
	longopts[n + 1].val = 'h';
	snprintf(optstring, sizeof(optstring), "%s:%sh",
	    cmd->in_order ? "+" : "", cmd->optstring);

	args->opts = xcalloc((size_t)argc, sizeof(*args->opts));
	args->nopts = 0;
	optind = 0; /* glibc: start over, argv is a new vector */
	opterr = 0;
	while (
	    (ch = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage_cmd(stdout, cmd);
			rc = CTL_EXIT_OK;
			goto out;
		case OPT_JSON:
			ctl->json = 1;
			break;
		case ':':
			rc = ctl_usage_error(
			    ctl, "option %s needs a value", argv[optind - 1]);
			goto out;
		case '?':
			rc = unknown_option(ctl, argv);
			goto out;
		default:
			args->opts[args->nopts].opt = ch;
			args->opts[args->nopts].value = optarg;
			args->nopts++;
			break;
		}
	}
	args->argc = argc - optind;
	args->argv = argv + optind;
	if (args->argc < cmd->min_args)
		rc = ctl_usage_error(ctl, "%s",
		    args->argc == 0 ? "missing operand" : "too few operands");
	else if (cmd->max_args >= 0 && args->argc > cmd->max_args)
		rc = ctl_usage_error(
		    ctl, "unexpected operand '%s'", args->argv[cmd->max_args]);
out:
	free(longopts);
	return (rc);
}

/* Flush stdout; a failure turns success into 1 (quietly for EPIPE). */
static int
finish_stdout(int rc)
{
	if (ctl_flush_out() == -1 && rc == CTL_EXIT_OK)
		rc = CTL_EXIT_ERROR;
	return (rc);
}

/*
 * The token: the first word of the first line of path that is neither
 * blank nor a comment (a daemon's token file works too). NULL, having
 * said why, when there is none.
 */
static char *
read_token(const char *path)
{
	char line[1024], *t, *save;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL) {
		ctl_warnx("--token-file %s: %s", path, strerror(errno));
		return (NULL);
	}
	t = NULL;
	while (t == NULL && fgets(line, sizeof(line), f) != NULL) {
		if ((t = strchr(line, '#')) != NULL)
			*t = '\0';
		t = strtok_r(line, " \t\r\n", &save);
	}
	fclose(f);
	if (t == NULL || strlen(t) > 256 ||
	    strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789-._~+/=") != strlen(t)) {
		explicit_bzero(line, sizeof(line));
		ctl_warnx("--token-file %s: no token in it", path);
		return (NULL);
	}
	if ((t = strdup(t)) == NULL)
		ctl_warnx("out of memory");
	explicit_bzero(line, sizeof(line));
	return (t);
}

static int
cmd_help(struct schedctl *ctl, int argc, char **argv)
{
	const struct cmd_entry *cmd;

	if (argc > 2)
		return (ctl_usage_error(ctl, "help takes at most one command"));
	if (argc == 1) {
		usage_global(stdout);
		return (CTL_EXIT_OK);
	}
	if ((cmd = cmd_find(argv[1])) == NULL) {
		ctl_warnx("unknown command '%s'", argv[1]);
		fputs("Try 'schedctl help'.\n", stderr);
		return (CTL_EXIT_USAGE);
	}
	usage_cmd(stdout, cmd);
	return (CTL_EXIT_OK);
}

int
main(int argc, char **argv)
{
	static const struct option globalopts[] = {
	    {"socket", required_argument, NULL, OPT_SOCKET},
	    {"host", required_argument, NULL, OPT_HOST},
	    {"token-file", required_argument, NULL, OPT_TOKEN},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {NULL, 0, NULL, 0},
	};
	struct schedctl ctl;
	struct args args;
	const char *env, *token_file = NULL;
	int ch, rc;

	/* A daemon that goes away mid-request must be an error, not death. */
	signal(SIGPIPE, SIG_IGN);
	setlocale(LC_CTYPE, "");

	memset(&ctl, 0, sizeof(ctl));
	memset(&args, 0, sizeof(args));
	env = getenv("SCHEDD_SOCKET");
	ctl.socket_path =
	    env != NULL && *env != '\0' ? env : CTL_SOCKET_DEFAULT;
	if ((env = getenv("SCHEDD_HOST")) != NULL && *env != '\0')
		ctl.host = env;
	if ((env = getenv("SCHEDD_TOKEN_FILE")) != NULL && *env != '\0')
		token_file = env;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:h", globalopts, NULL)) != -1) {
		switch (ch) {
		case OPT_SOCKET:
			if (*optarg == '\0')
				return (ctl_usage_error(
				    &ctl, "--socket needs a path"));
			ctl.socket_path = optarg;
			ctl.host = NULL;
			break;
		case OPT_HOST:
			if (*optarg == '\0' || strchr(optarg, ':') == NULL)
				return (ctl_usage_error(
				    &ctl, "--host needs HOST:PORT"));
			ctl.host = optarg;
			break;
		case OPT_TOKEN:
			token_file = optarg;
			break;
		case OPT_JSON:
			ctl.json = 1;
			break;
		case 'h':
			usage_global(stdout);
			return (finish_stdout(CTL_EXIT_OK));
		case OPT_VERSION:
			printf("schedctl %s\ndefault socket: %s\n",
			    PACKAGE_VERSION, CTL_SOCKET_DEFAULT);
			return (finish_stdout(CTL_EXIT_OK));
		case ':':
			return (ctl_usage_error(
			    &ctl, "option %s needs a value", argv[optind - 1]));
		default:
			return (unknown_option(&ctl, argv));
		}
	}
	if (optind >= argc) {
		usage_global(stderr);
		return (CTL_EXIT_USAGE);
	}
	if (token_file != NULL && ctl.host == NULL)
		return (ctl_usage_error(&ctl,
		    "--token-file goes with --host (the socket needs none)"));
	if (ctl.host != NULL &&
	    (token_file == NULL ||
		(ctl.token = read_token(token_file)) == NULL)) {
		if (token_file == NULL)
			ctl_warnx("--host needs --token-file (or "
				  "$SCHEDD_TOKEN_FILE): the listener takes "
				  "bearer tokens only");
		return (CTL_EXIT_USAGE);
	}
	argc -= optind;
	argv += optind;
	if (strcmp(argv[0], "help") == 0)
		return (finish_stdout(cmd_help(&ctl, argc, argv)));
	if ((ctl.cmd = cmd_find(argv[0])) == NULL) {
		ctl_warnx("unknown command '%s'", argv[0]);
		fputs("Try 'schedctl help'.\n", stderr);
		return (CTL_EXIT_USAGE);
	}
	if ((rc = cmd_parse(&ctl, argc, argv, &args)) == -1)
		rc = ctl.cmd->exec(&ctl, &args);
	free(args.opts);
	free(ctl.token);
	return (finish_stdout(rc));
}
