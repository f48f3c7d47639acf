/* SPDX-License-Identifier: ISC */
/*
 * The cgroup module's shared half: cgroup_detect(), which picks the v1 or
 * v2 backend from what the machine mounts and offers to our cgroup, and
 * the helpers both backends use (cgroup-int.h): parsing /proc/self/cgroup
 * and mountinfo, job directory names built from ids only, one-file reads
 * and writes, and signalling the members of a cgroup. It never creates a
 * cgroup outside the one the daemon was started in, and never signals pid
 * 1, itself, or a pid not read from a job's own cgroup.procs.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/clock.h"
#include "daemon/cgroup-int.h"
#include "daemon/cgroup.h"
#include "daemon/log.h"
#include "daemon/xmalloc.h"
#include "proto/errors.h"
#include "proto/util.h"

#define CGROUP_SUBTREE_MAX 64
#define CGROUP_BASES_MAX   16

/*
 * Directories held open (O_PATH) so that paths beneath them are opened
 * relative to the fd: the kernel then walks "job-7/cpu.shares" rather
 * than all of /sys/fs/cgroup/cpu/.../schedd/job-7/cpu.shares, and every
 * component of a cgroupfs walk takes kernfs locks. That walk led the
 * daemon's cost per job (bench/RESULTS.md, section 8).
 */
static struct cgroup_base {
	char dir[PATH_MAX];
	size_t len;
	int fd;
} cg_bases[CGROUP_BASES_MAX];
static int cg_nbases;

void
cgroup_env_defaults(const struct cgroup_env *env, struct cgroup_env *out)
{
	static const struct cgroup_env none;

	if (env == NULL)
		env = &none;
	out->fs_root = env->fs_root != NULL ? env->fs_root : "/sys/fs/cgroup";
	out->self_cgroup =
	    env->self_cgroup != NULL ? env->self_cgroup : "/proc/self/cgroup";
	out->mountinfo =
	    env->mountinfo != NULL ? env->mountinfo : "/proc/self/mountinfo";
	out->subtree = env->subtree != NULL ? env->subtree : "schedd";
	out->move_self = env->move_self;
}

int
cgroup_name_valid(const char *name)
{
	size_t i, len;

	len = strlen(name);
	if (len == 0 || len > CGROUP_SUBTREE_MAX || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return (0);
	for (i = 0; i < len; i++) {
		if ((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '.' ||
		    name[i] == '_' || name[i] == '-' || name[i] == '@')
			continue;
		return (0);
	}
	return (1);
}

int
cgroup_has_token(const char *list, const char *tok)
{
	const char *p = list, *end;
	size_t toklen = strlen(tok);

	if (toklen == 0)
		return (0);
	while (*p != '\0') {
		p += strspn(p, ", \t\n");
		end = p + strcspn(p, ", \t\n");
		if ((size_t)(end - p) == toklen && memcmp(p, tok, toklen) == 0)
			return (1);
		p = end;
	}
	return (0);
}

int
cgroup_parse_self(const char *line, struct cgroup_selfline *sl)
{
	const char *c1, *c2;
	char num[16];
	const char *errstr;
	size_t n;

	memset(sl, 0, sizeof(*sl));
	if ((c1 = strchr(line, ':')) == NULL ||
	    (c2 = strchr(c1 + 1, ':')) == NULL)
		goto bad;
	n = (size_t)(c1 - line);
	if (n == 0 || n >= sizeof(num))
		goto bad;
	memcpy(num, line, n);
	num[n] = '\0';
	sl->id = (int)util_strtonum(num, 0, INT_MAX, &errstr);
	if (errstr != NULL)
		goto bad;
	n = (size_t)(c2 - c1 - 1);
	if (n >= sizeof(sl->controllers))
		goto bad;
	memcpy(sl->controllers, c1 + 1, n);
	sl->controllers[n] = '\0';
	n = strcspn(c2 + 1, "\n");
	if (n == 0 || n >= sizeof(sl->path) || c2[1] != '/')
		goto bad;
	memcpy(sl->path, c2 + 1, n);
	sl->path[n] = '\0';
	return (0);
bad:
	errno = EINVAL;
	return (-1);
}

/* Copy a mountinfo field, turning the kernel's \ooo escapes back. */
static int
cgroup_unescape(char *dst, size_t len, const char *src)
{
	size_t o = 0;

	while (*src != '\0') {
		if (o + 1 >= len)
			return (-1);
		if (src[0] == '\\' && src[1] >= '0' && src[1] <= '3' &&
		    src[2] >= '0' && src[2] <= '7' && src[3] >= '0' &&
		    src[3] <= '7') {
			dst[o++] = (char)((src[1] - '0') * 64 +
					  (src[2] - '0') * 8 + (src[3] - '0'));
			src += 4;
		} else
			dst[o++] = *src++;
	}
	dst[o] = '\0';
	return (0);
}

int
cgroup_parse_mountinfo(const char *line, struct cgroup_mount *m)
{
	char *copy, *tok, *save;
	int field, after_dash = -1, rc = -1;

	memset(m, 0, sizeof(*m));
	copy = xstrdup(line);
	/*
	 * "ID PARENT MAJ:MIN ROOT POINT OPTS [OPTIONAL...] - FSTYPE SOURCE
	 * SUPER": the optional fields make everything after the dash float.
	 */
	for (field = 0, tok = strtok_r(copy, " \n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \n", &save), field++) {
		if (after_dash < 0) {
			if (field == 3 && cgroup_unescape(m->root,
					      sizeof(m->root), tok) == -1)
				goto out;
			if (field == 4 && cgroup_unescape(m->point,
					      sizeof(m->point), tok) == -1)
				goto out;
			if (field >= 6 && strcmp(tok, "-") == 0)
				after_dash = field;
			continue;
		}
		if (field == after_dash + 1) {
			if (util_strlcpy(m->fstype, tok, sizeof(m->fstype)) >=
			    sizeof(m->fstype))
				goto out;
		} else if (field == after_dash + 3) {
			if (util_strlcpy(m->opts, tok, sizeof(m->opts)) >=
			    sizeof(m->opts))
				goto out;
		}
	}
	if (after_dash < 0 || field < after_dash + 4 || m->root[0] != '/' ||
	    m->point[0] != '/')
		goto out;
	rc = 0;
out:
	free(copy);
	if (rc == -1)
		errno = EINVAL;
	return (rc);
}

int
cgroup_self_path(const char *file, const char *ctl, char *buf, size_t len)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	struct cgroup_selfline sl;
	int rc = -1, found = 0, saved;

	if ((f = fopen(file, "re")) == NULL)
		return (-1);
	while (!found && getline(&line, &cap, f) != -1) {
		if (cgroup_parse_self(line, &sl) == -1)
			continue;
		if (ctl == NULL)
			found = sl.id == 0 && sl.controllers[0] == '\0';
		else
			found =
			    sl.id != 0 && cgroup_has_token(sl.controllers, ctl);
	}
	if (!found)
		errno = ENOENT;
	else if (util_strlcpy(buf, sl.path, len) >= len)
		errno = ENAMETOOLONG;
	else
		rc = 0;
	saved = errno;
	free(line);
	fclose(f);
	errno = saved;
	return (rc);
}

/* 1 if path is dir or lies beneath it. */
static int
cgroup_beneath(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		return (1);
	return (
	    strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/'));
}

int
cgroup_find_mount(const char *mountinfo, const char *fs_root, const char *ctl,
    struct cgroup_mount *m)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	struct cgroup_mount *cur;
	int have = 0, saved;

	if ((f = fopen(mountinfo, "re")) == NULL)
		return (-1);
	cur = xmalloc(sizeof(*cur));
	while (getline(&line, &cap, f) != -1) {
		if (cgroup_parse_mountinfo(line, cur) == -1)
			continue;
		if (ctl == NULL ? strcmp(cur->fstype, "cgroup2") != 0
				: strcmp(cur->fstype, "cgroup") != 0 ||
				      !cgroup_has_token(cur->opts, ctl))
			continue;
		if (fs_root != NULL && cgroup_beneath(cur->point, fs_root)) {
			*m = *cur;
			have = 2;
			break;
		}
		if (!have) {
			*m = *cur;
			have = 1;
		}
	}
	saved = errno;
	free(cur);
	free(line);
	fclose(f);
	if (!have) {
		errno = ENOENT;
		return (-1);
	}
	errno = saved;
	return (0);
}

int
cgroup_own_dir(
    const struct cgroup_mount *m, const char *self, char *buf, size_t len)
{
	const char *rest;
	int n;

	if (strcmp(m->root, "/") == 0)
		rest = self;
	else if (cgroup_beneath(self, m->root))
		rest = self + strlen(m->root);
	else {
		errno = ENOENT;
		return (-1);
	}
	if (strcmp(rest, "/") == 0)
		rest = "";
	if (strcmp(m->point, "/") == 0 && rest[0] != '\0')
		n = snprintf(buf, len, "%s", rest);
	else
		n = snprintf(buf, len, "%s%s", m->point, rest);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

int
cgroup_locate(
    const struct cgroup_env *env, const char *ctl, char *buf, size_t len)
{
	struct cgroup_mount *m;
	char self[PATH_MAX];
	int rc = -1, saved;

	m = xmalloc(sizeof(*m));
	if (cgroup_find_mount(env->mountinfo, env->fs_root, ctl, m) == -1 ||
	    cgroup_self_path(env->self_cgroup, ctl, self, sizeof(self)) == -1 ||
	    cgroup_own_dir(m, self, buf, len) == -1)
		goto out;
	rc = 0;
out:
	saved = errno;
	free(m);
	errno = saved;
	return (rc);
}

int
cgroup_join(char *buf, size_t len, const char *dir, const char *name)
{
	int n;

	n = snprintf(buf, len, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

int
cgroup_job_dir(char *buf, size_t len, const char *sub, int64_t job)
{
	char digits[24];
	int64_t id = job;
	size_t slen;
	int n, i;

	/* Callers may name buf in a message: never leave it undefined. */
	if (len > 0)
		buf[0] = '\0';
	if (job <= 0) {
		errno = EINVAL;
		return (-1);
	}
	/* By hand: it is made a dozen times per job, and snprintf was 2 %
	 * of a create+wait's instructions. */
	for (n = 0; id > 0; id /= 10)
		digits[n++] = (char)('0' + id % 10);
	slen = strlen(sub);
	if (slen + 5 + (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	memcpy(buf, sub, slen);
	memcpy(buf + slen, "/job-", 5);
	for (i = 0; i < n; i++)
		buf[slen + 5 + (size_t)i] = digits[n - 1 - i];
	buf[slen + 5 + (size_t)n] = '\0';
	return (0);
}

int64_t
cgroup_job_id(const char *name)
{
	const char *p, *errstr;
	int64_t id;

	if (strncmp(name, "job-", 4) != 0)
		return (-1);
	p = name + 4;
	if (*p < '1' || *p > '9' || strspn(p, "0123456789") != strlen(p))
		return (-1);
	id = util_strtonum(p, 1, INT64_MAX, &errstr);
	return (errstr != NULL ? -1 : id);
}

int
cgroup_missing(const char *ctl, const char *field, struct serr *err)
{
	serr_set(err, SERR_UNSATISFIABLE, field,
	    "%s: the %s controller is not available", field, ctl);
	return (-1);
}

int
cgroup_base_add(const char *dir)
{
	struct cgroup_base *b;
	size_t len = strlen(dir);
	int i, fd;

	if (len == 0 || len >= sizeof(cg_bases[0].dir)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (-1);
	for (i = 0; i < cg_nbases && strcmp(cg_bases[i].dir, dir) != 0; i++)
		;
	if (i == cg_nbases) {
		if (cg_nbases == CGROUP_BASES_MAX) {
			close(fd);
			errno = ENOSPC;
			return (-1);
		}
		cg_nbases++;
	} else
		close(cg_bases[i].fd);
	b = &cg_bases[i];
	memcpy(b->dir, dir, len + 1);
	b->len = len;
	b->fd = fd;
	return (0);
}

void
cgroup_base_clear(void)
{
	int i;

	for (i = 0; i < cg_nbases; i++)
		close(cg_bases[i].fd);
	cg_nbases = 0;
}

/* The directory fd to reach path from, and the rest of path in *rel:
 * a base path strictly above it, or AT_FDCWD and path itself. */
static int
cgroup_at(const char *path, const char **rel)
{
	const struct cgroup_base *b;
	int i;

	for (i = 0; i < cg_nbases; i++) {
		b = &cg_bases[i];
		if (strncmp(path, b->dir, b->len) == 0 && path[b->len] == '/' &&
		    path[b->len + 1] != '\0') {
			*rel = path + b->len + 1;
			return (b->fd);
		}
	}
	*rel = path;
	return (AT_FDCWD);
}

int
cgroup_open(const char *path, int flags)
{
	const char *rel;
	int at = cgroup_at(path, &rel);

	return (openat(at, rel, flags | O_CLOEXEC));
}

int
cgroup_open_in(const char *dir, const char *file, int flags)
{
	char path[PATH_MAX];

	if (cgroup_join(path, sizeof(path), dir, file) == -1)
		return (-1);
	return (cgroup_open(path, flags));
}

ssize_t
cgroup_read(const char *dir, const char *file, char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;
	int fd, saved;

	if (len == 0) {
		errno = EINVAL;
		return (-1);
	}
	if ((fd = cgroup_open_in(dir, file, O_RDONLY)) == -1)
		return (-1);
	while (off < len - 1) {
		n = read(fd, buf + off, len - 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			close(fd);
			errno = saved;
			return (-1);
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	while (off > 0 && buf[off - 1] == '\n')
		off--;
	buf[off] = '\0';
	return ((ssize_t)off);
}

int
cgroup_write(const char *dir, const char *file, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, saved;

	/* One write: cgroupfs takes each write(2) as one whole value. */
	if ((fd = cgroup_open_in(dir, file, O_WRONLY | O_TRUNC)) == -1)
		return (-1);
	do
		n = write(fd, val, len);
	while (n == -1 && errno == EINTR);
	saved = errno;
	close(fd);
	if (n == -1) {
		errno = saved;
		return (-1);
	}
	if ((size_t)n != len) {
		errno = EIO;
		return (-1);
	}
	return (0);
}

int
cgroup_writef(const char *dir, const char *file, const char *fmt, ...)
{
	char val[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(val)) {
		errno = EOVERFLOW;
		return (-1);
	}
	return (cgroup_write(dir, file, val));
}

int
cgroup_read_i64(const char *dir, const char *file, int64_t *v)
{
	char buf[64];
	const char *errstr;
	int64_t x;

	if (cgroup_read(dir, file, buf, sizeof(buf)) == -1)
		return (-1);
	x = util_strtonum(buf, INT64_MIN, INT64_MAX, &errstr);
	if (errstr != NULL) {
		errno = EINVAL;
		return (-1);
	}
	*v = x;
	return (0);
}

/*
 * The keys' values from buf, a flat keyed file's text (destroyed). Returns
 * how many were set; *bad is set when a key's value was not a number.
 */
static int
cgroup_parse_keys(
    char *buf, const char *const *keys, int64_t *vals, int n, int *bad)
{
	char *line, *save, *sp;
	const char *errstr;
	int64_t x;
	int i, set = 0;

	*bad = 0;
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp = '\0';
		for (i = 0; i < n && strcmp(line, keys[i]) != 0; i++)
			;
		if (i == n)
			continue;
		x = util_strtonum(sp + 1, INT64_MIN, INT64_MAX, &errstr);
		if (errstr != NULL) {
			*bad = 1;
			continue;
		}
		vals[i] = x;
		set++;
	}
	return (set);
}

int
cgroup_read_key(const char *dir, const char *file, const char *key, int64_t *v)
{
	char buf[4096];
	int bad;

	if (cgroup_read(dir, file, buf, sizeof(buf)) == -1)
		return (-1);
	if (cgroup_parse_keys(buf, &key, v, 1, &bad) == 1)
		return (0);
	errno = bad ? EINVAL : ENOENT;
	return (-1);
}

/*
 * One open and read for several keys of the same file: a job's usage
 * wants three or four of cpu.stat's, and each read of a cgroup file is
 * an open, a read and a close in the kernel.
 */
int
cgroup_read_keys(const char *dir, const char *file, const char *const *keys,
    int64_t *vals, int n)
{
	char buf[4096];
	int bad;

	if (cgroup_read(dir, file, buf, sizeof(buf)) == -1)
		return (-1);
	return (cgroup_parse_keys(buf, keys, vals, n, &bad));
}

int
cgroup_exists(const char *dir, const char *file)
{
	char path[PATH_MAX];
	const char *rel;
	int at;

	if (cgroup_join(path, sizeof(path), dir, file) == -1)
		return (0);
	at = cgroup_at(path, &rel);
	return (faccessat(at, rel, F_OK, 0) == 0);
}

int
cgroup_read_pids(const char *dir, pid_t **pids, size_t *n)
{
	char *buf = NULL, *line, *save;
	size_t cap = 4096, len = 0, npids = 0, i;
	ssize_t r;
	const char *errstr;
	pid_t pid;
	int fd = -1, rc = -1, saved;

	*pids = NULL;
	*n = 0;
	if ((fd = cgroup_open_in(dir, "cgroup.procs", O_RDONLY)) == -1)
		return (-1);
	buf = xmalloc(cap);
	for (;;) {
		if (len == cap - 1) {
			if (cap >= CGROUP_PROCS_MAX) {
				errno = EFBIG;
				goto out;
			}
			cap *= 2;
			buf = xreallocarray(buf, 1, cap);
		}
		r = read(fd, buf + len, cap - 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto out;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	for (i = 0; i < len; i++)
		npids += buf[i] == '\n';
	*pids = xreallocarray(NULL, npids + 1, sizeof(**pids));
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		/* Never pid 0 or 1 (kill(2) would reach far beyond the job). */
		pid = (pid_t)util_strtonum(line, 2, INT_MAX, &errstr);
		if (errstr == NULL && *n <= npids)
			(*pids)[(*n)++] = pid;
	}
	rc = 0;
out:
	saved = errno;
	free(buf);
	if (fd != -1)
		close(fd);
	if (rc == -1) {
		free(*pids);
		*pids = NULL;
		*n = 0;
	}
	errno = saved;
	return (rc);
}

int
cgroup_procs_copy(const char *dir, pid_t *pids, int max)
{
	pid_t *all;
	size_t n, i;

	if (max < 0 || cgroup_read_pids(dir, &all, &n) == -1)
		return (-1);
	for (i = 0; i < n && i < (size_t)max; i++)
		pids[i] = all[i];
	free(all);
	return ((int)i);
}

/* kill(2) one member; ESRCH (exited meanwhile) counts as not signalled. */
static int
cgroup_signal_one(pid_t pid, pid_t self, int sig)
{
	if (pid <= 1 || pid == self)
		return (0);
	if (kill(pid, sig) == -1) {
		if (errno != ESRCH)
			log_warn("kill %ld", (long)pid);
		return (0);
	}
	return (1);
}

/*
 * In rounds, until one finds no member not yet signalled, as systemd's
 * cg_kill does: what a member forked as it was signalled may be listed a
 * moment later. Bounded: what forks faster than the rounds is left to the
 * next signal. (A stop signals through sup_res_stop_signal, which keeps
 * what it signalled.)
 */
int
cgroup_signal_all(const char *dir, int sig)
{
	pid_t *pids, *sent = NULL, self = getpid();
	size_t n, i, nsent = 0, before;
	int count = 0, round;

	for (round = 0; round < CGROUP_SIGNAL_ROUNDS; round++) {
		if (cgroup_read_pids(dir, &pids, &n) == -1) {
			if (round == 0)
				return (-1);
			break;
		}
		before = nsent;
		sent = xreallocarray(sent, nsent + n + 1, sizeof(*sent));
		for (i = 0; i < n; i++) {
			if (before > 0 &&
			    bsearch(&pids[i], sent, before, sizeof(*sent),
				util_pid_cmp) != NULL)
				continue;
			sent[nsent++] = pids[i];
			count += cgroup_signal_one(pids[i], self, sig);
		}
		free(pids);
		if (nsent == before)
			break;
		qsort(sent, nsent, sizeof(*sent), util_pid_cmp);
	}
	free(sent);
	return (count);
}

/* 1 if one line of text equals want. */
static int
cgroup_has_line(const char *text, const char *want)
{
	size_t wlen = strlen(want), llen;

	while (*text != '\0') {
		llen = strcspn(text, "\n");
		if (llen == wlen && memcmp(text, want, wlen) == 0)
			return (1);
		text += llen;
		if (*text == '\n')
			text++;
	}
	return (0);
}

int
cgroup_line_is(const char *dir, const char *file, const char *want)
{
	char buf[1024];

	if (cgroup_read(dir, file, buf, sizeof(buf)) == -1)
		return (-1);
	return (cgroup_has_line(buf, want));
}

int
cgroup_mkdir(const char *dir, int *created)
{
	const char *rel;
	int at = cgroup_at(dir, &rel);

	if (created != NULL)
		*created = 0;
	if (mkdirat(at, rel, 0755) == 0) {
		if (created != NULL)
			*created = 1;
		return (0);
	}
	return (errno == EEXIST ? 0 : -1);
}

int
cgroup_rmdir(const char *dir)
{
	const char *rel;
	int at = cgroup_at(dir, &rel);

	if (unlinkat(at, rel, AT_REMOVEDIR) == -1 && errno != ENOENT)
		return (-1);
	return (0);
}

void
cgroup_list_jobs(const char *sub, int64_t **ids, int *n, int *cap)
{
	DIR *d;
	struct dirent *de;
	int64_t id;

	if ((d = opendir(sub)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if ((id = cgroup_job_id(de->d_name)) == -1)
			continue;
		if (*n == *cap) {
			*cap = *cap > 0 ? *cap * 2 : 64;
			*ids = xreallocarray(*ids, (size_t)*cap, sizeof(**ids));
		}
		(*ids)[(*n)++] = id;
	}
	closedir(d);
}

static int
cgroup_id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x < y ? -1 : x > y);
}

int
cgroup_ids_unique(int64_t *ids, int n)
{
	int i, k = 0;

	if (n == 0)
		return (0);
	qsort(ids, (size_t)n, sizeof(*ids), cgroup_id_cmp);
	for (i = 1; i < n; i++)
		if (ids[i] != ids[k])
			ids[++k] = ids[i];
	return (k + 1);
}

/* What the unified hierarchy offers our cgroup: "" if it is not there. */
static void
cgroup_v2_offers(const struct cgroup_env *env, char *buf, size_t len)
{
	char own[PATH_MAX];

	buf[0] = '\0';
	if (cgroup_locate(env, NULL, own, sizeof(own)) == -1 ||
	    cgroup_read(own, "cgroup.controllers", buf, len) == -1)
		buf[0] = '\0';
}

const struct cgroup_ops *
cgroup_detect(const struct cgroup_env *env, struct serr *err)
{
	static const char *const v1_ctls[] = {
	    "cpu", "cpuset", "memory", "pids", "freezer"};
	struct cgroup_env e;
	struct cgroup_mount *m;
	const struct cgroup_ops *ops = NULL;
	char offers[1024];
	size_t i;
	int v1 = 0, v2_all, v2_any;

	cgroup_env_defaults(env, &e);
	cgroup_v2_offers(&e, offers, sizeof(offers));
	v2_all = cgroup_has_token(offers, "cpu") &&
		 cgroup_has_token(offers, "memory") &&
		 cgroup_has_token(offers, "pids");
	v2_any = cgroup_has_token(offers, "cpu") ||
		 cgroup_has_token(offers, "cpuset") ||
		 cgroup_has_token(offers, "memory") ||
		 cgroup_has_token(offers, "pids");
	m = xmalloc(sizeof(*m));
	for (i = 0; i < sizeof(v1_ctls) / sizeof(v1_ctls[0]); i++)
		if (cgroup_find_mount(e.mountinfo, e.fs_root, v1_ctls[i], m) ==
		    0)
			v1 = 1;
	free(m);

	/*
	 * The unified hierarchy wins when it has the three that matter; a
	 * hybrid machine (this one) keeps them on v1; a v2 offering only
	 * some still beats nothing.
	 */
	if (v2_all)
		ops = &cgroup_v2_ops;
	else if (v1)
		ops = &cgroup_v1_ops;
	else if (v2_any)
		ops = &cgroup_v2_ops;
	if (ops == NULL) {
		serr_set(err, SERR_UNSATISFIABLE, NULL,
		    "no cgroup controllers: neither the unified hierarchy nor v1 hierarchies offer cpu, cpuset, memory, pids or freezer");
		return (NULL);
	}
	log_debug("cgroup %s (unified offers \"%s\")", ops->name, offers);
	if (ops->init(&e, err) == -1)
		return (NULL);
	return (ops);
}
