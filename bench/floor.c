/* SPDX-License-Identifier: ISC */
/*
 * The floor reference of issue 18: the least a daemon must do per job to
 * keep schedd's contract over HTTP, and nothing else, so that schedd's
 * create+wait rate can be read as a share of it. Per job it
 *  - parses POST /v1/jobs (a JSON body with argv, through jansson) from
 *    libevent's evhttp on a Unix socket;
 *  - makes the job's cgroups in the hierarchies schedd uses (v1: a job-ID
 *    directory in cpu, cpuacct, memory, pids and freezer beneath the
 *    cgroup this process started in, the cpuset hierarchy's one shared
 *    cgroup, as schedd's shared pool; v2: one job-ID directory) and
 *    removes them on DELETE;
 *  - spawns with the vfork-style clone of daemon/spawn.c (CLONE_VM |
 *    CLONE_VFORK, signals blocked, dispositions reset in the child, a
 *    close-on-exec report pipe), the child joining the cgroups by writing
 *    to the cgroup.procs files opened by the parent; like schedd, the
 *    child shares the fd table (CLONE_FILES) and unshares only the fds
 *    below FLOOR_LOW, where everything but the jobs' pidfds lives, so a
 *    spawn does not copy and close one fd per running job;
 *  - stores the job in one SQLite transaction (WAL, synchronous=NORMAL)
 *    once it runs, and its outcome in one more when it ends;
 *  - reaps through a pidfd watched by the loop and answers
 *    GET /v1/jobs/ID/wait with the exit status.
 * Job output goes to /dev/null (stdout to FLOOR_STDOUT's file, opened once,
 * when that is set: the latency probe's stamps): no logs, no environment, no
 * users, no limits, no events. It speaks just enough of schedd's API for
 * bench/schedd-bench (POST /v1/jobs, GET /v1/jobs/ID[/wait], DELETE
 * /v1/jobs/ID) and bench/bench.py (GET /v1/health) to drive it unchanged.
 *
 * usage: floor SOCKET STATE_DIR   (prints "ready"; SIGTERM ends it)
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <sqlite3.h>
#ifdef HAVE_LINUX_CLOSE_RANGE_H
#include <linux/close_range.h>
#endif

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define MAXHIER 8
/* The jobs' pidfds are moved to FLOOR_LOW and above; the child copies only
 * the fds below (RLIMIT_NOFILE must leave room above it). */
#define FLOOR_LOW 1024

struct waiter {
	struct evhttp_request *req;
	struct waiter *next;
};

struct job {
	long id;
	pid_t pid;
	int pidfd;
	int exited; /* 0 running, 1 exited */
	int code;   /* exit code, or -1 */
	int sig;    /* terminating signal, or 0 */
	struct event *ev;
	struct waiter *waiters;
};

static struct event_base *base;
static sqlite3 *db;
static sqlite3_stmt *st_insert, *st_exit, *st_delete;
static struct job **jobs; /* by id; ids start at 1 */
static long njobs, capjobs;

/* The job cgroups' parents, one per hierarchy, and where jobs join the
 * cpuset hierarchy (its shared cgroup) on v1. */
static char hier[MAXHIER][PATH_MAX];
static int nhier;
static char cpuset_shared[PATH_MAX];
static char cpuset_sub[PATH_MAX];
static char spawn_stack[64 * 1024] __attribute__((aligned(16)));
static int out_fd = -1; /* FLOOR_STDOUT, or -1: /dev/null */
static int share_fds;   /* CLONE_FILES (not under valgrind) */

static void
die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* snprintf into a path buffer; a path that does not fit is fatal. */
static void __attribute__((format(printf, 3, 4)))
pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		die(fmt);
	}
}

static int
write_file(const char *dir, const char *file, const char *s)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	pathf(path, sizeof(path), "%s/%s", dir, file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = write(fd, s, strlen(s));
	close(fd);
	return (n == (ssize_t)strlen(s) ? 0 : -1);
}

static int
copy_file(const char *from, const char *to, const char *file)
{
	char path[PATH_MAX], buf[4096];
	ssize_t n;
	int fd;

	pathf(path, sizeof(path), "%s/%s", from, file);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	return (write_file(to, file, buf));
}

/* The mount point of the v1 hierarchy holding controller ctl. */
static int
v1_mount(const char *ctl, char *buf, size_t len)
{
	char dev[256], mnt[PATH_MAX], type[64], opts[1024], *o, *save;
	FILE *f;
	int found = 0;

	if ((f = fopen("/proc/self/mounts", "re")) == NULL)
		return (-1);
	while (!found && fscanf(f, "%255s %4095s %63s %1023s %*d %*d", dev, mnt,
			     type, opts) == 4) {
		if (strcmp(type, "cgroup") != 0)
			continue;
		for (o = strtok_r(opts, ",", &save); o != NULL;
		     o = strtok_r(NULL, ",", &save))
			if (strcmp(o, ctl) == 0) {
				pathf(buf, len, "%s", mnt);
				found = 1;
				break;
			}
	}
	fclose(f);
	return (found ? 0 : -1);
}

/* Our own cgroup in the hierarchy of controller ctl ("" for v2). */
static int
own_cgroup(const char *ctl, char *buf, size_t len)
{
	char line[PATH_MAX + 256], *list, *path, *c, *save;
	FILE *f;
	int found = 0;

	if ((f = fopen("/proc/self/cgroup", "re")) == NULL)
		return (-1);
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((list = strchr(line, ':')) == NULL ||
		    (path = strchr(++list, ':')) == NULL)
			continue;
		*path++ = '\0';
		if (*ctl == '\0') {
			if (*list == '\0') {
				pathf(buf, len, "%s", path);
				found = 1;
			}
			continue;
		}
		for (c = strtok_r(list, ",", &save); c != NULL;
		     c = strtok_r(NULL, ",", &save))
			if (strcmp(c, ctl) == 0) {
				pathf(buf, len, "%s", path);
				found = 1;
				break;
			}
	}
	fclose(f);
	return (found ? 0 : -1);
}

static void
cgroups_init(void)
{
	static const char *const ctls[] = {
	    "cpu", "cpuacct", "memory", "pids", "freezer"};
	char mnt[PATH_MAX], own[PATH_MAX], dir[PATH_MAX];
	struct statfs sf;
	size_t i;
	int j;

	if (statfs("/sys/fs/cgroup", &sf) == 0 &&
	    (unsigned long)sf.f_type == CGROUP2_SUPER_MAGIC) {
		if (own_cgroup("", own, sizeof(own)) == -1)
			die("/proc/self/cgroup");
		pathf(hier[0], sizeof(hier[0]), "/sys/fs/cgroup%s/floor-%d",
		    strcmp(own, "/") == 0 ? "" : own, (int)getpid());
		if (mkdir(hier[0], 0755) == -1)
			die(hier[0]);
		nhier = 1;
		return;
	}
	for (i = 0; i < sizeof(ctls) / sizeof(ctls[0]); i++) {
		if (v1_mount(ctls[i], mnt, sizeof(mnt)) == -1 ||
		    own_cgroup(ctls[i], own, sizeof(own)) == -1)
			continue;
		pathf(dir, sizeof(dir), "%s%s/floor-%d", mnt,
		    strcmp(own, "/") == 0 ? "" : own, (int)getpid());
		for (j = 0; j < nhier && strcmp(hier[j], dir) != 0; j++)
			;
		if (j < nhier)
			continue; /* co-mounted */
		if (mkdir(dir, 0755) == -1)
			die(dir);
		pathf(hier[nhier++], sizeof(hier[0]), "%s", dir);
	}
	if (v1_mount("cpuset", mnt, sizeof(mnt)) == 0 &&
	    own_cgroup("cpuset", own, sizeof(own)) == 0) {
		pathf(dir, sizeof(dir), "%s%s", mnt,
		    strcmp(own, "/") == 0 ? "" : own);
		pathf(cpuset_sub, sizeof(cpuset_sub), "%s/floor-%d", dir,
		    (int)getpid());
		pathf(cpuset_shared, sizeof(cpuset_shared), "%s/shared",
		    cpuset_sub);
		if (mkdir(cpuset_sub, 0755) == -1 ||
		    copy_file(dir, cpuset_sub, "cpuset.cpus") == -1 ||
		    copy_file(dir, cpuset_sub, "cpuset.mems") == -1 ||
		    mkdir(cpuset_shared, 0755) == -1 ||
		    copy_file(cpuset_sub, cpuset_shared, "cpuset.cpus") == -1 ||
		    copy_file(cpuset_sub, cpuset_shared, "cpuset.mems") == -1)
			die(cpuset_shared);
	}
	if (nhier == 0)
		die("no cgroup hierarchy");
}

static void
cgroups_fini(void)
{
	int i;

	for (i = 0; i < nhier; i++)
		rmdir(hier[i]);
	if (cpuset_shared[0] != '\0') {
		rmdir(cpuset_shared);
		rmdir(cpuset_sub);
	}
}

/* mkdir the job's cgroups and open their cgroup.procs; the count of fds. */
static int
cgroups_create(long id, int *fds)
{
	char path[PATH_MAX];
	int i, n = 0;

	for (i = 0; i < nhier; i++) {
		pathf(path, sizeof(path), "%s/job-%ld", hier[i], id);
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			goto fail;
		pathf(
		    path, sizeof(path), "%s/job-%ld/cgroup.procs", hier[i], id);
		if ((fds[n] = open(path, O_WRONLY | O_CLOEXEC)) == -1)
			goto fail;
		n++;
	}
	if (cpuset_shared[0] != '\0') {
		pathf(path, sizeof(path), "%s/cgroup.procs", cpuset_shared);
		if ((fds[n] = open(path, O_WRONLY | O_CLOEXEC)) == -1)
			goto fail;
		n++;
	}
	return (n);
fail:
	while (n > 0)
		close(fds[--n]);
	return (-1);
}

static void
cgroups_destroy(long id)
{
	char path[PATH_MAX];
	int i;

	for (i = 0; i < nhier; i++) {
		pathf(path, sizeof(path), "%s/job-%ld", hier[i], id);
		rmdir(path);
	}
}

/* Spawn: daemon/spawn.c's clone, with only the steps this job needs. */

struct child {
	char **argv;
	int *fds, nfds;
	int pipe_w, devnull;
	sigset_t mask;
};

static void
child_fail(const struct child *c)
{
	int e = errno;

	while (write(c->pipe_w, &e, sizeof(e)) == -1 && errno == EINTR)
		;
	_exit(127);
}

static int
child_main(void *arg)
{
	const struct child *c = arg;
	struct sigaction sa;
	int sig, i;

	/* Our own copy of the low fds, as daemon/spawn.c's child does. */
	if (share_fds &&
	    syscall(SYS_close_range, FLOOR_LOW, ~0U, CLOSE_RANGE_UNSHARE) ==
		-1 &&
	    syscall(SYS_unshare, CLONE_FILES) == -1)
		child_fail(c);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	if (setsid() == -1)
		child_fail(c);
	for (i = 0; i < c->nfds; i++)
		if (write(c->fds[i], "0\n", 2) != 2)
			child_fail(c);
	if (dup2(c->devnull, 0) == -1 ||
	    dup2(out_fd != -1 ? out_fd : c->devnull, 1) == -1 ||
	    dup2(c->devnull, 2) == -1)
		child_fail(c);
	if (chdir("/") == -1)
		child_fail(c);
	sigprocmask(SIG_SETMASK, &c->mask, NULL);
	execve(c->argv[0], c->argv, (char *[]){NULL});
	child_fail(c);
	return (127);
}

static pid_t
spawn(char **argv, int *fds, int nfds)
{
	struct child c;
	sigset_t all;
	int pfd[2], e;
	pid_t pid;
	ssize_t n;

	memset(&c, 0, sizeof(c));
	c.argv = argv;
	c.fds = fds;
	c.nfds = nfds;
	if (pipe2(pfd, O_CLOEXEC) == -1)
		return (-1);
	if ((c.devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1) {
		close(pfd[0]);
		close(pfd[1]);
		return (-1);
	}
	c.pipe_w = pfd[1];
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &c.mask);
	pid = clone(child_main, spawn_stack + sizeof(spawn_stack),
	    CLONE_VM | CLONE_VFORK | (share_fds ? CLONE_FILES : 0) | SIGCHLD,
	    &c);
	sigprocmask(SIG_SETMASK, &c.mask, NULL);
	close(pfd[1]);
	close(c.devnull);
	if (pid != -1) {
		do
			n = read(pfd[0], &e, sizeof(e));
		while (n == -1 && errno == EINTR);
		if (n == (ssize_t)sizeof(e)) {
			waitpid(pid, NULL, 0);
			pid = -1;
			errno = e;
		}
	}
	close(pfd[0]);
	return (pid);
}

/* Store */

static void
db_exec(const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "floor: %s: %s\n", sql, msg);
		exit(1);
	}
}

static void
db_prepare(const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		fprintf(stderr, "floor: %s: %s\n", sql, sqlite3_errmsg(db));
		exit(1);
	}
}

/* One statement, one transaction (autocommit). */
static int
db_step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "floor: sqlite: %s\n", sqlite3_errmsg(db));
		return (-1);
	}
	return (0);
}

static void
db_open(const char *dir)
{
	char path[PATH_MAX];

	pathf(path, sizeof(path), "%s/floor.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		die(path);
	db_exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		"CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, "
		"argv TEXT NOT NULL, state TEXT NOT NULL, pid INTEGER, "
		"exit_code INTEGER, signal INTEGER, started_ms INTEGER, "
		"exited_ms INTEGER);");
	db_prepare("INSERT INTO jobs (id, argv, state, pid, started_ms) "
		   "VALUES (?, ?, 'running', ?, ?)",
	    &st_insert);
	db_prepare("UPDATE jobs SET state = 'exited', exit_code = ?, "
		   "signal = ?, exited_ms = ? WHERE id = ?",
	    &st_exit);
	db_prepare("DELETE FROM jobs WHERE id = ?", &st_delete);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* HTTP */

static void
reply(struct evhttp_request *req, int code, const char *body)
{
	struct evbuffer *b = evhttp_request_get_output_buffer(req);

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evbuffer_add(b, body, strlen(body));
	evhttp_send_reply(req, code, code < 300 ? "OK" : "Error", NULL);
}

static void
reply_job(struct evhttp_request *req, int code, const struct job *j)
{
	char body[256];

	if (j->exited)
		snprintf(body, sizeof(body),
		    "{\"id\":%ld,\"state\":\"exited\",\"pid\":%d,"
		    "\"exit_code\":%d,\"signal\":%d}",
		    j->id, (int)j->pid, j->code, j->sig);
	else
		snprintf(body, sizeof(body),
		    "{\"id\":%ld,\"state\":\"running\",\"pid\":%d}", j->id,
		    (int)j->pid);
	reply(req, code, body);
}

static void
job_exited(struct job *j, const siginfo_t *si)
{
	struct waiter *w;

	j->exited = 1;
	j->code = si->si_code == CLD_EXITED ? si->si_status : -1;
	j->sig = si->si_code == CLD_EXITED ? 0 : si->si_status;
	if (j->ev != NULL)
		event_free(j->ev);
	j->ev = NULL;
	if (j->pidfd != -1)
		close(j->pidfd);
	j->pidfd = -1;
	sqlite3_bind_int(st_exit, 1, j->code);
	sqlite3_bind_int(st_exit, 2, j->sig);
	sqlite3_bind_int64(st_exit, 3, now_ms());
	sqlite3_bind_int64(st_exit, 4, j->id);
	db_step(st_exit);
	while ((w = j->waiters) != NULL) {
		j->waiters = w->next;
		reply_job(w->req, 200, j);
		free(w);
	}
}

static void
on_exit_(evutil_socket_t fd, short what, void *arg)
{
	siginfo_t si;

	(void)what;
	memset(&si, 0, sizeof(si));
	if (syscall(SYS_waitid, P_PIDFD, fd, &si, WEXITED, NULL) == -1)
		return;
	job_exited(arg, &si);
}

/* Without pidfds only: reap every exited child and find its job. */
static void
on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	siginfo_t si;
	long i;

	(void)sig;
	(void)what;
	(void)arg;
	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) == -1 ||
		    si.si_pid == 0)
			return;
		for (i = njobs; i >= 1; i--)
			if (jobs[i] != NULL && !jobs[i]->exited &&
			    jobs[i]->pid == si.si_pid) {
				job_exited(jobs[i], &si);
				break;
			}
	}
}

static void
post_job(struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	json_t *root, *av, *v;
	json_error_t jerr;
	struct job *j;
	char **argv = NULL, *text;
	size_t len, i, n;
	int fds[MAXHIER + 1], nfds, fd;
	long id;

	len = evbuffer_get_length(in);
	root = json_loadb((const char *)evbuffer_pullup(in, -1), len, 0, &jerr);
	if (root == NULL || (av = json_object_get(root, "argv")) == NULL ||
	    !json_is_array(av) || (n = json_array_size(av)) == 0) {
		json_decref(root);
		reply(req, 400, "{\"error\":\"argv\"}");
		return;
	}
	argv = calloc(n + 1, sizeof(*argv));
	json_array_foreach (av, i, v) {
		if (!json_is_string(v)) {
			free(argv);
			json_decref(root);
			reply(req, 400, "{\"error\":\"argv\"}");
			return;
		}
		argv[i] = (char *)json_string_value(v);
	}
	if (njobs + 1 >= capjobs) {
		capjobs = capjobs ? capjobs * 2 : 1024;
		jobs = realloc(jobs, (size_t)capjobs * sizeof(*jobs));
	}
	id = ++njobs;
	j = calloc(1, sizeof(*j));
	j->id = id;
	j->pidfd = -1;
	jobs[id] = j;
	if ((nfds = cgroups_create(id, fds)) == -1) {
		cgroups_destroy(id);
		free(j);
		jobs[id] = NULL;
		reply(req, 500, "{\"error\":\"cgroup\"}");
		goto out;
	}
	j->pid = spawn(argv, fds, nfds);
	while (nfds > 0)
		close(fds[--nfds]);
	if (j->pid == -1) {
		cgroups_destroy(id);
		free(j);
		jobs[id] = NULL;
		reply(req, 422, "{\"error\":\"spawn\"}");
		goto out;
	}
	if ((j->pidfd = (int)syscall(SYS_pidfd_open, j->pid, 0)) != -1) {
		/* Where RLIMIT_NOFILE leaves no room above FLOOR_LOW, the
		 * pidfd stays low and children copy it. */
		if (share_fds && j->pidfd < FLOOR_LOW &&
		    (fd = fcntl(j->pidfd, F_DUPFD_CLOEXEC, FLOOR_LOW)) != -1) {
			close(j->pidfd);
			j->pidfd = fd;
		}
		j->ev = event_new(base, j->pidfd, EV_READ, on_exit_, j);
		event_add(j->ev, NULL);
	} else if (errno != ENOSYS)
		die("pidfd_open");
	/* else valgrind (no pidfd_open): on_sigchld reaps it, as schedd's
	 * reaper does then. */
	text = json_dumps(av, JSON_COMPACT);
	sqlite3_bind_int64(st_insert, 1, id);
	sqlite3_bind_text(st_insert, 2, text, -1, free);
	sqlite3_bind_int(st_insert, 3, (int)j->pid);
	sqlite3_bind_int64(st_insert, 4, now_ms());
	if (db_step(st_insert) == -1) {
		reply(req, 500, "{\"error\":\"store\"}");
		goto out;
	}
	reply_job(req, 201, j);
out:
	free(argv);
	json_decref(root);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	const char *uri = evhttp_request_get_uri(req), *p;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct waiter *w;
	struct job *j;
	char *end;
	long id;

	(void)arg;
	if (strcmp(uri, "/v1/health") == 0) {
		reply(req, 200, "{\"status\":\"ok\"}");
		return;
	}
	if (strcmp(uri, "/v1/jobs") == 0 && cmd == EVHTTP_REQ_POST) {
		post_job(req);
		return;
	}
	if (strncmp(uri, "/v1/jobs/", 9) != 0) {
		reply(req, 404, "{\"error\":\"not found\"}");
		return;
	}
	id = strtol(uri + 9, &end, 10);
	if (end == uri + 9 || id < 1 || id > njobs || jobs[id] == NULL) {
		reply(req, 404, "{\"error\":\"no such job\"}");
		return;
	}
	j = jobs[id];
	p = end;
	if (strcmp(p, "/wait") == 0 && cmd == EVHTTP_REQ_GET) {
		if (j->exited) {
			reply_job(req, 200, j);
			return;
		}
		w = malloc(sizeof(*w));
		w->req = req;
		w->next = j->waiters;
		j->waiters = w;
		return;
	}
	if (*p != '\0') {
		reply(req, 404, "{\"error\":\"not found\"}");
		return;
	}
	if (cmd == EVHTTP_REQ_GET) {
		reply_job(req, 200, j);
		return;
	}
	if (cmd != EVHTTP_REQ_DELETE) {
		reply(req, 405, "{\"error\":\"method\"}");
		return;
	}
	if (!j->exited) {
		reply(req, 409, "{\"error\":\"running\"}");
		return;
	}
	cgroups_destroy(id);
	sqlite3_bind_int64(st_delete, 1, id);
	db_step(st_delete);
	free(j);
	jobs[id] = NULL;
	reply(req, 200, "{}");
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

int
main(int argc, char **argv)
{
	struct evhttp *http;
	struct event *sigterm, *sigint, *sigchld;
	struct sockaddr_un sun;
	long i;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: floor SOCKET STATE_DIR\n");
		return (2);
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "floor: socket path too long\n");
		return (1);
	}
	memcpy(sun.sun_path, argv[1], strlen(argv[1]) + 1);
	unlink(sun.sun_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 128) == -1)
		die("socket");
	/* Valgrind (its vgpreload_*.so preloaded) runs the CLONE_VM |
	 * CLONE_VFORK clone as a fork but aborts on CLONE_FILES. */
	share_fds = getenv("LD_PRELOAD") == NULL ||
		    strstr(getenv("LD_PRELOAD"), "vgpreload") == NULL;
	if (getenv("FLOOR_STDOUT") != NULL &&
	    (out_fd = open(getenv("FLOOR_STDOUT"),
		 O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) == -1)
		die("FLOOR_STDOUT");
	db_open(argv[2]);
	cgroups_init();
	base = event_base_new();
	http = evhttp_new(base);
	evhttp_set_allowed_methods(
	    http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(http, on_request, NULL);
	if (evhttp_accept_socket_with_handle(http, fd) == NULL)
		die("evhttp_accept_socket");
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	/* SIGCHLD only where pidfd_open(2) is missing (under valgrind). */
	sigchld = evsignal_new(base, SIGCHLD, on_sigchld, NULL);
	if ((fd = (int)syscall(SYS_pidfd_open, getpid(), 0)) != -1)
		close(fd);
	else if (errno == ENOSYS)
		evsignal_add(sigchld, NULL);
	printf("ready\n");
	fflush(stdout);
	event_base_dispatch(base);

	/* Running jobs are killed and reaped so their cgroups can go. */
	for (i = 1; i <= njobs; i++) {
		if (jobs[i] == NULL)
			continue;
		/* Only a job we spawned: never kill(-1) or kill(0). */
		if (!jobs[i]->exited && jobs[i]->pid > 0) {
			kill(jobs[i]->pid, SIGKILL);
			waitpid(jobs[i]->pid, NULL, 0);
			if (jobs[i]->pidfd != -1)
				close(jobs[i]->pidfd);
			if (jobs[i]->ev != NULL)
				event_free(jobs[i]->ev);
		}
		cgroups_destroy(i);
		free(jobs[i]);
	}
	free(jobs);
	cgroups_fini();
	event_free(sigterm);
	event_free(sigint);
	event_free(sigchld);
	evhttp_free(http);
	event_base_free(base);
	sqlite3_finalize(st_insert);
	sqlite3_finalize(st_exit);
	sqlite3_finalize(st_delete);
	sqlite3_close(db);
	unlink(sun.sun_path);
	return (0);
}
