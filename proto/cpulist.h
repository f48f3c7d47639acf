/* SPDX-License-Identifier: ISC */
/*
 * CPU lists as the kernel writes them ("0-3,8,10-11") <-> a fixed bitmap.
 * Pure: no I/O. CPUs are 0..CPULIST_MAX-1.
 */
#ifndef SCHEDD_CPULIST_H
#define SCHEDD_CPULIST_H

#include <stddef.h>
#include <stdint.h>

#define CPULIST_MAX 1024

struct cpulist {
	uint64_t bits[CPULIST_MAX / 64];
};

/*
 * Parse s into cl. Accepts "N", "N-M" (N <= M), comma-separated, optional
 * surrounding whitespace per element is NOT accepted; an empty string is
 * an empty set only if allow_empty. A trailing newline is accepted (sysfs).
 * Returns 0, or -1 with a human reason in *why ("reversed range 1-0").
 */
int cpulist_parse(const char *s, struct cpulist *cl, int allow_empty,
    const char **why);

/* Canonical form into buf ("0-3,8"); "" for an empty set. Returns 0, or -1
 * if buf is too small. */
int cpulist_format(const struct cpulist *cl, char *buf, size_t len);

void cpulist_zero(struct cpulist *cl);
void cpulist_set(struct cpulist *cl, unsigned int cpu);
void cpulist_clear(struct cpulist *cl, unsigned int cpu);
int cpulist_isset(const struct cpulist *cl, unsigned int cpu);
unsigned int cpulist_count(const struct cpulist *cl);
/* 1 if every CPU of sub is in super. */
int cpulist_subset(const struct cpulist *sub, const struct cpulist *super);
/* The first CPU of cl at or after from; CPULIST_MAX if none. A word at a
 * time: for (x = cpulist_next_set(cl, 0); x < CPULIST_MAX;
 * x = cpulist_next_set(cl, x + 1)) visits the set CPUs alone. */
unsigned int cpulist_next_set(const struct cpulist *cl, unsigned int from);
/* a |= b, and a &= b. */
void cpulist_or(struct cpulist *a, const struct cpulist *b);
void cpulist_and(struct cpulist *a, const struct cpulist *b);

#endif
