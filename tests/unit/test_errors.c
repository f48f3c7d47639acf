/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for proto/errors.c: the contract's error table (every code's
 * string and HTTP status, both directions) and the struct serr helpers
 * (NULL handling, truncation, errno preservation).
 */

#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/errors.h"

/* The contract's table (API.md, "Errors"), written out independently. */
static const struct {
	enum serr_code code;
	const char *name;
	int status;
} contract[] = {
    {SERR_INVALID, "invalid_argument", 400},
    {SERR_UNAUTHENTICATED, "unauthenticated", 401},
    {SERR_PERMISSION, "permission_denied", 403},
    {SERR_NOT_FOUND, "not_found", 404},
    {SERR_METHOD, "method_not_allowed", 405},
    {SERR_CONFLICT, "conflict", 409},
    {SERR_CURSOR_EXPIRED, "cursor_expired", 410},
    {SERR_TOO_LARGE, "too_large", 413},
    {SERR_MEDIA_TYPE, "unsupported_media_type", 415},
    {SERR_UNSATISFIABLE, "unsatisfiable", 422},
    {SERR_HEADERS_TOO_LARGE, "headers_too_large", 431},
    {SERR_INTERNAL, "internal", 500},
    {SERR_UNAVAILABLE, "unavailable", 503},
};

#define NCONTRACT (sizeof contract / sizeof contract[0])

static void
serr_code_name__every_contract_code__matches_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NCONTRACT; i++)
		assert_string_equal(
		    serr_code_name(contract[i].code), contract[i].name);
}

static void
serr_code_status__every_contract_code__matches_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NCONTRACT; i++)
		assert_int_equal(
		    serr_code_status(contract[i].code), contract[i].status);
}

static void
serr_code_from_name__every_contract_name__gives_code(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NCONTRACT; i++)
		assert_int_equal(
		    serr_code_from_name(contract[i].name), contract[i].code);
}

static void
serr_code_name__all_codes__distinct_and_round_trip(void **state)
{
	int i, j;

	(void)state;
	for (i = SERR_INVALID; i < SERR_NCODES; i++) {
		assert_int_equal(serr_code_from_name(serr_code_name(i)), i);
		for (j = i + 1; j < SERR_NCODES; j++)
			assert_string_not_equal(
			    serr_code_name(i), serr_code_name(j));
	}
	/* Every contract code has a table entry; none is left over. */
	assert_int_equal(SERR_NCODES - 1, (int)NCONTRACT);
}

static void
serr_code_name__out_of_range__internal(void **state)
{
	(void)state;
	assert_string_equal(serr_code_name(SERR_NCODES), "internal");
	assert_string_equal(serr_code_name((enum serr_code)9999), "internal");
	assert_string_equal(serr_code_name((enum serr_code) - 1), "internal");
}

static void
serr_code_status__out_of_range__500(void **state)
{
	(void)state;
	assert_int_equal(serr_code_status(SERR_NCODES), 500);
	assert_int_equal(serr_code_status((enum serr_code) - 1), 500);
}

static void
serr_code_from_name__unknown_or_null__internal(void **state)
{
	(void)state;
	assert_int_equal(serr_code_from_name("nope"), SERR_INTERNAL);
	assert_int_equal(serr_code_from_name(""), SERR_INTERNAL);
	assert_int_equal(
	    serr_code_from_name("Invalid_Argument"), SERR_INTERNAL);
	assert_int_equal(
	    serr_code_from_name("invalid_argument "), SERR_INTERNAL);
	assert_int_equal(serr_code_from_name(NULL), SERR_INTERNAL);
}

static void
serr_set__field_and_format__filled(void **state)
{
	struct serr err;

	(void)state;
	serr_clear(&err);
	serr_set(&err, SERR_INVALID, "sched.priority",
	    "sched.priority must be %d..%d for policy %s", 1, 99, "fifo");
	assert_int_equal(err.code, SERR_INVALID);
	assert_string_equal(err.field, "sched.priority");
	assert_string_equal(
	    err.message, "sched.priority must be 1..99 for policy fifo");
}

static void
serr_set__null_field__empty_field(void **state)
{
	struct serr err;

	(void)state;
	memset(&err, 'x', sizeof err);
	serr_set(&err, SERR_NOT_FOUND, NULL, "no such job");
	assert_int_equal(err.code, SERR_NOT_FOUND);
	assert_string_equal(err.field, "");
	assert_string_equal(err.message, "no such job");
}

static void
serr_set__null_err__no_crash(void **state)
{
	(void)state;
	serr_set(NULL, SERR_INTERNAL, "x", "%s", "y");
	serr_clear(NULL);
}

static void
serr_set__long_texts__truncated_and_terminated(void **state)
{
	char big[1024];
	struct serr err;

	(void)state;
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	serr_set(&err, SERR_INVALID, big, "%s", big);
	assert_int_equal(strlen(err.field), SERR_FIELD_MAX - 1);
	assert_int_equal(strlen(err.message), SERR_MESSAGE_MAX - 1);
	assert_int_equal(err.field[0], 'a');
	assert_int_equal(err.message[SERR_MESSAGE_MAX - 2], 'a');
}

/* 1 if s is well-formed UTF-8 (no partial or stray sequences). */
static int
utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int i, n;

	while (*p != '\0') {
		if (*p < 0x80)
			n = 0;
		else if ((*p & 0xe0) == 0xc0)
			n = 1;
		else if ((*p & 0xf0) == 0xe0)
			n = 2;
		else if ((*p & 0xf8) == 0xf0)
			n = 3;
		else
			return (0);
		p++;
		for (i = 0; i < n; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return (0);
		}
	}
	return (1);
}

static void
serr_set__truncated_utf8__no_partial_character(void **state)
{
	char two[401], three[601], four[801];
	struct serr err;
	int i;

	(void)state;
	for (i = 0; i < 200; i++)
		memcpy(two + 2 * i, "\xc3\xa9", 2); /* e acute */
	two[400] = '\0';
	for (i = 0; i < 200; i++)
		memcpy(three + 3 * i, "\xe2\x98\x83", 3); /* snowman */
	three[600] = '\0';
	for (i = 0; i < 200; i++)
		memcpy(four + 4 * i, "\xf0\x9f\x98\x80", 4); /* emoji */
	four[800] = '\0';

	serr_set(&err, SERR_INVALID, two, "x%s", two);
	assert_true(utf8_valid(err.field));
	assert_true(utf8_valid(err.message));
	assert_int_equal(strlen(err.field), 126);
	assert_int_equal(strlen(err.message), 255);

	serr_set(&err, SERR_INVALID, three, "%s", three);
	assert_true(utf8_valid(err.field));
	assert_true(utf8_valid(err.message));
	assert_int_equal(strlen(err.field), 126);
	assert_int_equal(strlen(err.message), 255);

	serr_set(&err, SERR_INVALID, four, "ab%s", four);
	assert_true(utf8_valid(err.field));
	assert_true(utf8_valid(err.message));
	assert_int_equal(strlen(err.field), 124);
	assert_int_equal(strlen(err.message), 254);
}

static void
serr_set__errno__preserved(void **state)
{
	struct serr err;

	(void)state;
	errno = EACCES;
	serr_set(&err, SERR_PERMISSION, NULL, "denied: %s", "uid 1000");
	assert_int_equal(errno, EACCES);
	errno = ENOENT;
	serr_set(&err, SERR_NOT_FOUND, "job", "%d", 7);
	assert_int_equal(errno, ENOENT);
}

static void
serr_clear__after_set__ok_and_empty(void **state)
{
	struct serr err;

	(void)state;
	serr_set(&err, SERR_CONFLICT, "name", "name taken");
	serr_clear(&err);
	assert_int_equal(err.code, SERR_OK);
	assert_string_equal(err.field, "");
	assert_string_equal(err.message, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		serr_code_name__every_contract_code__matches_table),
	    cmocka_unit_test(
		serr_code_status__every_contract_code__matches_table),
	    cmocka_unit_test(
		serr_code_from_name__every_contract_name__gives_code),
	    cmocka_unit_test(
		serr_code_name__all_codes__distinct_and_round_trip),
	    cmocka_unit_test(serr_code_name__out_of_range__internal),
	    cmocka_unit_test(serr_code_status__out_of_range__500),
	    cmocka_unit_test(serr_code_from_name__unknown_or_null__internal),
	    cmocka_unit_test(serr_set__field_and_format__filled),
	    cmocka_unit_test(serr_set__null_field__empty_field),
	    cmocka_unit_test(serr_set__null_err__no_crash),
	    cmocka_unit_test(serr_set__long_texts__truncated_and_terminated),
	    cmocka_unit_test(serr_set__truncated_utf8__no_partial_character),
	    cmocka_unit_test(serr_set__errno__preserved),
	    cmocka_unit_test(serr_clear__after_set__ok_and_empty),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
