/* SPDX-License-Identifier: ISC */
#include "daemon/base.h"
#include "daemon/spawn.h"

int
spawn_run(int id)
{
	return (base_twice(id));
}
