/* SPDX-License-Identifier: ISC */
/*
 * schedd.conf parsing: defaults, every key, comments and blank lines, and
 * errors that name the file and line.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/conf.h"
#include "daemon/log.h"

static char conf_path[64];

static int
load_text(const char *text, struct config *conf, struct serr *err)
{
	FILE *f;
	int fd;

	snprintf(conf_path, sizeof(conf_path), "/tmp/schedd-conf.XXXXXX");
	fd = mkstemp(conf_path);
	assert_true(fd != -1);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	config_defaults(conf);
	fd = config_load(conf, conf_path, 1, err);
	unlink(conf_path);
	return (fd);
}

static void
config_defaults__documented_values(void **state)
{
	struct config conf;

	(void)state;
	config_defaults(&conf);
	/* configure's directories, as Makefile.am passes them. */
	assert_string_equal(
	    conf.socket_path, SCHEDD_RUNSTATEDIR "/schedd/schedd.sock");
	assert_string_equal(conf.state_dir, SCHEDD_LOCALSTATEDIR "/lib/schedd");
	assert_int_equal(conf.log_level, LOG_LEVEL_INFO);
	assert_int_equal(conf.durability_full, 0);
	assert_int_equal(conf.event_retention, 100000);
	assert_int_equal(conf.http_idle_timeout_ms, 60000);
}

static void
config_load__every_key__applied(void **state)
{
	struct config conf;
	struct serr err;

	(void)state;
	assert_int_equal(load_text("# comment\n"
				   "\n"
				   "socket = /tmp/x.sock   # trailing comment\n"
				   "state_dir=/tmp/state\n"
				   "  log_level =\tdebug\n"
				   "durability = full\n"
				   "event_retention = 500\n"
				   "socket_group = wheel\n"
				   "path = /bin:/usr/bin\n"
				   "http_idle_timeout_ms = 1500\n",
			     &conf, &err),
	    0);
	assert_string_equal(conf.socket_path, "/tmp/x.sock");
	assert_string_equal(conf.state_dir, "/tmp/state");
	assert_int_equal(conf.log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(conf.durability_full, 1);
	assert_int_equal(conf.event_retention, 500);
	assert_string_equal(conf.socket_group, "wheel");
	assert_string_equal(conf.job_path, "/bin:/usr/bin");
	assert_int_equal(conf.http_idle_timeout_ms, 1500);
}

static void
config_load__errors__name_line(void **state)
{
	static const struct {
		const char *text;
		const char *expect;
	} cases[] = {
	    {"sokcet = /x\n", ":1: sokcet: unknown key"},
	    {"\n\ndurability = maybe\n", ":3: durability: must be"},
	    {"socket = relative\n", ":1: socket: must be an absolute"},
	    {"event_retention = 5\n", ":1: event_retention: must be"},
	    {"event_retention = lots\n", ":1: event_retention"},
	    {"log_level = loud\n", ":1: log_level"},
	    {"http_idle_timeout_ms = 99\n", ":1: http_idle_timeout_ms: must"},
	    {"just words\n", ":1: expected 'key = value'"},
	};
	struct config conf;
	struct serr err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(load_text(cases[i].text, &conf, &err), -1);
		if (strstr(err.message, cases[i].expect) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err.message,
			    cases[i].expect);
	}
}

static void
config_load__missing_file__optional_or_error(void **state)
{
	struct config conf;
	struct serr err;

	(void)state;
	config_defaults(&conf);
	assert_int_equal(
	    config_load(&conf, "/nonexistent/schedd.conf", 0, &err), 0);
	assert_int_equal(
	    config_load(&conf, "/nonexistent/schedd.conf", 1, &err), -1);
	assert_non_null(strstr(err.message, "No such file"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(config_defaults__documented_values),
	    cmocka_unit_test(config_load__every_key__applied),
	    cmocka_unit_test(config_load__errors__name_line),
	    cmocka_unit_test(config_load__missing_file__optional_or_error),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
