/* SPDX-License-Identifier: ISC */
/*
 * When a job runs next: a fixed interval (every_ms), a classic 5-field cron
 * line or a systemd OnCalendar expression, parsed into bitmaps, and the
 * first tick after a given time in UTC or in the local time zone. Pure: no
 * I/O, no globals, no allocation; times are int64 milliseconds since the
 * epoch. The search is bounded in years and in steps; it never walks
 * seconds one by one.
 */
#ifndef SCHEDD_SCHEDULE_H
#define SCHEDD_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

/* Texts longer than this are refused before anything else is looked at. */
#define SCHEDULE_TEXT_MAX 256
/* The interval's bounds: one second to 365 days. */
#define SCHEDULE_EVERY_MIN_MS 1000LL
#define SCHEDULE_EVERY_MAX_MS 31536000000LL
/* Years a cron or calendar schedule can name; "*" means all of them. */
#define SCHEDULE_YEAR_MIN 1970
#define SCHEDULE_YEAR_MAX 2199
/*
 * How many calendar years past the start schedule_next looks. Eight, not
 * five: Feb 29 has an eight-year gap around 2100 (2096 -> 2104).
 */
#define SCHEDULE_HORIZON_YEARS 8

enum schedule_kind {
	SCHEDULE_NONE = 0, /* zeroed, or a parse failed: never fires */
	SCHEDULE_EVERY,    /* every_ms after the reference time */
	SCHEDULE_CRON,     /* "MIN HOUR DOM MON DOW", the DOM/DOW OR rule */
	SCHEDULE_CALENDAR, /* systemd OnCalendar: all fields must match */
};

/*
 * A plain struct of bitmaps, filled by the parsers below; callers read it
 * and may copy it, but build it only through them.
 */
struct schedule {
	enum schedule_kind kind;
	int64_t every_ms; /* SCHEDULE_EVERY only */
	uint64_t seconds; /* bit s for second s, 0..59 */
	uint64_t minutes; /* bit m for minute m, 0..59 */
	uint32_t hours;   /* bit h for hour h, 0..23 */
	uint32_t days;    /* bit d - 1 for day of month d, 1..31 */
	uint16_t months;  /* bit m - 1 for month m, 1..12 */
	uint8_t weekdays; /* bit w for weekday w, 0 Sunday .. 6 Saturday */
	/*
	 * Cron only: the day-of-month and day-of-week fields began with '*'
	 * ("*" or "*" "/S"); the value is S (1 for a bare '*'), 0 when the
	 * field was restricted. Cron ORs the two day fields only when both
	 * are 0 (Vixie cron's DOM_STAR/DOW_STAR).
	 */
	uint8_t dom_star_step;
	uint8_t dow_star_step;
	/* bit y - SCHEDULE_YEAR_MIN for year y */
	uint64_t years[(SCHEDULE_YEAR_MAX - SCHEDULE_YEAR_MIN + 64) / 64];
};

/*
 * Parse a cron line: five fields split by blanks, "MIN HOUR DOM MON DOW",
 * each "*", "N", "N-M", "N/S" (N to the field's end), "*" "/S", "N-M/S" or
 * a comma list of these. MON takes jan..dec and DOW sun..sat, any case;
 * DOW takes 0-7, 0 and 7 both Sunday. A day matches if DOM and DOW both
 * match, or, when neither field begins with '*', if either does. Seconds
 * are 0. Also @hourly @daily @midnight @weekly @monthly @yearly @annually.
 * Returns 0 and fills *out, or -1, leaves *out of kind SCHEDULE_NONE and
 * writes into why (if not NULL) what is wrong and where, as in
 * "cron: field 3 (day of month): 32 is out of range 1..31".
 */
int schedule_parse_cron(
    const char *text, struct schedule *out, char *why, size_t whylen);

/*
 * Parse a systemd OnCalendar expression, the common subset:
 * "[WEEKDAYS] [[YEAR-]MONTH-DAY] [HOUR:MINUTE[:SECOND]]". Each number
 * field is "*", "N", "a,b", "a..b", "a/s" or "a..b/s" ("*" "/s" too), and
 * lists of these; WEEKDAYS are names (Mon or Monday, any case), lists and
 * ranges "Mon..Fri". A missing date is *-*-*, a missing time 00:00:00,
 * missing seconds 00. Shortcuts: minutely hourly daily weekly monthly
 * quarterly semiannually yearly annually, as systemd defines them. Not
 * supported: "~" (last days of a month), fractional seconds, a time zone.
 * Returns 0 or -1 with the reason in why, as schedule_parse_cron.
 */
int schedule_parse_calendar(
    const char *text, struct schedule *out, char *why, size_t whylen);

/*
 * A fixed interval: the first tick is every_ms after the reference time.
 * Returns 0, or -1 (out of kind SCHEDULE_NONE, the reason in why) when
 * every_ms is outside SCHEDULE_EVERY_MIN_MS..SCHEDULE_EVERY_MAX_MS.
 */
int schedule_every(
    struct schedule *out, int64_t every_ms, char *why, size_t whylen);

/*
 * The first tick strictly after after_ms: for SCHEDULE_EVERY, after_ms +
 * every_ms; otherwise the first whole second that matches, read in UTC
 * when utc, else in the local time zone (localtime_r; the caller runs
 * tzset() when TZ changes). A local time that does not exist (skipped by a
 * DST change) never fires: the search goes on to the next matching time
 * that exists. A local time that happens twice fires once, at its first
 * occurrence. Returns -1 when nothing matches within SCHEDULE_HORIZON_YEARS
 * calendar years (Feb 30, a year in the past) or past SCHEDULE_YEAR_MAX,
 * and for SCHEDULE_NONE. The search takes a bounded number of steps.
 */
int64_t schedule_next(const struct schedule *s, int64_t after_ms, int utc);

/*
 * Canonical text into buf: "every 5000ms", a cron line with numbers
 * ("0 9 * * 1-5") or a calendar expression ("Mon..Fri *-*-* 09:30:00").
 * The text parses back into the same schedule when it is no longer than
 * SCHEDULE_TEXT_MAX. Returns 0, or -1 (buf holds "") if buf is too small;
 * 2048 bytes are always enough.
 */
int schedule_format(const struct schedule *s, char *buf, size_t len);

#endif
