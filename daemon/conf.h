/* SPDX-License-Identifier: ISC */
/*
 * schedd.conf: "key = value" lines, '#' comments. Unknown keys and bad
 * values fail with the line number. Command-line options override it.
 * After the daemon's own keys come the access policy's sections: [users]
 * (every user who is not an admin), [group NAME] and [user NAME], each
 * with the keys of struct user_policy.
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

/* What a user who is not an admin may use; a rule sets some of it. */
enum user_policy_key {
	UPOL_JOBS_MAX = 0x01,           /* jobs_max: active jobs at once */
	UPOL_RT_PRIORITY_MAX = 0x02,    /* rt_priority_max: FIFO/RR priority */
	UPOL_NICE_MIN = 0x04,           /* nice_min: the lowest nice */
	UPOL_DEADLINE = 0x08,           /* deadline: yes or no */
	UPOL_EXCLUSIVE_CPUS_MAX = 0x10, /* exclusive_cpus_max */
	UPOL_PIDS_MAX = 0x20,           /* pids_max: a cap, and the default */
	UPOL_MEMORY_MAX = 0x40,         /* memory_max: a cap, and the default */
};

struct user_policy {
	unsigned set;           /* UPOL_* keys this rule sets */
	int jobs_max;           /* 0: none may run */
	int rt_priority_max;    /* -1: the caller's RLIMIT_RTPRIO */
	int nice_min;           /* -20..19 */
	int deadline;           /* SCHED_DEADLINE allowed */
	int exclusive_cpus_max; /* 0: none */
	int64_t pids_max;       /* 0: no cap */
	uint64_t memory_max;    /* bytes; 0: no cap */
};

enum config_rule_kind {
	RULE_USERS = 0, /* [users]: the defaults */
	RULE_GROUP,     /* [group NAME]: members, primary or supplementary */
	RULE_USER,      /* [user NAME] */
};

#define CONFIG_RULES_MAX 256
struct config_rule {
	enum config_rule_kind kind;
	char name[64]; /* user or group; "" for [users] */
	int line;      /* where it starts, for messages */
	struct user_policy pol;
};

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
	char admin_group[64];       /* admin_group; "" = root only */
	int socket_mode;            /* socket_mode: 0600, 0660 or 0666 */
	char listen[128];           /* listen: HOST:PORT; "" = no TCP */
	char token_file[PATH_MAX];  /* token_file: for listen */
	int schedule_utc;           /* schedule_timezone = utc */
	struct config_rule rules[CONFIG_RULES_MAX]; /* [users] is rules[0] */
	int nrules;
	int64_t logs_max_bytes;     /* logs_max_bytes: per segment file */
	int logs_keep;              /* logs_keep: segment files per job */
	int64_t logs_max_total;     /* logs_max_total: all jobs' output */
	int64_t logs_min_free;      /* logs_min_free: drop output below */
	int runs_keep;              /* runs_keep: runs kept per job */
	int logs_journal;           /* logs_journal = yes: to the journal */
};

/* The built-in [users] rule, which a config's [users] section amends. */
void config_policy_defaults(struct user_policy *pol);
/* "jobs_max" etc. for one UPOL_* key. */
const char *config_policy_key_name(unsigned key);

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
