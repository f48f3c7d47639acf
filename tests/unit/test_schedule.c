/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for proto/schedule.c: cron and calendar texts that must parse
 * (each with its canonical text, which must parse back to the same
 * schedule) and texts that must fail with a reason naming the field;
 * schedule_next against hand-computed times in UTC (leap years, month
 * ends, the DOM/DOW OR rule, steps, Sunday as 0 and 7, every_ms) and in
 * Europe/Berlin across both DST changes of 2026; and property tests that
 * hold random schedules to an independent brute-force matcher.
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "proto/schedule.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

/* "2026-03-29T00:45:00Z" or "...:00.250Z" to ms since the epoch. */
static int64_t
iso_ms(const char *s)
{
	struct tm tm;
	int ms = 0, n;

	memset(&tm, 0, sizeof tm);
	n = sscanf(s, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms);
	if (n < 6)
		fail_msg("bad time in test: %s", s);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return ((int64_t)timegm(&tm) * 1000 + ms);
}

static const char *
ms_iso(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms == -1)
		snprintf(buf, len, "none");
	else if (gmtime_r(&t, &tm) == NULL)
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return (buf);
}

static int
same_schedule(const struct schedule *a, const struct schedule *b)
{
	return (a->kind == b->kind && a->every_ms == b->every_ms &&
		a->seconds == b->seconds && a->minutes == b->minutes &&
		a->hours == b->hours && a->days == b->days &&
		a->months == b->months && a->weekdays == b->weekdays &&
		a->dom_star_step == b->dom_star_step &&
		a->dow_star_step == b->dow_star_step &&
		memcmp(a->years, b->years, sizeof a->years) == 0);
}

/* 'c' cron, 'k' calendar. */
static int
parse(char kind, const char *text, struct schedule *s, char *why, size_t whylen)
{
	if (kind == 'c')
		return (schedule_parse_cron(text, s, why, whylen));
	return (schedule_parse_calendar(text, s, why, whylen));
}

struct valid_case {
	char kind;
	const char *text, *canonical;
};

static const struct valid_case valid_cases[] = {
    {'c', "0 0 * * *", "0 0 * * *"},
    {'c', "*/15 * * * *", "*/15 * * * *"},
    {'c', "0 9 * * mon-fri", "0 9 * * 1-5"},
    {'c', "0 9 * * MON-Fri", "0 9 * * 1-5"},
    {'c', "0 0 1,15 * *", "0 0 1,15 * *"},
    {'c', "0 0 * JAN,Jul *", "0 0 * 1,7 *"},
    {'c', "0 0 * jan-mar *", "0 0 * 1-3 *"},
    {'c', "5-50/20 * * * *", "5-59/20 * * * *"},
    {'c', "30/10 * * * *", "30-59/10 * * * *"},
    {'c', "0 0 * * 7", "0 0 * * 0"},
    {'c', "0 0 * * 0,7", "0 0 * * 0"},
    {'c', "0 0 * * 1-7", "0 0 * * 0-6"},
    {'c', "0 0 * * 5-7", "0 0 * * 0,5,6"},
    {'c', "0 0 */2 * 1", "0 0 */2 * 1"},
    {'c', "0 0 */2,10 * 1", "0 0 */2,10 * 1"},
    {'c', "0 0 1-31 * 1", "0 0 1-31 * 1"},
    {'c', "0 0 1-31/2 * 1", "0 0 1-31/2 * 1"},
    {'c', "0 0 * * */2", "0 0 * * */2"},
    {'c', "0 0 * * */7", "0 0 * * */7"},
    {'c', "1,2,3,10 0-23 * * *", "1-3,10 * * * *"},
    {'c', "0,30 8-17/3 * * *", "0,30 8,11,14,17 * * *"},
    {'c', "  0   12\t* * *  ", "0 12 * * *"},
    {'c', "59 23 31 12 6", "59 23 31 12 6"},
    {'c', "@hourly", "0 * * * *"},
    {'c', "@daily", "0 0 * * *"},
    {'c', "@midnight", "0 0 * * *"},
    {'c', "@weekly", "0 0 * * 0"},
    {'c', "@monthly", "0 0 1 * *"},
    {'c', "@yearly", "0 0 1 1 *"},
    {'c', "@ANNUALLY", "0 0 1 1 *"},
    {'k', "*-*-* 02:00:00", "*-*-* 02:00:00"},
    {'k', "Mon..Fri 09:30", "Mon..Fri *-*-* 09:30:00"},
    {'k', "*-*-* *:*:0/5", "*-*-* *:*:00/5"},
    {'k', "*:*:*/5", "*-*-* *:*:00/5"},
    {'k', "*:0/15", "*-*-* *:00/15:00"},
    {'k', "minutely", "*-*-* *:*:00"},
    {'k', "hourly", "*-*-* *:00:00"},
    {'k', "daily", "*-*-* 00:00:00"},
    {'k', "weekly", "Mon *-*-* 00:00:00"},
    {'k', "monthly", "*-*-01 00:00:00"},
    {'k', "quarterly", "*-01/3-01 00:00:00"},
    {'k', "semiannually", "*-01,07-01 00:00:00"},
    {'k', "yearly", "*-01-01 00:00:00"},
    {'k', "Annually", "*-01-01 00:00:00"},
    {'k', "Sat,Sun 10:00", "Sat,Sun *-*-* 10:00:00"},
    {'k', "mon,wed..fri", "Mon,Wed..Fri *-*-* 00:00:00"},
    {'k', "Monday 12:00", "Mon *-*-* 12:00:00"},
    {'k', "Mon-Wed 12:00", "Mon..Wed *-*-* 12:00:00"},
    {'k', "Fri..Sun", "Fri..Sun *-*-* 00:00:00"},
    {'k', "2026-03-29 02:30", "2026-03-29 02:30:00"},
    {'k', "03-29", "*-03-29 00:00:00"},
    {'k', "*-*", "*-*-* 00:00:00"},
    {'k', "*-*-1,15 8..17/3:00", "*-*-01,15 08,11,14,17:00:00"},
    {'k', "2026..2028-*-* 00:00", "2026..2028-*-* 00:00:00"},
    {'k', "2026/50-1-1", "2026/50-01-01 00:00:00"},
    {'k', "*-02-29 12:00", "*-02-29 12:00:00"},
    {'k', "Sun *-*-* 0:0:0", "Sun *-*-* 00:00:00"},
    {'k', "  Mon   *-*-*   1:2:3  ", "Mon *-*-* 01:02:03"},
};

static void
schedule_parse__valid__canonical_text(void **state)
{
	struct schedule s, again;
	char why[256], buf[2048];
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(valid_cases); i++) {
		const struct valid_case *c = &valid_cases[i];

		why[0] = '\0';
		if (parse(c->kind, c->text, &s, why, sizeof why) != 0)
			fail_msg("\"%s\" refused: %s", c->text, why);
		assert_int_equal(
		    s.kind, c->kind == 'c' ? SCHEDULE_CRON : SCHEDULE_CALENDAR);
		assert_int_equal(schedule_format(&s, buf, sizeof buf), 0);
		if (strcmp(buf, c->canonical) != 0)
			fail_msg("\"%s\" -> \"%s\", want \"%s\"", c->text, buf,
			    c->canonical);
		if (parse(c->kind, buf, &again, why, sizeof why) != 0)
			fail_msg("canonical \"%s\" refused: %s", buf, why);
		if (!same_schedule(&s, &again))
			fail_msg("\"%s\" and its canonical \"%s\" differ",
			    c->text, buf);
	}
}

static void
schedule_parse_cron__fields__bitmaps(void **state)
{
	struct schedule s;
	char why[256];

	(void)state;
	assert_int_equal(
	    schedule_parse_cron("5,10 */6 1-3 feb 0,7", &s, why, sizeof why),
	    0);
	assert_true(s.seconds == 1);
	assert_true(s.minutes == ((1ULL << 5) | (1ULL << 10)));
	assert_int_equal(s.hours, (1 << 0) | (1 << 6) | (1 << 12) | (1 << 18));
	assert_int_equal(s.days, 0x7);
	assert_int_equal(s.months, 1 << 1);
	assert_int_equal(s.weekdays, 1);
	assert_int_equal(s.dom_star_step, 0);
	assert_int_equal(s.dow_star_step, 0);
	assert_true(s.years[0] & 1);

	assert_int_equal(
	    schedule_parse_cron("0 0 * * sat-7", &s, why, sizeof why), 0);
	assert_int_equal(s.weekdays, (1 << 6) | 1);
	assert_int_equal(
	    schedule_parse_cron("0 0 * * 6-7", &s, why, sizeof why), 0);
	assert_int_equal(s.weekdays, (1 << 6) | 1);
	assert_int_equal(
	    schedule_parse_cron("0 0 * * *", &s, why, sizeof why), 0);
	assert_int_equal(s.dom_star_step, 1);
	assert_int_equal(s.dow_star_step, 1);
	assert_int_equal(s.days, 0x7fffffff);
	assert_int_equal(s.weekdays, 0x7f);
}

static void
schedule_parse_calendar__defaults__midnight_every_day(void **state)
{
	struct schedule s;
	char why[256];

	(void)state;
	assert_int_equal(
	    schedule_parse_calendar("Mon", &s, why, sizeof why), 0);
	assert_true(s.seconds == 1 && s.minutes == 1 && s.hours == 1);
	assert_int_equal(s.days, 0x7fffffff);
	assert_int_equal(s.months, 0xfff);
	assert_int_equal(s.weekdays, 1 << 1);
	assert_int_equal(
	    schedule_parse_calendar("2030-1-1", &s, why, sizeof why), 0);
	assert_true(s.years[0] == 1ULL << (2030 - 1970));
	assert_true(s.years[1] == 0 && s.years[2] == 0 && s.years[3] == 0);
	assert_int_equal(
	    schedule_parse_calendar("2199-1-1", &s, why, sizeof why), 0);
	assert_true(s.years[0] == 0 && s.years[1] == 0 && s.years[2] == 0);
	assert_true(s.years[3] == 1ULL << (2199 - 1970 - 192));
	assert_int_equal(
	    schedule_parse_calendar("12:30", &s, why, sizeof why), 0);
	assert_true(s.seconds == 1 && s.minutes == 1ULL << 30);
	assert_int_equal(s.hours, 1 << 12);
}

struct invalid_case {
	char kind;
	const char *text, *why; /* why: the whole reason, or its start */
};

static const struct invalid_case invalid_cases[] = {
    {'c', "0 0 32 * *",
	"cron: field 3 (day of month): 32 is out of range 1..31"},
    {'c', "60 * * * *", "cron: field 1 (minute): 60 is out of range 0..59"},
    {'c', "* 24 * * *", "cron: field 2 (hour): 24 is out of range 0..23"},
    {'c', "* * 0 * *", "cron: field 3 (day of month): 0 is out of range 1..31"},
    {'c', "* * * 13 *", "cron: field 4 (month): 13 is out of range 1..12"},
    {'c', "* * * 0 *", "cron: field 4 (month): 0 is out of range 1..12"},
    {'c', "* * * * 8", "cron: field 5 (day of week): 8 is out of range 0..7"},
    {'c', "1-60 * * * *", "cron: field 1 (minute): 60 is out of range 0..59"},
    {'c', "99999999999 * * * *",
	"cron: field 1 (minute): 100000 is out of range"},
    {'c', "* * * *",
	"cron: expected 5 fields (minute hour day-of-month month day-of-week), got 4"},
    {'c', "* * * * * *",
	"cron: expected 5 fields (minute hour day-of-month month day-of-week), got more than 5"},
    {'c', "", "cron: expected 5 fields"},
    {'c', "   ", "cron: expected 5 fields"},
    {'c', "*/0 * * * *",
	"cron: field 1 (minute): step 0 is out of range 1..60"},
    {'c', "* */25 * * *",
	"cron: field 2 (hour): step 25 is out of range 1..24"},
    {'c', "5-1 * * * *", "cron: field 1 (minute): range 5-1 is reversed"},
    {'c', "* * * * mon-sun",
	"cron: field 5 (day of week): range 1-0 is reversed"},
    {'c', "1,,2 * * * *", "cron: field 1 (minute): empty element in list"},
    {'c', "1, * * * *", "cron: field 1 (minute): empty element in list"},
    {'c', ",1 * * * *", "cron: field 1 (minute): empty element in list"},
    {'c', "* * * foo *", "cron: field 4 (month): 'foo' is not a month name"},
    {'c', "* * * january *",
	"cron: field 4 (month): 'january' is not a month name"},
    {'c', "* * * * funday",
	"cron: field 5 (day of week): 'funday' is not a day of week name"},
    {'c', "* * mon * *",
	"cron: field 3 (day of month): expected a number at 'mon'"},
    {'c', "1- * * * *", "cron: field 1 (minute): a value is missing"},
    {'c', "*/ * * * *", "cron: field 1 (minute): expected a step after '/'"},
    {'c', "*/x * * * *", "cron: field 1 (minute): expected a step after '/'"},
    {'c', "1x * * * *", "cron: field 1 (minute): unexpected 'x'"},
    {'c', "** * * * *", "cron: field 1 (minute): unexpected '*'"},
    {'c', "-1 * * * *", "cron: field 1 (minute): expected a number at '-1'"},
    {'c', "* * * jan-feb-mar *", "cron: field 4 (month): unexpected '-mar'"},
    {'c', "1.5 * * * *", "cron: field 1 (minute): unexpected '.5'"},
    {'c', "@reboot", "cron: unknown shortcut '@reboot'"},
    {'c', "@daily 1", "cron: unknown shortcut '@daily 1'"},
    {'c', "0 0 \x01 * *",
	"cron: field 3 (day of month): expected a number at '\\x01'"},
    {'k', "*-*-32", "calendar: day: 32 is out of range 1..31"},
    {'k', "*-13-01", "calendar: month: 13 is out of range 1..12"},
    {'k', "*-0-01", "calendar: month: 0 is out of range 1..12"},
    {'k', "25:00", "calendar: hour: 25 is out of range 0..23"},
    {'k', "*:60", "calendar: minute: 60 is out of range 0..59"},
    {'k', "*:*:60", "calendar: second: 60 is out of range 0..59"},
    {'k', "1969-01-01", "calendar: year: 1969 is out of range 1970..2199"},
    {'k', "2200-01-01", "calendar: year: 2200 is out of range 1970..2199"},
    {'k', "26-01-01", "calendar: year: 26 is out of range 1970..2199"},
    {'k', "Mon..Fry", "calendar: weekday: 'Fry' is not a weekday"},
    {'k', "Mo 10:00", "calendar: weekday: 'Mo' is not a weekday"},
    {'k', "Fri..Mon",
	"calendar: weekday: range Fri..Mon is reversed (weeks start on Monday)"},
    {'k', "Mon,,Fri", "calendar: weekday: empty element in list"},
    {'k', "Mon.Fri", "calendar: weekday: unexpected '.Fri'"},
    {'k', "*-*-* 10:00 UTC",
	"calendar: 'UTC' is not where a weekday, a date (MONTH-DAY) or a time (HOUR:MINUTE) can be (time zones are not supported)"},
    {'k', "10:00 *-*-*", "calendar: '*-*-*' is not where"},
    {'k', "Mon Tue", "calendar: 'Tue' is not where"},
    {'k', "10", "calendar: '10' is not where"},
    {'k', "1-2-3-4", "calendar: date '1-2-3-4' is not [YEAR-]MONTH-DAY"},
    {'k', "10:00:00:00",
	"calendar: time '10:00:00:00' is not HOUR:MINUTE[:SECOND]"},
    {'k', "*:*:0/0", "calendar: second: step 0 is out of range 1..60"},
    {'k', "*-*-* 10:00:00.5", "calendar: second: unexpected '.5'"},
    {'k', "*-*-* 1..:00", "calendar: hour: a value is missing"},
    {'k', "*-*-* 5..1:00", "calendar: hour: range 5..1 is reversed"},
    {'k', "*-*-* :00", "calendar: hour: empty field"},
    {'k', "*-*-~1", "calendar: day: expected a number at '~1'"},
    {'k', "", "calendar: empty"},
    {'k', "  ", "calendar: empty"},
    {'k', "daily x", "calendar: weekday: 'daily' is not a weekday"},
    {'k', "Mon *-*-* 10:00 x", "calendar: too many parts"},
};

static void
schedule_parse__invalid__refused_with_reason(void **state)
{
	struct schedule s;
	char why[512];
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(invalid_cases); i++) {
		const struct invalid_case *c = &invalid_cases[i];

		memset(&s, 0xa5, sizeof s);
		why[0] = '\0';
		if (parse(c->kind, c->text, &s, why, sizeof why) != -1)
			fail_msg("\"%s\" accepted", c->text);
		if (strncmp(why, c->why, strlen(c->why)) != 0)
			fail_msg("\"%s\": why \"%s\", want \"%s\"", c->text,
			    why, c->why);
		assert_int_equal(s.kind, SCHEDULE_NONE);
		assert_int_equal(schedule_next(&s, 0, 1), -1);
	}
}

static void
schedule_parse__long_or_null_text__refused(void **state)
{
	char text[SCHEDULE_TEXT_MAX + 2], why[128];
	struct schedule s;

	(void)state;
	/* Exactly SCHEDULE_TEXT_MAX bytes is fine: blanks then a line. */
	memset(text, ' ', sizeof text);
	memcpy(text + SCHEDULE_TEXT_MAX - 9, "0 0 * * *", 9);
	text[SCHEDULE_TEXT_MAX] = '\0';
	assert_int_equal(schedule_parse_cron(text, &s, why, sizeof why), 0);
	memcpy(text + SCHEDULE_TEXT_MAX - 9, "   *-*-* ", 9);
	assert_int_equal(schedule_parse_calendar(text, &s, why, sizeof why), 0);
	/* One more byte is refused, before anything else is looked at. */
	memset(text, ' ', sizeof text);
	memcpy(text + SCHEDULE_TEXT_MAX - 8, "0 0 * * *", 9);
	text[SCHEDULE_TEXT_MAX + 1] = '\0';
	assert_int_equal(schedule_parse_cron(text, &s, why, sizeof why), -1);
	assert_string_equal(why, "cron: longer than 256 bytes");
	assert_int_equal(
	    schedule_parse_calendar(text, &s, why, sizeof why), -1);
	assert_string_equal(why, "calendar: longer than 256 bytes");

	assert_int_equal(schedule_parse_cron(NULL, &s, why, sizeof why), -1);
	assert_string_equal(why, "cron: no text");
	assert_int_equal(
	    schedule_parse_calendar(NULL, &s, why, sizeof why), -1);
	/* why may be NULL or tiny. */
	assert_int_equal(schedule_parse_cron("x", &s, NULL, 0), -1);
	why[0] = 'q';
	assert_int_equal(schedule_parse_cron("x", &s, why, 1), -1);
	assert_int_equal(why[0], '\0');
}

static void
schedule_every__bounds__checked(void **state)
{
	struct schedule s;
	char why[128], buf[64];

	(void)state;
	assert_int_equal(schedule_every(&s, 999, why, sizeof why), -1);
	assert_string_equal(
	    why, "every_ms: 999 is out of range 1000..31536000000");
	assert_int_equal(s.kind, SCHEDULE_NONE);
	assert_int_equal(
	    schedule_every(&s, 31536000001LL, why, sizeof why), -1);
	assert_int_equal(schedule_every(&s, -5000, why, sizeof why), -1);
	assert_int_equal(schedule_every(&s, 31536000000LL, why, sizeof why), 0);
	assert_int_equal(schedule_every(&s, 1000, why, sizeof why), 0);
	assert_int_equal(s.kind, SCHEDULE_EVERY);
	assert_int_equal(schedule_format(&s, buf, sizeof buf), 0);
	assert_string_equal(buf, "every 1000ms");
}

static void
schedule_next__every__interval_after_reference(void **state)
{
	struct schedule s;
	char why[128];

	(void)state;
	assert_int_equal(schedule_every(&s, 5000, why, sizeof why), 0);
	assert_int_equal(schedule_next(&s, 0, 1), 5000);
	assert_int_equal(schedule_next(&s, 1234, 0), 6234);
	assert_int_equal(schedule_next(&s, -1000, 1), 4000);
	assert_int_equal(schedule_next(&s, INT64_MAX - 5000, 1), INT64_MAX);
	assert_int_equal(schedule_next(&s, INT64_MAX - 4999, 1), -1);
	assert_int_equal(schedule_every(&s, 31536000000LL, why, sizeof why), 0);
	assert_int_equal(schedule_next(&s, iso_ms("2026-01-01T00:00:00Z"), 1),
	    iso_ms("2027-01-01T00:00:00Z"));
	assert_int_equal(schedule_next(NULL, 0, 1), -1);
	memset(&s, 0, sizeof s);
	assert_int_equal(schedule_next(&s, 0, 1), -1);
}

struct next_case {
	char kind;
	const char *text, *after, *want; /* want NULL: none (-1) */
};

/* Worked out by hand from a calendar; 2026-03-01 is a Sunday. */
static const struct next_case utc_cases[] = {
    /* Leap years: Feb 29 in 2028, 2032; not in 2100 (2096 -> 2104). */
    {'c', "0 0 29 2 *", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z"},
    {'k', "*-02-29 12:00", "2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z"},
    {'k', "*-02-29 12:00", "2028-02-29T11:59:59.999Z", "2028-02-29T12:00:00Z"},
    {'k', "*-02-29", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z"},
    {'k', "*-02-28..29", "2026-02-28T00:00:00Z", "2027-02-28T00:00:00Z"},
    {'k', "2000-02-29 00:00", "1999-06-01T00:00:00Z", "2000-02-29T00:00:00Z"},
    /* Never: Feb 30, Apr 31, a year in the past, beyond 2199. */
    {'c', "0 0 30 2 *", "2026-01-01T00:00:00Z", NULL},
    {'k', "*-02-30", "2026-01-01T00:00:00Z", NULL},
    {'k', "*-04-31", "2026-01-01T00:00:00Z", NULL},
    {'k', "2020-*-* 00:00", "2026-01-01T00:00:00Z", NULL},
    {'k', "daily", "2199-12-31T00:00:00Z", NULL},
    {'k', "2199-12-31 23:59:59", "2199-12-31T00:00:00Z",
	"2199-12-31T23:59:59Z"},
    /* Beyond the horizon: Feb 29 that is a Monday (2044 from 2026). */
    {'k', "Mon *-02-29", "2026-01-01T00:00:00Z", NULL},
    {'k', "Mon *-02-29", "2040-01-01T00:00:00Z", "2044-02-29T00:00:00Z"},
    /* Month ends. */
    {'c', "0 0 31 * *", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z"},
    {'k', "*-*-31 23:59:59", "2026-01-31T23:59:59Z", "2026-03-31T23:59:59Z"},
    {'c', "0 0 1 * *", "2026-12-31T23:59:59.999Z", "2027-01-01T00:00:00Z"},
    {'c', "0 0 1 1 *", "2026-12-31T23:59:59.999Z", "2027-01-01T00:00:00Z"},
    {'c', "@yearly", "2026-06-15T00:00:00Z", "2027-01-01T00:00:00Z"},
    {'c', "59 23 * * *", "2026-02-28T23:59:00Z", "2026-03-01T23:59:00Z"},
    {'c', "59 23 * * *", "2028-02-28T23:59:00Z", "2028-02-29T23:59:00Z"},
    /* DOM/DOW OR rule, and AND when either field begins with '*'. */
    {'c', "0 0 1 * 1", "2026-02-28T00:00:00Z", "2026-03-01T00:00:00Z"},
    {'c', "0 0 1 * 1", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"},
    {'c', "0 0 1 * 1", "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z"},
    {'c', "0 0 13 * 5", "2026-02-01T00:00:00Z", "2026-02-06T00:00:00Z"},
    {'c', "0 0 */2 * 1", "2026-03-01T00:00:00Z", "2026-03-09T00:00:00Z"},
    {'c', "0 0 1 * */2", "2026-03-02T00:00:00Z", "2026-08-01T00:00:00Z"},
    {'c', "0 0 1 * *", "2026-03-02T00:00:00Z", "2026-04-01T00:00:00Z"},
    {'c', "0 0 * * 1", "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z"},
    {'c', "0 0 1-31 * 1", "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z"},
    {'k', "Mon *-*-01", "2026-03-01T00:00:00Z", "2026-06-01T00:00:00Z"},
    /* Sunday as 0, 7 and sun. */
    {'c', "0 12 * * 0", "2026-03-02T00:00:00Z", "2026-03-08T12:00:00Z"},
    {'c', "0 12 * * 7", "2026-03-02T00:00:00Z", "2026-03-08T12:00:00Z"},
    {'c', "0 12 * * SUN", "2026-03-02T00:00:00Z", "2026-03-08T12:00:00Z"},
    {'c', "0 12 * * 5-7", "2026-03-02T00:00:00Z", "2026-03-06T12:00:00Z"},
    {'c', "0 12 * * 6-7", "2026-03-07T12:00:00Z", "2026-03-08T12:00:00Z"},
    {'k', "Sun 12:00", "2026-03-02T00:00:00Z", "2026-03-08T12:00:00Z"},
    {'k', "Sat..Sun 12:00", "2026-03-02T00:00:00Z", "2026-03-07T12:00:00Z"},
    /* Steps and ranges. */
    {'c', "*/15 * * * *", "2026-03-02T10:07:00Z", "2026-03-02T10:15:00Z"},
    {'c', "*/15 * * * *", "2026-03-02T23:45:00Z", "2026-03-03T00:00:00Z"},
    {'c', "5-50/20 * * * *", "2026-03-02T10:46:00Z", "2026-03-02T11:05:00Z"},
    {'c', "0 8-17/3 * * *", "2026-03-02T14:00:00Z", "2026-03-02T17:00:00Z"},
    {'c', "0 8-17/3 * * *", "2026-03-02T17:00:00Z", "2026-03-03T08:00:00Z"},
    {'c', "0 0 * */5 *", "2026-02-01T00:00:00Z", "2026-06-01T00:00:00Z"},
    {'c', "30 * * * *", "2026-03-02T10:29:59.999Z", "2026-03-02T10:30:00Z"},
    {'c', "30 * * * *", "2026-03-02T10:30:00Z", "2026-03-02T11:30:00Z"},
    {'k', "*-*-* *:*:0/5", "2026-03-02T10:00:03.500Z", "2026-03-02T10:00:05Z"},
    {'k', "*-*-* *:*:0/5", "2026-03-02T10:00:05Z", "2026-03-02T10:00:10Z"},
    {'k', "*-*-* *:*:0/5", "2026-03-02T10:00:04.999Z", "2026-03-02T10:00:05Z"},
    {'k', "*-*-* *:*:0/5", "2026-12-31T23:59:55Z", "2027-01-01T00:00:00Z"},
    {'k', "*:*:*", "2026-03-02T10:00:00.001Z", "2026-03-02T10:00:01Z"},
    {'k', "*-*-* 08..17/3:00", "2026-03-02T14:00:00Z", "2026-03-02T17:00:00Z"},
    {'k', "2027/2-01-01", "2026-05-01T00:00:00Z", "2027-01-01T00:00:00Z"},
    {'k', "2027/2-01-01", "2027-01-01T00:00:00Z", "2029-01-01T00:00:00Z"},
    {'k', "*-*-1/10", "2026-03-21T00:00:00Z", "2026-03-31T00:00:00Z"},
    {'k', "*-*-1/10", "2026-04-21T00:00:00Z", "2026-05-01T00:00:00Z"},
    {'k', "Mon..Fri 09:30", "2026-03-06T09:30:00Z", "2026-03-09T09:30:00Z"},
    {'k', "Mon..Fri 09:30", "2026-03-06T09:29:00Z", "2026-03-06T09:30:00Z"},
    {'k', "weekly", "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z"},
    {'k', "monthly", "2026-03-02T00:00:00Z", "2026-04-01T00:00:00Z"},
    {'k', "quarterly", "2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z"},
    {'k', "minutely", "2026-03-02T10:00:00Z", "2026-03-02T10:01:00Z"},
    /* Before 1970 nothing fires; the first tick is the epoch. */
    {'k', "daily", "1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z"},
    {'k', "daily", "1965-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
};

static void
run_next_cases(const struct next_case *cases, size_t n, int utc)
{
	struct schedule s;
	char why[256], got[80];
	int64_t want, next;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct next_case *c = &cases[i];

		if (parse(c->kind, c->text, &s, why, sizeof why) != 0)
			fail_msg("\"%s\" refused: %s", c->text, why);
		want = c->want == NULL ? -1 : iso_ms(c->want);
		next = schedule_next(&s, iso_ms(c->after), utc);
		if (next != want)
			fail_msg("\"%s\" after %s: %s, want %s (%s)", c->text,
			    c->after, ms_iso(next, got, sizeof got),
			    c->want == NULL ? "none" : c->want,
			    utc ? "UTC" : "local");
	}
}

static void
schedule_next__utc__hand_computed(void **state)
{
	(void)state;
	run_next_cases(utc_cases, NITEMS(utc_cases), 1);
}

/*
 * Europe/Berlin, 2026: CET is UTC+1, CEST UTC+2. On Sunday 2026-03-29 at
 * 01:00Z the clock goes from 02:00 to 03:00 (02:xx does not exist); on
 * Sunday 2026-10-25 at 01:00Z it goes from 03:00 back to 02:00 (02:xx
 * happens twice and fires once, the first time).
 */
static const struct next_case berlin_cases[] = {
    {'k', "*-*-* 02:30", "2026-03-27T12:00:00Z", "2026-03-28T01:30:00Z"},
    {'k', "*-*-* 02:30", "2026-03-28T12:00:00Z", "2026-03-30T00:30:00Z"},
    {'c', "30 2 * * *", "2026-03-28T12:00:00Z", "2026-03-30T00:30:00Z"},
    {'c', "30 * * * *", "2026-03-29T00:45:00Z", "2026-03-29T01:30:00Z"},
    {'c', "0 * * * *", "2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z"},
    {'c', "0 3 * * *", "2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z"},
    {'k', "*:*:0/5", "2026-03-29T00:59:58Z", "2026-03-29T01:00:00Z"},
    {'k', "*:*:0/5", "2026-03-29T00:59:54Z", "2026-03-29T00:59:55Z"},
    {'k', "2026-03-29 02:00..59:00", "2026-03-01T00:00:00Z", NULL},
    /* The EU changes on the last Sunday: 02:30 then never exists. */
    {'k', "Sun *-03-25..31 02:30", "2026-01-01T00:00:00Z", NULL},
    {'k', "Sun *-10-25..31 02:30", "2026-01-01T00:00:00Z",
	"2026-10-25T00:30:00Z"},
    {'k', "*-*-* 02:30", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z"},
    {'k', "*-*-* 02:30", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"},
    {'k', "*-*-* 02:30", "2026-10-25T01:10:00Z", "2026-10-26T01:30:00Z"},
    {'c', "30 * * * *", "2026-10-25T00:15:00Z", "2026-10-25T00:30:00Z"},
    {'c', "30 * * * *", "2026-10-25T00:30:00Z", "2026-10-25T02:30:00Z"},
    {'c', "0 * * * *", "2026-10-25T01:10:00Z", "2026-10-25T02:00:00Z"},
    {'c', "0 2 * * *", "2026-10-24T23:59:59Z", "2026-10-25T00:00:00Z"},
    {'c', "0 2 * * *", "2026-10-25T00:00:00Z", "2026-10-26T01:00:00Z"},
    {'c', "0 3 * * *", "2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z"},
    {'k', "*:*:0/5", "2026-10-25T00:59:58Z", "2026-10-25T02:00:00Z"},
    {'k', "daily", "2026-07-01T12:00:00Z", "2026-07-01T22:00:00Z"},
    {'k', "daily", "2026-12-01T12:00:00Z", "2026-12-01T23:00:00Z"},
    {'c', "0 12 * * 0", "2026-03-28T00:00:00Z", "2026-03-29T10:00:00Z"},
};

static char *saved_tz;

static int
berlin_setup(void **state)
{
	const char *tz = getenv("TZ");

	(void)state;
	saved_tz = tz == NULL ? NULL : strdup(tz);
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	return (0);
}

static int
berlin_teardown(void **state)
{
	(void)state;
	if (saved_tz != NULL)
		setenv("TZ", saved_tz, 1);
	else
		unsetenv("TZ");
	free(saved_tz);
	saved_tz = NULL;
	tzset();
	return (0);
}

static void
schedule_next__berlin_dst__skip_gap_fire_once(void **state)
{
	struct tm tm;
	time_t t = 1782864000; /* 2026-07-01T00:00:00Z */

	(void)state;
	/* Without the zone's data the expected times mean nothing. */
	if (localtime_r(&t, &tm) == NULL || tm.tm_gmtoff != 7200)
		skip();
	run_next_cases(berlin_cases, NITEMS(berlin_cases), 0);
}

/* A small deterministic generator (xorshift64*). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (rng_state * 0x2545f4914f6cdd1dULL);
}

static int
rng_in(int lo, int hi)
{
	return (lo + (int)(rng() % (uint64_t)(hi - lo + 1)));
}

/*
 * A random schedule built as text together with its own idea of which
 * values each field holds, so the matcher below does not depend on the
 * parser it checks.
 */
struct model {
	char kind;
	char text[SCHEDULE_TEXT_MAX + 1];
	unsigned char sec[60], min[60], hour[24], dom[32], mon[13], dow[7];
	unsigned char year[SCHEDULE_YEAR_MAX + 1 - SCHEDULE_YEAR_MIN];
	int dom_star, dow_star;
};

static void cat(char *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
cat(char *buf, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + n, SCHEDULE_TEXT_MAX + 1 - n, fmt, ap);
	va_end(ap);
}

/*
 * One random field into text and set[v - min]: 1..3 elements, each a
 * value, a range, a star step, a ranged step or "N/S". full: "*" only.
 * Returns 1 when the field began with '*'.
 */
static int
gen_field(
    char *text, unsigned char *set, int min, int max, const char *sep, int full)
{
	int n, i, lo, hi, step, v, star = 0, kind;

	memset(set, 0, (size_t)(max - min + 1));
	if (full) {
		cat(text, "*");
		for (v = min; v <= max; v++)
			set[v - min] = 1;
		return (1);
	}
	n = rng_in(1, 3);
	for (i = 0; i < n; i++) {
		if (i > 0)
			cat(text, ",");
		kind = rng_in(0, 5);
		lo = rng_in(min, max);
		hi = lo;
		step = 1;
		switch (kind) {
		case 0:
		case 1:
			cat(text, "%d", lo);
			break;
		case 2:
			hi = rng_in(lo, max);
			cat(text, "%d%s%d", lo, sep, hi);
			break;
		case 3:
			lo = min;
			hi = max;
			step = rng_in(1, (max - min + 1) / 2 + 1);
			cat(text, "*/%d", step);
			if (i == 0)
				star = 1;
			break;
		case 4:
			hi = rng_in(lo, max);
			step =
			    rng_in(1, max - min + 1 < 10 ? max - min + 1 : 10);
			cat(text, "%d%s%d/%d", lo, sep, hi, step);
			break;
		default:
			hi = max;
			step =
			    rng_in(1, max - min + 1 < 10 ? max - min + 1 : 10);
			cat(text, "%d/%d", lo, step);
			break;
		}
		for (v = lo; v <= hi; v += step)
			set[v - min] = 1;
	}
	return (star);
}

/*
 * hourly: every hour of every day, so the schedule fires at least once
 * an hour and a brute-force scan of the gap stays short.
 */
static void
gen_model(struct model *m, int hourly)
{
	unsigned char dow8[8];
	int i;

	memset(m, 0, sizeof *m);
	m->kind = rng_in(0, 1) ? 'c' : 'k';
	if (m->kind == 'c') {
		m->sec[0] = 1;
		gen_field(m->text, m->min, 0, 59, "-", 0);
		cat(m->text, " ");
		gen_field(m->text, m->hour, 0, 23, "-", hourly);
		cat(m->text, " ");
		m->dom_star = gen_field(m->text, m->dom + 1, 1, 31, "-",
		    hourly || rng_in(0, 2) == 0);
		cat(m->text, " ");
		gen_field(m->text, m->mon + 1, 1, 12, "-",
		    hourly || rng_in(0, 1) == 0);
		cat(m->text, " ");
		m->dow_star = gen_field(
		    m->text, dow8, 0, 7, "-", hourly || rng_in(0, 2) == 0);
		for (i = 0; i < 7; i++)
			m->dow[i] = dow8[i];
		m->dow[0] |= dow8[7];
		memset(m->year, 1, sizeof m->year);
		return;
	}
	/* Calendar: a date part (maybe with a year) unless hourly. */
	if (hourly || rng_in(0, 3) == 0) {
		memset(m->dom + 1, 1, 31);
		memset(m->mon + 1, 1, 12);
		memset(m->year, 1, sizeof m->year);
		memset(m->dow, 1, sizeof m->dow);
		if (!hourly && rng_in(0, 1) == 0) {
			/* Weekdays only. */
			static const char *const names[] = {
			    "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
			int lo = rng_in(0, 6), hi = rng_in(lo, 6);

			memset(m->dow, 0, sizeof m->dow);
			cat(m->text, "%s..%s ", names[lo], names[hi]);
			for (i = lo; i <= hi; i++)
				m->dow[(i + 1) % 7] = 1;
		}
	} else {
		memset(m->dow, 1, sizeof m->dow);
		if (rng_in(0, 1) == 0) {
			gen_field(m->text, m->year, SCHEDULE_YEAR_MIN,
			    SCHEDULE_YEAR_MAX, "..", rng_in(0, 3) != 0);
			cat(m->text, "-");
		} else
			memset(m->year, 1, sizeof m->year);
		gen_field(m->text, m->mon + 1, 1, 12, "..", rng_in(0, 1));
		cat(m->text, "-");
		gen_field(m->text, m->dom + 1, 1, 31, "..", rng_in(0, 1));
		cat(m->text, " ");
	}
	gen_field(m->text, m->hour, 0, 23, "..", hourly);
	cat(m->text, ":");
	gen_field(m->text, m->min, 0, 59, "..", 0);
	cat(m->text, ":");
	gen_field(m->text, m->sec, 0, 59, "..", 0);
}

static int
model_matches_tm(const struct model *m, const struct tm *tm)
{
	int y = tm->tm_year + 1900, dom, dow;

	if (y < SCHEDULE_YEAR_MIN || y > SCHEDULE_YEAR_MAX ||
	    !m->year[y - SCHEDULE_YEAR_MIN] || !m->mon[tm->tm_mon + 1] ||
	    !m->hour[tm->tm_hour] || !m->min[tm->tm_min] || !m->sec[tm->tm_sec])
		return (0);
	dom = m->dom[tm->tm_mday];
	dow = m->dow[tm->tm_wday];
	if (m->kind == 'c' && !m->dom_star && !m->dow_star)
		return (dom || dow);
	return (dom && dow);
}

static int
model_matches_utc(const struct model *m, int64_t sec)
{
	time_t t = (time_t)sec;
	struct tm tm;

	return (gmtime_r(&t, &tm) != NULL && model_matches_tm(m, &tm));
}

/*
 * Local: the civil time matches, and it is not the second pass of a
 * repeated hour (Berlin gives back exactly one hour).
 */
static int
model_matches_local(const struct model *m, int64_t sec)
{
	time_t t = (time_t)sec, t1 = (time_t)(sec - 3600);
	struct tm tm, tm1;

	if (localtime_r(&t, &tm) == NULL || !model_matches_tm(m, &tm))
		return (0);
	if (localtime_r(&t1, &tm1) == NULL)
		return (0);
	return (!(tm1.tm_year == tm.tm_year && tm1.tm_mon == tm.tm_mon &&
		  tm1.tm_mday == tm.tm_mday && tm1.tm_hour == tm.tm_hour &&
		  tm1.tm_min == tm.tm_min && tm1.tm_sec == tm.tm_sec));
}

static void
parse_model(const struct model *m, struct schedule *s)
{
	char why[256];

	if (parse(m->kind, m->text, s, why, sizeof why) != 0)
		fail_msg("generated \"%s\" refused: %s", m->text, why);
}

/*
 * Every second between t and next(t) is checked: none matches, next(t)
 * does, and next(t) > t. Hourly schedules keep the scan short.
 */
static void
brute_check(int utc, int64_t lo_s, int64_t hi_s, int rounds, int64_t maxgap)
{
	struct model m;
	struct schedule s;
	int64_t t, next, u;
	char a[80], b[80];
	int i;

	for (i = 0; i < rounds; i++) {
		gen_model(&m, 1);
		parse_model(&m, &s);
		t = (lo_s + (int64_t)(rng() % (uint64_t)(hi_s - lo_s))) * 1000 +
		    (int64_t)(rng() % 1000);
		next = schedule_next(&s, t, utc);
		if (next <= t || next % 1000 != 0 || next - t > maxgap * 1000)
			fail_msg("\"%s\" after %s: %s", m.text,
			    ms_iso(t, a, sizeof a), ms_iso(next, b, sizeof b));
		for (u = t / 1000 + 1; u <= next / 1000; u++) {
			int hit = utc ? model_matches_utc(&m, u)
				      : model_matches_local(&m, u);

			if (hit != (u == next / 1000))
				fail_msg("\"%s\" after %s: next %s, but %s "
					 "%s",
				    m.text, ms_iso(t, a, sizeof a),
				    ms_iso(next, b, sizeof b),
				    ms_iso(u * 1000, a, sizeof a),
				    hit ? "matches" : "does not match");
		}
	}
}

static void
schedule_next__random_hourly_utc__no_match_skipped(void **state)
{
	(void)state;
	/* 1970 to 2190: leap days, century years, all of it. */
	brute_check(1, 0, 7000000000LL, 3000, 3600);
}

static void
schedule_next__random_hourly_berlin__no_match_skipped(void **state)
{
	struct tm tm;
	time_t t = 1782864000;

	(void)state;
	if (localtime_r(&t, &tm) == NULL || tm.tm_gmtoff != 7200)
		skip();
	/* Around both changes of 2026, then anywhere in 2020..2030. */
	brute_check(
	    0, 1774746000 - 3 * 3600, 1774746000 + 3 * 3600, 500, 2 * 3600 + 1);
	brute_check(
	    0, 1792890000 - 3 * 3600, 1792890000 + 3 * 3600, 500, 2 * 3600 + 1);
	brute_check(0, 1577836800, 1893456000, 500, 2 * 3600 + 1);
}

/*
 * Any schedule: next(t) > t and matches; it is also next(u) for every u
 * in [t, next(t)), so nothing in between matches (sampled, and checked
 * exactly one second before it).
 */
static void
schedule_next__random_any_utc__first_match(void **state)
{
	struct model m;
	struct schedule s;
	int64_t t, next, u;
	char a[80], b[80], buf[2048];
	int i, j, found = 0;
	struct schedule again;
	char why[256];

	(void)state;
	for (i = 0; i < 3000; i++) {
		gen_model(&m, 0);
		parse_model(&m, &s);
		/* The canonical text holds the same schedule. */
		assert_int_equal(schedule_format(&s, buf, sizeof buf), 0);
		if (strlen(buf) <= SCHEDULE_TEXT_MAX) {
			if (parse(m.kind, buf, &again, why, sizeof why) != 0)
				fail_msg("\"%s\" -> \"%s\" refused: %s", m.text,
				    buf, why);
			if (!same_schedule(&s, &again))
				fail_msg(
				    "\"%s\" -> \"%s\" differs", m.text, buf);
		}
		t = (int64_t)(rng() % 7000000000ULL) * 1000 +
		    (int64_t)(rng() % 1000);
		next = schedule_next(&s, t, 1);
		if (next == -1)
			continue;
		found++;
		if (next <= t || next % 1000 != 0 ||
		    !model_matches_utc(&m, next / 1000))
			fail_msg("\"%s\" after %s: %s", m.text,
			    ms_iso(t, a, sizeof a), ms_iso(next, b, sizeof b));
		if (schedule_next(&s, next - 1, 1) != next ||
		    schedule_next(&s, next - 1000, 1) != next)
			fail_msg("\"%s\": next just before %s differs", m.text,
			    ms_iso(next, b, sizeof b));
		for (j = 0; j < 20; j++) {
			u = t + (int64_t)(rng() % (uint64_t)(next - t));
			if (schedule_next(&s, u, 1) != next)
				fail_msg("\"%s\": next after %s differs from "
					 "next after %s",
				    m.text, ms_iso(u, a, sizeof a),
				    ms_iso(t, b, sizeof b));
			if (u / 1000 > t / 1000 &&
			    model_matches_utc(&m, u / 1000))
				fail_msg("\"%s\": %s matches before %s", m.text,
				    ms_iso(u, a, sizeof a),
				    ms_iso(next, b, sizeof b));
		}
	}
	/* Most random schedules fire within the horizon. */
	assert_true(found > 2000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(schedule_parse__valid__canonical_text),
	    cmocka_unit_test(schedule_parse_cron__fields__bitmaps),
	    cmocka_unit_test(
		schedule_parse_calendar__defaults__midnight_every_day),
	    cmocka_unit_test(schedule_parse__invalid__refused_with_reason),
	    cmocka_unit_test(schedule_parse__long_or_null_text__refused),
	    cmocka_unit_test(schedule_every__bounds__checked),
	    cmocka_unit_test(schedule_next__every__interval_after_reference),
	    cmocka_unit_test(schedule_next__utc__hand_computed),
	    cmocka_unit_test_setup_teardown(
		schedule_next__berlin_dst__skip_gap_fire_once, berlin_setup,
		berlin_teardown),
	    cmocka_unit_test(
		schedule_next__random_hourly_utc__no_match_skipped),
	    cmocka_unit_test_setup_teardown(
		schedule_next__random_hourly_berlin__no_match_skipped,
		berlin_setup, berlin_teardown),
	    cmocka_unit_test(schedule_next__random_any_utc__first_match),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
