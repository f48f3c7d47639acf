/* SPDX-License-Identifier: ISC */
/*
 * Handlers. A comment that names store_get() and a string that holds
 * "store_get(" must not count as calls.
 */
#include "config.h"

#include "daemon/api.h"
#include "daemon/base.h"
#include "daemon/spawn.h"
#include "daemon/store.h"

static const char *why = "store_get(1) is not for us"; /* store_get( */

int
api_handle(int id)
{
	(void)why;
	return (base_twice(id) + spawn_run(id));
}
