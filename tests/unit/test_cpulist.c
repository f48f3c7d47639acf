/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for proto/cpulist.c: the kernel's CPU list syntax both ways,
 * the malformed lists a client may send (each must fail with a reason),
 * the edges of the bitmap (CPU 0, 1023, 1024) and the set operations.
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/cpulist.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Big enough for any set: "0,2,4,...,1022" is about 2000 bytes. */
#define TEXT_MAX 4096

static void
cpulist_parse__valid__canonical_form(void **state)
{
	static const struct {
		const char *in;
		const char *canonical;
		unsigned int count;
	} cases[] = {
	    {"0", "0", 1},
	    {"1023", "1023", 1},
	    {"0-3", "0-3", 4},
	    {"0-3,8", "0-3,8", 5},
	    {"8,0-3", "0-3,8", 5},
	    {"0,1,2,3", "0-3", 4},
	    {"0-1", "0-1", 2},
	    {"3-3", "3", 1},
	    {"0-3,2-5", "0-5", 6},
	    {"1,1,1", "1", 1},
	    {"0-3,4-7", "0-7", 8},
	    {"0,2,4", "0,2,4", 3},
	    {"10-11,0-3,8", "0-3,8,10-11", 7},
	    {"007", "7", 1},
	    {"0-1023", "0-1023", 1024},
	    {"1022-1023", "1022-1023", 2},
	    {"0-3\n", "0-3", 4},
	    {"5\n", "5", 1},
	};
	char buf[TEXT_MAX];
	struct cpulist cl;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		why = "unset";
		if (cpulist_parse(cases[i].in, &cl, 0, &why) != 0)
			fail_msg("cpulist_parse(\"%s\"): %s", cases[i].in, why);
		assert_int_equal(cpulist_count(&cl), cases[i].count);
		assert_int_equal(cpulist_format(&cl, buf, sizeof buf), 0);
		assert_string_equal(buf, cases[i].canonical);
	}
}

static void
cpulist_parse__malformed__rejected_with_reason(void **state)
{
	static const struct {
		const char *in;
		const char *why; /* a substring of the reason */
	} cases[] = {
	    {"1-0", "reversed range 1-0"},
	    {"5-2", "reversed range 5-2"},
	    {"x", "expected a CPU number"},
	    {"0-", "after '-'"},
	    {"-1", "expected a CPU number"},
	    {"1,,2", "empty element"},
	    {"1-2-3", "unexpected '-'"},
	    {",", "empty element"},
	    {"1,", "empty element"},
	    {",1", "empty element"},
	    {"1024", "out of range"},
	    {"0-1024", "out of range"},
	    {"1024-0", "out of range"},
	    {"99999999999999999999", "out of range"},
	    {"", "empty"},
	    {"\n", "empty"},
	    {"1\n\n", "unexpected"},
	    {" 1", "expected a CPU number"},
	    {"1 ", "unexpected ' '"},
	    {"1, 2", "expected a CPU number"},
	    {"1 - 2", "unexpected ' '"},
	    {"+1", "expected a CPU number"},
	    {"0x1", "unexpected 'x'"},
	    {"1;2", "unexpected ';'"},
	    {"1-x", "after '-'"},
	    {"1\n2", "unexpected"},
	};
	struct cpulist cl;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		why = NULL;
		if (cpulist_parse(cases[i].in, &cl, 0, &why) != -1)
			fail_msg("cpulist_parse(\"%s\") accepted", cases[i].in);
		assert_non_null(why);
		if (strstr(why, cases[i].why) == NULL)
			fail_msg("cpulist_parse(\"%s\"): reason \"%s\" lacks "
				 "\"%s\"",
			    cases[i].in, why, cases[i].why);
		/* A failed parse leaves an empty set, not half a list. */
		assert_int_equal(cpulist_count(&cl), 0);
	}
}

static void
cpulist_parse__empty_allowed__empty_set(void **state)
{
	struct cpulist cl;
	const char *why = "unset";
	char buf[8];

	(void)state;
	cpulist_zero(&cl);
	cpulist_set(&cl, 5);
	assert_int_equal(cpulist_parse("", &cl, 1, &why), 0);
	assert_int_equal(cpulist_count(&cl), 0);
	assert_int_equal(cpulist_parse("\n", &cl, 1, &why), 0);
	assert_int_equal(cpulist_count(&cl), 0);
	assert_int_equal(cpulist_format(&cl, buf, sizeof buf), 0);
	assert_string_equal(buf, "");
	/* allow_empty does not excuse malformed elements. */
	assert_int_equal(cpulist_parse(",", &cl, 1, &why), -1);
}

static void
cpulist_parse__null_why__still_fails(void **state)
{
	struct cpulist cl;

	(void)state;
	assert_int_equal(cpulist_parse("1-0", &cl, 0, NULL), -1);
	assert_int_equal(cpulist_parse("2", &cl, 0, NULL), 0);
	assert_true(cpulist_isset(&cl, 2));
}

static void
cpulist_parse__edges__cpu0_and_cpu1023(void **state)
{
	struct cpulist cl;
	const char *why;

	(void)state;
	assert_int_equal(cpulist_parse("0,1023", &cl, 0, &why), 0);
	assert_true(cpulist_isset(&cl, 0));
	assert_true(cpulist_isset(&cl, 1023));
	assert_false(cpulist_isset(&cl, 1));
	assert_false(cpulist_isset(&cl, 1022));
	assert_false(cpulist_isset(&cl, 1024));
	assert_int_equal(cpulist_count(&cl), 2);
	assert_int_equal(cpulist_parse("1024", &cl, 0, &why), -1);
	assert_int_equal(cpulist_parse("1023-1024", &cl, 0, &why), -1);
}

/* The canonical text, a CPU at a time: what cpulist_format must write. */
static void
naive_format(const struct cpulist *cl, char *buf, size_t len)
{
	unsigned int lo, hi;
	size_t off = 0;

	buf[0] = '\0';
	for (lo = 0; lo < CPULIST_MAX; lo++) {
		if (!cpulist_isset(cl, lo))
			continue;
		for (hi = lo; hi + 1 < CPULIST_MAX && cpulist_isset(cl, hi + 1);
		     hi++)
			;
		off += (size_t)snprintf(buf + off, len - off,
		    lo == hi ? "%s%u" : "%s%u-%u", off == 0 ? "" : ",", lo, hi);
		lo = hi;
	}
}

static void
cpulist_format__patterns__round_trip(void **state)
{
	char buf[TEXT_MAX], buf2[TEXT_MAX];
	struct cpulist a, b;
	const char *why;
	unsigned int cpu, pattern;

	(void)state;
	for (pattern = 0; pattern < 8; pattern++) {
		cpulist_zero(&a);
		for (cpu = 0; cpu < CPULIST_MAX; cpu++) {
			switch (pattern) {
			case 0: /* everything */
				cpulist_set(&a, cpu);
				break;
			case 1: /* even: the longest text */
				if (cpu % 2 == 0)
					cpulist_set(&a, cpu);
				break;
			case 2: /* odd */
				if (cpu % 2 == 1)
					cpulist_set(&a, cpu);
				break;
			case 3: /* word boundaries */
				if (cpu % 64 == 63 || cpu % 64 == 0)
					cpulist_set(&a, cpu);
				break;
			case 4: /* pairs */
				if (cpu % 3 != 0)
					cpulist_set(&a, cpu);
				break;
			case 5: /* pseudo-random */
				if (((cpu * 2654435761U) >> 7) % 5 < 2)
					cpulist_set(&a, cpu);
				break;
			case 6: /* the last only */
				if (cpu == CPULIST_MAX - 1)
					cpulist_set(&a, cpu);
				break;
			default: /* nothing */
				break;
			}
		}
		assert_int_equal(cpulist_format(&a, buf, sizeof buf), 0);
		naive_format(&a, buf2, sizeof buf2);
		assert_string_equal(buf, buf2);
		assert_int_equal(cpulist_parse(buf, &b, 1, &why), 0);
		assert_memory_equal(&a, &b, sizeof a);
		assert_int_equal(cpulist_format(&b, buf2, sizeof buf2), 0);
		assert_string_equal(buf, buf2);
	}
}

static void
cpulist_format__small_buffer__fails_terminated(void **state)
{
	struct cpulist cl;
	char buf[6];
	const char *why;

	(void)state;
	assert_int_equal(cpulist_parse("0-3,8", &cl, 0, &why), 0);
	assert_int_equal(cpulist_format(&cl, buf, 6), 0);
	assert_string_equal(buf, "0-3,8");
	assert_int_equal(cpulist_format(&cl, buf, 5), -1);
	assert_string_equal(buf, "");
	assert_int_equal(cpulist_format(&cl, buf, 0), -1);
}

static void
cpulist_set__out_of_range__ignored(void **state)
{
	struct cpulist cl, zero;

	(void)state;
	cpulist_zero(&cl);
	cpulist_zero(&zero);
	cpulist_set(&cl, CPULIST_MAX);
	cpulist_set(&cl, 100000);
	assert_memory_equal(&cl, &zero, sizeof cl);
	cpulist_clear(&cl, CPULIST_MAX);
	assert_int_equal(cpulist_count(&cl), 0);
}

static void
cpulist_clear__set_bits__removed(void **state)
{
	struct cpulist cl;
	const char *why;
	char buf[64];

	(void)state;
	assert_int_equal(cpulist_parse("0-7,63-64", &cl, 0, &why), 0);
	cpulist_clear(&cl, 3);
	cpulist_clear(&cl, 64);
	cpulist_clear(&cl, 100); /* not set: no change */
	assert_int_equal(cpulist_format(&cl, buf, sizeof buf), 0);
	assert_string_equal(buf, "0-2,4-7,63");
	assert_int_equal(cpulist_count(&cl), 8);
}

static void
cpulist_subset__cases__expected(void **state)
{
	static const struct {
		const char *sub, *super;
		int want;
	} cases[] = {
	    {"", "", 1},
	    {"", "0", 1},
	    {"0", "", 0},
	    {"2-3", "0-7", 1},
	    {"0-7", "2-3", 0},
	    {"1023", "0-1023", 1},
	    {"63,64", "63", 0},
	    {"0,8", "0-3,8", 1},
	    {"0-3,8", "0-3,8", 1},
	};
	struct cpulist a, b;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		assert_int_equal(cpulist_parse(cases[i].sub, &a, 1, &why), 0);
		assert_int_equal(cpulist_parse(cases[i].super, &b, 1, &why), 0);
		if (cpulist_subset(&a, &b) != cases[i].want)
			fail_msg("subset(\"%s\", \"%s\") != %d", cases[i].sub,
			    cases[i].super, cases[i].want);
	}
}

/* cpulist_next_set visits exactly the set CPUs, in order, across words
 * and up to the last; or and and agree with the bits one at a time. */
static void
cpulist_next_set__walk_or_and__same_as_bit_by_bit(void **state)
{
	static const char *const lists[] = {"", "0", "63", "64", "0,63-65,127",
	    "1023", "5-9,200,1000-1023", "0-1023"};
	struct cpulist a, b, got;
	const char *why;
	unsigned int x, want;
	size_t i, j;
	char buf[8192];

	(void)state;
	for (i = 0; i < NITEMS(lists); i++) {
		assert_int_equal(cpulist_parse(lists[i], &a, 1, &why), 0);
		cpulist_zero(&got);
		want = 0;
		for (x = cpulist_next_set(&a, 0); x < CPULIST_MAX;
		     x = cpulist_next_set(&a, x + 1)) {
			/* Nothing set was skipped on the way. */
			for (; want < x; want++)
				assert_false(cpulist_isset(&a, want));
			assert_true(cpulist_isset(&a, x));
			cpulist_set(&got, x);
			want = x + 1;
		}
		assert_int_equal(cpulist_format(&got, buf, sizeof(buf)), 0);
		assert_string_equal(buf, lists[i]);
		for (j = 0; j < NITEMS(lists); j++) {
			assert_int_equal(
			    cpulist_parse(lists[j], &b, 1, &why), 0);
			got = a;
			cpulist_or(&got, &b);
			for (x = 0; x < CPULIST_MAX; x++)
				assert_int_equal(cpulist_isset(&got, x),
				    cpulist_isset(&a, x) ||
					cpulist_isset(&b, x));
			got = a;
			cpulist_and(&got, &b);
			for (x = 0; x < CPULIST_MAX; x++)
				assert_int_equal(cpulist_isset(&got, x),
				    cpulist_isset(&a, x) &&
					cpulist_isset(&b, x));
		}
	}
	assert_int_equal(cpulist_next_set(&a, CPULIST_MAX), CPULIST_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cpulist_parse__valid__canonical_form),
	    cmocka_unit_test(cpulist_parse__malformed__rejected_with_reason),
	    cmocka_unit_test(cpulist_parse__empty_allowed__empty_set),
	    cmocka_unit_test(cpulist_parse__null_why__still_fails),
	    cmocka_unit_test(cpulist_parse__edges__cpu0_and_cpu1023),
	    cmocka_unit_test(cpulist_format__patterns__round_trip),
	    cmocka_unit_test(cpulist_format__small_buffer__fails_terminated),
	    cmocka_unit_test(cpulist_set__out_of_range__ignored),
	    cmocka_unit_test(cpulist_clear__set_bits__removed),
	    cmocka_unit_test(cpulist_subset__cases__expected),
	    cmocka_unit_test(cpulist_next_set__walk_or_and__same_as_bit_by_bit),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
