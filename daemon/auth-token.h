/* SPDX-License-Identifier: ISC */
/*
 * Bearer tokens for the TCP listener: the token file, the check of an
 * Authorization header in constant time, and the rate limit on failures.
 * The file is "TOKEN WHO" lines ('#' comments), WHO a user name, a uid or
 * "admin"; it must belong to root (or the daemon's user) and be readable
 * by its owner only, or the daemon refuses to start.
 */
#ifndef SCHEDD_AUTH_TOKEN_H
#define SCHEDD_AUTH_TOKEN_H

#include <sys/types.h>
#include <sys/socket.h>

#include "proto/errors.h"

struct caller;

#define AUTH_TOKEN_MIN 16  /* bytes: shorter tokens are refused */
#define AUTH_TOKEN_MAX 256 /* bytes */

/* Failures from one address before it is refused for the window. */
#define AUTH_FAIL_MAX      5
#define AUTH_FAIL_WINDOW_S 10

/*
 * Read the token file. Returns 0, or -1 with err naming the file and the
 * line, or why its owner or mode are refused.
 */
int auth_tokens_load(const char *path, struct serr *err);
/* How many tokens are loaded. */
int auth_tokens_count(void);
void auth_tokens_free(void);

/*
 * The caller that the Authorization header value (NULL: none) of a
 * request from peer proves, into c. Returns 0, or -1 when it proves
 * nothing or peer is being refused for failing too often (the same
 * answer either way: a 401 never says which).
 */
int auth_token_check(const char *header, const struct sockaddr *peer,
    socklen_t peerlen, struct caller *c);

#endif
