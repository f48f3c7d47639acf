/* SPDX-License-Identifier: ISC */
/*
 * Harness readers of the system the daemon acts on: files under /proc and
 * cgroupfs, a job's cgroup in each v1 hierarchy, the daemon's database
 * (read-only), and schedctl runs. Every returned value is kept by the
 * harness, as everywhere in it; failures fail the running test.
 */
#include "config.h"

#include <sys/mount.h>
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "tests/integration/harness.h"
#include "tests/integration/harness-int.h"

#define H_CTL_MAXARGS 32
#define H_MAXMOUNTS   4

/* Mounts made by h_mount_tmpfs, unmounted at teardown. */
static char h_mounts[H_MAXMOUNTS][H_PATH_MAX];
static int h_nmounts;

const char *
h_try_text(struct h *h, const char *path)
{
	size_t len;
	char *t;

	if ((t = h_keep(h, h_read_file(path, &len))) == NULL)
		return (NULL);
	while (len > 0 && (t[len - 1] == '\n' || t[len - 1] == ' '))
		t[--len] = '\0';
	return (t);
}

void
h_put_file(struct h *h, const char *path, const char *text)
{
	const char *tmp = h_fmt(h, "%s.h-tmp", path);
	size_t len = strlen(text);
	int fd;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) ==
	    -1)
		fail_msg("open %s: %s", tmp, strerror(errno));
	if (write(fd, text, len) != (ssize_t)len)
		fail_msg("write %s: %s", tmp, strerror(errno));
	close(fd);
	if (rename(tmp, path) == -1)
		fail_msg("rename %s: %s", tmp, strerror(errno));
}

const char *
h_text(struct h *h, const char *path)
{
	const char *t = h_try_text(h, path);

	if (t == NULL)
		fail_msg("read %s: %s", path, strerror(errno));
	return (t);
}

const char *
h_status_field(struct h *h, pid_t pid, const char *key)
{
	const char *all = h_try_text(h, h_fmt(h, "/proc/%d/status", (int)pid));
	size_t klen = strlen(key);
	const char *p, *nl;

	if (all == NULL)
		return (NULL);
	for (p = all; p != NULL && *p != '\0';
	     p = (nl = strchr(p, '\n')) != NULL ? nl + 1 : NULL) {
		if (strncmp(p, key, klen) != 0 || p[klen] != ':')
			continue;
		p += klen + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		nl = strchr(p, '\n');
		return (
		    h_fmt(h, "%.*s", (int)(nl ? nl - p : (long)strlen(p)), p));
	}
	h_fail(NULL, "/proc/%d/status has no %s", (int)pid, key);
}

const char *
h_cg_mount(struct h *h, const char *ctrl)
{
	const char *all = h_text(h, "/proc/self/mountinfo");
	char *copy = h_keep(h, strdup(all)), *line, *save = NULL, *dash;
	char mnt[512], fstype[64], src[256], opts[512], *tok, *save2;

	for (line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1 ||
		    (dash = strstr(line, " - ")) == NULL ||
		    sscanf(dash + 3, "%63s %255s %511s", fstype, src, opts) !=
			3 ||
		    strcmp(fstype, "cgroup") != 0)
			continue;
		for (tok = strtok_r(opts, ",", &save2); tok != NULL;
		     tok = strtok_r(NULL, ",", &save2))
			if (strcmp(tok, ctrl) == 0)
				return (h_fmt(h, "%s", mnt));
	}
	return (NULL);
}

const char *
h_cg_of(struct h *h, pid_t pid, const char *ctrl)
{
	const char *all, *mnt = h_cg_mount(h, ctrl);
	char *copy, *line, *save = NULL, *c1, *c2, *tok, *save2;

	if (mnt == NULL || (all = h_try_text(h,
				h_fmt(h, "/proc/%d/cgroup", (int)pid))) == NULL)
		return (NULL);
	copy = h_keep(h, strdup(all));
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if ((c1 = strchr(line, ':')) == NULL ||
		    (c2 = strchr(c1 + 1, ':')) == NULL)
			continue;
		*c2 = '\0';
		for (tok = strtok_r(c1 + 1, ",", &save2); tok != NULL;
		     tok = strtok_r(NULL, ",", &save2))
			if (strcmp(tok, ctrl) == 0)
				return (h_fmt(h, "%s%s", mnt, c2 + 1));
	}
	return (NULL);
}

const char *
h_job_cg(struct h *h, json_t *job, const char *ctrl)
{
	pid_t pid = (pid_t)h_int(job, "pid");
	const char *dir = h_cg_of(h, pid, ctrl), *want, *base;

	if (dir == NULL)
		h_fail(job, "pid %d has no %s cgroup", (int)pid, ctrl);
	want = h_fmt(h, "job-%lld", (long long)h_int(job, "id"));
	base = strrchr(dir, '/');
	if (base == NULL || strcmp(base + 1, want) != 0)
		h_fail(job, "pid %d is in %s cgroup %s, not .../%s", (int)pid,
		    ctrl, dir, want);
	return (dir);
}

const char *
h_cg_file(struct h *h, const char *dir, const char *file)
{
	return (h_text(h, h_fmt(h, "%s/%s", dir, file)));
}

int
h_cg_pids(struct h *h, const char *dir, pid_t *out, int max)
{
	const char *t = h_cg_file(h, dir, "cgroup.procs");
	char *end;
	long v;
	int n = 0;

	while (*t != '\0' && n < max) {
		v = strtol(t, &end, 10);
		if (end == t)
			break;
		out[n++] = (pid_t)v;
		t = end;
		while (*t == '\n')
			t++;
	}
	return (n);
}

json_t *
h_db_query(struct h *h, const char *sql, const char *bind1)
{
	const char *path = h_fmt(h, "%s/schedd.db", h->state);
	json_t *all = h_keep_json(h, json_array()), *row, *v;
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int rc, i;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		fail_msg("open %s", path);
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    (bind1 != NULL && sqlite3_bind_text(st, 1, bind1, -1,
				  SQLITE_STATIC) != SQLITE_OK)) {
		sqlite3_finalize(st);
		sqlite3_close(db);
		fail_msg("%s: prepare failed", sql);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row = json_object();
		for (i = 0; i < sqlite3_column_count(st); i++) {
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_INTEGER:
				v = json_integer(sqlite3_column_int64(st, i));
				break;
			case SQLITE_NULL:
				v = json_null();
				break;
			default:
				v = json_string(
				    (const char *)sqlite3_column_text(st, i));
				break;
			}
			json_object_set_new(row, sqlite3_column_name(st, i), v);
		}
		json_array_append_new(all, row);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (rc != SQLITE_DONE)
		fail_msg("%s: step failed (%d)", sql, rc);
	return (all);
}

void
h_assert_ids_increasing(json_t *events)
{
	json_int_t prev = 0, id;
	json_t *ev;
	size_t i;

	json_array_foreach (events, i, ev) {
		id = h_int(ev, "id");
		if (id <= prev)
			h_fail(ev,
			    "event %zu: id %" JSON_INTEGER_FORMAT
			    " after %" JSON_INTEGER_FORMAT,
			    i, id, prev);
		prev = id;
	}
}

int
h_ctlv(struct h *h, const char *const env[], int with_socket, va_list ap)
{
	const char *argv[H_CTL_MAXARGS + 4], *a, *bin = getenv("SCHEDCTL");
	int n = 0;

	if (bin == NULL || access(bin, X_OK) == -1)
		fail_msg(
		    "$SCHEDCTL (%s) is not an executable", bin ? bin : "unset");
	argv[n++] = bin;
	if (with_socket) {
		argv[n++] = "--socket";
		argv[n++] = h->sock;
	}
	while ((a = va_arg(ap, const char *)) != NULL && n < H_CTL_MAXARGS)
		argv[n++] = a;
	argv[n] = NULL;
	return (h_run(h, argv, env, &h->ctl_out, &h->ctl_err, 30000));
}

int
h_ctl(struct h *h, ...)
{
	va_list ap;
	int rc;

	va_start(ap, h);
	rc = h_ctlv(h, NULL, 1, ap);
	va_end(ap);
	return (rc);
}

void
h_mount_tmpfs(struct h *h, const char *dir, const char *size)
{
	static int private_ns;

	if (geteuid() != 0)
		h_skip(h, "mounting a tmpfs needs root");
	if (h_nmounts == H_MAXMOUNTS)
		fail_msg("h_mount_tmpfs: more than %d mounts", H_MAXMOUNTS);
	/*
	 * Best effort: a private mount namespace for the test program, so
	 * that a mount it leaves (killed before teardown) dies with it. It
	 * fails once threads run (CLONE_FS); teardown unmounts anyway.
	 */
	if (!private_ns && unshare(CLONE_NEWNS) == 0 &&
	    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
		private_ns = 1;
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV,
		h_fmt(h, "size=%s,mode=0700", size)) == -1)
		fail_msg("mount tmpfs on %s: %s", dir, strerror(errno));
	snprintf(h_mounts[h_nmounts++], H_PATH_MAX, "%s", dir);
}

void
h_sys_cleanup(struct h *h)
{
	(void)h;
	while (h_nmounts > 0) {
		h_nmounts--;
		if (umount2(h_mounts[h_nmounts], MNT_DETACH) == -1)
			fprintf(stderr, "harness: umount %s: %s\n",
			    h_mounts[h_nmounts], strerror(errno));
	}
}

int
h_free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, port;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		fail_msg("no free port: %s", strerror(errno));
	port = ntohs(sin.sin_port);
	close(fd);
	return (port);
}
