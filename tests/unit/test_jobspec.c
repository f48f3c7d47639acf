/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for proto/jobspec.c. Most cases are data: every file in
 * $TESTDATA/jobspec/valid/ must decode, encode to exactly the matching
 * canonical/ file and survive a round trip; every file in invalid/ must fail
 * with the code and the exact field it names (*.json wrap a body as
 * {"field", "code", "message"?, "body"}; *.txt hold raw malformed text after
 * a "# field: " line). Each data file becomes its own cmocka test. Cases too
 * big for a file (4097 argv elements) and hand-built JSON the parser could
 * never produce are written in C below.
 */

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "proto/errors.h"
#include "proto/jobspec.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

/* One data-driven case: the file it reads. */
struct data_case {
	char *path;      /* valid/x.json or invalid/x.{json,txt} */
	char *canonical; /* canonical/x.json for valid cases */
};

static const char *
testdata(void)
{
	const char *dir = getenv("TESTDATA");

	return (dir != NULL && *dir != '\0' ? dir : "tests/unit/data");
}

/* Whole file into a NUL-terminated buffer; caller frees. */
static char *
slurp(const char *path, size_t *lenp)
{
	char *buf = NULL, *nbuf;
	size_t len = 0, cap = 0, n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	for (;;) {
		if (cap - len < 4096) {
			cap = cap == 0 ? 8192 : cap * 2;
			if ((nbuf = realloc(buf, cap + 1)) == NULL)
				fail_msg("out of memory");
			buf = nbuf;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	assert_int_equal(ferror(f), 0);
	fclose(f);
	buf[len] = '\0';
	*lenp = len;
	return (buf);
}

static json_t *
load_json(const char *path)
{
	json_error_t jerr;
	json_t *root;

	root = json_load_file(
	    path, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (root == NULL)
		fail_msg("%s: %s at line %d", path, jerr.text, jerr.line);
	return (root);
}

static void
fail_json(const char *what, const json_t *got, const json_t *want)
{
	char *g = json_dumps(got, JSON_SORT_KEYS | JSON_ENCODE_ANY);
	char *w = json_dumps(want, JSON_SORT_KEYS | JSON_ENCODE_ANY);

	print_error("%s\n got: %s\nwant: %s\n", what, g != NULL ? g : "?",
	    w != NULL ? w : "?");
	free(g);
	free(w);
	fail();
}

/* A spec that was freed or never filled: everything at its default. */
static void
assert_spec_pristine(const struct job_spec *spec)
{
	struct job_spec fresh;

	jobspec_init(&fresh);
	assert_memory_equal(spec, &fresh, sizeof fresh);
}

/*
 * The copy says what the original said, with the original freed first:
 * it shares nothing with it. Both are freed.
 */
static void
assert_copy_outlives(struct job_spec *spec, struct job_spec *copy)
{
	json_t *a, *b;

	a = jobspec_to_json(spec);
	jobspec_free(spec);
	assert_spec_pristine(spec);
	b = jobspec_to_json(copy);
	assert_true(json_equal(a, b));
	jobspec_free(copy);
	json_decref(a);
	json_decref(b);
}

/* Decode, check against canonical/, round-trip, copy: all must agree. */
static void
jobspec_valid_case(void **state)
{
	const struct data_case *dc = *state;
	struct job_spec spec, again, copy;
	json_t *body, *out, *out2, *out3, *want;
	struct serr err;
	size_t len;
	char *text;

	body = load_json(dc->path);
	if (jobspec_from_json(body, &spec, &err) != 0)
		fail_msg(
		    "%s: field \"%s\": %s", dc->path, err.field, err.message);
	assert_int_equal(err.code, SERR_OK);

	if ((out = jobspec_to_json(&spec)) == NULL)
		fail_msg("jobspec_to_json failed");
	want = load_json(dc->canonical);
	if (!json_equal(out, want))
		fail_json(dc->path, out, want);

	/* The encoding decodes to the same spec, which encodes the same. */
	if (jobspec_from_json(out, &again, &err) != 0)
		fail_msg("%s: round trip: field \"%s\": %s", dc->path,
		    err.field, err.message);
	if ((out2 = jobspec_to_json(&again)) == NULL)
		fail_msg("jobspec_to_json failed");
	if (!json_equal(out, out2))
		fail_json("round trip", out2, out);

	/* The text path agrees with the tree path. */
	jobspec_free(&again);
	text = slurp(dc->path, &len);
	if (jobspec_from_text(text, len, &again, &err) != 0)
		fail_msg("%s: from_text: field \"%s\": %s", dc->path, err.field,
		    err.message);
	json_decref(out2);
	out2 = jobspec_to_json(&again);
	assert_non_null(out2);
	if (!json_equal(out, out2))
		fail_json("from_text", out2, out);

	/* A deep copy encodes the same and outlives the original. */
	assert_int_equal(jobspec_copy(&copy, &spec), 0);
	jobspec_free(&spec);
	assert_spec_pristine(&spec);
	out3 = jobspec_to_json(&copy);
	assert_non_null(out3);
	if (!json_equal(out, out3))
		fail_json("copy", out3, out);

	jobspec_free(&copy);
	jobspec_free(&again);
	free(text);
	json_decref(body);
	json_decref(out);
	json_decref(out2);
	json_decref(out3);
	json_decref(want);
}

static void
check_rejected(const char *what, int rc, const struct job_spec *spec,
    const struct serr *err, enum serr_code code, const char *field,
    const char *message)
{
	if (rc != -1)
		fail_msg("%s: accepted, want field \"%s\"", what, field);
	if (err->code != code)
		fail_msg("%s: code %s, want %s (%s)", what,
		    serr_code_name(err->code), serr_code_name(code),
		    err->message);
	if (strcmp(err->field, field) != 0)
		fail_msg("%s: field \"%s\", want \"%s\" (%s)", what, err->field,
		    field, err->message);
	assert_true(err->message[0] != '\0');
	if (message != NULL && strcmp(err->message, message) != 0)
		fail_msg("%s: message \"%s\", want \"%s\"", what, err->message,
		    message);
	assert_spec_pristine(spec);
}

/* A wrapped invalid body: the named field is blamed, from tree and text. */
static void
jobspec_invalid_json_case(void **state)
{
	const struct data_case *dc = *state;
	const char *field, *code, *message = NULL;
	json_t *wrapper, *body;
	struct job_spec spec;
	struct serr err;
	char *text;
	int rc;

	wrapper = load_json(dc->path);
	if (json_unpack(wrapper, "{s:s, s:s, s?s, s:o}", "field", &field,
		"code", &code, "message", &message, "body", &body) != 0)
		fail_msg("%s: not {field, code, message?, body}", dc->path);

	rc = jobspec_from_json(body, &spec, &err);
	check_rejected(dc->path, rc, &spec, &err, serr_code_from_name(code),
	    field, message);

	text = json_dumps(body, JSON_ENCODE_ANY);
	assert_non_null(text);
	rc = jobspec_from_text(text, strlen(text), &spec, &err);
	check_rejected(dc->path, rc, &spec, &err, serr_code_from_name(code),
	    field, message);
	free(text);
	json_decref(wrapper);
}

/* Raw text that is not a JSON object: "malformed JSON: ..." with no field. */
static void
jobspec_invalid_text_case(void **state)
{
	static const char tag[] = "# field: ";
	const struct data_case *dc = *state;
	char field[SERR_FIELD_MAX];
	struct job_spec spec;
	struct serr err;
	char *text, *body, *nl;
	size_t len, flen;
	int rc;

	text = slurp(dc->path, &len);
	nl = strchr(text, '\n');
	if (strncmp(text, tag, sizeof tag - 1) != 0 || nl == NULL)
		fail_msg("%s: first line must be \"%s<field>\"", dc->path, tag);
	else {
		flen = (size_t)(nl - text) - (sizeof tag - 1);
		assert_true(flen < sizeof field);
		memcpy(field, text + sizeof tag - 1, flen);
		field[flen] = '\0';
	}
	body = nl + 1;

	rc = jobspec_from_text(body, len - (size_t)(body - text), &spec, &err);
	check_rejected(dc->path, rc, &spec, &err, SERR_INVALID, field, NULL);
	if (field[0] == '\0' &&
	    strncmp(err.message, "malformed JSON: ", 16) != 0)
		fail_msg("%s: message \"%s\"", dc->path, err.message);
	free(text);
}

/* A body from C: {"argv": [...n strings...]} plus extra members. */
static json_t *
body_with_argv(size_t n)
{
	json_t *body, *argv;
	size_t i;

	body = json_object();
	argv = json_array();
	assert_non_null(body);
	assert_non_null(argv);
	for (i = 0; i < n; i++)
		assert_int_equal(json_array_append_new(argv,
				     json_string(i == 0 ? "/bin/echo" : "a")),
		    0);
	assert_int_equal(json_object_set_new(body, "argv", argv), 0);
	return (body);
}

static void
expect_field(json_t *body, const char *field)
{
	struct job_spec spec;
	struct serr err;
	int rc;

	rc = jobspec_from_json(body, &spec, &err);
	check_rejected(field, rc, &spec, &err, SERR_INVALID, field, NULL);
	json_decref(body);
}

static void
expect_ok(json_t *body)
{
	struct job_spec spec;
	struct serr err;

	if (jobspec_from_json(body, &spec, &err) != 0)
		fail_msg("rejected: field \"%s\": %s", err.field, err.message);
	jobspec_free(&spec);
	json_decref(body);
}

static void
jobspec_from_json__argv_4096__accepted(void **state)
{
	struct job_spec spec;
	struct serr err;
	json_t *body;

	(void)state;
	body = body_with_argv(JOBSPEC_ARGV_MAX);
	assert_int_equal(jobspec_from_json(body, &spec, &err), 0);
	assert_int_equal(spec.argc, JOBSPEC_ARGV_MAX);
	assert_string_equal(spec.argv[0], "/bin/echo");
	assert_string_equal(spec.argv[JOBSPEC_ARGV_MAX - 1], "a");
	assert_null(spec.argv[JOBSPEC_ARGV_MAX]);
	jobspec_free(&spec);
	json_decref(body);
}

static void
jobspec_from_json__argv_4097__rejected(void **state)
{
	(void)state;
	expect_field(body_with_argv(JOBSPEC_ARGV_MAX + 1), "argv");
}

static void
jobspec_from_json__string_at_limit__accepted_one_more_rejected(void **state)
{
	json_t *body;
	char *big;

	(void)state;
	big = malloc(JOBSPEC_STRING_MAX + 2);
	assert_non_null(big);
	memset(big, 'x', JOBSPEC_STRING_MAX + 1);
	big[JOBSPEC_STRING_MAX] = '\0';

	body = body_with_argv(2);
	json_array_set_new(json_object_get(body, "argv"), 1, json_string(big));
	expect_ok(body);

	big[JOBSPEC_STRING_MAX] = 'x';
	big[JOBSPEC_STRING_MAX + 1] = '\0';
	body = body_with_argv(2);
	json_array_set_new(json_object_get(body, "argv"), 1, json_string(big));
	expect_field(body, "argv[1]");

	body = body_with_argv(1);
	json_object_set_new(body, "env", json_pack("{s:s}", "BIG", big));
	expect_field(body, "env.BIG");
	free(big);
}

static void
jobspec_from_json__env_4096__accepted_4097_rejected(void **state)
{
	char key[32];
	json_t *body, *env;
	int i;

	(void)state;
	body = body_with_argv(1);
	env = json_object();
	for (i = 0; i < JOBSPEC_ENV_MAX; i++) {
		(void)snprintf(key, sizeof key, "K%d", i);
		json_object_set_new(env, key, json_string("v"));
	}
	json_object_set(body, "env", env);
	expect_ok(json_deep_copy(body));
	json_object_set_new(env, "ONE_MORE", json_string("v"));
	json_decref(env);
	expect_field(body, "env");
}

static void
jobspec_from_json__after_256__accepted_257_rejected(void **state)
{
	char name[32];
	json_t *body, *after;
	int i;

	(void)state;
	body = body_with_argv(1);
	after = json_array();
	for (i = 0; i < JOBSPEC_AFTER_MAX; i++) {
		(void)snprintf(name, sizeof name, "job-%d", i);
		json_array_append_new(after, json_string(name));
	}
	json_object_set(body, "after", after);
	expect_ok(json_deep_copy(body));
	json_array_append_new(after, json_string("one-more"));
	json_decref(after);
	expect_field(body, "after");
}

static void
jobspec_from_json__env_key_256__accepted_257_rejected(void **state)
{
	char key[JOBSPEC_USER_MAX + 2];
	char field[SERR_FIELD_MAX];
	json_t *body;

	(void)state;
	memset(key, 'K', 256);
	key[256] = '\0';
	body = body_with_argv(1);
	json_object_set_new(body, "env", json_pack("{s:s}", key, "v"));
	expect_ok(body);

	/* The field path is "env.KKK...", truncated to fit struct serr. */
	key[256] = 'K';
	key[257] = '\0';
	memcpy(field, "env.", 4);
	memset(field + 4, 'K', sizeof field - 5);
	field[sizeof field - 1] = '\0';
	body = body_with_argv(1);
	json_object_set_new(body, "env", json_pack("{s:s}", key, "v"));
	expect_field(body, field);
}

/* jansson's parser refuses NUL in keys, but a hand-built tree may not. */
static void
jobspec_from_json__key_with_nul__rejected_not_matched(void **state)
{
	json_t *body, *env;

	(void)state;
	body = body_with_argv(1);
	json_object_setn_new(body, "start\0x", 7, json_false());
	expect_field(body, "start");

	body = body_with_argv(1);
	env = json_object();
	json_object_setn_new(env, "A\0B", 3, json_string("v"));
	json_object_set_new(body, "env", env);
	expect_field(body, "env.A");
}

/* A truncated field path must not end inside a UTF-8 character. */
static void
jobspec_from_json__long_unicode_key__field_valid_utf8(void **state)
{
	char key[3 * 100 + 1];
	struct job_spec spec;
	struct serr err;
	json_t *body, *f, *m;
	const char *prefixes[] = {"", "sched", "env"};
	size_t i, k;

	(void)state;
	for (k = 0; k < 100; k++)
		memcpy(key + 3 * k, "\xe2\x98\x83", 3); /* snowman */
	key[300] = '\0';
	for (i = 0; i < NITEMS(prefixes); i++) {
		body = body_with_argv(1);
		if (i == 0)
			json_object_set_new(body, key, json_true());
		else if (i == 1)
			json_object_set_new(body, "sched",
			    json_pack("{s:s, s:b}", "policy", "idle", key, 1));
		else
			json_object_set_new(
			    body, "env", json_pack("{s:s}", key, "v"));
		assert_int_equal(jobspec_from_json(body, &spec, &err), -1);
		assert_true(strlen(err.field) > 100);
		f = json_string(err.field);
		m = json_string(err.message);
		if (f == NULL || m == NULL)
			fail_msg("not UTF-8: field \"%s\" message \"%s\"",
			    err.field, err.message);
		json_decref(f);
		json_decref(m);
		json_decref(body);
	}
}

static void
jobspec_from_json__null_or_non_object_root__rejected(void **state)
{
	struct job_spec spec;
	struct serr err;

	(void)state;
	check_rejected("NULL root", jobspec_from_json(NULL, &spec, &err), &spec,
	    &err, SERR_INVALID, "", NULL);
	check_rejected("null root", jobspec_from_json(json_null(), &spec, &err),
	    &spec, &err, SERR_INVALID, "", NULL);
}

static void
jobspec_from_json__minimal__documented_defaults(void **state)
{
	struct job_spec spec;
	struct serr err;
	json_t *body;

	(void)state;
	body = json_pack("{s:[s]}", "argv", "/bin/true");
	assert_int_equal(jobspec_from_json(body, &spec, &err), 0);
	assert_null(spec.name);
	assert_int_equal(spec.argc, 1);
	assert_string_equal(spec.argv[0], "/bin/true");
	assert_null(spec.argv[1]);
	assert_int_equal(spec.nenv, 0);
	assert_null(spec.cwd);
	assert_null(spec.user);
	assert_null(spec.group);
	assert_null(spec.cpus);
	assert_int_equal(spec.exclusive_cpus, 0);
	assert_int_equal(spec.sched.set, 0);
	assert_int_equal(spec.limits.set, 0);
	assert_int_equal(spec.restart.set, 0);
	assert_int_equal(spec.restart.policy, RESTART_NO);
	assert_int_equal(spec.restart.max_retries, -1);
	assert_int_equal(spec.restart.backoff_ms, 100);
	assert_int_equal(spec.restart.backoff_max_ms, 30000);
	assert_int_equal(spec.restart.reset_after_ms, 10000);
	assert_int_equal(spec.stop.signal, SIGTERM);
	assert_int_equal(spec.stop.timeout_ms, 10000);
	assert_int_equal(spec.nafter, 0);
	assert_int_equal(spec.start, 1);
	jobspec_free(&spec);
	json_decref(body);
}

static void
jobspec_from_json__every_field__stored(void **state)
{
	struct job_spec spec;
	struct serr err;
	json_t *body;

	(void)state;
	body = json_pack("{s:s, s:[sss], s:{s:s, s:s}, s:s, s:s, s:s, s:s,"
			 " s:{s:s, s:i, s:b}, s:{s:s, s:i, s:i, s:i},"
			 " s:{s:s, s:i, s:i, s:i, s:i}, s:{s:i, s:i},"
			 " s:[ss], s:b}",
	    "name", "sensor-loop", "argv", "/usr/bin/sensor", "--hz", "1000",
	    "env", "ZED", "z", "LANG", "C.UTF-8", "cwd", "/srv", "user",
	    "nobody", "group", "nogroup", "cpus", "3,2", "sched", "policy",
	    "rr", "priority", 50, "reset_on_fork", 1, "limits", "memory_max",
	    "512M", "pids_max", 64, "cpu_quota_pct", 50, "cpu_weight", 100,
	    "restart", "policy", "always", "max_retries", 5, "backoff_ms", 200,
	    "backoff_max_ms", 60000, "reset_after_ms", 0, "stop", "signal", 10,
	    "timeout_ms", 0, "after", "db", "cache", "start", 0);
	assert_non_null(body);
	if (jobspec_from_json(body, &spec, &err) != 0)
		fail_msg("%s: %s", err.field, err.message);
	assert_string_equal(spec.name, "sensor-loop");
	assert_int_equal(spec.argc, 3);
	assert_string_equal(spec.argv[2], "1000");
	assert_int_equal(spec.nenv, 2);
	assert_string_equal(spec.env_keys[0], "LANG"); /* sorted */
	assert_string_equal(spec.env_values[0], "C.UTF-8");
	assert_string_equal(spec.env_keys[1], "ZED");
	assert_string_equal(spec.env_values[1], "z");
	assert_string_equal(spec.cwd, "/srv");
	assert_string_equal(spec.user, "nobody");
	assert_string_equal(spec.group, "nogroup");
	assert_string_equal(spec.cpus, "2-3");
	assert_int_equal(spec.sched.set, 1);
	assert_int_equal(spec.sched.policy, POLICY_RR);
	assert_int_equal(spec.sched.priority, 50);
	assert_int_equal(spec.sched.has_nice, 0);
	assert_int_equal(spec.sched.reset_on_fork, 1);
	assert_int_equal(spec.limits.set, 1);
	assert_int_equal(spec.limits.memory_max, 512ULL << 20);
	assert_int_equal(spec.limits.pids_max, 64);
	assert_int_equal(spec.limits.cpu_quota_pct, 50);
	assert_int_equal(spec.limits.cpu_weight, 100);
	assert_int_equal(spec.restart.set, 1);
	assert_int_equal(spec.restart.policy, RESTART_ALWAYS);
	assert_int_equal(spec.restart.max_retries, 5);
	assert_int_equal(spec.restart.backoff_ms, 200);
	assert_int_equal(spec.restart.backoff_max_ms, 60000);
	assert_int_equal(spec.restart.reset_after_ms, 0);
	assert_int_equal(spec.stop.signal, 10);
	assert_int_equal(spec.stop.timeout_ms, 0);
	assert_int_equal(spec.nafter, 2);
	assert_string_equal(spec.after[0], "db");
	assert_string_equal(spec.after[1], "cache");
	assert_int_equal(spec.start, 0);
	jobspec_free(&spec);
	assert_spec_pristine(&spec);
	json_decref(body);
}

static void
jobspec_from_json__deadline_and_nice__stored(void **state)
{
	struct job_spec spec;
	struct serr err;
	json_t *body;

	(void)state;
	body = json_pack("{s:[s], s:{s:s, s:i, s:i}}", "argv", "x", "sched",
	    "policy", "deadline", "runtime_us", 1000, "period_us", 10000);
	assert_int_equal(jobspec_from_json(body, &spec, &err), 0);
	assert_int_equal(spec.sched.policy, POLICY_DEADLINE);
	assert_int_equal(spec.sched.runtime_us, 1000);
	assert_int_equal(spec.sched.deadline_us, 10000);
	assert_int_equal(spec.sched.period_us, 10000);
	jobspec_free(&spec);
	json_decref(body);

	body = json_pack("{s:[s], s:{s:s, s:i}}", "argv", "x", "sched",
	    "policy", "batch", "nice", -7);
	assert_int_equal(jobspec_from_json(body, &spec, &err), 0);
	assert_int_equal(spec.sched.policy, POLICY_BATCH);
	assert_int_equal(spec.sched.nice, -7);
	assert_int_equal(spec.sched.has_nice, 1);
	assert_int_equal(spec.sched.priority, 0);
	jobspec_free(&spec);
	json_decref(body);
}

static void
jobspec_from_json__error_then_success__err_cleared(void **state)
{
	struct job_spec spec;
	struct serr err;
	json_t *bad, *good;

	(void)state;
	bad = json_pack("{s:[s], s:s}", "argv", "x", "name", ".x");
	good = json_pack("{s:[s]}", "argv", "x");
	assert_int_equal(jobspec_from_json(bad, &spec, &err), -1);
	assert_string_equal(err.field, "name");
	assert_int_equal(jobspec_from_json(good, &spec, &err), 0);
	assert_int_equal(err.code, SERR_OK);
	assert_string_equal(err.field, "");
	jobspec_free(&spec);
	json_decref(bad);
	json_decref(good);
}

static void
jobspec_from_json__late_failure__nothing_leaks(void **state)
{
	struct job_spec spec;
	struct serr err;
	json_t *body;

	(void)state;
	/* Everything allocated before "start" fails must be released. */
	body = json_pack("{s:s, s:[ss], s:{s:s}, s:s, s:s, s:s, s:s, s:[s],"
			 " s:s}",
	    "name", "n", "argv", "a", "b", "env", "K", "V", "cwd", "/", "user",
	    "u", "group", "g", "cpus", "0", "after", "x", "start", "yes");
	check_rejected("late", jobspec_from_json(body, &spec, &err), &spec,
	    &err, SERR_INVALID, "start", NULL);
	json_decref(body);
}

static void
jobspec_from_text__length_bounds_text__rest_ignored(void **state)
{
	static const char text[] = "{\"argv\": [\"/bin/true\"]}GARBAGE";
	struct job_spec spec;
	struct serr err;

	(void)state;
	assert_int_equal(
	    jobspec_from_text(text, sizeof text - 1 - 7, &spec, &err), 0);
	assert_string_equal(spec.argv[0], "/bin/true");
	jobspec_free(&spec);
	assert_int_equal(
	    jobspec_from_text(text, sizeof text - 1, &spec, &err), -1);
	assert_string_equal(err.field, "");
}

static void
jobspec_from_text__malformed__line_and_column(void **state)
{
	static const char text[] = "{\n  \"argv\": [\"/bin/true\",]\n}\n";
	struct job_spec spec;
	struct serr err;

	(void)state;
	assert_int_equal(
	    jobspec_from_text(text, sizeof text - 1, &spec, &err), -1);
	assert_int_equal(err.code, SERR_INVALID);
	assert_string_equal(err.field, "");
	assert_non_null(strstr(err.message, "malformed JSON: "));
	assert_non_null(strstr(err.message, " at line 2 column "));
	assert_spec_pristine(&spec);
}

static void
jobspec_to_json__hand_built__defaults_and_nulls(void **state)
{
	char *argv[] = {(char *)"/bin/true", NULL};
	struct job_spec spec;
	json_t *out, *want;

	(void)state;
	jobspec_init(&spec);
	spec.argv = argv;
	spec.argc = 1;
	out = jobspec_to_json(&spec);
	want = json_pack("{s:n, s:[s], s:{}, s:[], s:n, s:n, s:n, s:n, s:n,"
			 " s:n, s:n, s:{s:s, s:n, s:i, s:i, s:i, s:b},"
			 " s:{s:s, s:i}, s:[], s:b, s:n, s:n, s:n, s:n, s:n, s:n}",
	    "name", "argv", "/bin/true", "env", "env_secret", "cwd", "user",
	    "group", "cpus", "exclusive_cpus", "sched", "limits", "restart",
	    "policy", "no", "max_retries", "backoff_ms", 100, "backoff_max_ms",
	    30000, "reset_after_ms", 10000, "on_unhealthy", 0, "stop",
	    "signal", "SIGTERM", "timeout_ms", 10000, "after", "start", 1,
	    "ready", "watchdog_ms", "health", "schedule", "logs",
	    "runs_keep");
	assert_non_null(out);
	assert_non_null(want);
	if (!json_equal(out, want))
		fail_json("defaults", out, want);
	json_decref(out);
	json_decref(want);
}

static void
jobspec_to_json__limits_partly_set__unset_members_null(void **state)
{
	char *argv[] = {(char *)"x", NULL};
	struct job_spec spec;
	json_t *out, *want;

	(void)state;
	jobspec_init(&spec);
	spec.argv = argv;
	spec.argc = 1;
	spec.limits.set = 1;
	spec.limits.pids_max = 10;
	spec.sched.set = 1;
	spec.sched.policy = POLICY_OTHER;
	spec.stop.signal = SIGKILL;
	out = jobspec_to_json(&spec);
	assert_non_null(out);
	want = json_pack("{s:n, s:i, s:n, s:n}", "memory_max", "pids_max", 10,
	    "cpu_quota_pct", "cpu_weight");
	if (!json_equal(json_object_get(out, "limits"), want))
		fail_json("limits", json_object_get(out, "limits"), want);
	json_decref(want);
	want = json_pack(
	    "{s:s, s:n, s:b}", "policy", "other", "nice", "reset_on_fork", 0);
	if (!json_equal(json_object_get(out, "sched"), want))
		fail_json("sched", json_object_get(out, "sched"), want);
	json_decref(want);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(out, "stop"), "signal")),
	    "SIGKILL");
	json_decref(out);
}

static void
jobspec_to_json__bad_enum__null(void **state)
{
	char *argv[] = {(char *)"x", NULL};
	struct job_spec spec;

	(void)state;
	jobspec_init(&spec);
	spec.argv = argv;
	spec.argc = 1;
	spec.stop.signal = 0;
	assert_null(jobspec_to_json(&spec));
	spec.stop.signal = SIGTERM;
	spec.restart.policy = (enum jobspec_restart)7;
	assert_null(jobspec_to_json(&spec));
}

static void
jobspec_copy__full__deep_and_independent(void **state)
{
	struct job_spec spec, copy;
	struct serr err;
	json_t *body;

	(void)state;
	body = json_pack("{s:s, s:[ss], s:{s:s}, s:s, s:s, s:s, s:s, s:[s]}",
	    "name", "n", "argv", "a", "b", "env", "K", "V", "cwd", "/x", "user",
	    "u", "group", "g", "cpus", "1-2", "after", "dep");
	assert_int_equal(jobspec_from_json(body, &spec, &err), 0);
	assert_int_equal(jobspec_copy(&copy, &spec), 0);
	assert_ptr_not_equal(copy.name, spec.name);
	assert_ptr_not_equal(copy.argv, spec.argv);
	assert_ptr_not_equal(copy.argv[0], spec.argv[0]);
	assert_null(copy.argv[copy.argc]);
	assert_ptr_not_equal(copy.env_keys[0], spec.env_keys[0]);
	assert_ptr_not_equal(copy.env_values[0], spec.env_values[0]);
	assert_ptr_not_equal(copy.after[0], spec.after[0]);
	assert_ptr_not_equal(copy.cpus, spec.cpus);
	assert_copy_outlives(&spec, &copy);
	json_decref(body);
}

/* health and schedule are out of line: NULL when absent, a copy of their
 * own in a copied spec, and freed with the spec when a later field fails. */
static void
jobspec_copy__health_and_schedule__deep_and_independent(void **state)
{
	struct job_spec spec, copy;
	struct serr err;
	json_t *body;

	(void)state;
	body = json_pack("{s:[s]}", "argv", "a");
	assert_int_equal(jobspec_from_json(body, &spec, &err), 0);
	assert_null(spec.health);
	assert_null(spec.schedule);
	assert_int_equal(jobspec_copy(&copy, &spec), 0);
	assert_null(copy.health);
	assert_null(copy.schedule);
	jobspec_free(&copy);
	jobspec_free(&spec);
	json_decref(body);

	body = json_pack("{s:[s], s:{s:[ss], s:i}, s:{s:s, s:b}}", "argv", "a",
	    "health", "exec", "/bin/check", "-q", "retries", 5, "schedule",
	    "cron", "*/5 * * * *", "catch_up", 1);
	assert_int_equal(jobspec_from_json(body, &spec, &err), 0);
	assert_non_null(spec.health);
	assert_int_equal(spec.health->nexec, 2);
	assert_int_equal(spec.health->retries, 5);
	assert_int_equal(spec.health->interval_ms, 30000);
	assert_int_equal(spec.health->timeout_ms, 5000);
	assert_non_null(spec.schedule);
	assert_string_equal(spec.schedule->cron, "*/5 * * * *");
	assert_true(spec.schedule->catch_up);
	assert_int_equal(jobspec_copy(&copy, &spec), 0);
	assert_ptr_not_equal(copy.health, spec.health);
	assert_ptr_not_equal(copy.health->exec, spec.health->exec);
	assert_ptr_not_equal(copy.health->exec[0], spec.health->exec[0]);
	assert_null(copy.health->exec[copy.health->nexec]);
	assert_ptr_not_equal(copy.schedule, spec.schedule);
	assert_ptr_not_equal(copy.schedule->cron, spec.schedule->cron);
	assert_null(copy.schedule->calendar);
	assert_copy_outlives(&spec, &copy);
	json_decref(body);

	/* Both made, then the schedule fails: nothing leaks (ASan). */
	body = json_pack("{s:[s], s:{s:s}, s:{s:s}}", "argv", "a", "health",
	    "http", "http://127.0.0.1:8/", "schedule", "cron", "61 * * * *");
	assert_int_equal(jobspec_from_json(body, &spec, &err), -1);
	assert_string_equal(err.field, "schedule.cron");
	assert_spec_pristine(&spec);
	json_decref(body);
}

static void
jobspec_free__null_and_twice__safe(void **state)
{
	struct job_spec spec;

	(void)state;
	jobspec_free(NULL);
	jobspec_init(&spec);
	jobspec_free(&spec);
	jobspec_free(&spec);
	assert_spec_pristine(&spec);
}

#define DIGITS30 "123456789012345678901234567890"

static void
jobspec_name_valid__table__expected(void **state)
{
	static const struct {
		const char *name;
		int valid;
	} cases[] = {
	    {"a", 1},
	    {"A", 1},
	    {"web", 1},
	    {"sensor-loop", 1},
	    {"a.b_c-d", 1},
	    {"0x", 1},
	    {"1a", 1},
	    {"a1", 1},
	    {"1.2", 1},
	    {"1-", 1},
	    {"a" DIGITS30 DIGITS30 "12", 1},
	    {"a" DIGITS30 DIGITS30 "123", 1},
	    {"a" DIGITS30 DIGITS30 "1234", 0},
	    {"", 0},
	    {"1", 0},
	    {"12345", 0},
	    {".a", 0},
	    {"-a", 0},
	    {"_a", 0},
	    {"a b", 0},
	    {"a/b", 0},
	    {"a:b", 0},
	    {"caf\xc3\xa9", 0},
	    {"a\n", 0},
	    {NULL, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		if (jobspec_name_valid(cases[i].name) != cases[i].valid)
			fail_msg("jobspec_name_valid(\"%s\") != %d",
			    cases[i].name != NULL ? cases[i].name : "(null)",
			    cases[i].valid);
	}
}

static void
jobspec_policy_name__all__names_and_null(void **state)
{
	(void)state;
	assert_string_equal(jobspec_policy_name(POLICY_OTHER), "other");
	assert_string_equal(jobspec_policy_name(POLICY_BATCH), "batch");
	assert_string_equal(jobspec_policy_name(POLICY_IDLE), "idle");
	assert_string_equal(jobspec_policy_name(POLICY_FIFO), "fifo");
	assert_string_equal(jobspec_policy_name(POLICY_RR), "rr");
	assert_string_equal(jobspec_policy_name(POLICY_DEADLINE), "deadline");
	assert_null(jobspec_policy_name((enum jobspec_policy)6));
	assert_null(jobspec_policy_name((enum jobspec_policy) - 1));
	assert_string_equal(jobspec_restart_name(RESTART_NO), "no");
	assert_string_equal(
	    jobspec_restart_name(RESTART_ON_FAILURE), "on-failure");
	assert_string_equal(jobspec_restart_name(RESTART_ALWAYS), "always");
	assert_null(jobspec_restart_name((enum jobspec_restart)3));
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return (n > m && strcmp(s + n - m, suffix) == 0);
}

/* Sorted file names in dir ending in .json or .txt; caller frees. */
static struct dirent **
list_dir(const char *dir, int *n)
{
	struct dirent **names;

	if ((*n = scandir(dir, &names, NULL, alphasort)) == -1) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		exit(1);
	}
	return (names);
}

static char *xasprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	va_end(ap);
	return (s);
}

#define DATA_MAX 1024

/* Add one cmocka test per data file in $TESTDATA/jobspec/<kind>. */
static void
add_data_tests(struct CMUnitTest *tests, size_t *ntests, size_t cap,
    struct data_case *cases, size_t *ncases, const char *kind)
{
	struct dirent **names;
	struct data_case *dc;
	char *dir, *base;
	const char *name;
	int i, n;

	dir = xasprintf("%s/jobspec/%s", testdata(), kind);
	names = list_dir(dir, &n);
	for (i = 0; i < n; i++) {
		name = names[i]->d_name;
		if (!has_suffix(name, ".json") && !has_suffix(name, ".txt"))
			goto next;
		if (*ntests == cap || *ncases == DATA_MAX) {
			fprintf(stderr, "too many data files\n");
			exit(1);
		}
		dc = &cases[(*ncases)++];
		dc->path = xasprintf("%s/%s", dir, name);
		base = strdup(name);
		if (base == NULL)
			exit(1);
		*strrchr(base, '.') = '\0';
		if (strcmp(kind, "valid") == 0) {
			if (!has_suffix(name, ".json"))
				goto skip;
			dc->canonical = xasprintf(
			    "%s/jobspec/canonical/%s", testdata(), name);
			tests[*ntests].name = xasprintf(
			    "jobspec_from_json__valid_%s__canonical_round_trip",
			    base);
			tests[*ntests].test_func = jobspec_valid_case;
		} else if (has_suffix(name, ".json")) {
			tests[*ntests].name = xasprintf(
			    "jobspec_from_json__invalid_%s__field_blamed",
			    base);
			tests[*ntests].test_func = jobspec_invalid_json_case;
		} else {
			tests[*ntests].name = xasprintf(
			    "jobspec_from_text__malformed_%s__rejected", base);
			tests[*ntests].test_func = jobspec_invalid_text_case;
		}
		tests[*ntests].setup_func = NULL;
		tests[*ntests].teardown_func = NULL;
		tests[*ntests].initial_state = dc;
		(*ntests)++;
	skip:
		free(base);
	next:
		free(names[i]);
	}
	free(names);
	free(dir);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
	    cmocka_unit_test(jobspec_from_json__argv_4096__accepted),
	    cmocka_unit_test(jobspec_from_json__argv_4097__rejected),
	    cmocka_unit_test(
		jobspec_from_json__string_at_limit__accepted_one_more_rejected),
	    cmocka_unit_test(
		jobspec_from_json__env_4096__accepted_4097_rejected),
	    cmocka_unit_test(
		jobspec_from_json__after_256__accepted_257_rejected),
	    cmocka_unit_test(
		jobspec_from_json__env_key_256__accepted_257_rejected),
	    cmocka_unit_test(
		jobspec_from_json__key_with_nul__rejected_not_matched),
	    cmocka_unit_test(
		jobspec_from_json__long_unicode_key__field_valid_utf8),
	    cmocka_unit_test(
		jobspec_from_json__null_or_non_object_root__rejected),
	    cmocka_unit_test(jobspec_from_json__minimal__documented_defaults),
	    cmocka_unit_test(jobspec_from_json__every_field__stored),
	    cmocka_unit_test(jobspec_from_json__deadline_and_nice__stored),
	    cmocka_unit_test(
		jobspec_from_json__error_then_success__err_cleared),
	    cmocka_unit_test(jobspec_from_json__late_failure__nothing_leaks),
	    cmocka_unit_test(
		jobspec_from_text__length_bounds_text__rest_ignored),
	    cmocka_unit_test(jobspec_from_text__malformed__line_and_column),
	    cmocka_unit_test(jobspec_to_json__hand_built__defaults_and_nulls),
	    cmocka_unit_test(
		jobspec_to_json__limits_partly_set__unset_members_null),
	    cmocka_unit_test(jobspec_to_json__bad_enum__null),
	    cmocka_unit_test(jobspec_copy__full__deep_and_independent),
	    cmocka_unit_test(
		jobspec_copy__health_and_schedule__deep_and_independent),
	    cmocka_unit_test(jobspec_free__null_and_twice__safe),
	    cmocka_unit_test(jobspec_name_valid__table__expected),
	    cmocka_unit_test(jobspec_policy_name__all__names_and_null),
	};
	struct CMUnitTest *tests;
	struct data_case *cases;
	size_t ntests = 0, ncases = 0, i, cap;
	int rc;

	cap = NITEMS(fixed) + DATA_MAX;
	tests = calloc(cap, sizeof *tests);
	cases = calloc(DATA_MAX, sizeof *cases);
	if (tests == NULL || cases == NULL)
		return (1);
	memcpy(tests, fixed, sizeof fixed);
	ntests = NITEMS(fixed);
	add_data_tests(tests, &ntests, cap, cases, &ncases, "valid");
	add_data_tests(tests, &ntests, cap, cases, &ncases, "invalid");

	rc = _cmocka_run_group_tests("test_jobspec", tests, ntests, NULL, NULL);

	for (i = NITEMS(fixed); i < ntests; i++)
		free((char *)tests[i].name);
	for (i = 0; i < ncases; i++) {
		free(cases[i].path);
		free(cases[i].canonical);
	}
	free(tests);
	free(cases);
	return (rc);
}
