/* SPDX-License-Identifier: ISC */
/*
 * sd_notify, end to end: each test binds a datagram socket, starts the
 * built schedd ($SCHEDD) with $NOTIFY_SOCKET naming it, and reads what
 * arrives, as systemd would (SO_PASSCRED: the sender must be the daemon's
 * own pid, which is what NotifyAccess=main checks). READY=1 must mean the
 * API answers: the first GET /v1/health after it is never retried.
 * Everything started here is killed by pid and reaped; the temporary
 * directory goes too, at teardown, at exit and on a fatal signal. Needs
 * root, like the daemon (exit 77 otherwise).
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#define NT_START_MS 10000 /* daemon start-up, sanitizers included */
#define NT_STOP_MS  15000 /* SIGTERM to exit: stops its jobs first */
#define NT_MSG_MAX  4096
#define NT_MAXPIDS  16

extern char **environ;

/* One test's world; tests only read it. */
struct nt {
	char dir[256];          /* mkdtemp */
	char sock[300];         /* DIR/s.sock: the API */
	char state[300];        /* DIR/state */
	char conf[300];         /* DIR/schedd.conf (empty) */
	char log[300];          /* DIR/schedd.log: the daemon's stderr */
	char notify[300];       /* DIR/notify.sock, or "@name" */
	int nfd;                /* our end of $NOTIFY_SOCKET */
	pid_t daemon;           /* 0 when none runs */
	pid_t jobs[NT_MAXPIDS]; /* job pids to reap if they outlive it */
	int njobs;
	char body[NT_MSG_MAX]; /* last HTTP answer body */
	size_t bodylen;
};

static struct nt *nt_active; /* for the exit and signal cleanup */
static const char *nt_schedd;

static int64_t
nt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
nt_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
nt_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return (0);
}

/* 1 if pid is our child (it came back to us, the subreaper). */
static int
nt_is_our_child(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	int ppid = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return (0);
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		sscanf(p + 2, "%*c %d", &ppid);
	fclose(f);
	return (ppid == (int)getpid());
}

/* Wait up to ms for pid (our child); SIGKILL it after. Its status. */
static int
nt_reap(pid_t pid, int ms)
{
	int64_t end = nt_now_ms() + ms;
	int st = 0;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid || (r == -1 && errno != EINTR))
			return (st);
		if (nt_now_ms() >= end) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
				;
			return (-1);
		}
		nt_sleep_ms(10);
	}
}

/* Stop everything we started and remove the directory. Idempotent. */
static void
nt_cleanup(struct nt *nt)
{
	int i;

	if (nt == NULL)
		return;
	if (nt->daemon > 0) {
		kill(nt->daemon, SIGTERM);
		nt_reap(nt->daemon, NT_STOP_MS);
		nt->daemon = 0;
	}
	for (i = 0; i < nt->njobs; i++) {
		if (nt_is_our_child(nt->jobs[i])) {
			kill(nt->jobs[i], SIGKILL);
			nt_reap(nt->jobs[i], 1000);
		}
	}
	nt->njobs = 0;
	if (nt->nfd != -1) {
		close(nt->nfd);
		nt->nfd = -1;
	}
	if (nt->dir[0] != '\0') {
		nftw(nt->dir, nt_rm, 16, FTW_DEPTH | FTW_PHYS);
		nt->dir[0] = '\0';
	}
}

static void
nt_atexit(void)
{
	nt_cleanup(nt_active);
}

static void
nt_on_signal(int sig)
{
	/* Not async-signal-safe, acceptable right before _exit in a test. */
	nt_cleanup(nt_active);
	signal(sig, SIG_DFL);
	raise(sig);
	_exit(128 + sig);
}

/* dir/name into dst; -1 if it does not fit. */
static int
nt_path(char *dst, size_t len, const char *dir, const char *name)
{
	int n;

	n = snprintf(dst, len, "%s/%s", dir, name);
	return (n < 0 || (size_t)n >= len ? -1 : 0);
}

/* Bind our end of $NOTIFY_SOCKET: a path in DIR, or an abstract name. */
static void
nt_bind(struct nt *nt, int abstract)
{
	struct sockaddr_un sun;
	socklen_t len;
	int one = 1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (abstract)
		snprintf(nt->notify, sizeof(nt->notify),
		    "@schedd-test-notify-%d-%ld", (int)getpid(),
		    (long)nt_now_ms());
	else
		assert_int_equal(nt_path(nt->notify, sizeof(nt->notify),
				     nt->dir, "notify.sock"),
		    0);
	assert_true(strlen(nt->notify) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, nt->notify, strlen(nt->notify));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
			  strlen(nt->notify) + (abstract ? 0 : 1));
	if (abstract)
		sun.sun_path[0] = '\0';
	if (nt->nfd != -1)
		close(nt->nfd);
	nt->nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_not_equal(nt->nfd, -1);
	assert_int_equal(
	    setsockopt(nt->nfd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	assert_int_equal(bind(nt->nfd, (struct sockaddr *)&sun, len), 0);
}

static int
nt_setup(void **state)
{
	static struct nt world;
	struct nt *nt = &world;
	int fd;

	memset(nt, 0, sizeof(*nt));
	nt->nfd = -1;
	snprintf(nt->dir, sizeof(nt->dir), "/tmp/schedd-notify.XXXXXX");
	if (mkdtemp(nt->dir) == NULL)
		return (-1);
	nt_active = nt;
	if (nt_path(nt->sock, sizeof(nt->sock), nt->dir, "s.sock") == -1 ||
	    nt_path(nt->state, sizeof(nt->state), nt->dir, "state") == -1 ||
	    nt_path(nt->conf, sizeof(nt->conf), nt->dir, "schedd.conf") == -1 ||
	    nt_path(nt->log, sizeof(nt->log), nt->dir, "schedd.log") == -1)
		return (-1);
	if ((fd = open(nt->conf, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		return (-1);
	close(fd);
	*state = nt;
	return (0);
}

/* Print the daemon's log when a test failed. */
static void
nt_dump_log(struct nt *nt)
{
	char buf[4096];
	FILE *f;
	size_t n;

	if ((f = fopen(nt->log, "re")) == NULL)
		return;
	fprintf(stderr, "---- %s\n", nt->log);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fprintf(stderr, "----\n");
	fclose(f);
}

static int nt_passed; /* set by each test's last line */

static int
nt_teardown(void **state)
{
	struct nt *nt = *state;

	if (!nt_passed)
		nt_dump_log(nt);
	nt_cleanup(nt);
	nt_active = NULL;
	return (0);
}

/* Each test starts with NT_BEGIN and ends with NT_DONE. */
#define NT_BEGIN() (nt_passed = 0)
#define NT_DONE()  (nt_passed = 1)

/*
 * Start the daemon with $NOTIFY_SOCKET = nt->notify (unless notify is
 * given) plus extra "K=V" entries; the environment's own NOTIFY_SOCKET,
 * WATCHDOG_* and INVOCATION_ID never leak in.
 */
static void
nt_start(struct nt *nt, const char *notify, const char *const *extra)
{
	char *envp[256], nsock[sizeof(nt->notify) + 16];
	size_t n = 0, i;
	int fd;
	pid_t pid;

	for (i = 0; environ[i] != NULL && n < 200; i++) {
		if (strncmp(environ[i], "NOTIFY_SOCKET=", 14) == 0 ||
		    strncmp(environ[i], "WATCHDOG_", 9) == 0 ||
		    strncmp(environ[i], "INVOCATION_ID=", 14) == 0 ||
		    strncmp(environ[i], "LISTEN_", 7) == 0)
			continue;
		envp[n++] = environ[i];
	}
	snprintf(nsock, sizeof(nsock), "NOTIFY_SOCKET=%s",
	    notify != NULL ? notify : nt->notify);
	envp[n++] = nsock;
	for (i = 0; extra != NULL && extra[i] != NULL && n < 250; i++)
		envp[n++] = (char *)extra[i];
	envp[n] = NULL;

	fflush(NULL);
	pid = fork();
	assert_int_not_equal(pid, -1);
	if (pid == 0) {
		const char *argv[] = {nt_schedd, "--foreground", "--socket",
		    nt->sock, "--state-dir", nt->state, "--config", nt->conf,
		    "--log-level", "debug", NULL};

		if ((fd = open(nt->log, O_WRONLY | O_CREAT | O_APPEND, 0644)) !=
		    -1) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		if ((fd = open("/dev/null", O_RDONLY)) != -1) {
			dup2(fd, 0);
			close(fd);
		}
		execve(nt_schedd, (char *const *)argv, envp);
		_exit(127);
	}
	nt->daemon = pid;
}

/*
 * Receive one datagram within ms. Returns its length (NUL-terminated in
 * buf) and the sender's pid, or -1 on timeout.
 */
static ssize_t
nt_recv(struct nt *nt, int ms, char *buf, size_t len, pid_t *sender)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} cm;
	struct pollfd pfd = {nt->nfd, POLLIN, 0};
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *c;
	struct ucred uc;
	int64_t end = nt_now_ms() + ms;
	ssize_t r;
	int left;

	*sender = 0;
	for (;;) {
		left = (int)(end - nt_now_ms());
		if (left <= 0)
			return (-1);
		r = poll(&pfd, 1, left);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return (-1);
		break;
	}
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = len - 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	if ((r = recvmsg(nt->nfd, &msg, MSG_DONTWAIT)) == -1)
		return (-1);
	buf[r] = '\0';
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_CREDENTIALS) {
			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			*sender = uc.pid;
		}
	}
	return (r);
}

/* 1 if the datagram has the line "assignment" (e.g. "READY=1"). */
static int
nt_has_line(const char *msg, const char *assignment)
{
	size_t n = strlen(assignment);
	const char *p = msg;

	while ((p = strstr(p, assignment)) != NULL) {
		if ((p == msg || p[-1] == '\n') &&
		    (p[n] == '\0' || p[n] == '\n'))
			return (1);
		p += n;
	}
	return (0);
}

/* The value of "KEY=" in msg, copied into out; "" if absent. */
static const char *
nt_value(const char *msg, const char *key, char *out, size_t len)
{
	size_t n = strlen(key);
	const char *p = msg, *e;

	out[0] = '\0';
	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, n) == 0 && p[n] == '=') {
			e = strchr(p, '\n');
			snprintf(out, len, "%.*s",
			    (int)(e != NULL ? (size_t)(e - p - n - 1)
					    : strlen(p + n + 1)),
			    p + n + 1);
			break;
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return (out);
}

/*
 * Wait for a datagram with the line want; fail if ms pass first or the
 * daemon dies. Datagrams before it are skipped (counted in *skipped).
 */
static void
nt_expect(struct nt *nt, const char *want, int ms, char *msg, size_t len,
    int *skipped)
{
	int64_t end = nt_now_ms() + ms;
	pid_t sender;
	int st;

	if (skipped != NULL)
		*skipped = 0;
	while (nt_now_ms() < end) {
		if (nt_recv(nt, 100, msg, len, &sender) >= 0) {
			if (nt_has_line(msg, want)) {
				assert_int_equal(sender, nt->daemon);
				return;
			}
			if (skipped != NULL)
				(*skipped)++;
			continue;
		}
		if (nt->daemon > 0 &&
		    waitpid(nt->daemon, &st, WNOHANG) == nt->daemon) {
			nt->daemon = 0;
			fail_msg(
			    "schedd exited (status 0x%x) before %s", st, want);
		}
	}
	fail_msg("no %s within %d ms", want, ms);
}

static size_t
nt_curl_write(char *p, size_t size, size_t n, void *arg)
{
	struct nt *nt = arg;
	size_t len = size * n, room = sizeof(nt->body) - 1 - nt->bodylen;

	if (len > room)
		len = room;
	memcpy(nt->body + nt->bodylen, p, len);
	nt->bodylen += len;
	nt->body[nt->bodylen] = '\0';
	return (size * n);
}

/* One request over the API socket; the status, or -1 if none came. */
static long
nt_http(struct nt *nt, const char *method, const char *path, const char *json)
{
	struct curl_slist *hdr = NULL;
	char url[512];
	long status = -1;
	CURL *c;

	nt->bodylen = 0;
	nt->body[0] = '\0';
	if ((c = curl_easy_init()) == NULL)
		return (-1);
	snprintf(url, sizeof(url), "http://localhost%s", path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, nt->sock);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, nt_curl_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, nt);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	if (json != NULL) {
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	}
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	return (status);
}

/* POST a job; remember its pid (if it runs) for the cleanup. */
static void
nt_job(struct nt *nt, const char *spec)
{
	const char *p;
	long pid;

	assert_int_equal(nt_http(nt, "POST", "/v1/jobs", spec), 201);
	if ((p = strstr(nt->body, "\"pid\":")) != NULL &&
	    sscanf(p + 6, "%ld", &pid) == 1 && nt->njobs < NT_MAXPIDS)
		nt->jobs[nt->njobs++] = (pid_t)pid;
}

/* SIGTERM and the exit status, which must come within NT_STOP_MS. */
static int
nt_stop(struct nt *nt)
{
	int st;

	assert_int_equal(kill(nt->daemon, SIGTERM), 0);
	st = nt_reap(nt->daemon, NT_STOP_MS);
	nt->daemon = 0;
	assert_int_not_equal(st, -1);
	return (st);
}

/* Tests */

static void
notify__ready__api_answers_at_once(void **state)
{
	struct nt *nt = *state;
	char msg[NT_MSG_MAX], status[256];
	int skipped;

	NT_BEGIN();
	nt_bind(nt, 0);
	nt_start(nt, NULL, NULL);
	nt_expect(nt, "READY=1", NT_START_MS, msg, sizeof(msg), &skipped);
	assert_int_equal(skipped, 0);
	/* Once, and at once: no retry, no sleep. */
	assert_int_equal(nt_http(nt, "GET", "/v1/health", NULL), 200);
	assert_non_null(strstr(nt->body, "\"status\":\"ok\""));
	nt_value(msg, "STATUS", status, sizeof(status));
	assert_string_equal(status, "ready: 0 jobs");
	NT_DONE();
}

static void
notify__ready__status_counts_jobs(void **state)
{
	struct nt *nt = *state;
	char msg[NT_MSG_MAX], status[256];
	int st;

	NT_BEGIN();
	nt_bind(nt, 0);
	nt_start(nt, NULL, NULL);
	nt_expect(nt, "READY=1", NT_START_MS, msg, sizeof(msg), NULL);
	nt_job(nt, "{\"name\":\"one\",\"argv\":[\"true\"],\"start\":false}");
	nt_job(nt, "{\"name\":\"two\",\"argv\":[\"true\"],\"start\":false}");
	st = nt_stop(nt);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	nt_start(nt, NULL, NULL);
	nt_expect(nt, "READY=1", NT_START_MS, msg, sizeof(msg), NULL);
	nt_value(msg, "STATUS", status, sizeof(status));
	assert_string_equal(status, "ready: 2 jobs");
	assert_int_equal(nt_http(nt, "GET", "/v1/health", NULL), 200);
	assert_non_null(strstr(nt->body, "\"jobs\":2"));
	NT_DONE();
}

static void
notify__sigterm__stopping_before_exit(void **state)
{
	struct nt *nt = *state;
	char msg[NT_MSG_MAX], status[256];
	pid_t daemon;
	int st;

	NT_BEGIN();
	nt_bind(nt, 0);
	nt_start(nt, NULL, NULL);
	nt_expect(nt, "READY=1", NT_START_MS, msg, sizeof(msg), NULL);
	nt_job(nt, "{\"name\":\"sleeper\",\"argv\":[\"sleep\",\"60\"],"
		   "\"stop\":{\"signal\":\"SIGTERM\",\"timeout_ms\":5000}}");
	assert_int_equal(nt->njobs, 1);

	daemon = nt->daemon;
	assert_int_equal(kill(daemon, SIGTERM), 0);
	nt_expect(nt, "STOPPING=1", NT_STOP_MS, msg, sizeof(msg), NULL);
	nt_value(msg, "STATUS", status, sizeof(status));
	assert_string_equal(status, "stopping every job");
	st = nt_reap(daemon, NT_STOP_MS);
	nt->daemon = 0;
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* The daemon stopped and reaped its job before it exited. */
	assert_int_equal(kill(nt->jobs[0], 0), -1);
	assert_int_equal(errno, ESRCH);
	NT_DONE();
}

static void
notify__watchdog__pings_repeatedly(void **state)
{
	static const char *const env[] = {"WATCHDOG_USEC=200000", NULL};
	struct nt *nt = *state;
	char msg[NT_MSG_MAX];
	int64_t end, first = 0, last = 0;
	pid_t sender;
	int pings = 0;

	NT_BEGIN();
	nt_bind(nt, 0);
	nt_start(nt, NULL, env);
	nt_expect(nt, "READY=1", NT_START_MS, msg, sizeof(msg), NULL);
	end = nt_now_ms() + 1000;
	while (nt_now_ms() < end) {
		if (nt_recv(nt, 100, msg, sizeof(msg), &sender) < 0)
			continue;
		if (!nt_has_line(msg, "WATCHDOG=1"))
			continue;
		assert_int_equal(sender, nt->daemon);
		if (pings++ == 0)
			first = nt_now_ms();
		last = nt_now_ms();
	}
	/* Every 100 ms (half the period): about ten in a second. */
	if (pings < 5)
		fail_msg("%d WATCHDOG=1 in 1 s, want >= 5", pings);
	assert_true(last - first >= 300);
	assert_int_equal(nt_http(nt, "GET", "/v1/health", NULL), 200);
	NT_DONE();
}

static void
notify__watchdog_for_other_pid__no_pings(void **state)
{
	static const char *const env[] = {
	    "WATCHDOG_USEC=200000", "WATCHDOG_PID=1", NULL};
	struct nt *nt = *state;
	char msg[NT_MSG_MAX];
	int64_t end;
	pid_t sender;

	NT_BEGIN();
	nt_bind(nt, 0);
	nt_start(nt, NULL, env);
	nt_expect(nt, "READY=1", NT_START_MS, msg, sizeof(msg), NULL);
	end = nt_now_ms() + 600;
	while (nt_now_ms() < end) {
		if (nt_recv(nt, 100, msg, sizeof(msg), &sender) >= 0 &&
		    nt_has_line(msg, "WATCHDOG=1"))
			fail_msg(
			    "WATCHDOG=1 although WATCHDOG_PID is not ours");
	}
	NT_DONE();
}

static void
notify__abstract_socket__ready(void **state)
{
	struct nt *nt = *state;
	char msg[NT_MSG_MAX];

	NT_BEGIN();
	nt_bind(nt, 1);
	nt_start(nt, NULL, NULL);
	nt_expect(nt, "READY=1", NT_START_MS, msg, sizeof(msg), NULL);
	assert_int_equal(nt_http(nt, "GET", "/v1/health", NULL), 200);
	NT_DONE();
}

/* A NOTIFY_SOCKET that is wrong or gone must not stop the daemon. */
static void
notify__bad_socket__daemon_still_serves(void **state)
{
	static const char *const bad[] = {"relative/path", "/nonexistent/x"};
	struct nt *nt = *state;
	int64_t end;
	size_t i;
	long status;
	int st;

	NT_BEGIN();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		nt_start(nt, bad[i], NULL);
		end = nt_now_ms() + NT_START_MS;
		while (
		    (status = nt_http(nt, "GET", "/v1/health", NULL)) != 200 &&
		    nt_now_ms() < end)
			nt_sleep_ms(50);
		if (status != 200)
			fail_msg("NOTIFY_SOCKET=%s: no health answer", bad[i]);
		st = nt_stop(nt);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	NT_DONE();
}

#define NT_UNIT(f) cmocka_unit_test_setup_teardown(f, nt_setup, nt_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    NT_UNIT(notify__ready__api_answers_at_once),
	    NT_UNIT(notify__ready__status_counts_jobs),
	    NT_UNIT(notify__sigterm__stopping_before_exit),
	    NT_UNIT(notify__watchdog__pings_repeatedly),
	    NT_UNIT(notify__watchdog_for_other_pid__no_pings),
	    NT_UNIT(notify__abstract_socket__ready),
	    NT_UNIT(notify__bad_socket__daemon_still_serves),
	};
	int rc;

	if ((nt_schedd = getenv("SCHEDD")) == NULL || *nt_schedd == '\0') {
		fprintf(stderr, "test_notify: $SCHEDD is not set\n");
		return (99);
	}
	if (geteuid() != 0) {
		fprintf(stderr, "test_notify: needs root (SKIP)\n");
		return (77);
	}
	/* A job orphaned by a dying daemon comes back to us, to be reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	atexit(nt_atexit);
	signal(SIGINT, nt_on_signal);
	signal(SIGTERM, nt_on_signal);
	signal(SIGHUP, nt_on_signal);
	signal(SIGALRM, nt_on_signal);
	signal(SIGPIPE, SIG_IGN);
	alarm(300);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests_name("notify", tests, NULL, NULL);
	curl_global_cleanup();
	return (rc);
}
