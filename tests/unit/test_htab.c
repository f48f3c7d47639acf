/* SPDX-License-Identifier: ISC */
/*
 * The hash tables behind the supervisor's job indexes: puts, gets and
 * deletes checked against a plain array as the model, through growth,
 * shrinking and the backward shifts that deletion does inside clusters.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/htab.h"

#define MODEL_KEYS 512

/* Deterministic, so that a failure replays. */
static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1103515245U + 12345U;
	return (*s >> 8);
}

/* A distinct non-NULL value per key. */
static void *
val_of(int64_t key)
{
	static char vals[MODEL_KEYS];

	return (&vals[key]);
}

static void
htab_get__empty_table__null(void **state)
{
	struct htab h;

	(void)state;
	htab_init(&h);
	assert_null(htab_get_int(&h, 1));
	assert_null(htab_get_str(&h, "a"));
	assert_null(htab_del_int(&h, 1));
	assert_null(htab_del_str(&h, "a"));
	assert_int_equal(htab_len(&h), 0);
	htab_clear(&h);
}

static void
htab_put_int__existing_key__replaces_and_returns_old(void **state)
{
	struct htab h;
	int a, b;

	(void)state;
	htab_init(&h);
	assert_null(htab_put_int(&h, 42, &a));
	assert_ptr_equal(htab_put_int(&h, 42, &b), &a);
	assert_ptr_equal(htab_get_int(&h, 42), &b);
	assert_int_equal(htab_len(&h), 1);
	assert_ptr_equal(htab_del_int(&h, 42), &b);
	assert_null(htab_get_int(&h, 42));
	assert_int_equal(htab_len(&h), 0);
	htab_clear(&h);
}

static void
htab_int__negative_and_extreme_keys__distinct(void **state)
{
	int64_t keys[] = {0, -1, 1, INT64_MIN, INT64_MAX, 4096, -4096};
	struct htab h;
	size_t i;

	(void)state;
	htab_init(&h);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_null(htab_put_int(&h, keys[i], &keys[i]));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_ptr_equal(htab_get_int(&h, keys[i]), &keys[i]);
	htab_clear(&h);
}

/*
 * Random puts and deletes over few keys (so clusters form and deletes
 * shift entries back), the whole table checked against the model often.
 */
static void
htab_int__random_ops__match_model(void **state)
{
	static void *model[MODEL_KEYS];
	struct htab h;
	uint32_t seed = 1;
	int64_t k;
	size_t n = 0;
	int op, i;

	(void)state;
	htab_init(&h);
	for (op = 0; op < 200000; op++) {
		k = (int64_t)(lcg(&seed) % MODEL_KEYS);
		/* Phases that fill up and drain, for growth and shrinking. */
		if (lcg(&seed) % 100 < ((op / 20000) % 2 == 0 ? 70 : 30)) {
			assert_ptr_equal(
			    htab_put_int(&h, k, val_of(k)), model[k]);
			if (model[k] == NULL)
				n++;
			model[k] = val_of(k);
		} else {
			assert_ptr_equal(htab_del_int(&h, k), model[k]);
			if (model[k] != NULL)
				n--;
			model[k] = NULL;
		}
		assert_int_equal(htab_len(&h), n);
		if (op % 997 != 0)
			continue;
		for (i = 0; i < MODEL_KEYS; i++)
			assert_ptr_equal(htab_get_int(&h, i), model[i]);
	}
	for (i = 0; i < MODEL_KEYS; i++)
		if (model[i] != NULL)
			assert_ptr_equal(htab_del_int(&h, i), model[i]);
	assert_int_equal(htab_len(&h), 0);
	htab_clear(&h);
}

static void
htab_str__random_ops__match_model(void **state)
{
	static char names[MODEL_KEYS][16];
	static void *model[MODEL_KEYS];
	struct htab h;
	uint32_t seed = 7;
	size_t n = 0;
	int op, i, k;

	(void)state;
	for (i = 0; i < MODEL_KEYS; i++)
		snprintf(names[i], sizeof(names[i]), "sleep-%d", i);
	htab_init(&h);
	for (op = 0; op < 100000; op++) {
		k = (int)(lcg(&seed) % MODEL_KEYS);
		if (lcg(&seed) % 100 < ((op / 10000) % 2 == 0 ? 70 : 30)) {
			assert_ptr_equal(
			    htab_put_str(&h, names[k], val_of(k)), model[k]);
			if (model[k] == NULL)
				n++;
			model[k] = val_of(k);
		} else {
			assert_ptr_equal(htab_del_str(&h, names[k]), model[k]);
			if (model[k] != NULL)
				n--;
			model[k] = NULL;
		}
		assert_int_equal(htab_len(&h), n);
		if (op % 499 != 0)
			continue;
		for (i = 0; i < MODEL_KEYS; i++)
			assert_ptr_equal(htab_get_str(&h, names[i]), model[i]);
	}
	htab_clear(&h);
	assert_int_equal(htab_len(&h), 0);
	assert_null(htab_get_str(&h, names[0]));
}

/* Lookups compare contents, and a replacing put borrows the new key. */
static void
htab_str__equal_key_other_pointer__found_and_rebound(void **state)
{
	struct htab h;
	char *a, *b;
	int v1, v2;

	(void)state;
	htab_init(&h);
	a = strdup("web");
	b = strdup("web");
	assert_non_null(a);
	assert_non_null(b);
	assert_null(htab_put_str(&h, a, &v1));
	assert_ptr_equal(htab_get_str(&h, "web"), &v1);
	assert_ptr_equal(htab_put_str(&h, b, &v2), &v1);
	free(a); /* the table must not look at it any more */
	assert_ptr_equal(htab_get_str(&h, "web"), &v2);
	assert_null(htab_get_str(&h, "we"));
	assert_null(htab_get_str(&h, "web2"));
	assert_ptr_equal(htab_del_str(&h, "web"), &v2);
	free(b);
	htab_clear(&h);
}

/* Thousands of entries in and out again: all found, then all gone. */
static void
htab_int__grow_then_drain__all_found(void **state)
{
	static int vals[20000];
	struct htab h;
	int i;

	(void)state;
	htab_init(&h);
	for (i = 0; i < 20000; i++)
		assert_null(htab_put_int(&h, (int64_t)i * 4096, &vals[i]));
	assert_int_equal(htab_len(&h), 20000);
	for (i = 0; i < 20000; i++)
		assert_ptr_equal(htab_get_int(&h, (int64_t)i * 4096), &vals[i]);
	for (i = 0; i < 20000; i += 2)
		assert_ptr_equal(htab_del_int(&h, (int64_t)i * 4096), &vals[i]);
	for (i = 0; i < 20000; i++)
		assert_ptr_equal(htab_get_int(&h, (int64_t)i * 4096),
		    i % 2 == 0 ? NULL : &vals[i]);
	for (i = 1; i < 20000; i += 2)
		assert_ptr_equal(htab_del_int(&h, (int64_t)i * 4096), &vals[i]);
	assert_int_equal(htab_len(&h), 0);
	assert_null(htab_get_int(&h, 4096));
	htab_clear(&h);
}

/* The same with string keys: the slots keep no hash, so every resize and
 * every deletion's shift hashes the names again, and must find them. */
static void
htab_str__grow_then_drain__all_found(void **state)
{
	static char names[5000][16];
	static int vals[5000];
	struct htab h;
	int i;

	(void)state;
	htab_init(&h);
	for (i = 0; i < 5000; i++) {
		snprintf(names[i], sizeof(names[i]), "job-%d", i);
		assert_null(htab_put_str(&h, names[i], &vals[i]));
	}
	assert_int_equal(htab_len(&h), 5000);
	for (i = 0; i < 5000; i++)
		assert_ptr_equal(htab_get_str(&h, names[i]), &vals[i]);
	assert_null(htab_get_str(&h, "job-5000"));
	for (i = 0; i < 5000; i += 2)
		assert_ptr_equal(htab_del_str(&h, names[i]), &vals[i]);
	for (i = 0; i < 5000; i++)
		assert_ptr_equal(
		    htab_get_str(&h, names[i]), i % 2 == 0 ? NULL : &vals[i]);
	for (i = 1; i < 5000; i += 2)
		assert_ptr_equal(htab_del_str(&h, names[i]), &vals[i]);
	assert_int_equal(htab_len(&h), 0);
	assert_null(htab_get_str(&h, "job-1"));
	htab_clear(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(htab_get__empty_table__null),
	    cmocka_unit_test(
		htab_put_int__existing_key__replaces_and_returns_old),
	    cmocka_unit_test(htab_int__negative_and_extreme_keys__distinct),
	    cmocka_unit_test(htab_int__random_ops__match_model),
	    cmocka_unit_test(htab_str__random_ops__match_model),
	    cmocka_unit_test(
		htab_str__equal_key_other_pointer__found_and_rebound),
	    cmocka_unit_test(htab_int__grow_then_drain__all_found),
	    cmocka_unit_test(htab_str__grow_then_drain__all_found),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
