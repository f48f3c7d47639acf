/* SPDX-License-Identifier: ISC */
/*
 * Error codes shared by the daemon and its clients: the contract's error
 * table (code string <-> HTTP status), and struct serr, the caller-provided
 * error that fallible functions fill. Filling a serr never allocates.
 */
#ifndef SCHEDD_ERRORS_H
#define SCHEDD_ERRORS_H

enum serr_code {
	SERR_OK = 0,		/* no error */
	SERR_INVALID,		/* 400 invalid_argument */
	SERR_UNAUTHENTICATED,	/* 401 unauthenticated */
	SERR_PERMISSION,	/* 403 permission_denied */
	SERR_NOT_FOUND,		/* 404 not_found */
	SERR_METHOD,		/* 405 method_not_allowed */
	SERR_CONFLICT,		/* 409 conflict */
	SERR_CURSOR_EXPIRED,	/* 410 cursor_expired */
	SERR_TOO_LARGE,		/* 413 too_large */
	SERR_MEDIA_TYPE,	/* 415 unsupported_media_type */
	SERR_UNSATISFIABLE,	/* 422 unsatisfiable */
	SERR_HEADERS_TOO_LARGE, /* 431 headers_too_large */
	SERR_INTERNAL,		/* 500 internal */
	SERR_UNAVAILABLE,	/* 503 unavailable */
	SERR_NCODES
};

#define SERR_FIELD_MAX	 128
#define SERR_MESSAGE_MAX 256

struct serr {
	enum serr_code code;
	char field[SERR_FIELD_MAX];	/* "" when no field is to blame */
	char message[SERR_MESSAGE_MAX]; /* human text, no trailing newline */
};

/*
 * Fill err (which may be NULL: then nothing happens). field may be NULL.
 * Truncates silently: messages are for humans. Preserves errno.
 */
void serr_set(struct serr *err, enum serr_code code, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Reset err to SERR_OK with empty field and message. */
void serr_clear(struct serr *err);

/* The contract's code string ("invalid_argument"); "internal" if unknown. */
const char *serr_code_name(enum serr_code code);

/* The HTTP status for code (400, 404, ...); 500 if unknown. */
int serr_code_status(enum serr_code code);

/* The code for a contract string, or SERR_INTERNAL if unknown. */
enum serr_code serr_code_from_name(const char *name);

#endif
