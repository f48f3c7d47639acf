/* SPDX-License-Identifier: ISC */
/*
 * schedd's main: options, start-up in dependency order (config, fds, state
 * directory and its lock, store, supervisor with the reaper, API socket),
 * the one event loop, and an orderly shutdown that stops every job before
 * closing the database and removing the socket. fatal() is allowed here,
 * before the loop runs, and nowhere after.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/schedd.h"
#include "daemon/api.h"
#include "daemon/conf.h"
#include "daemon/joblog.h"
#include "daemon/log.h"
#include "daemon/notify.h"
#include "daemon/reload.h"
#include "daemon/store.h"
#include "daemon/supervisor.h"
#include "proto/util.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: schedd [--foreground | --daemonize | --init] [--socket PATH]\n"
	    "              [--state-dir DIR] [--config FILE] [--log-level LEVEL]\n"
	    "\n"
	    "schedd supervises jobs: it starts, reaps and records them and serves a JSON\n"
	    "API over HTTP on a Unix socket (see schedctl(1)).\n"
	    "\n"
	    "  -s, --socket PATH      API socket (default %s)\n"
	    "  -S, --state-dir DIR    database and job output (default %s)\n"
	    "  -c, --config FILE      configuration file (default %s)\n"
	    "                         (job files: jobs_dir, default %s)\n"
	    "  -l, --log-level LEVEL  error, warn, info (default) or debug\n"
	    "  -f, --foreground       stay in the foreground, log to stderr (the default\n"
	    "                         unless started by a SysV-style init)\n"
	    "  -D, --daemonize        detach and log to syslog\n"
	    "  -i, --init             init mode (automatic as PID 1): reap every orphan,\n"
	    "                         never exit on an error, exit 0 after stopping jobs\n"
	    "  -h, --help             this text\n"
	    "  -V, --version          print the version and the default paths\n"
	    "\n"
	    "Job files: every .json file in jobs_dir (default: schedd.d beside the\n"
	    "config file) is a job spec, loaded at start-up; SIGHUP and `schedctl\n"
	    "reload` read them again.\n"
	    "Socket activation: a listening Unix socket passed by systemd\n"
	    "(LISTEN_FDS, schedd.socket) is used instead of making one.\n"
	    "Signals: SIGTERM and SIGINT stop every job in reverse start order (its stop\n"
	    "signal, then SIGKILL after its timeout), close the database, remove the\n"
	    "socket (not one from systemd) and exit 0. SIGHUP reloads the job files.\n"
	    "Exit status: 0 after a clean shutdown, 1 when start-up fails, 2 on a usage\n"
	    "error.\n",
	    CONFIG_DEFAULT_SOCKET, CONFIG_DEFAULT_STATE, CONFIG_DEFAULT_PATH,
	    CONFIG_DEFAULT_JOBS_DIR);
}

/* The version, and the paths configure compiled in (see conf.h). */
static void
version(void)
{
	printf("schedd %s\n"
	       "config:    %s\n"
	       "jobs_dir:  %s\n"
	       "state_dir: %s\n"
	       "socket:    %s\n",
	    SCHEDD_VERSION, CONFIG_DEFAULT_PATH, CONFIG_DEFAULT_JOBS_DIR,
	    CONFIG_DEFAULT_STATE, CONFIG_DEFAULT_SOCKET);
}

/* fds 0-2 must be valid before anything (SQLite included) opens a file. */
static void
sanitize_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

static int
mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX], *p;

	if (util_strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return (-1);
		*p = '/';
	}
	if (mkdir(buf, mode) == -1 && errno != EEXIST)
		return (-1);
	return (0);
}

static void
shutdown_done(void *arg)
{
	struct schedd *sd = arg;

	log_info("every job is stopped");
	event_base_loopexit(sd->base, NULL);
}

static void
on_terminate(evutil_socket_t sig, short what, void *arg)
{
	struct schedd *sd = arg;

	(void)what;
	if (sd->shutting_down) {
		log_info("%s again: still stopping jobs",
		    util_signal_name((int)sig));
		return;
	}
	log_info("%s: shutting down", util_signal_name((int)sig));
	sd->shutting_down = 1;
	notify_stopping();
	api_shutdown_begin(sd->api);
	supervisor_shutdown(sd->sup, shutdown_done, sd);
}

static const char *const reload_words[] = {
    [SUP_RELOAD_ADDED] = "added",
    [SUP_RELOAD_CHANGED] = "changed",
    [SUP_RELOAD_UNCHANGED] = "unchanged",
    [SUP_RELOAD_REMOVED] = "removed",
    [SUP_RELOAD_ERROR] = "error",
};

static void
reload_log(void *arg, enum sup_reload_what what, const char *name,
    const char *path, const struct serr *e)
{
	(void)arg;
	if (what == SUP_RELOAD_ERROR)
		log_warnx("%s%s%s: %s%s%s", path != NULL ? path : "",
		    path != NULL && name != NULL ? ": " : "",
		    name != NULL ? name : "", e->field,
		    e->field[0] != '\0' ? ": " : "", e->message);
	else if (what != SUP_RELOAD_UNCHANGED)
		log_info("%s: %s", name, reload_words[what]);
}

/* At start-up, before the loop runs: SIGHUP and the API read
 * the files off it (reload_start). */
static void
load_job_files(struct schedd *sd)
{
	struct serr err;

	log_info("loading job files from %s", sd->conf->jobs_dir);
	if (reload_now(sd->reloader, sd->conf->jobs_dir, 1, reload_log, NULL,
		&err) == -1)
		log_warnx("%s", err.message);
}

static void
hangup_done(void *arg, const struct serr *err)
{
	(void)arg;
	if (err != NULL)
		log_warnx("reload: %s", err->message);
}

/* SIGHUP: the files are read off the loop (reload_start). */
static void
on_hangup(evutil_socket_t sig, short what, void *arg)
{
	struct schedd *sd = arg;
	struct serr err;

	(void)sig;
	(void)what;
	log_info("reloading job files from %s", sd->conf->jobs_dir);
	if (reload_start(sd->reloader, sd->conf->jobs_dir, reload_log,
		hangup_done, NULL, &err) == NULL)
		log_warnx("reload: %s", err.message);
}

/* Started by a SysV-style init (not systemd, which wants us in front). */
static int
started_by_init(void)
{
	return (getpid() != 1 && getppid() == 1 &&
		getenv("INVOCATION_ID") == NULL &&
		getenv("NOTIFY_SOCKET") == NULL);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"state-dir", required_argument, NULL, 'S'},
	    {"config", required_argument, NULL, 'c'},
	    {"log-level", required_argument, NULL, 'l'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"daemonize", no_argument, NULL, 'D'},
	    {"init", no_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct schedd sd;
	struct config conf;
	struct serr err;
	struct joblog_conf jlconf;
	struct event *ev_term, *ev_int, *ev_hup;
	struct event_config *evcfg;
	const char *opt_socket = NULL, *opt_state = NULL;
	const char *opt_config = NULL, *opt_level = NULL;
	char path[PATH_MAX];
	int ch, foreground = -1, level, lockfd, init_mode, config_given;

	init_mode = getpid() == 1;
	while ((ch = getopt_long(
		    argc, argv, "s:S:c:l:fDihV", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			opt_socket = optarg;
			break;
		case 'S':
			opt_state = optarg;
			break;
		case 'c':
			opt_config = optarg;
			break;
		case 'l':
			opt_level = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'D':
			foreground = 0;
			break;
		case 'i':
			init_mode = 1;
			break;
		case 'h':
			usage(stdout);
			return (0);
		case 'V':
			version();
			return (0);
		default:
			usage(stderr);
			return (2);
		}
	}
	if (optind != argc) {
		fprintf(
		    stderr, "schedd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return (2);
	}
	if (init_mode)
		foreground = 1;
	if (foreground == -1)
		foreground = !started_by_init();

	config_defaults(&conf);
	serr_clear(&err);
	config_given = opt_config != NULL;
	if (opt_config == NULL)
		opt_config = CONFIG_DEFAULT_PATH;
	if (config_load(&conf, opt_config, config_given, &err) == -1) {
		fprintf(stderr, "schedd: %s\n", err.message);
		/* PID 1 must not die of a typo: defaults it is. */
		if (!init_mode)
			return (1);
		config_defaults(&conf);
	}
	if (conf.jobs_dir[0] == '\0') {
		const char *slash = strrchr(opt_config, '/');
		int n = slash == NULL ? 0 : (int)(slash - opt_config);

		if (snprintf(conf.jobs_dir, sizeof(conf.jobs_dir),
			"%.*s%sschedd.d", n, opt_config,
			n > 0 ? "/" : "") >= (int)sizeof(conf.jobs_dir)) {
			fprintf(stderr, "schedd: jobs_dir: path too long\n");
			return (1);
		}
	}
	if (opt_socket != NULL &&
	    util_strlcpy(conf.socket_path, opt_socket,
		sizeof(conf.socket_path)) >= sizeof(conf.socket_path)) {
		fprintf(stderr, "schedd: --socket: path too long\n");
		return (2);
	}
	if (opt_state != NULL &&
	    util_strlcpy(conf.state_dir, opt_state, sizeof(conf.state_dir)) >=
		sizeof(conf.state_dir)) {
		fprintf(stderr, "schedd: --state-dir: path too long\n");
		return (2);
	}
	if (opt_level != NULL) {
		if ((level = log_level_parse(opt_level)) == -1) {
			fprintf(stderr, "schedd: --log-level: must be error, "
					"warn, info or debug\n");
			return (2);
		}
		conf.log_level = level;
	}

	sanitize_fds();
	signal(SIGPIPE, SIG_IGN);
	if (!foreground && daemon(0, 0) == -1) {
		fprintf(stderr, "schedd: daemon: %s\n", strerror(errno));
		return (1);
	}
	log_init(foreground, (enum log_level)conf.log_level);

	memset(&sd, 0, sizeof(sd));
	sd.conf = &conf;
	/* Backoff jitter only: no secrets come from random(). */
	srandom((unsigned int)(getpid() ^ now_ms()));
	sd.started_ms = mono_ms();
	lockfd = -1;
	if (mkdir_p(conf.state_dir, 0750) == -1) {
		if (!init_mode)
			fatal("state directory %s", conf.state_dir);
		log_warn("state directory %s", conf.state_dir);
	} else {
		if (strlen(conf.state_dir) > sizeof(path) - 64)
			fatalx("state directory path too long");
		snprintf(path, sizeof(path), "%s/schedd.lock", conf.state_dir);
		if ((lockfd = store_lock(path)) == -1) {
			if (!init_mode)
				fatal("%s: in use by another schedd?", path);
			log_warn("%s", path);
			/* Not ours: keep away from its database. */
			util_strlcpy(conf.state_dir, "/nonexistent",
			    sizeof(conf.state_dir));
		}
	}
	/*
	 * Two daemons must never share job cgroups, and one daemon must
	 * always find its own: away from the default state directory the
	 * subtree's name carries a hash of the directory's canonical path,
	 * however it was spelled.
	 */
	if (conf.cgroup_root[0] == '\0' &&
	    config_cgroup_root(&conf, CONFIG_DEFAULT_STATE) == -1)
		log_warn(
		    "%s: cannot resolve; the cgroup subtree is named after "
		    "the path as given",
		    conf.state_dir);
	/*
	 * Timers on the precise monotonic clock: libevent's default, the
	 * coarse one, ticks in jiffies, so a stop timeout could fire a few
	 * milliseconds early and the loop's lag could not be measured.
	 */
	if ((evcfg = event_config_new()) == NULL ||
	    event_config_set_flag(evcfg, EVENT_BASE_FLAG_PRECISE_TIMER) == -1 ||
	    event_config_set_max_dispatch_interval(
		evcfg, NULL, 8, SCHEDD_PRIO_WORK) == -1 ||
	    (sd.base = event_base_new_with_config(evcfg)) == NULL ||
	    event_base_priority_init(sd.base, SCHEDD_NPRIO) == -1)
		fatalx("event_base_new failed");
	event_config_free(evcfg);
	if (snprintf(path, sizeof(path), "%s/schedd.db", conf.state_dir) < 0)
		fatalx("snprintf");
	if ((sd.store = store_open(path, conf.durability_full, &err)) == NULL) {
		if (!init_mode)
			fatalx("%s", err.message);
		log_warnx("%s: keeping state in memory only", err.message);
		if ((sd.store = store_open(":memory:", 0, &err)) == NULL)
			fatalx("%s", err.message);
	}
	jlconf.max_bytes = conf.logs_max_bytes;
	jlconf.keep = conf.logs_keep;
	jlconf.max_total = conf.logs_max_total;
	jlconf.min_free = conf.logs_min_free;
	if (joblog_init(conf.state_dir, sd.base, &jlconf, &err) == -1) {
		if (!init_mode)
			fatalx("%s", err.message);
		log_warnx("%s: job output goes to /dev/null", err.message);
	}
	/*
	 * All or nothing: the store and the socket first, and only once the
	 * daemon can answer do jobs meet the world (cgroups, adoption, job
	 * files). A start-up that fails before leaves no process and no
	 * cgroup behind.
	 */
	if ((sd.sup = supervisor_new(&sd, &err)) == NULL)
		fatalx("%s", err.message);
	/* Every job is known now: output of jobs that are not goes. */
	joblog_load_done();
	if ((sd.api = api_new(&sd, &err)) == NULL) {
		if (!init_mode) {
			supervisor_free(sd.sup);
			store_close(sd.store);
			fatalx("%s%s%s", err.field, err.field[0] ? ": " : "",
			    err.message);
		}
		log_warnx("no API: %s%s%s", err.field, err.field[0] ? ": " : "",
		    err.message);
	}
	if (supervisor_start(sd.sup, &err) == -1) {
		if (!init_mode)
			fatalx("%s", err.message);
		log_warnx("%s", err.message);
	}
	sd.reloader = reload_new(&sd);
	load_job_files(&sd);

	ev_term = evsignal_new(sd.base, SIGTERM, on_terminate, &sd);
	ev_int = evsignal_new(sd.base, SIGINT, on_terminate, &sd);
	ev_hup = evsignal_new(sd.base, SIGHUP, on_hangup, &sd);
	if (ev_term == NULL || ev_int == NULL || ev_hup == NULL ||
	    evsignal_add(ev_term, NULL) == -1 ||
	    evsignal_add(ev_int, NULL) == -1 ||
	    evsignal_add(ev_hup, NULL) == -1)
		fatalx("cannot install signal handlers");

	notify_init(sd.base);
	notify_ready(supervisor_job_count(sd.sup));
	log_info("schedd %s ready (pid %d%s, %zu jobs, state %s)",
	    SCHEDD_VERSION, (int)getpid(), init_mode ? ", init mode" : "",
	    supervisor_job_count(sd.sup), conf.state_dir);
	event_base_dispatch(sd.base);

	notify_free();
	api_free(sd.api);
	reload_free(sd.reloader);
	supervisor_free(sd.sup);
	store_close(sd.store);
	event_free(ev_term);
	event_free(ev_int);
	event_free(ev_hup);
	event_base_free(sd.base);
	if (lockfd != -1)
		close(lockfd);
	log_info("schedd stopped");
	return (0);
}
