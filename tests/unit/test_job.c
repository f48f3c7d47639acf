/* SPDX-License-Identifier: ISC */
/*
 * The job transition table: what each state allows, that forbidden pairs
 * stay forbidden, the names both ways, the job texts that cost nothing
 * while empty, and the cpusets jobs share.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/job.h"
#include "daemon/supervisor-int.h"

static void
job_transition__start__allowed_only_when_idle(void **state)
{
	int s;

	(void)state;
	for (s = 0; s < JOB_NSTATES; s++) {
		enum job_action a = job_transition(s, JEV_START);

		switch (s) {
		case JOB_CREATED:
		case JOB_EXITED:
		case JOB_STOPPED:
		case JOB_FAILED:
		case JOB_BACKOFF:
			assert_int_equal(a, ACT_SPAWN);
			break;
		default:
			assert_int_equal(a, ACT_FORBIDDEN);
		}
	}
}

static void
job_transition__stop__by_state(void **state)
{
	(void)state;
	assert_int_equal(job_transition(JOB_RUNNING, JEV_STOP), ACT_STOP);
	assert_int_equal(job_transition(JOB_PAUSED, JEV_STOP), ACT_STOP);
	assert_int_equal(job_transition(JOB_STOPPING, JEV_STOP), ACT_JOIN);
	assert_int_equal(job_transition(JOB_BACKOFF, JEV_STOP), ACT_STOP_IDLE);
	assert_int_equal(job_transition(JOB_QUEUED, JEV_STOP), ACT_STOP_IDLE);
	assert_int_equal(job_transition(JOB_CREATED, JEV_STOP), ACT_FORBIDDEN);
	assert_int_equal(job_transition(JOB_EXITED, JEV_STOP), ACT_FORBIDDEN);
	assert_int_equal(job_transition(JOB_STOPPED, JEV_STOP), ACT_FORBIDDEN);
	assert_int_equal(job_transition(JOB_FAILED, JEV_STOP), ACT_FORBIDDEN);
}

static void
job_transition__exit__stopping_means_stopped(void **state)
{
	(void)state;
	assert_int_equal(job_transition(JOB_RUNNING, JEV_EXIT), ACT_EXITED);
	assert_int_equal(job_transition(JOB_PAUSED, JEV_EXIT), ACT_EXITED);
	assert_int_equal(job_transition(JOB_STOPPING, JEV_EXIT), ACT_STOP_EXIT);
	assert_int_equal(
	    job_transition(JOB_STOPPING, JEV_DRAINED), ACT_STOPPED);
	assert_int_equal(
	    job_transition(JOB_RUNNING, JEV_DRAINED), ACT_FORBIDDEN);
	assert_int_equal(job_transition(JOB_EXITED, JEV_EXIT), ACT_FORBIDDEN);
}

static void
job_transition__delete__never_while_active(void **state)
{
	int s;

	(void)state;
	for (s = 0; s < JOB_NSTATES; s++) {
		if (job_state_active(s))
			assert_int_equal(
			    job_transition(s, JEV_DELETE), ACT_FORBIDDEN);
		else
			assert_int_equal(
			    job_transition(s, JEV_DELETE), ACT_REMOVE);
	}
}

static void
job_transition__ready__only_starting_becomes_running(void **state)
{
	int s;

	(void)state;
	for (s = 0; s < JOB_NSTATES; s++) {
		assert_int_equal(job_transition(s, JEV_READY) == ACT_READY,
		    s == JOB_STARTING);
		/* Not ready in time, or the watchdog starved: only a run
		 * that is starting or running can fail so. */
		assert_int_equal(job_transition(s, JEV_UNHEALTHY) == ACT_FAIL,
		    s == JOB_STARTING || s == JOB_RUNNING);
	}
	assert_string_equal(job_event_name(JEV_READY), "ready");
	assert_string_equal(job_event_name(JEV_UNHEALTHY), "unhealthy");
}

static void
job_transition__kill__only_with_a_process(void **state)
{
	int s;

	(void)state;
	for (s = 0; s < JOB_NSTATES; s++) {
		/* Starting (stored) has a run that has yet to be ready. */
		int has_proc = s == JOB_STARTING || s == JOB_RUNNING ||
			       s == JOB_PAUSED || s == JOB_STOPPING;

		assert_int_equal(
		    job_transition(s, JEV_KILL) == ACT_SIGNAL, has_proc);
	}
}

static void
job_transition__timeout__kills_only_when_stopping(void **state)
{
	int s;

	(void)state;
	for (s = 0; s < JOB_NSTATES; s++)
		assert_int_equal(
		    job_transition(s, JEV_TIMEOUT) == ACT_KILL_TREE,
		    s == JOB_STOPPING);
}

static void
job_transition__out_of_range__forbidden(void **state)
{
	(void)state;
	assert_int_equal(job_transition(JOB_NSTATES, JEV_START), ACT_FORBIDDEN);
	assert_int_equal(
	    job_transition(JOB_CREATED, JEV_NEVENTS), ACT_FORBIDDEN);
	assert_int_equal(
	    job_transition((enum job_state) - 1, JEV_START), ACT_FORBIDDEN);
}

static void
job_state_name__round_trip__every_state(void **state)
{
	int s;

	(void)state;
	for (s = 0; s < JOB_NSTATES; s++)
		assert_int_equal(job_state_parse(job_state_name(s)), s);
	assert_string_equal(job_state_name(JOB_RUNNING), "running");
	assert_string_equal(job_state_name(JOB_NSTATES), "unknown");
	assert_int_equal(job_state_parse("Running"), -1);
	assert_int_equal(job_state_parse(""), -1);
}

/* Unset reads as "", and "" or NULL never allocates. */
static void
job_text__empty__null_reads_as_empty(void **state)
{
	char *t = NULL;

	(void)state;
	assert_string_equal(job_text(t), "");
	job_text_set(&t, "");
	assert_null(t);
	job_text_set(&t, NULL);
	assert_null(t);
	job_text_setf(&t, "%s", "");
	assert_null(t);
	job_text_set(&t, "queued");
	assert_non_null(t);
	job_text_set(&t, "");
	assert_null(t);
	assert_string_equal(job_text(t), "");
}

/* What the 256-byte buffers held: at most 255 bytes, NUL-ended. */
static void
job_text_set__long__truncated_as_the_buffers_were(void **state)
{
	char long_s[1000], *t = NULL;

	(void)state;
	memset(long_s, 'x', sizeof(long_s) - 1);
	long_s[sizeof(long_s) - 1] = '\0';
	job_text_set(&t, long_s);
	assert_int_equal(strlen(t), JOB_TEXT_MAX - 1);
	assert_memory_equal(t, long_s, JOB_TEXT_MAX - 1);
	job_text_setf(&t, "%s!", long_s);
	assert_int_equal(strlen(job_text(t)), JOB_TEXT_MAX - 1);
	job_text_setf(&t, "exit code %d", 3);
	assert_string_equal(t, "exit code 3");
	job_text_clear(&t);
	assert_null(t);
	job_text_clear(&t); /* twice: still nothing */
	assert_null(t);
}

/* Setting a text from itself (or a part of it) reads the old one first. */
static void
job_text_set__from_itself__copied_before_freed(void **state)
{
	char *t = NULL;

	(void)state;
	job_text_set(&t, "health check failed");
	job_text_set(&t, t);
	assert_string_equal(t, "health check failed");
	job_text_set(&t, t + 7);
	assert_string_equal(t, "check failed");
	job_text_setf(&t, "%s twice", t);
	assert_string_equal(t, "check failed twice");
	job_text_clear(&t);
}

/* Jobs of the same CPUs share one copy; each keeps its own when they
 * differ, and the last drop frees it (ASan's leak check sees to that). */
/* "api" is one shared static copy for every job; other sources are the
 * job's own, equal in text, and freeing either kind is safe. */
static void
job_source_dup__api_shared__others_copied(void **state)
{
	char file[] = "file:/etc/schedd/jobs/web.json";
	char api[] = "api";
	const char *a, *b, *f;

	(void)state;
	a = job_source_dup("api");
	b = job_source_dup(api);
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(b, api);
	assert_string_equal(a, "api");
	f = job_source_dup(file);
	assert_ptr_not_equal(f, file);
	assert_string_equal(f, file);
	file[0] = 'X'; /* the copy is the job's own */
	assert_string_equal(f, "file:/etc/schedd/jobs/web.json");
	/* "apis" and "" are not "api". */
	b = job_source_dup("apis");
	assert_string_equal(b, "apis");
	assert_ptr_not_equal(b, a);
	job_source_free(b);
	b = job_source_dup("");
	assert_string_equal(b, "");
	job_source_free(b);
	job_source_free(f);
	job_source_free(a);
	job_source_free(a); /* the shared one: never freed, so twice is fine */
	assert_string_equal(job_source_dup("api"), "api");
}

static void
sup_cpuset_set__same_cpus__one_copy(void **state)
{
	struct job a, b, c;
	struct cpulist pool, one;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	sup_cpuset_drop(&a); /* as job_alloc leaves it: empty, not NULL */
	assert_non_null(a.cpuset);
	assert_int_equal(cpulist_count(a.cpuset), 0);
	cpulist_zero(&pool);
	cpulist_set(&pool, 0);
	cpulist_set(&pool, 1);
	cpulist_zero(&one);
	cpulist_set(&one, 1);
	sup_cpuset_set(&a, &pool);
	sup_cpuset_set(&b, &pool);
	sup_cpuset_set(&c, &one);
	assert_ptr_equal(a.cpuset, b.cpuset);
	assert_ptr_not_equal(a.cpuset, c.cpuset);
	assert_int_equal(cpulist_count(a.cpuset), 2);
	assert_true(cpulist_isset(c.cpuset, 1));
	assert_false(cpulist_isset(c.cpuset, 0));
	/* From its own copy, the last holder of it: still the same CPUs. */
	sup_cpuset_set(&c, c.cpuset);
	assert_int_equal(cpulist_count(c.cpuset), 1);
	/* b moves to c's set; a keeps the pool. */
	sup_cpuset_set(&b, &one);
	assert_ptr_equal(b.cpuset, c.cpuset);
	assert_int_equal(cpulist_count(a.cpuset), 2);
	sup_cpuset_drop(&a);
	sup_cpuset_drop(&b);
	sup_cpuset_drop(&c);
	assert_int_equal(cpulist_count(c.cpuset), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(job_transition__start__allowed_only_when_idle),
	    cmocka_unit_test(job_transition__stop__by_state),
	    cmocka_unit_test(job_transition__exit__stopping_means_stopped),
	    cmocka_unit_test(job_transition__delete__never_while_active),
	    cmocka_unit_test(job_transition__kill__only_with_a_process),
	    cmocka_unit_test(
		job_transition__ready__only_starting_becomes_running),
	    cmocka_unit_test(job_transition__timeout__kills_only_when_stopping),
	    cmocka_unit_test(job_transition__out_of_range__forbidden),
	    cmocka_unit_test(job_state_name__round_trip__every_state),
	    cmocka_unit_test(job_text__empty__null_reads_as_empty),
	    cmocka_unit_test(job_text_set__long__truncated_as_the_buffers_were),
	    cmocka_unit_test(job_text_set__from_itself__copied_before_freed),
	    cmocka_unit_test(job_source_dup__api_shared__others_copied),
	    cmocka_unit_test(sup_cpuset_set__same_cpus__one_copy),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
