/* SPDX-License-Identifier: ISC */
/*
 * Who is calling and what they may do. A caller on the Unix socket is the
 * identity the kernel recorded when it connected (SO_PEERCRED and
 * SO_PEERGROUPS); on the TCP listener it is what its bearer token maps to
 * (auth-token.c). Admins (root, the daemon's own user, members of
 * admin_group) may do everything; every other user may create jobs that
 * run as themselves, within the access policy of the config's [users],
 * [group NAME] and [user NAME] sections, and act on their own jobs only.
 */
#ifndef SCHEDD_AUTH_H
#define SCHEDD_AUTH_H

#include <sys/types.h>

#include "proto/errors.h"

struct config;
struct job_spec;
struct user_policy;

enum auth_flags {
	AUTH_READ = 0x01,  /* anyone who can connect */
	AUTH_WRITE = 0x02, /* a known user: admins, or owners of the job */
	AUTH_ADMIN = 0x04, /* admins only */
	AUTH_MASK = 0x0f,
};

#define AUTH_GROUPS_MAX 256
#define AUTH_NAME_MAX   64

struct caller {
	int known; /* credentials were read */
	int admin; /* root, our uid or admin_group */
	int tcp;   /* by the TCP listener, with a token */
	uid_t uid;
	gid_t gid;
	pid_t pid;                     /* 0 over TCP */
	gid_t groups[AUTH_GROUPS_MAX]; /* supplementary */
	int ngroups;
	int rtprio_rlimit;        /* soft RLIMIT_RTPRIO; -1 unknown */
	char name[AUTH_NAME_MAX]; /* user name, or the uid in digits */
};

/*
 * Resolve conf's admin_group and the policy sections' group names (a group
 * that does not exist is reported and its section ignored). Called once,
 * at start-up (the config is read once). Keeps conf.
 */
void auth_init(const struct config *conf);

/*
 * The caller on the connected Unix socket fd. Without credentials, c is
 * not known (it may then only read).
 */
void auth_from_socket(int fd, struct caller *c);
/* A caller as uid (from a token), or an admin when admin is set. Looks
 * the user up (NSS): at token load, not per request. */
void auth_from_uid(uid_t uid, int admin, struct caller *c);

/* 0 if c may use a route with flags; -1 with a 403 in err. */
int auth_check(const struct caller *c, int flags, struct serr *err);
/* 1 if c may act on, and read everything of, a job owned by owner. */
int auth_owns(const struct caller *c, uid_t owner);
/* 0, or -1 with a 403 naming the job when c may not act on it. */
int auth_job(
    const struct caller *c, uid_t owner, const char *job, struct serr *err);
/* c's primary or supplementary groups include gid. */
int auth_in_group(const struct caller *c, gid_t gid);

/*
 * The policy that applies to c, and for each key the section that set it
 * ("[users]", "[group robots]", "[user alice]", or "built in"), in
 * from[i] for the key 1 << i. from may be NULL.
 */
#define AUTH_POLICY_KEYS 7
void auth_policy(const struct caller *c, struct user_policy *pol,
    const char *from[AUTH_POLICY_KEYS]);

/*
 * What a job spec c sends may be, before it is created: the job runs as c
 * (a missing user is filled in), in c's groups, within c's policy
 * (missing pids_max and memory_max become the policy's caps). active is
 * how many of c's jobs are active now (jobs_max), or -1 when the spec
 * will not start. Admins pass unchanged. Returns 0, or -1 with a 403
 * naming the field and the rule.
 */
int auth_spec(const struct caller *c, struct job_spec *spec, int active,
    struct serr *err);
/* Starting one more job of c's, with active running now: jobs_max. */
int auth_start(const struct caller *c, int active, struct serr *err);

/*
 * uid's user name, or its digits, into buf (cached a minute: a list of
 * 10,000 jobs asks 10,000 times). Returns buf.
 */
const char *auth_user_name(uid_t uid, char *buf, size_t len);

#endif
