/* SPDX-License-Identifier: ISC */
/*
 * How late the event loop runs: a timer that should fire every interval
 * measures, on the monotonic clock, how much later than due it fired. A
 * callback that blocks the loop for 300 ms shows up as a lag of about
 * 300 ms. Keeps the last lag and the largest over the last minute. Only
 * measures; never acts on what it sees.
 */
#ifndef SCHEDD_LOOPLAG_H
#define SCHEDD_LOOPLAG_H

#include <stdint.h>

struct event_base;
struct looplag;

#define LOOPLAG_WINDOW_S 60 /* looplag_max_ms looks back this far */

/*
 * Measure on base, one timer every interval_ms (> 0), from the loop's first
 * turn (what runs before the loop does is not a lag of it). With base
 * NULL there is no timer and only looplag_note feeds the gauge (tests).
 * Returns NULL if the timer cannot be made. Free with looplag_free, before
 * the base.
 */
struct looplag *looplag_new(struct event_base *base, int interval_ms);
/* Stop and free. Accepts NULL. */
void looplag_free(struct looplag *ll);
/* The lag of the last tick, in ms (0 before the first). */
int64_t looplag_last_ms(const struct looplag *ll);
/* The largest lag of the ticks in the last LOOPLAG_WINDOW_S seconds. */
int64_t looplag_max_ms(const struct looplag *ll);

/*
 * Record a lag seen at monotonic time now_ms; the largest lag (in ms) of
 * the window that ends at now_ms. What the timer and looplag_max_ms use,
 * exported so that a test can drive the window with a clock of its own.
 */
void looplag_note(struct looplag *ll, int64_t now_ms, int64_t lag_ms);
int64_t looplag_max_at(const struct looplag *ll, int64_t now_ms);

#endif
