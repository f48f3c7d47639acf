/* SPDX-License-Identifier: ISC */
/*
 * The contract's error table, code <-> code string <-> HTTP status, and the
 * struct serr helpers. Filling a serr formats into the caller's fixed
 * buffers: it never allocates, never fails and leaves errno alone, so it is
 * safe on any error path, including out-of-memory ones. Truncation never
 * leaves half a UTF-8 character behind.
 */

#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/errors.h"
#include "proto/util.h"

static const struct {
	const char *name;
	int status;
} serr_table[SERR_NCODES] = {
    [SERR_OK] = {"ok", 200},
    [SERR_INVALID] = {"invalid_argument", 400},
    [SERR_UNAUTHENTICATED] = {"unauthenticated", 401},
    [SERR_PERMISSION] = {"permission_denied", 403},
    [SERR_NOT_FOUND] = {"not_found", 404},
    [SERR_METHOD] = {"method_not_allowed", 405},
    [SERR_CONFLICT] = {"conflict", 409},
    [SERR_CURSOR_EXPIRED] = {"cursor_expired", 410},
    [SERR_TOO_LARGE] = {"too_large", 413},
    [SERR_MEDIA_TYPE] = {"unsupported_media_type", 415},
    [SERR_UNSATISFIABLE] = {"unsatisfiable", 422},
    [SERR_HEADERS_TOO_LARGE] = {"headers_too_large", 431},
    [SERR_INTERNAL] = {"internal", 500},
    [SERR_UNAVAILABLE] = {"unavailable", 503},
};

/*
 * Cut an incomplete UTF-8 sequence off the end of s. Truncation may split a
 * character of a field path taken from a JSON key, and the API layer must
 * be able to put field and message into a JSON string.
 */
static void
serr_utf8_trim(char *s)
{
	size_t len = strlen(s), i = len, need;
	unsigned char c;

	while (i > 0 && len - i < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return;
	c = (unsigned char)s[i - 1];
	if (c < 0xc0)
		return;
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
	if (len - (i - 1) < need)
		s[i - 1] = '\0';
}

void
serr_set(struct serr *err, enum serr_code code, const char *field,
    const char *fmt, ...)
{
	va_list ap;
	int saved_errno = errno;

	if (err == NULL)
		return;
	err->code = code;
	util_strlcpy(err->field, field != NULL ? field : "", sizeof err->field);
	va_start(ap, fmt);
	if (vsnprintf(err->message, sizeof err->message, fmt, ap) < 0)
		err->message[0] = '\0';
	va_end(ap);
	serr_utf8_trim(err->field);
	serr_utf8_trim(err->message);
	errno = saved_errno;
}

void
serr_clear(struct serr *err)
{
	if (err == NULL)
		return;
	err->code = SERR_OK;
	err->field[0] = '\0';
	err->message[0] = '\0';
}

const char *
serr_code_name(enum serr_code code)
{
	if ((unsigned int)code >= SERR_NCODES)
		return (serr_table[SERR_INTERNAL].name);
	return (serr_table[code].name);
}

int
serr_code_status(enum serr_code code)
{
	if ((unsigned int)code >= SERR_NCODES)
		return (serr_table[SERR_INTERNAL].status);
	return (serr_table[code].status);
}

enum serr_code
serr_code_from_name(const char *name)
{
	unsigned int i;

	if (name == NULL)
		return (SERR_INTERNAL);
	for (i = 0; i < SERR_NCODES; i++) {
		if (strcmp(serr_table[i].name, name) == 0)
			return ((enum serr_code)i);
	}
	return (SERR_INTERNAL);
}
