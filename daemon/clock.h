/* SPDX-License-Identifier: ISC */
/*
 * The daemon's one clock: wall time for what is stored and shown, the
 * monotonic clock for every interval. Nothing else in the daemon reads a
 * clock of its own.
 */
#ifndef SCHEDD_CLOCK_H
#define SCHEDD_CLOCK_H

#include <stdint.h>

/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t now_ms(void);
/* Milliseconds of CLOCK_MONOTONIC: only differences mean anything. */
int64_t mono_ms(void);

#endif
