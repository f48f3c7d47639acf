/* SPDX-License-Identifier: ISC */
/*
 * What cgroup.c shares with its two backends, cgroup-v1.c and cgroup-v2.c,
 * and with the unit tests: the parsers of /proc/self/cgroup and mountinfo,
 * job directory names built from ids only, and small helpers that read and
 * write one cgroup file at a time. Nothing here keeps state. Functions
 * return 0 (or a count) or -1 with errno set.
 */
#ifndef SCHEDD_CGROUP_INT_H
#define SCHEDD_CGROUP_INT_H

#include <sys/types.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/cgroup.h"

/* How long freeze and thaw may take before they count as failed. */
/* Bounds a cgroup.procs read: 4M pids of up to 8 digits each, and more. */
#define CGROUP_PROCS_MAX (64 * 1024 * 1024)

/* One line of /proc/self/mountinfo, as far as cgroups care. */
struct cgroup_mount {
	char root[PATH_MAX];  /* field 4: the hierarchy's path shown */
	char point[PATH_MAX]; /* field 5: where it is mounted */
	char fstype[32];      /* "cgroup" or "cgroup2" */
	char opts[512];       /* super options: "rw,cpu,cpuacct" */
};

/* One line of /proc/self/cgroup: "ID:CONTROLLERS:PATH". */
struct cgroup_selfline {
	int id;                /* hierarchy id; 0 for v2 */
	char controllers[256]; /* "cpu,cpuacct"; "" for v2 */
	char path[PATH_MAX];   /* "/process_api/26bf..." */
};

/* env with every NULL member replaced by the real system's default. */
void cgroup_env_defaults(const struct cgroup_env *env, struct cgroup_env *out);
/* 1 if name may be SUBTREE: one path component of [A-Za-z0-9._@-], not
 * "." or "..", at most 64 bytes. */
int cgroup_name_valid(const char *name);

/* 1 if tok is an element of list (elements split by ',' or white space). */
int cgroup_has_token(const char *list, const char *tok);
/* Parse one /proc/self/cgroup line (a trailing newline is allowed). */
int cgroup_parse_self(const char *line, struct cgroup_selfline *sl);
/* Parse one mountinfo line, unescaping \ooo in root and mount point. */
int cgroup_parse_mountinfo(const char *line, struct cgroup_mount *m);

/*
 * Our cgroup in the hierarchy holding v1 controller ctl, or on v2 when ctl
 * is NULL ("0::" line), read from file. ENOENT if there is none.
 */
int cgroup_self_path(const char *file, const char *ctl, char *buf, size_t len);
/*
 * The mount of v1 controller ctl (fstype "cgroup", ctl among the super
 * options) or, ctl NULL, of the unified hierarchy (fstype "cgroup2"). A
 * mount at or beneath fs_root (may be NULL) wins over one elsewhere.
 * ENOENT if there is none.
 */
int cgroup_find_mount(const char *mountinfo, const char *fs_root,
    const char *ctl, struct cgroup_mount *m);
/*
 * The directory of cgroup path self in mount m: the mount point plus self
 * less the mount's root. ENOENT if self lies outside what m shows.
 */
int cgroup_own_dir(
    const struct cgroup_mount *m, const char *self, char *buf, size_t len);
/* cgroup_find_mount + cgroup_self_path + cgroup_own_dir for env. */
int cgroup_locate(
    const struct cgroup_env *env, const char *ctl, char *buf, size_t len);

/* "dir/name" into buf; ENAMETOOLONG if it does not fit. */
int cgroup_join(char *buf, size_t len, const char *dir, const char *name);
/* "sub/job-ID" into buf. EINVAL unless job > 0. */
int cgroup_job_dir(char *buf, size_t len, const char *sub, int64_t job);
/* The id in a "job-ID" directory name (decimal, no sign, no leading
 * zero, > 0), or -1 if name is not one. */
int64_t cgroup_job_id(const char *name);

/*
 * Hold dir open (O_PATH) so that paths strictly beneath it are opened
 * relative to it; adding a dir again reopens it (after it was made
 * anew). Backends add their SUBTREE directories.
 */
int cgroup_base_add(const char *dir);
/* Close every base (a backend's fini, and tests). */
void cgroup_base_clear(void);
/* open(2) path (O_CLOEXEC added), relative to a base where one holds it. */
int cgroup_open(const char *path, int flags);
/* cgroup_open of "dir/file". */
int cgroup_open_in(const char *dir, const char *file, int flags);

/* "FIELD: the CTL controller is not available" (unsatisfiable); -1. */
int cgroup_missing(const char *ctl, const char *field, struct serr *err);

/* Read dir/file into buf (NUL-terminated, trailing newlines removed).
 * Returns the length. */
ssize_t cgroup_read(const char *dir, const char *file, char *buf, size_t len);
/* Write val to dir/file in one write(2); never creates the file. */
int cgroup_write(const char *dir, const char *file, const char *val);
int cgroup_writef(const char *dir, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A file holding one integer ("max" is EINVAL). */
int cgroup_read_i64(const char *dir, const char *file, int64_t *v);
/* The value of the "key N" line in a flat keyed file (cpu.stat,
 * memory.events, memory.oom_control). ENOENT if the key is missing. */
int cgroup_read_key(
    const char *dir, const char *file, const char *key, int64_t *v);
/* The same for n keys from one read of the file: vals[i] is set for each
 * key found, and left as it was for one missing or not a number. Returns
 * how many were set, or -1 if the file cannot be read. */
int cgroup_read_keys(const char *dir, const char *file, const char *const *keys,
    int64_t *vals, int n);
/* 1 if dir/file exists, else 0. */
int cgroup_exists(const char *dir, const char *file);

/*
 * The pids in dir/cgroup.procs: *pids is allocated (caller frees, also
 * when *n is 0). Anything that is not a pid above 1 is skipped.
 */
int cgroup_read_pids(const char *dir, pid_t **pids, size_t *n);
/* Up to max pids of dir/cgroup.procs into pids; returns the count. */
int cgroup_procs_copy(const char *dir, pid_t *pids, int max);
/*
 * Send sig to each pid listed in dir/cgroup.procs, never to pid 1 or
 * ourselves; a pid gone meanwhile (ESRCH) is not an error. The list is
 * read again until it names no pid not yet signalled (at most
 * CGROUP_SIGNAL_ROUNDS reads): a child forked as its parent was signalled
 * is listed a moment later. Returns the number signalled.
 */
#define CGROUP_SIGNAL_ROUNDS 8
int cgroup_signal_all(const char *dir, int sig);
/* 1 if one line of dir/file equals want now, 0 if not, -1 (errno). It
 * never waits: what the kernel has not done yet, it does by itself. */
int cgroup_line_is(const char *dir, const char *file, const char *want);

/* mkdir 0755; an existing directory is fine (*created says which). */
int cgroup_mkdir(const char *dir, int *created);
/* rmdir; one already gone is fine. */
int cgroup_rmdir(const char *dir);
/*
 * Append the ids of sub's job-* directories to *ids, which holds *n and
 * has room for *cap (grown as needed); a missing sub adds none.
 */
void cgroup_list_jobs(const char *sub, int64_t **ids, int *n, int *cap);
/* Sort ids[0..n) and drop repeats; returns the new n. */
int cgroup_ids_unique(int64_t *ids, int n);

#endif
