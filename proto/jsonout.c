/* SPDX-License-Identifier: ISC */
/*
 * JSON text from jansson values (proto/jsonout.h): the daemon's replies,
 * and the specs and event data it stores.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto/jsonout.h"

/* Deeper nesting is a cycle: jansson parses no deeper than 2048. */
#define JSON_OUT_DEPTH 4096

void
json_out_begin(struct json_out *o, json_out_sink sink, void *arg)
{
	o->sink = sink;
	o->arg = arg;
	o->len = 0;
	o->error = 0;
	o->sort = 0;
}

static void
out_flush(struct json_out *o)
{
	if (o->len > 0 && o->sink(o->arg, o->data, o->len) == -1)
		o->error = 1;
	o->len = 0;
}

void
json_out_spill(struct json_out *o, const char *s, size_t len)
{
	out_flush(o);
	if (len > sizeof(o->data)) {
		if (o->sink(o->arg, s, len) == -1)
			o->error = 1;
		return;
	}
	memcpy(o->data + o->len, s, len);
	o->len += len;
}

static void
out_byte(struct json_out *o, char c)
{
	if (o->len == sizeof(o->data))
		out_flush(o);
	o->data[o->len++] = c;
}

int
json_out_end(struct json_out *o)
{
	out_flush(o);
	return (o->error ? -1 : 0);
}

/*
 * jansson's string escapes. A json_t string is valid UTF-8 (json_string
 * checks), so looking at bytes is looking at code points: only '"', '\'
 * and controls are escaped, and bytes from 0x80 pass through as they are.
 */
void
json_out_string(struct json_out *o, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *end = s + len, *run = s;
	char esc[6] = {'\\', 'u', '0', '0'};
	unsigned char c;

	out_byte(o, '"');
	for (; s < end; s++) {
		c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		json_out_raw(o, run, s - run);
		run = s + 1;
		switch (c) {
		case '"':
			json_out_raw(o, "\\\"", 2);
			break;
		case '\\':
			json_out_raw(o, "\\\\", 2);
			break;
		case '\b':
			json_out_raw(o, "\\b", 2);
			break;
		case '\f':
			json_out_raw(o, "\\f", 2);
			break;
		case '\n':
			json_out_raw(o, "\\n", 2);
			break;
		case '\r':
			json_out_raw(o, "\\r", 2);
			break;
		case '\t':
			json_out_raw(o, "\\t", 2);
			break;
		default:
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			json_out_raw(o, esc, sizeof(esc));
			break;
		}
	}
	json_out_raw(o, run, end - run);
	out_byte(o, '"');
}

void
json_out_int(struct json_out *o, json_int_t v)
{
	char buf[24], *p = buf + sizeof(buf);
	unsigned long long u;

	u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	json_out_raw(o, p, buf + sizeof(buf) - p);
}

static void out_value(struct json_out *, const json_t *, int);

static size_t
key_len(void *it)
{
#if JANSSON_VERSION_HEX >= 0x020e00
	return (json_object_iter_key_len(it));
#else
	return (strlen(json_object_iter_key(it)));
#endif
}

/* jansson's JSON_SORT_KEYS order: bytes, then length. */
struct out_key {
	const char *key;
	size_t len;
	const json_t *value;
};

static int
out_key_cmp(const void *a, const void *b)
{
	const struct out_key *x = a, *y = b;
	int d = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);

	if (d != 0)
		return (d);
	return ((x->len > y->len) - (x->len < y->len));
}

static void
out_member(struct json_out *o, size_t i, const char *key, size_t len,
    const json_t *value, int depth)
{
	if (i > 0)
		out_byte(o, ',');
	json_out_string(o, key, len);
	out_byte(o, ':');
	out_value(o, value, depth + 1);
}

static size_t
out_members(struct json_out *o, const json_t *obj, int depth)
{
	struct out_key few[32], *keys;
	size_t i, n = json_object_size(obj);
	void *it;

	if (!o->sort || n < 2) {
		for (it = json_object_iter((json_t *)obj), i = 0; it != NULL;
		     it = json_object_iter_next((json_t *)obj, it), i++)
			out_member(o, i, json_object_iter_key(it), key_len(it),
			    json_object_iter_value(it), depth);
		return (i);
	}
	if (n <= sizeof(few) / sizeof(few[0]))
		keys = few;
	else if ((keys = calloc(n, sizeof(*keys))) == NULL) {
		o->error = 1;
		return (0);
	}
	for (it = json_object_iter((json_t *)obj), i = 0; it != NULL && i < n;
	     it = json_object_iter_next((json_t *)obj, it), i++) {
		keys[i].key = json_object_iter_key(it);
		keys[i].len = key_len(it);
		keys[i].value = json_object_iter_value(it);
	}
	n = i;
	qsort(keys, n, sizeof(*keys), out_key_cmp);
	for (i = 0; i < n; i++)
		out_member(
		    o, i, keys[i].key, keys[i].len, keys[i].value, depth);
	if (keys != few)
		free(keys);
	return (n);
}

static void
out_value(struct json_out *o, const json_t *v, int depth)
{
	size_t i, n;
	char real[64];

	if (depth > JSON_OUT_DEPTH) {
		o->error = 1;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		out_byte(o, '{');
		out_members(o, v, depth);
		out_byte(o, '}');
		break;
	case JSON_ARRAY:
		out_byte(o, '[');
		n = json_array_size(v);
		for (i = 0; i < n; i++) {
			if (i > 0)
				out_byte(o, ',');
			out_value(o, json_array_get(v, i), depth + 1);
		}
		out_byte(o, ']');
		break;
	case JSON_STRING:
		json_out_string(o, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		json_out_int(o, json_integer_value(v));
		break;
	case JSON_REAL:
		/* Rare here: jansson's own %.17g and ".0" rules, exactly. */
		n = json_dumpb(v, real, sizeof(real), JSON_ENCODE_ANY);
		if (n == 0 || n > sizeof(real))
			o->error = 1;
		else
			json_out_raw(o, real, n);
		break;
	case JSON_TRUE:
		json_out_raw(o, "true", 4);
		break;
	case JSON_FALSE:
		json_out_raw(o, "false", 5);
		break;
	case JSON_NULL:
		json_out_raw(o, "null", 4);
		break;
	}
}

void
json_out_value(struct json_out *o, const json_t *v)
{
	if (v == NULL)
		o->error = 1;
	else
		out_value(o, v, 0);
}

size_t
json_out_members(struct json_out *o, const json_t *obj)
{
	if (!json_is_object(obj)) {
		o->error = 1;
		return (0);
	}
	return (out_members(o, obj, 0));
}

/* json_out_text's sink: a growing string. */
struct out_text {
	char *p;
	size_t len, cap;
};

static int
out_text_add(void *arg, const char *s, size_t len)
{
	struct out_text *t = arg;
	size_t cap;
	char *p;

	if (len >= t->cap - t->len) {
		cap = t->cap == 0 ? 256 : t->cap;
		while (len >= cap - t->len) {
			if (cap > ((size_t)-1) / 2)
				return (-1);
			cap *= 2;
		}
		if ((p = realloc(t->p, cap)) == NULL)
			return (-1);
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, len);
	t->len += len;
	t->p[t->len] = '\0';
	return (0);
}

char *
json_out_text(const json_t *v, int sort)
{
	struct out_text t = {NULL, 0, 0};
	struct json_out o;

	json_out_begin(&o, out_text_add, &t);
	o.sort = sort;
	json_out_value(&o, v);
	if (json_out_end(&o) == -1 || t.p == NULL) {
		free(t.p);
		return (NULL);
	}
	return (t.p);
}
