/* SPDX-License-Identifier: ISC */
/*
 * Small pure helpers shared by the daemon and schedctl: bounded integer
 * parsing (strtonum), sizes with binary suffixes, CLI durations, signal
 * names and numbers, RFC 3339 timestamps and strlcpy. Everything here is
 * strict about its input (no signs, spaces or junk where the contract does
 * not ask for them), allocates nothing and does no I/O.
 */

#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/util.h"

/* Signal names, the canonical name first when a number has several. */
static const struct {
	const char *name;
	int sig;
} util_signals[] = {
    {"SIGHUP", SIGHUP},
    {"SIGINT", SIGINT},
    {"SIGQUIT", SIGQUIT},
    {"SIGILL", SIGILL},
    {"SIGTRAP", SIGTRAP},
    {"SIGABRT", SIGABRT},
    {"SIGBUS", SIGBUS},
    {"SIGFPE", SIGFPE},
    {"SIGKILL", SIGKILL},
    {"SIGUSR1", SIGUSR1},
    {"SIGSEGV", SIGSEGV},
    {"SIGUSR2", SIGUSR2},
    {"SIGPIPE", SIGPIPE},
    {"SIGALRM", SIGALRM},
    {"SIGTERM", SIGTERM},
#ifdef SIGSTKFLT
    {"SIGSTKFLT", SIGSTKFLT},
#endif
    {"SIGCHLD", SIGCHLD},
    {"SIGCONT", SIGCONT},
    {"SIGSTOP", SIGSTOP},
    {"SIGTSTP", SIGTSTP},
    {"SIGTTIN", SIGTTIN},
    {"SIGTTOU", SIGTTOU},
    {"SIGURG", SIGURG},
    {"SIGXCPU", SIGXCPU},
    {"SIGXFSZ", SIGXFSZ},
    {"SIGVTALRM", SIGVTALRM},
    {"SIGPROF", SIGPROF},
    {"SIGWINCH", SIGWINCH},
    {"SIGIO", SIGIO},
#ifdef SIGPWR
    {"SIGPWR", SIGPWR},
#endif
    {"SIGSYS", SIGSYS},
/* Aliases: accepted by util_signal_parse, never printed. */
#ifdef SIGIOT
    {"SIGIOT", SIGIOT},
#endif
#ifdef SIGCLD
    {"SIGCLD", SIGCLD},
#endif
#ifdef SIGPOLL
    {"SIGPOLL", SIGPOLL},
#endif
};

#define UTIL_SIG_MAX 64

/*
 * Names for numbers without one of their own. String literals, so
 * util_signal_name can lend them without static buffers.
 */
#define UTIL_N(n) "SIG" #n
static const char *const util_sig_numbered[UTIL_SIG_MAX + 1] = {
    NULL,
    UTIL_N(1),
    UTIL_N(2),
    UTIL_N(3),
    UTIL_N(4),
    UTIL_N(5),
    UTIL_N(6),
    UTIL_N(7),
    UTIL_N(8),
    UTIL_N(9),
    UTIL_N(10),
    UTIL_N(11),
    UTIL_N(12),
    UTIL_N(13),
    UTIL_N(14),
    UTIL_N(15),
    UTIL_N(16),
    UTIL_N(17),
    UTIL_N(18),
    UTIL_N(19),
    UTIL_N(20),
    UTIL_N(21),
    UTIL_N(22),
    UTIL_N(23),
    UTIL_N(24),
    UTIL_N(25),
    UTIL_N(26),
    UTIL_N(27),
    UTIL_N(28),
    UTIL_N(29),
    UTIL_N(30),
    UTIL_N(31),
    UTIL_N(32),
    UTIL_N(33),
    UTIL_N(34),
    UTIL_N(35),
    UTIL_N(36),
    UTIL_N(37),
    UTIL_N(38),
    UTIL_N(39),
    UTIL_N(40),
    UTIL_N(41),
    UTIL_N(42),
    UTIL_N(43),
    UTIL_N(44),
    UTIL_N(45),
    UTIL_N(46),
    UTIL_N(47),
    UTIL_N(48),
    UTIL_N(49),
    UTIL_N(50),
    UTIL_N(51),
    UTIL_N(52),
    UTIL_N(53),
    UTIL_N(54),
    UTIL_N(55),
    UTIL_N(56),
    UTIL_N(57),
    UTIL_N(58),
    UTIL_N(59),
    UTIL_N(60),
    UTIL_N(61),
    UTIL_N(62),
    UTIL_N(63),
    UTIL_N(64),
};
#undef UTIL_N

#define UTIL_R(n) "SIGRTMIN+" #n
static const char *const util_sig_rt[] = {
    "SIGRTMIN",
    UTIL_R(1),
    UTIL_R(2),
    UTIL_R(3),
    UTIL_R(4),
    UTIL_R(5),
    UTIL_R(6),
    UTIL_R(7),
    UTIL_R(8),
    UTIL_R(9),
    UTIL_R(10),
    UTIL_R(11),
    UTIL_R(12),
    UTIL_R(13),
    UTIL_R(14),
    UTIL_R(15),
    UTIL_R(16),
    UTIL_R(17),
    UTIL_R(18),
    UTIL_R(19),
    UTIL_R(20),
    UTIL_R(21),
    UTIL_R(22),
    UTIL_R(23),
    UTIL_R(24),
    UTIL_R(25),
    UTIL_R(26),
    UTIL_R(27),
    UTIL_R(28),
    UTIL_R(29),
    UTIL_R(30),
    UTIL_R(31),
    UTIL_R(32),
    UTIL_R(33),
    UTIL_R(34),
    UTIL_R(35),
    UTIL_R(36),
    UTIL_R(37),
    UTIL_R(38),
    UTIL_R(39),
    UTIL_R(40),
    UTIL_R(41),
    UTIL_R(42),
    UTIL_R(43),
    UTIL_R(44),
    UTIL_R(45),
    UTIL_R(46),
    UTIL_R(47),
    UTIL_R(48),
    UTIL_R(49),
    UTIL_R(50),
    UTIL_R(51),
    UTIL_R(52),
    UTIL_R(53),
    UTIL_R(54),
    UTIL_R(55),
    UTIL_R(56),
    UTIL_R(57),
    UTIL_R(58),
    UTIL_R(59),
    UTIL_R(60),
    UTIL_R(61),
    UTIL_R(62),
    UTIL_R(63),
};
#undef UTIL_R

long long
util_strtonum(const char *s, long long min, long long max, const char **errstr)
{
	const char *e = NULL;
	char *end;
	long long v = 0;
	int saved_errno = errno;

	errno = 0;
	if (s == NULL || min > max) {
		e = "invalid";
		goto out;
	}
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0')
		e = "invalid";
	else if ((v == LLONG_MIN && errno == ERANGE) || v < min)
		e = "too small";
	else if ((v == LLONG_MAX && errno == ERANGE) || v > max)
		e = "too large";
out:
	if (errstr != NULL)
		*errstr = e;
	if (e != NULL) {
		errno = strcmp(e, "invalid") == 0 ? EINVAL : ERANGE;
		v = 0;
	} else
		errno = saved_errno;
	return (v);
}

/* Unsigned decimal digits only; -1 on none or on overflow. */
static int
util_parse_digits(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	unsigned int d;

	if (*s < '0' || *s > '9')
		return (-1);
	for (; *s >= '0' && *s <= '9'; s++) {
		d = (unsigned int)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return (-1);
		v = v * 10 + d;
	}
	*out = v;
	*end = s;
	return (0);
}

/* ASCII-only case-insensitive comparison: locale must not matter. */
static int
util_ascii_casecmp(const char *a, const char *b)
{
	unsigned char ca, cb;

	for (;; a++, b++) {
		ca = (unsigned char)*a;
		cb = (unsigned char)*b;
		if (ca >= 'A' && ca <= 'Z')
			ca = (unsigned char)(ca - 'A' + 'a');
		if (cb >= 'A' && cb <= 'Z')
			cb = (unsigned char)(cb - 'A' + 'a');
		if (ca != cb)
			return (ca - cb);
		if (ca == '\0')
			return (0);
	}
}

int
util_parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		unsigned int shift;
	} suffixes[] = {
	    {"", 0},
	    {"b", 0},
	    {"k", 10},
	    {"kib", 10},
	    {"m", 20},
	    {"mib", 20},
	    {"g", 30},
	    {"gib", 30},
	};
	const char *end;
	uint64_t v;
	size_t i;

	if (s == NULL || util_parse_digits(s, &v, &end) == -1)
		return (-1);
	for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		if (util_ascii_casecmp(end, suffixes[i].suffix) != 0)
			continue;
		if (v > (UINT64_MAX >> suffixes[i].shift))
			return (-1);
		*out = v << suffixes[i].shift;
		return (0);
	}
	return (-1);
}

int
util_parse_duration_us(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} suffixes[] = {
	    {"", 1},
	    {"us", 1},
	    {"ms", 1000},
	    {"s", 1000000},
	};
	const char *end;
	uint64_t v;
	size_t i;

	if (s == NULL || util_parse_digits(s, &v, &end) == -1)
		return (-1);
	for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		if (strcmp(end, suffixes[i].suffix) != 0)
			continue;
		if (v > UINT64_MAX / suffixes[i].mult)
			return (-1);
		*out = v * suffixes[i].mult;
		return (0);
	}
	return (-1);
}

/* Case-insensitive prefix match; returns what follows, or NULL. */
static const char *
util_ascii_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);
	unsigned char c;
	size_t i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		if (c != (unsigned char)prefix[i])
			return (NULL);
	}
	return (s + i);
}

/*
 * "RTMIN", "RTMIN+n", "RTMAX", "RTMAX-n" (after "SIG"), relative to the C
 * library's SIGRTMIN, which reserves the kernel's first real-time signals
 * for itself. -1 if s is none of these or falls outside the range.
 */
static int
util_signal_parse_rt(const char *s)
{
	const char *p, *end;
	uint64_t n;

	if (util_ascii_casecmp(s, "RTMIN") == 0)
		return (SIGRTMIN);
	if (util_ascii_casecmp(s, "RTMAX") == 0)
		return (SIGRTMAX);
	if ((p = util_ascii_prefix(s, "RTMIN+")) == NULL &&
	    (p = util_ascii_prefix(s, "RTMAX-")) == NULL)
		return (-1);
	if (util_parse_digits(p, &n, &end) == -1 || *end != '\0' ||
	    n > (uint64_t)(SIGRTMAX - SIGRTMIN))
		return (-1);
	if (p[-1] == '+')
		return (SIGRTMIN + (int)n);
	return (SIGRTMAX - (int)n);
}

int
util_signal_parse(const char *s)
{
	const char *errstr, *p;
	size_t i;
	int sig;

	if (s == NULL)
		return (-1);
	if (*s >= '0' && *s <= '9') {
		sig = (int)util_strtonum(s, 1, UTIL_SIG_MAX, &errstr);
		return (errstr != NULL ? -1 : sig);
	}
	if ((p = util_ascii_prefix(s, "SIG")) != NULL) {
		s = p;
		/* "SIG32": numbers without a name of their own. */
		if (*s >= '0' && *s <= '9') {
			sig = (int)util_strtonum(s, 1, UTIL_SIG_MAX, &errstr);
			return (errstr != NULL ? -1 : sig);
		}
	}
	if (*s == '\0')
		return (-1);
	for (i = 0; i < sizeof util_signals / sizeof util_signals[0]; i++) {
		if (util_ascii_casecmp(s, util_signals[i].name + 3) == 0)
			return (util_signals[i].sig);
	}
	sig = util_signal_parse_rt(s);
	if (sig < 1 || sig > UTIL_SIG_MAX)
		return (-1);
	return (sig);
}

const char *
util_signal_name(int sig)
{
	size_t i;

	if (sig < 1 || sig > UTIL_SIG_MAX)
		return (NULL);
	for (i = 0; i < sizeof util_signals / sizeof util_signals[0]; i++) {
		if (util_signals[i].sig == sig)
			return (util_signals[i].name);
	}
	if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
		if (sig == SIGRTMAX)
			return ("SIGRTMAX");
		if ((size_t)(sig - SIGRTMIN) <
		    sizeof util_sig_rt / sizeof util_sig_rt[0])
			return (util_sig_rt[sig - SIGRTMIN]);
	}
	return (util_sig_numbered[sig]);
}

char *
util_time_format(int64_t ms, char *buf, size_t len)
{
	struct tm tm;
	time_t secs;
	int64_t q, r;

	if (len == 0)
		return (buf);
	/* Floor division: -1 ms is 1969-12-31T23:59:59.999Z. */
	q = ms / 1000;
	r = ms % 1000;
	if (r < 0) {
		q--;
		r += 1000;
	}
	secs = (time_t)q;
	if (gmtime_r(&secs, &tm) == NULL) {
		buf[0] = '\0';
		return (buf);
	}
	if (snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, (int)r) < 0)
		buf[0] = '\0';
	return (buf);
}

int
util_pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return ((x > y) - (x < y));
}

size_t
util_strlcpy(char *dst, const char *src, size_t len)
{
	size_t n = strlen(src);

	if (len != 0) {
		if (n >= len) {
			memcpy(dst, src, len - 1);
			dst[len - 1] = '\0';
		} else
			memcpy(dst, src, n + 1);
	}
	return (n);
}

int
util_split_hostport(char *s, char **host, char **port)
{
	char *colon = strrchr(s, ':');
	size_t n;

	if (colon == NULL)
		return (-1);
	*colon = '\0';
	*port = colon + 1;
	n = strlen(s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s[n - 1] = '\0';
		s++;
	}
	*host = s;
	return (0);
}

/* n decimal digits at s into *v; returns the end or NULL. */
static const char *
digits(const char *s, int n, int *v)
{
	*v = 0;
	while (n-- > 0) {
		if (*s < '0' || *s > '9')
			return (NULL);
		*v = *v * 10 + (*s++ - '0');
	}
	return (s);
}

int
util_time_parse(const char *s, int64_t *ms)
{
	struct tm tm;
	int year, mon, day, hour, min, sec, frac = 0, scale = 1000, oh, om;
	int64_t off = 0;
	time_t t;

	if ((s = digits(s, 4, &year)) == NULL || *s++ != '-' ||
	    (s = digits(s, 2, &mon)) == NULL || *s++ != '-' ||
	    (s = digits(s, 2, &day)) == NULL ||
	    (*s != 'T' && *s != 't' && *s != ' ') ||
	    (s = digits(s + 1, 2, &hour)) == NULL || *s++ != ':' ||
	    (s = digits(s, 2, &min)) == NULL || *s++ != ':' ||
	    (s = digits(s, 2, &sec)) == NULL)
		return (-1);
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++) {
			if (scale > 1) {
				scale /= 10;
				frac += (*s - '0') * scale;
			}
		}
	}
	if (*s == 'Z' || *s == 'z')
		s++;
	else if (*s == '+' || *s == '-') {
		int sign = *s == '-' ? -1 : 1;

		if ((s = digits(s + 1, 2, &oh)) == NULL || *s++ != ':' ||
		    (s = digits(s, 2, &om)) == NULL)
			return (-1);
		off = sign * ((int64_t)oh * 3600 + om * 60);
	} else
		return (-1);
	if (*s != '\0' || mon < 1 || mon > 12 || day < 1 || day > 31 ||
	    hour > 23 || min > 59 || sec > 60)
		return (-1);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*ms = ((int64_t)t - off) * 1000 + frac;
	return (0);
}
