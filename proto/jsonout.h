/* SPDX-License-Identifier: ISC */
/*
 * JSON text from jansson values: the very bytes json_dumps(v, JSON_COMPACT
 * | JSON_ENCODE_ANY) gives (with JSON_SORT_KEYS's order when asked),
 * without its per-token callbacks, its per-node cycle check (a malloc and
 * a "%p" each) and its snprintf per integer. Bytes gather in data and
 * reach the sink in a few large pieces. Nothing else may write to the
 * sink between json_out_begin and json_out_end.
 */
#ifndef SCHEDD_JSONOUT_H
#define SCHEDD_JSONOUT_H

#include <stddef.h>
#include <string.h>

#include <jansson.h>

/* A chunk fills a 16 KiB libevent chain, the chain's own header included. */
#define JSON_OUT_CHUNK (16 * 1024 - 128)

/* The sink: len bytes of s; 0, or -1 (out of memory). */
typedef int (*json_out_sink)(void *arg, const char *s, size_t len);

struct json_out {
	json_out_sink sink;
	void *arg;
	size_t len; /* bytes in data */
	int error;  /* out of memory, or a value we cannot encode */
	int sort;   /* objects' members in JSON_SORT_KEYS's order */
	char data[JSON_OUT_CHUNK];
};

void json_out_begin(struct json_out *o, json_out_sink sink, void *arg);
/* json_out_raw when s does not fit in what is left of data. */
void json_out_spill(struct json_out *o, const char *s, size_t len);
/*
 * len bytes of s as they are. Inline: the keys of a job object are most
 * of the calls, and with a constant length the copy is a move or two.
 */
static inline void
json_out_raw(struct json_out *o, const char *s, size_t len)
{
	if (len <= sizeof(o->data) - o->len) {
		memcpy(o->data + o->len, s, len);
		o->len += len;
	} else
		json_out_spill(o, s, len);
}
/* v as JSON text. */
void json_out_value(struct json_out *o, const json_t *v);
/* An object's members as json_out_value writes them, without the braces.
 * Returns how many. */
size_t json_out_members(struct json_out *o, const json_t *obj);
/* A JSON string (s must be valid UTF-8) and a JSON integer. */
void json_out_string(struct json_out *o, const char *s, size_t len);
void json_out_int(struct json_out *o, json_int_t v);
/* Flush to the sink. Returns 0, or -1 if anything failed (the sink then
 * has part of it). */
int json_out_end(struct json_out *o);

/*
 * v as a NUL-terminated string of its own (free it), as json_dumps(v,
 * JSON_COMPACT | (sort ? JSON_SORT_KEYS : 0)) makes it; NULL when v is
 * NULL or cannot be encoded.
 */
char *json_out_text(const json_t *v, int sort);

#endif
