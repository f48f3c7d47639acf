/* SPDX-License-Identifier: ISC */
/*
 * CPU lists in the kernel's text form ("0-3,8,10-11", as in cpuset.cpus and
 * /sys/devices/system/cpu/online) to and from a fixed bitmap of CPULIST_MAX
 * CPUs. The parser is strict and says why it refuses: a job spec's "cpus"
 * comes from a client, and "1-0" or "1,,2" must be an error with a reason,
 * never a silently different set. Pure: no I/O, no allocation.
 */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/cpulist.h"

/*
 * The reason for the last failure, for reasons that quote the input. It is
 * thread-local so concurrent parsers cannot overwrite each other's text;
 * it stays valid until this thread's next cpulist_parse.
 */
static _Thread_local char cpulist_why[96];

static int cpulist_fail(struct cpulist *, const char **, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Every failure goes through here, and leaves cl empty. */
static int
cpulist_fail(struct cpulist *cl, const char **why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(cpulist_why, sizeof cpulist_why, fmt, ap) < 0)
		cpulist_why[0] = '\0';
	va_end(ap);
	cpulist_zero(cl);
	if (why != NULL)
		*why = cpulist_why;
	return (-1);
}

/*
 * One CPU number at *pp. Values past CPULIST_MAX stop growing, so huge
 * inputs cannot overflow; the caller rejects them by range.
 */
static int
cpulist_number(const char **pp, const char *end, unsigned int *out)
{
	const char *p = *pp;
	unsigned int v = 0;

	if (p == end || *p < '0' || *p > '9')
		return (-1);
	for (; p != end && *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned int)(*p - '0');
		if (v > CPULIST_MAX)
			v = CPULIST_MAX;
	}
	*pp = p;
	*out = v;
	return (0);
}

/* Show at most a few bytes of the input in a reason, printable only. */
static void
cpulist_quote(char *buf, size_t len, const char *p, const char *end)
{
	size_t i, n = 0;
	unsigned char c;

	for (i = 0; p + i != end && i < 16 && n + 5 < len; i++) {
		c = (unsigned char)p[i];
		if (c == ',')
			break;
		if (c >= 0x20 && c < 0x7f)
			buf[n++] = (char)c;
		else
			n += (size_t)snprintf(buf + n, len - n, "\\x%02x", c);
	}
	buf[n] = '\0';
}

int
cpulist_parse(
    const char *s, struct cpulist *cl, int allow_empty, const char **why)
{
	const char *p, *end, *elem;
	unsigned int lo, hi, cpu;
	char q[80];

	cpulist_zero(cl);
	if (why != NULL)
		*why = NULL;
	if (s == NULL)
		return (cpulist_fail(cl, why, "no CPU list"));
	end = s + strlen(s);
	if (end != s && end[-1] == '\n')
		end--; /* sysfs files end in one newline */
	if (end == s) {
		if (allow_empty)
			return (0);
		return (cpulist_fail(cl, why, "empty CPU list"));
	}

	p = s;
	for (;;) {
		elem = p;
		if (p == end || *p == ',')
			return (
			    cpulist_fail(cl, why, "empty element in CPU list"));
		if (cpulist_number(&p, end, &lo) == -1) {
			cpulist_quote(q, sizeof q, elem, end);
			return (cpulist_fail(
			    cl, why, "expected a CPU number at '%s'", q));
		}
		hi = lo;
		if (p != end && *p == '-') {
			p++;
			if (cpulist_number(&p, end, &hi) == -1) {
				cpulist_quote(q, sizeof q, elem, end);
				return (cpulist_fail(cl, why,
				    "expected a CPU number after '-' in '%s'",
				    q));
			}
		}
		if (p != end && *p != ',') {
			cpulist_quote(q, sizeof q, elem, end);
			return (cpulist_fail(cl, why, "unexpected '%c' in '%s'",
			    *p >= 0x20 && *p < 0x7f ? *p : '?', q));
		}
		if (lo >= CPULIST_MAX || hi >= CPULIST_MAX) {
			cpulist_quote(q, sizeof q, elem, end);
			return (cpulist_fail(cl, why,
			    "CPU out of range in '%s' (max %u)", q,
			    CPULIST_MAX - 1));
		}
		if (lo > hi)
			return (cpulist_fail(
			    cl, why, "reversed range %u-%u", lo, hi));
		for (cpu = lo; cpu <= hi; cpu++)
			cpulist_set(cl, cpu);
		if (p == end)
			break;
		p++; /* the comma */
	}
	return (0);
}

/* The first CPU at or after from that is set (want 1) or clear (want 0);
 * CPULIST_MAX if none: a word at a time, not a bit. */
static unsigned int
cpulist_next(const struct cpulist *cl, unsigned int from, int want)
{
	unsigned int w;
	uint64_t b;

	while (from < CPULIST_MAX) {
		w = from / 64;
		b = want ? cl->bits[w] : ~cl->bits[w];
		b &= ~UINT64_C(0) << (from % 64);
		if (b != 0)
			return (w * 64 + (unsigned int)__builtin_ctzll(b));
		from = (w + 1) * 64;
	}
	return (CPULIST_MAX);
}

int
cpulist_format(const struct cpulist *cl, char *buf, size_t len)
{
	unsigned int lo, hi;
	size_t off = 0;
	int n;

	if (len == 0)
		return (-1);
	buf[0] = '\0';
	for (lo = cpulist_next(cl, 0, 1); lo < CPULIST_MAX;
	     lo = cpulist_next(cl, hi + 1, 1)) {
		hi = cpulist_next(cl, lo, 0) - 1;
		if (lo == hi)
			n = snprintf(buf + off, len - off, "%s%u",
			    off == 0 ? "" : ",", lo);
		else
			n = snprintf(buf + off, len - off, "%s%u-%u",
			    off == 0 ? "" : ",", lo, hi);
		if (n < 0 || (size_t)n >= len - off) {
			buf[0] = '\0';
			return (-1);
		}
		off += (size_t)n;
	}
	return (0);
}

void
cpulist_zero(struct cpulist *cl)
{
	memset(cl, 0, sizeof *cl);
}

void
cpulist_set(struct cpulist *cl, unsigned int cpu)
{
	if (cpu < CPULIST_MAX)
		cl->bits[cpu / 64] |= (uint64_t)1 << (cpu % 64);
}

void
cpulist_clear(struct cpulist *cl, unsigned int cpu)
{
	if (cpu < CPULIST_MAX)
		cl->bits[cpu / 64] &= ~((uint64_t)1 << (cpu % 64));
}

unsigned int
cpulist_next_set(const struct cpulist *cl, unsigned int from)
{
	return (cpulist_next(cl, from, 1));
}

void
cpulist_or(struct cpulist *a, const struct cpulist *b)
{
	size_t i;

	for (i = 0; i < CPULIST_MAX / 64; i++)
		a->bits[i] |= b->bits[i];
}

void
cpulist_and(struct cpulist *a, const struct cpulist *b)
{
	size_t i;

	for (i = 0; i < CPULIST_MAX / 64; i++)
		a->bits[i] &= b->bits[i];
}

int
cpulist_isset(const struct cpulist *cl, unsigned int cpu)
{
	if (cpu >= CPULIST_MAX)
		return (0);
	return ((cl->bits[cpu / 64] >> (cpu % 64)) & 1);
}

unsigned int
cpulist_count(const struct cpulist *cl)
{
	unsigned int i, n = 0;

	for (i = 0; i < CPULIST_MAX / 64; i++)
		n += (unsigned int)__builtin_popcountll(cl->bits[i]);
	return (n);
}

int
cpulist_subset(const struct cpulist *sub, const struct cpulist *super)
{
	unsigned int i;

	for (i = 0; i < CPULIST_MAX / 64; i++) {
		if ((sub->bits[i] & ~super->bits[i]) != 0)
			return (0);
	}
	return (1);
}
