/* SPDX-License-Identifier: ISC */
/*
 * The integration harness (see harness.h for the contracts). It owns one
 * test's daemon, its temporary directory and cgroup subtree, every process
 * that comes back to it as a child subreaper, and every value it hands to a
 * test. It must never signal a process that is not descended from it: it
 * kills by pid only, and only pids whose parent is the harness itself (an
 * orphan that came back to it) or that sit in the cgroups it created for
 * the daemon. The signal handlers run the same cleanup as teardown; they
 * call functions that are not async-signal-safe, which is acceptable for a
 * test program that is about to _exit anyway.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "tests/integration/harness.h"
#include "tests/integration/harness-int.h"

#define H_MAXPIDS          512
#define H_NCG              7
#define H_LOG_TAIL         (96 * 1024)
#define H_START_TIMEOUT_MS 10000
#define H_STOP_TIMEOUT_MS  10000
#define H_ALARM_S          120
#define H_MAXOWN           64
#define H_MAXDEFER         16
#define H_MAXARGS          32

/* The harness's private state: one test at a time. */
static struct {
	struct h world;
	struct h *active;   /* &world while a test is set up */
	const char *schedd; /* $SCHEDD */
	void **ptrs;        /* kept malloc'd blocks */
	size_t nptrs, capptrs;
	json_t *jsons;         /* kept JSON values */
	pid_t pids[H_MAXPIDS]; /* job pids learned from answers */
	int npids;
	char cg[H_NCG][H_PATH_MAX]; /* cgroups made for the daemon */
	int ncg;
	int cg_seq;
	int nrun, nskipped;
	volatile sig_atomic_t in_cleanup;
	pid_t own[H_MAXOWN]; /* children the harness forked itself */
	int nown;
	struct {
		void (*fn)(void *);
		void *arg;
	} defer[H_MAXDEFER]; /* h_defer, run last first */
	int ndefer;
	pthread_t reaper;   /* h_reap_orphans's thread */
	int reaping;        /* it runs */
	int reaper_pipe[2]; /* SIGCHLD wakes it through this */
	volatile sig_atomic_t reaper_stop;
	struct sigaction old_chld;
} hp = {.reaper_pipe = {-1, -1}};

/*
 * Held around fork() and around the orphan reaper's rounds: the reaper
 * never reaps a child the harness forked (it is in hp.own before the lock
 * is released), and a forked child never inherits a malloc lock the reaper
 * held in the middle of reading /proc.
 */
static pthread_mutex_t h_fork_lock = PTHREAD_MUTEX_INITIALIZER;

static int h_cleanup(struct h *h);

/* ---------------------------------------------------------------- misc */

int64_t
h_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void
h_sleep_ms(int ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

void
h_pathf(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, "harness: path too long: %s\n", dst);
		abort();
	}
}

void *
h_keep(struct h *h, void *p)
{
	void **n;

	(void)h;
	if (p == NULL)
		return (NULL);
	if (hp.nptrs == hp.capptrs) {
		hp.capptrs = hp.capptrs ? hp.capptrs * 2 : 64;
		n = realloc(hp.ptrs, hp.capptrs * sizeof(*n));
		if (n == NULL)
			abort();
		hp.ptrs = n;
	}
	hp.ptrs[hp.nptrs++] = p;
	return (p);
}

json_t *
h_keep_json(struct h *h, json_t *j)
{
	(void)h;
	if (j == NULL)
		return (NULL);
	if (hp.jsons == NULL)
		hp.jsons = json_array();
	json_array_append_new(hp.jsons, j);
	return (j);
}

static void
h_release(void)
{
	size_t i;

	for (i = 0; i < hp.nptrs; i++)
		free(hp.ptrs[i]);
	free(hp.ptrs);
	hp.ptrs = NULL;
	hp.nptrs = hp.capptrs = 0;
	json_decref(hp.jsons);
	hp.jsons = NULL;
}

const char *
h_fmt(struct h *h, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		abort();
	va_end(ap);
	return (h_keep(h, s));
}

void
h_buf_add(struct h_buf *b, const void *p, size_t n)
{
	char *np;

	if (b->len + n + 1 > b->cap) {
		b->cap = b->cap ? b->cap : 4096;
		while (b->len + n + 1 > b->cap)
			b->cap *= 2;
		if ((np = realloc(b->p, b->cap)) == NULL)
			abort();
		b->p = np;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

char *
h_buf_steal(struct h_buf *b)
{
	char *p = b->p;

	if (p == NULL)
		p = strdup("");
	b->p = NULL;
	b->len = b->cap = 0;
	return (p);
}

static int
h_write_file(const char *path, const char *text)
{
	int fd, rc = -1;
	size_t len = strlen(text);

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return (-1);
	if (write(fd, text, len) == (ssize_t)len)
		rc = 0;
	close(fd);
	return (rc);
}

char *
h_read_file(const char *path, size_t *lenp)
{
	struct h_buf b = {0};
	char tmp[8192];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (NULL);
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		h_buf_add(&b, tmp, (size_t)n);
	close(fd);
	if (lenp != NULL)
		*lenp = b.len;
	return (h_buf_steal(&b));
}

int
h_is_time(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	size_t i;

	if (s == NULL || strlen(s) != sizeof(pat) - 1)
		return (0);
	for (i = 0; i < sizeof(pat) - 1; i++) {
		if (pat[i] == 'd' ? !isdigit((unsigned char)s[i])
				  : s[i] != pat[i])
			return (0);
	}
	return (1);
}

void
h_learn_pid(struct h *h, pid_t pid)
{
	int i;

	(void)h;
	if (pid <= 1)
		return;
	for (i = 0; i < hp.npids; i++)
		if (hp.pids[i] == pid)
			return;
	if (hp.npids < H_MAXPIDS)
		hp.pids[hp.npids++] = pid;
}

/* ----------------------------------------------------------------- proc */

int
h_proc(pid_t pid, struct h_proc *p)
{
	char path[64], buf[1024], *open_, *close_;
	ssize_t n;
	int fd, ppid, pgid, sid;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: it ends at the last ')'. */
	open_ = strchr(buf, '(');
	close_ = strrchr(buf, ')');
	if (open_ == NULL || close_ == NULL || close_ < open_)
		return (-1);
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	snprintf(p->comm, sizeof(p->comm), "%.*s", (int)(close_ - open_ - 1),
	    open_ + 1);
	if (sscanf(close_ + 1, " %c %d %d %d", &p->state, &ppid, &pgid, &sid) !=
	    4)
		return (-1);
	p->ppid = ppid;
	p->pgid = pgid;
	p->sid = sid;
	return (0);
}

int
h_pid_gone(pid_t pid)
{
	/* kill(pid, 0) succeeds on a zombie: gone means reaped too. */
	return (kill(pid, 0) == -1 && errno == ESRCH);
}

int
h_wait_gone(pid_t pid, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;

	while (!h_pid_gone(pid)) {
		if (h_now_ms() > deadline)
			return (0);
		h_sleep_ms(10);
	}
	return (1);
}

/* Calls fn for every process in /proc; stops when fn returns non-zero. */
static int
h_proc_each(int (*fn)(const struct h_proc *, void *), void *arg)
{
	struct h_proc p;
	struct dirent *de;
	DIR *d;
	char *end;
	long pid;
	int rc = 0;

	if ((d = opendir("/proc")) == NULL)
		return (0);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		if (h_proc((pid_t)pid, &p) == 0)
			rc = fn(&p, arg);
	}
	closedir(d);
	return (rc);
}

struct h_match {
	pid_t ppid;
	const char *comm;
	int count;
	pid_t found;
};

static int
h_match_zombie(const struct h_proc *p, void *arg)
{
	struct h_match *m = arg;

	if (p->ppid == m->ppid && p->state == 'Z')
		m->count++;
	return (0);
}

static int
h_match_child(const struct h_proc *p, void *arg)
{
	struct h_match *m = arg;

	if (p->ppid == m->ppid &&
	    (m->comm == NULL || strcmp(p->comm, m->comm) == 0)) {
		m->found = p->pid;
		return (1);
	}
	return (0);
}

int
h_zombies(pid_t ppid)
{
	struct h_match m = {ppid, NULL, 0, 0};

	h_proc_each(h_match_zombie, &m);
	return (m.count);
}

pid_t
h_child_of(pid_t ppid, const char *comm, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	struct h_match m = {ppid, comm, 0, 0};

	for (;;) {
		if (h_proc_each(h_match_child, &m))
			return (m.found);
		if (h_now_ms() > deadline)
			return (0);
		h_sleep_ms(10);
	}
}

/* ------------------------------------------------- children and orphans */

/* fork(), recording the child as ours before anyone can reap it. */
static pid_t
h_fork_own(void)
{
	pid_t pid;

	pthread_mutex_lock(&h_fork_lock);
	pid = fork();
	if (pid > 0 && hp.nown < H_MAXOWN)
		hp.own[hp.nown++] = pid;
	if (pid != 0)
		pthread_mutex_unlock(&h_fork_lock);
	return (pid);
}

/* The harness waited for pid itself: forget it. */
static void
h_own_forget(pid_t pid)
{
	int i;

	pthread_mutex_lock(&h_fork_lock);
	for (i = 0; i < hp.nown; i++) {
		if (hp.own[i] == pid) {
			hp.own[i] = hp.own[--hp.nown];
			break;
		}
	}
	pthread_mutex_unlock(&h_fork_lock);
}

static int
h_is_own(pid_t pid)
{
	int i;

	for (i = 0; i < hp.nown; i++)
		if (hp.own[i] == pid)
			return (1);
	return (0);
}

static int
h_reap_one(const struct h_proc *p, void *arg)
{
	pid_t self = *(pid_t *)arg;

	if (p->ppid == self && p->state == 'Z' && !h_is_own(p->pid))
		(void)waitpid(p->pid, NULL, WNOHANG);
	return (0);
}

static void
h_on_chld(int sig)
{
	int saved = errno;

	(void)sig;
	if (hp.reaper_pipe[1] != -1)
		(void)!write(hp.reaper_pipe[1], "", 1);
	errno = saved;
}

/*
 * The orphan reaper: woken by SIGCHLD (through the pipe), and every 250 ms
 * in case a wake-up was lost, it collects every zombie child that is not
 * one of ours. Signals are blocked here, so they reach the main thread.
 */
static void *
h_reaper_main(void *arg)
{
	struct pollfd pfd;
	pid_t self = getpid();
	char buf[64];
	sigset_t all;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pfd.fd = hp.reaper_pipe[0];
	pfd.events = POLLIN;
	while (!hp.reaper_stop) {
		pthread_mutex_lock(&h_fork_lock);
		h_proc_each(h_reap_one, &self);
		pthread_mutex_unlock(&h_fork_lock);
		if (poll(&pfd, 1, 250) > 0)
			while (read(pfd.fd, buf, sizeof(buf)) > 0)
				;
	}
	return (NULL);
}

void
h_reap_orphans(struct h *h)
{
	struct sigaction sa;

	(void)h;
	if (hp.reaping)
		return;
	if (pipe2(hp.reaper_pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		fail_msg("pipe2: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h_on_chld;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, &hp.old_chld);
	hp.reaper_stop = 0;
	if ((errno = pthread_create(&hp.reaper, NULL, h_reaper_main, NULL)) !=
	    0)
		fail_msg("pthread_create: %s", strerror(errno));
	hp.reaping = 1;
}

static void
h_reaper_end(void)
{
	struct timespec ts;

	if (hp.reaping) {
		hp.reaper_stop = 1;
		(void)!write(hp.reaper_pipe[1], "", 1);
		/* Bounded: a signal may have come while fork held the lock. */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 2;
		if (!pthread_equal(pthread_self(), hp.reaper) &&
		    pthread_timedjoin_np(hp.reaper, NULL, &ts) != 0)
			fprintf(stderr, "harness: the orphan reaper hangs\n");
		sigaction(SIGCHLD, &hp.old_chld, NULL);
		hp.reaping = 0;
	}
	if (hp.reaper_pipe[0] != -1) {
		close(hp.reaper_pipe[0]);
		close(hp.reaper_pipe[1]);
		hp.reaper_pipe[0] = hp.reaper_pipe[1] = -1;
	}
}

void
h_defer(struct h *h, void (*fn)(void *), void *arg)
{
	(void)h;
	if (hp.ndefer == H_MAXDEFER)
		fail_msg("h_defer: more than %d", H_MAXDEFER);
	hp.defer[hp.ndefer].fn = fn;
	hp.defer[hp.ndefer].arg = arg;
	hp.ndefer++;
}

/* ------------------------------------------------------------- cgroups */

/* The hierarchies the daemon uses; "unified" is the v2 mount. */
static const char *const h_cg_ctrls[H_NCG] = {
    "cpu", "cpuacct", "cpuset", "memory", "pids", "freezer", "unified"};

/* Our own path in the hierarchy mounted at /sys/fs/cgroup/ctrl. */
static int
h_cg_self(const char *ctrl, char *out, size_t outlen)
{
	char *text, *line, *save = NULL, *c1, *c2, *tok, *save2;
	int rc = -1;

	if ((text = h_read_file("/proc/self/cgroup", NULL)) == NULL)
		return (-1);
	for (line = strtok_r(text, "\n", &save); line && rc == -1;
	     line = strtok_r(NULL, "\n", &save)) {
		if ((c1 = strchr(line, ':')) == NULL ||
		    (c2 = strchr(c1 + 1, ':')) == NULL)
			continue;
		*c2 = '\0';
		if (strcmp(ctrl, "unified") == 0) {
			if (strcmp(line, "0:") == 0 && c1[1] == '\0') {
				snprintf(out, outlen, "%s", c2 + 1);
				rc = 0;
			}
			continue;
		}
		for (tok = strtok_r(c1 + 1, ",", &save2); tok;
		     tok = strtok_r(NULL, ",", &save2)) {
			if (strcmp(tok, ctrl) == 0) {
				snprintf(out, outlen, "%s", c2 + 1);
				rc = 0;
			}
		}
	}
	free(text);
	return (rc);
}

static int
h_cg_copy(const char *dir, const char *file)
{
	char src[H_PATH_MAX + 64], dst[H_PATH_MAX + 64], *v;
	int rc;

	snprintf(src, sizeof(src), "%s/../%s", dir, file);
	snprintf(dst, sizeof(dst), "%s/%s", dir, file);
	if ((v = h_read_file(src, NULL)) == NULL)
		return (-1);
	rc = h_write_file(dst, v);
	free(v);
	return (rc);
}

/*
 * Give the daemon a cgroup of its own in each hierarchy, beneath ours, so
 * that the cgroups it creates beneath "its own" are this test's alone and
 * parallel test programs never share them. Best effort: a hierarchy where
 * this fails is skipped (the daemon then shares ours there).
 */
static void
h_cg_setup(void)
{
	char self[H_PATH_MAX], base[H_PATH_MAX + 32], dir[H_PATH_MAX];
	struct stat sb;
	int i;

	hp.ncg = 0;
	if (geteuid() != 0 || getenv("SCHEDD_TEST_NO_CGROUP") != NULL)
		return;
	for (i = 0; i < H_NCG; i++) {
		snprintf(base, sizeof(base), "/sys/fs/cgroup/%s/cgroup.procs",
		    h_cg_ctrls[i]);
		if (stat(base, &sb) == -1 ||
		    h_cg_self(h_cg_ctrls[i], self, sizeof(self)) == -1)
			continue;
		h_pathf(dir, sizeof(dir),
		    "/sys/fs/cgroup/%s%s%sschedd-it-%d-%d", h_cg_ctrls[i], self,
		    strcmp(self, "/") == 0 ? "" : "/", (int)getpid(),
		    hp.cg_seq);
		if (mkdir(dir, 0755) == -1) {
			fprintf(stderr, "harness: mkdir %s: %s (skipped)\n",
			    dir, strerror(errno));
			continue;
		}
		if (strcmp(h_cg_ctrls[i], "cpuset") == 0 &&
		    (h_cg_copy(dir, "cpuset.cpus") == -1 ||
			h_cg_copy(dir, "cpuset.mems") == -1)) {
			rmdir(dir);
			continue;
		}
		if (strcmp(h_cg_ctrls[i], "cpu") == 0) {
			/*
			 * A new v1 cpu cgroup has no real-time budget; give
			 * the daemon's subtree a little so it can hand some
			 * out. Failure only matters to real-time tests.
			 */
			snprintf(
			    base, sizeof(base), "%s/cpu.rt_runtime_us", dir);
			(void)h_write_file(base, "100000");
		}
		snprintf(hp.cg[hp.ncg++], H_PATH_MAX, "%s", dir);
	}
	hp.cg_seq++;
}

/* Signal everything in dir's subtree (descendants of our daemon only). */
static int
h_cg_kill(const char *dir)
{
	char path[H_PATH_MAX + 300], *text, *p, *end;
	struct dirent *de;
	DIR *d;
	long pid;
	int n = 0;

	snprintf(path, sizeof(path), "%s/freezer.state", dir);
	(void)h_write_file(path, "THAWED");
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if ((text = h_read_file(path, NULL)) != NULL) {
		for (p = text; *p != '\0'; p = end) {
			pid = strtol(p, &end, 10);
			if (end == p)
				break;
			if (pid > 1 && pid != getpid()) {
				kill((pid_t)pid, SIGKILL);
				n++;
			}
		}
		free(text);
	}
	if ((d = opendir(dir)) == NULL)
		return (n);
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n += h_cg_kill(path);
	}
	closedir(d);
	return (n);
}

static int
h_cg_rmdir(const char *dir)
{
	char path[H_PATH_MAX + 300];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			h_cg_rmdir(path);
		}
		closedir(d);
	}
	return (rmdir(dir) == -1 && errno != ENOENT ? -1 : 0);
}

/* --------------------------------------------------------- the daemon */

/*
 * Fork and exec $SCHEDD with args (after argv[0]) in the daemon's cgroups,
 * its output appended to h->log. Returns the pid, or -1 with why filled.
 */
static pid_t
h_schedd_spawn(struct h *h, const char *const args[], char *why, size_t whylen)
{
	char asan[H_PATH_MAX + 256], ubsan[H_PATH_MAX + 256], path[H_PATH_MAX];
	const char *old;
	pid_t pid, parent = getpid();
	int logfd, nullfd, i, fd;

	if ((logfd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		 0644)) == -1) {
		snprintf(why, whylen, "open schedd.log: %s", strerror(errno));
		return (-1);
	}
	old = getenv("ASAN_OPTIONS");
	snprintf(asan, sizeof(asan), "%s%slog_path=%s/asan", old ? old : "",
	    old && *old ? ":" : "", h->dir);
	old = getenv("UBSAN_OPTIONS");
	snprintf(ubsan, sizeof(ubsan),
	    "%s%slog_path=%s/ubsan:print_stacktrace=1", old ? old : "",
	    old && *old ? ":" : "", h->dir);
	fflush(NULL);
	if ((pid = h_fork_own()) == -1) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(logfd);
		return (-1);
	}
	if (pid == 0) {
		/* If the harness dies, so does its daemon. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		nullfd = open("/dev/null", O_RDONLY);
		dup2(nullfd, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		for (i = 0; i < hp.ncg; i++) {
			snprintf(
			    path, sizeof(path), "%s/cgroup.procs", hp.cg[i]);
			if ((fd = open(path, O_WRONLY)) == -1 ||
			    write(fd, "0", 1) != 1)
				dprintf(2, "harness: %s: %s\n", path,
				    strerror(errno));
			if (fd != -1)
				close(fd);
		}
		if (h->nofile[1] > 0) {
			struct rlimit rl = {
			    (rlim_t)h->nofile[0], (rlim_t)h->nofile[1]};

			if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
				dprintf(2, "harness: setrlimit: %s\n",
				    strerror(errno));
		}
		if (h->listen_fd > 0) {
			/* dup2 clears FD_CLOEXEC, except onto itself. */
			if (h->listen_fd == 3)
				fcntl(3, F_SETFD, 0);
			else
				dup2(h->listen_fd, 3);
			snprintf(path, sizeof(path), "%ld",
			    (long)(h->listen_pid != 0 ? h->listen_pid
						      : getpid()));
			setenv("LISTEN_PID", path, 1);
			setenv("LISTEN_FDS", "1", 1);
		}
		for (i = h->listen_fd > 0 ? 4 : 3; i < 1024; i++)
			close(i);
		setenv("ASAN_OPTIONS", asan, 1);
		setenv("UBSAN_OPTIONS", ubsan, 1);
		execv(hp.schedd, (char *const *)(uintptr_t)args);
		dprintf(
		    2, "harness: exec %s: %s\n", hp.schedd, strerror(errno));
		_exit(127);
	}
	close(logfd);
	return (pid);
}

/* The test's daemon: the harness's arguments, then extra (may be NULL). */
static int
h_daemon_spawn(struct h *h, const char *const extra[], char *why, size_t whylen)
{
	const char *args[H_MAXARGS + 16];
	pid_t pid;
	int n = 0, i;

	args[n++] = hp.schedd;
	args[n++] = "--socket";
	args[n++] = h->sock;
	args[n++] = "--state-dir";
	args[n++] = h->state;
	args[n++] = "--config";
	args[n++] = h->conf;
	args[n++] = "--foreground";
	args[n++] = "--log-level";
	args[n++] = "debug";
	for (i = 0; extra != NULL && extra[i] != NULL && i < H_MAXARGS; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	if ((pid = h_schedd_spawn(h, args, why, whylen)) == -1)
		return (-1);
	h->daemon = pid;
	return (0);
}

int
h_schedd_run(struct h *h, const char *const args[], int timeout_ms)
{
	const char *argv[H_MAXARGS + 2];
	char why[512];
	int64_t deadline = h_now_ms() + timeout_ms;
	pid_t pid;
	int n = 0, st;

	argv[n++] = hp.schedd;
	while (args[n - 1] != NULL && n <= H_MAXARGS) {
		argv[n] = args[n - 1];
		n++;
	}
	argv[n] = NULL;
	if ((pid = h_schedd_spawn(h, argv, why, sizeof(why))) == -1)
		fail_msg("%s", why);
	while (waitpid(pid, &st, WNOHANG) != pid) {
		if (h_now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			h_own_forget(pid);
			fail_msg("the second schedd still ran after %d ms",
			    timeout_ms);
		}
		h_sleep_ms(10);
	}
	h_own_forget(pid);
	return (st);
}

const char *
h_daemon_cg(struct h *h, int i)
{
	(void)h;
	return (i >= 0 && i < hp.ncg ? hp.cg[i] : NULL);
}

static int
h_daemon_start_(
    struct h *h, const char *const extra[], char *why, size_t whylen)
{
	int64_t deadline;
	int st;
	long code;

	if (h_daemon_spawn(h, extra, why, whylen) == -1)
		return (-1);
	deadline = h_now_ms() + H_START_TIMEOUT_MS;
	for (;;) {
		if (waitpid(h->daemon, &st, WNOHANG) == h->daemon) {
			h_own_forget(h->daemon);
			h->daemon = 0;
			snprintf(why, whylen,
			    "schedd exited at start-up (%s %d)",
			    WIFEXITED(st) ? "status" : "signal",
			    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
			return (-1);
		}
		if (access(h->sock, F_OK) == 0) {
			code = h_request_ex(
			    h, "GET", "/v1/health", NULL, NULL, NULL, 1000L);
			if (code == 200)
				return (0);
		}
		if (h_now_ms() > deadline) {
			snprintf(why, whylen,
			    "schedd did not answer /v1/health within %d ms",
			    H_START_TIMEOUT_MS);
			return (-1);
		}
		h_sleep_ms(20);
	}
}

void
h_daemon_listen_fd(struct h *h, int fd, pid_t pid)
{
	h->listen_fd = fd;
	h->listen_pid = pid;
}

void
h_daemon_nofile(struct h *h, long soft, long hard)
{
	h->nofile[0] = soft;
	h->nofile[1] = hard;
}

static int
h_config_(struct h *h, const char *text)
{
	size_t len = strlen(text);
	int fd, rc = -1;

	fd = open(h->conf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		return (-1);
	if (write(fd, text, len) == (ssize_t)len)
		rc = 0;
	close(fd);
	return (rc);
}

void
h_config(struct h *h, const char *text)
{
	if (h_config_(h, text) == -1)
		fail_msg("write %s: %s", h->conf, strerror(errno));
}

void
h_daemon_start(struct h *h)
{
	h_daemon_start_args(h, NULL);
}

void
h_daemon_start_args(struct h *h, const char *const extra[])
{
	char why[512];

	if (h_daemon_start_(h, extra, why, sizeof(why)) == -1)
		fail_msg("%s", why);
}

int
h_daemon_stop(struct h *h, int sig)
{
	int64_t deadline;
	int st = 0;
	pid_t pid = h->daemon;

	if (pid <= 0)
		return (-1);
	kill(pid, sig);
	deadline = h_now_ms() + H_STOP_TIMEOUT_MS;
	for (;;) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		if (h_now_ms() > deadline) {
			fprintf(stderr,
			    "harness: schedd still running %d ms after signal %d; SIGKILL\n",
			    H_STOP_TIMEOUT_MS, sig);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			h->broken = 1;
			break;
		}
		h_sleep_ms(10);
	}
	h_own_forget(pid);
	h->daemon = 0;
	return (st);
}

/* -------------------------------------------------------------- cleanup */

struct h_self {
	pid_t self;
};

static int
h_kill_orphan(const struct h_proc *p, void *arg)
{
	struct h_self *s = arg;

	/* Only what came back to us: it descends from our daemon. */
	if (p->ppid == s->self && p->state != 'Z')
		kill(p->pid, SIGKILL);
	return (0);
}

/*
 * Kill and reap whatever outlived the daemon: learned job pids and any
 * other orphan reparented to us, and what is left in the daemon's
 * cgroups. Returns the number of processes that were left.
 */
static int
h_reap_all(int timeout_ms)
{
	struct h_self s = {getpid()};
	struct h_proc p;
	int64_t deadline = h_now_ms() + timeout_ms;
	int i, n = 0, left;

	for (;;) {
		left = 0;
		for (i = 0; i < hp.npids; i++) {
			if (h_proc(hp.pids[i], &p) == 0 && p.ppid == s.self &&
			    p.state != 'Z')
				kill(hp.pids[i], SIGKILL);
		}
		h_proc_each(h_kill_orphan, &s);
		for (i = 0; i < hp.ncg; i++)
			left += h_cg_kill(hp.cg[i]);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			n++;
		if (left == 0 && waitpid(-1, NULL, WNOHANG) == -1 &&
		    errno == ECHILD)
			break;
		if (h_now_ms() > deadline) {
			fprintf(stderr, "harness: processes left after %d ms\n",
			    timeout_ms);
			break;
		}
		h_sleep_ms(10);
	}
	hp.npids = 0;
	return (n);
}

static void
h_print_log(struct h *h)
{
	size_t len;
	char *text = h_read_file(h->log, &len);

	if (text == NULL)
		return;
	fprintf(
	    stderr, "---- %s (%s) ----\n", h->log, h->test ? h->test : "setup");
	if (len > H_LOG_TAIL)
		fprintf(stderr, "[... %zu bytes cut ...]\n", len - H_LOG_TAIL);
	fwrite(len > H_LOG_TAIL ? text + len - H_LOG_TAIL : text, 1,
	    len > H_LOG_TAIL ? H_LOG_TAIL : len, stderr);
	fprintf(stderr, "---- end of schedd log ----\n");
	free(text);
}

/* Sanitizer reports: DIR/asan.PID and DIR/ubsan.PID. Returns how many. */
static int
h_sanitizer_reports(struct h *h)
{
	char path[H_PATH_MAX + 300], *text;
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(h->dir)) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "asan.", 5) != 0 &&
		    strncmp(de->d_name, "ubsan.", 6) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", h->dir, de->d_name);
		text = h_read_file(path, NULL);
		fprintf(stderr, "---- sanitizer report %s ----\n%s\n", path,
		    text ? text : "");
		free(text);
		n++;
	}
	closedir(d);
	return (n);
}

static int
h_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return (0);
}

/* Teardown proper; also run from atexit and the signal handlers. */
static int
h_cleanup(struct h *h)
{
	int i, st;
	pid_t r;

	if (hp.in_cleanup || h->dir[0] == '\0')
		return (0);
	hp.in_cleanup = 1;
	while (hp.ndefer > 0) {
		hp.ndefer--;
		hp.defer[hp.ndefer].fn(hp.defer[hp.ndefer].arg);
	}
	h_http_close_all(h);
	if (h->daemon > 0) {
		r = waitpid(h->daemon, &st, WNOHANG);
		if (r == h->daemon) {
			fprintf(stderr,
			    "harness: schedd died during the test "
			    "(%s %d)\n",
			    WIFEXITED(st) ? "status" : "signal",
			    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
			h->daemon = 0;
			h->broken = 1;
		} else {
			st = h_daemon_stop(h, SIGTERM);
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				fprintf(stderr,
				    "harness: schedd did not exit 0 on SIGTERM "
				    "(%s %d)\n",
				    WIFEXITED(st) ? "status" : "signal",
				    WIFEXITED(st) ? WEXITSTATUS(st)
						  : WTERMSIG(st));
				h->broken = 1;
			}
		}
	}
	/* Reaping went on while the daemon stopped what it had adopted. */
	h_reaper_end();
	h_reap_all(5000);
	hp.nown = 0;
	h_sys_cleanup(h);
	for (i = 0; i < hp.ncg; i++)
		if (h_cg_rmdir(hp.cg[i]) == -1)
			fprintf(stderr, "harness: rmdir %s: %s\n", hp.cg[i],
			    strerror(errno));
	hp.ncg = 0;
	if (h_sanitizer_reports(h) > 0)
		h->broken = 1;
	if ((!h->passed && !h->skipped) || h->broken)
		h_print_log(h);
	if (getenv("SCHEDD_TEST_KEEP") != NULL)
		fprintf(stderr, "harness: kept %s\n", h->dir);
	else
		nftw(h->dir, h_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	h->dir[0] = '\0';
	h_release();
	hp.active = NULL;
	hp.in_cleanup = 0;
	return (h->broken ? -1 : 0);
}

static void
h_on_signal(int sig)
{
	static const char msg[] = "\nharness: interrupted or timed out; "
				  "cleaning up\n";

	(void)!write(2, msg, sizeof(msg) - 1);
	if (hp.active != NULL) {
		fprintf(stderr, "harness: in test %s\n",
		    hp.active->test ? hp.active->test : "(setup)");
		if (hp.active->daemon > 0) {
			kill(hp.active->daemon, SIGKILL);
			waitpid(hp.active->daemon, NULL, 0);
			hp.active->daemon = 0;
		}
		hp.active->passed = 0;
		h_cleanup(hp.active);
	}
	_exit(sig == SIGALRM ? 99 : 128 + sig);
}

static void
h_atexit(void)
{
	if (hp.active != NULL)
		h_cleanup(hp.active);
}

/* ---------------------------------------------------------------- cmocka */

void
h_skip(struct h *h, const char *why)
{
	h->skipped = 1;
	hp.nskipped++;
	print_message("%s skipped: %s\n", h->test ? h->test : "test", why);
	skip();
	abort();
}

void
h_need_root(struct h *h)
{
	if (geteuid() != 0)
		h_skip(h, "needs root");
}

int
h_setup(void **state)
{
	struct h *h = &hp.world;
	char why[512];

	hp.nrun++;
	/* The watchdog counts per test: a file may hold many slow tests. */
	alarm(H_ALARM_S);
	memset(h, 0, sizeof(*h));
	hp.active = h;
	snprintf(h->dir, sizeof(h->dir), "/tmp/schedd-it-XXXXXX");
	if (mkdtemp(h->dir) == NULL) {
		print_error("mkdtemp: %s\n", strerror(errno));
		h->dir[0] = '\0';
		hp.active = NULL;
		return (-1);
	}
	h_pathf(h->sock, sizeof(h->sock), "%s/s.sock", h->dir);
	h_pathf(h->state, sizeof(h->state), "%s/state", h->dir);
	h_pathf(h->log, sizeof(h->log), "%s/schedd.log", h->dir);
	h_pathf(h->conf, sizeof(h->conf), "%s/schedd.conf", h->dir);
	if (mkdir(h->state, 0700) == -1 || h_config_(h, "") == -1) {
		print_error("mkdir %s: %s\n", h->state, strerror(errno));
		h_cleanup(h);
		return (-1);
	}
	h_cg_setup();
	if (h_daemon_start_(h, NULL, why, sizeof(why)) == -1) {
		print_error("%s\n", why);
		h->broken = 1;
		h_cleanup(h);
		return (-1);
	}
	*state = h;
	return (0);
}

int
h_teardown(void **state)
{
	return (h_cleanup(*state));
}

int
h_main(const struct CMUnitTest *tests, size_t n, int argc, char **argv)
{
	struct sigaction sa;
	const char *name, *filter;
	int failed;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1) {
		fprintf(
		    stderr, "PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
		return (99);
	}
	hp.schedd = getenv("SCHEDD");
	if (hp.schedd == NULL || access(hp.schedd, X_OK) == -1) {
		fprintf(stderr, "%s: $SCHEDD (%s) is not an executable\n",
		    argv[0], hp.schedd ? hp.schedd : "unset");
		return (99);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	alarm(H_ALARM_S);
	curl_global_init(CURL_GLOBAL_ALL);
	atexit(h_atexit);
	filter = argc > 1 ? argv[1] : getenv("SCHEDD_TEST_FILTER");
	if (filter != NULL && *filter != '\0')
		cmocka_set_test_filter(filter);
	name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	failed = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
	curl_global_cleanup();
	if (failed == 0 && hp.nrun > 0 && hp.nskipped == hp.nrun)
		return (77);
	return (failed == 0 ? 0 : 1);
}

/* --------------------------------------------------------------- run */

int
h_run(struct h *h, const char *const argv[], const char *const env[],
    const char **out, const char **err, int timeout_ms)
{
	struct h_buf ob = {0}, eb = {0};
	struct pollfd pfd[2];
	char asan[H_PATH_MAX + 64], ubsan[H_PATH_MAX + 64], tmp[8192];
	int64_t deadline = h_now_ms() + timeout_ms;
	int po[2], pe[2], st, i, nullfd, open_ = 2, left;
	ssize_t n;
	pid_t pid;

	if (pipe2(po, O_CLOEXEC) == -1 || pipe2(pe, O_CLOEXEC) == -1)
		fail_msg("pipe: %s", strerror(errno));
	snprintf(asan, sizeof(asan), "ASAN_OPTIONS=log_path=%s/asan", h->dir);
	snprintf(ubsan, sizeof(ubsan),
	    "UBSAN_OPTIONS=log_path=%s/ubsan:print_stacktrace=1", h->dir);
	fflush(NULL);
	if ((pid = h_fork_own()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		nullfd = open("/dev/null", O_RDONLY);
		dup2(nullfd, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		unsetenv("SCHEDD_SOCKET");
		putenv(asan);
		putenv(ubsan);
		for (i = 0; env != NULL && env[i] != NULL; i++)
			putenv((char *)(uintptr_t)env[i]);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	pfd[0].fd = po[0];
	pfd[1].fd = pe[0];
	pfd[0].events = pfd[1].events = POLLIN;
	while (open_ > 0) {
		left = (int)(deadline - h_now_ms());
		if (left <= 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			h_own_forget(pid);
			close(po[0]);
			close(pe[0]);
			fail_msg("%s %s did not finish within %d ms", argv[0],
			    argv[1] ? argv[1] : "", timeout_ms);
		}
		if (poll(pfd, 2, left) <= 0)
			continue;
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			n = read(pfd[i].fd, tmp, sizeof(tmp));
			if (n > 0) {
				h_buf_add(i == 0 ? &ob : &eb, tmp, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_--;
			}
		}
	}
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	h_own_forget(pid);
	if (out != NULL)
		*out = h_keep(h, h_buf_steal(&ob));
	else
		free(ob.p);
	if (err != NULL)
		*err = h_keep(h, h_buf_steal(&eb));
	else
		free(eb.p);
	return (WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}
