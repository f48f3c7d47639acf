/* SPDX-License-Identifier: ISC */
/*
 * The schedd side of the benchmarks: a C client of the API over keep-alive
 * Unix-socket connections. It only measures; starting the daemon, rounds,
 * references and the report are bench/bench.py's job. Output is one
 * "name value" pair a line so the driver can pool samples across rounds.
 *
 *   spawn   -s SOCK -n N -c C [-p PID] -- ARGV
 *	C threads, each on its own connection: POST /v1/jobs, then
 *	GET /v1/jobs/ID/wait until it is recorded as exited (exit code 0).
 *	Then every job is DELETEd (timed apart), so rounds do not accumulate.
 *   latency -s SOCK -n N -- STAMP
 *	One job at a time, with /v1/events followed on a second connection.
 *	STAMP is bench/stamp-static, which logs when it ran and when it exits.
 *   latency -s SOCK -n N -o FILE -- STAMP
 *	The same for bench/floor, which has no events and no logs: it is
 *	started with FLOOR_STDOUT=FILE, so the stamps are read from FILE, and
 *	POST -> answer, POST -> first instruction and exit -> /wait answer
 *	are measured.
 *   create  -s SOCK -n N -c C [-p PID] [-t SECONDS] -- ARGV
 *	Create N running jobs and leave them (the scale benchmark); with -t,
 *	stop early after SECONDS and say how many were created.
 *   get     -s SOCK -n N -u PATH
 *	GET PATH N times on one connection; latency of each.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"

static const char *opt_sock;
static long opt_n = 2000, opt_c = 1;
static int opt_pid = -1;
static double opt_secs; /* create: time budget, 0 = none */
static int64_t deadline_ns;
static const char *opt_path = "/v1/jobs";
static const char *opt_out; /* latency against the floor: its stamp file */
static const char *opt_json; /* more members of the job's spec */
static char job_body[4096];

static long next_job; /* atomic: jobs handed out */
static int failed;    /* atomic: a thread gave up */

struct worker {
	pthread_t thread;
	long *ids;
	long nids;
	int wait; /* wait for each job to exit */
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: schedd-bench spawn|create -s SOCK -n N -c C [-p PID] "
	    "[-t SECONDS] [-j MEMBERS] -- ARGV\n"
	    "       (-j '\"logs\":{\"direct\":true}': members added to "
	    "the spec)\n"
	    "       schedd-bench latency -s SOCK -n N [-o FILE] -- STAMP\n"
	    "       schedd-bench get -s SOCK -n N -u PATH\n");
	exit(2);
}

static void
make_body(char **argv)
{
	size_t len;
	int i, n;

	len = (size_t)snprintf(job_body, sizeof(job_body), "{\"argv\":[");
	for (i = 0; argv[i] != NULL; i++) {
		if (strchr(argv[i], '"') != NULL || strchr(argv[i], '\\')) {
			fprintf(stderr, "schedd-bench: argv must not need "
					"JSON escapes\n");
			exit(2);
		}
		n = snprintf(job_body + len, sizeof(job_body) - len, "%s\"%s\"",
		    i > 0 ? "," : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof(job_body) - len)
			goto long_;
		len += (size_t)n;
	}
	n = snprintf(job_body + len, sizeof(job_body) - len, "]%s%s}",
	    opt_json != NULL ? "," : "", opt_json != NULL ? opt_json : "");
	if (n < 0 || (size_t)n >= sizeof(job_body) - len)
		goto long_;
	return;
long_:
	fprintf(stderr, "schedd-bench: argv and -j too long\n");
	exit(2);
}

static void
fail(const char *what, const struct bench_resp *r)
{
	const char *state = NULL, *error = NULL;

	if (r != NULL && r->body != NULL) {
		state = strstr(r->body, "\"state\":");
		error = strstr(r->body, "\"error\":");
	}
	if (state != NULL)
		fprintf(stderr, "schedd-bench: %s: status %d: %.40s %.300s\n",
		    what, r->status, state, error != NULL ? error : "");
	else
		fprintf(stderr, "schedd-bench: %s: status %d: %.300s\n", what,
		    r != NULL ? r->status : 0,
		    r != NULL && r->body != NULL ? r->body : strerror(errno));
	__atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct bench_conn c;
	struct bench_resp r;
	char path[128];
	long id;

	memset(&r, 0, sizeof(r));
	if (bench_connect(&c, opt_sock, 0) == -1) {
		fail("connect", NULL);
		return (NULL);
	}
	while (!__atomic_load_n(&failed, __ATOMIC_RELAXED) &&
	       (deadline_ns == 0 || bench_now_ns() < deadline_ns) &&
	       __atomic_fetch_add(&next_job, 1, __ATOMIC_RELAXED) < opt_n) {
		if (bench_request(&c, "POST", "/v1/jobs", job_body, &r) == -1 ||
		    r.status != 201 ||
		    strstr(r.body, "\"state\":\"running\"") == NULL) {
			fail("POST /v1/jobs", &r);
			break;
		}
		id = (long)bench_json_int(r.body, "id");
		w->ids[w->nids++] = id;
		if (!w->wait)
			continue;
		snprintf(path, sizeof(path), "/v1/jobs/%ld/wait", id);
		if (bench_request(&c, "GET", path, NULL, &r) == -1 ||
		    r.status != 200 ||
		    strstr(r.body, "\"state\":\"exited\"") == NULL ||
		    strstr(r.body, "\"exit_code\":0,") == NULL) {
			fail("GET wait", &r);
			break;
		}
	}
	bench_resp_free(&r);
	bench_conn_close(&c);
	return (NULL);
}

static void *
deleter_main(void *arg)
{
	struct worker *w = arg;
	struct bench_conn c;
	struct bench_resp r;
	char path[128];
	long i;

	memset(&r, 0, sizeof(r));
	if (bench_connect(&c, opt_sock, 0) == -1) {
		fail("connect", NULL);
		return (NULL);
	}
	for (i = 0; i < w->nids; i++) {
		snprintf(path, sizeof(path), "/v1/jobs/%ld", w->ids[i]);
		if (bench_request(&c, "DELETE", path, NULL, &r) == -1 ||
		    r.status != 200) {
			fail("DELETE", &r);
			break;
		}
	}
	bench_resp_free(&r);
	bench_conn_close(&c);
	return (NULL);
}

static double
run_threads(struct worker *w, void *(*fn)(void *))
{
	int64_t t0;
	long i;

	t0 = bench_now_ns();
	for (i = 0; i < opt_c; i++)
		if (pthread_create(&w[i].thread, NULL, fn, &w[i]) != 0) {
			perror("pthread_create");
			exit(1);
		}
	for (i = 0; i < opt_c; i++)
		pthread_join(w[i].thread, NULL);
	return ((double)(bench_now_ns() - t0) / 1e9);
}

static void
print_daemon(const char *tag)
{
	long rss, hwm;

	if (opt_pid <= 0)
		return;
	rss = bench_rss_kb(opt_pid, &hwm);
	printf("rss_kb_%s %ld\nhwm_kb_%s %ld\n", tag, rss, tag, hwm);
}

/* spawn (wait = 1) and create (wait = 0). */
static int
cmd_spawn(int wait)
{
	struct worker *w;
	double el;
	int64_t cpu0, cpu1;
	long i, done;

	if ((w = calloc((size_t)opt_c, sizeof(*w))) == NULL)
		return (1);
	for (i = 0; i < opt_c; i++) {
		w[i].wait = wait;
		if ((w[i].ids = calloc((size_t)opt_n, sizeof(long))) == NULL)
			return (1);
	}
	print_daemon("before");
	if (opt_secs > 0)
		deadline_ns = bench_now_ns() + (int64_t)(opt_secs * 1e9);
	cpu0 = opt_pid > 0 ? bench_cpu_ns(opt_pid) : -1;
	el = run_threads(w, worker_main);
	cpu1 = opt_pid > 0 ? bench_cpu_ns(opt_pid) : -1;
	if (failed)
		return (1);
	for (i = 0, done = 0; i < opt_c; i++)
		done += w[i].nids;
	printf("created %ld\n", done);
	printf("rate %.1f\nelapsed_s %.4f\n", (double)done / el, el);
	if (cpu0 >= 0 && cpu1 >= 0 && done > 0)
		printf("daemon_cpu_us_per_job %.1f\n",
		    (double)(cpu1 - cpu0) / 1e3 / (double)done);
	print_daemon("loaded");
	if (!wait)
		return (0);
	cpu0 = opt_pid > 0 ? bench_cpu_ns(opt_pid) : -1;
	el = run_threads(w, deleter_main);
	cpu1 = opt_pid > 0 ? bench_cpu_ns(opt_pid) : -1;
	if (failed)
		return (1);
	printf("delete_rate %.1f\n", (double)done / el);
	if (cpu0 >= 0 && cpu1 >= 0 && done > 0)
		printf("daemon_cpu_us_per_delete %.1f\n",
		    (double)(cpu1 - cpu0) / 1e3 / (double)done);
	print_daemon("after_delete");
	for (i = 0; i < opt_c; i++)
		free(w[i].ids);
	free(w);
	return (0);
}

/* Latency */

#define LAT_RING 256

/* An event line about a job, stamped when it was read. */
struct lat_seen {
	long job_id;
	int exited; /* else running */
	int64_t at_ns;
};

struct lat_state {
	struct bench_conn ev;  /* the /v1/events stream */
	struct bench_resp evr; /* its undelivered line data */
	struct bench_conn api;
	struct bench_resp r;
	long id;        /* the job being watched */
	int64_t t_resp; /* api answer arrived */
	/* Events may be read before the POST answer tells the job's id (or
	 * in the same poll round), so every running/exited event is kept. */
	struct lat_seen seen[LAT_RING];
	unsigned int nseen;
};

/* When the event of that kind for the watched job was read, or 0. */
static int64_t
lat_seen_at(const struct lat_state *s, int exited)
{
	unsigned int i, n = s->nseen < LAT_RING ? s->nseen : LAT_RING;

	for (i = 0; i < n; i++)
		if (s->seen[i].job_id == s->id && s->seen[i].exited == exited)
			return (s->seen[i].at_ns);
	return (0);
}

/* Consume complete event lines; keep the running and exited ones. */
static void
lat_events(struct lat_state *s, int64_t now)
{
	struct lat_seen *e;
	char *line = s->evr.body, *nl;
	size_t used;
	int exited;

	if (line == NULL)
		return;
	while ((nl = memchr(line, '\n',
		    s->evr.body_len - (size_t)(line - s->evr.body))) != NULL) {
		*nl = '\0';
		exited = strstr(line, "\"type\":\"exited\"") != NULL;
		if (exited || strstr(line, "\"type\":\"running\"") != NULL) {
			e = &s->seen[s->nseen++ % LAT_RING];
			e->job_id = (long)bench_json_int(line, "job_id");
			e->exited = exited;
			e->at_ns = now;
		}
		line = nl + 1;
	}
	used = (size_t)(line - s->evr.body);
	memmove(s->evr.body, line, s->evr.body_len - used);
	s->evr.body_len -= used;
	s->evr.body[s->evr.body_len] = '\0';
}

/*
 * Poll both connections until the API answer is in and, when want_exit,
 * the exited event too. Every arrival is stamped when it is read.
 */
static int
lat_pump(struct lat_state *s, int want_exit)
{
	struct pollfd pfd[2];
	int64_t now;
	int rc, got = 0;

	for (;;) {
		if (got && (!want_exit || lat_seen_at(s, 1) != 0))
			return (0);
		pfd[0].fd = s->ev.fd;
		pfd[1].fd = s->api.fd;
		pfd[0].events = pfd[1].events = POLLIN;
		if (poll(pfd, 2, 10000) <= 0) {
			fprintf(stderr, "schedd-bench: latency: timed out\n");
			return (-1);
		}
		now = bench_now_ns();
		if (pfd[0].revents != 0) {
			if (bench_fill(&s->ev) <= 0)
				return (-1);
			while ((rc = bench_parse_chunk(&s->ev, &s->evr)) == 1)
				;
			if (rc == -1)
				return (-1);
			lat_events(s, now);
		}
		if (pfd[1].revents != 0 && !got) {
			if (bench_fill(&s->api) <= 0)
				return (-1);
			if ((rc = bench_parse_response(&s->api, &s->r)) == -1)
				return (-1);
			if (rc == 1) {
				got = 1;
				s->t_resp = now;
			}
		}
	}
}

static int
cmd_latency(void)
{
	struct lat_state s;
	struct bench_samples create, create_ev, exec, exit_ev, exit_wait, at;
	char req[8192], path[128];
	const char *p;
	int64_t t0, st_ns, ex_ns, t_run, t_exit;
	long i;
	int n;

	memset(&s, 0, sizeof(s));
	s.id = -1;
	memset(&create, 0, sizeof(create));
	memset(&create_ev, 0, sizeof(create_ev));
	memset(&exec, 0, sizeof(exec));
	memset(&exit_ev, 0, sizeof(exit_ev));
	memset(&exit_wait, 0, sizeof(exit_wait));
	memset(&at, 0, sizeof(at));
	if (bench_connect(&s.ev, opt_sock, 0) == -1 ||
	    bench_connect(&s.api, opt_sock, 0) == -1) {
		perror("connect");
		return (1);
	}
	n = bench_format(req, sizeof(req), "GET", "/v1/events", NULL);
	if (bench_write_all(s.ev.fd, req, (size_t)n) == -1)
		return (1);
	while ((n = bench_parse_head(&s.ev, &s.evr)) == 0)
		if (bench_fill(&s.ev) <= 0)
			return (1);
	if (n == -1 || s.evr.status != 200 || !s.evr.chunked) {
		fprintf(stderr, "schedd-bench: /v1/events: bad answer\n");
		return (1);
	}
	for (i = 0; i < opt_n; i++) {
		s.id = -1;
		n = bench_format(
		    req, sizeof(req), "POST", "/v1/jobs", job_body);
		t0 = bench_now_ns();
		if (bench_write_all(s.api.fd, req, (size_t)n) == -1 ||
		    lat_pump(&s, 0) == -1)
			return (1);
		if (s.r.status != 201 ||
		    strstr(s.r.body, "\"state\":\"running\"") == NULL) {
			fail("POST /v1/jobs", &s.r);
			return (1);
		}
		s.id = (long)bench_json_int(s.r.body, "id");
		bench_samples_add(&create, (double)(s.t_resp - t0) / 1e3);
		snprintf(path, sizeof(path), "/v1/jobs/%ld/wait", s.id);
		n = bench_format(req, sizeof(req), "GET", path, NULL);
		if (bench_write_all(s.api.fd, req, (size_t)n) == -1 ||
		    lat_pump(&s, 1) == -1)
			return (1);
		if (s.r.status != 200 ||
		    strstr(s.r.body, "\"state\":\"exited\"") == NULL) {
			fail("GET wait", &s.r);
			return (1);
		}
		if ((t_run = lat_seen_at(&s, 0)) != 0)
			bench_samples_add(
			    &create_ev, (double)(t_run - t0) / 1e3);
		t_exit = lat_seen_at(&s, 1);
		snprintf(path, sizeof(path), "/v1/jobs/%ld/logs", s.id);
		if (bench_request(&s.api, "GET", path, NULL, &s.r) == -1 ||
		    s.r.status != 200 || (p = strstr(s.r.body, "S ")) == NULL) {
			fail("GET logs", &s.r);
			return (1);
		}
		st_ns = strtoll(p + 2, NULL, 10);
		if ((p = strstr(s.r.body, "E ")) == NULL) {
			fail("GET logs: no exit stamp", &s.r);
			return (1);
		}
		ex_ns = strtoll(p + 2, NULL, 10);
		bench_samples_add(&exec, (double)(st_ns - t0) / 1e3);
		bench_samples_add(&at, (double)t0 / 1e6);
		bench_samples_add(&exit_ev, (double)(t_exit - ex_ns) / 1e3);
		bench_samples_add(&exit_wait, (double)(s.t_resp - ex_ns) / 1e3);
		snprintf(path, sizeof(path), "/v1/jobs/%ld", s.id);
		if (bench_request(&s.api, "DELETE", path, NULL, &s.r) == -1 ||
		    s.r.status != 200) {
			fail("DELETE", &s.r);
			return (1);
		}
	}
	bench_samples_print("create_to_running_resp_us", &create);
	bench_samples_print("create_to_running_event_us", &create_ev);
	bench_samples_print("create_to_exec_us", &exec);
	bench_samples_print("exit_to_event_us", &exit_ev);
	bench_samples_print("exit_to_wait_resp_us", &exit_wait);
	/* When each POST was sent (CLOCK_MONOTONIC, ms), in the order of the
	 * samples: outliers can be set against a trace of the daemon. */
	bench_samples_print("post_at_ms", &at);
	fprintf(stderr,
	    "latency: create->running p50 %.0f us, exec p50 %.0f us, "
	    "exit->event p50 %.0f p99 %.0f us\n",
	    bench_samples_pct(&create, 50), bench_samples_pct(&exec, 50),
	    bench_samples_pct(&exit_ev, 50), bench_samples_pct(&exit_ev, 99));
	bench_samples_free(&create);
	bench_samples_free(&create_ev);
	bench_samples_free(&exec);
	bench_samples_free(&exit_ev);
	bench_samples_free(&exit_wait);
	bench_samples_free(&at);
	bench_resp_free(&s.r);
	bench_resp_free(&s.evr);
	bench_conn_close(&s.api);
	bench_conn_close(&s.ev);
	return (0);
}

/*
 * The latency probe against bench/floor: POST, wait, then the job's "S <ns>"
 * and "E <ns>" stamps from the file the floor gives its jobs as stdout
 * (FLOOR_STDOUT).
 */
static int
cmd_latency_file(void)
{
	struct bench_conn c;
	struct bench_resp r;
	struct bench_samples create, exec, exit_wait, at;
	char path[128], buf[512], *p, *e;
	int64_t t0, t_resp, t_wait, st_ns;
	off_t off;
	ssize_t n;
	long i, id;
	int fd;

	memset(&r, 0, sizeof(r));
	memset(&create, 0, sizeof(create));
	memset(&exec, 0, sizeof(exec));
	memset(&exit_wait, 0, sizeof(exit_wait));
	memset(&at, 0, sizeof(at));
	if ((fd = open(opt_out, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (off = lseek(fd, 0, SEEK_END)) == -1) {
		perror(opt_out);
		return (1);
	}
	if (bench_connect(&c, opt_sock, 0) == -1) {
		perror("connect");
		return (1);
	}
	for (i = 0; i < opt_n; i++) {
		t0 = bench_now_ns();
		if (bench_request(&c, "POST", "/v1/jobs", job_body, &r) == -1 ||
		    r.status != 201 ||
		    strstr(r.body, "\"state\":\"running\"") == NULL) {
			fail("POST /v1/jobs", &r);
			return (1);
		}
		t_resp = bench_now_ns();
		id = (long)bench_json_int(r.body, "id");
		bench_samples_add(&create, (double)(t_resp - t0) / 1e3);
		snprintf(path, sizeof(path), "/v1/jobs/%ld/wait", id);
		if (bench_request(&c, "GET", path, NULL, &r) == -1 ||
		    r.status != 200 ||
		    strstr(r.body, "\"state\":\"exited\"") == NULL) {
			fail("GET wait", &r);
			return (1);
		}
		t_wait = bench_now_ns();
		/* The job wrote "S <ns>\nE <ns>\n" before it exited. */
		if ((n = pread(fd, buf, sizeof(buf) - 1, off)) <= 0) {
			fprintf(
			    stderr, "schedd-bench: %s: no stamp\n", opt_out);
			return (1);
		}
		buf[n] = '\0';
		if ((p = strstr(buf, "S ")) == NULL ||
		    (e = strstr(buf, "E ")) == NULL) {
			fprintf(
			    stderr, "schedd-bench: %s: bad stamp\n", opt_out);
			return (1);
		}
		off += n;
		st_ns = strtoll(p + 2, NULL, 10);
		bench_samples_add(&exec, (double)(st_ns - t0) / 1e3);
		bench_samples_add(&exit_wait,
		    (double)(t_wait - strtoll(e + 2, NULL, 10)) / 1e3);
		bench_samples_add(&at, (double)t0 / 1e6);
		snprintf(path, sizeof(path), "/v1/jobs/%ld", id);
		if (bench_request(&c, "DELETE", path, NULL, &r) == -1 ||
		    r.status != 200) {
			fail("DELETE", &r);
			return (1);
		}
	}
	bench_samples_print("create_to_running_resp_us", &create);
	bench_samples_print("create_to_exec_us", &exec);
	bench_samples_print("exit_to_wait_resp_us", &exit_wait);
	bench_samples_print("post_at_ms", &at);
	bench_samples_free(&create);
	bench_samples_free(&exec);
	bench_samples_free(&exit_wait);
	bench_samples_free(&at);
	bench_resp_free(&r);
	bench_conn_close(&c);
	close(fd);
	return (0);
}

static int
cmd_get(void)
{
	struct bench_conn c;
	struct bench_resp r;
	struct bench_samples lat;
	int64_t t0;
	long i;

	memset(&r, 0, sizeof(r));
	memset(&lat, 0, sizeof(lat));
	if (bench_connect(&c, opt_sock, 0) == -1) {
		perror("connect");
		return (1);
	}
	for (i = 0; i < opt_n; i++) {
		t0 = bench_now_ns();
		if (bench_request(&c, "GET", opt_path, NULL, &r) == -1 ||
		    r.status != 200) {
			fail(opt_path, &r);
			return (1);
		}
		bench_samples_add(&lat, (double)(bench_now_ns() - t0) / 1e3);
	}
	printf("body_bytes %zu\n", r.body_len);
	bench_samples_print("get_us", &lat);
	bench_samples_free(&lat);
	bench_resp_free(&r);
	bench_conn_close(&c);
	return (0);
}

int
main(int argc, char **argv)
{
	const char *cmd;
	int ch;

	if (argc < 2)
		usage();
	cmd = argv[1];
	argc--;
	argv++;
	while ((ch = getopt(argc, argv, "s:n:c:p:u:t:o:j:")) != -1) {
		switch (ch) {
		case 's':
			opt_sock = optarg;
			break;
		case 'n':
			opt_n = atol(optarg);
			break;
		case 'c':
			opt_c = atol(optarg);
			break;
		case 'p':
			opt_pid = atoi(optarg);
			break;
		case 'u':
			opt_path = optarg;
			break;
		case 't':
			opt_secs = atof(optarg);
			break;
		case 'o':
			opt_out = optarg;
			break;
		case 'j':
			opt_json = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (opt_sock == NULL || opt_n < 1 || opt_c < 1)
		usage();
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (strcmp(cmd, "get") == 0)
		return (cmd_get());
	if (argc < 1)
		usage();
	make_body(argv);
	if (strcmp(cmd, "spawn") == 0)
		return (cmd_spawn(1));
	if (strcmp(cmd, "create") == 0)
		return (cmd_spawn(0));
	if (strcmp(cmd, "latency") == 0)
		return (opt_out != NULL ? cmd_latency_file() : cmd_latency());
	usage();
	return (2);
}
