/* SPDX-License-Identifier: ISC */
/*
 * Job schedules: the cron and systemd OnCalendar parsers, which turn text
 * into one bitmap per calendar field and say exactly what they refuse and
 * where, and schedule_next, which finds the first matching second after a
 * time. The search walks the calendar field by field (year, month, day,
 * then the first matching time of day by bit scans), so it costs at most a
 * few thousand cheap steps and never loops over seconds. Local time goes
 * through localtime_r and the zone's UTC offsets only, never mktime's
 * guesses, so a time a DST change skips never fires and one it repeats
 * fires once. Pure: no I/O, no globals, no allocation.
 */

#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "proto/schedule.h"

#define SCHEDULE_NYEARS (SCHEDULE_YEAR_MAX - SCHEDULE_YEAR_MIN + 1)
/* Values larger than this stop growing while digits are read. */
#define SCHEDULE_NUM_CAP 100000
/* Transitions a local search may step over before it gives up. */
#define SCHEDULE_LOCAL_STEPS (4 * SCHEDULE_HORIZON_YEARS + 8)

/* A field's bits while parsing, indexed by value - min (years need 230). */
struct schedule_bits {
	uint64_t w[(SCHEDULE_NYEARS + 63) / 64];
};

/* One field of either syntax. */
struct schedule_field {
	const char *name; /* "day of month", "year" */
	int min, max;
	const char *const *names; /* cron: 3-letter names for min.. */
	int names_min;            /* the value of names[0] */
	int nnames;
};

/* A civil (broken-down) time, in whatever zone the caller means. */
struct schedule_tm {
	int year, mon, mday, hour, min, sec; /* mon 1..12, mday 1..31 */
};

static const char *const schedule_month_names[] = {"jan", "feb", "mar", "apr",
    "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const schedule_wday_names[] = {
    "sun", "mon", "tue", "wed", "thu", "fri", "sat"};
/* Calendar weekdays, Monday first as systemd orders and prints them. */
static const char *const schedule_cal_wdays[] = {
    "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const schedule_cal_wdays_long[] = {"monday", "tuesday",
    "wednesday", "thursday", "friday", "saturday", "sunday"};

static const struct schedule_field schedule_cron_fields[5] = {
    {"minute", 0, 59, NULL, 0, 0},
    {"hour", 0, 23, NULL, 0, 0},
    {"day of month", 1, 31, NULL, 0, 0},
    {"month", 1, 12, schedule_month_names, 1, 12},
    {"day of week", 0, 7, schedule_wday_names, 0, 7},
};

static const struct schedule_field schedule_cal_year = {
    "year", SCHEDULE_YEAR_MIN, SCHEDULE_YEAR_MAX, NULL, 0, 0};
static const struct schedule_field schedule_cal_month = {
    "month", 1, 12, NULL, 0, 0};
static const struct schedule_field schedule_cal_day = {
    "day", 1, 31, NULL, 0, 0};
static const struct schedule_field schedule_cal_hour = {
    "hour", 0, 23, NULL, 0, 0};
static const struct schedule_field schedule_cal_minute = {
    "minute", 0, 59, NULL, 0, 0};
static const struct schedule_field schedule_cal_second = {
    "second", 0, 59, NULL, 0, 0};

static const struct {
	const char *name, *expansion;
} schedule_cron_macros[] = {
    {"@hourly", "0 * * * *"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},
    {"@monthly", "0 0 1 * *"},
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
};

/* As systemd's calendarspec.c expands them. */
static const struct {
	const char *name, *expansion;
} schedule_cal_macros[] = {
    {"minutely", "*-*-* *:*:00"},
    {"hourly", "*-*-* *:00:00"},
    {"daily", "*-*-* 00:00:00"},
    {"weekly", "Mon *-*-* 00:00:00"},
    {"monthly", "*-*-01 00:00:00"},
    {"quarterly", "*-01,04,07,10-01 00:00:00"},
    {"semiannually", "*-01,07-01 00:00:00"},
    {"yearly", "*-01-01 00:00:00"},
    {"annually", "*-01-01 00:00:00"},
};

static int schedule_fail(struct schedule *, char *, size_t, const char *, ...)
    __attribute__((format(printf, 4, 5)));

/* Every parse failure goes through here, and leaves out unusable. */
static int
schedule_fail(
    struct schedule *out, char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	memset(out, 0, sizeof *out);
	out->kind = SCHEDULE_NONE;
	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		if (vsnprintf(why, whylen, fmt, ap) < 0)
			why[0] = '\0';
		va_end(ap);
	}
	return (-1);
}

/* At most a few bytes of the input for a reason, printable only. */
static void
schedule_quote(char *buf, size_t len, const char *p, size_t n)
{
	size_t i, o = 0;
	unsigned char c;

	for (i = 0; i < n && i < 24 && o + 5 < len; i++) {
		c = (unsigned char)p[i];
		if (c >= 0x20 && c < 0x7f)
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
	}
	buf[o] = '\0';
}

static void
schedule_bits_set(struct schedule_bits *b, int i)
{
	b->w[i / 64] |= (uint64_t)1 << (i % 64);
}

static int
schedule_bits_isset(const struct schedule_bits *b, int i)
{
	return ((b->w[i / 64] >> (i % 64)) & 1);
}

static int
schedule_year_isset(const struct schedule *s, int y)
{
	int i = y - SCHEDULE_YEAR_MIN;

	if (i < 0 || i >= SCHEDULE_NYEARS)
		return (0);
	return ((s->years[i / 64] >> (i % 64)) & 1);
}

/* Lowest set bit of mask in from..max, or -1. */
static int
schedule_bit_next(uint64_t mask, int from, int max)
{
	uint64_t m;
	int b;

	if (from > max || from > 63)
		return (-1);
	m = mask >> from;
	if (m == 0)
		return (-1);
	b = from + __builtin_ctzll(m);
	return (b <= max ? b : -1);
}

/*
 * One number at *pp (digits only). Returns -1 if there is none; big values
 * stop growing at SCHEDULE_NUM_CAP so they are refused by range, never
 * overflow.
 */
static int
schedule_number(const char **pp, const char *end, int *out)
{
	const char *p = *pp;
	int v = 0;

	if (p == end || !isdigit((unsigned char)*p))
		return (-1);
	for (; p != end && isdigit((unsigned char)*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > SCHEDULE_NUM_CAP)
			v = SCHEDULE_NUM_CAP;
	}
	*pp = p;
	*out = v;
	return (0);
}

/*
 * A value: a number, or one of the field's names (cron's jan, sun). Fills
 * why with the reason and returns -1 when there is neither.
 */
static int
schedule_value(const struct schedule_field *f, const char *prefix,
    const char **pp, const char *end, int *out, char *why, size_t whylen)
{
	const char *p = *pp, *q;
	char quoted[128];
	int i;

	if (schedule_number(pp, end, out) == 0)
		return (0);
	for (q = p; q != end && isalpha((unsigned char)*q); q++)
		;
	if (q == p) {
		schedule_quote(quoted, sizeof quoted, p, (size_t)(end - p));
		if (p == end)
			snprintf(why, whylen, "%s: a value is missing", prefix);
		else
			snprintf(why, whylen, "%s: expected a number at '%s'",
			    prefix, quoted);
		return (-1);
	}
	for (i = 0; i < f->nnames; i++) {
		if ((size_t)(q - p) == strlen(f->names[i]) &&
		    strncasecmp(p, f->names[i], (size_t)(q - p)) == 0) {
			*out = f->names_min + i;
			*pp = q;
			return (0);
		}
	}
	schedule_quote(quoted, sizeof quoted, p, (size_t)(q - p));
	if (f->nnames == 0)
		snprintf(why, whylen, "%s: expected a number at '%s'", prefix,
		    quoted);
	else
		snprintf(why, whylen, "%s: '%s' is not a %s name", prefix,
		    quoted, f->name);
	return (-1);
}

/*
 * A comma list of "*", "N", "N<sep>M", each with an optional "/S", into
 * bits (value - min). rangesep is "-" (cron) or ".." (calendar). *star
 * gets the step of a leading "*" element (1 for a bare '*'), else 0.
 */
static int
schedule_list(const struct schedule_field *f, const char *prefix,
    const char *rangesep, const char *p, const char *end,
    struct schedule_bits *bits, int *star, char *why, size_t whylen)
{
	size_t seplen = strlen(rangesep);
	int lo, hi, step, v, first = 1, isstar, isrange;
	char quoted[128];

	memset(bits, 0, sizeof *bits);
	if (star != NULL)
		*star = 0;
	if (p == end) {
		snprintf(why, whylen, "%s: empty field", prefix);
		return (-1);
	}
	for (;;) {
		if (p == end || *p == ',') {
			snprintf(
			    why, whylen, "%s: empty element in list", prefix);
			return (-1);
		}
		isstar = 0;
		isrange = 0;
		step = 1;
		if (*p == '*') {
			p++;
			lo = f->min;
			hi = f->max;
			isstar = 1;
		} else {
			if (schedule_value(
				f, prefix, &p, end, &lo, why, whylen) == -1)
				return (-1);
			hi = lo;
			if ((size_t)(end - p) >= seplen &&
			    strncmp(p, rangesep, seplen) == 0) {
				p += seplen;
				isrange = 1;
				if (schedule_value(f, prefix, &p, end, &hi, why,
					whylen) == -1)
					return (-1);
			}
		}
		if (p != end && *p == '/') {
			p++;
			if (schedule_number(&p, end, &step) == -1) {
				snprintf(why, whylen,
				    "%s: expected a step after '/'", prefix);
				return (-1);
			}
			if (step < 1 || step > f->max - f->min + 1) {
				snprintf(why, whylen,
				    "%s: step %d is out of range 1..%d", prefix,
				    step, f->max - f->min + 1);
				return (-1);
			}
			if (!isstar && !isrange)
				hi = f->max; /* "N/S": from N to the end */
		}
		if (p != end && *p != ',') {
			schedule_quote(
			    quoted, sizeof quoted, p, (size_t)(end - p));
			snprintf(
			    why, whylen, "%s: unexpected '%s'", prefix, quoted);
			return (-1);
		}
		if (lo < f->min || lo > f->max || hi < f->min || hi > f->max) {
			snprintf(why, whylen, "%s: %d is out of range %d..%d",
			    prefix, lo < f->min || lo > f->max ? lo : hi,
			    f->min, f->max);
			return (-1);
		}
		if (lo > hi) {
			snprintf(why, whylen, "%s: range %d%s%d is reversed",
			    prefix, lo, rangesep, hi);
			return (-1);
		}
		for (v = lo; v <= hi; v += step)
			schedule_bits_set(bits, v - f->min);
		if (first && isstar && star != NULL)
			*star = step;
		first = 0;
		if (p == end)
			break;
		p++; /* the comma */
	}
	return (0);
}

/* Split at blanks: up to max tokens; returns the count, or max + 1. */
static int
schedule_tokens(const char *text, const char **tok, size_t *toklen, int max)
{
	const char *p = text;
	int n = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return (n);
		if (n == max)
			return (max + 1);
		tok[n] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		toklen[n] = (size_t)(p - tok[n]);
		n++;
	}
}

int
schedule_parse_cron(
    const char *text, struct schedule *out, char *why, size_t whylen)
{
	const struct schedule_field *f;
	struct schedule_bits bits;
	struct schedule sc;
	const char *tok[5];
	size_t toklen[5], i;
	char prefix[64], reason[256];
	int n, star;

	if (text == NULL)
		return (schedule_fail(out, why, whylen, "cron: no text"));
	if (strnlen(text, SCHEDULE_TEXT_MAX + 1) > SCHEDULE_TEXT_MAX)
		return (schedule_fail(out, why, whylen,
		    "cron: longer than %d bytes", SCHEDULE_TEXT_MAX));
	while (*text == ' ' || *text == '\t')
		text++;
	if (*text == '@') {
		for (i = 0; i < sizeof schedule_cron_macros /
				    sizeof schedule_cron_macros[0];
		     i++) {
			n = (int)strlen(schedule_cron_macros[i].name);
			if (strncasecmp(text, schedule_cron_macros[i].name,
				(size_t)n) == 0 &&
			    strspn(text + n, " \t") == strlen(text + n))
				return (schedule_parse_cron(
				    schedule_cron_macros[i].expansion, out, why,
				    whylen));
		}
		schedule_quote(reason, sizeof reason, text, strlen(text));
		return (schedule_fail(out, why, whylen,
		    "cron: unknown shortcut '%s' (@hourly @daily @midnight "
		    "@weekly @monthly @yearly @annually)",
		    reason));
	}
	n = schedule_tokens(text, tok, toklen, 5);
	if (n != 5)
		return (schedule_fail(out, why, whylen,
		    "cron: expected 5 fields (minute hour day-of-month month "
		    "day-of-week), got %s%d",
		    n > 5 ? "more than " : "", n > 5 ? 5 : n));

	memset(&sc, 0, sizeof sc);
	sc.kind = SCHEDULE_CRON;
	sc.seconds = 1; /* second 0 */
	for (i = 0; i < SCHEDULE_NYEARS; i++)
		sc.years[i / 64] |= (uint64_t)1 << (i % 64);
	for (i = 0; i < 5; i++) {
		f = &schedule_cron_fields[i];
		snprintf(prefix, sizeof prefix, "cron: field %zu (%s)", i + 1,
		    f->name);
		if (schedule_list(f, prefix, "-", tok[i], tok[i] + toklen[i],
			&bits, &star, reason, sizeof reason) == -1)
			return (schedule_fail(out, why, whylen, "%s", reason));
		switch (i) {
		case 0:
			sc.minutes = bits.w[0];
			break;
		case 1:
			sc.hours = (uint32_t)bits.w[0];
			break;
		case 2:
			sc.days = (uint32_t)bits.w[0];
			sc.dom_star_step = (uint8_t)star;
			break;
		case 3:
			sc.months = (uint16_t)bits.w[0];
			break;
		default:
			/* Bits 0..7 for 0..7; 7 is Sunday again. */
			sc.weekdays =
			    (uint8_t)((bits.w[0] | bits.w[0] >> 7) & 0x7f);
			sc.dow_star_step = (uint8_t)star;
			break;
		}
	}
	*out = sc;
	return (0);
}

/* Calendar weekday name at p..q: 0 Monday .. 6 Sunday, or -1. */
static int
schedule_cal_wday(const char *p, const char *q)
{
	size_t n = (size_t)(q - p);
	int i;

	for (i = 0; i < 7; i++) {
		if ((n == 3 && strncasecmp(p, schedule_cal_wdays[i], 3) == 0) ||
		    (n == strlen(schedule_cal_wdays_long[i]) &&
			strncasecmp(p, schedule_cal_wdays_long[i], n) == 0))
			return (i);
	}
	return (-1);
}

/* "Mon", "Mon,Fri", "Mon..Fri" (or "Mon-Fri") into bits 0 Sunday..6. */
static int
schedule_cal_weekdays(
    const char *p, const char *end, uint8_t *out, char *why, size_t whylen)
{
	const char *q;
	char quoted[128];
	int lo, hi, d;

	*out = 0;
	for (;;) {
		for (q = p; q != end && isalpha((unsigned char)*q); q++)
			;
		if ((lo = schedule_cal_wday(p, q)) == -1)
			goto bad;
		hi = lo;
		if (q != end && (*q == '-' || *q == '.')) {
			if (*q == '.') {
				if (q + 1 == end || q[1] != '.')
					goto junk;
				q++;
			}
			p = ++q;
			for (; q != end && isalpha((unsigned char)*q); q++)
				;
			if ((hi = schedule_cal_wday(p, q)) == -1)
				goto bad;
			if (lo > hi) {
				snprintf(why, whylen,
				    "calendar: weekday: range %s..%s is "
				    "reversed (weeks start on Monday)",
				    schedule_cal_wdays[lo],
				    schedule_cal_wdays[hi]);
				return (-1);
			}
		}
		for (d = lo; d <= hi; d++)
			*out |= (uint8_t)(1 << ((d + 1) % 7));
		if (q == end)
			return (0);
		if (*q != ',')
			goto junk;
		p = q + 1;
		if (p == end || *p == ',') {
			snprintf(why, whylen,
			    "calendar: weekday: empty element in list");
			return (-1);
		}
	}
bad:
	schedule_quote(quoted, sizeof quoted, p, (size_t)(q - p));
	snprintf(
	    why, whylen, "calendar: weekday: '%s' is not a weekday", quoted);
	return (-1);
junk:
	schedule_quote(quoted, sizeof quoted, q, (size_t)(end - q));
	snprintf(why, whylen, "calendar: weekday: unexpected '%s'", quoted);
	return (-1);
}

/*
 * Split p..end at sep into at most max parts; returns the count, or
 * max + 1 when there are more.
 */
static int
schedule_split(const char *p, const char *end, char sep, const char **part,
    const char **partend, int max)
{
	int n = 0;

	for (;;) {
		if (n == max)
			return (max + 1);
		part[n] = p;
		while (p != end && *p != sep)
			p++;
		partend[n++] = p;
		if (p == end)
			return (n);
		p++;
	}
}

static int
schedule_cal_date(struct schedule *sc, const char *p, const char *end,
    char *why, size_t whylen)
{
	const char *part[3], *partend[3];
	struct schedule_bits bits;
	char quoted[128];
	int n, i;

	n = schedule_split(p, end, '-', part, partend, 3);
	if (n < 2 || n > 3) {
		schedule_quote(quoted, sizeof quoted, p, (size_t)(end - p));
		snprintf(why, whylen,
		    "calendar: date '%s' is not [YEAR-]MONTH-DAY", quoted);
		return (-1);
	}
	i = 0;
	if (n == 3) {
		if (schedule_list(&schedule_cal_year, "calendar: year", "..",
			part[0], partend[0], &bits, NULL, why, whylen) == -1)
			return (-1);
		memcpy(sc->years, bits.w, sizeof sc->years);
		i = 1;
	}
	if (schedule_list(&schedule_cal_month, "calendar: month", "..", part[i],
		partend[i], &bits, NULL, why, whylen) == -1)
		return (-1);
	sc->months = (uint16_t)bits.w[0];
	if (schedule_list(&schedule_cal_day, "calendar: day", "..", part[i + 1],
		partend[i + 1], &bits, NULL, why, whylen) == -1)
		return (-1);
	sc->days = (uint32_t)bits.w[0];
	return (0);
}

static int
schedule_cal_time(struct schedule *sc, const char *p, const char *end,
    char *why, size_t whylen)
{
	const char *part[3], *partend[3];
	struct schedule_bits bits;
	char quoted[128];
	int n;

	n = schedule_split(p, end, ':', part, partend, 3);
	if (n < 2 || n > 3) {
		schedule_quote(quoted, sizeof quoted, p, (size_t)(end - p));
		snprintf(why, whylen,
		    "calendar: time '%s' is not HOUR:MINUTE[:SECOND]", quoted);
		return (-1);
	}
	if (schedule_list(&schedule_cal_hour, "calendar: hour", "..", part[0],
		partend[0], &bits, NULL, why, whylen) == -1)
		return (-1);
	sc->hours = (uint32_t)bits.w[0];
	if (schedule_list(&schedule_cal_minute, "calendar: minute", "..",
		part[1], partend[1], &bits, NULL, why, whylen) == -1)
		return (-1);
	sc->minutes = bits.w[0];
	if (n == 3) {
		if (schedule_list(&schedule_cal_second, "calendar: second",
			"..", part[2], partend[2], &bits, NULL, why,
			whylen) == -1)
			return (-1);
		sc->seconds = bits.w[0];
	}
	return (0);
}

int
schedule_parse_calendar(
    const char *text, struct schedule *out, char *why, size_t whylen)
{
	struct schedule sc;
	const char *tok[4];
	size_t toklen[4], i;
	char quoted[128], reason[256];
	int n, t, seen_date = 0, seen_time = 0;

	if (text == NULL)
		return (schedule_fail(out, why, whylen, "calendar: no text"));
	if (strnlen(text, SCHEDULE_TEXT_MAX + 1) > SCHEDULE_TEXT_MAX)
		return (schedule_fail(out, why, whylen,
		    "calendar: longer than %d bytes", SCHEDULE_TEXT_MAX));
	n = schedule_tokens(text, tok, toklen, 3);
	if (n == 0)
		return (schedule_fail(out, why, whylen, "calendar: empty"));
	if (n == 1) {
		for (i = 0; i < sizeof schedule_cal_macros /
				    sizeof schedule_cal_macros[0];
		     i++) {
			if (toklen[0] == strlen(schedule_cal_macros[i].name) &&
			    strncasecmp(tok[0], schedule_cal_macros[i].name,
				toklen[0]) == 0)
				return (schedule_parse_calendar(
				    schedule_cal_macros[i].expansion, out, why,
				    whylen));
		}
	}
	if (n > 3)
		return (schedule_fail(out, why, whylen,
		    "calendar: too many parts: expected [WEEKDAYS] "
		    "[[YEAR-]MONTH-DAY] [HOUR:MINUTE[:SECOND]]"));

	/* Defaults: every day, 00:00:00. */
	memset(&sc, 0, sizeof sc);
	sc.kind = SCHEDULE_CALENDAR;
	sc.seconds = 1;
	sc.minutes = 1;
	sc.hours = 1;
	sc.days = 0x7fffffffU;
	sc.months = 0xfff;
	sc.weekdays = 0x7f;
	for (i = 0; i < SCHEDULE_NYEARS; i++)
		sc.years[i / 64] |= (uint64_t)1 << (i % 64);

	for (t = 0; t < n; t++) {
		const char *p = tok[t], *end = tok[t] + toklen[t];

		if (t == 0 && isalpha((unsigned char)*p)) {
			if (schedule_cal_weekdays(p, end, &sc.weekdays, reason,
				sizeof reason) == -1)
				return (schedule_fail(
				    out, why, whylen, "%s", reason));
		} else if (memchr(p, ':', toklen[t]) != NULL && !seen_time) {
			if (schedule_cal_time(
				&sc, p, end, reason, sizeof reason) == -1)
				return (schedule_fail(
				    out, why, whylen, "%s", reason));
			seen_time = 1;
		} else if (memchr(p, '-', toklen[t]) != NULL && !seen_date &&
			   !seen_time) {
			if (schedule_cal_date(
				&sc, p, end, reason, sizeof reason) == -1)
				return (schedule_fail(
				    out, why, whylen, "%s", reason));
			seen_date = 1;
		} else {
			schedule_quote(quoted, sizeof quoted, p, toklen[t]);
			return (schedule_fail(out, why, whylen,
			    "calendar: '%s' is not where a weekday, a date "
			    "(MONTH-DAY) or a time (HOUR:MINUTE) can be%s",
			    quoted,
			    isalpha((unsigned char)*p)
				? " (time zones are not supported)"
				: ""));
		}
	}
	*out = sc;
	return (0);
}

int
schedule_every(struct schedule *out, int64_t every_ms, char *why, size_t whylen)
{
	if (every_ms < SCHEDULE_EVERY_MIN_MS ||
	    every_ms > SCHEDULE_EVERY_MAX_MS)
		return (schedule_fail(out, why, whylen,
		    "every_ms: %lld is out of range %lld..%lld",
		    (long long)every_ms, SCHEDULE_EVERY_MIN_MS,
		    SCHEDULE_EVERY_MAX_MS));
	memset(out, 0, sizeof *out);
	out->kind = SCHEDULE_EVERY;
	out->every_ms = every_ms;
	return (0);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
schedule_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

static void
schedule_civil_from_days(int64_t z, struct schedule_tm *tm)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	tm->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	tm->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
	tm->year = (int)(yoe + era * 400 + (tm->mon <= 2));
}

static int
schedule_days_in_month(int y, int m)
{
	static const int mdays[12] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return (29);
	return (mdays[m - 1]);
}

/* Seconds since the epoch of a civil time read as if it were UTC. */
static int64_t
schedule_naive(const struct schedule_tm *tm)
{
	return (schedule_days_from_civil(tm->year, tm->mon, tm->mday) * 86400 +
		tm->hour * 3600 + tm->min * 60 + tm->sec);
}

static void
schedule_utc_tm(int64_t t, struct schedule_tm *tm)
{
	int64_t days = t / 86400, rem = t % 86400;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	schedule_civil_from_days(days, tm);
	tm->hour = (int)(rem / 3600);
	tm->min = (int)(rem / 60 % 60);
	tm->sec = (int)(rem % 60);
}

static int
schedule_day_matches(const struct schedule *s, int y, int m, int d)
{
	int64_t days = schedule_days_from_civil(y, m, d);
	int wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01: Thursday */
	int dom = (s->days >> (d - 1)) & 1;
	int dow = (s->weekdays >> wday) & 1;

	if (s->kind == SCHEDULE_CRON && s->dom_star_step == 0 &&
	    s->dow_star_step == 0)
		return (dom || dow);
	return (dom && dow);
}

/* The first time of day at or after h0:m0:s0 that matches, or -1. */
static int
schedule_time_next(
    const struct schedule *s, int h0, int m0, int s0, struct schedule_tm *tm)
{
	int h, m, sec;

	for (h = schedule_bit_next(s->hours, h0, 23); h != -1;
	     h = schedule_bit_next(s->hours, h + 1, 23)) {
		if (h != h0)
			m0 = 0;
		for (m = schedule_bit_next(s->minutes, m0, 59); m != -1;
		     m = schedule_bit_next(s->minutes, m + 1, 59)) {
			sec = schedule_bit_next(
			    s->seconds, h == h0 && m == m0 ? s0 : 0, 59);
			if (sec != -1) {
				tm->hour = h;
				tm->min = m;
				tm->sec = sec;
				return (0);
			}
		}
	}
	return (-1);
}

/*
 * The first civil time at or after *from that matches, in years up to
 * from's + SCHEDULE_HORIZON_YEARS. Each later field starts from its
 * minimum once an earlier one has moved on.
 */
static int
schedule_civil_next(const struct schedule *s, const struct schedule_tm *from,
    struct schedule_tm *out)
{
	int y, m, d, m0 = from->mon, d0 = from->mday, h0 = from->hour;
	int mi0 = from->min, s0 = from->sec, ylast;

	ylast = from->year + SCHEDULE_HORIZON_YEARS;
	if (ylast > SCHEDULE_YEAR_MAX)
		ylast = SCHEDULE_YEAR_MAX;
	for (y = from->year; y <= ylast;
	     y++, m0 = 1, d0 = 1, h0 = 0, mi0 = 0, s0 = 0) {
		if (!schedule_year_isset(s, y))
			continue;
		for (m = m0; m <= 12; m++, d0 = 1, h0 = 0, mi0 = 0, s0 = 0) {
			if (!((s->months >> (m - 1)) & 1))
				continue;
			for (d = d0; d <= schedule_days_in_month(y, m);
			     d++, h0 = 0, mi0 = 0, s0 = 0) {
				if (!schedule_day_matches(s, y, m, d))
					continue;
				if (schedule_time_next(s, h0, mi0, s0, out) ==
				    0) {
					out->year = y;
					out->mon = m;
					out->mday = d;
					return (0);
				}
			}
		}
	}
	return (-1);
}

/* The local UTC offset at t, in seconds east. */
static int
schedule_gmtoff(int64_t t, long *off)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return (-1);
	*off = tm.tm_gmtoff;
	return (0);
}

/*
 * The instants whose local civil time reads naive (schedule_naive), in
 * ascending order: none in a gap, two in a repeated hour. It assumes at
 * most one offset change within a day of the time, as real zones have.
 */
static int
schedule_local_instants(int64_t naive, int64_t cand[3], long candoff[3])
{
	long offs[3], off;
	int i, j, n = 0, k;
	int64_t t;

	for (i = 0; i < 3; i++) {
		if (schedule_gmtoff(naive + (i - 1) * 86400, &offs[i]) == -1)
			return (-1);
	}
	for (i = 0; i < 3; i++) {
		for (j = 0; j < i; j++) {
			if (offs[j] == offs[i])
				break;
		}
		if (j < i)
			continue; /* seen */
		t = naive - offs[i];
		if (schedule_gmtoff(t, &off) == -1)
			return (-1);
		if (off != offs[i])
			continue;
		for (k = n; k > 0 && cand[k - 1] > t; k--) {
			cand[k] = cand[k - 1];
			candoff[k] = candoff[k - 1];
		}
		cand[k] = t;
		candoff[k] = off;
		n++;
	}
	return (n);
}

/*
 * The first instant in lo..hi whose offset differs from lo's, by
 * bisection (an offset change lies between them).
 */
static int
schedule_transition(int64_t lo, int64_t hi, int64_t *out)
{
	long off0, off;
	int64_t mid;

	if (schedule_gmtoff(lo, &off0) == -1 || schedule_gmtoff(hi, &off) == -1)
		return (-1);
	if (off == off0)
		return (-1);
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (schedule_gmtoff(mid, &off) == -1)
			return (-1);
		if (off == off0)
			lo = mid;
		else
			hi = mid;
	}
	*out = hi;
	return (0);
}

static int64_t
schedule_next_local(const struct schedule *s, int64_t sec)
{
	struct schedule_tm from, c;
	int64_t naive, cand[3], t;
	long candoff[3], off;
	time_t tt;
	struct tm tm;
	int i, n;

	for (i = 0; i < SCHEDULE_LOCAL_STEPS; i++) {
		tt = (time_t)sec;
		if (localtime_r(&tt, &tm) == NULL)
			return (-1);
		from.year = tm.tm_year + 1900;
		from.mon = tm.tm_mon + 1;
		from.mday = tm.tm_mday;
		from.hour = tm.tm_hour;
		from.min = tm.tm_min;
		from.sec = tm.tm_sec > 59 ? 59 : tm.tm_sec;
		if (schedule_civil_next(s, &from, &c) == -1)
			return (-1);
		naive = schedule_naive(&c);
		if ((n = schedule_local_instants(naive, cand, candoff)) == -1)
			return (-1);
		if (n > 0 && cand[0] >= sec)
			return (cand[0]);
		if (n == 0) {
			/*
			 * c falls in a gap: go on from the instant the
			 * clock jumps over it. Before it the offset is
			 * the smaller one.
			 */
			if (schedule_transition(
				naive - 86400, naive + 86400, &t) == -1 ||
			    t <= sec)
				return (-1);
			sec = t;
			continue;
		}
		/*
		 * c happened first at cand[0], before sec: sec is in the
		 * repeated hour, and every civil time until its end has had
		 * its turn. Go on from where the clock passes the repeat:
		 * the change plus the hour it gave back.
		 */
		if (schedule_transition(cand[0], sec, &t) == -1 ||
		    schedule_gmtoff(t, &off) == -1)
			return (-1);
		t += candoff[0] - off;
		if (t <= sec)
			return (-1);
		sec = t;
	}
	return (-1);
}

int64_t
schedule_next(const struct schedule *s, int64_t after_ms, int utc)
{
	struct schedule_tm from, c;
	int64_t sec, t;

	if (s == NULL)
		return (-1);
	if (s->kind == SCHEDULE_EVERY) {
		if (s->every_ms <= 0 || after_ms > INT64_MAX - s->every_ms)
			return (-1);
		return (after_ms + s->every_ms);
	}
	if (s->kind != SCHEDULE_CRON && s->kind != SCHEDULE_CALENDAR)
		return (-1);
	/* The first whole second strictly after after_ms. */
	sec = after_ms / 1000 - (after_ms % 1000 < 0) + 1;
	if (sec < 0)
		sec = 0; /* nothing fires before 1970 */
	if (sec >=
	    schedule_days_from_civil(SCHEDULE_YEAR_MAX + 1, 1, 1) * 86400 +
		86400)
		return (-1);
	if (utc) {
		schedule_utc_tm(sec, &from);
		if (schedule_civil_next(s, &from, &c) == -1)
			return (-1);
		t = schedule_naive(&c);
	} else if ((t = schedule_next_local(s, sec)) == -1)
		return (-1);
	return (t * 1000);
}

static int schedule_put(char *buf, size_t len, size_t *off, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

/* Append to buf at *off; -1 when it does not fit. */
static int
schedule_put(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *off)
		return (-1);
	*off += (size_t)n;
	return (0);
}

/*
 * One field's canonical text: "*" when full, an arithmetic progression
 * that runs to the field's end as "a/s" (calendar, as systemd prints it),
 * or in cron "*" "/S" from the minimum and "a-max/s" from elsewhere, else a
 * list of values and of ranges of three or more. star_ok 0: never a form that
 * begins with '*', for cron's restricted day fields. rangesep "-" (cron) or
 * ".."; width pads numbers with zeros.
 */
static int
schedule_format_field(char *buf, size_t len, size_t *off,
    const struct schedule_bits *b, int min, int max, int star_ok,
    const char *rangesep, int width)
{
	int v, lo, hi, first = 1, count = 0, a = -1, a2 = -1, step, ap;
	int cron = rangesep[0] == '-';

	for (v = min; v <= max; v++) {
		if (schedule_bits_isset(b, v - min)) {
			if (count == 0)
				a = v;
			else if (count == 1)
				a2 = v;
			count++;
		}
	}
	if (count == max - min + 1 && star_ok)
		return (schedule_put(buf, len, off, "*"));
	if (count >= 3 && a2 - a >= 2) {
		step = a2 - a;
		ap = 1;
		for (v = min; v <= max && ap; v++) {
			if (schedule_bits_isset(b, v - min) !=
			    (v >= a && (v - a) % step == 0))
				ap = 0;
		}
		if (ap && a == min && star_ok && cron)
			return (schedule_put(buf, len, off, "*/%d", step));
		if (ap && cron)
			return (schedule_put(
			    buf, len, off, "%d-%d/%d", a, max, step));
		if (ap)
			return (schedule_put(
			    buf, len, off, "%0*d/%d", width, a, step));
	}
	for (lo = min; lo <= max; lo = hi + 1) {
		hi = lo;
		if (!schedule_bits_isset(b, lo - min))
			continue;
		while (hi + 1 <= max && schedule_bits_isset(b, hi + 1 - min))
			hi++;
		if (!first && schedule_put(buf, len, off, ",") == -1)
			return (-1);
		first = 0;
		if (hi - lo >= 2) {
			if (schedule_put(buf, len, off, "%0*d%s%0*d", width, lo,
				rangesep, width, hi) == -1)
				return (-1);
		} else if (hi == lo) {
			if (schedule_put(buf, len, off, "%0*d", width, lo) ==
			    -1)
				return (-1);
		} else if (schedule_put(buf, len, off, "%0*d,%0*d", width, lo,
			       width, hi) == -1)
			return (-1);
	}
	return (0);
}

static void
schedule_bits_from(struct schedule_bits *b, uint64_t w)
{
	memset(b, 0, sizeof *b);
	b->w[0] = w;
}

/*
 * A cron day field that began with '*': "*" "/S" for the part the star
 * made, then the values other elements added. bits are indexed from min.
 */
static int
schedule_format_star(char *buf, size_t len, size_t *off, uint64_t bits,
    int step, int min, int max, int fold7)
{
	struct schedule_bits rest;
	uint64_t starred = 0;
	int v;

	if (step == 1)
		return (schedule_put(buf, len, off, "*"));
	for (v = min; v <= max; v += step)
		starred |= (uint64_t)1 << ((fold7 && v == 7 ? 0 : v) - min);
	if (schedule_put(buf, len, off, "*/%d", step) == -1)
		return (-1);
	schedule_bits_from(&rest, bits & ~starred);
	if (rest.w[0] == 0)
		return (0);
	if (schedule_put(buf, len, off, ",") == -1)
		return (-1);
	return (schedule_format_field(
	    buf, len, off, &rest, min, fold7 ? 6 : max, 0, "-", 0));
}

static int
schedule_format_cron(
    const struct schedule *s, char *buf, size_t len, size_t *off)
{
	struct schedule_bits b;

	schedule_bits_from(&b, s->minutes);
	if (schedule_format_field(buf, len, off, &b, 0, 59, 1, "-", 0) == -1 ||
	    schedule_put(buf, len, off, " ") == -1)
		return (-1);
	schedule_bits_from(&b, s->hours);
	if (schedule_format_field(buf, len, off, &b, 0, 23, 1, "-", 0) == -1 ||
	    schedule_put(buf, len, off, " ") == -1)
		return (-1);
	schedule_bits_from(&b, s->days);
	if (s->dom_star_step != 0) {
		if (schedule_format_star(buf, len, off, s->days,
			s->dom_star_step, 1, 31, 0) == -1)
			return (-1);
	} else if (schedule_format_field(buf, len, off, &b, 1, 31, 0, "-", 0) ==
		   -1)
		return (-1);
	if (schedule_put(buf, len, off, " ") == -1)
		return (-1);
	schedule_bits_from(&b, s->months);
	if (schedule_format_field(buf, len, off, &b, 1, 12, 1, "-", 0) == -1 ||
	    schedule_put(buf, len, off, " ") == -1)
		return (-1);
	schedule_bits_from(&b, s->weekdays);
	if (s->dow_star_step != 0)
		return (schedule_format_star(
		    buf, len, off, s->weekdays, s->dow_star_step, 0, 7, 1));
	return (schedule_format_field(buf, len, off, &b, 0, 6, 0, "-", 0));
}

static int
schedule_format_calendar(
    const struct schedule *s, char *buf, size_t len, size_t *off)
{
	struct schedule_bits b;
	int i, lo, hi, first = 1;

#define SCHEDULE_WDAY(i) ((s->weekdays >> (((i) + 1) % 7)) & 1)
	if (s->weekdays != 0x7f) {
		for (lo = 0; lo < 7; lo = hi + 1) {
			hi = lo;
			if (!SCHEDULE_WDAY(lo))
				continue;
			while (hi + 1 < 7 && SCHEDULE_WDAY(hi + 1))
				hi++;
			if (schedule_put(buf, len, off, "%s%s",
				first ? "" : ",", schedule_cal_wdays[lo]) == -1)
				return (-1);
			first = 0;
			if (hi - lo >= 2 && schedule_put(buf, len, off, "..%s",
						schedule_cal_wdays[hi]) == -1)
				return (-1);
			for (i = lo + 1; hi - lo == 1 && i <= hi; i++) {
				if (schedule_put(buf, len, off, ",%s",
					schedule_cal_wdays[i]) == -1)
					return (-1);
			}
		}
		if (schedule_put(buf, len, off, " ") == -1)
			return (-1);
	}
#undef SCHEDULE_WDAY
	memset(&b, 0, sizeof b);
	memcpy(b.w, s->years, sizeof s->years);
	if (schedule_format_field(buf, len, off, &b, SCHEDULE_YEAR_MIN,
		SCHEDULE_YEAR_MAX, 1, "..", 4) == -1 ||
	    schedule_put(buf, len, off, "-") == -1)
		return (-1);
	schedule_bits_from(&b, s->months);
	if (schedule_format_field(buf, len, off, &b, 1, 12, 1, "..", 2) == -1 ||
	    schedule_put(buf, len, off, "-") == -1)
		return (-1);
	schedule_bits_from(&b, s->days);
	if (schedule_format_field(buf, len, off, &b, 1, 31, 1, "..", 2) == -1 ||
	    schedule_put(buf, len, off, " ") == -1)
		return (-1);
	schedule_bits_from(&b, s->hours);
	if (schedule_format_field(buf, len, off, &b, 0, 23, 1, "..", 2) == -1 ||
	    schedule_put(buf, len, off, ":") == -1)
		return (-1);
	schedule_bits_from(&b, s->minutes);
	if (schedule_format_field(buf, len, off, &b, 0, 59, 1, "..", 2) == -1 ||
	    schedule_put(buf, len, off, ":") == -1)
		return (-1);
	schedule_bits_from(&b, s->seconds);
	return (schedule_format_field(buf, len, off, &b, 0, 59, 1, "..", 2));
}

int
schedule_format(const struct schedule *s, char *buf, size_t len)
{
	size_t off = 0;
	int rc;

	if (len == 0)
		return (-1);
	buf[0] = '\0';
	switch (s->kind) {
	case SCHEDULE_EVERY:
		rc = schedule_put(
		    buf, len, &off, "every %lldms", (long long)s->every_ms);
		break;
	case SCHEDULE_CRON:
		rc = schedule_format_cron(s, buf, len, &off);
		break;
	case SCHEDULE_CALENDAR:
		rc = schedule_format_calendar(s, buf, len, &off);
		break;
	default:
		rc = schedule_put(buf, len, &off, "none");
		break;
	}
	if (rc == -1)
		buf[0] = '\0';
	return (rc);
}
