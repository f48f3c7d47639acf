/* SPDX-License-Identifier: ISC */
/*
 * The reply writer against jansson: json_out_value must write the very bytes
 * json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) writes, for random trees
 * from a fixed seed and for hand-picked values (every control character,
 * U+2028, integer extremes, reals, deep nesting, writes across the stack
 * chunk), and refuse what json_dumps refuses. The RFC 3339 formatter of
 * api-jobs.c is static and reached only through a supervisor, which would
 * move the test into a cgroup of its own: it is not tested here.
 */
#include "config.h"

#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "daemon/api-int.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY)

/*
 * Every string piece, control and integer edge many times over, in every
 * kind of place, and still well under 2 s with ASan.
 */
#define RANDOM_TREES   50000
#define RANDOM_OBJECTS 2000
#define RANDOM_DEPTH   5

/* Show whole texts up to this size, a window around the difference past. */
#define SHOW_MAX 2048

/* xorshift64 from a fixed seed: every run checks the same trees. */
static uint64_t rng_state;

static void
rng_seed(uint64_t seed)
{
	rng_state = seed;
}

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (rng_state);
}

static uint64_t
rng_below(uint64_t n)
{
	return (rng() % n);
}

/*
 * v through the writer, or its members with members set. Returns
 * json_out_end's answer; *text (caller frees, NUL-ended) and *len hold what
 * reached the buffer, *count what json_out_members returned.
 */
static int
writer_dump(
    const json_t *v, int members, size_t *count, char **text, size_t *len)
{
	struct evbuffer *buf;
	struct json_out o;
	int rc;

	buf = evbuffer_new();
	assert_non_null(buf);
	api_out_begin(&o, buf);
	if (members)
		*count = json_out_members(&o, v);
	else
		json_out_value(&o, v);
	rc = json_out_end(&o);
	*len = evbuffer_get_length(buf);
	*text = malloc(*len + 1);
	assert_non_null(*text);
	assert_int_equal(evbuffer_remove(buf, *text, *len), (int)*len);
	(*text)[*len] = '\0';
	evbuffer_free(buf);
	return (rc);
}

/* Both texts in full, or around the first difference if they are long. */
static void
show_difference(const char *what, long i, const char *want, size_t want_len,
    const char *got, size_t got_len)
{
	size_t at, from;

	for (at = 0; at < want_len && at < got_len && want[at] == got[at]; at++)
		;
	print_error("%s %ld: first difference at byte %zu\n", what, i, at);
	if (want_len <= SHOW_MAX && got_len <= SHOW_MAX) {
		print_error(" json_dumps   (%zu bytes): %.*s\n", want_len,
		    (int)want_len, want);
		print_error(" json_out_value (%zu bytes): %.*s\n", got_len,
		    (int)got_len, got);
		return;
	}
	from = at > 64 ? at - 64 : 0;
	print_error(" json_dumps   (%zu bytes) from %zu: %.*s\n", want_len,
	    from, (int)(want_len - from < 128 ? want_len - from : 128),
	    want + from);
	print_error(" json_out_value (%zu bytes) from %zu: %.*s\n", got_len,
	    from, (int)(got_len - from < 128 ? got_len - from : 128),
	    got + from);
}

/*
 * Fail, printing both texts, unless the writer writes v (or its members,
 * the braces of json_dumps's text taken away) as json_dumps does.
 */
static void
check_members(const json_t *v, int members, const char *what, long i)
{
	char *want, *got;
	size_t want_len, got_len, count = 0;
	int rc, same;

	want = json_dumps(v, DUMP_FLAGS);
	assert_non_null(want);
	want_len = strlen(want);
	rc = writer_dump(v, members, &count, &got, &got_len);
	if (members) {
		assert_true(want_len >= 2);
		want_len -= 2;
		memmove(want, want + 1, want_len);
	}
	same = rc == 0 && got_len == want_len &&
	       memcmp(got, want, want_len) == 0 &&
	       (!members || count == json_object_size(v));
	if (!same) {
		print_error("%s %ld: json_out_end %d, %zu members\n", what, i,
		    rc, count);
		show_difference(what, i, want, want_len, got, got_len);
	}
	free(want);
	free(got);
	if (!same)
		fail_msg("%s %ld: the writer differs from json_dumps", what, i);
}

static void
check(const json_t *v, const char *what, long i)
{
	check_members(v, 0, what, i);
}

/* Fail unless both json_dumps and the writer refuse v. */
static void
check_refused(const json_t *v)
{
	char *want, *got;
	size_t len, count;

	want = json_dumps(v, DUMP_FLAGS);
	assert_null(want);
	assert_int_equal(writer_dump(v, 0, &count, &got, &len), -1);
	free(got);
}

/* Steals v; the test fails if jansson refused to make it. */
static void
check_new(json_t *v, const char *what, long i)
{
	assert_non_null(v);
	check(v, what, i);
	json_decref(v);
}

/* Random trees */

static void
obj_put(json_t *obj, const json_t *key, json_t *v)
{
#if JANSSON_VERSION_HEX >= 0x020e00
	/* Keys may hold NUL from 2.14 on; the writer must keep their length. */
	json_object_setn_new(
	    obj, json_string_value(key), json_string_length(key), v);
#else
	json_object_set_new(obj, json_string_value(key), v);
#endif
}

/*
 * Up to 40 pieces: escapes jansson writes short, controls it writes as
 * \u00XX (NUL too, hence json_stringn), and UTF-8 it passes through:
 * U+2028/9, U+FFFF, U+10FFFF and an emoji.
 */
static json_t *
random_string(void)
{
	static const char *const pieces[] = {"\"", "\\", "/", "\b", "\f", "\n",
	    "\r", "\t", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xe2\x80\xa8",
	    "\xe2\x80\xa9", "\xef\xbf\xbf", "\xf0\x9f\x98\x80",
	    "\xf4\x8f\xbf\xbf", "a", "Z", " ", "0"};
	const char *p;
	char buf[256];
	size_t n = 0, len, i, plen;
	json_t *s;

	len = rng_below(40);
	for (i = 0; i < len; i++) {
		if (rng_below(3) == 0) {
			buf[n++] = (char)rng_below(0x20);
			continue;
		}
		p = pieces[rng_below(sizeof(pieces) / sizeof(pieces[0]))];
		plen = strlen(p);
		memcpy(buf + n, p, plen);
		n += plen;
	}
	s = json_stringn(buf, n);
	assert_non_null(s);
	return (s);
}

static json_t *
random_integer(void)
{
	static const json_int_t edges[] = {0, 1, -1, 9, 10, -10, 99, 100,
	    INT64_C(1234567890123), INT64_MAX, INT64_MAX - 1, INT64_MIN,
	    INT64_MIN + 1};

	switch (rng_below(3)) {
	case 0:
		return (json_integer(
		    edges[rng_below(sizeof(edges) / sizeof(edges[0]))]));
	case 1:
		return (json_integer((json_int_t)rng_below(2000) - 1000));
	default:
		return (json_integer((json_int_t)rng()));
	}
}

/* A listed real or any finite double (jansson refuses NaN and infinity). */
static json_t *
random_real(void)
{
	static const double edges[] = {0.0, -0.0, 0.1, 1.5, 3.0, -3.0, 1e300,
	    -1e-300, 1e16, 1e17, 2.5e-5, 123456789.0, 5e-324, DBL_MAX,
	    -DBL_MIN};
	uint64_t bits;
	double d;

	if (rng_below(2) == 0)
		return (json_real(
		    edges[rng_below(sizeof(edges) / sizeof(edges[0]))]));
	do {
		bits = rng();
		memcpy(&d, &bits, sizeof(d));
	} while (!isfinite(d));
	return (json_real(d));
}

static json_t *
random_value(int depth)
{
	json_t *v, *key;
	uint64_t i, n;

	/* Past RANDOM_DEPTH only scalars, so that trees stay small. */
	switch (rng_below(depth >= RANDOM_DEPTH ? 6 : 8)) {
	case 0:
		return (json_null());
	case 1:
		return (json_boolean(rng_below(2)));
	case 2:
		return (random_integer());
	case 3:
		return (random_real());
	case 4:
	case 5:
		return (random_string());
	case 6:
		v = json_array();
		n = rng_below(6);
		for (i = 0; i < n; i++)
			json_array_append_new(v, random_value(depth + 1));
		return (v);
	default:
		v = json_object();
		n = rng_below(7);
		for (i = 0; i < n; i++) {
			key = random_string();
			obj_put(v, key, random_value(depth + 1));
			json_decref(key);
		}
		return (v);
	}
}

static void
json_out_value__random_trees__same_bytes_as_json_dumps(void **state)
{
	long i;

	(void)state;
	rng_seed(UINT64_C(88172645463325252));
	for (i = 0; i < RANDOM_TREES; i++)
		check_new(random_value(0), "random tree", i);
}

/* json_out_text(v, sort) is json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY,
 * with JSON_SORT_KEYS when sorting), byte for byte. */
static void
check_text(const json_t *v, int sort, const char *what, long i)
{
	char *want, *got;

	want = json_dumps(v, DUMP_FLAGS | (sort ? JSON_SORT_KEYS : 0));
	got = json_out_text(v, sort);
	assert_non_null(want);
	assert_non_null(got);
	if (strlen(want) != strlen(got) || strcmp(want, got) != 0) {
		show_difference(what, i, want, strlen(want), got, strlen(got));
		fail_msg("%s %ld: json_out_text(sort %d) differs from "
			 "json_dumps",
		    what, i, sort);
	}
	free(want);
	free(got);
}

static void
json_out_text__random_trees_sorted_or_not__same_bytes_as_json_dumps(
    void **state)
{
	json_t *v, *big;
	char key[16];
	long i;
	int k;

	(void)state;
	rng_seed(UINT64_C(0x50e7ed4e75));
	for (i = 0; i < RANDOM_TREES; i++) {
		v = random_value(0);
		check_text(v, 0, "random tree", i);
		check_text(v, 1, "random tree, sorted", i);
		json_decref(v);
	}
	/* More members than the writer sorts on its stack (32), keys that
	 * are prefixes of one another and a key with a NUL in it. */
	big = json_object();
	for (k = 99; k >= 0; k--) {
		snprintf(key, sizeof(key), "k%d", k * 7 % 100);
		json_object_set_new(big, key, json_integer(k));
	}
	json_object_setn_new(big, "a\0b", 3, json_true());
	json_object_set_new(big, "a", json_false());
	json_object_set_new(big, "", json_null());
	check_text(big, 1, "100 members", 0);
	check_text(big, 0, "100 members", 0);
	json_decref(big);
	assert_null(json_out_text(NULL, 1));
}

static void
json_out_members__random_objects__json_dumps_without_braces(void **state)
{
	json_t *obj, *key;
	long i;
	uint64_t k, n;

	(void)state;
	rng_seed(UINT64_C(0x5eed0b1ec75));
	for (i = 0; i < RANDOM_OBJECTS; i++) {
		obj = json_object();
		n = rng_below(8);
		for (k = 0; k < n; k++) {
			key = random_string();
			obj_put(obj, key, random_value(1));
			json_decref(key);
		}
		check_members(obj, 1, "random object", i);
		json_decref(obj);
	}
	obj = json_object();
	check_members(obj, 1, "empty object", 0);
	json_decref(obj);
}

static void
json_out_members__not_an_object__refused(void **state)
{
	json_t *a = json_array();
	char *text;
	size_t len, count = 1;

	(void)state;
	assert_int_equal(writer_dump(a, 1, &count, &text, &len), -1);
	assert_int_equal(count, 0);
	assert_int_equal(len, 0);
	free(text);
	json_decref(a);
}

/* Hand-picked values */

static void
json_out_value__empty_containers__match(void **state)
{
	(void)state;
	check_new(json_object(), "{}", 0);
	check_new(json_array(), "[]", 0);
	check_new(json_string(""), "\"\"", 0);
	check_new(json_pack("[{}, [], {s:[]}, [[]]]", ""), "nested empties", 0);
}

static void
json_out_value__every_control_char__escaped_as_json_dumps(void **state)
{
	char all[0x20 * 2];
	char c;
	int i;

	(void)state;
	for (i = 0; i < 0x20; i++) {
		c = (char)i;
		check_new(json_stringn(&c, 1), "control char", i);
		all[2 * i] = c;
		all[2 * i + 1] = 'x';
	}
	check_new(json_stringn(all, sizeof(all)), "every control char", 0);
	/* DEL is no control to JSON: it passes through. */
	check_new(json_string("\x7f"), "DEL", 0x7f);
	check_new(json_string("\"\\"), "quote and backslash", 0);
}

static void
json_out_value__separators_slash_and_emoji__unescaped_as_json_dumps(
    void **state)
{
	static const char *const strs[] = {"\xe2\x80\xa8", "\xe2\x80\xa9", "/",
	    "</script>", "\xf0\x9f\x98\x80", "\xef\xbb\xbf", "\xf4\x8f\xbf\xbf",
	    "caf\xc3\xa9"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		check_new(json_string(strs[i]), "string", (long)i);
}

static void
json_out_value__key_with_nul__written_whole(void **state)
{
#if JANSSON_VERSION_HEX >= 0x020e00
	json_t *obj = json_object();

	(void)state;
	assert_int_equal(json_object_setn_new(obj, "a\0b", 3, json_true()), 0);
	assert_int_equal(json_object_setn_new(obj, "\0", 1, json_null()), 0);
	check_new(obj, "key with NUL", 0);
#else
	(void)state;
	skip();
#endif
}

static void
json_out_value__integer_extremes__match(void **state)
{
	struct evbuffer *buf;
	struct json_out o;
	json_int_t p = 1;
	char want[32];
	int k, sign;

	(void)state;
	check_new(json_integer(INT64_MAX), "INT64_MAX", 0);
	check_new(json_integer(INT64_MIN), "INT64_MIN", 0);
	check_new(json_integer(INT64_MIN + 1), "INT64_MIN + 1", 0);
	/* Every digit count; 10^18 is the last power of ten that fits. */
	for (k = 0; k <= 18; k++) {
		for (sign = -1; sign <= 1; sign += 2) {
			check_new(json_integer(sign * p), "10^k", k);
			check_new(json_integer(sign * (p - 1)), "10^k - 1", k);
		}
		if (k < 18)
			p *= 10;
	}
	/* json_out_int on its own, as the job encoder calls it. */
	buf = evbuffer_new();
	assert_non_null(buf);
	api_out_begin(&o, buf);
	json_out_int(&o, INT64_MIN);
	assert_int_equal(json_out_end(&o), 0);
	snprintf(
	    want, sizeof(want), "%" JSON_INTEGER_FORMAT, (json_int_t)INT64_MIN);
	assert_int_equal(evbuffer_get_length(buf), strlen(want));
	assert_memory_equal(evbuffer_pullup(buf, -1), want, strlen(want));
	evbuffer_free(buf);
}

static void
json_out_value__reals__match(void **state)
{
	static const double reals[] = {0.1, 0.5, 1e300, -1e300, 1e-300, -0.0,
	    0.0, 3.0, -3.0, 1e16, 1e17, 1e21, 123456789012345678.0, 2.0 / 3.0,
	    5e-324, DBL_MIN, DBL_MAX, -DBL_MAX, 1e-7, 100.0};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(reals) / sizeof(reals[0]); i++)
		check_new(json_real(reals[i]), "real", (long)i);
	check_new(json_pack("[f, {s:f}]", -0.0, "x", 0.1), "reals inside", 0);
}

/* depth containers, arrays and objects in turn, around a string. */
static json_t *
nest(int depth)
{
	json_t *v, *c;
	int i;

	v = json_string("leaf");
	for (i = 0; i < depth; i++) {
		if (i % 2 == 0) {
			c = json_array();
			json_array_append_new(c, v);
		} else {
			c = json_object();
			json_object_set_new(c, "k", v);
		}
		v = c;
	}
	return (v);
}

static void
json_out_value__deep_nesting__match(void **state)
{
	(void)state;
	/* The deepest json_loads reads, so the deepest a request can be. */
	check_new(nest(2048), "nesting", 2048);
	check_new(nest(2049), "nesting", 2049);
}

/*
 * Plain runs longer than the stack chunk (written past it), and escapes
 * at every offset around the first flush.
 */
static void
json_out_value__across_chunk_boundaries__match(void **state)
{
	static const char tail[] = "\x01\"\\\n\xf0\x9f\x98\x80\xe2\x80\xa8";
	size_t sizes[] = {JSON_OUT_CHUNK - 1, JSON_OUT_CHUNK,
	    JSON_OUT_CHUNK + 1, 3 * JSON_OUT_CHUNK + 7, 100000};
	size_t i, pad, big = 100000 + sizeof(tail);
	json_t *a;
	char *s;

	(void)state;
	s = malloc(big);
	assert_non_null(s);
	memset(s, 'x', big);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_new(json_stringn(s, sizes[i]), "long string", (long)i);
	for (pad = JSON_OUT_CHUNK - 48; pad <= JSON_OUT_CHUNK + 8; pad++) {
		memcpy(s + pad, tail, sizeof(tail) - 1);
		check_new(json_pack("[s%]", s, pad + sizeof(tail) - 1),
		    "escape at offset", (long)pad);
		memset(s + pad, 'x', sizeof(tail) - 1);
	}
	/* Thousands of small tokens, a long string with a \n among them. */
	rng_seed(UINT64_C(0xc4a2d));
	a = json_array();
	for (i = 0; i < 2000; i++)
		json_array_append_new(a, random_value(0));
	s[5] = '\n';
	json_array_append_new(a, json_stringn(s, 100000));
	for (i = 0; i < 2000; i++)
		json_array_append_new(a, random_value(0));
	check_new(a, "big array", 0);
	free(s);
}

/* What json_dumps refuses */

static void
json_out_value__null__refused(void **state)
{
	(void)state;
	check_refused(NULL);
}

static void
json_out_value__cycle__refused_like_json_dumps(void **state)
{
	json_t *a = json_array(), *b = json_array(), *o = json_object();

	(void)state;
	/* json_array_append refuses a itself, not a way back through b. */
	assert_int_equal(json_array_append(b, a), 0);
	assert_int_equal(json_array_append(a, b), 0);
	check_refused(a);
	assert_int_equal(json_object_set(o, "b", b), 0);
	check_refused(o);
	json_array_clear(a);
	json_decref(a);
	json_decref(b);
	json_decref(o);
}

/*
 * The writer takes nesting past its limit for a cycle; json_dumps, which
 * tracks its parents, writes such a tree. No request parses that deep.
 */
static void
json_out_value__deeper_than_any_request__refused(void **state)
{
	json_t *v = nest(10000);
	char *got;
	size_t len, count;

	(void)state;
	assert_int_equal(writer_dump(v, 0, &count, &got, &len), -1);
	free(got);
	json_decref(v);
}

/*
 * Outside the contract (json_out_string wants valid UTF-8, and only
 * json_string*_nocheck make anything else), and unlike json_dumps: the
 * bytes are written as they are. The daemon uses _nocheck only on the
 * ASCII of its own times.
 */
static void
json_out_value__invalid_utf8__written_as_is_unlike_json_dumps(void **state)
{
	static const char bad[] = "a\xff\xe2\x80";
	json_t *v;
	char *got;
	size_t len, count;

	(void)state;
	v = json_stringn_nocheck(bad, sizeof(bad) - 1);
	assert_non_null(v);
	assert_null(json_dumps(v, DUMP_FLAGS));
	assert_int_equal(writer_dump(v, 0, &count, &got, &len), 0);
	assert_int_equal(len, sizeof(bad) + 1);
	assert_memory_equal(got, "\"a\xff\xe2\x80\"", len);
	free(got);
	json_decref(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		json_out_value__random_trees__same_bytes_as_json_dumps),
	    cmocka_unit_test(
		json_out_text__random_trees_sorted_or_not__same_bytes_as_json_dumps),
	    cmocka_unit_test(
		json_out_members__random_objects__json_dumps_without_braces),
	    cmocka_unit_test(json_out_members__not_an_object__refused),
	    cmocka_unit_test(json_out_value__empty_containers__match),
	    cmocka_unit_test(
		json_out_value__every_control_char__escaped_as_json_dumps),
	    cmocka_unit_test(
		json_out_value__separators_slash_and_emoji__unescaped_as_json_dumps),
	    cmocka_unit_test(json_out_value__key_with_nul__written_whole),
	    cmocka_unit_test(json_out_value__integer_extremes__match),
	    cmocka_unit_test(json_out_value__reals__match),
	    cmocka_unit_test(json_out_value__deep_nesting__match),
	    cmocka_unit_test(json_out_value__across_chunk_boundaries__match),
	    cmocka_unit_test(json_out_value__null__refused),
	    cmocka_unit_test(json_out_value__cycle__refused_like_json_dumps),
	    cmocka_unit_test(json_out_value__deeper_than_any_request__refused),
	    cmocka_unit_test(
		json_out_value__invalid_utf8__written_as_is_unlike_json_dumps),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
