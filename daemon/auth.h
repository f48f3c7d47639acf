/* SPDX-License-Identifier: ISC */
/*
 * Who may do what, from the peer credentials (SO_PEERCRED) the router
 * reads once per request. The socket's mode (0660, root and the configured
 * group) already decides who can connect at all; reading needs nothing
 * more, changing needs root, the daemon's own user or the socket group.
 */
#ifndef SCHEDD_AUTH_H
#define SCHEDD_AUTH_H

#include <sys/types.h>

#include "proto/errors.h"

enum auth_flags {
	AUTH_READ = 0x01,	/* anyone who can connect */
	AUTH_WRITE = 0x02,	/* root, our uid, or the socket group */
	AUTH_MASK = 0x0f,
};

/* The socket group's gid (members of it may write). */
void auth_set_group(gid_t gid);
/* 0 if (uid, gid) may use a route with flags; -1 with a 403 in err. */
int auth_check(uid_t uid, gid_t gid, int flags, struct serr *err);

#endif
