/* SPDX-License-Identifier: ISC */
/*
 * The token file and the Authorization check. A presented token is
 * compared with every loaded token over the same AUTH_TOKEN_MAX bytes,
 * with no early exit, so that the time taken says nothing of how much of
 * it was right. Failures are counted per peer address (a small table, the
 * oldest entry reused); past AUTH_FAIL_MAX in AUTH_FAIL_WINDOW_S, that
 * address is refused without a look at its token until the window ends,
 * and the refusal is logged once per window, never per request.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "daemon/auth-token.h"
#include "daemon/auth.h"
#include "daemon/clock.h"
#include "daemon/log.h"
#include "daemon/xmalloc.h"
#include "proto/util.h"

#define AUTH_TOKENS_MAX 1024
#define AUTH_PEERS      256

struct token {
	unsigned char text[AUTH_TOKEN_MAX]; /* zero-padded */
	size_t len;
	uid_t uid;
	int admin;
};

static struct token *tokens;
static int ntokens;
/* Who each token is, resolved once at load: no NSS lookup per request. */
static struct caller *callers;

static struct peer {
	unsigned char addr[16]; /* IPv4 as v4-mapped IPv6 */
	int64_t since_ms;       /* the window's start; 0: free */
	int fails;
	int logged; /* the refusal was logged this window */
} peers[AUTH_PEERS];

/* Characters of a token: base64, base64url and hex all fit. */
static int
token_chars_ok(const char *s, size_t n)
{
	return (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			  "0123456789-._~+/=") == n);
}

static int
token_who(const char *who, struct token *t)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];
	const char *errstr;
	long long id;

	if (strcmp(who, "admin") == 0) {
		t->admin = 1;
		t->uid = 0;
		return (0);
	}
	if (getpwnam_r(who, &pw, buf, sizeof(buf), &pwp) == 0 && pwp != NULL) {
		t->uid = pwp->pw_uid;
		return (0);
	}
	id = util_strtonum(who, 0, 4294967294LL, &errstr);
	if (errstr != NULL)
		return (-1);
	t->uid = (uid_t)id;
	return (0);
}

int
auth_tokens_load(const char *path, struct serr *err)
{
	struct stat st;
	FILE *f = NULL;
	char line[1024], *p, *tok, *who, *save;
	int fd, i, lineno = 0, rc = -1;
	size_t n;

	auth_tokens_free();
	if (path[0] == '\0') {
		serr_set(err, SERR_INVALID, "token_file",
		    "listen is set: token_file must name the token file");
		return (-1);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		serr_set(err, SERR_INVALID, "token_file", "%s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		serr_set(err, SERR_INVALID, "token_file",
		    "%s: not a regular file", path);
		close(fd);
		return (-1);
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		serr_set(err, SERR_INVALID, "token_file",
		    "%s: owned by uid %u; it must belong to root", path,
		    (unsigned)st.st_uid);
		close(fd);
		return (-1);
	}
	if (st.st_mode & 077) {
		serr_set(err, SERR_INVALID, "token_file",
		    "%s: mode %04o lets others read or change it; chmod 600 "
		    "it",
		    path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return (-1);
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		serr_set(err, SERR_INTERNAL, "token_file", "%s: %s", path,
		    strerror(errno));
		close(fd);
		return (-1);
	}
	tokens = xcalloc(AUTH_TOKENS_MAX, sizeof(*tokens));
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			serr_set(err, SERR_INVALID, "token_file",
			    "%s:%d: line too long", path, lineno);
			goto out;
		}
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		if ((tok = strtok_r(line, " \t\r\n", &save)) == NULL)
			continue;
		who = strtok_r(NULL, " \t\r\n", &save);
		n = strlen(tok);
		if (who == NULL || strtok_r(NULL, " \t\r\n", &save) != NULL) {
			serr_set(err, SERR_INVALID, "token_file",
			    "%s:%d: expected 'TOKEN USER' (USER a name, a uid "
			    "or admin)",
			    path, lineno);
			goto out;
		}
		if (n < AUTH_TOKEN_MIN || n > AUTH_TOKEN_MAX ||
		    !token_chars_ok(tok, n)) {
			serr_set(err, SERR_INVALID, "token_file",
			    "%s:%d: a token is %d..%d characters of "
			    "[A-Za-z0-9-._~+/=]",
			    path, lineno, AUTH_TOKEN_MIN, AUTH_TOKEN_MAX);
			goto out;
		}
		if (ntokens == AUTH_TOKENS_MAX) {
			serr_set(err, SERR_INVALID, "token_file",
			    "%s:%d: more than %d tokens", path, lineno,
			    AUTH_TOKENS_MAX);
			goto out;
		}
		memset(&tokens[ntokens], 0, sizeof(tokens[ntokens]));
		if (token_who(who, &tokens[ntokens]) == -1) {
			serr_set(err, SERR_INVALID, "token_file",
			    "%s:%d: no such user %.64s", path, lineno, who);
			goto out;
		}
		memcpy(tokens[ntokens].text, tok, n);
		tokens[ntokens].len = n;
		ntokens++;
	}
	if (ntokens == 0) {
		serr_set(err, SERR_INVALID, "token_file", "%s: no token", path);
		goto out;
	}
	callers = xcalloc((size_t)ntokens, sizeof(*callers));
	for (i = 0; i < ntokens; i++)
		auth_from_uid(tokens[i].uid, tokens[i].admin, &callers[i]);
	rc = 0;
out:
	explicit_bzero(line, sizeof(line));
	fclose(f);
	if (rc == -1)
		auth_tokens_free();
	return (rc);
}

int
auth_tokens_count(void)
{
	return (ntokens);
}

void
auth_tokens_free(void)
{
	if (tokens != NULL) {
		explicit_bzero(tokens, AUTH_TOKENS_MAX * sizeof(*tokens));
		free(tokens);
	}
	tokens = NULL;
	ntokens = 0;
	free(callers);
	callers = NULL;
	memset(peers, 0, sizeof(peers));
}

/* The peer's address as 16 bytes; 0, or -1 for a family we do not know. */
static int
peer_key(const struct sockaddr *sa, socklen_t len, unsigned char key[16])
{
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

	memset(key, 0, 16);
	if (sa->sa_family == AF_INET && len >= sizeof(*in4)) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &in4->sin_addr, 4);
		return (0);
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(*in6)) {
		memcpy(key, &in6->sin6_addr, 16);
		return (0);
	}
	return (-1);
}

/*
 * The peer's slot; or, with create, a free one or the oldest made its.
 * NULL when it has none and create is 0.
 */
static struct peer *
peer_find(const unsigned char key[16], int64_t now, int create)
{
	struct peer *p, *free_p = NULL, *old = NULL;
	int i;

	for (i = 0; i < AUTH_PEERS; i++) {
		p = &peers[i];
		if (p->since_ms != 0 &&
		    now - p->since_ms >= AUTH_FAIL_WINDOW_S * 1000)
			memset(p, 0, sizeof(*p));
		if (p->since_ms != 0 && memcmp(p->addr, key, 16) == 0)
			return (p);
		if (p->since_ms == 0 && free_p == NULL)
			free_p = p;
		if (p->since_ms != 0 &&
		    (old == NULL || p->since_ms < old->since_ms))
			old = p;
	}
	if (!create)
		return (NULL);
	p = free_p != NULL ? free_p : old;
	memset(p, 0, sizeof(*p));
	memcpy(p->addr, key, 16);
	p->since_ms = now;
	return (p);
}

/* The token of "Bearer TOKEN", or NULL. */
static const char *
bearer(const char *h, size_t *len)
{
	if (h == NULL || strncasecmp(h, "Bearer", 6) != 0 ||
	    (h[6] != ' ' && h[6] != '\t'))
		return (NULL);
	for (h += 6; *h == ' ' || *h == '\t'; h++)
		;
	*len = strcspn(h, " \t\r\n");
	if (h[*len] != '\0' && h[*len + strspn(h + *len, " \t\r\n")] != '\0')
		return (NULL);
	return (h);
}

int
auth_token_check(const char *header, const struct sockaddr *peer,
    socklen_t peerlen, struct caller *c)
{
	unsigned char given[AUTH_TOKEN_MAX], key[16];
	char addr[INET6_ADDRSTRLEN];
	const char *t;
	struct peer *p = NULL;
	size_t len = 0;
	int known;
	int64_t now = mono_ms();
	unsigned diff;
	int i, k, match = -1;

	memset(c, 0, sizeof(*c));
	c->uid = (uid_t)-1;
	c->gid = (gid_t)-1;
	c->tcp = 1;
	if (now == 0)
		now = 1;
	if ((known = peer_key(peer, peerlen, key) == 0) &&
	    (p = peer_find(key, now, 0)) != NULL) {
		if (p->fails >= AUTH_FAIL_MAX) {
			if (!p->logged++)
				log_warnx(
				    "%s: %d failed tokens in %d s: refused "
				    "until %d s after the first",
				    inet_ntop(AF_INET6, key, addr,
					sizeof(addr)) != NULL
					? addr
					: "?",
				    p->fails, AUTH_FAIL_WINDOW_S,
				    AUTH_FAIL_WINDOW_S);
			return (-1);
		}
	}
	memset(given, 0, sizeof(given));
	if ((t = bearer(header, &len)) != NULL && len <= AUTH_TOKEN_MAX)
		memcpy(given, t, len);
	else
		len = 0;
	for (i = 0; i < ntokens; i++) {
		diff = (unsigned)(len ^ tokens[i].len);
		for (k = 0; k < AUTH_TOKEN_MAX; k++)
			diff |= (unsigned)(given[k] ^ tokens[i].text[k]);
		/* Branch-free: match becomes i where diff is 0. */
		match ^= (match ^ i) & -(int)(diff == 0 && len > 0);
	}
	explicit_bzero(given, sizeof(given));
	if (match == -1) {
		if (p == NULL && known)
			p = peer_find(key, now, 1);
		if (p != NULL)
			p->fails++;
		return (-1);
	}
	*c = callers[match];
	return (0);
}
