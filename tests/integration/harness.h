/* SPDX-License-Identifier: ISC */
/*
 * Integration test harness: every test gets a fresh schedd started from
 * $SCHEDD on a socket and state directory in its own mkdtemp directory (and,
 * where the machine allows, its own cgroup subtree), a libcurl client over
 * the Unix socket, stream and raw-socket helpers, and independent readers of
 * /proc. Teardown stops the daemon, kills and reaps whatever it left behind
 * (only processes descended from the harness, by pid), removes the cgroups
 * and the directory, fails the test on a sanitizer report and prints the
 * daemon's log when the test failed. Every value the helpers return is
 * owned by the harness and freed at teardown, so tests never free anything.
 * The harness never touches a process it did not start.
 */
#ifndef SCHEDD_HARNESS_H
#define SCHEDD_HARNESS_H

#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

#define H_PATH_MAX 512

struct h_stream;

/* One test's world. Tests read the fields; only the harness writes them. */
struct h {
	const char *test;       /* name of the running test */
	char dir[H_PATH_MAX];   /* the mkdtemp directory */
	char sock[H_PATH_MAX];  /* DIR/s.sock */
	char state[H_PATH_MAX]; /* DIR/state */
	char log[H_PATH_MAX];   /* DIR/schedd.log: the daemon's stderr */
	char conf[H_PATH_MAX];  /* DIR/schedd.conf, given as --config */
	pid_t daemon;           /* running daemon, 0 when none */
	int passed;             /* set when the test body returned */
	int skipped;            /* set by h_skip() */
	int broken;             /* teardown found a problem */
	long last_status;       /* status of the last h_request/h_call */
	const char *last_body;  /* raw body of the last answer */
	const char *last_ctype; /* its Content-Type, "" if none */
	const char *ctl_out;    /* stdout of the last h_ctl */
	const char *ctl_err;    /* its stderr */
	long nofile[2];         /* h_daemon_nofile(): soft, hard; 0: as ours */
	int listen_fd;          /* h_daemon_listen_fd(); 0: none */
	pid_t listen_pid;       /* its LISTEN_PID; 0: the daemon's own */
};

/*
 * Define a test: H_TEST(area__scenario__expectation) { ... uses h ... }.
 * The wrapper records the name and whether the body ran to the end, so
 * teardown knows when to print the daemon's log.
 */
#define H_TEST(name)                                                           \
	static void name##_body(struct h *h);                                  \
	static void name(void **state)                                         \
	{                                                                      \
		struct h *h_ = *state;                                         \
		h_->test = #name;                                              \
		name##_body(h_);                                               \
		h_->passed = 1;                                                \
	}                                                                      \
	static void name##_body(struct h *h)

/* A table entry: each test has its own daemon. */
#define H_UNIT(name) cmocka_unit_test_setup_teardown(name, h_setup, h_teardown)

/* main(): H_MAIN(tests) runs the table; 77 when every test skipped. */
#define H_MAIN(tests)                                                          \
	h_main(tests, sizeof(tests) / sizeof((tests)[0]), argc, argv)

int h_main(const struct CMUnitTest *tests, size_t n, int argc, char **argv);
int h_setup(void **state);
int h_teardown(void **state);

/*
 * Start every schedd from now on in this test (h_daemon_start,
 * h_schedd_run) with RLIMIT_NOFILE soft and hard, set in the child before
 * exec.
 */
void h_daemon_nofile(struct h *h, long soft, long hard);

/*
 * Start every schedd from now on in this test as systemd's socket
 * activation does: fd (the test keeps it) as fd 3, LISTEN_FDS=1 and
 * LISTEN_PID=pid, or the daemon's own pid when pid is 0.
 */
void h_daemon_listen_fd(struct h *h, int fd, pid_t pid);

/* Skip the running test (cmocka skip) unless we are root. */
void h_need_root(struct h *h);
/* Skip the running test, saying why. */
void h_skip(struct h *h, const char *why) __attribute__((noreturn));

/*
 * Start the daemon on h's directory and wait (10 s) until /v1/health
 * answers 200. Fails the test if it exits or never answers.
 */
void h_daemon_start(struct h *h);

/*
 * h_daemon_start with extra arguments (NULL-terminated) after the
 * harness's own; a repeated option wins: {"--state-dir", "DIR/", NULL}.
 */
void h_daemon_start_args(struct h *h, const char *const extra[]);

/*
 * Run another $SCHEDD with exactly args (NULL-terminated, without argv[0])
 * in the daemon's cgroups, so that teardown removes what it leaves, its
 * output appended to h->log; wait for it and return its wait status. Fails
 * the test (after SIGKILL) if it still runs after timeout_ms.
 */
int h_schedd_run(struct h *h, const char *const args[], int timeout_ms);

/* The cgroups the harness made for the daemon, one per hierarchy: the
 * i-th directory, or NULL past the last (none without root). */
const char *h_daemon_cg(struct h *h, int i);

/*
 * Reap orphans as init or systemd would: from now until teardown a thread
 * collects every zombie child of the test program (what a killed daemon
 * leaves comes back to it, a child subreaper) except the processes the
 * harness started itself (daemons, h_run's), which it waits for itself.
 */
void h_reap_orphans(struct h *h);

/* Run fn(arg) at teardown, before the daemon is stopped, even when the
 * test failed; the last registered runs first. */
void h_defer(struct h *h, void (*fn)(void *), void *arg);

/*
 * Replace DIR/schedd.conf (the daemon gets --config, so the machine's
 * /etc/schedd/schedd.conf never leaks into a test). Takes effect at the
 * next h_daemon_start.
 */
void h_config(struct h *h, const char *text);

/*
 * Send sig to the daemon, wait up to 10 s for it to exit, then SIGKILL.
 * Returns the wait status. The daemon's orphaned jobs come back to the
 * harness (it is a child subreaper); they are reaped at teardown, or as
 * they end after h_reap_orphans.
 */
int h_daemon_stop(struct h *h, int sig);

/*
 * One request. body may be NULL. ctype: NULL means application/json, ""
 * means no Content-Type header. Returns the status, or -1 when the
 * transport failed (then h->last_body says why). *json, if json is not
 * NULL, is the parsed answer or NULL when it is not JSON.
 */
long h_request(struct h *h, const char *method, const char *path,
    const char *body, const char *ctype, json_t **json);

/*
 * A request whose status must be expect; its answer must be JSON, which is
 * returned. body is stolen (may be NULL). path is a printf format.
 */
#define h_call(h, expect, method, body, ...)                                   \
	h_call_(__FILE__, __LINE__, h, expect, method, body, __VA_ARGS__)
json_t *h_call_(const char *file, int line, struct h *h, long expect,
    const char *method, json_t *body, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* Like h_call with a raw body text and content type; answer may be text. */
#define h_call_raw(h, expect, method, body, ctype, ...)                        \
	h_call_raw_(                                                           \
	    __FILE__, __LINE__, h, expect, method, body, ctype, __VA_ARGS__)
const char *h_call_raw_(const char *file, int line, struct h *h, long expect,
    const char *method, const char *body, const char *ctype, const char *fmt,
    ...) __attribute__((format(printf, 8, 9)));

/* The answer must be the contract's error body with this code; field NULL:
 * not checked, "" must be absent, "x*" a prefix, else exact. */
#define h_assert_error(j, code, field)                                         \
	h_assert_error_(__FILE__, __LINE__, j, code, field)
void h_assert_error_(
    const char *file, int line, json_t *j, const char *code, const char *field);

/* Jobs. */
#define h_job_create(h, spec) h_job_create_(__FILE__, __LINE__, h, spec)
json_t *h_job_create_(const char *file, int line, struct h *h, json_t *spec);
#define h_job_get(h, job)  h_call(h, 200, "GET", NULL, "/v1/jobs/%s", job)
#define h_job_wait(h, job) h_call(h, 200, "GET", NULL, "/v1/jobs/%s/wait", job)
/* Poll GET until state is reached; fails after timeout_ms. */
#define h_job_poll(h, job, st, ms)                                             \
	h_job_poll_(__FILE__, __LINE__, h, job, st, ms)
json_t *h_job_poll_(const char *file, int line, struct h *h, const char *job,
    const char *state, int timeout_ms);
/* The job's logs (GET .../logs?query), status 200 required. */
const char *h_job_logs(struct h *h, const char *job, const char *query);
/* The job's logs are the lines "n 1", "n 2", ... with none missing and
 * at least min of them (a counting job's output after a fault). */
void h_assert_counted_lines(struct h *h, const char *job, int min);
/* The same, but one run of at most gap lines may be missing (what a
 * daemon killed between a read and its write had read). */
void h_assert_counted_lines_gap(struct h *h, const char *job, int min, int gap);
/*
 * Stop the daemon (SIGTERM), put its state directory on a tmpfs of size,
 * add conf to its configuration and start it again: a disk that fills.
 * Skips without root.
 */
void h_restart_on_tmpfs(struct h *h, const char *size, const char *conf);
/* The database takes writes: a job called name is created (not started)
 * through the API and its row is in the jobs table. */
void h_assert_db_writable(struct h *h, const char *name);

/* JSON access by path: "a.b", "runs[1].run". NULL when absent. */
json_t *h_at(json_t *root, const char *path);
#define h_str(j, p) h_str_(__FILE__, __LINE__, j, p)
const char *h_str_(const char *file, int line, json_t *j, const char *path);
#define h_int(j, p) h_int_(__FILE__, __LINE__, j, p)
json_int_t h_int_(const char *file, int line, json_t *j, const char *path);
#define h_assert_str(j, p, e) h_assert_str_(__FILE__, __LINE__, j, p, e)
void h_assert_str_(const char *file, int line, json_t *j, const char *path,
    const char *expect);
#define h_assert_int(j, p, e) h_assert_int_(__FILE__, __LINE__, j, p, e)
void h_assert_int_(
    const char *file, int line, json_t *j, const char *path, json_int_t expect);
#define h_assert_null(j, p) h_assert_null_(__FILE__, __LINE__, j, p)
void h_assert_null_(const char *file, int line, json_t *j, const char *path);
/* Fail, printing a message and the JSON value j (may be NULL). */
#define h_fail(j, ...) h_fail_(__FILE__, __LINE__, j, __VA_ARGS__)
void h_fail_(const char *file, int line, json_t *j, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));
/* Parse text as JSON (kept by the harness); NULL if it is not. */
json_t *h_parse(struct h *h, const char *text);
/* "2026-11-21T19:01:15.123Z"? */
int h_is_time(const char *s);

/*
 * Streams (/v1/events, logs?follow=true, wait): open waits until the
 * answer's headers arrived (5 s). Lines are returned without "\n", valid
 * until the next call; NULL at the end of the stream or on timeout
 * (h_stream_ended tells which). Close drops the connection at once.
 */
struct h_stream *h_stream_open(struct h *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Like h_stream_open for answers that only come later (GET .../wait): sends
 * the request and returns after 200 ms, with or without headers. */
struct h_stream *h_stream_begin(struct h *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
long h_stream_status(struct h_stream *s);
const char *h_stream_ctype(struct h_stream *s);
const char *h_stream_line(struct h_stream *s, int timeout_ms);
/* Next event that is not a heartbeat (kept by the harness), or NULL. */
json_t *h_stream_event(struct h_stream *s, int timeout_ms);
int h_stream_ended(struct h_stream *s);
/* Everything received so far and not yet returned as a line. */
const char *h_stream_rest(struct h_stream *s);
void h_stream_close(struct h_stream *s);

/*
 * Raw socket. h_raw_connect returns a connected fd that teardown closes
 * unless h_raw_close was called. h_raw_exchange connects, sends len bytes
 * (interleaved with reading, so a server answering early is seen), then
 * reads until nresp complete responses arrived (0: until EOF), EOF or
 * timeout; returns what was read (kept, NUL-terminated).
 */
int h_raw_connect(struct h *h);
void h_raw_close(struct h *h, int fd);
const char *h_raw_exchange(struct h *h, const void *req, size_t len, int nresp,
    int timeout_ms, size_t *outlen);
/* Status of the first response in buf, -1 if none. */
int h_raw_status(const char *buf);
/* JSON body of the first response in buf (dechunked), or NULL. */
json_t *h_raw_json(struct h *h, const char *buf, size_t len);
/* Number of complete HTTP responses in buf. */
int h_raw_count(const char *buf, size_t len);

/* The daemon answers /v1/health with 200. */
#define h_assert_healthy(h) h_call(h, 200, "GET", NULL, "/v1/health")

/* /proc readers. */
struct h_proc {
	pid_t pid, ppid, pgid, sid;
	char state; /* the kernel's letter */
	char comm[64];
};
/* 0 and fills p, or -1 when /proc/PID is gone. */
int h_proc(pid_t pid, struct h_proc *p);
/* kill(pid, 0) says ESRCH. */
int h_pid_gone(pid_t pid);
/* Poll until /proc/PID is gone (not even a zombie); 1 if so in time. */
int h_wait_gone(pid_t pid, int timeout_ms);
/* Zombies whose parent is ppid. */
int h_zombies(pid_t ppid);
/* A child of ppid named comm (any if NULL) within timeout_ms, else 0. */
pid_t h_child_of(pid_t ppid, const char *comm, int timeout_ms);
/* Remember a job pid so teardown can reap it if it outlives the daemon. */
void h_learn_pid(struct h *h, pid_t pid);

/*
 * Run a program (argv[0] a path) with extra environment entries (NULL or
 * a NULL-terminated list of "K=V"), stdin /dev/null, capturing stdout and
 * stderr (kept). Returns the exit code, 128+N if killed by signal N; fails
 * the test if it runs longer than timeout_ms.
 */
int h_run(struct h *h, const char *const argv[], const char *const env[],
    const char **out, const char **err, int timeout_ms);

/* Helpers. */
int64_t h_now_ms(void);
void h_sleep_ms(int ms);
/* A printf'd string kept by the harness. */
const char *h_fmt(struct h *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Keep a malloc'd block / a JSON reference until teardown; returns it. */
void *h_keep(struct h *h, void *p);
json_t *h_keep_json(struct h *h, json_t *j);

/* harness-sys.c: the system the daemon acts on. */

/* A TCP port on 127.0.0.1 that nobody listens on now. */
int h_free_port(void);

/* A file's text without trailing white space; NULL if it is unreadable. */
const char *h_try_text(struct h *h, const char *path);
/* Write path whole (through a temporary file and rename, so that nobody
 * reads half of it); fails the test on an error. */
void h_put_file(struct h *h, const char *path, const char *text);
/* The same; fails the test if the file cannot be read. */
const char *h_text(struct h *h, const char *path);
/* A "Key:" line's value from /proc/PID/status; NULL if pid is gone. */
const char *h_status_field(struct h *h, pid_t pid, const char *key);
/* The mount point of the cgroup v1 hierarchy holding ctrl; NULL if none. */
const char *h_cg_mount(struct h *h, const char *ctrl);
/* The directory of pid's cgroup in ctrl's hierarchy; NULL if none. */
const char *h_cg_of(struct h *h, pid_t pid, const char *ctrl);
/* The job's cgroup in ctrl's hierarchy, through its pid (".../job-ID"). */
const char *h_job_cg(struct h *h, json_t *job, const char *ctrl);
/* dir/file's text (fails the test if unreadable). */
const char *h_cg_file(struct h *h, const char *dir, const char *file);
/*
 * Mount a tmpfs of size ("16m") on dir (skips without root); teardown
 * unmounts it after the daemon and its processes are gone. The first
 * mount first moves the test program into a private mount namespace when
 * it can, so daemons started after it see the mount and nobody else does.
 */
void h_mount_tmpfs(struct h *h, const char *dir, const char *size);
/* The pids in dir/cgroup.procs, at most max; returns the count. */
int h_cg_pids(struct h *h, const char *dir, pid_t *out, int max);
/*
 * Run sql (one optional text parameter ?1) on the daemon's database,
 * read-only: an array of row objects keyed by column name (integers,
 * strings, nulls).
 */
json_t *h_db_query(struct h *h, const char *sql, const char *bind1);
/* Fail unless the events' "id"s are strictly increasing. */
void h_assert_ids_increasing(json_t *events);
/* Run $SCHEDCTL [--socket DIR/s.sock] ARGS (NULL-terminated) with env;
 * output in h->ctl_out and h->ctl_err; returns the exit code. */
int h_ctlv(struct h *h, const char *const env[], int with_socket, va_list ap);
int h_ctl(struct h *h, ...);
/* h_ctl, failing the test (with both outputs) unless it exits expect. */
#define h_assert_ctl(h, expect, ...)                                           \
	do {                                                                   \
		int rc_ = h_ctl(h, __VA_ARGS__, (const char *)NULL);           \
		if (rc_ != (expect))                                           \
			h_fail(NULL,                                           \
			    "schedctl %s: exit %d, expected %d\nstdout: "      \
			    "%s\nstderr: %s",                                  \
			    #__VA_ARGS__, rc_, (expect), (h)->ctl_out,         \
			    (h)->ctl_err);                                     \
	} while (0)

#endif
