/* SPDX-License-Identifier: ISC */
/*
 * The access policy. Unknown credentials (no SO_PEERCRED) may only read.
 */
#include "config.h"

#include <sys/types.h>

#include <unistd.h>

#include "daemon/auth.h"

static gid_t auth_group = (gid_t)-1;

void
auth_set_group(gid_t gid)
{
	auth_group = gid;
}

int
auth_check(uid_t uid, gid_t gid, int flags, struct serr *err)
{
	if (!(flags & AUTH_WRITE))
		return (0);
	if (uid == 0 || (uid != (uid_t)-1 && uid == geteuid()) ||
	    (auth_group != (gid_t)-1 && gid == auth_group))
		return (0);
	serr_set(err, SERR_PERMISSION, NULL,
	    "uid %d may not change jobs (root or the socket group only)",
	    (int)uid);
	return (-1);
}
