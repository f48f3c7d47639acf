/* SPDX-License-Identifier: ISC */
/*
 * joblog on a temporary state directory, with real pipes: a run's two
 * streams become records in one segment file (no file per run); a writer
 * past max_bytes rotates and keeps `keep` segments, each within max_bytes,
 * and the bytes that remain are the newest, in order, with nothing lost at
 * a rotation boundary; runs are counted in the records and pruned runs'
 * segments go; the daemon-wide cap takes the oldest segment anywhere; a
 * restarted joblog finds its segments again and unknown jobs' files go.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "daemon/joblog.h"

struct fixture {
	char dir[64];
	struct event_base *base;
	struct joblog_conf conf;
};

static int
fixture_init(struct fixture *f)
{
	struct serr err;

	if (joblog_init(f->dir, f->base, &f->conf, &err) == -1) {
		fprintf(stderr, "joblog_init: %s\n", err.message);
		return (-1);
	}
	return (0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return (-1);
	snprintf(f->dir, sizeof(f->dir), "/tmp/schedd-test-joblog.XXXXXX");
	if (mkdtemp(f->dir) == NULL || (f->base = event_base_new()) == NULL)
		return (-1);
	event_base_priority_init(f->base, 3);
	f->conf.max_bytes = 64 * 1024;
	f->conf.keep = 3;
	f->conf.max_total = 1 << 30;
	f->conf.min_free = 0;
	*state = f;
	return (fixture_init(f));
}

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return (type == FTW_DP ? rmdir(path) : unlink(path));
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	joblog_load_done();
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	event_base_free(f->base);
	free(f);
	return (0);
}

/* Write text to fd, then let joblog move it. */
static void
put(struct joblog *jl, int fd, const char *text, size_t len)
{
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	joblog_drain(jl);
}

/* Every selected record's bytes, in order; *nrec counts records. */
static char *
read_all(struct joblog *jl, int stream, int64_t run, size_t *len, int *nrec)
{
	struct joblog_rec rec;
	struct stat sb;
	int64_t first, last, seq, off;
	char *out = NULL;
	size_t n = 0;
	int fd;

	*nrec = 0;
	if (joblog_segments(jl, &first, &last) > 0)
		for (seq = first; seq <= last; seq++) {
			assert_true((fd = joblog_segment_open(jl, seq)) >= 0);
			assert_int_equal(fstat(fd, &sb), 0);
			for (off = 0;
			     joblog_rec_read(fd, off, sb.st_size, &rec);
			     off += (int64_t)sizeof(rec) + rec.len) {
				if ((stream >= 0 && rec.stream != stream) ||
				    (run > 0 && rec.run != run))
					continue;
				out = realloc(out, n + rec.len + 1);
				assert_int_equal(
				    pread(fd, out + n, rec.len,
					off + (int64_t)sizeof(rec)),
				    (ssize_t)rec.len);
				n += rec.len;
				(*nrec)++;
			}
			close(fd);
		}
	if (out == NULL)
		out = calloc(1, 1);
	out[n] = '\0';
	*len = n;
	return (out);
}

static void
joblog_run__two_streams__records_in_one_segment(void **state)
{
	struct joblog *jl;
	struct serr err;
	int64_t dropped = 0, first, last;
	int o, e, nrec;
	size_t len;
	char *s;

	(void)state;
	jl = joblog_new(7, &dropped);
	assert_int_equal(joblog_run_begin(jl, 1, &o, &e, &err), 0);
	put(jl, o, "out1\n", 5);
	put(jl, e, "err1\n", 5);
	put(jl, o, "out2\n", 5);
	assert_int_equal(joblog_segments(jl, &first, &last), 1);
	s = read_all(jl, JOBLOG_STDOUT, 0, &len, &nrec);
	assert_string_equal(s, "out1\nout2\n");
	free(s);
	s = read_all(jl, -1, 0, &len, &nrec);
	assert_string_equal(s, "out1\nerr1\nout2\n");
	assert_int_equal(nrec, 3);
	free(s);
	close(o);
	close(e);
	/* A second run: the same segment, its records say run 2. */
	assert_int_equal(joblog_run_begin(jl, 2, &o, &e, &err), 0);
	put(jl, o, "again\n", 6);
	assert_int_equal(joblog_segments(jl, &first, &last), 1);
	s = read_all(jl, -1, 2, &len, &nrec);
	assert_string_equal(s, "again\n");
	free(s);
	close(o);
	close(e);
	assert_int_equal(dropped, 0);
	joblog_remove(jl);
	assert_int_equal(joblog_segments(jl, &first, &last), 0);
	joblog_free(jl);
}

static void
joblog_rotate__past_max_bytes__keep_segments_newest_intact(void **state)
{
	struct fixture *f = *state;
	struct joblog_stats st;
	struct joblog *jl;
	struct serr err;
	struct stat sb;
	char line[64], path[128], *s, *p;
	int64_t dropped = 0, first, last, seq;
	int o, e, nrec, i, n, next;
	size_t len;

	jl = joblog_new(3, &dropped);
	assert_int_equal(joblog_run_begin(jl, 1, &o, &e, &err), 0);
	/* ~400 KiB of numbered lines, in odd-sized writes. */
	for (i = 1; i <= 20000; i++) {
		n = snprintf(line, sizeof(line), "line %08d\n", i);
		assert_int_equal(write(o, line, (size_t)n), n);
		if (i % 97 == 0)
			joblog_drain(jl);
	}
	joblog_drain(jl);
	assert_int_equal(joblog_segments(jl, &first, &last), 3);
	assert_true(first > 1);
	for (seq = first; seq <= last; seq++) {
		snprintf(path, sizeof(path), "%s/logs/3.%lld.log", f->dir,
		    (long long)seq);
		assert_int_equal(stat(path, &sb), 0);
		assert_true(sb.st_size <= f->conf.max_bytes);
	}
	joblog_stats(&st);
	assert_true(st.total_bytes <= 3 * f->conf.max_bytes);
	s = read_all(jl, JOBLOG_STDOUT, 1, &len, &nrec);
	/* Whatever is left starts somewhere in a line; from the first whole
	 * line on, every number follows the one before, up to the last. */
	p = strchr(s, '\n') + 1;
	assert_int_equal(sscanf(p, "line %d", &next), 1);
	for (; *p != '\0'; p = strchr(p, '\n') + 1) {
		assert_int_equal(sscanf(p, "line %d", &n), 1);
		assert_int_equal(n, next);
		next++;
	}
	assert_int_equal(next, 20001);
	assert_true(len > 2 * (size_t)f->conf.max_bytes);
	free(s);
	close(o);
	close(e);
	joblog_remove(jl);
	joblog_free(jl);
}

static void
joblog_prune_runs__old_runs__their_segments_go(void **state)
{
	struct joblog *jl;
	struct serr err;
	char buf[40000];
	int64_t dropped = 0, first, last;
	int o, e, r, nrec;
	size_t len;
	char *s;

	(void)state;
	memset(buf, 'x', sizeof(buf));
	jl = joblog_new(5, &dropped);
	for (r = 1; r <= 6; r++) {
		assert_int_equal(joblog_run_begin(jl, r, &o, &e, &err), 0);
		put(jl, o, buf, sizeof(buf));
		close(o);
		close(e);
	}
	assert_int_equal(joblog_segments(jl, &first, &last), 3);
	/* Run 6 begins in the last segment or the one before; run 1's
	 * segments are gone: the first. */
	assert_true(joblog_seek_run(jl, 6) >= last - 1);
	assert_int_equal(joblog_seek_run(jl, 1), first);
	joblog_prune_runs(jl, 4);
	assert_int_equal(joblog_min_run(jl), 5);
	/* Run 4 may share a segment with run 5 (readers skip it); run 3
	 * is gone with its segments. */
	s = read_all(jl, -1, 3, &len, &nrec);
	assert_int_equal(nrec, 0);
	free(s);
	s = read_all(jl, -1, 6, &len, &nrec);
	assert_int_equal(len, sizeof(buf));
	free(s);
	joblog_remove(jl);
	joblog_free(jl);
}

static void
joblog_cap__over_max_total__oldest_segment_anywhere_goes(void **state)
{
	struct fixture *f = *state;
	struct joblog_stats st;
	struct joblog *a, *b;
	struct serr err;
	char buf[60000];
	int64_t da = 0, db = 0, first, last;
	int o[2], e[2], i;

	f->conf.max_total = 200 * 1024;
	assert_int_equal(fixture_init(f), 0);
	memset(buf, 'y', sizeof(buf));
	a = joblog_new(1, &da);
	b = joblog_new(2, &db);
	assert_int_equal(joblog_run_begin(a, 1, &o[0], &e[0], &err), 0);
	assert_int_equal(joblog_run_begin(b, 1, &o[1], &e[1], &err), 0);
	for (i = 0; i < 3; i++)
		put(a, o[0], buf, sizeof(buf));
	for (i = 0; i < 3; i++)
		put(b, o[1], buf, sizeof(buf));
	joblog_stats(&st);
	assert_true(st.total_bytes <= f->conf.max_total);
	/* a's segments were the oldest: a lost them first, all of them. */
	assert_int_equal(joblog_segments(a, &first, &last), 0);
	assert_int_equal(joblog_segments(b, &first, &last), 3);
	for (i = 0; i < 2; i++) {
		close(o[i]);
		close(e[i]);
	}
	joblog_remove(a);
	joblog_remove(b);
	joblog_free(a);
	joblog_free(b);
}

static void
joblog_init__restart__segments_found_unknown_jobs_removed(void **state)
{
	struct fixture *f = *state;
	struct joblog *jl;
	struct serr err;
	char path[128];
	int64_t dropped = 0, first, last;
	int o, e, nrec;
	size_t len;
	char *s;

	jl = joblog_new(9, &dropped);
	assert_int_equal(joblog_run_begin(jl, 1, &o, &e, &err), 0);
	put(jl, o, "before\n", 7);
	close(o);
	close(e);
	joblog_free(jl);
	jl = joblog_new(10, &dropped);
	assert_int_equal(joblog_run_begin(jl, 1, &o, &e, &err), 0);
	put(jl, o, "orphan\n", 7);
	close(o);
	close(e);
	joblog_free(jl);

	assert_int_equal(fixture_init(f), 0);
	jl = joblog_new(9, &dropped);
	joblog_load_done();
	snprintf(path, sizeof(path), "%s/logs/10.1.log", f->dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(joblog_segments(jl, &first, &last), 1);
	/* New output goes to a new segment after the old one. */
	assert_int_equal(joblog_run_begin(jl, 2, &o, &e, &err), 0);
	put(jl, o, "after\n", 6);
	assert_int_equal(joblog_segments(jl, &first, &last), 2);
	s = read_all(jl, JOBLOG_STDOUT, 0, &len, &nrec);
	assert_string_equal(s, "before\nafter\n");
	free(s);
	close(o);
	close(e);
	joblog_remove(jl);
	joblog_free(jl);
}

/* Is fd a FIFO (a pipe) or a regular file? */
static int
is_fifo(int fd)
{
	struct stat sb;

	assert_int_equal(fstat(fd, &sb), 0);
	return (S_ISFIFO(sb.st_mode));
}

/*
 * The direct files' state is made only when a file is opened: a job
 * without logs.direct has pipes and no direct file; one with them gets
 * its files, named by reference records; after a restart the files are
 * found again, and removing the job removes them.
 */
static void
joblog_direct__only_when_on__files_found_after_restart(void **state)
{
	struct fixture *f = *state;
	struct joblog *jl;
	struct serr err;
	char path[128];
	int64_t dropped = 0;
	int o, e, nrec;
	size_t len;
	char *s;

	jl = joblog_new(11, &dropped);
	assert_int_equal(joblog_run_begin(jl, 1, &o, &e, &err), 0);
	assert_true(is_fifo(o) && is_fifo(e));
	assert_int_equal(joblog_raw_head(jl, JOBLOG_STDOUT), 0);
	assert_int_equal(joblog_raw_head(jl, JOBLOG_STDERR), 0);
	snprintf(path, sizeof(path), "%s/logs/11.stdout", f->dir);
	assert_int_equal(access(path, F_OK), -1);
	close(o);
	close(e);

	joblog_set_direct(jl, 1);
	assert_int_equal(joblog_run_begin(jl, 2, &o, &e, &err), 0);
	assert_false(is_fifo(o) || is_fifo(e));
	assert_int_equal(access(path, F_OK), 0);
	put(jl, o, "direct\n", 7);
	s = read_all(jl, JOBLOG_REF + JOBLOG_STDOUT, 2, &len, &nrec);
	assert_int_equal(nrec, 1);
	free(s);
	assert_int_equal(joblog_raw_head(jl, JOBLOG_STDOUT), 0);
	close(o);
	close(e);
	joblog_free(jl);

	/* A restart: the file is found, and named no second time. */
	assert_int_equal(fixture_init(f), 0);
	jl = joblog_new(11, &dropped);
	joblog_load_done();
	assert_int_equal(access(path, F_OK), 0);
	joblog_drain(jl);
	s = read_all(jl, JOBLOG_REF + JOBLOG_STDOUT, 0, &len, &nrec);
	assert_int_equal(nrec, 1);
	free(s);
	/* Off again: pipes, the file stays until the job goes. */
	assert_int_equal(joblog_run_begin(jl, 3, &o, &e, &err), 0);
	assert_true(is_fifo(o) && is_fifo(e));
	close(o);
	close(e);
	assert_int_equal(access(path, F_OK), 0);
	joblog_remove(jl);
	assert_int_equal(access(path, F_OK), -1);
	joblog_free(jl);
}

/* How many of our fds are open on files whose paths begin with dir and
 * end in sfx (not " (deleted)"). */
static int
fds_in(const char *dir, const char *sfx)
{
	char link[64], to[PATH_MAX];
	size_t dl = strlen(dir), sl = strlen(sfx);
	ssize_t n;
	int fd, count = 0;

	for (fd = 0; fd < 4096; fd++) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		if ((n = readlink(link, to, sizeof(to) - 1)) < 0)
			continue;
		to[n] = '\0';
		count += (size_t)n >= dl && (size_t)n >= sl &&
			 strncmp(to, dir, dl) == 0 &&
			 strcmp(to + n - sl, sfx) == 0;
	}
	return (count);
}

/* The last reference record of stream in run: what it names. */
static struct joblog_ref
last_ref(struct joblog *jl, int stream, int64_t run)
{
	struct joblog_ref ref;
	size_t len;
	int nrec;
	char *s;

	s = read_all(jl, JOBLOG_REF + stream, run, &len, &nrec);
	assert_true(nrec > 0);
	assert_int_equal(len, nrec * sizeof(ref));
	memcpy(&ref, s + len - sizeof(ref), sizeof(ref));
	free(s);
	return (ref);
}

/*
 * The daemon holds no fd on a job's direct files, so that a running job
 * costs it none: only the child's fds are open on them. A file replaced under
 * the same name is taken as new (its bytes named from its start); a file
 * removed is forgotten, and the next run makes it again.
 */
static void
joblog_direct__no_fd_held__replaced_taken_anew(void **state)
{
	struct fixture *f = *state;
	struct joblog *jl;
	struct joblog_ref ref;
	struct serr err;
	char path[128], real[PATH_MAX];
	int64_t dropped = 0;
	int o, e, fd;

	jl = joblog_new(12, &dropped);
	joblog_set_direct(jl, 1);
	assert_int_equal(joblog_run_begin(jl, 1, &o, &e, &err), 0);
	snprintf(path, sizeof(path), "%s/logs/12.stdout", f->dir);
	assert_non_null(realpath(path, real));
	assert_int_equal(fds_in(real, ".stdout"), 1);
	put(jl, o, "0123456789", 10);
	assert_int_equal(fds_in(real, ".stdout"), 1);
	ref = last_ref(jl, JOBLOG_STDOUT, 1);
	assert_int_equal(ref.off, 0);
	assert_int_equal(ref.len, 10);

	/* Replaced while the job still writes the old one (so that its
	 * inode is not reused): 4 bytes in the new file are named from 0. */
	assert_int_equal(unlink(path), 0);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640)) >= 0);
	assert_int_equal(write(fd, "new\n", 4), 4);
	close(fd);
	joblog_drain(jl);
	ref = last_ref(jl, JOBLOG_STDOUT, 1);
	assert_int_equal(ref.off, 0);
	assert_int_equal(ref.len, 4);
	assert_int_equal(fds_in(real, ".stdout"), 0);
	close(o);
	close(e);

	/* Removed: forgotten, and made again by the next run. */
	assert_int_equal(unlink(path), 0);
	joblog_drain(jl);
	assert_int_equal(joblog_raw_head(jl, JOBLOG_STDOUT), 0);
	assert_int_equal(joblog_run_begin(jl, 2, &o, &e, &err), 0);
	assert_int_equal(access(path, F_OK), 0);
	put(jl, o, "ab", 2);
	ref = last_ref(jl, JOBLOG_STDOUT, 2);
	assert_int_equal(ref.off, 0);
	assert_int_equal(ref.len, 2);
	close(o);
	close(e);
	assert_int_equal(fds_in(real, ".stdout"), 0);
	joblog_remove(jl);
	joblog_free(jl);
}

/*
 * Segments open for writing are bounded (JOBLOG_SEG_OPEN): the oldest is
 * closed for the next, and written again it is reopened, the same segment
 * (not a new one per reopening).
 */
static void
joblog_segments__many_jobs__open_fds_bounded_same_segment(void **state)
{
	struct fixture *f = *state;
	enum { N = JOBLOG_SEG_OPEN + 40 };
	struct joblog *jl[N];
	struct serr err;
	char real[PATH_MAX];
	int64_t dropped = 0, first, last;
	size_t len;
	int i, o, e, nrec;
	char *s;

	assert_non_null(realpath(f->dir, real));
	for (i = 0; i < N; i++) {
		jl[i] = joblog_new(100 + i, &dropped);
		joblog_set_direct(jl[i], 1);
		assert_int_equal(joblog_run_begin(jl[i], 1, &o, &e, &err), 0);
		put(jl[i], o, "x\n", 2);
		close(o);
		close(e);
		assert_true(fds_in(real, ".log") <= JOBLOG_SEG_OPEN);
	}
	assert_int_equal(fds_in(real, ".log"), JOBLOG_SEG_OPEN);
	for (i = 0; i < 2; i++) {
		assert_int_equal(joblog_run_begin(jl[0], 2, &o, &e, &err), 0);
		put(jl[0], o, "y\n", 2);
		close(o);
		close(e);
	}
	assert_int_equal(joblog_segments(jl[0], &first, &last), 1);
	assert_int_equal(first, 1);
	assert_int_equal(last, 1);
	s = read_all(jl[0], -1, 0, &len, &nrec);
	assert_int_equal(nrec, 3);
	free(s);
	assert_true(fds_in(real, ".log") <= JOBLOG_SEG_OPEN);
	for (i = 0; i < N; i++) {
		joblog_remove(jl[i]);
		joblog_free(jl[i]);
	}
	assert_int_equal(fds_in(real, ".log"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		joblog_run__two_streams__records_in_one_segment, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		joblog_rotate__past_max_bytes__keep_segments_newest_intact,
		setup, teardown),
	    cmocka_unit_test_setup_teardown(
		joblog_prune_runs__old_runs__their_segments_go, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		joblog_cap__over_max_total__oldest_segment_anywhere_goes, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		joblog_init__restart__segments_found_unknown_jobs_removed,
		setup, teardown),
	    cmocka_unit_test_setup_teardown(
		joblog_direct__only_when_on__files_found_after_restart, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		joblog_direct__no_fd_held__replaced_taken_anew, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		joblog_segments__many_jobs__open_fds_bounded_same_segment,
		setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
