/* SPDX-License-Identifier: ISC */
/*
 * /proc/PID/stat parsing: a comm holding spaces and parentheses, fields
 * after it, truncated input; and the real file of this very process.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/procfs.h"

static void
procfs_stat_parse__tricky_comm__fields_found(void **state)
{
	static const char line[] =
	    "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 7 3 0 0 "
	    "20 0 1 0 123456 1000000 512 18446744073709551615 1 1 0 0 0 0 0 "
	    "0 0 0 0 0 17 1 50 1 0 0 0\n";
	struct proc_stat ps;

	(void)state;
	assert_int_equal(procfs_stat_parse(line, strlen(line), &ps), 0);
	assert_int_equal(ps.pid, 4242);
	assert_string_equal(ps.comm, "a) b (c)");
	assert_int_equal(ps.state, 'S');
	assert_int_equal(ps.ppid, 1);
	assert_int_equal(ps.session, 4242);
	assert_int_equal(ps.utime, 7);
	assert_int_equal(ps.stime, 3);
	assert_int_equal(ps.nice, 0);
	assert_int_equal(ps.starttime, 123456);
	assert_int_equal(ps.rss_pages, 512);
	assert_int_equal(ps.rt_priority, 50);
	assert_int_equal(ps.policy, 1);
}

static void
procfs_stat_parse__truncated__rejected(void **state)
{
	static const char *bad[] = {
	    "",
	    "4242",
	    "4242 (sh",
	    "4242 (sh) S 1 2 3",
	    "4242 sh) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5",
	};
	struct proc_stat ps;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    procfs_stat_parse(bad[i], strlen(bad[i]), &ps), -1);
}

static void
procfs_stat__self__matches_getpid(void **state)
{
	struct proc_stat ps;

	(void)state;
	assert_int_equal(procfs_stat(getpid(), &ps), 0);
	assert_int_equal(ps.pid, getpid());
	assert_int_equal(ps.ppid, getppid());
	assert_int_equal(ps.state, 'R');
	assert_true(ps.starttime > 0);
	assert_int_equal(procfs_alive(getpid(), ps.starttime), 1);
	assert_int_equal(procfs_alive(getpid(), ps.starttime + 1), 0);
}

static void
procfs_stat__no_such_pid__esrch(void **state)
{
	struct proc_stat ps;

	(void)state;
	/* Above the default pid_max ceiling of 4194304. */
	assert_int_equal(procfs_stat(4194305, &ps), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(procfs_alive(4194305, 1), 0);
	assert_int_equal(procfs_alive(0, 1), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(procfs_stat_parse__tricky_comm__fields_found),
	    cmocka_unit_test(procfs_stat_parse__truncated__rejected),
	    cmocka_unit_test(procfs_stat__self__matches_getpid),
	    cmocka_unit_test(procfs_stat__no_such_pid__esrch),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
