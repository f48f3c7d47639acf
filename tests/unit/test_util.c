/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for proto/util.c: strtonum bounds, sizes and durations with
 * their suffixes and overflow edges, signal names both ways (including the
 * real-time ones), RFC 3339 formatting and strlcpy truncation. The cases are
 * tables; each row says what must come out.
 */

#include "config.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/util.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

static void
util_strtonum__in_range__value_and_null_errstr(void **state)
{
	static const struct {
		const char *s;
		long long min, max, want;
	} cases[] = {
	    {"0", 0, 10, 0},
	    {"10", 0, 10, 10},
	    {"-5", -10, 10, -5},
	    {"007", 0, 10, 7},
	    {"4194304", 1, 4194304, 4194304},
	    {"9223372036854775807", LLONG_MIN, LLONG_MAX, LLONG_MAX},
	    {"-9223372036854775808", LLONG_MIN, LLONG_MAX, LLONG_MIN},
	};
	const char *errstr;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		errstr = "unset";
		assert_int_equal(util_strtonum(cases[i].s, cases[i].min,
				     cases[i].max, &errstr),
		    cases[i].want);
		assert_null(errstr);
	}
}

static void
util_strtonum__bad_input__zero_and_errstr(void **state)
{
	static const struct {
		const char *s;
		long long min, max;
		const char *errstr;
		int errno_want;
	} cases[] = {
	    {"", 0, 10, "invalid", EINVAL},
	    {"abc", 0, 10, "invalid", EINVAL},
	    {"12a", 0, 100, "invalid", EINVAL},
	    {"1 ", 0, 100, "invalid", EINVAL},
	    {"5", 10, 0, "invalid", EINVAL},
	    {"11", 0, 10, "too large", ERANGE},
	    {"-1", 0, 10, "too small", ERANGE},
	    {"99999999999999999999", 0, LLONG_MAX, "too large", ERANGE},
	    {"-99999999999999999999", LLONG_MIN, 0, "too small", ERANGE},
	};
	const char *errstr;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		errstr = NULL;
		assert_int_equal(util_strtonum(cases[i].s, cases[i].min,
				     cases[i].max, &errstr),
		    0);
		assert_non_null(errstr);
		assert_string_equal(errstr, cases[i].errstr);
		assert_int_equal(errno, cases[i].errno_want);
	}
	errstr = NULL;
	assert_int_equal(util_strtonum(NULL, 0, 1, &errstr), 0);
	assert_string_equal(errstr, "invalid");
}

static void
util_strtonum__success__errno_untouched(void **state)
{
	const char *errstr;

	(void)state;
	errno = EAGAIN;
	assert_int_equal(util_strtonum("42", 0, 100, &errstr), 42);
	assert_int_equal(errno, EAGAIN);
}

static void
util_parse_size__valid__bytes(void **state)
{
	static const struct {
		const char *s;
		uint64_t want;
	} cases[] = {
	    {"0", 0},
	    {"1", 1},
	    {"1024", 1024},
	    {"1B", 1},
	    {"1b", 1},
	    {"1K", 1024},
	    {"1k", 1024},
	    {"1KiB", 1024},
	    {"1kib", 1024},
	    {"512M", 512ULL << 20},
	    {"512m", 512ULL << 20},
	    {"3MiB", 3ULL << 20},
	    {"2G", 2ULL << 30},
	    {"2GiB", 2ULL << 30},
	    {"4294967296G", 1ULL << 62},
	    {"17179869183G", 17179869183ULL << 30},
	    {"18446744073709551615", UINT64_MAX},
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		v = 12345;
		if (util_parse_size(cases[i].s, &v) != 0)
			fail_msg("util_parse_size(\"%s\") failed", cases[i].s);
		assert_int_equal(v, cases[i].want);
	}
}

static void
util_parse_size__malformed__rejected(void **state)
{
	static const char *const cases[] = {
	    "",
	    "-1",
	    "+1",
	    " 1",
	    "1 ",
	    "12Q",
	    "K",
	    "1.5G",
	    "1Ki",
	    "1KiBB",
	    "1KB",
	    "1T",
	    "1 K",
	    "0x10",
	    "18446744073709551616",
	    "17179869184G",
	    "18014398509481984K",
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		v = 777;
		if (util_parse_size(cases[i], &v) != -1)
			fail_msg("util_parse_size(\"%s\") accepted", cases[i]);
		assert_int_equal(v, 777);
	}
	assert_int_equal(util_parse_size(NULL, &v), -1);
}

static void
util_parse_duration_us__valid__microseconds(void **state)
{
	static const struct {
		const char *s;
		uint64_t want;
	} cases[] = {
	    {"0", 0},
	    {"5", 5},
	    {"5us", 5},
	    {"5ms", 5000},
	    {"5s", 5000000},
	    {"0s", 0},
	    {"18446744073709551615", UINT64_MAX},
	    {"18446744073709551us", 18446744073709551ULL},
	    {"18446744073709551ms", 18446744073709551000ULL},
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		v = 1;
		if (util_parse_duration_us(cases[i].s, &v) != 0)
			fail_msg("util_parse_duration_us(\"%s\") failed",
			    cases[i].s);
		assert_int_equal(v, cases[i].want);
	}
}

static void
util_parse_duration_us__malformed__rejected(void **state)
{
	static const char *const cases[] = {
	    "",
	    "ms",
	    "-1",
	    "5m",
	    "5 ms",
	    "5MS",
	    "5sec",
	    "1.5s",
	    "18446744073709552s",
	    "18446744073709552ms",
	    "18446744073709551616",
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		if (util_parse_duration_us(cases[i], &v) != -1)
			fail_msg("util_parse_duration_us(\"%s\") accepted",
			    cases[i]);
	}
	assert_int_equal(util_parse_duration_us(NULL, &v), -1);
}

static void
util_signal_parse__names_and_numbers__signal(void **state)
{
	const struct {
		const char *s;
		int want;
	} cases[] = {
	    {"SIGTERM", SIGTERM},
	    {"TERM", SIGTERM},
	    {"term", SIGTERM},
	    {"sigterm", SIGTERM},
	    {"SigTerm", SIGTERM},
	    {"15", 15},
	    {"9", 9},
	    {"1", 1},
	    {"64", 64},
	    {"SIGKILL", SIGKILL},
	    {"HUP", SIGHUP},
	    {"SIGUSR1", SIGUSR1},
	    {"usr2", SIGUSR2},
	    {"SIGWINCH", SIGWINCH},
	    {"SIGSYS", SIGSYS},
	    {"SIGIOT", SIGABRT},
	    {"SIGCLD", SIGCHLD},
	    {"SIGPOLL", SIGIO},
	    {"SIGRTMIN", SIGRTMIN},
	    {"SIGRTMIN+0", SIGRTMIN},
	    {"SIGRTMIN+3", SIGRTMIN + 3},
	    {"rtmin+3", SIGRTMIN + 3},
	    {"SIGRTMAX", SIGRTMAX},
	    {"SIGRTMAX-2", SIGRTMAX - 2},
	    {"SIG32", 32},
	    {"SIG15", 15},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		if (util_signal_parse(cases[i].s) != cases[i].want)
			fail_msg("util_signal_parse(\"%s\") = %d, want %d",
			    cases[i].s, util_signal_parse(cases[i].s),
			    cases[i].want);
	}
}

static void
util_signal_parse__unknown_or_out_of_range__minus_one(void **state)
{
	char rtover[32], rtunder[32];
	const char *cases[] = {
	    "",
	    "0",
	    "65",
	    "-1",
	    "+15",
	    "15x",
	    "SIGFOO",
	    "SIG",
	    "SIG0",
	    "SIG65",
	    "SIGTERM ",
	    " SIGTERM",
	    "SIG TERM",
	    "SIGRTMIN-1",
	    "SIGRTMAX+1",
	    "SIGRTMIN+",
	    "SIGRTMIN+-1",
	    "RTMIN+x",
	    "99999999999999999999",
	    rtover,
	    rtunder,
	};
	size_t i;

	(void)state;
	(void)snprintf(
	    rtover, sizeof rtover, "SIGRTMIN+%d", SIGRTMAX - SIGRTMIN + 1);
	(void)snprintf(
	    rtunder, sizeof rtunder, "SIGRTMAX-%d", SIGRTMAX - SIGRTMIN + 1);
	for (i = 0; i < NITEMS(cases); i++) {
		if (util_signal_parse(cases[i]) != -1)
			fail_msg("util_signal_parse(\"%s\") = %d, want -1",
			    cases[i], util_signal_parse(cases[i]));
	}
	assert_int_equal(util_signal_parse(NULL), -1);
}

static void
util_signal_name__known__canonical_name(void **state)
{
	char rt3[32];

	(void)state;
	assert_string_equal(util_signal_name(SIGTERM), "SIGTERM");
	assert_string_equal(util_signal_name(15), "SIGTERM");
	assert_string_equal(util_signal_name(SIGKILL), "SIGKILL");
	assert_string_equal(util_signal_name(SIGHUP), "SIGHUP");
	assert_string_equal(util_signal_name(SIGABRT), "SIGABRT");
	assert_string_equal(util_signal_name(SIGCHLD), "SIGCHLD");
	assert_string_equal(util_signal_name(SIGIO), "SIGIO");
	assert_string_equal(util_signal_name(SIGRTMIN), "SIGRTMIN");
	assert_string_equal(util_signal_name(SIGRTMAX), "SIGRTMAX");
	(void)snprintf(rt3, sizeof rt3, "SIGRTMIN+%d", 3);
	assert_string_equal(util_signal_name(SIGRTMIN + 3), rt3);
}

static void
util_signal_name__out_of_range__null(void **state)
{
	(void)state;
	assert_null(util_signal_name(0));
	assert_null(util_signal_name(-1));
	assert_null(util_signal_name(65));
	assert_null(util_signal_name(INT_MAX));
	assert_null(util_signal_name(INT_MIN));
}

static void
util_signal_name__every_signal__parses_back(void **state)
{
	const char *name;
	int sig;

	(void)state;
	for (sig = 1; sig <= 64; sig++) {
		name = util_signal_name(sig);
		assert_non_null(name);
		assert_true(strncmp(name, "SIG", 3) == 0);
		if (util_signal_parse(name) != sig)
			fail_msg("%d -> \"%s\" -> %d", sig, name,
			    util_signal_parse(name));
	}
}

static void
util_time_format__instants__rfc3339_millis(void **state)
{
	static const struct {
		int64_t ms;
		const char *want;
	} cases[] = {
	    {0, "1970-01-01T00:00:00.000Z"},
	    {1, "1970-01-01T00:00:00.001Z"},
	    {1795287675123LL, "2026-11-21T19:01:15.123Z"},
	    {951868799999LL, "2000-02-29T23:59:59.999Z"},
	    {253402300799999LL, "9999-12-31T23:59:59.999Z"},
	    {-1, "1969-12-31T23:59:59.999Z"},
	    {-1000, "1969-12-31T23:59:59.000Z"},
	    {-1001, "1969-12-31T23:59:58.999Z"},
	};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		memset(buf, 'x', sizeof buf);
		assert_ptr_equal(
		    util_time_format(cases[i].ms, buf, sizeof buf), buf);
		assert_string_equal(buf, cases[i].want);
	}
}

static void
util_time_format__exact_and_short_buffers__terminated(void **state)
{
	char buf[25], small[8];

	(void)state;
	util_time_format(1795287675123LL, buf, sizeof buf);
	assert_string_equal(buf, "2026-11-21T19:01:15.123Z");
	memset(small, 'x', sizeof small);
	util_time_format(1795287675123LL, small, sizeof small);
	assert_string_equal(small, "2026-11");
	small[0] = 'q';
	util_time_format(0, small, 0);
	assert_int_equal(small[0], 'q');
}

static void
util_strlcpy__fits_and_truncates__returns_source_length(void **state)
{
	char buf[8];

	(void)state;
	assert_int_equal(util_strlcpy(buf, "abc", sizeof buf), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(util_strlcpy(buf, "abcdefg", sizeof buf), 7);
	assert_string_equal(buf, "abcdefg");
	assert_int_equal(util_strlcpy(buf, "abcdefgh", sizeof buf), 8);
	assert_string_equal(buf, "abcdefg");
	assert_int_equal(util_strlcpy(buf, "", sizeof buf), 0);
	assert_string_equal(buf, "");
	assert_int_equal(util_strlcpy(buf, "xyz", 1), 3);
	assert_string_equal(buf, "");
	buf[0] = 'q';
	assert_int_equal(util_strlcpy(buf, "xyz", 0), 3);
	assert_int_equal(buf[0], 'q');
}

static void
util_split_hostport__forms__host_and_port(void **state)
{
	static const struct {
		const char *in, *host, *port; /* host NULL: -1 */
	} cases[] = {
	    {"127.0.0.1:7070", "127.0.0.1", "7070"},
	    {"[::1]:7070", "::1", "7070"},
	    {"host.example:80", "host.example", "80"},
	    {":7070", "", "7070"},
	    {"[::]:1", "::", "1"},
	    {"nocolon", NULL, NULL},
	};
	char buf[64], *host, *port;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		if (cases[i].host == NULL) {
			assert_int_equal(
			    util_split_hostport(buf, &host, &port), -1);
			continue;
		}
		assert_int_equal(util_split_hostport(buf, &host, &port), 0);
		assert_string_equal(host, cases[i].host);
		assert_string_equal(port, cases[i].port);
	}
}

static void
util_time_parse__forms__ms_since_the_epoch(void **state)
{
	int64_t ms;

	(void)state;
	assert_int_equal(util_time_parse("2026-12-02T21:30:00Z", &ms), 0);
	assert_int_equal(ms, INT64_C(1796247000000));
	assert_int_equal(util_time_parse("2026-12-02T21:30:00.123Z", &ms), 0);
	assert_int_equal(ms, INT64_C(1796247000123));
	assert_int_equal(util_time_parse("2026-12-02T22:30:00+01:00", &ms), 0);
	assert_int_equal(ms, INT64_C(1796247000000));
	assert_int_equal(util_time_parse("2026-12-02 21:30:00z", &ms), 0);
	assert_int_equal(util_time_parse("2026-12-02T21:30:00", &ms), -1);
	assert_int_equal(util_time_parse("2026-13-02T21:30:00Z", &ms), -1);
	assert_int_equal(util_time_parse("yesterday", &ms), -1);
	/* What util_time_format writes reads back. */
	{
		char buf[32];

		util_time_format(INT64_C(1796247000123), buf, sizeof(buf));
		assert_int_equal(util_time_parse(buf, &ms), 0);
		assert_int_equal(ms, INT64_C(1796247000123));
	}
}

/* util_pid_cmp sorts and finds pids, the largest included. */
static void
util_pid_cmp__qsort_bsearch__ordered_and_found(void **state)
{
	pid_t pids[] = {4194304, 2, 77, 1, 2147483647, 300};
	pid_t want = 77, absent = 78;
	size_t i, n = sizeof(pids) / sizeof(pids[0]);

	(void)state;
	qsort(pids, n, sizeof(pids[0]), util_pid_cmp);
	for (i = 1; i < n; i++)
		assert_true(pids[i - 1] < pids[i]);
	assert_int_equal(pids[n - 1], 2147483647);
	assert_non_null(bsearch(&want, pids, n, sizeof(pids[0]), util_pid_cmp));
	assert_null(bsearch(&absent, pids, n, sizeof(pids[0]), util_pid_cmp));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(util_pid_cmp__qsort_bsearch__ordered_and_found),
	    cmocka_unit_test(util_strtonum__in_range__value_and_null_errstr),
	    cmocka_unit_test(util_strtonum__bad_input__zero_and_errstr),
	    cmocka_unit_test(util_strtonum__success__errno_untouched),
	    cmocka_unit_test(util_parse_size__valid__bytes),
	    cmocka_unit_test(util_parse_size__malformed__rejected),
	    cmocka_unit_test(util_parse_duration_us__valid__microseconds),
	    cmocka_unit_test(util_parse_duration_us__malformed__rejected),
	    cmocka_unit_test(util_signal_parse__names_and_numbers__signal),
	    cmocka_unit_test(
		util_signal_parse__unknown_or_out_of_range__minus_one),
	    cmocka_unit_test(util_signal_name__known__canonical_name),
	    cmocka_unit_test(util_signal_name__out_of_range__null),
	    cmocka_unit_test(util_signal_name__every_signal__parses_back),
	    cmocka_unit_test(util_time_format__instants__rfc3339_millis),
	    cmocka_unit_test(util_split_hostport__forms__host_and_port),
	    cmocka_unit_test(util_time_parse__forms__ms_since_the_epoch),
	    cmocka_unit_test(
		util_time_format__exact_and_short_buffers__terminated),
	    cmocka_unit_test(
		util_strlcpy__fits_and_truncates__returns_source_length),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
