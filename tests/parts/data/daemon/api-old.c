/* SPDX-License-Identifier: ISC */
#include "daemon/store.h"

int
api_old(int id)
{
	return (store_get(id));
}
