/* SPDX-License-Identifier: ISC */
/*
 * The clock (see clock.h). Two clock_gettime calls, kept in one place so
 * that every module measures time the same way.
 */
#include "config.h"

#include <time.h>

#include "daemon/clock.h"

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}
