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
	if ((lvl = config_apply_logs(conf, key, v, why)) != 1)
		return (lvl);
	*why = "unknown key";
	return (-1);
}

int
config_load(
    struct config *conf, const char *path, int must_exist, struct serr *err)
{
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
		if ((eq = strchr(p, '=')) == NULL) {
			serr_set(err, SERR_INVALID, "config",
			    "%s:%d: expected 'key = value'", path, lineno);
			goto out;
		}
		*eq = '\0';
		key = trim(p);
		val = trim(eq + 1);
		if (config_apply(conf, key, val, &why) == -1) {
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
