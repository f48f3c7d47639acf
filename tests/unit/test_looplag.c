/* SPDX-License-Identifier: ISC */
/*
 * The loop-lag gauge's window, driven with a clock of the test's own: the
 * last lag is the last one noted, the maximum covers exactly the last
 * LOOPLAG_WINDOW_S seconds, and a slot reused a minute later forgets its
 * old maximum. And once with a real loop: a callback that blocks it shows.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "daemon/looplag.h"

#define S 1000 /* ms */

static void
looplag_note__window__max_of_last_minute_only(void **state)
{
	struct looplag *ll = looplag_new(NULL, 100);
	int64_t t0 = 5000 * (int64_t)S;

	(void)state;
	assert_non_null(ll);
	assert_int_equal(looplag_last_ms(ll), 0);
	assert_int_equal(looplag_max_at(ll, t0), 0);
	looplag_note(ll, t0, 250);
	looplag_note(ll, t0 + 10 * S, 40);
	looplag_note(ll, t0 + 20 * S, 3);
	assert_int_equal(looplag_last_ms(ll), 3);
	assert_int_equal(looplag_max_at(ll, t0 + 20 * S), 250);
	/* 250 was 59 s ago: still in; 60 s ago: out. */
	assert_int_equal(looplag_max_at(ll, t0 + 59 * S), 250);
	assert_int_equal(looplag_max_at(ll, t0 + 60 * S), 40);
	assert_int_equal(looplag_max_at(ll, t0 + 80 * S), 0);
	/* The slot of t0 reused a minute later: its old 250 is gone. */
	looplag_note(ll, t0 + 60 * S + 1, 7);
	assert_int_equal(looplag_max_at(ll, t0 + 60 * S + 1), 40);
	assert_int_equal(looplag_max_at(ll, t0 + 75 * S), 7);
	looplag_free(ll);
}

static void
block_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	usleep(300 * 1000);
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopexit(arg, NULL);
}

static void
looplag_new__blocked_loop__lag_at_least_the_block(void **state)
{
	struct event_base *base = event_base_new();
	struct timeval block = {0, 20 * 1000}, stop = {0, 600 * 1000};
	struct looplag *ll;

	(void)state;
	assert_non_null(base);
	ll = looplag_new(base, 10);
	assert_non_null(ll);
	event_base_once(base, -1, EV_TIMEOUT, block_cb, NULL, &block);
	event_base_once(base, -1, EV_TIMEOUT, stop_cb, base, &stop);
	event_base_dispatch(base);
	/* A busy machine only makes it later, never less late. */
	assert_true(looplag_max_ms(ll) >= 250);
	looplag_free(ll);
	looplag_free(NULL);
	event_base_free(base);
}

/*
 * Work done before the loop first runs (a daemon's start-up) is not a lag
 * of the loop: measuring starts at its first turn.
 */
static void
looplag_new__work_before_the_loop__not_a_lag(void **state)
{
	struct event_base *base = event_base_new();
	struct timeval stop = {0, 200 * 1000};
	struct looplag *ll;

	(void)state;
	assert_non_null(base);
	ll = looplag_new(base, 10);
	assert_non_null(ll);
	usleep(400 * 1000);
	event_base_once(base, -1, EV_TIMEOUT, stop_cb, base, &stop);
	event_base_dispatch(base);
	assert_true(looplag_last_ms(ll) < 400);
	if (looplag_max_ms(ll) >= 300)
		fail_msg("loop_lag_max %lld ms: the 400 ms before the loop "
			 "counted",
		    (long long)looplag_max_ms(ll));
	looplag_free(ll);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(looplag_note__window__max_of_last_minute_only),
	    cmocka_unit_test(looplag_new__blocked_loop__lag_at_least_the_block),
	    cmocka_unit_test(looplag_new__work_before_the_loop__not_a_lag),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
