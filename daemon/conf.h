/* SPDX-License-Identifier: ISC */
/*
 * schedd.conf: "key = value" lines, '#' comments. Unknown keys and bad
 * values fail with the line number. Command-line options override it.
 */
#ifndef SCHEDD_CONF_H
#define SCHEDD_CONF_H

#include <limits.h>
#include <stdint.h>

#include "proto/errors.h"

/*
 * The default paths follow configure's directories (Makefile.am passes
 * them): --sysconfdir=/etc --localstatedir=/var --runstatedir=/run give
 * /etc/schedd/schedd.conf, /var/lib/schedd and /run/schedd/schedd.sock.
 */
#ifndef SCHEDD_SYSCONFDIR
#define SCHEDD_SYSCONFDIR "/etc"
#endif
#ifndef SCHEDD_LOCALSTATEDIR
#define SCHEDD_LOCALSTATEDIR "/var"
#endif
#ifndef SCHEDD_RUNSTATEDIR
#define SCHEDD_RUNSTATEDIR "/run"
#endif
#define CONFIG_DEFAULT_PATH     SCHEDD_SYSCONFDIR "/schedd/schedd.conf"
#define CONFIG_DEFAULT_JOBS_DIR SCHEDD_SYSCONFDIR "/schedd/schedd.d"
#define CONFIG_DEFAULT_SOCKET   SCHEDD_RUNSTATEDIR "/schedd/schedd.sock"
#define CONFIG_DEFAULT_STATE    SCHEDD_LOCALSTATEDIR "/lib/schedd"
#define CONFIG_DEFAULT_JOB_PATH                                                \
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct config {
	char socket_path[PATH_MAX]; /* socket */
	char state_dir[PATH_MAX];   /* state_dir */
	char socket_group[64];      /* socket_group; "" = none */
	int log_level;              /* log_level */
	int durability_full;        /* durability = full */
	int64_t event_retention;    /* event_retention */
	char job_path[1024];        /* path: jobs' default PATH */
	char jobs_dir[PATH_MAX];    /* jobs_dir; "": beside the config */
	char cgroup_root[64];       /* cgroup_root: our subtree's name */
	int shared_cpus_min;        /* shared_cpus_min */
	int64_t rt_pool_us;         /* rt_pool_us */
	int64_t rt_job_us;          /* rt_job_us */
	int http_idle_timeout_ms;   /* http_idle_timeout_ms */
	int64_t logs_max_bytes;     /* logs_max_bytes: per segment file */
	int logs_keep;              /* logs_keep: segment files per job */
	int64_t logs_max_total;     /* logs_max_total: all jobs' output */
	int64_t logs_min_free;      /* logs_min_free: drop output below */
	int runs_keep;              /* runs_keep: runs kept per job */
	int logs_journal;           /* logs_journal = yes: to the journal */
};

/* Fill in every default. */
void config_defaults(struct config *conf);
/*
 * Read path into conf. A missing file is fine unless must_exist. Errors
 * name the file and line: "schedd.conf:3: unknown key 'sokcet'".
 * Returns 0 or -1.
 */
int config_load(
    struct config *conf, const char *path, int must_exist, struct serr *err);

/*
 * Name conf's cgroup subtree after its state directory: "schedd" for
 * default_state, else "schedd-" and a hash of the directory's canonical
 * path (realpath: the same however it is spelled). Returns 0, or -1 with
 * errno when the path cannot be resolved (it is hashed as given then).
 */
int config_cgroup_root(struct config *conf, const char *default_state);

#endif
