/* SPDX-License-Identifier: ISC */
/*
 * joblog on a temporary state directory: runs write flat files
 * (logs/JOBID.RUN.out|err) and no per-job directory; a delete by run count
 * removes exactly that job's files and looks for the old layout
 * (logs/JOBID/RUN.out) only when a flat file is missing; the scan removes
 * only names that are that job's; readers fall back to the old layout; and
 * without a usable state directory output goes to /dev/null.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
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
#include <event2/buffer.h>

#include "daemon/joblog.h"

struct fixture {
	char dir[64];   /* the state directory */
	char logs[80];  /* dir/logs */
	char buf[4096]; /* the last listing */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct serr err;

	if (f == NULL)
		return (-1);
	snprintf(f->dir, sizeof(f->dir), "/tmp/schedd-test-joblog.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return (-1);
	snprintf(f->logs, sizeof(f->logs), "%s/logs", f->dir);
	if (joblog_init(f->dir, &err) == -1) {
		fprintf(stderr, "joblog_init: %s\n", err.message);
		return (-1);
	}
	*state = f;
	return (0);
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

	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return (0);
}

/* Create logs/rel with text (and its directory, for the old layout). */
static void
put(struct fixture *f, const char *rel, const char *text)
{
	char path[256], *slash;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", f->logs, rel);
	if ((slash = strrchr(path, '/')) > path + strlen(f->logs)) {
		*slash = '\0';
		assert_true(mkdir(path, 0750) == 0 || errno == EEXIST);
		*slash = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Open job/run's files through joblog and write text to its stdout. */
static void
run(int64_t job, int64_t nrun, const char *text)
{
	struct serr err;
	int o = -1, e = -1;

	assert_int_equal(joblog_open(job, nrun, &o, &e, &err), 0);
	assert_int_equal(write(o, text, strlen(text)), (ssize_t)strlen(text));
	close(o);
	close(e);
}

static int
cmp_str(const void *a, const void *b)
{
	return (strcmp(a, b));
}

/* The sorted names in logs/ (directories with a trailing '/'), space
 * separated; .spare, the pool of emptied files, is left out. */
static const char *
listing(struct fixture *f)
{
	char names[64][NAME_MAX + 2];
	struct dirent *de;
	size_t n = 0, i, off = 0;
	DIR *d;

	assert_non_null(d = opendir(f->logs));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, ".spare") == 0)
			continue;
		assert_true(n < 64);
		snprintf(names[n++], sizeof(names[0]), "%s%s", de->d_name,
		    de->d_type == DT_DIR ? "/" : "");
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	f->buf[0] = '\0';
	for (i = 0; i < n; i++) {
		off += (size_t)snprintf(f->buf + off, sizeof(f->buf) - off,
		    "%s%s", i > 0 ? " " : "", names[i]);
		assert_true(off < sizeof(f->buf));
	}
	return (f->buf);
}

/* The number of files in logs/.spare. */
static int
spare_count(struct fixture *f)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/.spare", f->logs);
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return (n);
}

static ino_t
inode_of(int64_t job, int64_t nrun, enum joblog_stream s)
{
	char path[PATH_MAX];
	struct stat sb;

	assert_int_equal(joblog_path(job, nrun, s, path, sizeof(path)), 0);
	assert_int_equal(stat(path, &sb), 0);
	return (sb.st_ino);
}

/* What a reader gets for job/run/stream: joblog_path, then joblog_read_from. */
static const char *
read_back(struct fixture *f, int64_t job, int64_t nrun, enum joblog_stream s)
{
	char path[PATH_MAX];
	struct evbuffer *b = evbuffer_new();
	size_t len;

	assert_int_equal(joblog_path(job, nrun, s, path, sizeof(path)), 0);
	assert_true(joblog_read_from(path, 0, 1 << 20, b) >= 0);
	len = evbuffer_get_length(b);
	assert_true(len < sizeof(f->buf));
	evbuffer_remove(b, f->buf, len);
	f->buf[len] = '\0';
	evbuffer_free(b);
	return (f->buf);
}

static void
joblog_open__run__two_flat_files_no_directory(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], want[PATH_MAX];

	run(7, 1, "hello\n");
	assert_string_equal(listing(f), "7.1.err 7.1.out");
	assert_int_equal(
	    joblog_path(7, 1, JOBLOG_STDOUT, path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/7.1.out", f->logs);
	assert_string_equal(path, want);
	assert_string_equal(read_back(f, 7, 1, JOBLOG_STDOUT), "hello\n");
	assert_string_equal(read_back(f, 7, 1, JOBLOG_STDERR), "");
	/* The same run opened again (a restart of the daemon) appends. */
	run(7, 1, "again\n");
	assert_string_equal(
	    read_back(f, 7, 1, JOBLOG_STDOUT), "hello\nagain\n");
}

static void
joblog_remove_runs__three_runs__only_that_jobs_files_gone(void **state)
{
	struct fixture *f = *state;

	run(1, 1, "a");
	run(1, 2, "b");
	run(1, 3, "c");
	run(11, 1, "d");
	run(12, 1, "e");
	joblog_remove_runs(1, 3);
	assert_string_equal(listing(f), "11.1.err 11.1.out 12.1.err 12.1.out");
	/* Nothing left to remove: quietly nothing. */
	joblog_remove_runs(1, 3);
	joblog_remove_runs(2, 0);
	assert_string_equal(listing(f), "11.1.err 11.1.out 12.1.err 12.1.out");
}

static void
joblog_remove_runs__run_never_opened__the_others_removed(void **state)
{
	struct fixture *f = *state;

	run(5, 1, "a");
	run(5, 3, "c");
	joblog_remove_runs(5, 3);
	assert_string_equal(listing(f), "");
}

static void
joblog_remove_runs__flat_files_all_there__old_layout_not_looked_up(void **state)
{
	struct fixture *f = *state;
	char dir[128];

	/* An empty directory named like job 3's old one would go at the
	 * first rmdir attempt; that it stays shows there was none. */
	snprintf(dir, sizeof(dir), "%s/3", f->logs);
	assert_int_equal(mkdir(dir, 0750), 0);
	run(3, 1, "a");
	run(3, 2, "b");
	joblog_remove_runs(3, 2);
	assert_string_equal(listing(f), "3/");
}

static void
joblog_path__old_layout_only__reads_old_file(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], want[PATH_MAX];

	put(f, "9/1.out", "old out\n");
	put(f, "9/1.err", "old err\n");
	assert_string_equal(read_back(f, 9, 1, JOBLOG_STDOUT), "old out\n");
	assert_string_equal(read_back(f, 9, 1, JOBLOG_STDERR), "old err\n");
	assert_int_equal(
	    joblog_path(9, 1, JOBLOG_STDOUT, path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/9/1.out", f->logs);
	assert_string_equal(path, want);
	/* In neither layout: the flat name, which reads as empty. */
	assert_int_equal(
	    joblog_path(9, 2, JOBLOG_STDOUT, path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/9.2.out", f->logs);
	assert_string_equal(path, want);
	assert_string_equal(read_back(f, 9, 2, JOBLOG_STDOUT), "");
	/* Too small a buffer for either is an error, not a cut path. */
	assert_int_equal(joblog_path(9, 1, JOBLOG_STDOUT, path, 8), -1);
}

static void
joblog_path__both_layouts__flat_file_wins(void **state)
{
	struct fixture *f = *state;

	put(f, "9/1.out", "old\n");
	run(9, 1, "new\n");
	assert_string_equal(read_back(f, 9, 1, JOBLOG_STDOUT), "new\n");
}

static void
joblog_remove_runs__old_and_flat_runs__all_gone(void **state)
{
	struct fixture *f = *state;

	/* Runs 1-2 before the upgrade, run 3 after it. */
	put(f, "9/1.out", "a");
	put(f, "9/1.err", "");
	put(f, "9/2.out", "b");
	put(f, "9/2.err", "");
	run(9, 3, "c");
	put(f, "10/1.out", "other job");
	joblog_remove_runs(9, 3);
	assert_string_equal(listing(f), "10/");
}

static void
joblog_remove_runs__old_dir_with_stray_file__directory_removed(void **state)
{
	struct fixture *f = *state;

	put(f, "9/1.out", "a");
	put(f, "9/core", "stray");
	joblog_remove_runs(9, 1);
	assert_string_equal(listing(f), "");
}

static void
joblog_remove_job__scan__that_jobs_run_files_only(void **state)
{
	struct fixture *f = *state;

	run(4, 1, "a");
	run(4, 2, "b");
	put(f, "4/1.out", "old");
	run(40, 1, "c");
	run(44, 1, "d");
	put(f, "4.x.out", "not a run's");
	put(f, "4.1.out.bak", "not a run's");
	put(f, "4.1", "not a run's");
	joblog_remove_job(4);
	assert_string_equal(listing(f),
	    "4.1 4.1.out.bak 4.x.out 40.1.err 40.1.out 44.1.err 44.1.out");
}

static void
joblog_init__path_too_long__output_to_dev_null(void **state)
{
	struct fixture *f = *state;
	char dir[PATH_MAX + 16], path[PATH_MAX];
	struct stat sb, null;
	struct serr err;
	int o = -1, e = -1;

	run(2, 1, "kept");
	memset(dir, 'x', sizeof(dir) - 1);
	dir[0] = '/';
	dir[sizeof(dir) - 1] = '\0';
	assert_int_equal(joblog_init(dir, &err), -1);
	assert_int_equal(err.code, SERR_INVALID);

	assert_int_equal(joblog_open(2, 1, &o, &e, &err), 0);
	assert_int_equal(stat("/dev/null", &null), 0);
	assert_int_equal(fstat(o, &sb), 0);
	assert_true(sb.st_rdev == null.st_rdev && S_ISCHR(sb.st_mode));
	assert_int_equal(fstat(e, &sb), 0);
	assert_true(sb.st_rdev == null.st_rdev && S_ISCHR(sb.st_mode));
	assert_true(fcntl(o, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(e, F_GETFD) & FD_CLOEXEC);
	close(o);
	close(e);
	/* Nothing to read, and nothing anywhere is removed. */
	assert_int_equal(
	    joblog_path(2, 1, JOBLOG_STDOUT, path, sizeof(path)), 0);
	assert_string_equal(path, "");
	joblog_remove_runs(2, 1);
	joblog_remove_job(2);
	assert_string_equal(listing(f), "2.1.err 2.1.out");
}

/*
 * A deleted run's files are emptied and kept (new inodes are dear on a
 * journal-less ext4); the next run takes them, with nothing of the old
 * output left, and a daemon started again finds them.
 */
static void
joblog_spare__deleted_run__its_inodes_reused_empty(void **state)
{
	struct fixture *f = *state;
	struct serr err;
	ino_t out, errf, a, b;

	run(3, 1, "first job's output\n");
	out = inode_of(3, 1, JOBLOG_STDOUT);
	errf = inode_of(3, 1, JOBLOG_STDERR);
	joblog_remove_runs(3, 1);
	assert_string_equal(listing(f), "");
	assert_int_equal(spare_count(f), 2);

	run(4, 1, "second\n");
	assert_string_equal(listing(f), "4.1.err 4.1.out");
	assert_string_equal(read_back(f, 4, 1, JOBLOG_STDOUT), "second\n");
	assert_string_equal(read_back(f, 4, 1, JOBLOG_STDERR), "");
	a = inode_of(4, 1, JOBLOG_STDOUT);
	b = inode_of(4, 1, JOBLOG_STDERR);
	assert_true((a == out && b == errf) || (a == errf && b == out));
	assert_int_equal(spare_count(f), 0);

	/* Kept across a restart of the daemon. */
	joblog_remove_runs(4, 1);
	assert_int_equal(spare_count(f), 2);
	assert_int_equal(joblog_init(f->dir, &err), 0);
	run(5, 1, "third\n");
	assert_int_equal(spare_count(f), 0);
	a = inode_of(5, 1, JOBLOG_STDOUT);
	assert_true(a == out || a == errf);
	assert_string_equal(read_back(f, 5, 1, JOBLOG_STDOUT), "third\n");
}

/* The pool is bounded: beyond 64 files, deleted ones are unlinked. */
static void
joblog_spare__many_deleted__pool_bounded_rest_unlinked(void **state)
{
	struct fixture *f = *state;
	int64_t job;

	for (job = 1; job <= 40; job++)
		run(job, 1, "x");
	for (job = 1; job <= 40; job++)
		joblog_remove_runs(job, 1);
	assert_string_equal(listing(f), "");
	assert_int_equal(spare_count(f), 64);
	/* A run opened over an existing file appends to it, spare or not. */
	run(41, 1, "a");
	run(41, 1, "b");
	assert_string_equal(read_back(f, 41, 1, JOBLOG_STDOUT), "ab");
	assert_int_equal(spare_count(f), 62);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		joblog_open__run__two_flat_files_no_directory, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		joblog_remove_runs__three_runs__only_that_jobs_files_gone,
		setup, teardown),
	    cmocka_unit_test_setup_teardown(
		joblog_remove_runs__run_never_opened__the_others_removed, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		joblog_remove_runs__flat_files_all_there__old_layout_not_looked_up,
		setup, teardown),
	    cmocka_unit_test_setup_teardown(
		joblog_path__old_layout_only__reads_old_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		joblog_path__both_layouts__flat_file_wins, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		joblog_remove_runs__old_and_flat_runs__all_gone, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		joblog_remove_runs__old_dir_with_stray_file__directory_removed,
		setup, teardown),
	    cmocka_unit_test_setup_teardown(
		joblog_remove_job__scan__that_jobs_run_files_only, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		joblog_spare__deleted_run__its_inodes_reused_empty, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		joblog_spare__many_deleted__pool_bounded_rest_unlinked, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		joblog_init__path_too_long__output_to_dev_null, setup,
		teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
