/* SPDX-License-Identifier: ISC */
/*
 * The HTTP control API on a Unix socket: one evhttp, one router behind
 * evhttp_set_gencb, handlers that return a status and JSON or fill a serr.
 * Only the router (and the deferred-reply helpers) send replies. Never
 * touches SQLite or cgroupfs: everything goes through the supervisor.
 */
#ifndef SCHEDD_API_H
#define SCHEDD_API_H

#include "proto/errors.h"

struct schedd;
struct api;

/*
 * Create the socket (its directory too, if missing) under a tight umask,
 * chmod 0660 and chown to the configured group, and start serving.
 * Returns NULL with err on failure.
 */
struct api *api_new(struct schedd *sd, struct serr *err);
/* From now on refuse changes with 503; end event and log streams. */
void api_shutdown_begin(struct api *api);
/* Close the listener, unlink the socket, free. Accepts NULL. */
void api_free(struct api *api);

#endif
