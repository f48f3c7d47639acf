/* SPDX-License-Identifier: ISC */
/*
 * The access policy: callers, roles, per-user rules, and what a job spec
 * of a user who is not an admin may ask for. Never grants more than the
 * config says; an unknown caller (no credentials) may only read. Reads no
 * /proc: the kernel's record of the connection is the identity.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/auth.h"
#include "daemon/clock.h"
#include "daemon/conf.h"
#include "daemon/log.h"
#include "proto/jobspec.h"
#include "proto/util.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

#define AUTH_NAME_CACHE  64 /* uids whose names are remembered */
#define AUTH_NAME_TTL_MS 60000

static struct {
	const struct config *conf;
	gid_t admin_gid;                  /* (gid_t)-1: no admin group */
	gid_t rule_gid[CONFIG_RULES_MAX]; /* [group NAME]; -1: unknown */
	char label[CONFIG_RULES_MAX][AUTH_NAME_MAX + 16];
} auth = {.admin_gid = (gid_t)-1};

static struct {
	uid_t uid;
	int64_t at_ms; /* 0: empty */
	char name[AUTH_NAME_MAX];
} names[AUTH_NAME_CACHE];

void
auth_init(const struct config *conf)
{
	const struct config_rule *r;
	struct group *gr;
	int i;

	auth.conf = conf;
	auth.admin_gid = (gid_t)-1;
	if (conf->admin_group[0] != '\0') {
		if ((gr = getgrnam(conf->admin_group)) != NULL)
			auth.admin_gid = gr->gr_gid;
		else
			log_warnx("admin_group %s: no such group: only root "
				  "is an admin",
			    conf->admin_group);
	}
	for (i = 0; i < conf->nrules; i++) {
		r = &conf->rules[i];
		auth.rule_gid[i] = (gid_t)-1;
		switch (r->kind) {
		case RULE_USERS:
			snprintf(
			    auth.label[i], sizeof(auth.label[i]), "[users]");
			break;
		case RULE_USER:
			snprintf(auth.label[i], sizeof(auth.label[i]),
			    "[user %s]", r->name);
			break;
		case RULE_GROUP:
			snprintf(auth.label[i], sizeof(auth.label[i]),
			    "[group %s]", r->name);
			if ((gr = getgrnam(r->name)) != NULL)
				auth.rule_gid[i] = gr->gr_gid;
			else
				log_warnx("[group %s] (line %d): no such "
					  "group: the section is ignored",
				    r->name, r->line);
			break;
		}
	}
	memset(names, 0, sizeof(names));
}

const char *
auth_user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd pw, *pwp = NULL;
	char pwbuf[4096];
	int64_t now = mono_ms();
	size_t slot = (size_t)uid % AUTH_NAME_CACHE;

	if (names[slot].at_ms != 0 && names[slot].uid == uid &&
	    now - names[slot].at_ms < AUTH_NAME_TTL_MS) {
		util_strlcpy(buf, names[slot].name, len);
		return (buf);
	}
	if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &pwp) == 0 &&
	    pwp != NULL && strlen(pwp->pw_name) < AUTH_NAME_MAX)
		util_strlcpy(
		    names[slot].name, pwp->pw_name, sizeof(names[slot].name));
	else
		snprintf(names[slot].name, sizeof(names[slot].name), "%u",
		    (unsigned)uid);
	names[slot].uid = uid;
	names[slot].at_ms = now != 0 ? now : 1;
	util_strlcpy(buf, names[slot].name, len);
	return (buf);
}

static int
auth_is_admin(const struct caller *c)
{
	return (
	    c->uid == 0 || c->uid == geteuid() ||
	    (auth.admin_gid != (gid_t)-1 && auth_in_group(c, auth.admin_gid)));
}

/*
 * The most a caller may raise its RT priority to: the hard RLIMIT_RTPRIO
 * (the soft one it may raise itself up to that). Read through the pid,
 * and believed only if the pidfd the kernel gave with the connection says
 * that very process is still alive (the pid cannot have been reused).
 */
static int
auth_rtprio(int fd, pid_t pid)
{
	struct rlimit rl;
	socklen_t len;
	int pidfd = -1, alive, v;

	/* Without a pidfd the pid may be another process's by now: the
	 * limit stays unknown (0 for the policy). */
	len = sizeof(pidfd);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == -1)
		return (-1);
	if (prlimit(pid, RLIMIT_RTPRIO, NULL, &rl) == -1)
		v = -1;
	else
		v = rl.rlim_max > 99 ? 99 : (int)rl.rlim_max;
	if (pidfd != -1) {
		alive = syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0;
		close(pidfd);
		if (!alive)
			v = -1;
	}
	return (v);
}

void
auth_from_socket(int fd, struct caller *c)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	memset(c, 0, sizeof(*c));
	c->uid = (uid_t)-1;
	c->gid = (gid_t)-1;
	c->rtprio_rlimit = -1;
	if (fd == -1 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    cred.uid == (uid_t)-1)
		return;
	c->known = 1;
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->pid = cred.pid;
	len = sizeof(c->groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &len) == 0)
		c->ngroups = (int)(len / sizeof(gid_t));
	else
		/*
		 * Before Linux 4.13, or more than AUTH_GROUPS_MAX (ERANGE):
		 * the primary group only. Never /proc, whose pid may be
		 * another process's by now; fewer groups grant less.
		 */
		c->ngroups = 0;
	auth_user_name(c->uid, c->name, sizeof(c->name));
	c->admin = auth_is_admin(c);
	if (!c->admin && c->pid > 0)
		c->rtprio_rlimit = auth_rtprio(fd, c->pid);
}

void
auth_from_uid(uid_t uid, int admin, struct caller *c)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];
	int n = AUTH_GROUPS_MAX;

	memset(c, 0, sizeof(*c));
	c->known = 1;
	c->tcp = 1;
	c->uid = uid;
	c->gid = (gid_t)-1;
	c->rtprio_rlimit = -1;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) == 0 && pwp != NULL) {
		c->gid = pwp->pw_gid;
		if (getgrouplist(pwp->pw_name, pwp->pw_gid, c->groups, &n) !=
		    -1)
			c->ngroups = n;
	}
	auth_user_name(uid, c->name, sizeof(c->name));
	c->admin = admin || auth_is_admin(c);
}

int
auth_in_group(const struct caller *c, gid_t gid)
{
	int i;

	if (c->gid == gid)
		return (1);
	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i] == gid)
			return (1);
	return (0);
}

int
auth_check(const struct caller *c, int flags, struct serr *err)
{
	if (flags & AUTH_ADMIN) {
		if (c->known && c->admin)
			return (0);
		serr_set(err, SERR_PERMISSION, NULL,
		    "only root and members of admin_group may do this%s",
		    c->known ? "" : " (no peer credentials)");
		return (-1);
	}
	if (!(flags & AUTH_WRITE) || c->known)
		return (0);
	serr_set(err, SERR_PERMISSION, NULL,
	    "a caller without peer credentials may only read");
	return (-1);
}

int
auth_owns(const struct caller *c, uid_t owner)
{
	return (c->known && (c->admin || c->uid == owner));
}

int
auth_job(const struct caller *c, uid_t owner, const char *job, struct serr *err)
{
	char name[AUTH_NAME_MAX];

	if (auth_owns(c, owner))
		return (0);
	serr_set(err, SERR_PERMISSION, "job",
	    "job %s belongs to %s: only its owner and admins may do this", job,
	    auth_user_name(owner, name, sizeof(name)));
	return (-1);
}

/* Does rule i apply to c? */
static int
auth_rule_applies(const struct caller *c, int i)
{
	const struct config_rule *r = &auth.conf->rules[i];
	char digits[16];

	switch (r->kind) {
	case RULE_USERS:
		return (1);
	case RULE_GROUP:
		return (auth.rule_gid[i] != (gid_t)-1 &&
			auth_in_group(c, auth.rule_gid[i]));
	case RULE_USER:
		snprintf(digits, sizeof(digits), "%u", (unsigned)c->uid);
		return (strcmp(r->name, c->name) == 0 ||
			strcmp(r->name, digits) == 0);
	}
	return (0);
}

static void
auth_policy_take(struct user_policy *pol, const struct user_policy *r,
    const char *label, const char *from[AUTH_POLICY_KEYS])
{
	int k;

	for (k = 0; k < AUTH_POLICY_KEYS; k++) {
		if (!(r->set & (1u << k)))
			continue;
		if (from != NULL)
			from[k] = label;
		switch (1u << k) {
		case UPOL_JOBS_MAX:
			pol->jobs_max = r->jobs_max;
			break;
		case UPOL_RT_PRIORITY_MAX:
			pol->rt_priority_max = r->rt_priority_max;
			break;
		case UPOL_NICE_MIN:
			pol->nice_min = r->nice_min;
			break;
		case UPOL_DEADLINE:
			pol->deadline = r->deadline;
			break;
		case UPOL_EXCLUSIVE_CPUS_MAX:
			pol->exclusive_cpus_max = r->exclusive_cpus_max;
			break;
		case UPOL_PIDS_MAX:
			pol->pids_max = r->pids_max;
			break;
		case UPOL_MEMORY_MAX:
			pol->memory_max = r->memory_max;
			break;
		}
	}
	pol->set |= r->set;
}

void
auth_policy(const struct caller *c, struct user_policy *pol,
    const char *from[AUTH_POLICY_KEYS])
{
	struct user_policy builtin;
	int i, k;

	config_policy_defaults(&builtin);
	memset(pol, 0, sizeof(*pol));
	auth_policy_take(pol, &builtin, "built in", from);
	if (auth.conf == NULL)
		return;
	/* [users], then the groups' sections, then the user's own. */
	for (k = RULE_USERS; k <= RULE_USER; k++)
		for (i = 0; i < auth.conf->nrules; i++)
			if ((int)auth.conf->rules[i].kind == k &&
			    auth_rule_applies(c, i))
				auth_policy_take(pol, &auth.conf->rules[i].pol,
				    auth.label[i], from);
}

/* The index of key in from[]. */
static int
key_index(unsigned key)
{
	int k;

	for (k = 0; k < AUTH_POLICY_KEYS; k++)
		if (key == 1u << k)
			return (k);
	return (0);
}

/* Fill err: field refused by the rule that set key. */
static int
refuse(struct serr *err, const char *field, unsigned key,
    const char *from[AUTH_POLICY_KEYS], const char *what)
{
	serr_set(err, SERR_PERMISSION, field,
	    "%s: refused by the access "
	    "policy, %s %s",
	    what, from[key_index(key)], config_policy_key_name(key));
	return (-1);
}

/* The user a spec names is the caller? */
static int
spec_user_is(const struct caller *c, const char *user)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];
	const char *errstr;
	long long id;

	if (getpwnam_r(user, &pw, buf, sizeof(buf), &pwp) == 0 && pwp != NULL)
		return (pwp->pw_uid == c->uid);
	id = util_strtonum(user, 0, 4294967294LL, &errstr);
	return (errstr == NULL && (uid_t)id == c->uid);
}

/* The group a spec names is one of the caller's? */
static int
spec_group_ok(const struct caller *c, const char *group)
{
	struct group gr, *grp = NULL;
	char buf[16384];
	const char *errstr;
	long long id;

	if (getgrnam_r(group, &gr, buf, sizeof(buf), &grp) == 0 && grp != NULL)
		return (auth_in_group(c, grp->gr_gid));
	id = util_strtonum(group, 0, 4294967294LL, &errstr);
	return (errstr == NULL && auth_in_group(c, (gid_t)id));
}

int
auth_start(const struct caller *c, int active, struct serr *err)
{
	struct user_policy pol;
	const char *from[AUTH_POLICY_KEYS];
	char what[128];

	if (c->admin)
		return (0);
	auth_policy(c, &pol, from);
	if (active < pol.jobs_max)
		return (0);
	snprintf(what, sizeof(what), "%s has %d active jobs, the most allowed",
	    c->name, active);
	return (refuse(err, NULL, UPOL_JOBS_MAX, from, what));
}

int
auth_spec(
    const struct caller *c, struct job_spec *spec, int active, struct serr *err)
{
	struct user_policy pol;
	const char *from[AUTH_POLICY_KEYS];
	char what[256];
	int rtmax;

	if (c->known && c->admin)
		return (0);
	if (!c->known) {
		serr_set(err, SERR_PERMISSION, NULL,
		    "a caller without peer credentials may only read");
		return (-1);
	}
	auth_policy(c, &pol, from);
	if (spec->user == NULL) {
		if ((spec->user = strdup(c->name)) == NULL) {
			serr_set(err, SERR_INTERNAL, NULL, "out of memory");
			return (-1);
		}
	} else if (!spec_user_is(c, spec->user)) {
		serr_set(err, SERR_PERMISSION, "user",
		    "%s may run jobs only as %s, not as %.64s", c->name,
		    c->name, spec->user);
		return (-1);
	}
	if (spec->group != NULL && !spec_group_ok(c, spec->group)) {
		serr_set(err, SERR_PERMISSION, "group",
		    "%s is not a member of group %.64s", c->name, spec->group);
		return (-1);
	}
	switch (spec->sched.policy) {
	case POLICY_FIFO:
	case POLICY_RR:
		rtmax = pol.rt_priority_max;
		if (rtmax == -1)
			rtmax = c->rtprio_rlimit > 0 ? c->rtprio_rlimit : 0;
		if (spec->sched.priority > rtmax) {
			snprintf(what, sizeof(what),
			    "sched.priority %d is over %d, the most %s may use%s",
			    spec->sched.priority, rtmax, c->name,
			    pol.rt_priority_max == -1
				? " (its RLIMIT_RTPRIO, rt_priority_max = "
				  "rlimit)"
				: "");
			return (refuse(err, "sched.priority",
			    UPOL_RT_PRIORITY_MAX, from, what));
		}
		break;
	case POLICY_DEADLINE:
		if (!pol.deadline)
			return (refuse(err, "sched.policy", UPOL_DEADLINE, from,
			    "SCHED_DEADLINE is not granted"));
		break;
	default:
		if (spec->sched.has_nice && spec->sched.nice < pol.nice_min) {
			snprintf(what, sizeof(what),
			    "sched.nice %d is below %d", spec->sched.nice,
			    pol.nice_min);
			return (refuse(
			    err, "sched.nice", UPOL_NICE_MIN, from, what));
		}
		break;
	}
	/* schedd connects as root: a user may not name the socket. */
	if (spec->health != NULL && spec->health->unix_socket != NULL) {
		serr_set(err, SERR_PERMISSION, "health.unix_socket",
		    "only admins may have schedd connect to a Unix socket "
		    "(it connects as root); use health.http on loopback, or "
		    "health.exec");
		return (-1);
	}
	if (spec->exclusive_cpus > pol.exclusive_cpus_max) {
		snprintf(what, sizeof(what), "exclusive_cpus %d is over %d",
		    spec->exclusive_cpus, pol.exclusive_cpus_max);
		return (refuse(err, "exclusive_cpus", UPOL_EXCLUSIVE_CPUS_MAX,
		    from, what));
	}
	if (pol.pids_max > 0) {
		if (spec->limits.pids_max > pol.pids_max) {
			snprintf(what, sizeof(what),
			    "limits.pids_max %lld is over %lld",
			    (long long)spec->limits.pids_max,
			    (long long)pol.pids_max);
			return (refuse(
			    err, "limits.pids_max", UPOL_PIDS_MAX, from, what));
		}
		if (spec->limits.pids_max == 0) {
			spec->limits.pids_max = pol.pids_max;
			spec->limits.set = 1;
		}
	}
	if (pol.memory_max > 0) {
		if (spec->limits.memory_max > pol.memory_max) {
			snprintf(what, sizeof(what),
			    "limits.memory_max %llu is over %llu bytes",
			    (unsigned long long)spec->limits.memory_max,
			    (unsigned long long)pol.memory_max);
			return (refuse(err, "limits.memory_max",
			    UPOL_MEMORY_MAX, from, what));
		}
		if (spec->limits.memory_max == 0) {
			spec->limits.memory_max = pol.memory_max;
			spec->limits.set = 1;
		}
	}
	if (active >= 0)
		return (auth_start(c, active, err));
	return (0);
}
