/* SPDX-License-Identifier: ISC */
/*
 * Open-addressing hash tables (linear probing, backward-shift deletion).
 * The table grows past 3/4 full and shrinks below 1/8, so a lookup probes
 * a few slots at any size. Hashes are seeded once per process, so the
 * slots that names land in cannot be chosen from outside. This file owns
 * no keys and frees no values: it must never touch what it points at.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/random.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/htab.h"
#include "daemon/xmalloc.h"

/* Small: every job has a table of the processes seen in its run, most
 * with one or two members, so a first allocation of 16 slots (384 bytes)
 * per job was most of what a running job cost; 4 hold 3 entries. */
#define HTAB_MIN_CAP 4

/*
 * 16 bytes: no cached hash. The job indexes hold a slot or two per job,
 * and a third word in each was a tenth of what a running job costs. A
 * probe compares keys instead (an int, or strcmp, which mostly stops at
 * the first byte), and a resize or a deletion's shift hashes the keys
 * again: the callers' typed entry points say which kind they are.
 */
struct htab_ent {
	union {
		int64_t i;
		const char *s;
	} key;
	void *val; /* NULL: the slot is free */
};

static uint64_t htab_seed;

/* The finaliser of MurmurHash3: every input bit reaches every output bit. */
static uint64_t
htab_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return (x);
}

static void
htab_seed_once(void)
{
	struct timespec ts;

	if (htab_seed != 0)
		return;
	if (getrandom(&htab_seed, sizeof(htab_seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(htab_seed)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		htab_seed =
		    htab_mix((uint64_t)ts.tv_nsec ^
			     ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)getpid());
	}
	htab_seed |= 1;
}

static uint64_t
hash_int(int64_t key)
{
	return (htab_mix((uint64_t)key ^ htab_seed));
}

/* FNV-1a from a seeded basis, then mixed. */
static uint64_t
hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ htab_seed;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return (htab_mix(h));
}

void
htab_init(struct htab *h)
{
	htab_seed_once();
	h->ents = NULL;
	h->cap = 0;
	h->len = 0;
}

void
htab_clear(struct htab *h)
{
	free(h->ents);
	htab_init(h);
}

size_t
htab_len(const struct htab *h)
{
	return (h->len);
}

/* An entry's hash, from its key: str says which member the key is. */
static uint64_t
htab_ent_hash(const struct htab_ent *e, int str)
{
	return (str ? hash_str(e->key.s) : hash_int(e->key.i));
}

/* Place an entry known to be absent (rehash). */
static void
htab_place(struct htab *h, const struct htab_ent *e, int str)
{
	size_t mask = h->cap - 1, i = (size_t)htab_ent_hash(e, str) & mask;

	while (h->ents[i].val != NULL)
		i = (i + 1) & mask;
	h->ents[i] = *e;
	h->len++;
}

static void
htab_resize(struct htab *h, size_t cap, int str)
{
	struct htab_ent *old = h->ents;
	size_t i, oldcap = h->cap;

	h->ents = xcalloc(cap, sizeof(*h->ents));
	h->cap = cap;
	h->len = 0;
	for (i = 0; i < oldcap; i++)
		if (old[i].val != NULL)
			htab_place(h, &old[i], str);
	free(old);
}

/* The slot holding key, or the free slot that ends its probe sequence. */
static size_t
htab_slot(const struct htab *h, uint64_t hash, int64_t ikey, const char *skey)
{
	size_t mask = h->cap - 1, i = (size_t)hash & mask;
	const struct htab_ent *e;

	for (;; i = (i + 1) & mask) {
		e = &h->ents[i];
		if (e->val == NULL)
			return (i);
		if (skey != NULL ? strcmp(e->key.s, skey) == 0
				 : e->key.i == ikey)
			return (i);
	}
}

static void *
htab_get(const struct htab *h, uint64_t hash, int64_t ikey, const char *skey)
{
	if (h->len == 0)
		return (NULL);
	return (h->ents[htab_slot(h, hash, ikey, skey)].val);
}

static void *
htab_put(
    struct htab *h, uint64_t hash, int64_t ikey, const char *skey, void *val)
{
	struct htab_ent e;
	size_t i;
	void *old;

	if (h->cap == 0 || (h->len + 1) * 4 > h->cap * 3)
		htab_resize(
		    h, h->cap == 0 ? HTAB_MIN_CAP : h->cap * 2, skey != NULL);
	i = htab_slot(h, hash, ikey, skey);
	if ((old = h->ents[i].val) != NULL) {
		h->ents[i].val = val;
		/* The new key is equal, but it is the one to borrow now. */
		if (skey != NULL)
			h->ents[i].key.s = skey;
		return (old);
	}
	memset(&e, 0, sizeof(e));
	if (skey != NULL)
		e.key.s = skey;
	else
		e.key.i = ikey;
	e.val = val;
	h->ents[i] = e;
	h->len++;
	return (NULL);
}

/*
 * Knuth's algorithm R: empty the slot, then walk the cluster after it and
 * move back every entry whose home slot is not cyclically in (hole, j],
 * so that no probe sequence crosses a free slot.
 */
static void *
htab_del(struct htab *h, uint64_t hash, int64_t ikey, const char *skey)
{
	size_t mask, i, j, k;
	void *val;

	if (h->len == 0)
		return (NULL);
	mask = h->cap - 1;
	i = htab_slot(h, hash, ikey, skey);
	if ((val = h->ents[i].val) == NULL)
		return (NULL);
	h->ents[i].val = NULL;
	h->len--;
	for (j = (i + 1) & mask; h->ents[j].val != NULL; j = (j + 1) & mask) {
		k = (size_t)htab_ent_hash(&h->ents[j], skey != NULL) & mask;
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		h->ents[i] = h->ents[j];
		h->ents[j].val = NULL;
		i = j;
	}
	if (h->len == 0)
		htab_clear(h);
	else if (h->cap > HTAB_MIN_CAP && h->len * 8 < h->cap)
		htab_resize(h, h->cap / 2, skey != NULL);
	return (val);
}

void *
htab_put_int(struct htab *h, int64_t key, void *val)
{
	return (htab_put(h, hash_int(key), key, NULL, val));
}

void *
htab_get_int(const struct htab *h, int64_t key)
{
	return (htab_get(h, hash_int(key), key, NULL));
}

void *
htab_del_int(struct htab *h, int64_t key)
{
	return (htab_del(h, hash_int(key), key, NULL));
}

void *
htab_put_str(struct htab *h, const char *key, void *val)
{
	return (htab_put(h, hash_str(key), 0, key, val));
}

void *
htab_get_str(const struct htab *h, const char *key)
{
	return (htab_get(h, hash_str(key), 0, key));
}

void *
htab_del_str(struct htab *h, const char *key)
{
	return (htab_del(h, hash_str(key), 0, key));
}

uint64_t
htab_hash_str(const char *s)
{
	htab_seed_once();
	return (hash_str(s));
}
