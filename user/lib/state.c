// SPDX-License-Identifier: GPL-2.0-only
/* state.c - the recorded desired state, DIR/clamps (format in state.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "tcbpf.h"
#include "lib/state.h"
#include "lib/words.h"
#include "util/msg.h"

#define STATE_MAGIC	"tcbpf-state"
#ifndef TCBPF_VERSION
#define TCBPF_VERSION	"unknown"	/* builds without the Makefile's */
#endif

static const char *ns_or_empty(const char *netns)
{
	return netns ? netns : "";
}

/* What the kernel's dev_valid_name() accepts. */
int state_check_ifname(const char *name, char *err, size_t len)
{
	const char *p;

	if (!*name) {
		seterr(err, len, "empty device name");
		return -EINVAL;
	}
	if (strlen(name) >= IFNAMSIZ) {
		seterr(err, len, "device name \"%s\" longer than %d bytes",
		       name, IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		goto bad;
	for (p = name; *p; p++)
		if (*p == '/' || *p == ':' || *p == ' ' ||
		    (*p >= '\t' && *p <= '\r'))
			goto bad;
	return 0;
bad:
	seterr(err, len, "\"%s\" is no valid device name", name);
	return -EINVAL;
}

/* A file name in /run/netns; "" is tcbpf's own namespace. */
int state_check_netns(const char *name, char *err, size_t len)
{
	if (!*name)
		return 0;
	if (strlen(name) > NAME_MAX) {
		seterr(err, len, "namespace name \"%.32s...\" longer than %d bytes",
		       name, NAME_MAX);
		return -EINVAL;
	}
	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
		seterr(err, len, "\"%s\" is no /run/netns name", name);
		return -EINVAL;
	}
	return 0;
}

static void clamp_clear(struct clamp *c)
{
	free(c->argv);
	free(c->reason);
	memset(c, 0, sizeof(*c));
}

void state_free(struct clamp_set *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		clamp_clear(&s->v[i]);
	free(s->v);
	free(s->idx);
	memset(s, 0, sizeof(*s));
}

/*
 * The index: open addressing over an FNV-1a hash of namespace and device,
 * so that loading a thousand records is not a million strcmp()s (each
 * record is looked up as it is set: 5 ms of every command's 8 at a
 * thousand devices).
 */
static unsigned int clamp_hash(const char *netns, const char *ifname)
{
	unsigned int h = 2166136261u;
	const char *p;

	for (p = netns; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ 0xff) * 16777619u;	/* no byte of a name */
	for (p = ifname; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

static void idx_put(struct clamp_set *s, int i)
{
	unsigned int m = s->idx_cap - 1;
	unsigned int h = clamp_hash(s->v[i].netns, s->v[i].ifname) & m;

	while (s->idx[h])
		h = (h + 1) & m;
	s->idx[h] = i + 1;
}

/* (Re)build the index for at least @n records; -ENOMEM leaves none. */
static int idx_build(struct clamp_set *s, int n)
{
	int cap = 64, i;

	while (cap < 2 * n)
		cap *= 2;
	free(s->idx);
	s->idx = calloc(cap, sizeof(*s->idx));
	s->idx_cap = s->idx ? cap : 0;
	if (!s->idx)
		return -ENOMEM;
	for (i = 0; i < s->n; i++)
		idx_put(s, i);
	return 0;
}

static int find_idx(const struct clamp_set *s, const char *netns,
		    const char *ifname)
{
	unsigned int m, h;
	int i;

	netns = ns_or_empty(netns);
	if (!s->idx_cap) {	/* no index (out of memory): the slow way */
		for (i = 0; i < s->n; i++)
			if (!strcmp(s->v[i].ifname, ifname) &&
			    !strcmp(s->v[i].netns, netns))
				return i;
		return -1;
	}
	m = s->idx_cap - 1;
	for (h = clamp_hash(netns, ifname) & m; s->idx[h]; h = (h + 1) & m) {
		i = s->idx[h] - 1;
		if (!strcmp(s->v[i].ifname, ifname) &&
		    !strcmp(s->v[i].netns, netns))
			return i;
	}
	return -1;
}

struct clamp *state_find(const struct clamp_set *s, const char *netns,
			 const char *ifname)
{
	int i = find_idx(s, netns, ifname);

	return i < 0 ? NULL : &s->v[i];
}

int state_del(struct clamp_set *s, const char *netns, const char *ifname)
{
	int i = find_idx(s, netns, ifname);

	if (i < 0)
		return -ENOENT;
	clamp_clear(&s->v[i]);
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(s->v[0]));
	s->n--;
	if (s->idx_cap)		/* the records after it moved */
		idx_build(s, s->n);
	return 0;
}

/* Deep copy of @c into a fresh *@out. */
static int clamp_copy(struct clamp *out, const struct clamp *c)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->ifname, sizeof(out->ifname), "%s", c->ifname);
	snprintf(out->netns, sizeof(out->netns), "%s", c->netns);
	out->at = c->at;
	out->argc = c->argc;
	out->argv = words_dup(c->argc, c->argv);
	if (c->reason)
		out->reason = strdup(c->reason);
	if (!out->argv || (c->reason && !out->reason)) {
		clamp_clear(out);
		return -ENOMEM;
	}
	return 0;
}

int state_set(struct clamp_set *s, const struct clamp *c,
	      char *err, size_t len)
{
	struct clamp copy;
	int i, rc;

	/* the fixed arrays may come filled to the end by a caller */
	if (!memchr(c->ifname, '\0', sizeof(c->ifname))) {
		seterr(err, len, "device name \"%.*s...\" longer than %d bytes",
		       IFNAMSIZ, c->ifname, IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (!memchr(c->netns, '\0', sizeof(c->netns))) {
		seterr(err, len, "namespace name \"%.32s...\" longer than %d "
		       "bytes", c->netns, NAME_MAX);
		return -EINVAL;
	}
	rc = state_check_ifname(c->ifname, err, len);
	if (!rc)
		rc = state_check_netns(c->netns, err, len);
	if (rc)
		return rc;
	if (clamp_copy(&copy, c)) {
		seterr(err, len, "out of memory");
		return -ENOMEM;
	}
	i = find_idx(s, c->netns, c->ifname);
	if (i >= 0) {
		clamp_clear(&s->v[i]);
		s->v[i] = copy;
		return 0;
	}
	if (s->n == s->cap) {
		int cap = s->cap ? 2 * s->cap : 16;
		struct clamp *v = realloc(s->v, cap * sizeof(*v));

		if (!v) {
			clamp_clear(&copy);
			seterr(err, len, "out of memory");
			return -ENOMEM;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = copy;
	if (2 * s->n > s->idx_cap)
		idx_build(s, s->n);	/* out of memory: find_idx's slow way */
	else
		idx_put(s, s->n - 1);
	return 0;
}

/* ---- reading ---- */

/* "at" value: decimal unix seconds, 0 .. INT64_MAX. */
static int parse_at(const char *word, int64_t *at)
{
	char *end;
	long long v;

	if (*word < '0' || *word > '9')
		return -EINVAL;
	errno = 0;
	v = strtoll(word, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*at = v;
	return 0;
}

/* One record's words into *@c (zeroed by the caller). */
static int parse_record(int argc, char **argv, struct clamp *c,
			char *why, size_t wlen)
{
	int i, have_at = 0, have_ns = 0;
	int rc;

	rc = state_check_ifname(argv[0], why, wlen);
	if (rc)
		return rc;
	strcpy(c->ifname, argv[0]);
	for (i = 1; i < argc; i += 2) {
		const char *key = argv[i];

		if (!strcmp(key, "spec")) {
			c->argc = argc - i - 1;
			c->argv = words_dup(c->argc, argv + i + 1);
			if (!c->argv) {
				seterr(why, wlen, "out of memory");
				return -ENOMEM;
			}
			break;
		}
		if (i + 1 >= argc) {
			seterr(why, wlen, "\"%s\" needs a value", key);
			return -EINVAL;
		}
		if (!strcmp(key, "netns") && !have_ns++) {
			rc = state_check_netns(argv[i + 1], why, wlen);
			if (rc)
				return rc;
			strcpy(c->netns, argv[i + 1]);
		} else if (!strcmp(key, "at") && !have_at++) {
			if (parse_at(argv[i + 1], &c->at)) {
				seterr(why, wlen, "Illegal \"at\" value \"%s\": "
				       "expected unix seconds", argv[i + 1]);
				return -EINVAL;
			}
		} else if (!strcmp(key, "reason") && !c->reason) {
			c->reason = strdup(argv[i + 1]);
			if (!c->reason) {
				seterr(why, wlen, "out of memory");
				return -ENOMEM;
			}
		} else if (!strcmp(key, "netns") || !strcmp(key, "at") ||
			   !strcmp(key, "reason")) {
			seterr(why, wlen, "\"%s\" given twice", key);
			return -EINVAL;
		} else {
			seterr(why, wlen, "unknown key \"%s\"", key);
			return -EINVAL;
		}
	}
	if (!c->argv) {
		seterr(why, wlen, "no \"spec\" (the last key of a record)");
		return -EINVAL;
	}
	if (!have_at) {
		seterr(why, wlen, "no \"at\"");
		return -EINVAL;
	}
	return 0;
}

/*
 * The version line: "tcbpf-state 1" (tcbpf 0.1: map layout 1, version
 * unknown) or "tcbpf-state 2 layout N tcbpf VERSION".
 */
static int check_header(struct clamp_set *s, int argc, char **argv,
			char *why, size_t wlen)
{
	char *end;
	long v;

	if (argc < 1 || strcmp(argv[0], STATE_MAGIC)) {
		seterr(why, wlen, "not a tcbpf state file: the first line "
		       "must be \"%s %d ...\"", STATE_MAGIC, STATE_VERSION);
		return -EINVAL;
	}
	if (argc == 2 && !strcmp(argv[1], "1")) {
		s->layout = 1;
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "2")) {
		seterr(why, wlen, "format version \"%s\" unknown to this "
		       "tcbpf %s (it reads 1 and %d): written by a newer "
		       "tcbpf?", argc > 1 ? argv[1] : "", TCBPF_VERSION,
		       STATE_VERSION);
		return -EINVAL;
	}
	if (argc != 6 || strcmp(argv[2], "layout") ||
	    strcmp(argv[4], "tcbpf") || !*argv[5] ||
	    strlen(argv[5]) >= sizeof(s->version)) {
		seterr(why, wlen, "format 2 wants \"%s 2 layout N tcbpf "
		       "VERSION\"", STATE_MAGIC);
		return -EINVAL;
	}
	errno = 0;
	v = strtol(argv[3], &end, 10);
	if (errno || *end || v < 1 || v > 1000000 || *argv[3] < '1' ||
	    *argv[3] > '9') {
		seterr(why, wlen, "layout \"%s\" is no number", argv[3]);
		return -EINVAL;
	}
	s->layout = v;
	snprintf(s->version, sizeof(s->version), "%s", argv[5]);
	return 0;
}

/* Everything of one line: header (line 1) or record into @s. */
static int load_line(struct clamp_set *s, const char *line, int lineno,
		     char *why, size_t wlen)
{
	struct clamp c = { 0 };
	char **argv;
	int argc, rc, dup;

	rc = words_split(line, &argc, &argv, why, wlen);
	if (rc)
		return rc;
	if (lineno == 1) {
		rc = check_header(s, argc, argv, why, wlen);
	} else if (argc) {
		rc = parse_record(argc, argv, &c, why, wlen);
		dup = rc ? -1 : find_idx(s, c.netns, c.ifname);
		if (dup >= 0) {
			seterr(why, wlen, "a second record for device \"%s\"%s%s",
			       c.ifname, *c.netns ? " in netns " : "", c.netns);
			rc = -EINVAL;
		}
		if (!rc)
			rc = state_set(s, &c, why, wlen);
		clamp_clear(&c);
	}
	free(argv);
	return rc;
}

int state_load(const char *dir, struct clamp_set *s, char *err, size_t len)
{
	char path[PATH_MAX], why[256], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0, rc = 0;
	FILE *f;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		seterr(err, len, "%s: %s", path, strerror(-rc));
		return rc;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (strlen(line) != (size_t)n) {
			seterr(why, sizeof(why), "NUL byte in the line");
			rc = -EINVAL;
		} else {
			rc = load_line(s, line, lineno, why, sizeof(why));
		}
		if (rc)
			break;
	}
	if (!rc && ferror(f)) {
		rc = -EIO;
		seterr(err, len, "%s: read error", path);
	} else if (!rc && !lineno) {
		rc = -EINVAL;
		seterr(err, len, "%s: empty file: the first line must be "
		       "\"%s %d ...\"", path, STATE_MAGIC, STATE_VERSION);
	} else if (rc) {
		seterr(err, len, "%s:%d: %s", path, lineno, why);
	}
	free(line);
	fclose(f);
	if (rc)
		state_free(s);
	return rc;
}

/* ---- writing ---- */

static int write_record(FILE *f, const struct clamp *c)
{
	int i, rc;

	rc = words_write(f, c->ifname);
	if (*c->netns) {
		fputs(" netns ", f);
		rc = rc ?: words_write(f, c->netns);
	}
	fprintf(f, " at %" PRId64, c->at);
	if (c->reason) {
		fputs(" reason ", f);
		rc = rc ?: words_write(f, c->reason);
	}
	fputs(" spec", f);
	for (i = 0; i < c->argc; i++) {
		fputc(' ', f);
		rc = rc ?: words_write(f, c->argv[i]);
	}
	fputc('\n', f);
	return rc ?: (ferror(f) ? -EIO : 0);
}

/* The whole file in memory: malloc'd *@buf of *@n bytes. */
static int render(const struct clamp_set *s, char **buf, size_t *n)
{
	FILE *f = open_memstream(buf, n);
	int i, rc = 0;

	if (!f)
		return -ENOMEM;
	fprintf(f, "%s %d layout %d tcbpf ", STATE_MAGIC, STATE_VERSION,
		TCBPF_LAYOUT);
	rc = words_write(f, TCBPF_VERSION);
	fputc('\n', f);
	for (i = 0; i < s->n && !rc; i++)
		rc = write_record(f, &s->v[i]);
	if (fclose(f) && !rc)
		rc = -ENOMEM;
	if (rc) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

/* mkdir -p @dir, 0755 for what it creates. */
static int make_dir(const char *dir, char *err, size_t len)
{
	char path[PATH_MAX], *p, c;
	int rc;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
		seterr(err, len, "%s: path too long", dir);
		return -ENAMETOOLONG;
	}
	for (p = path + 1; ; p++) {
		if (*p && *p != '/')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST) {
			rc = -errno;
			seterr(err, len, "mkdir %s: %s", path, strerror(-rc));
			return rc;
		}
		*p = c;
		if (!c)
			return 0;
	}
}

static int write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += w;
		n -= w;
	}
	return 0;
}

/* Write @buf to @tmp, durably, mode 0644 whatever the umask. */
static int write_tmp(const char *tmp, const char *buf, size_t n,
		     char *err, size_t len)
{
	const char *what = "open";
	int fd, rc;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0644);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = fchmod(fd, 0644) ? -errno : 0;
	what = "chmod";
	if (!rc) {
		rc = write_all(fd, buf, n);
		what = "write";
	}
	if (!rc) {
		rc = fsync(fd) ? -errno : 0;
		what = "fsync";
	}
	if (close(fd) && !rc) {
		rc = -errno;
		what = "close";
	}
out:
	if (rc)
		seterr(err, len, "%s %s: %s", what, tmp, strerror(-rc));
	return rc;
}

static int sync_dir(const char *dir, char *err, size_t len)
{
	int fd, rc = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		rc = -errno;
	if (fd >= 0)
		close(fd);
	if (rc)
		seterr(err, len, "fsync %s: %s", dir, strerror(-rc));
	return rc;
}

int state_save(const char *dir, const struct clamp_set *s,
	       char *err, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX], *buf = NULL;
	size_t n = 0;
	int rc;

	if (snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE) >=
	    (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, STATE_FILE) >=
	    (int)sizeof(tmp)) {
		seterr(err, len, "%s: path too long", dir);
		return -ENAMETOOLONG;
	}
	rc = make_dir(dir, err, len);
	if (rc)
		return rc;
	rc = render(s, &buf, &n);
	if (rc) {
		seterr(err, len, "%s: out of memory", path);
		return rc;
	}
	rc = write_tmp(tmp, buf, n, err, len);
	free(buf);
	if (!rc && rename(tmp, path)) {
		rc = -errno;
		seterr(err, len, "rename %s to %s: %s", tmp, path,
		       strerror(-rc));
	}
	if (rc) {
		/* a directory in the way stays: it is not ours */
		unlink(tmp);
		return rc;
	}
	/* the rename itself is durable only once the directory is */
	return sync_dir(dir, err, len);
}
