/* SPDX-License-Identifier: ISC */
/*
 * The loop-lag gauge. A one-shot timer re-armed from its own callback, so
 * that a late tick is measured against when it was due and not pulled back
 * into step (an EV_PERSIST timer would schedule from the missed deadline).
 * The last minute's maximum lives in one slot per second, each holding the
 * largest lag seen in that second: no allocation after start, and a read
 * costs a scan of 60 slots.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include <event2/event.h>

#include "daemon/clock.h"
#include "daemon/looplag.h"
#include "daemon/xmalloc.h"

struct looplag_slot {
	int64_t sec;    /* monotonic second of the slot; -1: never used */
	int64_t max_ms; /* largest lag seen in that second */
};

struct looplag {
	struct event *ev;
	int64_t interval_ms;
	int64_t due_ms;  /* when the pending tick should fire */
	int64_t last_ms; /* lag of the last tick */
	struct looplag_slot slot[LOOPLAG_WINDOW_S];
};

static void
looplag_arm(struct looplag *ll, int64_t now_ms)
{
	struct timeval tv;

	tv.tv_sec = ll->interval_ms / 1000;
	tv.tv_usec = ll->interval_ms % 1000 * 1000;
	ll->due_ms = now_ms + ll->interval_ms;
	evtimer_add(ll->ev, &tv);
}

static void
looplag_tick(evutil_socket_t fd, short what, void *arg)
{
	struct looplag *ll = arg;
	int64_t now = mono_ms();

	(void)fd;
	(void)what;
	/* The loop's first turn: measuring starts now. */
	if (ll->due_ms < 0) {
		looplag_arm(ll, now);
		return;
	}
	/* libevent's cached clock may let a tick fire a hair early. */
	looplag_note(ll, now, now > ll->due_ms ? now - ll->due_ms : 0);
	looplag_arm(ll, now);
}

struct looplag *
looplag_new(struct event_base *base, int interval_ms)
{
	struct timeval at_once = {0, 0};
	struct looplag *ll;
	int i;

	ll = xcalloc(1, sizeof(*ll));
	for (i = 0; i < LOOPLAG_WINDOW_S; i++)
		ll->slot[i].sec = -1;
	ll->interval_ms = interval_ms > 0 ? interval_ms : 100;
	if (base == NULL)
		return (ll);
	if ((ll->ev = evtimer_new(base, looplag_tick, ll)) == NULL) {
		free(ll);
		return (NULL);
	}
	/*
	 * Not from now: the daemon's start-up (loading and adopting every
	 * job) runs before the loop does, and was counted as a lag of the
	 * loop (loop_lag_max_ms 372-616 ms after a restart with 10,000 jobs,
	 * with no callback slow). A tick due at once starts the count.
	 */
	ll->due_ms = -1;
	evtimer_add(ll->ev, &at_once);
	return (ll);
}

void
looplag_free(struct looplag *ll)
{
	if (ll == NULL)
		return;
	if (ll->ev != NULL)
		event_free(ll->ev);
	free(ll);
}

void
looplag_note(struct looplag *ll, int64_t now_ms, int64_t lag_ms)
{
	int64_t sec = now_ms / 1000;
	struct looplag_slot *s = &ll->slot[sec % LOOPLAG_WINDOW_S];

	if (s->sec != sec) {
		s->sec = sec;
		s->max_ms = 0;
	}
	if (lag_ms > s->max_ms)
		s->max_ms = lag_ms;
	ll->last_ms = lag_ms;
}

int64_t
looplag_max_at(const struct looplag *ll, int64_t now_ms)
{
	int64_t sec = now_ms / 1000, max = 0;
	int i;

	for (i = 0; i < LOOPLAG_WINDOW_S; i++) {
		const struct looplag_slot *s = &ll->slot[i];

		if (s->sec >= 0 && s->sec <= sec &&
		    sec - s->sec < LOOPLAG_WINDOW_S && s->max_ms > max)
			max = s->max_ms;
	}
	return (max);
}

int64_t
looplag_last_ms(const struct looplag *ll)
{
	return (ll->last_ms);
}

int64_t
looplag_max_ms(const struct looplag *ll)
{
	return (looplag_max_at(ll, mono_ms()));
}
