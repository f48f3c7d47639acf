/* SPDX-License-Identifier: ISC */
/*
 * Per-run output files (flat names under STATE/logs, the layout in
 * joblog.h), removing them by name, and reading them back (tail, follow).
 * It never creates a directory per job, and never reads STATE/logs on the
 * way of a run or a delete. Reading is bounded by the caller's max_bytes,
 * step by step, so a huge log can neither balloon a reply nor hold the
 * loop.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "daemon/joblog.h"
#include "daemon/log.h"
#include "proto/util.h"

static char joblog_dir[PATH_MAX]; /* "": no log directory */

/*
 * Spare inodes. On an ext4 without a journal (this project's development
 * machine) a new inode costs 100-200 us once many files have been deleted:
 * the allocator reads the inode table to skip recently deleted inodes. So
 * a deleted run's files are emptied and kept in STATE/logs/.spare, named
 * 0..JOBLOG_SPARE_MAX-1, and a new run renames one into place instead of
 * creating a file; more than that are unlinked as before.
 */
#define JOBLOG_SPARE_MAX 64
static char joblog_spare_dir[PATH_MAX];
static int joblog_have[JOBLOG_SPARE_MAX]; /* names there, a stack */
static int joblog_nhave;
static int joblog_free[JOBLOG_SPARE_MAX]; /* names not there */
static int joblog_nfree;

static int joblog_fmt(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
joblog_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return (n < 0 || (size_t)n >= len ? -1 : 0);
}

static const char *
joblog_ext(enum joblog_stream s)
{
	return (s == JOBLOG_STDOUT ? "out" : "err");
}

/* STATE/logs/JOBID.RUN.out: where runs write. */
static int
joblog_flat(
    int64_t job_id, int64_t run, enum joblog_stream s, char *buf, size_t len)
{
	return (joblog_fmt(buf, len, "%s/%" PRId64 ".%" PRId64 ".%s",
	    joblog_dir, job_id, run, joblog_ext(s)));
}

/* STATE/logs/JOBID/RUN.out: the old layout, read and removed only. */
static int
joblog_old(
    int64_t job_id, int64_t run, enum joblog_stream s, char *buf, size_t len)
{
	return (joblog_fmt(buf, len, "%s/%" PRId64 "/%" PRId64 ".%s",
	    joblog_dir, job_id, run, joblog_ext(s)));
}

/* "RUN.out" or "RUN.err", the tail of a run's file name; nothing else. */
static int
joblog_is_run_name(const char *name)
{
	size_t n = strspn(name, "0123456789");

	return (n > 0 && (strcmp(name + n, ".out") == 0 ||
			     strcmp(name + n, ".err") == 0));
}

/* Whether an old-layout job directory is there with files in it: one
 * rmdir, which removes it if it is empty. */
static int
joblog_old_dir_full(const char *dir)
{
	return (rmdir(dir) == -1 && (errno == ENOTEMPTY || errno == EEXIST));
}

/*
 * Remove an old-layout job directory. rmdir first: it is usually empty by
 * now; only if it is not are its entries read and unlinked.
 */
static void
joblog_old_dir_remove(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (rmdir(dir) == 0 || errno == ENOENT)
		return;
	if (errno != ENOTEMPTY && errno != EEXIST) {
		log_warn("rmdir %s", dir);
		return;
	}
	if ((d = opendir(dir)) == NULL) {
		log_warn("opendir %s", dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (joblog_fmt(path, sizeof(path), "%s/%s", dir, de->d_name) ==
			-1 ||
		    unlink(path) == -1)
			log_warn("unlink %s/%s", dir, de->d_name);
	}
	closedir(d);
	if (rmdir(dir) == -1)
		log_warn("rmdir %s", dir);
}

static int
joblog_spare_path(int n, char *buf, size_t len)
{
	return (joblog_fmt(buf, len, "%s/%d", joblog_spare_dir, n));
}

/* Find the spare files a previous daemon left; drop the pool on error. */
static void
joblog_spare_init(void)
{
	char path[PATH_MAX];
	struct stat sb;
	int n;

	joblog_nhave = joblog_nfree = 0;
	if (joblog_fmt(joblog_spare_dir, sizeof(joblog_spare_dir), "%s/.spare",
		joblog_dir) == -1 ||
	    (mkdir(joblog_spare_dir, 0750) == -1 && errno != EEXIST)) {
		log_warn("%s/.spare", joblog_dir);
		return;
	}
	for (n = 0; n < JOBLOG_SPARE_MAX; n++) {
		if (joblog_spare_path(n, path, sizeof(path)) == -1)
			return;
		if (lstat(path, &sb) == -1)
			joblog_free[joblog_nfree++] = n;
		else if (S_ISREG(sb.st_mode))
			joblog_have[joblog_nhave++] = n;
	}
}

/* Rename a spare file to path (which must not exist). 0, or -1: none. */
static int
joblog_spare_take(const char *path)
{
	char spare[PATH_MAX];
	int n;

	while (joblog_nhave > 0) {
		n = joblog_have[--joblog_nhave];
		if (joblog_spare_path(n, spare, sizeof(spare)) == -1)
			return (-1);
		if (renameat2(AT_FDCWD, spare, AT_FDCWD, path,
			RENAME_NOREPLACE) == 0) {
			joblog_free[joblog_nfree++] = n;
			return (0);
		}
		if (errno == EEXIST) {
			joblog_have[joblog_nhave++] = n;
			return (-1);
		}
		if (errno != ENOENT)
			log_warn("rename %s", spare);
		joblog_free[joblog_nfree++] = n;
	}
	return (-1);
}

/* Remove path: emptied into the pool while it has room, else unlinked.
 * Returns 0, or -1 with errno (ENOENT: there was no such file). */
static int
joblog_spare_give(const char *path)
{
	char spare[PATH_MAX];
	int n;

	if (joblog_nfree > 0 && truncate(path, 0) == 0) {
		n = joblog_free[--joblog_nfree];
		if (joblog_spare_path(n, spare, sizeof(spare)) == 0 &&
		    renameat2(AT_FDCWD, path, AT_FDCWD, spare,
			RENAME_NOREPLACE) == 0) {
			joblog_have[joblog_nhave++] = n;
			return (0);
		}
		joblog_free[joblog_nfree++] = n;
	}
	return (unlink(path));
}

int
joblog_init(const char *state_dir, struct serr *err)
{
	/* Leave room for "/JOBID.RUN.out" and "/JOBID/RUN.out" (2 x 19
	 * digits each), so that building a path cannot fail later. */
	if (joblog_fmt(joblog_dir, sizeof(joblog_dir) - 64, "%s/logs",
		state_dir) == -1) {
		joblog_dir[0] = '\0';
		serr_set(err, SERR_INVALID, "state_dir", "path too long");
		return (-1);
	}
	if (mkdir(joblog_dir, 0750) == -1 && errno != EEXIST) {
		serr_set(err, SERR_INTERNAL, NULL, "mkdir %s: %s", joblog_dir,
		    strerror(errno));
		joblog_dir[0] = '\0';
		return (-1);
	}
	joblog_spare_init();
	return (0);
}

int
joblog_path(
    int64_t job_id, int64_t run, enum joblog_stream s, char *buf, size_t len)
{
	char old[PATH_MAX];
	struct stat sb;

	if (joblog_dir[0] == '\0') {
		if (len > 0)
			buf[0] = '\0';
		return (len > 0 ? 0 : -1);
	}
	if (joblog_flat(job_id, run, s, buf, len) == -1)
		return (-1);
	if (lstat(buf, &sb) == 0 || errno != ENOENT)
		return (0);
	/* A run from before the flat layout (or one that never opened its
	 * files: then neither exists and the flat name reads as empty). */
	if (joblog_old(job_id, run, s, old, sizeof(old)) == 0 &&
	    lstat(old, &sb) == 0 && util_strlcpy(buf, old, len) >= len)
		return (-1);
	return (0);
}

int
joblog_open(
    int64_t job_id, int64_t run, int *out_fd, int *err_fd, struct serr *err)
{
	char path[PATH_MAX];
	int fds[2] = {-1, -1}, i;

	/* No usable state directory (init mode carries on): discard. */
	if (joblog_dir[0] == '\0') {
		if ((fds[0] = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1 ||
		    (fds[1] = fcntl(fds[0], F_DUPFD_CLOEXEC, 0)) == -1) {
			serr_set(err, SERR_INTERNAL, NULL, "/dev/null: %s",
			    strerror(errno));
			if (fds[0] != -1)
				close(fds[0]);
			return (-1);
		}
		*out_fd = fds[0];
		*err_fd = fds[1];
		return (0);
	}

	for (i = 0; i < 2; i++) {
		if (joblog_flat(job_id, run, (enum joblog_stream)i, path,
			sizeof(path)) == -1) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		/* A spare file when there is one, else a new one. */
		joblog_spare_take(path);
		if ((fds[i] = open(path,
			 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
			 0640)) == -1)
			goto fail;
	}
	*out_fd = fds[0];
	*err_fd = fds[1];
	return (0);
fail:
	serr_set(
	    err, SERR_INTERNAL, NULL, "open %s: %s", path, strerror(errno));
	if (fds[0] != -1)
		close(fds[0]);
	return (-1);
}

void
joblog_remove_runs(int64_t job_id, int64_t last_run)
{
	char path[PATH_MAX], dir[PATH_MAX];
	enum { OLD_UNKNOWN, OLD_ABSENT, OLD_PRESENT } old = OLD_UNKNOWN;
	int64_t run;
	int i;

	if (joblog_dir[0] == '\0')
		return;
	if (joblog_fmt(dir, sizeof(dir), "%s/%" PRId64, joblog_dir, job_id) ==
	    -1)
		return;
	for (run = 1; run <= last_run; run++) {
		for (i = 0; i < 2; i++) {
			if (joblog_flat(job_id, run, (enum joblog_stream)i,
				path, sizeof(path)) == -1)
				continue;
			if (joblog_spare_give(path) == 0)
				continue;
			if (errno != ENOENT) {
				log_warn("unlink %s", path);
				continue;
			}
			/* The run never opened its files, or it wrote the
			 * old layout: find out once, with one rmdir. */
			if (old == OLD_UNKNOWN)
				old = joblog_old_dir_full(dir) ? OLD_PRESENT
							       : OLD_ABSENT;
			if (old == OLD_PRESENT &&
			    joblog_old(job_id, run, (enum joblog_stream)i, path,
				sizeof(path)) == 0 &&
			    unlink(path) == -1 && errno != ENOENT)
				log_warn("unlink %s", path);
		}
	}
	if (old == OLD_PRESENT)
		joblog_old_dir_remove(dir);
}

void
joblog_remove_job(int64_t job_id)
{
	char prefix[32], path[PATH_MAX];
	struct dirent *de;
	size_t plen;
	DIR *d;
	int old = 0;

	if (joblog_dir[0] == '\0' ||
	    joblog_fmt(prefix, sizeof(prefix), "%" PRId64, job_id) == -1)
		return;
	if ((d = opendir(joblog_dir)) == NULL) {
		log_warn("opendir %s", joblog_dir);
		return;
	}
	plen = strlen(prefix);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, plen) != 0)
			continue;
		/* "12" is job 12's old-layout directory; "123.1.out" is not
		 * job 12's. */
		if (de->d_name[plen] == '\0') {
			old = 1;
			continue;
		}
		if (de->d_name[plen] != '.' ||
		    !joblog_is_run_name(de->d_name + plen + 1))
			continue;
		if (joblog_fmt(path, sizeof(path), "%s/%s", joblog_dir,
			de->d_name) == -1 ||
		    unlink(path) == -1)
			log_warn("unlink %s/%s", joblog_dir, de->d_name);
	}
	closedir(d);
	if (old &&
	    joblog_fmt(path, sizeof(path), "%s/%s", joblog_dir, prefix) == 0)
		joblog_old_dir_remove(path);
}

/* Bytes [off, end) into out; returns the offset reached. */
static int64_t
read_range(int fd, int64_t off, int64_t end, struct evbuffer *out)
{
	char buf[65536];
	ssize_t n;
	size_t want;

	while (off < end) {
		want = sizeof(buf);
		if ((int64_t)want > end - off)
			want = (size_t)(end - off);
		n = pread(fd, buf, want, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		evbuffer_add(out, buf, (size_t)n);
		off += n;
	}
	return (off);
}

int64_t
joblog_size(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) == -1)
		return (errno == ENOENT ? 0 : -1);
	return ((int64_t)sb.st_size);
}

int
joblog_tail_step(const char *path, int64_t end, long tail, int64_t *pos,
    long *lines, size_t max_bytes)
{
	char buf[65536];
	int64_t chunk, stop;
	ssize_t n, i;
	int fd, rc = 0;

	if (tail <= 0 || *pos <= 0) {
		*pos = tail <= 0 ? end : 0;
		return (1);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return (-1);
	stop = *pos - (int64_t)max_bytes;
	while (rc == 0 && *pos > 0 && *pos > stop) {
		chunk = *pos > (int64_t)sizeof(buf) ? (int64_t)sizeof(buf) : *pos;
		n = pread(fd, buf, (size_t)chunk, *pos - chunk);
		if (n == -1 && errno == EINTR)
			continue;
		if (n != chunk) {
			rc = -1; /* unreadable, or shorter than end now */
			break;
		}
		for (i = n - 1; i >= 0; i--) {
			/* A newline at end - 1 ends the last line; it does
			 * not open one. */
			if (buf[i] != '\n' || *pos - chunk + i == end - 1)
				continue;
			if (++*lines >= tail) {
				rc = 1;
				break;
			}
		}
		*pos -= chunk;
		if (rc == 1)
			*pos += i + 1;
	}
	close(fd);
	if (rc == 0 && *pos == 0)
		rc = 1;
	return (rc);
}

int64_t
joblog_read_from(
    const char *path, int64_t offset, size_t max_bytes, struct evbuffer *out)
{
	struct stat sb;
	int64_t r, end;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return (offset);
	if (fstat(fd, &sb) == -1) {
		close(fd);
		return (offset);
	}
	if (sb.st_size <= offset) {
		/* Truncated under us: start again from its new end. */
		close(fd);
		return (sb.st_size < offset ? sb.st_size : offset);
	}
	end = sb.st_size;
	if (end - offset > (int64_t)max_bytes)
		end = offset + (int64_t)max_bytes;
	r = read_range(fd, offset, end, out);
	close(fd);
	return (r);
}
