/* SPDX-License-Identifier: ISC */
/*
 * The job spec codec: JSON (a POST /v1/jobs body, a job file, the stored
 * spec) to a validated struct job_spec and back. Decoding is two steps:
 * first the shape (every key of every object must be known, else the key is
 * blamed), then each member in a fixed order, so that the first error for a
 * given body never depends on key order. Every range and pattern check of
 * the contract lives here and names its field path ("sched.priority",
 * "argv[3]", "env.LANG") in struct serr. In every object, an optional member
 * given as null means the same as leaving it out, which is what
 * jobspec_to_json writes for unset members. Sizes are bounded before
 * anything is allocated. Pure: no libevent, no I/O, no syscalls.
 */

#include "config.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto/cpulist.h"
#include "proto/errors.h"
#include "proto/jobspec.h"
#include "proto/util.h"

#define JS_ENV_KEY_MAX    256 /* env key length, bytes */
#define JS_PRIORITY_MAX   99  /* SCHED_FIFO/SCHED_RR */
#define JS_NICE_MIN       -20
#define JS_NICE_MAX       19
#define JS_RUNTIME_MIN_US 2            /* the kernel wants >= 1024 ns */
#define JS_PERIOD_MIN_US  100          /* sched_deadline_period_min_us */
#define JS_PERIOD_MAX_US  4194304      /* sched_deadline_period_max_us */
#define JS_MEMORY_MIN     (1ULL << 20) /* 1 MiB */
#define JS_MEMORY_MAX     (1ULL << 62)
#define JS_PIDS_MAX       4194304 /* PID_MAX_LIMIT */
#define JS_QUOTA_PCT_MAX  102400  /* 1024 CPUs at 100% */
#define JS_WEIGHT_MAX     10000   /* cgroup v2 cpu.weight */
#define JS_RETRIES_MAX    1000000
#define JS_CPUS_TEXT      4096 /* any canonical CPU list fits */
#define JS_SIGNAL_MAX     64

/* A member of an object, and where the shape check puts its value. */
struct js_member {
	const char *name;
	json_t **slot;
};

static const char *const js_policy_names[] = {
    [POLICY_OTHER] = "other",
    [POLICY_BATCH] = "batch",
    [POLICY_IDLE] = "idle",
    [POLICY_FIFO] = "fifo",
    [POLICY_RR] = "rr",
    [POLICY_DEADLINE] = "deadline",
};

static const char *const js_restart_names[] = {
    [RESTART_NO] = "no",
    [RESTART_ON_FAILURE] = "on-failure",
    [RESTART_ALWAYS] = "always",
};

#define JS_NITEMS(a) (sizeof(a) / sizeof((a)[0]))

static int js_fail(struct serr *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static int js_bad(struct serr *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Fill err with SERR_INVALID, field and the message as given; -1. */
static int
js_fail(struct serr *err, const char *field, const char *fmt, ...)
{
	char msg[SERR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof msg, fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	serr_set(err, SERR_INVALID, field, "%s", msg);
	return (-1);
}

/* The same, with the message starting with the field path. */
static int
js_bad(struct serr *err, const char *field, const char *fmt, ...)
{
	char msg[SERR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof msg, fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	serr_set(err, SERR_INVALID, field, "%s %s", field, msg);
	return (-1);
}

static int
js_nomem(struct serr *err)
{
	serr_set(err, SERR_INTERNAL, NULL, "out of memory");
	return (-1);
}

static int
js_absent(const json_t *v)
{
	return (v == NULL || json_is_null(v));
}

/*
 * "prefix.key", or just "key" at the top. A long key is truncated like any
 * field, but never inside a UTF-8 character: the path is also quoted in the
 * message, which must stay valid UTF-8 for the API's JSON error body.
 */
static void
js_path(char *buf, size_t len, const char *prefix, const char *key)
{
	size_t n, i;
	unsigned char c;

	if (*prefix == '\0')
		n = util_strlcpy(buf, key, len);
	else
		n = (size_t)snprintf(buf, len, "%s.%s", prefix, key);
	if (n < len)
		return;
	/* Truncated: drop a trailing partial character. */
	n = strlen(buf);
	for (i = n; i > 0 && n - i < 3; i--) {
		c = (unsigned char)buf[i - 1];
		if ((c & 0xc0) != 0x80)
			break;
	}
	if (i == 0)
		return;
	c = (unsigned char)buf[i - 1];
	if (c >= 0xc0 && n - (i - 1) < (c >= 0xf0 ? 4U : c >= 0xe0 ? 3U : 2U))
		buf[i - 1] = '\0';
}

/*
 * The shape step: every key of obj must be one of members[], whose slots
 * receive the values (borrowed) or NULL. An unknown key is blamed by its
 * path. Keys with NUL bytes only come from hand-built objects (jansson's
 * parser refuses them) but must not match a known name by their prefix.
 */
static int
js_members(const json_t *obj, const char *prefix,
    const struct js_member *members, size_t n, struct serr *err)
{
	char field[SERR_FIELD_MAX];
	const char *key;
	json_t *v;
	size_t i;

	for (i = 0; i < n; i++)
		*members[i].slot = NULL;
	json_object_foreach ((json_t *)obj, key, v) {
		js_path(field, sizeof field, prefix, key);
		if (json_object_iter_key_len(json_object_key_to_iter(key)) !=
		    strlen(key))
			return (js_fail(err, field,
			    "field names must not contain NUL bytes"));
		for (i = 0; i < n; i++) {
			if (strcmp(key, members[i].name) == 0)
				break;
		}
		if (i == n)
			return (js_fail(err, field, "unknown field %s", field));
		*members[i].slot = v;
	}
	return (0);
}

/*
 * A string of at most max bytes without NUL bytes; *out is borrowed from
 * the JSON tree.
 */
static int
js_string(const json_t *v, const char *field, size_t max, const char **out,
    size_t *lenp, struct serr *err)
{
	const char *s;
	size_t len;

	if (!json_is_string(v))
		return (js_bad(err, field, "must be a string"));
	s = json_string_value(v);
	len = json_string_length(v);
	if (memchr(s, '\0', len) != NULL)
		return (js_bad(err, field, "must not contain NUL bytes"));
	if (len > max)
		return (js_bad(err, field, "must be at most %zu bytes", max));
	*out = s;
	if (lenp != NULL)
		*lenp = len;
	return (0);
}

/* A copy of a checked string into *dst; the caller frees. */
static int
js_strdup(const json_t *v, const char *field, size_t max, char **dst,
    struct serr *err)
{
	const char *s;

	if (js_string(v, field, max, &s, NULL, err) == -1)
		return (-1);
	if ((*dst = strdup(s)) == NULL)
		return (js_nomem(err));
	return (0);
}

/* A JSON integer (not a real, not a string) in [min, max]. */
static int
js_integer(const json_t *v, const char *field, long long min, long long max,
    long long *out, struct serr *err)
{
	long long n;

	if (!json_is_integer(v))
		return (js_bad(err, field, "must be an integer"));
	n = json_integer_value(v);
	if (n < min || n > max)
		return (js_bad(err, field, "must be %lld..%lld", min, max));
	*out = n;
	return (0);
}

static int
js_boolean(const json_t *v, const char *field, int *out, struct serr *err)
{
	if (!json_is_boolean(v))
		return (js_bad(err, field, "must be true or false"));
	*out = json_is_true(v);
	return (0);
}

/* Optional millisecond value in [min, JOBSPEC_TIMEOUT_MAX]. */
static int
js_ms(const json_t *v, const char *field, long long min, uint32_t *out,
    struct serr *err)
{
	long long n = 0;

	if (js_absent(v))
		return (0);
	if (js_integer(v, field, min, JOBSPEC_TIMEOUT_MAX, &n, err) == -1)
		return (-1);
	*out = (uint32_t)n;
	return (0);
}

static int
js_decode_name(const json_t *v, struct job_spec *spec, struct serr *err)
{
	const char *s;

	if (js_absent(v))
		return (0);
	if (js_string(v, "name", JOBSPEC_STRING_MAX, &s, NULL, err) == -1)
		return (-1);
	if (!jobspec_name_valid(s))
		return (js_bad(err, "name",
		    "must match [A-Za-z0-9][A-Za-z0-9._-]{0,63} and not be all digits"));
	if ((spec->name = strdup(s)) == NULL)
		return (js_nomem(err));
	return (0);
}

static int
js_decode_argv(const json_t *v, struct job_spec *spec, struct serr *err)
{
	char field[SERR_FIELD_MAX];
	const char *s;
	size_t i, n, len;

	if (js_absent(v))
		return (js_bad(err, "argv", "is required"));
	if (!json_is_array(v))
		return (js_bad(err, "argv", "must be an array of strings"));
	n = json_array_size(v);
	if (n == 0)
		return (js_bad(err, "argv", "must not be empty"));
	if (n > JOBSPEC_ARGV_MAX)
		return (js_bad(err, "argv", "must have at most %d elements",
		    JOBSPEC_ARGV_MAX));
	if ((spec->argv = calloc(n + 1, sizeof *spec->argv)) == NULL)
		return (js_nomem(err));
	for (i = 0; i < n; i++) {
		(void)snprintf(field, sizeof field, "argv[%zu]", i);
		if (js_string(json_array_get(v, i), field, JOBSPEC_STRING_MAX,
			&s, &len, err) == -1)
			return (-1);
		if (i == 0 && len == 0)
			return (js_bad(err, field, "must not be empty"));
		if ((spec->argv[i] = strdup(s)) == NULL)
			return (js_nomem(err));
		spec->argc++;
	}
	return (0);
}

struct js_env {
	const char *key;
	const char *value;
};

static int
js_env_cmp(const void *a, const void *b)
{
	const struct js_env *ea = a, *eb = b;

	return (strcmp(ea->key, eb->key));
}

static int
js_decode_env(const json_t *v, struct job_spec *spec, struct serr *err)
{
	char field[SERR_FIELD_MAX];
	struct js_env *tmp = NULL;
	const char *key;
	json_t *value;
	size_t i, n, klen;
	int rc = -1;

	if (js_absent(v))
		return (0);
	if (!json_is_object(v))
		return (js_bad(err, "env", "must be an object of strings"));
	n = json_object_size(v);
	if (n > JOBSPEC_ENV_MAX)
		return (js_bad(err, "env", "must have at most %d entries",
		    JOBSPEC_ENV_MAX));
	if (n == 0)
		return (0);
	if ((tmp = calloc(n, sizeof *tmp)) == NULL)
		return (js_nomem(err));

	i = 0;
	json_object_foreach ((json_t *)v, key, value) {
		js_path(field, sizeof field, "env", key);
		klen = json_object_iter_key_len(json_object_key_to_iter(key));
		if (klen == 0) {
			js_bad(err, "env", "names must not be empty");
			goto out;
		}
		if (klen != strlen(key)) {
			js_bad(err, field, "name must not contain NUL bytes");
			goto out;
		}
		if (klen > JS_ENV_KEY_MAX) {
			js_bad(err, field, "name must be at most %d bytes",
			    JS_ENV_KEY_MAX);
			goto out;
		}
		if (strchr(key, '=') != NULL) {
			js_bad(err, field, "name must not contain '='");
			goto out;
		}
		tmp[i].key = key;
		if (js_string(value, field, JOBSPEC_STRING_MAX, &tmp[i].value,
			NULL, err) == -1)
			goto out;
		i++;
	}

	qsort(tmp, n, sizeof *tmp, js_env_cmp);
	if ((spec->env_keys = calloc(n, sizeof *spec->env_keys)) == NULL ||
	    (spec->env_values = calloc(n, sizeof *spec->env_values)) == NULL) {
		js_nomem(err);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((spec->env_keys[i] = strdup(tmp[i].key)) == NULL ||
		    (spec->env_values[i] = strdup(tmp[i].value)) == NULL) {
			/* Both or neither, so jobspec_free sees pairs. */
			free(spec->env_keys[i]);
			spec->env_keys[i] = NULL;
			js_nomem(err);
			goto out;
		}
		spec->nenv++;
	}
	rc = 0;
out:
	free(tmp);
	return (rc);
}

static int
js_decode_cwd(const json_t *v, struct job_spec *spec, struct serr *err)
{
	if (js_absent(v))
		return (0);
	if (js_strdup(v, "cwd", JOBSPEC_PATH_MAX, &spec->cwd, err) == -1)
		return (-1);
	if (spec->cwd[0] != '/')
		return (js_bad(err, "cwd", "must be an absolute path"));
	return (0);
}

/* A user or group: a name or a numeric id, nothing that could be a path. */
static int
js_decode_ident(
    const json_t *v, const char *field, char **dst, struct serr *err)
{
	const unsigned char *p;

	if (js_absent(v))
		return (0);
	if (js_strdup(v, field, JOBSPEC_USER_MAX, dst, err) == -1)
		return (-1);
	if (**dst == '\0')
		return (js_bad(err, field, "must not be empty"));
	for (p = (const unsigned char *)*dst; *p != '\0'; p++) {
		if (*p == '/' || *p == ':' || *p <= 0x20 || *p == 0x7f)
			return (js_bad(err, field,
			    "must be a name or a numeric id, without '/', ':', spaces or control characters"));
	}
	return (0);
}

/* A CPU list member ("cpus", "cpus_within"), stored canonical. */
static int
js_decode_cpulist(
    const json_t *v, const char *field, char **out, struct serr *err)
{
	char text[JS_CPUS_TEXT];
	struct cpulist cl;
	const char *s, *why;

	if (js_absent(v))
		return (0);
	if (js_string(v, field, JOBSPEC_CPUS_MAX, &s, NULL, err) == -1)
		return (-1);
	if (cpulist_parse(s, &cl, 0, &why) == -1)
		return (js_bad(err, field, "is not a CPU list: %s", why));
	if (cpulist_format(&cl, text, sizeof text) == -1)
		return (js_bad(err, field, "is too long"));
	if ((*out = strdup(text)) == NULL)
		return (js_nomem(err));
	return (0);
}

static int
js_decode_cpus(const json_t *v, struct job_spec *spec, struct serr *err)
{
	return (js_decode_cpulist(v, "cpus", &spec->cpus, err));
}

/* "cpus_within": every CPU the job is granted lies in this list. */
static int
js_decode_cpus_within(const json_t *v, struct job_spec *spec, struct serr *err)
{
	return (js_decode_cpulist(v, "cpus_within", &spec->cpus_within, err));
}

/*
 * "labels": who the job belongs to outside schedd (a Slurm job and step,
 * say), shown with the job and carried in its events. Kept as the JSON
 * object it is: nothing in schedd reads a label, so it needs no struct.
 */
static int
js_label_key_valid(const char *key, size_t len)
{
	size_t i;
	char c;

	if (len == 0 || len > JOBSPEC_LABEL_KEY_MAX || strlen(key) != len)
		return (0);
	for (i = 0; i < len; i++) {
		c = key[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (i == 0 || (c != '.' && c != '_' && c != '-' && c != '/'))
			return (0);
	}
	return (1);
}

static int
js_decode_labels(const json_t *v, struct job_spec *spec, struct serr *err)
{
	char field[SERR_FIELD_MAX];
	const char *key, *s;
	json_t *value;
	size_t klen;

	if (js_absent(v))
		return (0);
	if (!json_is_object(v))
		return (js_bad(err, "labels", "must be an object of strings"));
	if (json_object_size(v) > JOBSPEC_LABELS_MAX)
		return (js_bad(err, "labels", "must have at most %d entries",
		    JOBSPEC_LABELS_MAX));
	json_object_foreach ((json_t *)v, key, value) {
		js_path(field, sizeof field, "labels", key);
		klen = json_object_iter_key_len(json_object_key_to_iter(key));
		if (!js_label_key_valid(key, klen))
			return (js_bad(err, field,
			    "key must match [A-Za-z0-9][A-Za-z0-9._/-]{0,%d}",
			    JOBSPEC_LABEL_KEY_MAX - 1));
		if (js_string(value, field, JOBSPEC_LABEL_VALUE_MAX, &s, NULL,
			err) == -1)
			return (-1);
	}
	if (json_object_size(v) > 0 &&
	    (spec->labels = json_deep_copy(v)) == NULL)
		return (js_nomem(err));
	return (0);
}

static int
js_decode_on_drift(const json_t *v, struct job_spec *spec, struct serr *err)
{
	const char *s;

	if (js_absent(v))
		return (0);
	if (js_string(v, "on_drift", 16, &s, NULL, err) == -1)
		return (-1);
	if (strcmp(s, "report") == 0)
		spec->on_drift = DRIFT_REPORT;
	else if (strcmp(s, "restore") == 0)
		spec->on_drift = DRIFT_RESTORE;
	else
		return (js_bad(err, "on_drift", "must be report or restore"));
	return (0);
}

static int
js_decode_exclusive(const json_t *v, struct job_spec *spec, struct serr *err)
{
	long long n;

	if (js_absent(v))
		return (0);
	if (js_integer(v, "exclusive_cpus", 0, CPULIST_MAX, &n, err) == -1)
		return (-1);
	spec->exclusive_cpus = (int)n;
	return (0);
}

/*
 * SCHED_DEADLINE's three values, as the kernel checks them: runtime <=
 * deadline <= period, a period within the default sysctl bounds, and a
 * runtime of at least 1024 ns. The deadline defaults to the period.
 */
static int
js_decode_deadline(const json_t *runtime, const json_t *deadline,
    const json_t *period, struct job_sched *sc, struct serr *err)
{
	long long n;

	if (js_absent(runtime))
		return (js_bad(err, "sched.runtime_us",
		    "is required for policy deadline"));
	if (js_integer(runtime, "sched.runtime_us", JS_RUNTIME_MIN_US,
		JS_PERIOD_MAX_US, &n, err) == -1)
		return (-1);
	sc->runtime_us = (uint64_t)n;
	if (!js_absent(deadline)) {
		if (js_integer(deadline, "sched.deadline_us", JS_RUNTIME_MIN_US,
			JS_PERIOD_MAX_US, &n, err) == -1)
			return (-1);
		sc->deadline_us = (uint64_t)n;
	}
	if (js_absent(period))
		return (js_bad(
		    err, "sched.period_us", "is required for policy deadline"));
	if (js_integer(period, "sched.period_us", JS_PERIOD_MIN_US,
		JS_PERIOD_MAX_US, &n, err) == -1)
		return (-1);
	sc->period_us = (uint64_t)n;

	if (js_absent(deadline)) {
		sc->deadline_us = sc->period_us;
		if (sc->runtime_us > sc->period_us)
			return (js_bad(err, "sched.runtime_us",
			    "must be <= sched.period_us"));
	}
	if (sc->runtime_us > sc->deadline_us)
		return (js_bad(
		    err, "sched.runtime_us", "must be <= sched.deadline_us"));
	if (sc->deadline_us > sc->period_us)
		return (js_bad(
		    err, "sched.deadline_us", "must be <= sched.period_us"));
	return (0);
}

static int
js_decode_sched(const json_t *v, struct job_sched *sc, struct serr *err)
{
	json_t *policy, *priority, *nice, *runtime, *deadline, *period, *rof;
	const struct js_member members[] = {
	    {"policy", &policy},
	    {"priority", &priority},
	    {"nice", &nice},
	    {"runtime_us", &runtime},
	    {"deadline_us", &deadline},
	    {"period_us", &period},
	    {"reset_on_fork", &rof},
	};
	const char *s, *pname;
	long long n;
	size_t i;
	int rt, nic, dl;

	if (js_absent(v))
		return (0);
	if (!json_is_object(v))
		return (js_bad(err, "sched", "must be an object"));
	if (js_members(v, "sched", members, JS_NITEMS(members), err) == -1)
		return (-1);
	sc->set = 1;

	if (js_absent(policy))
		return (js_bad(err, "sched.policy", "is required"));
	if (js_string(policy, "sched.policy", JOBSPEC_STRING_MAX, &s, NULL,
		err) == -1)
		return (-1);
	for (i = 0; i < JS_NITEMS(js_policy_names); i++) {
		if (strcmp(s, js_policy_names[i]) == 0)
			break;
	}
	if (i == JS_NITEMS(js_policy_names))
		return (js_bad(err, "sched.policy",
		    "must be one of other, batch, idle, fifo, rr, deadline"));
	sc->policy = (enum jobspec_policy)i;
	pname = js_policy_names[i];
	rt = sc->policy == POLICY_FIFO || sc->policy == POLICY_RR;
	nic = sc->policy == POLICY_OTHER || sc->policy == POLICY_BATCH;
	dl = sc->policy == POLICY_DEADLINE;

	/* Members that belong to another policy must be absent. */
	{
		const struct {
			const json_t *v;
			const char *field;
			int allowed;
		} only[] = {
		    {priority, "sched.priority", rt},
		    {nice, "sched.nice", nic},
		    {runtime, "sched.runtime_us", dl},
		    {deadline, "sched.deadline_us", dl},
		    {period, "sched.period_us", dl},
		};

		for (i = 0; i < JS_NITEMS(only); i++) {
			if (!js_absent(only[i].v) && !only[i].allowed)
				return (js_bad(err, only[i].field,
				    "is not allowed for policy %s", pname));
		}
	}

	if (rt) {
		if (js_absent(priority))
			return (js_bad(err, "sched.priority",
			    "is required for policy %s", pname));
		if (!json_is_integer(priority))
			return (js_bad(
			    err, "sched.priority", "must be an integer"));
		n = json_integer_value(priority);
		if (n < 1 || n > JS_PRIORITY_MAX)
			return (js_bad(err, "sched.priority",
			    "must be 1..%d for policy %s", JS_PRIORITY_MAX,
			    pname));
		sc->priority = (int)n;
	}
	if (!js_absent(nice)) {
		if (js_integer(nice, "sched.nice", JS_NICE_MIN, JS_NICE_MAX, &n,
			err) == -1)
			return (-1);
		sc->nice = (int)n;
		sc->has_nice = 1;
	}
	if (dl && js_decode_deadline(runtime, deadline, period, sc, err) == -1)
		return (-1);
	if (!js_absent(rof) && js_boolean(rof, "sched.reset_on_fork",
				   &sc->reset_on_fork, err) == -1)
		return (-1);
	return (0);
}

static int
js_decode_memory(const json_t *v, uint64_t *out, struct serr *err)
{
	const char *f = "limits.memory_max", *s;
	uint64_t bytes;

	if (json_is_string(v)) {
		if (js_string(v, f, JOBSPEC_STRING_MAX, &s, NULL, err) == -1)
			return (-1);
		if (util_parse_size(s, &bytes) == -1)
			return (js_bad(err, f,
			    "must be a size: bytes, or a number with K, M or G"));
	} else if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return (js_bad(err, f, "must not be negative"));
		bytes = (uint64_t)json_integer_value(v);
	} else
		return (js_bad(err, f,
		    "must be an integer of bytes or a string like \"512M\""));
	if (bytes < JS_MEMORY_MIN || bytes > JS_MEMORY_MAX)
		return (
		    js_bad(err, f, "must be 1M..%llu bytes", JS_MEMORY_MAX));
	*out = bytes;
	return (0);
}

static int
js_decode_limits(const json_t *v, struct job_limits *lim, struct serr *err)
{
	json_t *memory, *pids, *quota, *weight;
	const struct js_member members[] = {
	    {"memory_max", &memory},
	    {"pids_max", &pids},
	    {"cpu_quota_pct", &quota},
	    {"cpu_weight", &weight},
	};
	long long n;

	if (js_absent(v))
		return (0);
	if (!json_is_object(v))
		return (js_bad(err, "limits", "must be an object"));
	if (js_members(v, "limits", members, JS_NITEMS(members), err) == -1)
		return (-1);
	lim->set = 1;

	if (!js_absent(memory) &&
	    js_decode_memory(memory, &lim->memory_max, err) == -1)
		return (-1);
	if (!js_absent(pids)) {
		if (js_integer(
			pids, "limits.pids_max", 1, JS_PIDS_MAX, &n, err) == -1)
			return (-1);
		lim->pids_max = n;
	}
	if (!js_absent(quota)) {
		if (js_integer(quota, "limits.cpu_quota_pct", 1,
			JS_QUOTA_PCT_MAX, &n, err) == -1)
			return (-1);
		lim->cpu_quota_pct = (int)n;
	}
	if (!js_absent(weight)) {
		if (js_integer(weight, "limits.cpu_weight", 1, JS_WEIGHT_MAX,
			&n, err) == -1)
			return (-1);
		lim->cpu_weight = (int)n;
	}
	return (0);
}

static int
js_decode_restart(const json_t *v, struct job_restart *rs, struct serr *err)
{
	json_t *policy, *retries, *backoff, *backoff_max, *reset_after;
	json_t *unhealthy;
	const struct js_member members[] = {
	    {"policy", &policy},
	    {"max_retries", &retries},
	    {"backoff_ms", &backoff},
	    {"backoff_max_ms", &backoff_max},
	    {"reset_after_ms", &reset_after},
	    {"on_unhealthy", &unhealthy},
	};
	const char *s;
	long long n;
	size_t i;

	if (js_absent(v))
		return (0);
	if (!json_is_object(v))
		return (js_bad(err, "restart", "must be an object"));
	if (js_members(v, "restart", members, JS_NITEMS(members), err) == -1)
		return (-1);
	rs->set = 1;

	if (!js_absent(policy)) {
		if (js_string(policy, "restart.policy", JOBSPEC_STRING_MAX, &s,
			NULL, err) == -1)
			return (-1);
		for (i = 0; i < JS_NITEMS(js_restart_names); i++) {
			if (strcmp(s, js_restart_names[i]) == 0)
				break;
		}
		if (i == JS_NITEMS(js_restart_names))
			return (js_bad(err, "restart.policy",
			    "must be one of no, on-failure, always"));
		rs->policy = (enum jobspec_restart)i;
	}
	if (!js_absent(retries)) {
		if (js_integer(retries, "restart.max_retries", 0,
			JS_RETRIES_MAX, &n, err) == -1)
			return (-1);
		rs->max_retries = (int)n;
	}
	if (js_ms(backoff, "restart.backoff_ms", 1, &rs->backoff_ms, err) == -1)
		return (-1);
	if (js_absent(backoff_max))
		rs->backoff_max_ms =
		    rs->backoff_ms > 30000 ? rs->backoff_ms : 30000;
	else {
		if (js_ms(backoff_max, "restart.backoff_max_ms", 1,
			&rs->backoff_max_ms, err) == -1)
			return (-1);
		if (rs->backoff_max_ms < rs->backoff_ms)
			return (js_bad(err, "restart.backoff_max_ms",
			    "must be >= restart.backoff_ms (%u)",
			    (unsigned int)rs->backoff_ms));
	}
	if (js_ms(reset_after, "restart.reset_after_ms", 0, &rs->reset_after_ms,
		err) == -1)
		return (-1);
	if (!js_absent(unhealthy) &&
	    js_boolean(unhealthy, "restart.on_unhealthy", &rs->on_unhealthy,
		err) == -1)
		return (-1);
	return (0);
}

/* A signal by name ("SIGTERM", "TERM", "SIGRTMIN+3") or by number. */
static int
js_decode_signal(const json_t *v, int *out, struct serr *err)
{
	const char *f = "stop.signal", *s;
	long long n;
	int sig;

	if (js_absent(v))
		return (0);
	if (json_is_integer(v)) {
		if (js_integer(v, f, 1, JS_SIGNAL_MAX, &n, err) == -1)
			return (-1);
		*out = (int)n;
		return (0);
	}
	if (!json_is_string(v))
		return (js_bad(err, f, "must be a signal name or number"));
	if (js_string(v, f, JOBSPEC_STRING_MAX, &s, NULL, err) == -1)
		return (-1);
	if ((sig = util_signal_parse(s)) == -1)
		return (js_bad(err, f,
		    "must be a signal name (\"SIGTERM\") or number 1..%d",
		    JS_SIGNAL_MAX));
	*out = sig;
	return (0);
}

static int
js_decode_stop(const json_t *v, struct job_stop *st, struct serr *err)
{
	json_t *sig, *timeout, *unwaited;
	const struct js_member members[] = {
	    {"signal", &sig},
	    {"timeout_ms", &timeout},
	    {"unwaited_ms", &unwaited},
	};

	if (js_absent(v))
		return (0);
	if (!json_is_object(v))
		return (js_bad(err, "stop", "must be an object"));
	if (js_members(v, "stop", members, JS_NITEMS(members), err) == -1)
		return (-1);

	if (js_decode_signal(sig, &st->signal, err) == -1)
		return (-1);
	if (js_ms(timeout, "stop.timeout_ms", 0, &st->timeout_ms, err) == -1)
		return (-1);
	if (js_ms(unwaited, "stop.unwaited_ms", 0, &st->unwaited_ms, err) == -1)
		return (-1);
	return (0);
}

/*
 * "ready": {"notify": true} (sd_notify's READY=1 on NOTIFY_SOCKET) or
 * {"fd": N} (s6: a newline on fd N), and how long to wait for it.
 */
static int
js_decode_ready(const json_t *v, struct job_ready *rd, struct serr *err)
{
	json_t *notify, *fd, *timeout;
	const struct js_member members[] = {
	    {"notify", &notify},
	    {"fd", &fd},
	    {"timeout_ms", &timeout},
	};
	long long n;

	if (js_absent(v))
		return (0);
	if (!json_is_object(v))
		return (js_bad(err, "ready", "must be an object"));
	if (js_members(v, "ready", members, JS_NITEMS(members), err) == -1)
		return (-1);
	if (!js_absent(notify) &&
	    js_boolean(notify, "ready.notify", &rd->notify, err) == -1)
		return (-1);
	if (!js_absent(fd)) {
		if (js_integer(fd, "ready.fd", JOBSPEC_READY_FD_MIN,
			JOBSPEC_READY_FD_MAX, &n, err) == -1)
			return (-1);
		rd->fd = (int)n;
	}
	if (js_ms(timeout, "ready.timeout_ms", 1, &rd->timeout_ms, err) == -1)
		return (-1);
	if (rd->notify && rd->fd != 0)
		return (js_bad(err, "ready.fd",
		    "ready.notify and ready.fd are mutually exclusive"));
	if (!rd->notify && rd->fd == 0)
		return (js_bad(err, "ready",
		    "must say how: {\"notify\": true} or {\"fd\": N}"));
	rd->set = 1;
	return (0);
}

int
jobspec_url_parse(const char *url, struct jobspec_url *u, const char **why)
{
	const char *p, *host, *end, *colon, *errstr;
	size_t n;
	long long port = 80;

	memset(u, 0, sizeof(*u));
	*why = "must be http://127.0.0.1[:PORT]/PATH ([::1] and localhost "
	       "too: loopback only)";
	if (strncmp(url, "http://", 7) != 0)
		return (-1);
	host = url + 7;
	if ((p = strchr(host, '/')) == NULL)
		p = host + strlen(host);
	if (*host == '[') {
		if ((end = memchr(host, ']', (size_t)(p - host))) == NULL)
			return (-1);
		n = (size_t)(end - host - 1);
		if (n >= sizeof(u->host))
			return (-1);
		memcpy(u->host, host + 1, n);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (!colon && end + 1 != p)
			return (-1);
	} else {
		colon = memchr(host, ':', (size_t)(p - host));
		n = (size_t)((colon != NULL ? colon : p) - host);
		if (n == 0 || n >= sizeof(u->host))
			return (-1);
		memcpy(u->host, host, n);
	}
	if (colon != NULL) {
		char num[8];

		n = (size_t)(p - colon - 1);
		if (n == 0 || n >= sizeof(num))
			return (-1);
		memcpy(num, colon + 1, n);
		num[n] = '\0';
		port = util_strtonum(num, 1, 65535, &errstr);
		if (errstr != NULL)
			return (-1);
	}
	u->port = (int)port;
	if (strcmp(u->host, "localhost") != 0 && strcmp(u->host, "::1") != 0 &&
	    (strncmp(u->host, "127.", 4) != 0 ||
		strspn(u->host, "0123456789.") != strlen(u->host)))
		return (-1);
	if (util_strlcpy(u->path, *p != '\0' ? p : "/", sizeof(u->path)) >=
	    sizeof(u->path)) {
		*why = "path too long";
		return (-1);
	}
	return (0);
}

/* "health": an exec or http check, how often, how long, how many. */
static int
js_decode_health(const json_t *v, struct job_health **hcp, struct serr *err)
{
	json_t *exec, *http, *sock, *interval, *timeout, *retries;
	struct job_health *hc;
	const struct js_member members[] = {
	    {"exec", &exec},
	    {"http", &http},
	    {"unix_socket", &sock},
	    {"interval_ms", &interval},
	    {"timeout_ms", &timeout},
	    {"retries", &retries},
	};
	struct jobspec_url u;
	char field[SERR_FIELD_MAX];
	const char *s, *why;
	long long n;
	size_t i;

	if (js_absent(v))
		return (0);
	if (!json_is_object(v))
		return (js_bad(err, "health", "must be an object"));
	if (js_members(v, "health", members, JS_NITEMS(members), err) == -1)
		return (-1);
	/* The spec owns it from here: a failure below frees it with the
	 * spec. */
	if ((hc = *hcp = calloc(1, sizeof *hc)) == NULL)
		return (js_nomem(err));
	hc->interval_ms = 30000;
	hc->timeout_ms = 5000;
	hc->retries = 3;
	if (!js_absent(exec)) {
		if (!json_is_array(exec) || json_array_size(exec) == 0 ||
		    json_array_size(exec) > 256)
			return (js_bad(err, "health.exec",
			    "must be an array of 1..256 strings"));
		hc->nexec = json_array_size(exec);
		if ((hc->exec = calloc(hc->nexec + 1, sizeof(char *))) == NULL)
			return (js_nomem(err));
		for (i = 0; i < hc->nexec; i++) {
			(void)snprintf(
			    field, sizeof field, "health.exec[%zu]", i);
			if (js_strdup(json_array_get(exec, i), field,
				JOBSPEC_STRING_MAX, &hc->exec[i], err) == -1)
				return (-1);
		}
		if (hc->exec[0][0] == '\0')
			return (
			    js_bad(err, "health.exec[0]", "must not be empty"));
	}
	if (!js_absent(http)) {
		if (js_string(http, "health.http", 2048, &s, NULL, err) == -1)
			return (-1);
		if (jobspec_url_parse(s, &u, &why) == -1)
			return (js_bad(err, "health.http", "%s", why));
		if ((hc->http = strdup(s)) == NULL)
			return (js_nomem(err));
	}
	if (!js_absent(sock)) {
		if (js_strdup(sock, "health.unix_socket", 107, &hc->unix_socket,
			err) == -1)
			return (-1);
		if (hc->unix_socket[0] != '/')
			return (js_bad(err, "health.unix_socket",
			    "must be an absolute path"));
		if (hc->http == NULL)
			return (js_bad(err, "health.unix_socket",
			    "goes with health.http (the request to send)"));
	}
	if ((hc->exec != NULL) == (hc->http != NULL))
		return (js_bad(err, "health",
		    "needs exactly one of health.exec and health.http"));
	if (js_ms(interval, "health.interval_ms", 100, &hc->interval_ms, err) ==
		-1 ||
	    js_ms(timeout, "health.timeout_ms", 1, &hc->timeout_ms, err) == -1)
		return (-1);
	if (!js_absent(retries)) {
		if (js_integer(retries, "health.retries", 1, 100, &n, err) ==
		    -1)
			return (-1);
		hc->retries = (int)n;
	}
	return (0);
}

/* "schedule": exactly one of cron, calendar and every_ms; catch_up. */
static int
js_decode_schedule(const json_t *v, struct job_schedule **scp, struct serr *err)
{
	json_t *cron, *calendar, *every, *catch_up;
	struct job_schedule *sc;
	const struct js_member members[] = {
	    {"cron", &cron},
	    {"calendar", &calendar},
	    {"every_ms", &every},
	    {"catch_up", &catch_up},
	};
	char why[256];
	long long n;
	int given;

	if (js_absent(v))
		return (0);
	if (!json_is_object(v))
		return (js_bad(err, "schedule", "must be an object"));
	if (js_members(v, "schedule", members, JS_NITEMS(members), err) == -1)
		return (-1);
	given = !js_absent(cron) + !js_absent(calendar) + !js_absent(every);
	if (given != 1)
		return (js_bad(err, "schedule",
		    "needs exactly one of cron, calendar and every_ms"));
	/* Owned by the spec from here, as health's. */
	if ((sc = *scp = calloc(1, sizeof *sc)) == NULL)
		return (js_nomem(err));
	if (!js_absent(cron)) {
		if (js_strdup(cron, "schedule.cron", 256, &sc->cron, err) == -1)
			return (-1);
		if (schedule_parse_cron(
			sc->cron, &sc->when, why, sizeof(why)) == -1)
			return (js_bad(err, "schedule.cron", "%s", why));
	}
	if (!js_absent(calendar)) {
		if (js_strdup(calendar, "schedule.calendar", 256, &sc->calendar,
			err) == -1)
			return (-1);
		if (schedule_parse_calendar(
			sc->calendar, &sc->when, why, sizeof(why)) == -1)
			return (js_bad(err, "schedule.calendar", "%s", why));
	}
	if (!js_absent(every)) {
		if (js_integer(every, "schedule.every_ms",
			SCHEDULE_EVERY_MIN_MS, SCHEDULE_EVERY_MAX_MS, &n,
			err) == -1)
			return (-1);
		sc->every_ms = n;
		if (schedule_every(&sc->when, n, why, sizeof(why)) == -1)
			return (js_bad(err, "schedule.every_ms", "%s", why));
	}
	if (!js_absent(catch_up) &&
	    js_boolean(catch_up, "schedule.catch_up", &sc->catch_up, err) == -1)
		return (-1);
	return (0);
}

/* Is s a job name / a key of spec's env? (js_decode_strings checks) */
static int
js_is_name(const struct job_spec *spec, const char *s)
{
	(void)spec;
	return (jobspec_name_valid(s));
}

static int
js_is_env_key(const struct job_spec *spec, const char *s)
{
	size_t i;

	for (i = 0; i < spec->nenv; i++)
		if (strcmp(spec->env_keys[i], s) == 0)
			return (1);
	return (0);
}

/*
 * An array under name of at most max distinct strings of at most len
 * bytes, each passing ok (else "what each must be" in bad), into *out
 * and *count. Absent or null: nothing.
 */
static int
js_decode_strings(const json_t *v, const char *name, size_t max, size_t len,
    int (*ok)(const struct job_spec *, const char *), const char *bad,
    struct job_spec *spec, char ***out, size_t *count, struct serr *err)
{
	char field[SERR_FIELD_MAX];
	const char *s;
	size_t i, j, n;

	if (js_absent(v))
		return (0);
	if (!json_is_array(v))
		return (js_bad(err, name, "must be an array of %ss", bad));
	n = json_array_size(v);
	if (n > max)
		return (
		    js_bad(err, name, "must have at most %zu elements", max));
	if (n == 0)
		return (0);
	if ((*out = calloc(n, sizeof **out)) == NULL)
		return (js_nomem(err));
	for (i = 0; i < n; i++) {
		(void)snprintf(field, sizeof field, "%s[%zu]", name, i);
		if (js_string(
			json_array_get(v, i), field, len, &s, NULL, err) == -1)
			return (-1);
		if (!ok(spec, s))
			return (js_bad(err, field, "must be a %s", bad));
		for (j = 0; j < i; j++)
			if (strcmp((*out)[j], s) == 0)
				return (js_bad(
				    err, field, "duplicates %s[%zu]", name, j));
		if (((*out)[i] = strdup(s)) == NULL)
			return (js_nomem(err));
		(*count)++;
	}
	return (0);
}

static int
js_decode_after(const json_t *v, struct job_spec *spec, struct serr *err)
{
	return (js_decode_strings(v, "after", JOBSPEC_AFTER_MAX,
	    JOBSPEC_STRING_MAX, js_is_name, "job name", spec, &spec->after,
	    &spec->nafter, err));
}

/* "env_secret": keys of env whose values the API never shows. */
static int
js_decode_secret(const json_t *v, struct job_spec *spec, struct serr *err)
{
	return (js_decode_strings(v, "env_secret", JOBSPEC_ENV_MAX,
	    JS_ENV_KEY_MAX, js_is_env_key, "key of env", spec,
	    &spec->env_secret, &spec->nsecret, err));
}

int
jobspec_env_secret(const struct job_spec *spec, const char *key)
{
	size_t i;

	for (i = 0; i < spec->nsecret; i++)
		if (strcmp(spec->env_secret[i], key) == 0)
			return (1);
	return (0);
}

/* logs: {"max_bytes": size, "keep": N, "journal": bool, "direct": bool};
 * absent or null members keep the config's defaults (0). */
static int
js_decode_logs(const json_t *v, struct job_logs *lg, struct serr *err)
{
	const char *f = "logs.max_bytes", *s;
	json_t *max_bytes, *keep, *journal, *direct;
	uint64_t bytes;
	long long n;
	int yes = 0;
	const struct js_member members[] = {
	    {"max_bytes", &max_bytes},
	    {"keep", &keep},
	    {"journal", &journal},
	    {"direct", &direct},
	};

	if (js_absent(v))
		return (0);
	if (!json_is_object(v))
		return (js_bad(err, "logs", "must be an object"));
	if (js_members(v, "logs", members, JS_NITEMS(members), err) == -1)
		return (-1);
	if (!js_absent(max_bytes)) {
		if (json_is_string(max_bytes)) {
			if (js_string(max_bytes, f, JOBSPEC_STRING_MAX, &s,
				NULL, err) == -1)
				return (-1);
			if (util_parse_size(s, &bytes) == -1)
				return (js_bad(err, f,
				    "must be a size: bytes, or a number with "
				    "K, M or G"));
		} else if (json_is_integer(max_bytes) &&
			   json_integer_value(max_bytes) >= 0)
			bytes = (uint64_t)json_integer_value(max_bytes);
		else
			return (js_bad(err, f,
			    "must be an integer of bytes or a string like "
			    "\"10M\""));
		if (bytes < JOBSPEC_LOG_BYTES_MIN ||
		    bytes > JOBSPEC_LOG_BYTES_MAX)
			return (js_bad(err, f, "must be 64K..%llu bytes",
			    (unsigned long long)JOBSPEC_LOG_BYTES_MAX));
		lg->max_bytes = bytes;
	}
	if (!js_absent(keep)) {
		if (js_integer(keep, "logs.keep", 1, JOBSPEC_LOG_KEEP_MAX, &n,
			err) == -1)
			return (-1);
		lg->keep = (int)n;
	}
	if (!js_absent(journal)) {
		if (js_boolean(journal, "logs.journal", &yes, err) == -1)
			return (-1);
		lg->journal = yes ? JOBSPEC_JOURNAL_YES : JOBSPEC_JOURNAL_NO;
	}
	if (!js_absent(direct) &&
	    js_boolean(direct, "logs.direct", &lg->direct, err) == -1)
		return (-1);
	return (0);
}

void
jobspec_init(struct job_spec *spec)
{
	memset(spec, 0, sizeof *spec);
	spec->sched.policy = POLICY_OTHER;
	spec->restart.policy = RESTART_NO;
	spec->restart.max_retries = -1;
	spec->restart.backoff_ms = 100;
	spec->restart.backoff_max_ms = 30000;
	spec->restart.reset_after_ms = 10000;
	spec->stop.signal = SIGTERM;
	spec->stop.timeout_ms = 10000;
	spec->start = 1;
	spec->ready.timeout_ms = 90000;
}

int
jobspec_from_json(const json_t *root, struct job_spec *spec, struct serr *err)
{
	json_t *name, *argv, *env, *cwd, *user, *group, *cpus, *exclusive;
	json_t *sched, *limits, *restart, *stop, *after, *start, *secret;
	json_t *ready, *watchdog, *health, *schedule;
	json_t *on_drift;
	json_t *logs, *runs_keep;
	json_t *labels, *cpus_within;
	long long n;
	const struct js_member members[] = {
	    {"name", &name},
	    {"argv", &argv},
	    {"env", &env},
	    {"env_secret", &secret},
	    {"cwd", &cwd},
	    {"user", &user},
	    {"group", &group},
	    {"cpus", &cpus},
	    {"exclusive_cpus", &exclusive},
	    {"sched", &sched},
	    {"limits", &limits},
	    {"restart", &restart},
	    {"stop", &stop},
	    {"after", &after},
	    {"start", &start},
	    {"ready", &ready},
	    {"watchdog_ms", &watchdog},
	    {"health", &health},
	    {"schedule", &schedule},
	    {"on_drift", &on_drift},
	    {"logs", &logs},
	    {"runs_keep", &runs_keep},
	    {"labels", &labels},
	    {"cpus_within", &cpus_within},
	};

	jobspec_init(spec);
	serr_clear(err);
	if (root == NULL || !json_is_object(root)) {
		js_fail(err, "", "the job spec must be a JSON object");
		goto fail;
	}
	if (js_members(root, "", members, JS_NITEMS(members), err) == -1)
		goto fail;

	if (js_decode_name(name, spec, err) == -1 ||
	    js_decode_argv(argv, spec, err) == -1 ||
	    js_decode_env(env, spec, err) == -1 ||
	    js_decode_secret(secret, spec, err) == -1 ||
	    js_decode_cwd(cwd, spec, err) == -1 ||
	    js_decode_ident(user, "user", &spec->user, err) == -1 ||
	    js_decode_ident(group, "group", &spec->group, err) == -1 ||
	    js_decode_cpus(cpus, spec, err) == -1 ||
	    js_decode_exclusive(exclusive, spec, err) == -1 ||
	    js_decode_sched(sched, &spec->sched, err) == -1 ||
	    js_decode_limits(limits, &spec->limits, err) == -1 ||
	    js_decode_restart(restart, &spec->restart, err) == -1 ||
	    js_decode_stop(stop, &spec->stop, err) == -1 ||
	    js_decode_after(after, spec, err) == -1 ||
	    js_decode_logs(logs, &spec->logs, err) == -1)
		goto fail;
	if (!js_absent(runs_keep)) {
		if (js_integer(runs_keep, "runs_keep", 1, JOBSPEC_RUNS_KEEP_MAX,
			&n, err) == -1)
			goto fail;
		spec->runs_keep = (int)n;
	}
	if (!js_absent(start) &&
	    js_boolean(start, "start", &spec->start, err) == -1)
		goto fail;
	if (js_decode_on_drift(on_drift, spec, err) == -1)
		goto fail;
	if (js_decode_labels(labels, spec, err) == -1 ||
	    js_decode_cpus_within(cpus_within, spec, err) == -1)
		goto fail;

	if (js_decode_ready(ready, &spec->ready, err) == -1 ||
	    js_ms(watchdog, "watchdog_ms", 0, &spec->watchdog_ms, err) == -1 ||
	    js_decode_health(health, &spec->health, err) == -1 ||
	    js_decode_schedule(schedule, &spec->schedule, err) == -1)
		goto fail;
	if (spec->watchdog_ms != 0 && !spec->ready.notify) {
		js_fail(err, "watchdog_ms",
		    "needs ready.notify: the job sends WATCHDOG=1 by sd_notify");
		goto fail;
	}
	if (spec->cpus != NULL && spec->exclusive_cpus > 0) {
		js_fail(err, "exclusive_cpus",
		    "cpus and exclusive_cpus are mutually exclusive");
		goto fail;
	}
	return (0);

fail:
	jobspec_free(spec);
	return (-1);
}

int
jobspec_from_text(
    const char *text, size_t len, struct job_spec *spec, struct serr *err)
{
	json_error_t jerr;
	json_t *root;
	char *p;
	int rc;

	jobspec_init(spec);
	root = json_loadb(
	    text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (root == NULL) {
		/* jansson quotes the input near the error: keep it ASCII. */
		for (p = jerr.text; *p != '\0'; p++) {
			if (*p < 0x20 || *p > 0x7e)
				*p = '?';
		}
		return (
		    js_fail(err, "", "malformed JSON: %s at line %d column %d",
			jerr.text, jerr.line, jerr.column));
	}
	rc = jobspec_from_json(root, spec, err);
	json_decref(root);
	return (rc);
}

/* Steals v (even on failure, as json_object_set_new does); -1 on error. */
static int
js_set(json_t *obj, const char *key, json_t *v)
{
	return (json_object_set_new(obj, key, v));
}

static json_t *
js_string_or_null(const char *s)
{
	return (s != NULL ? json_string(s) : json_null());
}

static json_t *
js_sched_to_json(const struct job_sched *sc)
{
	const char *pname;
	json_t *o;

	if (!sc->set)
		return (json_null());
	if ((pname = jobspec_policy_name(sc->policy)) == NULL)
		return (NULL);
	if ((o = json_object()) == NULL)
		return (NULL);
	if (js_set(o, "policy", json_string(pname)) == -1)
		goto fail;
	switch (sc->policy) {
	case POLICY_FIFO:
	case POLICY_RR:
		if (js_set(o, "priority", json_integer(sc->priority)) == -1)
			goto fail;
		break;
	case POLICY_OTHER:
	case POLICY_BATCH:
		if (js_set(o, "nice",
			sc->has_nice ? json_integer(sc->nice) : json_null()) ==
		    -1)
			goto fail;
		break;
	case POLICY_DEADLINE:
		if (js_set(o, "runtime_us",
			json_integer((json_int_t)sc->runtime_us)) == -1 ||
		    js_set(o, "deadline_us",
			json_integer((json_int_t)sc->deadline_us)) == -1 ||
		    js_set(o, "period_us",
			json_integer((json_int_t)sc->period_us)) == -1)
			goto fail;
		break;
	case POLICY_IDLE:
		break;
	}
	if (js_set(o, "reset_on_fork", json_boolean(sc->reset_on_fork)) == -1)
		goto fail;
	return (o);
fail:
	json_decref(o);
	return (NULL);
}

static json_t *
js_int_or_null(long long v)
{
	return (v != 0 ? json_integer(v) : json_null());
}

static json_t *
js_limits_to_json(const struct job_limits *lim)
{
	json_t *o;

	if (!lim->set)
		return (json_null());
	if ((o = json_object()) == NULL)
		return (NULL);
	if (js_set(o, "memory_max",
		js_int_or_null((long long)lim->memory_max)) == -1 ||
	    js_set(o, "pids_max", js_int_or_null(lim->pids_max)) == -1 ||
	    js_set(o, "cpu_quota_pct", js_int_or_null(lim->cpu_quota_pct)) ==
		-1 ||
	    js_set(o, "cpu_weight", js_int_or_null(lim->cpu_weight)) == -1) {
		json_decref(o);
		return (NULL);
	}
	return (o);
}

static json_t *
js_restart_to_json(const struct job_restart *rs)
{
	const char *pname;
	json_t *o;

	if ((pname = jobspec_restart_name(rs->policy)) == NULL)
		return (NULL);
	if ((o = json_object()) == NULL)
		return (NULL);
	if (js_set(o, "policy", json_string(pname)) == -1 ||
	    js_set(o, "max_retries",
		rs->max_retries >= 0 ? json_integer(rs->max_retries)
				     : json_null()) == -1 ||
	    js_set(o, "backoff_ms", json_integer(rs->backoff_ms)) == -1 ||
	    js_set(o, "backoff_max_ms", json_integer(rs->backoff_max_ms)) ==
		-1 ||
	    js_set(o, "reset_after_ms", json_integer(rs->reset_after_ms)) ==
		-1 ||
	    js_set(o, "on_unhealthy", json_boolean(rs->on_unhealthy)) == -1) {
		json_decref(o);
		return (NULL);
	}
	return (o);
}

static json_t *
js_stop_to_json(const struct job_stop *st)
{
	const char *sname;
	json_t *o;

	if ((sname = util_signal_name(st->signal)) == NULL)
		return (NULL);
	if ((o = json_object()) == NULL)
		return (NULL);
	if (js_set(o, "signal", json_string(sname)) == -1 ||
	    js_set(o, "timeout_ms", json_integer(st->timeout_ms)) == -1 ||
	    /* Only when given: the specs of before it keep their shape. */
	    (st->unwaited_ms != 0 &&
		js_set(o, "unwaited_ms", json_integer(st->unwaited_ms)) ==
		    -1)) {
		json_decref(o);
		return (NULL);
	}
	return (o);
}

static json_t *
js_health_to_json(const struct job_health *hc)
{
	json_t *o, *exec;
	size_t i;

	if (hc == NULL)
		return (json_null());
	exec = json_null();
	if (hc->exec != NULL) {
		exec = json_array();
		for (i = 0; i < hc->nexec; i++)
			json_array_append_new(exec, json_string(hc->exec[i]));
	}
	o = json_pack("{s:o, s:o, s:o, s:i, s:i, s:i}", "exec", exec, "http",
	    hc->http != NULL ? json_string(hc->http) : json_null(),
	    "unix_socket",
	    hc->unix_socket != NULL ? json_string(hc->unix_socket)
				    : json_null(),
	    "interval_ms", (int)hc->interval_ms, "timeout_ms",
	    (int)hc->timeout_ms, "retries", hc->retries);
	return (o);
}

static json_t *
js_schedule_to_json(const struct job_schedule *sc)
{
	if (sc == NULL)
		return (json_null());
	return (json_pack("{s:o, s:o, s:o, s:b}", "cron",
	    sc->cron != NULL ? json_string(sc->cron) : json_null(), "calendar",
	    sc->calendar != NULL ? json_string(sc->calendar) : json_null(),
	    "every_ms",
	    sc->every_ms != 0 ? json_integer(sc->every_ms) : json_null(),
	    "catch_up", sc->catch_up));
}

static json_t *
js_ready_to_json(const struct job_ready *rd)
{
	if (!rd->set)
		return (json_null());
	return (json_pack("{s:b, s:o, s:i}", "notify", rd->notify, "fd",
	    rd->fd != 0 ? json_integer(rd->fd) : json_null(), "timeout_ms",
	    (int)rd->timeout_ms));
}

static json_t *
js_strings_to_json(char *const *v, size_t n)
{
	json_t *a;
	size_t i;

	if ((a = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		if (json_array_append_new(a, json_string(v[i])) == -1) {
			json_decref(a);
			return (NULL);
		}
	}
	return (a);
}

static json_t *
js_env_to_json(const struct job_spec *spec)
{
	json_t *o;
	size_t i;

	if ((o = json_object()) == NULL)
		return (NULL);
	for (i = 0; i < spec->nenv; i++) {
		if (js_set(o, spec->env_keys[i],
			json_string(spec->env_values[i])) == -1) {
			json_decref(o);
			return (NULL);
		}
	}
	return (o);
}

static json_t *
js_logs_to_json(const struct job_logs *lg)
{
	if (lg->max_bytes == 0 && lg->keep == 0 &&
	    lg->journal == JOBSPEC_JOURNAL_DEFAULT && !lg->direct)
		return (json_null());
	return (json_pack("{s:o, s:o, s:o, s:b}", "max_bytes",
	    lg->max_bytes > 0 ? json_integer((json_int_t)lg->max_bytes)
			      : json_null(),
	    "keep", js_int_or_null(lg->keep), "journal",
	    lg->journal == JOBSPEC_JOURNAL_DEFAULT
		? json_null()
		: json_boolean(lg->journal == JOBSPEC_JOURNAL_YES),
	    "direct", lg->direct));
}

json_t *
jobspec_to_json(const struct job_spec *spec)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (js_set(o, "name", js_string_or_null(spec->name)) == -1 ||
	    js_set(o, "argv", js_strings_to_json(spec->argv, spec->argc)) ==
		-1 ||
	    js_set(o, "env", js_env_to_json(spec)) == -1 ||
	    js_set(o, "env_secret",
		js_strings_to_json(spec->env_secret, spec->nsecret)) == -1 ||
	    js_set(o, "cwd", js_string_or_null(spec->cwd)) == -1 ||
	    js_set(o, "user", js_string_or_null(spec->user)) == -1 ||
	    js_set(o, "group", js_string_or_null(spec->group)) == -1 ||
	    js_set(o, "cpus", js_string_or_null(spec->cpus)) == -1 ||
	    js_set(o, "exclusive_cpus", js_int_or_null(spec->exclusive_cpus)) ==
		-1 ||
	    js_set(o, "sched", js_sched_to_json(&spec->sched)) == -1 ||
	    js_set(o, "limits", js_limits_to_json(&spec->limits)) == -1 ||
	    js_set(o, "restart", js_restart_to_json(&spec->restart)) == -1 ||
	    js_set(o, "stop", js_stop_to_json(&spec->stop)) == -1 ||
	    js_set(o, "after", js_strings_to_json(spec->after, spec->nafter)) ==
		-1 ||
	    js_set(o, "start", json_boolean(spec->start)) == -1 ||
	    js_set(o, "ready", js_ready_to_json(&spec->ready)) == -1 ||
	    js_set(o, "watchdog_ms", js_int_or_null(spec->watchdog_ms)) == -1 ||
	    js_set(o, "health", js_health_to_json(spec->health)) == -1 ||
	    js_set(o, "schedule", js_schedule_to_json(spec->schedule)) == -1 ||
	    /* Only when given: the specs of before it keep their shape. */
	    (spec->on_drift != DRIFT_UNSET &&
		js_set(o, "on_drift",
		    json_string(spec->on_drift == DRIFT_RESTORE ? "restore"
								: "report")) ==
		    -1) ||
	    js_set(o, "logs", js_logs_to_json(&spec->logs)) == -1 ||
	    js_set(o, "runs_keep", js_int_or_null(spec->runs_keep)) == -1 ||
	    /* Only when given, as on_drift. */
	    (spec->labels != NULL &&
		js_set(o, "labels", json_deep_copy(spec->labels)) == -1) ||
	    (spec->cpus_within != NULL &&
		js_set(o, "cpus_within", json_string(spec->cpus_within)) ==
		    -1)) {
		json_decref(o);
		return (NULL);
	}
	return (o);
}

static int
js_copy_string(char **dst, const char *src)
{
	if (src == NULL) {
		*dst = NULL;
		return (0);
	}
	*dst = strdup(src);
	return (*dst == NULL ? -1 : 0);
}

/* Copy n strings into a fresh array of n + extra NULL-filled slots. */
static int
js_copy_strings(char ***dst, char *const *src, size_t n, size_t extra)
{
	size_t i;

	*dst = NULL;
	if (n == 0 && extra == 0)
		return (0);
	if ((*dst = calloc(n + extra, sizeof **dst)) == NULL)
		return (-1);
	for (i = 0; i < n; i++) {
		if (((*dst)[i] = strdup(src[i])) == NULL)
			return (-1);
	}
	return (0);
}

/* Deep copies of the out-of-line parts; *dst is NULL on entry and owned
 * by the destination spec as soon as it is set, so a failure halfway is
 * freed with it. */
static int
js_copy_health(struct job_health **dst, const struct job_health *src)
{
	struct job_health *hc;

	if (src == NULL)
		return (0);
	if ((hc = *dst = malloc(sizeof *hc)) == NULL)
		return (-1);
	*hc = *src;
	hc->exec = NULL;
	hc->http = hc->unix_socket = NULL;
	if (js_copy_strings(&hc->exec, src->exec, src->nexec,
		src->exec != NULL ? 1 : 0) == -1 ||
	    js_copy_string(&hc->http, src->http) == -1 ||
	    js_copy_string(&hc->unix_socket, src->unix_socket) == -1)
		return (-1);
	return (0);
}

static int
js_copy_schedule(struct job_schedule **dst, const struct job_schedule *src)
{
	struct job_schedule *sc;

	if (src == NULL)
		return (0);
	if ((sc = *dst = malloc(sizeof *sc)) == NULL)
		return (-1);
	*sc = *src;
	sc->cron = sc->calendar = NULL;
	if (js_copy_string(&sc->cron, src->cron) == -1 ||
	    js_copy_string(&sc->calendar, src->calendar) == -1)
		return (-1);
	return (0);
}

int
jobspec_copy(struct job_spec *dst, const struct job_spec *src)
{
	*dst = *src;
	/* Nothing in dst is owned yet: on failure free only what we copy. */
	dst->name = dst->cwd = dst->user = dst->group = dst->cpus = NULL;
	dst->argv = dst->env_keys = dst->env_values = dst->after = NULL;
	dst->env_secret = NULL;
	dst->health = NULL;
	dst->schedule = NULL;
	dst->labels = NULL;
	dst->cpus_within = NULL;
	if (js_copy_string(&dst->name, src->name) == -1 ||
	    js_copy_string(&dst->cpus_within, src->cpus_within) == -1 ||
	    (src->labels != NULL &&
		(dst->labels = json_deep_copy(src->labels)) == NULL) ||
	    js_copy_string(&dst->cwd, src->cwd) == -1 ||
	    js_copy_string(&dst->user, src->user) == -1 ||
	    js_copy_string(&dst->group, src->group) == -1 ||
	    js_copy_string(&dst->cpus, src->cpus) == -1 ||
	    js_copy_strings(&dst->argv, src->argv, src->argc, 1) == -1 ||
	    js_copy_strings(&dst->env_keys, src->env_keys, src->nenv, 0) ==
		-1 ||
	    js_copy_strings(&dst->env_values, src->env_values, src->nenv, 0) ==
		-1 ||
	    js_copy_strings(
		&dst->env_secret, src->env_secret, src->nsecret, 0) == -1 ||
	    js_copy_strings(&dst->after, src->after, src->nafter, 0) == -1 ||
	    js_copy_health(&dst->health, src->health) == -1 ||
	    js_copy_schedule(&dst->schedule, src->schedule) == -1) {
		jobspec_free(dst);
		return (-1);
	}
	return (0);
}

static void
js_free_strings(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
jobspec_free(struct job_spec *spec)
{
	if (spec == NULL)
		return;
	free(spec->name);
	js_free_strings(spec->argv, spec->argc);
	js_free_strings(spec->env_keys, spec->nenv);
	js_free_strings(spec->env_values, spec->nenv);
	js_free_strings(spec->env_secret, spec->nsecret);
	free(spec->cwd);
	free(spec->user);
	free(spec->group);
	free(spec->cpus);
	js_free_strings(spec->after, spec->nafter);
	if (spec->health != NULL) {
		js_free_strings(spec->health->exec, spec->health->nexec);
		free(spec->health->http);
		free(spec->health->unix_socket);
		free(spec->health);
	}
	if (spec->schedule != NULL) {
		free(spec->schedule->cron);
		free(spec->schedule->calendar);
		free(spec->schedule);
	}
	json_decref(spec->labels);
	free(spec->cpus_within);
	jobspec_init(spec);
}

int
jobspec_name_valid(const char *name)
{
	const char *p;
	int digits = 1;
	char c;

	if (name == NULL)
		return (0);
	for (p = name; *p != '\0'; p++) {
		if (p - name >= JOBSPEC_NAME_MAX)
			return (0);
		c = *p;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
			digits = 0;
		else if (c >= '0' && c <= '9')
			;
		else if (p != name && (c == '.' || c == '_' || c == '-'))
			digits = 0;
		else
			return (0);
	}
	return (p != name && !digits);
}

const char *
jobspec_policy_name(enum jobspec_policy policy)
{
	if ((unsigned int)policy >= JS_NITEMS(js_policy_names))
		return (NULL);
	return (js_policy_names[policy]);
}

const char *
jobspec_restart_name(enum jobspec_restart policy)
{
	if ((unsigned int)policy >= JS_NITEMS(js_restart_names))
		return (NULL);
	return (js_restart_names[policy]);
}
