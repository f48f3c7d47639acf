/* SPDX-License-Identifier: ISC */
/*
 * The access policy without a daemon: the config's policy sections, which
 * rule wins for whom, what a user's job spec may ask for, and the token
 * check (file rules, exact match only, fuzzed, the per-address limit).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/auth-token.h"
#include "daemon/auth.h"
#include "daemon/conf.h"
#include "proto/jobspec.h"

static char path[64];

static const char *
write_tmp(const char *text, mode_t mode)
{
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/schedd-auth.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd != -1);
	assert_int_equal(fchmod(fd, mode), 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return (path);
}

static int
load(const char *text, struct config *conf, struct serr *err)
{
	int rc;

	config_defaults(conf);
	rc = config_load(conf, write_tmp(text, 0600), 1, err);
	unlink(path);
	return (rc);
}

/* A caller who is nobody's admin: uid 54321, gid 54321, groups given. */
static void
ordinary(struct caller *c, const gid_t *groups, int n)
{
	memset(c, 0, sizeof(*c));
	c->known = 1;
	c->uid = 54321;
	c->gid = 54321;
	c->pid = 1;
	c->rtprio_rlimit = 0;
	snprintf(c->name, sizeof(c->name), "54321");
	if (n > 0)
		memcpy(c->groups, groups, (size_t)n * sizeof(gid_t));
	c->ngroups = n;
}

static void
config_policy__sections__parsed_and_errors_name_the_line(void **state)
{
	static const struct {
		const char *text, *expect;
	} bad[] = {
	    {"[user]\n", ":1: expected [users]"},
	    {"[users]\nsocket = /x\n", ":2: socket: unknown policy key"},
	    {"[group x]\ndeadline = maybe\n", ":2: deadline: must be yes"},
	    {"[users]\nrt_priority_max = 100\n", ":2: rt_priority_max"},
	    {"[user a b]\n", ":1: a user or group name"},
	    {"[users\n", ":1: expected"},
	    {"socket_mode = 0777\n", ":1: socket_mode: must be 0600"},
	    {"listen = 127.0.0.1\n", ":1: listen: must be HOST:PORT"},
	    {"listen = 127.0.0.1:0\n", ":1: listen"},
	    {"token_file = tokens\n", ":1: token_file: must be an absolute"},
	};
	struct config conf;
	struct serr err;
	size_t i;

	(void)state;
	assert_int_equal(load("admin_group = wheel\nsocket_mode = 0666\n"
			      "listen = [::1]:7070\n"
			      "token_file = /etc/schedd/tokens\n"
			      "[users]\njobs_max = 3\nmemory_max = 1G\n"
			      "[group robots]\ndeadline = yes\n"
			      "rt_priority_max = rlimit\n"
			      "[user 1000]\nexclusive_cpus_max = 2\n",
			     &conf, &err),
	    0);
	assert_string_equal(conf.admin_group, "wheel");
	assert_int_equal(conf.socket_mode, 0666);
	assert_string_equal(conf.listen, "[::1]:7070");
	assert_int_equal(conf.nrules, 3);
	assert_int_equal(conf.rules[0].pol.jobs_max, 3);
	assert_int_equal(conf.rules[0].pol.memory_max, 1ULL << 30);
	assert_int_equal(conf.rules[1].kind, RULE_GROUP);
	assert_string_equal(conf.rules[1].name, "robots");
	assert_int_equal(
	    conf.rules[1].pol.set, UPOL_DEADLINE | UPOL_RT_PRIORITY_MAX);
	assert_int_equal(conf.rules[1].pol.rt_priority_max, -1);
	assert_int_equal(conf.rules[2].kind, RULE_USER);
	assert_int_equal(conf.rules[2].pol.exclusive_cpus_max, 2);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(load(bad[i].text, &conf, &err), -1);
		if (strstr(err.message, bad[i].expect) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err.message,
			    bad[i].expect);
	}
}

static void
auth_policy__users_then_groups_then_the_user(void **state)
{
	const char *from[AUTH_POLICY_KEYS];
	struct user_policy pol;
	struct config conf;
	struct caller c;
	struct serr err;
	gid_t root_group = 0;

	(void)state;
	/* Group 0 (root) exists everywhere; the user is matched by uid. */
	assert_int_equal(load("[users]\njobs_max = 5\n"
			      "[user 54321]\njobs_max = 9\n"
			      "[group root]\njobs_max = 7\npids_max = 50\n",
			     &conf, &err),
	    0);
	auth_init(&conf);
	ordinary(&c, &root_group, 1);
	auth_policy(&c, &pol, from);
	/* The user's own section wins over the group's, whatever the order. */
	assert_int_equal(pol.jobs_max, 9);
	assert_string_equal(from[0], "[user 54321]");
	assert_int_equal(pol.pids_max, 50);
	assert_string_equal(from[5], "[group root]");
	assert_int_equal(pol.deadline, 0);
	assert_string_equal(from[3], "[users]");
	/* Not in the group, another uid: the defaults. */
	ordinary(&c, NULL, 0);
	c.uid = 54322;
	snprintf(c.name, sizeof(c.name), "54322");
	auth_policy(&c, &pol, from);
	assert_int_equal(pol.jobs_max, 5);
	assert_int_equal(pol.pids_max, 0);
}

static void
auth_spec__decisions__field_and_rule(void **state)
{
	static const struct {
		const char *spec, *field, *text; /* field NULL: allowed */
	} cases[] = {
	    {"{\"argv\":[\"x\"]}", NULL, NULL},
	    {"{\"argv\":[\"x\"],\"user\":\"54321\"}", NULL, NULL},
	    {"{\"argv\":[\"x\"],\"user\":\"0\"}", "user", "only as 54321"},
	    {"{\"argv\":[\"x\"],\"group\":\"0\"}", "group", "not a member"},
	    {"{\"argv\":[\"x\"],\"group\":\"54321\"}", NULL, NULL},
	    {"{\"argv\":[\"x\"],\"sched\":{\"policy\":\"rr\",\"priority\":3}}",
		NULL, NULL},
	    {"{\"argv\":[\"x\"],\"sched\":{\"policy\":\"rr\",\"priority\":4}}",
		"sched.priority", "[users] rt_priority_max"},
	    {"{\"argv\":[\"x\"],\"sched\":{\"policy\":\"deadline\","
	     "\"runtime_us\":100,\"deadline_us\":1000,\"period_us\":1000}}",
		"sched.policy", "deadline"},
	    {"{\"argv\":[\"x\"],\"sched\":{\"policy\":\"batch\",\"nice\":-1}}",
		"sched.nice", "nice_min"},
	    {"{\"argv\":[\"x\"],\"exclusive_cpus\":1}", "exclusive_cpus",
		"exclusive_cpus_max"},
	    {"{\"argv\":[\"x\"],\"limits\":{\"pids_max\":11}}",
		"limits.pids_max", "[users] pids_max"},
	};
	struct job_spec spec;
	struct config conf;
	struct caller c;
	struct serr err;
	size_t i;
	int rc;

	(void)state;
	assert_int_equal(load("[users]\nrt_priority_max = 3\npids_max = 10\n"
			      "jobs_max = 2\n",
			     &conf, &err),
	    0);
	auth_init(&conf);
	ordinary(&c, NULL, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(jobspec_from_text(cases[i].spec,
				     strlen(cases[i].spec), &spec, &err),
		    0);
		rc = auth_spec(&c, &spec, -1, &err);
		if (cases[i].field == NULL) {
			if (rc != 0)
				fail_msg(
				    "case %zu refused: %s", i, err.message);
			/* Runs as the caller, under the cap. */
			assert_string_equal(spec.user, "54321");
			assert_int_equal(spec.limits.pids_max, 10);
		} else {
			assert_int_equal(rc, -1);
			assert_int_equal(err.code, SERR_PERMISSION);
			assert_string_equal(err.field, cases[i].field);
			if (strstr(err.message, cases[i].text) == NULL)
				fail_msg("case %zu: '%s' lacks '%s'", i,
				    err.message, cases[i].text);
		}
		jobspec_free(&spec);
	}
	/* jobs_max counts what runs already. */
	jobspec_from_text("{\"argv\":[\"x\"]}", 14, &spec, &err);
	assert_int_equal(auth_spec(&c, &spec, 1, &err), 0);
	jobspec_free(&spec);
	jobspec_from_text("{\"argv\":[\"x\"]}", 14, &spec, &err);
	assert_int_equal(auth_spec(&c, &spec, 2, &err), -1);
	assert_non_null(strstr(err.message, "jobs_max"));
	jobspec_free(&spec);
	/* An admin passes unchanged; nobody without credentials does. */
	c.admin = 1;
	jobspec_from_text("{\"argv\":[\"x\"],\"user\":\"0\"}", 25, &spec, &err);
	assert_int_equal(auth_spec(&c, &spec, 100, &err), 0);
	assert_string_equal(spec.user, "0");
	jobspec_free(&spec);
	c.known = 0;
	jobspec_from_text("{\"argv\":[\"x\"]}", 14, &spec, &err);
	assert_int_equal(auth_spec(&c, &spec, -1, &err), -1);
	jobspec_free(&spec);
}

static void
auth_tokens_load__file_rules(void **state)
{
	static const struct {
		const char *text;
		mode_t mode;
		const char *expect;
	} bad[] = {
	    {"0123456789abcdef0123 admin\n", 0644, "mode 0644"},
	    {"0123456789abcdef0123 admin\n", 0640, "mode 0640"},
	    {"short admin\n", 0600, ":1: a token is 16..256"},
	    {"# only a comment\n", 0600, "no token"},
	    {"0123456789abcdef0123\n", 0600, ":1: expected 'TOKEN USER'"},
	    {"0123456789abcdef0123 nosuchuser-xyz\n", 0600, "no such user"},
	    {"0123456789abcdef0123 admin extra\n", 0600, "expected"},
	    {"0123456789abcdef012\"3 admin\n", 0600, "characters"},
	};
	struct serr err;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc =
		    auth_tokens_load(write_tmp(bad[i].text, bad[i].mode), &err);
		unlink(path);
		assert_int_equal(rc, -1);
		if (strstr(err.message, bad[i].expect) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err.message,
			    bad[i].expect);
	}
	rc = auth_tokens_load(write_tmp("# tokens\n\n"
					"0123456789abcdef0123 admin # ops\n"
					"fedcba9876543210fedc 1234\n",
				  0600),
	    &err);
	unlink(path);
	assert_int_equal(rc, 0);
	assert_int_equal(auth_tokens_count(), 2);
	auth_tokens_free();
}

/* A distinct IPv4 peer per n: the per-address limit never answers. */
static socklen_t
peer(struct sockaddr_in *sin, unsigned n)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0x0a000000u | (n & 0xffffff));
	return (sizeof(*sin));
}

static void
auth_token_check__only_the_exact_token__fuzzed(void **state)
{
	static const char *const near[] = {
	    "Bearer 0123456789abcdef012",   /* a prefix */
	    "Bearer 0123456789abcdef01234", /* one more */
	    "Bearer 0123456789abcdef012X",  /* the last differs */
	    "Bearer X123456789abcdef0123",  /* the first differs */
	    "Basic 0123456789abcdef0123",
	    "0123456789abcdef0123",
	    "Bearer",
	    "Bearer ",
	    "",
	    "Bearer 0123456789abcdef0123 x",
	    "Bearer fedcba9876543210fedc0123456789abcdef0123",
	};
	struct sockaddr_in sin;
	struct caller c;
	struct serr err;
	char hdr[600];
	unsigned seed = 7, i, k, n;
	int rc;

	(void)state;
	rc = auth_tokens_load(write_tmp("0123456789abcdef0123 admin\n"
					"fedcba9876543210fedc 4321\n",
				  0600),
	    &err);
	unlink(path);
	assert_int_equal(rc, 0);
	assert_int_equal(auth_token_check("Bearer 0123456789abcdef0123",
			     (struct sockaddr *)&sin, peer(&sin, 1), &c),
	    0);
	assert_true(c.admin && c.tcp && c.known);
	assert_int_equal(auth_token_check("bearer \tfedcba9876543210fedc ",
			     (struct sockaddr *)&sin, peer(&sin, 2), &c),
	    0);
	assert_int_equal(c.uid, 4321);
	assert_false(c.admin);
	for (i = 0; i < sizeof(near) / sizeof(near[0]); i++)
		if (auth_token_check(near[i], (struct sockaddr *)&sin,
			peer(&sin, 100 + i), &c) != -1)
			fail_msg("'%s' was taken", near[i]);
	assert_int_equal(
	    auth_token_check(NULL, (struct sockaddr *)&sin, peer(&sin, 99), &c),
	    -1);
	/* Random headers, many with a right token's prefix. */
	for (i = 0; i < 20000; i++) {
		n = (unsigned)rand_r(&seed) % 300;
		for (k = 0; k < n; k++)
			hdr[k] = (char)(1 + rand_r(&seed) % 255);
		hdr[n] = '\0';
		if (i % 4 == 0 && n > 10)
			memcpy(hdr, "Bearer 0123", 10);
		if (auth_token_check(hdr, (struct sockaddr *)&sin,
			peer(&sin, 1000 + i), &c) != -1)
			fail_msg("random header %u was taken", i);
	}
	auth_tokens_free();
}

static void
auth_token_check__five_failures__the_address_waits(void **state)
{
	struct sockaddr_in sin, other;
	struct caller c;
	struct serr err;
	int i, rc;

	(void)state;
	rc = auth_tokens_load(
	    write_tmp("0123456789abcdef0123 admin\n", 0600), &err);
	unlink(path);
	assert_int_equal(rc, 0);
	for (i = 0; i < AUTH_FAIL_MAX; i++)
		assert_int_equal(
		    auth_token_check("Bearer wrong-wrong-wrong",
			(struct sockaddr *)&sin, peer(&sin, 5), &c),
		    -1);
	assert_int_equal(auth_token_check("Bearer 0123456789abcdef0123",
			     (struct sockaddr *)&sin, peer(&sin, 5), &c),
	    -1);
	/* Another address is not held back. */
	assert_int_equal(auth_token_check("Bearer 0123456789abcdef0123",
			     (struct sockaddr *)&other, peer(&other, 6), &c),
	    0);
	auth_tokens_free();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		config_policy__sections__parsed_and_errors_name_the_line),
	    cmocka_unit_test(auth_policy__users_then_groups_then_the_user),
	    cmocka_unit_test(auth_spec__decisions__field_and_rule),
	    cmocka_unit_test(auth_tokens_load__file_rules),
	    cmocka_unit_test(auth_token_check__only_the_exact_token__fuzzed),
	    cmocka_unit_test(
		auth_token_check__five_failures__the_address_waits),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
