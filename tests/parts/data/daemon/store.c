/* SPDX-License-Identifier: ISC */
#include "config.h"

#include "daemon/base.h"
#include "daemon/store.h"

int
store_get(int id)
{
	return (base_twice(id) + jobspec_parse("{}"));
}
