/* SPDX-License-Identifier: ISC */
#include "config.h"

#include "daemon/base.h"

int
base_twice(int x)
{
	return (BASE_MAX(x, 0) * 2);
}
