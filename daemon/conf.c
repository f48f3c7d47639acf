/* SPDX-License-Identifier: ISC */
/*
 * The configuration file parser. Bounded: lines over 4 KiB are an error,
 * every number goes through util_strtonum.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf.h"
#include "daemon/log.h"
#include "proto/util.h"

static char *trim(char *);

void
config_defaults(struct config *conf)
{
	memset(conf, 0, sizeof(*conf));
	util_strlcpy(conf->socket_path, CONFIG_DEFAULT_SOCKET,
	    sizeof(conf->socket_path));
	util_strlcpy(
	    conf->state_dir, CONFIG_DEFAULT_STATE, sizeof(conf->state_dir));
	util_strlcpy(conf->socket_group, "schedd", sizeof(conf->socket_group));
	util_strlcpy(
	    conf->job_path, CONFIG_DEFAULT_JOB_PATH, sizeof(conf->job_path));
	conf->log_level = LOG_LEVEL_INFO;
	conf->durability_full = 0;
	conf->event_retention = 100000;
	conf->shared_cpus_min = 1;
	conf->rt_pool_us = 500000;
	conf->rt_job_us = 50000;
	conf->http_idle_timeout_ms = 60000;
	conf->logs_max_bytes = 10 * 1024 * 1024;
	conf->logs_keep = 5;
	conf->logs_max_total = 1024LL * 1024 * 1024;
	conf->logs_min_free = 64 * 1024 * 1024;
	conf->runs_keep = 100;
	conf->socket_mode = 0660;
	conf->rules[0].kind = RULE_USERS;
	config_policy_defaults(&conf->rules[0].pol);
	conf->nrules = 1;
}

void
config_policy_defaults(struct user_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->set = UPOL_JOBS_MAX | UPOL_RT_PRIORITY_MAX | UPOL_NICE_MIN |
		   UPOL_DEADLINE | UPOL_EXCLUSIVE_CPUS_MAX | UPOL_PIDS_MAX |
		   UPOL_MEMORY_MAX;
	pol->jobs_max = 64;
	pol->rt_priority_max = -1;
	pol->nice_min = 0;
	pol->deadline = 0;
	pol->exclusive_cpus_max = 0;
	pol->pids_max = 0;
	pol->memory_max = 0;
}

static const struct {
	unsigned key;
	const char *name;
} policy_keys[] = {
    {UPOL_JOBS_MAX, "jobs_max"},
    {UPOL_RT_PRIORITY_MAX, "rt_priority_max"},
    {UPOL_NICE_MIN, "nice_min"},
    {UPOL_DEADLINE, "deadline"},
    {UPOL_EXCLUSIVE_CPUS_MAX, "exclusive_cpus_max"},
    {UPOL_PIDS_MAX, "pids_max"},
    {UPOL_MEMORY_MAX, "memory_max"},
};

const char *
config_policy_key_name(unsigned key)
{
	size_t i;

	for (i = 0; i < sizeof(policy_keys) / sizeof(policy_keys[0]); i++)
		if (policy_keys[i].key == key)
			return (policy_keys[i].name);
	return ("?");
}

/* One key of a policy section. */
static int
config_policy_apply(
    struct user_policy *pol, const char *key, const char *v, const char **why)
{
	const char *errstr;
	unsigned k = 0;
	size_t i;

	for (i = 0; i < sizeof(policy_keys) / sizeof(policy_keys[0]); i++)
		if (strcmp(policy_keys[i].name, key) == 0)
			k = policy_keys[i].key;
	*why = "unknown policy key";
	if (k == 0)
		return (-1);
	switch (k) {
	case UPOL_JOBS_MAX:
		*why = "must be 0..100000";
		pol->jobs_max = (int)util_strtonum(v, 0, 100000, &errstr);
		break;
	case UPOL_RT_PRIORITY_MAX:
		*why = "must be rlimit or 0..99";
		if (strcmp(v, "rlimit") == 0) {
			pol->rt_priority_max = -1;
			errstr = NULL;
		} else
			pol->rt_priority_max =
			    (int)util_strtonum(v, 0, 99, &errstr);
		break;
	case UPOL_NICE_MIN:
		*why = "must be -20..19";
		pol->nice_min = (int)util_strtonum(v, -20, 19, &errstr);
		break;
	case UPOL_DEADLINE:
		*why = "must be yes or no";
		errstr = NULL;
		if (strcmp(v, "yes") == 0)
			pol->deadline = 1;
		else if (strcmp(v, "no") == 0)
			pol->deadline = 0;
		else
			errstr = "bad";
		break;
	case UPOL_EXCLUSIVE_CPUS_MAX:
		*why = "must be 0..1024";
		pol->exclusive_cpus_max =
		    (int)util_strtonum(v, 0, 1024, &errstr);
		break;
	case UPOL_PIDS_MAX:
		*why = "must be 0 (no cap) or 1..4194304";
		pol->pids_max = util_strtonum(v, 0, 4194304, &errstr);
		break;
	default: /* UPOL_MEMORY_MAX */
		*why = "must be 0 (no cap) or a size such as 512M";
		errstr =
		    util_parse_size(v, &pol->memory_max) == -1 ? "bad" : NULL;
		break;
	}
	if (errstr != NULL)
		return (-1);
	pol->set |= k;
	return (0);
}

/* A name as in a [user NAME] or [group NAME] header: no blanks, bounded. */
static int
config_name_ok(const char *s)
{
	return (s[0] != '\0' && strlen(s) < 64 && strpbrk(s, " \t[]") == NULL);
}

/*
 * A section header "[users]", "[user NAME]" or "[group NAME]" (p has no
 * comment and is trimmed). Returns the new rule or NULL with why.
 */
static struct config_rule *
config_section(struct config *conf, char *p, int lineno, const char **why)
{
	struct config_rule *r;
	char *e = p + strlen(p) - 1, *name;
	enum config_rule_kind kind;

	*why = "expected [users], [user NAME] or [group NAME]";
	if (*e != ']')
		return (NULL);
	*e = '\0';
	p = trim(p + 1);
	if (strcmp(p, "users") == 0)
		return (&conf->rules[0]);
	if (strncmp(p, "user", 4) == 0 && (p[4] == ' ' || p[4] == '\t'))
		kind = RULE_USER, name = trim(p + 5);
	else if (strncmp(p, "group", 5) == 0 && (p[5] == ' ' || p[5] == '\t'))
		kind = RULE_GROUP, name = trim(p + 6);
	else
		return (NULL);
	if (!config_name_ok(name)) {
		*why = "a user or group name without blanks, under 64 bytes";
		return (NULL);
	}
	if (conf->nrules >= CONFIG_RULES_MAX) {
		*why = "too many sections (256 at most)";
		return (NULL);
	}
	r = &conf->rules[conf->nrules++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->line = lineno;
	util_strlcpy(r->name, name, sizeof(r->name));
	return (r);
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
			    e[-1] == '\r'))
		*--e = '\0';
	return (s);
}

static int
config_set_string(char *dst, size_t len, const char *v, int absolute)
{
	if (absolute && v[0] != '/')
		return (-1);
	if (util_strlcpy(dst, v, len) >= len)
		return (-1);
	return (0);
}

/* Job output and history (issue 14): 1 when key is none of theirs. */
static int
config_apply_logs(
    struct config *conf, const char *key, const char *v, const char **why)
{
	const char *errstr = NULL;
	uint64_t bytes = 0;
	int size = 1;

	if (strcmp(key, "logs_keep") == 0) {
		*why = "must be 1..1000";
		conf->logs_keep = (int)util_strtonum(v, 1, 1000, &errstr);
		return (errstr != NULL ? -1 : 0);
	}
	if (strcmp(key, "logs_journal") == 0) {
		*why = "must be yes or no";
		if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
			return (-1);
		conf->logs_journal = strcmp(v, "yes") == 0;
		return (0);
	}
	if (strcmp(key, "runs_keep") == 0) {
		*why = "must be 1..1000000";
		conf->runs_keep = (int)util_strtonum(v, 1, 1000000, &errstr);
		return (errstr != NULL ? -1 : 0);
	}
	if (strcmp(key, "logs_max_bytes") != 0 &&
	    strcmp(key, "logs_max_total") != 0 &&
	    strcmp(key, "logs_min_free") != 0)
		return (1);
	*why = "must be a size: bytes, or a number with K, M or G";
	if (util_parse_size(v, &bytes) == -1 || bytes > (1ULL << 50))
		return (-1);
	if (strcmp(key, "logs_max_bytes") == 0) {
		*why = "must be 64K or more";
		if (bytes < 64 * 1024)
			size = 0;
		conf->logs_max_bytes = (int64_t)bytes;
	} else if (strcmp(key, "logs_max_total") == 0) {
		*why = "must be 1M or more";
		if (bytes < 1024 * 1024)
			size = 0;
		conf->logs_max_total = (int64_t)bytes;
	} else
		conf->logs_min_free = (int64_t)bytes;
	return (size ? 0 : -1);
}

static int
config_apply(
    struct config *conf, const char *key, const char *v, const char **why)
{
	const char *errstr;
	int lvl;

	*why = "bad value";
	if (strcmp(key, "socket") == 0) {
		*why = "must be an absolute path";
		return (config_set_string(
		    conf->socket_path, sizeof(conf->socket_path), v, 1));
	}
	if (strcmp(key, "state_dir") == 0) {
		*why = "must be an absolute path";
		return (config_set_string(
		    conf->state_dir, sizeof(conf->state_dir), v, 1));
	}
	if (strcmp(key, "socket_group") == 0) {
		*why = "too long";
		return (config_set_string(
		    conf->socket_group, sizeof(conf->socket_group), v, 0));
	}
	if (strcmp(key, "cgroup_root") == 0) {
		*why = "must be a name of [A-Za-z0-9._-], not . or ..";
		if (v[0] == '\0' ||
		    strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			      "abcdefghijklmnopqrstuvwxyz0123456789._-") !=
			strlen(v) ||
		    strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
			return (-1);
		return (config_set_string(
		    conf->cgroup_root, sizeof(conf->cgroup_root), v, 0));
	}
	if (strcmp(key, "shared_cpus_min") == 0) {
		*why = "must be 0..1024";
		conf->shared_cpus_min = (int)util_strtonum(v, 0, 1024, &errstr);
		return (errstr != NULL ? -1 : 0);
	}
	if (strcmp(key, "rt_pool_us") == 0) {
		*why = "must be 0..1000000";
		conf->rt_pool_us = util_strtonum(v, 0, 1000000, &errstr);
		return (errstr != NULL ? -1 : 0);
	}
	if (strcmp(key, "rt_job_us") == 0) {
		*why = "must be 1..1000000";
		conf->rt_job_us = util_strtonum(v, 1, 1000000, &errstr);
		return (errstr != NULL ? -1 : 0);
	}
	if (strcmp(key, "jobs_dir") == 0) {
		*why = "must be an absolute path";
		return (config_set_string(
		    conf->jobs_dir, sizeof(conf->jobs_dir), v, 1));
	}
	if (strcmp(key, "path") == 0) {
		*why = "too long";
		return (config_set_string(
		    conf->job_path, sizeof(conf->job_path), v, 0));
	}
	if (strcmp(key, "log_level") == 0) {
		*why = "must be error, warn, info or debug";
		if ((lvl = log_level_parse(v)) == -1)
			return (-1);
		conf->log_level = lvl;
		return (0);
	}
	if (strcmp(key, "durability") == 0) {
		*why = "must be normal or full";
		if (strcmp(v, "normal") == 0)
			conf->durability_full = 0;
		else if (strcmp(v, "full") == 0)
			conf->durability_full = 1;
		else
			return (-1);
		return (0);
	}
	if (strcmp(key, "event_retention") == 0) {
		*why = "must be 100..100000000";
		conf->event_retention =
		    util_strtonum(v, 100, 100000000, &errstr);
		return (errstr != NULL ? -1 : 0);
	}
	if (strcmp(key, "http_idle_timeout_ms") == 0) {
		*why = "must be 100..86400000";
		conf->http_idle_timeout_ms =
		    (int)util_strtonum(v, 100, 86400000, &errstr);
		return (errstr != NULL ? -1 : 0);
	}
	if (strcmp(key, "admin_group") == 0) {
		*why = "too long";
		return (config_set_string(
		    conf->admin_group, sizeof(conf->admin_group), v, 0));
	}
	if (strcmp(key, "socket_mode") == 0) {
		*why = "must be 0600, 0660 or 0666";
		if (strcmp(v, "0600") == 0)
			conf->socket_mode = 0600;
		else if (strcmp(v, "0660") == 0)
			conf->socket_mode = 0660;
		else if (strcmp(v, "0666") == 0)
			conf->socket_mode = 0666;
		else
			return (-1);
		return (0);
	}
	if (strcmp(key, "listen") == 0) {
		*why =
		    "must be HOST:PORT (127.0.0.1:7070, [::1]:7070), or empty";
		if (v[0] != '\0' && (strrchr(v, ':') == NULL ||
					util_strtonum(strrchr(v, ':') + 1, 1,
					    65535, &errstr) == 0))
			return (-1);
		return (config_set_string(
		    conf->listen, sizeof(conf->listen), v, 0));
	}
	if (strcmp(key, "schedule_timezone") == 0) {
		*why = "must be local or utc";
		if (strcmp(v, "local") == 0)
			conf->schedule_utc = 0;
		else if (strcmp(v, "utc") == 0)
			conf->schedule_utc = 1;
		else
			return (-1);
		return (0);
	}
	if (strcmp(key, "token_file") == 0) {
		*why = "must be an absolute path";
		return (config_set_string(
		    conf->token_file, sizeof(conf->token_file), v, 1));
	}
	if ((lvl = config_apply_logs(conf, key, v, why)) != 1)
		return (lvl);
	*why = "unknown key";
	return (-1);
}

int
config_load(
    struct config *conf, const char *path, int must_exist, struct serr *err)
{
	struct config_rule *rule = NULL;
	FILE *f;
	char line[4096], *p, *eq, *key, *val;
	const char *why;
	int lineno = 0, rc = -1;

	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT && !must_exist)
			return (0);
		serr_set(err, SERR_INVALID, "config", "%s: %s", path,
		    strerror(errno));
		return (-1);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			serr_set(err, SERR_INVALID, "config",
			    "%s:%d: line too long", path, lineno);
			goto out;
		}
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		p = trim(line);
		if (*p == '\0')
			continue;
		if (*p == '[') {
			if ((rule = config_section(conf, p, lineno, &why)) ==
			    NULL) {
				serr_set(err, SERR_INVALID, "config",
				    "%s:%d: %s", path, lineno, why);
				goto out;
			}
			continue;
		}
		if ((eq = strchr(p, '=')) == NULL) {
			serr_set(err, SERR_INVALID, "config",
			    "%s:%d: expected 'key = value'", path, lineno);
			goto out;
		}
		*eq = '\0';
		key = trim(p);
		val = trim(eq + 1);
		if (rule != NULL
			? config_policy_apply(&rule->pol, key, val, &why) == -1
			: config_apply(conf, key, val, &why) == -1) {
			serr_set(err, SERR_INVALID, "config", "%s:%d: %s: %s",
			    path, lineno, key, why);
			goto out;
		}
	}
	if (ferror(f)) {
		serr_set(err, SERR_INVALID, "config", "%s: read error", path);
		goto out;
	}
	rc = 0;
out:
	fclose(f);
	return (rc);
}

int
config_cgroup_root(struct config *conf, const char *default_state)
{
	char canon[PATH_MAX], dflt[PATH_MAX];
	const char *path = conf->state_dir, *p;
	uint32_t h = 2166136261u;
	int rc = 0;

	if (realpath(conf->state_dir, canon) != NULL)
		path = canon;
	else
		rc = -1;
	if (strcmp(path, default_state) == 0 ||
	    (realpath(default_state, dflt) != NULL &&
		strcmp(path, dflt) == 0)) {
		util_strlcpy(
		    conf->cgroup_root, "schedd", sizeof(conf->cgroup_root));
		return (rc);
	}
	for (p = path; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(
	    conf->cgroup_root, sizeof(conf->cgroup_root), "schedd-%08x", h);
	return (rc);
}
