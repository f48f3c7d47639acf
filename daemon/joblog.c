/* SPDX-License-Identifier: ISC */
/*
 * Job output (the layout is in joblog.h): the pipes a job writes into, the
 * segment files the daemon copies them into, rotation, the per-job and
 * daemon-wide bounds, dropping when the disk is short, and finding a
 * restarted daemon's segments and pipes again. It knows job ids and run
 * numbers, never jobs' states. Every move is bounded (JOBLOG_TURN_MAX per
 * stream per callback); nothing here sleeps or waits for a child.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <sys/un.h>

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

#include <event2/event.h>

#include "daemon/clock.h"
#include "daemon/joblog.h"
#include "daemon/log.h"
#include "daemon/loop.h"
#include "daemon/xmalloc.h"

#define JL_HDR ((int64_t)sizeof(struct joblog_rec))
/* A busy pipe is enlarged to this: with read() (below, jl_move) the job
 * writes on while schedd writes the file, and 1 MiB moved 1 GiB faster
 * than 256 KiB on the development machine (bench/RESULTS.md). */
#define JL_PIPE_BIG    (1024 * 1024)
#define JL_FREE_EVERY  (1024 * 1024) /* bytes between free-space checks */
#define JL_LOW_RETRY   250           /* ms between checks while short */
#define JL_TICK_MS     250           /* direct files: looks while they grow */
#define JL_TICK_MAX_MS 8000          /* and at least this often */
#define JL_REF_MAX     (1LL << 30)   /* bytes one reference record names */
#define JL_BLOCK       4096          /* holes are punched in whole blocks */

/* One segment file, JOBID.SEQ.log. */
struct jl_seg {
	int64_t seq;
	int64_t size;
	int64_t first_run; /* of its first record; 0: none yet */
	int64_t last_run;  /* no record of a later run is in it */
	int64_t first_ms;  /* its first record's time: age for the cap */
};

struct jl_stream {
	struct joblog *jl;
	enum joblog_stream which;
	int fd;  /* the pipe's read end (non-blocking); -1: none */
	int big; /* enlarged already */
	struct event *ev;
};

/*
 * A direct file, JOBID.stdout or JOBID.stderr (logs.direct). The daemon
 * holds no fd on it: each look stats its name, and it is opened only to
 * be punched, so that a job costs the daemon no fd while it runs (10,000
 * jobs, one pidfd each). A file found replaced (another inode) is taken
 * as new; one that took the old one's inode number, as the old one cut
 * short.
 */
struct jl_raw {
	int known; /* the fields below describe the file */
	dev_t dev; /* which file that is */
	ino_t ino;
	int64_t head;   /* bytes below are punched out */
	int64_t marked; /* bytes below are named by reference records */
	int64_t size;   /* at the last look */
};

/* The direct files' state: made when one is first opened (jl_direct),
 * so that the many jobs without logs.direct carry a pointer instead. */
struct jl_direct {
	struct jl_raw raw[2]; /* the two files */
	struct event *tick;   /* looks at them */
	int tick_ms;
};

/* Every job has one: the ints in pairs, no holes. */
struct joblog {
	int64_t job_id;
	int64_t *dropped; /* the job's current run's counter */
	int64_t run;      /* what output is counted as now */
	int64_t min_run;  /* runs below are pruned */
	int64_t max_bytes;
	struct jl_seg *segs; /* oldest first */
	int keep;
	int nsegs, capsegs;
	int seg_live; /* the last segment is written by this daemon */
	int seg_fd;   /* it, open for writing (jl_seg_fd); -1: closed */
	int seg_slot; /* where in jl_seg_open; -1 */
	int legacy;   /* has files of the old layout */
	int direct; /* the next run writes its own files */
	struct jl_stream s[2];
	struct jl_direct *d; /* its files' state; NULL: none opened yet */
	TAILQ_ENTRY(joblog) entry;
};
TAILQ_HEAD(joblog_list, joblog);

/* What start-up found in STATE/logs. */
struct jl_found {
	int64_t job_id;
	struct jl_seg seg; /* seq -1: the job has old-layout files */
	int raw;           /* 1 + stream: a direct file (seq 0) */
	int taken;
};

static char jl_dir[PATH_MAX]; /* "": no log directory */
static int jl_dirfd = -1;     /* it (O_PATH), for the looks' fstatat */
static struct event_base *jl_base;
static struct joblog_conf jl_conf;
static struct joblog_stats jl_st;
static struct joblog_list jl_all = TAILQ_HEAD_INITIALIZER(jl_all);
static struct jl_found *jl_found;
static size_t jl_nfound;
static int jl_null = -1;         /* /dev/null, where dropped output goes */
/* The joblogs whose segment is open for writing, in the order they opened
 * it: the oldest is closed for the next (reopened when written again), so
 * that 10,000 jobs do not hold 10,000 fds. */
static struct joblog *jl_seg_open[JOBLOG_SEG_OPEN];
static int jl_seg_next;
static char jl_buf[1024 * 1024]; /* output on its way to a segment */
static int64_t jl_since_check = JL_FREE_EVERY; /* bytes since statvfs */
static int64_t jl_low_until; /* short of space: when to look again */
static int jl_low;

static void jl_raw_found(struct joblog *, int);
static void jl_raw_resume(struct joblog *);
static void jl_raw_close(struct joblog *, int);
static void jl_seg_close(struct joblog *);
static int jl_fmt(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
jl_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return (n < 0 || (size_t)n >= len ? -1 : 0);
}

static int
jl_seg_path(int64_t job_id, int64_t seq, char *buf, size_t len)
{
	return (jl_fmt(
	    buf, len, "%s/%" PRId64 ".%" PRId64 ".log", jl_dir, job_id, seq));
}

static int
jl_raw_path(int64_t job_id, int stream, char *buf, size_t len)
{
	return (jl_fmt(buf, len, "%s/%" PRId64 ".%s", jl_dir, job_id,
	    stream == JOBLOG_STDERR ? "stderr" : "stdout"));
}

static int
jl_found_cmp(const void *a, const void *b)
{
	const struct jl_found *x = a, *y = b;

	if (x->job_id != y->job_id)
		return (x->job_id < y->job_id ? -1 : 1);
	if (x->seg.seq != y->seg.seq)
		return (x->seg.seq < y->seg.seq ? -1 : 1);
	return (0);
}

/* "JOB.SEQ.log" -> 1; "JOB.RUN.out", "JOB.RUN.err" or "JOB" -> 2;
 * "JOB.stdout" or "JOB.stderr" -> 3, with the stream in *seq. */
static int
jl_parse_name(const char *name, int64_t *job, int64_t *seq)
{
	char *end;

	if (name[0] < '0' || name[0] > '9')
		return (0);
	errno = 0;
	*job = strtoll(name, &end, 10);
	if (errno != 0 || *job <= 0)
		return (0);
	if (*end == '\0')
		return (2);
	if (strcmp(end, ".stdout") == 0 || strcmp(end, ".stderr") == 0) {
		*seq = end[4] == 'e' ? JOBLOG_STDERR : JOBLOG_STDOUT;
		return (3);
	}
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return (0);
	*seq = strtoll(end + 1, &end, 10);
	if (errno != 0)
		return (0);
	if (strcmp(end, ".log") == 0)
		return (*seq > 0 ? 1 : 0);
	if (strcmp(end, ".out") == 0 || strcmp(end, ".err") == 0)
		return (2);
	return (0);
}

int
joblog_rec_read(int fd, int64_t off, int64_t size, struct joblog_rec *rec)
{
	ssize_t n;

	if (size - off < JL_HDR)
		return (0);
	do
		n = pread(fd, rec, sizeof(*rec), off);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(*rec) || rec->magic != JOBLOG_MAGIC ||
	    rec->stream > JOBLOG_STDERR + JOBLOG_REF ||
	    (rec->stream >= JOBLOG_REF &&
		rec->len != sizeof(struct joblog_ref)) ||
	    (int64_t)rec->len > size - off - JL_HDR)
		return (0);
	return (1);
}

/* What a found segment holds first. */
static void
jl_scan_seg(const char *path, struct jl_seg *seg)
{
	struct joblog_rec rec;
	struct stat sb;
	int fd;

	seg->first_run = 0;
	seg->last_run = INT64_MAX;
	seg->first_ms = 0;
	seg->size = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return;
	if (fstat(fd, &sb) == 0) {
		seg->size = sb.st_size;
		seg->first_ms = (int64_t)sb.st_mtime * 1000;
		if (joblog_rec_read(fd, 0, sb.st_size, &rec) == 1) {
			seg->first_run = rec.run;
			seg->first_ms = rec.time_ms;
		}
	}
	close(fd);
}

static void
jl_scan(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct jl_found *f;
	size_t cap = 0;
	int64_t job, seq;
	int kind;
	DIR *d;

	if ((d = opendir(jl_dir)) == NULL) {
		log_warn("opendir %s", jl_dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if ((kind = jl_parse_name(de->d_name, &job, &seq)) == 0)
			continue;
		if (jl_nfound == cap) {
			cap = cap != 0 ? cap * 2 : 64;
			jl_found = xreallocarray(jl_found, cap, sizeof(*f));
		}
		f = &jl_found[jl_nfound++];
		memset(f, 0, sizeof(*f));
		f->job_id = job;
		f->seg.seq = -1;
		if (kind == 3) {
			f->seg.seq = 0;
			f->raw = 1 + (int)seq;
		} else if (kind == 1 && jl_fmt(path, sizeof(path), "%s/%s",
					    jl_dir, de->d_name) == 0) {
			f->seg.seq = seq;
			jl_scan_seg(path, &f->seg);
			jl_st.total_bytes += f->seg.size;
			jl_st.files++;
		}
	}
	closedir(d);
	if (jl_nfound > 0)
		qsort(jl_found, jl_nfound, sizeof(*jl_found), jl_found_cmp);
}

/* An older schedd kept emptied files in logs/.spare (at most 64). */
static void
jl_remove_spare(void)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int i;

	if (jl_fmt(dir, sizeof(dir), "%s/.spare", jl_dir) == -1 ||
	    (rmdir(dir) == -1 && errno != ENOTEMPTY && errno != EEXIST))
		return;
	for (i = 0; i < 64; i++)
		if (jl_fmt(path, sizeof(path), "%s/%d", dir, i) == 0)
			unlink(path);
	if (rmdir(dir) == -1)
		log_warn("rmdir %s", dir);
}

int
joblog_init(const char *state_dir, struct event_base *base,
    const struct joblog_conf *conf, struct serr *err)
{
	jl_base = base;
	jl_conf = *conf;
	memset(&jl_st, 0, sizeof(jl_st));
	jl_low = 0;
	jl_since_check = JL_FREE_EVERY;
	if (jl_null == -1)
		jl_null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	/* Leave room for "/JOBID.SEQ.log" (2 x 19 digits). */
	if (jl_fmt(jl_dir, sizeof(jl_dir) - 64, "%s/logs", state_dir) == -1) {
		jl_dir[0] = '\0';
		serr_set(err, SERR_INVALID, "state_dir", "path too long");
		return (-1);
	}
	if (mkdir(jl_dir, 0750) == -1 && errno != EEXIST) {
		serr_set(err, SERR_INTERNAL, NULL, "mkdir %s: %s", jl_dir,
		    strerror(errno));
		jl_dir[0] = '\0';
		return (-1);
	}
	if (jl_dirfd != -1)
		close(jl_dirfd);
	jl_dirfd = open(jl_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	jl_remove_spare();
	jl_scan();
	return (0);
}

static void
jl_seg_push(struct joblog *jl, const struct jl_seg *seg)
{
	if (jl->nsegs == jl->capsegs) {
		jl->capsegs = jl->capsegs != 0 ? jl->capsegs * 2 : 4;
		jl->segs =
		    xreallocarray(jl->segs, (size_t)jl->capsegs, sizeof(*seg));
	}
	jl->segs[jl->nsegs++] = *seg;
}

struct joblog *
joblog_new(int64_t job_id, int64_t *dropped)
{
	struct joblog *jl;
	size_t lo = 0, hi = jl_nfound, mid;
	int i;

	jl = xcalloc(1, sizeof(*jl));
	jl->job_id = job_id;
	jl->dropped = dropped;
	jl->seg_fd = jl->seg_slot = -1;
	jl->max_bytes = jl_conf.max_bytes;
	jl->keep = jl_conf.keep;
	for (i = 0; i < 2; i++) {
		jl->s[i].jl = jl;
		jl->s[i].which = (enum joblog_stream)i;
		jl->s[i].fd = -1;
	}
	/* The first found entry of this job, then all of them. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (jl_found[mid].job_id < job_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < jl_nfound && jl_found[lo].job_id == job_id; lo++) {
		jl_found[lo].taken = 1;
		if (jl_found[lo].raw > 0) {
			jl_raw_found(jl, jl_found[lo].raw - 1);
			continue;
		}
		if (jl_found[lo].seg.seq == -1) {
			jl->legacy = 1;
			continue;
		}
		/* Records come in run order: a segment holds no run later
		 * than the next one's first. */
		if (jl->nsegs > 0 && jl_found[lo].seg.first_run > 0)
			jl->segs[jl->nsegs - 1].last_run =
			    jl_found[lo].seg.first_run;
		jl_seg_push(jl, &jl_found[lo].seg);
	}
	jl_raw_resume(jl);
	TAILQ_INSERT_TAIL(&jl_all, jl, entry);
	return (jl);
}

void
joblog_set_limits(struct joblog *jl, int64_t max_bytes, int keep)
{
	jl->max_bytes = max_bytes > 0 ? max_bytes : jl_conf.max_bytes;
	jl->keep = keep > 0 ? keep : jl_conf.keep;
}

static void
jl_stream_close(struct jl_stream *s)
{
	if (s->ev != NULL) {
		event_free(s->ev);
		s->ev = NULL;
	}
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
	s->big = 0;
}

void
joblog_free(struct joblog *jl)
{
	if (jl == NULL)
		return;
	jl_stream_close(&jl->s[0]);
	jl_stream_close(&jl->s[1]);
	jl_raw_close(jl, 0);
	jl_raw_close(jl, 1);
	if (jl->d != NULL && jl->d->tick != NULL)
		event_free(jl->d->tick);
	free(jl->d);
	jl_seg_close(jl);
	TAILQ_REMOVE(&jl_all, jl, entry);
	free(jl->segs);
	free(jl);
}

/* Close the job's segment fd; the segment stays its current one. */
static void
jl_seg_close(struct joblog *jl)
{
	if (jl->seg_fd == -1)
		return;
	close(jl->seg_fd);
	jl->seg_fd = -1;
	jl_seg_open[jl->seg_slot] = NULL;
	jl->seg_slot = -1;
}

/* fd is the job's segment, open for writing: the oldest other goes. */
static void
jl_seg_opened(struct joblog *jl, int fd)
{
	struct joblog *old = jl_seg_open[jl_seg_next];

	if (old != NULL)
		jl_seg_close(old);
	jl->seg_fd = fd;
	jl->seg_slot = jl_seg_next;
	jl_seg_open[jl_seg_next] = jl;
	jl_seg_next = (jl_seg_next + 1) % JOBLOG_SEG_OPEN;
}

/* The current segment, open for writing (again). -1 with errno. */
static int
jl_seg_fd(struct joblog *jl)
{
	char path[PATH_MAX];
	int fd;

	if (jl->seg_fd != -1)
		return (jl->seg_fd);
	if (jl_seg_path(jl->job_id, jl->segs[jl->nsegs - 1].seq, path,
		sizeof(path)) == -1) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return (-1);
	jl_seg_opened(jl, fd);
	return (fd);
}

/* Unlink the job's oldest segment. */
static void
jl_seg_drop_first(struct joblog *jl)
{
	char path[PATH_MAX];

	if (jl->nsegs == 0)
		return;
	if (jl_seg_path(jl->job_id, jl->segs[0].seq, path, sizeof(path)) == 0 &&
	    unlink(path) == -1 && errno != ENOENT)
		log_warn("unlink %s", path);
	jl_st.total_bytes -= jl->segs[0].size;
	jl_st.files--;
	if (jl->nsegs == 1) {
		jl_seg_close(jl);
		jl->seg_live = 0;
	}
	memmove(&jl->segs[0], &jl->segs[1],
	    (size_t)(jl->nsegs - 1) * sizeof(jl->segs[0]));
	jl->nsegs--;
}

/* Old-layout files of the job: JOBID.RUN.out/.err and JOBID/RUN.out. */
static void
jl_remove_legacy(int64_t job_id)
{
	char path[PATH_MAX], sub[PATH_MAX];
	struct dirent *de, *se;
	int64_t job, seq;
	DIR *d, *sd;

	if ((d = opendir(jl_dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (jl_parse_name(de->d_name, &job, &seq) != 2 ||
		    job != job_id ||
		    jl_fmt(path, sizeof(path), "%s/%s", jl_dir, de->d_name) ==
			-1)
			continue;
		if (unlink(path) == 0 || errno != EISDIR)
			continue;
		if ((sd = opendir(path)) == NULL)
			continue;
		while ((se = readdir(sd)) != NULL)
			if (se->d_name[0] != '.' &&
			    jl_fmt(sub, sizeof(sub), "%s/%s", path,
				se->d_name) == 0)
				unlink(sub);
		closedir(sd);
		if (rmdir(path) == -1)
			log_warn("rmdir %s", path);
	}
	closedir(d);
}

void
joblog_remove(struct joblog *jl)
{
	char path[PATH_MAX];
	int i;

	if (jl == NULL || jl_dir[0] == '\0')
		return;

	while (jl->nsegs > 0)
		jl_seg_drop_first(jl);
	for (i = 0; i < 2; i++) {
		jl_raw_close(jl, i);
		if (jl_raw_path(jl->job_id, i, path, sizeof(path)) == 0 &&
		    unlink(path) == -1 && errno != ENOENT)
			log_warn("unlink %s", path);
	}
	if (jl->legacy)
		jl_remove_legacy(jl->job_id);
	jl->legacy = 0;
}

void
joblog_load_done(void)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < jl_nfound; i++) {
		if (jl_found[i].taken || jl_found[i].seg.seq == -1)
			continue;
		if (jl_found[i].raw > 0) {
			if (jl_raw_path(jl_found[i].job_id, jl_found[i].raw - 1,
				path, sizeof(path)) == 0 &&
			    unlink(path) == -1 && errno != ENOENT)
				log_warn("unlink %s", path);
			continue;
		}
		if (jl_seg_path(jl_found[i].job_id, jl_found[i].seg.seq, path,
			sizeof(path)) == 0 &&
		    unlink(path) == -1 && errno != ENOENT)
			log_warn("unlink %s", path);
		jl_st.total_bytes -= jl_found[i].seg.size;
		jl_st.files--;
	}
	free(jl_found);
	jl_found = NULL;
	jl_nfound = 0;
}

/* The daemon-wide cap: the oldest segment anywhere goes, never the one
 * that writer is writing (what it has just stored). */
static void
jl_enforce_cap(const struct joblog *writer)
{
	struct joblog *jl, *oldest;

	while (jl_conf.max_total > 0 && jl_st.total_bytes > jl_conf.max_total) {
		oldest = NULL;
		TAILQ_FOREACH (jl, &jl_all, entry) {
			if (jl->nsegs == 0 ||
			    (jl == writer && jl->nsegs == 1 && jl->seg_live))
				continue;
			if (oldest == NULL ||
			    jl->segs[0].first_ms < oldest->segs[0].first_ms)
				oldest = jl;
		}
		if (oldest == NULL)
			return;
		jl_seg_drop_first(oldest);
	}
}

/* Begin the next segment. 0, or -1 with errno. */
static int
jl_rotate(struct joblog *jl)
{
	char path[PATH_MAX];
	struct jl_seg seg;
	int fd;

	memset(&seg, 0, sizeof(seg));
	seg.seq = jl->nsegs > 0 ? jl->segs[jl->nsegs - 1].seq + 1 : 1;
	seg.first_run = seg.last_run = jl->run;
	seg.first_ms = now_ms();
	if (jl_seg_path(jl->job_id, seg.seq, path, sizeof(path)) == -1) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = open(path,
		 O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		 0640)) == -1)
		return (-1);
	jl_seg_close(jl);
	jl_seg_opened(jl, fd);
	jl->seg_live = 1;
	if (jl->nsegs > 0 && jl->segs[jl->nsegs - 1].last_run > jl->run)
		jl->segs[jl->nsegs - 1].last_run = jl->run;
	jl_seg_push(jl, &seg);
	jl_st.files++;
	while (jl->nsegs > jl->keep)
		jl_seg_drop_first(jl);
	jl_enforce_cap(jl);
	return (0);
}

/* Whether output must be dropped to leave the disk to the database. */
static int
jl_short_of_space(int64_t n)
{
	struct statvfs sv;
	int64_t now;

	if (jl_conf.min_free <= 0)
		return (0);
	if (jl_low) {
		now = mono_ms();
		if (now < jl_low_until)
			return (1);
		jl_since_check = JL_FREE_EVERY;
	}
	jl_since_check += n;
	if (jl_since_check < JL_FREE_EVERY)
		return (0);
	jl_since_check = 0;
	if (statvfs(jl_dir, &sv) == -1)
		return (0);
	jl_low =
	    (int64_t)sv.f_bavail * (int64_t)sv.f_frsize < jl_conf.min_free + n;
	if (jl_low)
		jl_low_until = mono_ms() + JL_LOW_RETRY;
	return (jl_low);
}

/*
 * Store n bytes of the stream (read from its pipe) as a record in the
 * job's segment, beginning the next segment first when this one is full.
 * Returns how many were stored: fewer than n when the segment filled (the
 * caller stores the rest in the next), 0 when they cannot be stored. The
 * caller has looked at the free space (jl_short_of_space), once.
 */
static int64_t
jl_store(struct joblog *jl, int stream, int64_t n, const char *buf)
{
	struct joblog_rec rec;
	struct jl_seg *seg;
	int64_t room, off, start;
	ssize_t m;
	struct iovec iov[2];

	if (jl_dir[0] == '\0')
		return (0);
	if (!jl->seg_live ||
	    jl->segs[jl->nsegs - 1].size + JL_HDR >= jl->max_bytes) {
		if (jl_rotate(jl) == -1) {
			if (errno != ENOSPC)
				log_warn("job %" PRId64 ": new log segment",
				    jl->job_id);
			return (0);
		}
	} else if (jl_seg_fd(jl) == -1) {
		log_warn("job %" PRId64 ": log segment", jl->job_id);
		return (0);
	}
	seg = &jl->segs[jl->nsegs - 1];
	room = jl->max_bytes - seg->size - JL_HDR;
	if (n > room)
		n = room;
	memset(&rec, 0, sizeof(rec));
	rec.magic = JOBLOG_MAGIC;
	rec.len = (uint32_t)n;
	rec.time_ms = now_ms();
	rec.run = (uint32_t)jl->run;
	rec.stream = (uint8_t)stream;
	start = seg->size;
	/* Header and bytes in one write. */
	iov[0].iov_base = &rec;
	iov[0].iov_len = sizeof(rec);
	iov[1].iov_base = (void *)(uintptr_t)buf;
	iov[1].iov_len = (size_t)n;
	m = pwritev(jl->seg_fd, iov, 2, start);
	off = m > JL_HDR ? m - JL_HDR : 0;
	if (off == 0 || (off < n && stream >= JOBLOG_REF))
		goto undo;
	if (off < n) {
		rec.len = (uint32_t)off;
		if (pwrite(jl->seg_fd, &rec, sizeof(rec), start) !=
		    (ssize_t)sizeof(rec))
			goto undo;
	}
	/* An empty segment found at start-up has no run yet. */
	if (seg->first_run == 0)
		seg->first_run = jl->run;
	seg->last_run = jl->run;
	seg->size += JL_HDR + off;
	jl_st.total_bytes += JL_HDR + off;
	jl_st.bytes_written += off;
	if (jl_st.total_bytes > jl_conf.max_total && jl_conf.max_total > 0)
		jl_enforce_cap(jl);
	return (off);
undo:
	if (errno == ENOSPC) {
		jl_low = 1;
		jl_low_until = mono_ms() + JL_LOW_RETRY;
	}
	if (ftruncate(jl->seg_fd, start) == -1)
		log_warn("job %" PRId64 ": truncate log segment", jl->job_id);
	return (0);
}

/* Read and discard n bytes of the pipe, counted. */
static void
jl_drop(struct jl_stream *s, int64_t n)
{
	char buf[4096];
	ssize_t m;

	while (n > 0) {
		m = splice(
		    s->fd, NULL, jl_null, NULL, (size_t)n, SPLICE_F_NONBLOCK);
		if (m == -1 && errno == EINVAL)
			m = read(s->fd, buf,
			    n < (int64_t)sizeof(buf) ? (size_t)n : sizeof(buf));
		if (m == -1 && errno == EINTR)
			continue;
		if (m <= 0)
			break;
		n -= m;
		jl_st.bytes_dropped += m;
		if (s->jl->dropped != NULL)
			*s->jl->dropped += m;
	}
}

/*
 * Move up to budget bytes of the stream. An empty pipe that polls
 * readable has no writer left: it is closed (the next run makes new
 * ones).
 */
static void
jl_move(struct jl_stream *s, int64_t budget)
{
	char c;
	const char *p;
	int avail, sz, first = 1;
	int64_t n, done, left;
	ssize_t m;

	for (; budget > 0 && s->fd != -1; first = 0) {
		if (ioctl(s->fd, FIONREAD, &avail) == -1)
			return;
		/* Emptied: done. Empty on the first look: the writers are
		 * gone (EOF), or a spurious wake-up. */
		if (avail == 0 && !first)
			return;
		if (avail == 0) {
			m = read(s->fd, &c, 1);
			if (m == 0) {
				jl_stream_close(s);
				return;
			}
			/* The room was looked at once, here. */
			if (m == 1 &&
			    (jl_short_of_space(1) ||
				jl_store(s->jl, s->which, 1, &c) == 0)) {
				jl_st.bytes_dropped++;
				if (s->jl->dropped != NULL)
					(*s->jl->dropped)++;
			}
			return;
		}
		/* A writer that fills the pipe gets a bigger one. */
		if (!s->big && (sz = fcntl(s->fd, F_GETPIPE_SZ)) > 0 &&
		    avail >= sz / 2) {
			s->big = 1;
			if (sz < JL_PIPE_BIG &&
			    fcntl(s->fd, F_SETPIPE_SZ, JL_PIPE_BIG) == -1)
				log_debug("F_SETPIPE_SZ: %s", strerror(errno));
		}
		n = avail < budget ? avail : budget;
		if (n > (int64_t)sizeof(jl_buf))
			n = (int64_t)sizeof(jl_buf);
		if (jl_dir[0] == '\0' || jl_short_of_space(n)) {
			jl_drop(s, n);
			budget -= n;
			continue;
		}
		/*
		 * read(), then write the file: splice() would hold the
		 * pipe's lock while it writes the file, and the job could
		 * not write the pipe meanwhile (measured: half the speed).
		 */
		if ((m = read(s->fd, jl_buf, (size_t)n)) <= 0)
			return;
		/* Less than m: the segment was full, the rest goes to the
		 * next one; nothing: it cannot be stored, it is dropped. */
		for (p = jl_buf, left = m; left > 0; p += done, left -= done)
			if ((done = jl_store(s->jl, s->which, left, p)) == 0) {
				jl_st.bytes_dropped += left;
				if (s->jl->dropped != NULL)
					*s->jl->dropped += left;
				break;
			}
		budget -= m;
	}
}

static void
jl_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	jl_move(arg, JOBLOG_TURN_MAX);
}

static void
jl_stream_watch(struct jl_stream *s)
{
	s->ev = event_new(jl_base, s->fd, EV_READ | EV_PERSIST, jl_readable, s);
	event_priority_set(s->ev, SCHEDD_PRIO_WORK);
	event_add(s->ev, NULL);
}

/*
 * Direct files (logs.direct). The child appends to them itself; the daemon
 * only looks at their sizes, names what grew in reference records, and
 * punches out what is older than the bound.
 */

/* The direct files' state, made (both closed) at the first call. */
static struct jl_direct *
jl_direct(struct joblog *jl)
{
	if (jl->d == NULL)
		jl->d = xcalloc(1, sizeof(*jl->d));
	return (jl->d);
}

/* Forget the stream's direct file (it stays on disk). */
static void
jl_raw_close(struct joblog *jl, int i)
{
	struct jl_raw *r;

	if (jl->d == NULL || !(r = &jl->d->raw[i])->known)
		return;
	r->known = 0;
	jl_st.direct_bytes -= r->size - r->head;
	r->size = r->head = r->marked = 0;
}

/*
 * Open the stream's direct file for appending, close-on-exec (create:
 * make it), and fill *sb. A file not known yet, or another than the one
 * known, is taken as it is. Returns the fd, or -1 with errno: EOPNOTSUPP
 * where the file system cannot punch holes, which a new file is tried
 * for, since without them it could not be bounded; a known file that is
 * gone is forgotten.
 */
static int
jl_raw_open(struct joblog *jl, int i, int create, struct stat *sb)
{
	char path[PATH_MAX];
	struct jl_raw *r = &jl_direct(jl)->raw[i];
	off_t data;
	int fd, e;

	if (jl_raw_path(jl->job_id, i, path, sizeof(path)) == -1) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = open(path,
		 O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW |
		     (create ? O_CREAT : 0),
		 0640)) == -1) {
		if (errno == ENOENT)
			jl_raw_close(jl, i);
		return (-1);
	}
	if (fstat(fd, sb) == -1 || !S_ISREG(sb->st_mode))
		goto fail;
	if (r->known && r->dev == sb->st_dev && r->ino == sb->st_ino)
		return (fd);
	if (sb->st_size == 0 &&
	    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		JL_BLOCK) == -1) {
		if (create)
			unlink(path);
		goto fail;
	}
	jl_raw_close(jl, i);
	r->known = 1;
	r->dev = sb->st_dev;
	r->ino = sb->st_ino;
	r->size = sb->st_size;
	/* What is left begins where the holes end. */
	if ((data = lseek(fd, 0, SEEK_DATA)) == -1 || data > sb->st_size)
		data = sb->st_size;
	r->head = r->marked = data;
	jl_st.direct_bytes += r->size - r->head;
	return (fd);
fail:
	e = errno;
	close(fd);
	errno = e;
	return (-1);
}

/* Punch out what lies below to, in whole blocks, through fd. 0, or -1. */
static int
jl_raw_punch(struct joblog *jl, struct jl_raw *r, int fd, int64_t to)
{
	to -= to % JL_BLOCK;
	if (to <= r->head)
		return (0);
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, r->head,
		to - r->head) == -1) {
		log_warn("job %" PRId64 ": punching out old direct output",
		    jl->job_id);
		return (-1);
	}
	jl_st.direct_bytes -= to - r->head;
	r->head = to;
	if (r->marked < to)
		r->marked = to;
	return (0);
}

/*
 * Look at the stream's direct file: name what grew since the last look as
 * the current run's (a run of 0, after a restart before the run is known,
 * waits), and keep the file within max_bytes x keep; short of room for
 * the database (drop), punch out all of it, counted as dropped. Returns
 * how much it grew.
 */
static int64_t
jl_raw_mark(struct joblog *jl, int i, int drop)
{
	char path[PATH_MAX];
	struct jl_raw *r;
	struct joblog_ref ref;
	struct stat sb;
	int64_t grew, window, head;
	int fd = -1;

	if (jl->d == NULL || !(r = &jl->d->raw[i])->known ||
	    jl_raw_path(jl->job_id, i, path, sizeof(path)) == -1)
		return (0);
	/* A look is a stat (of a name in the log directory): the file is
	 * opened only to be punched, or when it is another than the one
	 * known (taken as new). */
	if ((jl_dirfd != -1 ? fstatat(jl_dirfd, path + strlen(jl_dir) + 1, &sb,
				  AT_SYMLINK_NOFOLLOW)
			    : lstat(path, &sb)) == -1) {
		if (errno == ENOENT)
			jl_raw_close(jl, i);
		return (0);
	}
	if ((!S_ISREG(sb.st_mode) || r->dev != sb.st_dev ||
		r->ino != sb.st_ino) &&
	    (fd = jl_raw_open(jl, i, 0, &sb)) == -1)
		return (0);
	grew = 0;
	if (sb.st_size < r->size) {
		/* The job cut it short (ftruncate): go on from there. */
		jl_st.direct_bytes -= r->size - r->head;
		if (r->head > sb.st_size)
			r->head = sb.st_size;
		r->size = r->marked = sb.st_size;
		jl_st.direct_bytes += r->size - r->head;
		goto out;
	}
	grew = sb.st_size - r->size;
	jl_st.direct_bytes += grew;
	r->size = sb.st_size;
	while (jl->run > 0 && r->marked < r->size) {
		ref.off = r->marked;
		ref.len = r->size - r->marked;
		if (ref.len > JL_REF_MAX)
			ref.len = JL_REF_MAX;
		/* A record is never split: the next segment if need be. */
		if (jl->seg_live &&
		    jl->segs[jl->nsegs - 1].size + JL_HDR +
			    (int64_t)sizeof(ref) >
			jl->max_bytes &&
		    jl_rotate(jl) == -1)
			break;
		if (jl_store(jl, JOBLOG_REF + i, (int64_t)sizeof(ref),
			(const char *)&ref) != (int64_t)sizeof(ref))
			break;
		/* jl_store counted the record; the output is what it names. */
		jl_st.bytes_written += ref.len - (int64_t)sizeof(ref);
		r->marked += ref.len;
	}
	window = jl->max_bytes * jl->keep;
	if ((r->size - r->head > window || (drop && r->size > r->head)) &&
	    fd == -1 && (fd = jl_raw_open(jl, i, 0, &sb)) == -1)
		goto out;
	if (r->size - r->head > window)
		jl_raw_punch(jl, r, fd, r->size - window);
	head = r->head;
	if (drop && jl_raw_punch(jl, r, fd, r->size) == 0) {
		jl_st.bytes_dropped += r->head - head;
		if (jl->dropped != NULL)
			*jl->dropped += r->head - head;
	}
out:
	if (fd != -1)
		close(fd);
	return (grew);
}

/*
 * Look at both direct files. Short of room for the database, what they
 * hold goes at once and counts as dropped: the job keeps writing, and
 * between two looks it may find the disk full (ENOSPC) itself.
 */
static int64_t
jl_raw_look(struct joblog *jl)
{
	int64_t grew = 0;
	int i;

	for (i = 0; i < 2; i++)
		grew += jl_raw_mark(jl, i, 0);
	if (grew == 0 ||
	    !jl_short_of_space(grew < JL_FREE_EVERY ? grew : JL_FREE_EVERY))
		return (grew);
	for (i = 0; i < 2; i++)
		jl_raw_mark(jl, i, 1);
	return (grew);
}

static void
jl_tick_add(struct joblog *jl)
{
	struct timeval tv;

	tv.tv_sec = jl->d->tick_ms / 1000;
	tv.tv_usec = (jl->d->tick_ms % 1000) * 1000;
	evtimer_add(jl->d->tick, &tv);
}

/* Often while the files grow, seldom while they do not. */
static void
jl_tick(evutil_socket_t fd, short what, void *arg)
{
	struct joblog *jl = arg;

	(void)fd;
	(void)what;
	if (jl_raw_look(jl) > 0)
		jl->d->tick_ms = JL_TICK_MS;
	else if ((jl->d->tick_ms *= 2) > JL_TICK_MAX_MS)
		jl->d->tick_ms = JL_TICK_MAX_MS;
	jl_tick_add(jl);
}

static void
jl_tick_start(struct joblog *jl)
{
	struct jl_direct *d;

	if (jl_base == NULL)
		return;
	d = jl_direct(jl);
	if (d->tick == NULL) {
		d->tick = evtimer_new(jl_base, jl_tick, jl);
		event_priority_set(d->tick, SCHEDD_PRIO_WORK);
	}
	d->tick_ms = JL_TICK_MS;
	jl_tick_add(jl);
}

/* A direct file found at start-up. */
static void
jl_raw_found(struct joblog *jl, int i)
{
	struct stat sb;
	int fd;

	if ((fd = jl_raw_open(jl, i, 0, &sb)) == -1)
		log_warn("job %" PRId64 ": direct output", jl->job_id);
	else
		close(fd);
}

/*
 * After start-up found the job's segments: each direct file is named as
 * far as the newest reference record of its stream says (what a killed
 * daemon had not named yet is named at the next look).
 */
static void
jl_raw_resume(struct joblog *jl)
{
	struct joblog_rec rec;
	struct joblog_ref ref;
	struct jl_raw *r;
	struct stat sb;
	int64_t off, end[2] = {-1, -1}, seg_end[2];
	int i, k, fd, st;

	if (jl->d == NULL || (!jl->d->raw[0].known && !jl->d->raw[1].known))
		return;
	for (k = jl->nsegs - 1; k >= 0 && (end[0] == -1 || end[1] == -1); k--) {
		if ((fd = joblog_segment_open(jl, jl->segs[k].seq)) == -1)
			continue;
		seg_end[0] = seg_end[1] = -1;
		if (fstat(fd, &sb) == 0)
			for (off = 0;
			     joblog_rec_read(fd, off, sb.st_size, &rec) == 1;
			     off += JL_HDR + rec.len) {
				if (rec.stream < JOBLOG_REF)
					continue;
				st = rec.stream - JOBLOG_REF;
				if (pread(fd, &ref, sizeof(ref),
					off + JL_HDR) == (ssize_t)sizeof(ref))
					seg_end[st] = ref.off + ref.len;
			}
		close(fd);
		for (i = 0; i < 2; i++)
			if (end[i] == -1)
				end[i] = seg_end[i];
	}
	for (i = 0; i < 2; i++) {
		r = &jl->d->raw[i];
		if (r->known && end[i] > r->marked)
			r->marked = end[i] < r->size ? end[i] : r->size;
	}
	jl_tick_start(jl);
}

/*
 * A run begins with logs.direct: the two files, made if need be. Returns
 * 0 with the fds, or -1 (the pipes then).
 */
static int
jl_raw_begin(struct joblog *jl, int64_t run, int *out_fd, int *err_fd)
{
	struct stat sb;
	int fds[2] = {-1, -1}, i;

	/* What is left belongs to the run before. */
	joblog_drain(jl);
	for (i = 0; i < 2; i++)
		if ((fds[i] = jl_raw_open(jl, i, 1, &sb)) == -1) {
			log_warn("job %" PRId64 ": direct output, so pipes",
			    jl->job_id);
			if (i == 1)
				close(fds[0]);
			return (-1);
		}
	jl->run = run;
	jl_tick_start(jl);
	*out_fd = fds[0];
	*err_fd = fds[1];
	return (0);
}

void
joblog_set_direct(struct joblog *jl, int on)
{
	jl->direct = on;
}

int
joblog_raw_open(const struct joblog *jl, int stream)
{
	char path[PATH_MAX];

	if (jl_dir[0] == '\0' ||
	    jl_raw_path(jl->job_id, stream, path, sizeof(path)) == -1) {
		errno = ENOENT;
		return (-1);
	}
	return (open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
}

int64_t
joblog_raw_head(const struct joblog *jl, int stream)
{
	return (jl->d != NULL && jl->d->raw[stream].known
		    ? jl->d->raw[stream].head
		    : 0);
}

void
joblog_drain(struct joblog *jl)
{
	int i;

	for (i = 0; i < 2; i++)
		if (jl->s[i].fd != -1)
			jl_move(&jl->s[i], JL_PIPE_BIG);
	jl_raw_look(jl);
}

/* An fd opened read-write on the pipe fd is an end of. */
static int
jl_reopen_rw(int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return (open(path, O_RDWR | O_CLOEXEC));
}

int
joblog_run_begin(
    struct joblog *jl, int64_t run, int *out_fd, int *err_fd, struct serr *err)
{
	int fds[2] = {-1, -1}, p[2], i;
	struct jl_stream *s;

	if (jl_dir[0] == '\0') {
		if ((fds[0] = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1 ||
		    (fds[1] = fcntl(fds[0], F_DUPFD_CLOEXEC, 0)) == -1)
			goto fail;
		*out_fd = fds[0];
		*err_fd = fds[1];
		return (0);
	}
	if (jl->direct && jl_raw_begin(jl, run, out_fd, err_fd) == 0)
		return (0);
	/* What is left belongs to the run before. */
	joblog_drain(jl);
	jl->run = run;
	for (i = 0; i < 2; i++) {
		s = &jl->s[i];
		if (s->fd == -1) {
			if (pipe2(p, O_CLOEXEC) == -1)
				goto fail;
			if (fcntl(p[0], F_SETFL, O_NONBLOCK) == -1) {
				close(p[0]);
				close(p[1]);
				goto fail;
			}
			/* Without /proc (an init without it mounted) the
			 * child gets the write end: it works, but a job
			 * whose schedd died would get EPIPE. */
			if ((fds[i] = jl_reopen_rw(p[1])) == -1)
				fds[i] = p[1];
			else
				close(p[1]);
			s->fd = p[0];
			jl_stream_watch(s);
		} else if ((fds[i] = jl_reopen_rw(s->fd)) == -1) {
			/* No way to the pipe's write end: a new pipe. */
			jl_move(s, JL_PIPE_BIG);
			jl_stream_close(s);
			i--;
			continue;
		}
	}
	*out_fd = fds[0];
	*err_fd = fds[1];
	return (0);
fail:
	serr_set(
	    err, SERR_INTERNAL, NULL, "job output pipe: %s", strerror(errno));
	if (fds[0] != -1)
		close(fds[0]);
	return (-1);
}

#define JL_JOURNAL_STDOUT "/run/systemd/journal/stdout"

/* One stream connection to journald, told who and how loud. */
static int
jl_journal_stream(const char *ident, int priority)
{
	struct sockaddr_un sa;
	char hdr[256];
	int fd, n;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", JL_JOURNAL_STDOUT);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	/* Identifier, unit (none), priority, no level prefix, not to
	 * syslog, kmsg or the console. */
	n = snprintf(
	    hdr, sizeof(hdr), "%s\n\n%d\n0\n0\n0\n0\n", ident, priority);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    shutdown(fd, SHUT_RD) == -1 || n < 0 || n >= (int)sizeof(hdr) ||
	    write(fd, hdr, (size_t)n) != n) {
		close(fd);
		return (-1);
	}
	return (fd);
}

int
joblog_journal_open(const char *ident, int *out_fd, int *err_fd)
{
	int o, e;

	if ((o = jl_journal_stream(ident, 6)) == -1)
		return (-1);
	if ((e = jl_journal_stream(ident, 3)) == -1) {
		close(o);
		return (-1);
	}
	*out_fd = o;
	*err_fd = e;
	return (0);
}

int
joblog_adopt(struct joblog *jl, pid_t pid, int64_t run)
{
	char path[64];
	struct stat sb, first;
	int i, fd, n = 0;

	if (jl_dir[0] == '\0')
		return (0);
	jl->run = run;
	memset(&first, 0, sizeof(first));
	for (i = 0; i < 2; i++) {
		if (jl->s[i].fd != -1) {
			n++;
			continue;
		}
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, i + 1);
		if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
			continue;
		/* Not a pipe (a file of the old layout), or stderr on the
		 * same pipe as stdout: nothing more to read here. */
		if (fstat(fd, &sb) == -1 || !S_ISFIFO(sb.st_mode) ||
		    (i == 1 && sb.st_dev == first.st_dev &&
			sb.st_ino == first.st_ino)) {
			close(fd);
			continue;
		}
		if (i == 0)
			first = sb;
		jl->s[i].fd = fd;
		jl_stream_watch(&jl->s[i]);
		n++;
	}
	return (n);
}

void
joblog_prune_runs(struct joblog *jl, int64_t upto)
{
	if (upto < jl->min_run)
		return;
	jl->min_run = upto + 1;
	while (jl->nsegs > 0 && jl->segs[0].last_run <= upto &&
	       !(jl->nsegs == 1 && jl->seg_live))
		jl_seg_drop_first(jl);
}

int
joblog_segments(const struct joblog *jl, int64_t *first, int64_t *last)
{
	if (jl->nsegs == 0) {
		*first = *last = 0;
		return (0);
	}
	*first = jl->segs[0].seq;
	*last = jl->segs[jl->nsegs - 1].seq;
	return (jl->nsegs);
}

int64_t
joblog_seek_run(const struct joblog *jl, int64_t run)
{
	int i;

	if (jl->nsegs == 0)
		return (0);
	for (i = jl->nsegs - 1; i > 0; i--)
		if (jl->segs[i].first_run > 0 && jl->segs[i].first_run < run)
			break;
	return (jl->segs[i].seq);
}

int
joblog_segment_open(const struct joblog *jl, int64_t seq)
{
	char path[PATH_MAX];

	if (jl_dir[0] == '\0' ||
	    jl_seg_path(jl->job_id, seq, path, sizeof(path)) == -1) {
		errno = ENOENT;
		return (-1);
	}
	return (open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
}

int64_t
joblog_min_run(const struct joblog *jl)
{
	return (jl->min_run);
}

void
joblog_stats(struct joblog_stats *st)
{
	*st = jl_st;
}
