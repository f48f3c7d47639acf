/* SPDX-License-Identifier: ISC */
/*
 * Small open-addressing hash tables from a key to a non-NULL pointer: the
 * supervisor's job indexes (by id, by name, by pid). A table holds either
 * integer keys or string keys, never both. String keys are borrowed: the
 * caller keeps each key alive and unchanged while its entry exists (the
 * supervisor uses the job's own name). Linear probing with backward-shift
 * deletion, so there are no tombstones and lookups stay short however many
 * entries came and went. Never fails: memory comes from xmalloc.
 */
#ifndef SCHEDD_HTAB_H
#define SCHEDD_HTAB_H

#include <stddef.h>
#include <stdint.h>

struct htab_ent;

/* Fields are private; the struct is public so that it can be embedded. */
struct htab {
	struct htab_ent *ents;
	size_t cap; /* 0 or a power of two */
	size_t len;
};

/* An empty table (allocates nothing until the first put). */
void htab_init(struct htab *h);
/* Drop every entry and the storage; the table is empty and usable after. */
void htab_clear(struct htab *h);
size_t htab_len(const struct htab *h);

/* Integer keys. put stores val (not NULL) under key and returns the value
 * it replaced, or NULL. del removes key and returns its value, or NULL. */
void *htab_put_int(struct htab *h, int64_t key, void *val);
void *htab_get_int(const struct htab *h, int64_t key);
void *htab_del_int(struct htab *h, int64_t key);

/* String keys, compared with strcmp; key is borrowed (see above). */
void *htab_put_str(struct htab *h, const char *key, void *val);
void *htab_get_str(const struct htab *h, const char *key);
void *htab_del_str(struct htab *h, const char *key);

/* The tables' string hash: seeded at random once a process, so its
 * values mean nothing outside it. */
uint64_t htab_hash_str(const char *s);

#endif
