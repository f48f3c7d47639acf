/* SPDX-License-Identifier: ISC */
/*
 * Reading the job-file directory. Paths are built from directory entries
 * matching *.json only; symlinks are followed (packaging may link job
 * files in) but must point at regular files.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "daemon/jobfiles.h"
#include "daemon/loop.h"
#include "daemon/thread.h"
#include "daemon/xmalloc.h"
#include "proto/jsonout.h"
#include "proto/util.h"

static int
name_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

static int
read_file(const char *path, char **text, size_t *len, struct serr *err)
{
	struct stat sb;
	char *buf = NULL;
	size_t off = 0;
	ssize_t n;
	int fd;

	/* O_NONBLOCK: a FIFO named *.json must not hold the read until
	 * something writes to it (it is refused below). */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) ==
		-1 ||
	    fstat(fd, &sb) == -1) {
		serr_set(err, SERR_INVALID, NULL, "%s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		serr_set(err, SERR_INVALID, NULL, "not a regular file");
		goto fail;
	}
	if (sb.st_size > JOBFILES_SIZE_MAX) {
		serr_set(err, SERR_TOO_LARGE, NULL, "larger than %d bytes",
		    JOBFILES_SIZE_MAX);
		goto fail;
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (off < (size_t)sb.st_size) {
		n = read(fd, buf + off, (size_t)sb.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*text = buf;
	*len = off;
	return (0);
fail:
	if (fd != -1)
		close(fd);
	free(buf);
	return (-1);
}

static void
jobfile_load(struct jobfile *f, const char *fname)
{
	char *text = NULL, base[JOBSPEC_NAME_MAX + 8];
	size_t len, blen;
	json_t *j;

	serr_clear(&f->err);
	jobspec_init(&f->spec);
	if (read_file(f->path, &text, &len, &f->err) == -1)
		return;
	if (jobspec_from_text(text, len, &f->spec, &f->err) == -1) {
		free(text);
		return;
	}
	free(text);
	if (f->spec.name == NULL) {
		blen = strlen(fname) - 5; /* without ".json" */
		if (blen >= sizeof(base)) {
			serr_set(&f->err, SERR_INVALID, "name",
			    "no \"name\", and the file name is too long for one");
			jobspec_free(&f->spec);
			return;
		}
		memcpy(base, fname, blen);
		base[blen] = '\0';
		if (!jobspec_name_valid(base)) {
			serr_set(&f->err, SERR_INVALID, "name",
			    "no \"name\", and \"%s\" is not a valid job name",
			    base);
			jobspec_free(&f->spec);
			return;
		}
		f->spec.name = xstrdup(base);
	}
	if ((j = jobspec_to_json(&f->spec)) == NULL ||
	    (f->canonical = json_out_text(j, 1)) == NULL) {
		json_decref(j);
		serr_set(&f->err, SERR_INTERNAL, NULL, "out of memory");
		jobspec_free(&f->spec);
		return;
	}
	json_decref(j);
	f->ok = 1;
}

int
jobfiles_scan(const char *dir, struct jobfile **out, struct serr *err)
{
	DIR *d;
	struct dirent *de;
	struct jobfile *files = NULL;
	char **names = NULL;
	size_t len;
	int n = 0, i, r;

	*out = NULL;
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return (0);
		serr_set(err, SERR_INVALID, "jobs_dir", "%s: %s", dir,
		    strerror(errno));
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= 5 ||
		    strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		if (n == JOBFILES_MAX) {
			serr_set(err, SERR_TOO_LARGE, "jobs_dir",
			    "%s: more than %d job files", dir, JOBFILES_MAX);
			goto fail;
		}
		names = xreallocarray(names, (size_t)n + 1, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	d = NULL;
	if (n > 0)
		qsort(names, (size_t)n, sizeof(*names), name_cmp);
	files = xcalloc((size_t)n + 1, sizeof(*files));
	for (i = 0; i < n; i++) {
		r = snprintf(files[i].path, sizeof(files[i].path), "%s/%s", dir,
		    names[i]);
		if (r < 0 || (size_t)r >= sizeof(files[i].path))
			serr_set(
			    &files[i].err, SERR_INVALID, NULL, "path too long");
		else
			jobfile_load(&files[i], names[i]);
		free(names[i]);
	}
	free(names);
	*out = files;
	return (n);
fail:
	if (d != NULL)
		closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return (-1);
}

void
jobfiles_free(struct jobfile *files, int n)
{
	int i;

	if (files == NULL)
		return;
	for (i = 0; i < n; i++) {
		jobspec_free(&files[i].spec);
		free(files[i].canonical);
	}
	free(files);
}

struct jobfiles_async {
	char dir[PATH_MAX];
	pthread_t thread;
	int pipe[2]; /* the thread writes a byte when it is done */
	struct event *ev;
	/* Written by the thread before its byte, read by the loop after. */
	struct jobfile *files;
	int n;
	struct serr err;
	void (*done)(void *, struct jobfile *, int, const struct serr *);
	void *arg;
};

static void *
jobfiles_async_main(void *arg)
{
	struct jobfiles_async *a = arg;
	char c = 1;

	a->n = jobfiles_scan(a->dir, &a->files, &a->err);
	while (write(a->pipe[1], &c, 1) == -1 && errno == EINTR)
		;
	return (NULL);
}

static void
jobfiles_async_free(struct jobfiles_async *a)
{
	if (a->ev != NULL)
		event_free(a->ev);
	close(a->pipe[0]);
	close(a->pipe[1]);
	free(a);
}

static void
jobfiles_async_wake(evutil_socket_t fd, short what, void *arg)
{
	struct jobfiles_async *a = arg;

	(void)fd;
	(void)what;
	pthread_join(a->thread, NULL);
	a->done(a->arg, a->files, a->n, &a->err);
	jobfiles_async_free(a);
}

struct jobfiles_async *
jobfiles_scan_async(struct event_base *base, const char *dir,
    void (*done)(void *, struct jobfile *, int, const struct serr *), void *arg,
    struct serr *err)
{
	struct jobfiles_async *a;
	int rc;

	a = xcalloc(1, sizeof(*a));
	if (util_strlcpy(a->dir, dir, sizeof(a->dir)) >= sizeof(a->dir)) {
		serr_set(
		    err, SERR_INVALID, "jobs_dir", "%s: path too long", dir);
		free(a);
		return (NULL);
	}
	a->done = done;
	a->arg = arg;
	if (pipe2(a->pipe, O_CLOEXEC) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "job files: pipe: %s",
		    strerror(errno));
		free(a);
		return (NULL);
	}
	if ((a->ev = event_new(
		 base, a->pipe[0], EV_READ, jobfiles_async_wake, a)) == NULL ||
	    event_priority_set(a->ev, SCHEDD_PRIO_WORK) == -1 ||
	    event_add(a->ev, NULL) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "job files: no event");
		jobfiles_async_free(a);
		return (NULL);
	}
	rc = thread_start(&a->thread, jobfiles_async_main, a, "jobfiles");
	if (rc != 0) {
		serr_set(err, SERR_INTERNAL, NULL, "job files: thread: %s",
		    strerror(rc));
		jobfiles_async_free(a);
		return (NULL);
	}
	return (a);
}

void
jobfiles_async_abandon(struct jobfiles_async *a)
{
	if (a == NULL)
		return;
	pthread_join(a->thread, NULL);
	if (a->n >= 0)
		jobfiles_free(a->files, a->n);
	jobfiles_async_free(a);
}
