/* SPDX-License-Identifier: ISC */
/*
 * Per-run output files and reading them back (tail, follow). Reading is
 * bounded by the caller's max_bytes so a huge log cannot balloon a reply.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "daemon/joblog.h"
#include "daemon/log.h"
#include "proto/util.h"

static char joblog_dir[PATH_MAX];

int
joblog_init(const char *state_dir, struct serr *err)
{
	int n;

	n = snprintf(joblog_dir, sizeof(joblog_dir), "%s/logs", state_dir);
	if (n < 0 || (size_t)n >= sizeof(joblog_dir) - 64) {
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
	return (0);
}

int
joblog_path(
    int64_t job_id, int64_t run, enum joblog_stream s, char *buf, size_t len)
{
	int n;

	n = snprintf(buf, len, "%s/%" PRId64 "/%" PRId64 ".%s", joblog_dir,
	    job_id, run, s == JOBLOG_STDOUT ? "out" : "err");
	return (n < 0 || (size_t)n >= len ? -1 : 0);
}

int
joblog_open(
    int64_t job_id, int64_t run, int *out_fd, int *err_fd, struct serr *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int fds[2] = {-1, -1}, i, n;

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

	n = snprintf(dir, sizeof(dir), "%s/%" PRId64, joblog_dir, job_id);
	if (n < 0 || (size_t)n >= sizeof(dir)) {
		serr_set(err, SERR_INTERNAL, NULL, "log path too long");
		return (-1);
	}
	if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
		serr_set(err, SERR_INTERNAL, NULL, "mkdir %s: %s", dir,
		    strerror(errno));
		return (-1);
	}
	for (i = 0; i < 2; i++) {
		if (joblog_path(job_id, run, (enum joblog_stream)i, path,
			sizeof(path)) == -1 ||
		    (fds[i] = open(path,
			 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
			 0640)) == -1) {
			serr_set(err, SERR_INTERNAL, NULL, "open %s: %s", path,
			    strerror(errno));
			if (fds[0] != -1)
				close(fds[0]);
			return (-1);
		}
	}
	*out_fd = fds[0];
	*err_fd = fds[1];
	return (0);
}

void
joblog_remove_job(int64_t job_id)
{
	char dir[PATH_MAX], path[PATH_MAX];
	DIR *d;
	struct dirent *de;
	int n;

	n = snprintf(dir, sizeof(dir), "%s/%" PRId64, joblog_dir, job_id);
	if (n < 0 || (size_t)n >= sizeof(dir) || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		if (unlink(path) == -1)
			log_warn("unlink %s", path);
	}
	closedir(d);
	if (rmdir(dir) == -1)
		log_warn("rmdir %s", dir);
}

static int64_t
read_range(
    int fd, int64_t off, int64_t end, size_t max_bytes, struct evbuffer *out)
{
	char buf[65536];
	ssize_t n;
	size_t want;

	if (end - off > (int64_t)max_bytes)
		off = end - (int64_t)max_bytes;
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
joblog_tail(const char *path, long tail, size_t max_bytes, struct evbuffer *out)
{
	char buf[65536];
	struct stat sb;
	int64_t end, pos, start, r;
	long lines = 0;
	ssize_t n, i;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return (errno == ENOENT ? 0 : -1);
	if (fstat(fd, &sb) == -1) {
		close(fd);
		return (-1);
	}
	end = sb.st_size;
	start = 0;
	if (tail >= 0) {
		/* Walk back to just after the (tail+1)-th newline from the
		 * end; a final newline does not open a line. */
		pos = end;
		start = -1;
		while (
		    pos > 0 && start == -1 && end - pos < (int64_t)max_bytes) {
			int64_t chunk = pos > (int64_t)sizeof(buf)
					    ? (int64_t)sizeof(buf)
					    : pos;

			n = pread(fd, buf, (size_t)chunk, pos - chunk);
			if (n <= 0)
				break;
			for (i = n - 1; i >= 0; i--) {
				if (buf[i] != '\n' ||
				    pos - chunk + i == end - 1)
					continue;
				if (++lines >= tail) {
					start = pos - chunk + i + 1;
					break;
				}
			}
			pos -= chunk;
		}
		if (start == -1)
			start = pos;
		if (tail == 0)
			start = end;
	}
	r = read_range(fd, start, end, max_bytes, out);
	close(fd);
	return (r);
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
	/* From offset on (a follower's head, not a tail): at most max_bytes,
	 * which read_range() then never needs to clamp. */
	end = sb.st_size;
	if (end - offset > (int64_t)max_bytes)
		end = offset + (int64_t)max_bytes;
	r = read_range(fd, offset, end, max_bytes, out);
	close(fd);
	return (r);
}
