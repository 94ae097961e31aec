// SPDX-License-Identifier: GPL-2.0-only
/*
 * state_test.c - lib/words.c, lib/state.c and lib/policy.c on files in a
 * scratch directory under /tmp (removed at the end).
 *
 * One line per case, "PASS: name" or "FAIL: name: why"; exit 1 if any
 * case failed. Needs nothing but libc and a writable /tmp.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "tcbpf.h"
#include "lib/policy.h"
#include "lib/state.h"
#include "lib/words.h"
#include "check.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static char scratch[] = "/tmp/tcbpf-state-test.XXXXXX";


/* ---- helpers ---- */

/* A fresh directory under the scratch dir: path in @buf. */
static const char *subdir(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", scratch, name);
	mkdir(buf, 0755);
	return buf;
}

static int put_file(const char *dir, const char *name, const char *text,
		    size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fwrite(text, 1, len, f);
	return fclose(f) ? -errno : 0;
}

#define PUT(dir, name, text)	put_file(dir, name, text, strlen(text))

/* Whole file, malloc'd and NUL-terminated; NULL if unreadable. */
static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = fopen(path, "r"), *m;
	int c;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &n);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf(const char *path)
{
	chmod(path, 0755);
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- words ---- */

struct split_case {
	const char *in;
	int argc;
	const char *want[6];
};

static const struct split_case split_cases[] = {
	{ "", 0, { 0 } },
	{ "   \t  \n", 0, { 0 } },
	{ "# just a comment", 0, { 0 } },
	{ "a b\tc\n", 3, { "a", "b", "c" } },
	{ "rate 10mbit # why", 2, { "rate", "10mbit" } },
	{ "a#b c", 2, { "a#b", "c" } },
	{ "'a b' \"c d\"", 2, { "a b", "c d" } },
	{ "'a b'\"c\"d", 1, { "a bcd" } },
	{ "\"\" ''", 2, { "", "" } },
	{ "'it''s'", 1, { "its" } },
	{ "'\\n stays'", 1, { "\\n stays" } },
	{ "\"q\\\"uote \\\\ \\$x \\`y\\`\"", 1, { "q\"uote \\ $x `y`" } },
	{ "\"l1\\nl2\\tt\\rr\"", 1, { "l1\nl2\tt\rr" } },
	{ "\"\\x41\\x7f\\x0a\"", 1, { "A\x7f\n" } },
	{ "\"\\q\"", 1, { "\\q" } },
	{ "a\\ b \\'c\\\"", 2, { "a b", "'c\"" } },
	{ "\"#not\" '#comment'", 2, { "#not", "#comment" } },
	{ "r\xc3\xa9sum\xc3\xa9", 1, { "r\xc3\xa9sum\xc3\xa9" } },
};

static const char *check_split(const struct split_case *c)
{
	char err[128], **argv;
	int argc, i, rc;

	rc = words_split(c->in, &argc, &argv, err, sizeof(err));
	EXPECT(rc == 0, "rc %d: %s", rc, err);
	EXPECT(argc == c->argc, "%d words, want %d", argc, c->argc);
	EXPECT(argv[argc] == NULL, "argv not NULL-terminated");
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], c->want[i])) {
			because("word %d is [%s], want [%s]", i, argv[i],
				c->want[i]);
			free(argv);
			return why;
		}
	}
	free(argv);
	return NULL;
}

struct split_err {
	const char *in;
	const char *msg;
};

static const struct split_err split_errs[] = {
	{ "a 'b c", "unterminated ' quote at column 3" },
	{ "a \"b c", "unterminated \" quote at column 3" },
	{ "a \"b\\\"", "unterminated \" quote at column 3" },
	{ "abc\\", "backslash at the end of the line (column 4)" },
	{ "\"\\x4\"", "bad escape \"\\x4\"\" at column 2" },
	{ "x \"\\xzz\"", "bad escape \"\\xzz\" at column 4" },
	{ "\"\\x00\"", "not 00" },
};

static const char *check_split_err(const struct split_err *c)
{
	char err[128] = "", **argv = NULL;
	int argc = -1, rc;

	rc = words_split(c->in, &argc, &argv, err, sizeof(err));
	EXPECT(rc == -EINVAL, "rc %d, want -EINVAL", rc);
	EXPECT(strstr(err, c->msg), "message \"%s\" lacks \"%s\"", err, c->msg);
	return NULL;
}

/* Words that must come back unchanged through words_write + split. */
static const char *const tricky[] = {
	"", " ", "plain", "10mbit", "tcp/22,udp/3389", "two words",
	"\"", "'", "\\", "\\\\\"'", "it's \"quoted\"", "#hash", "a#b",
	"$HOME `id`", "line1\nline2", "tab\there", "cr\r", "\x01\x1f\x7f",
	"r\xc3\xa9sum\xc3\xa9 \xe2\x82\xac", "*?[x]", "~user", "a;b|c&d",
};

static const char *check_quote(const char *word)
{
	char *buf = NULL, err[128], **argv;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	int argc, rc;

	EXPECT(words_write(f, word) == 0, "words_write failed");
	fclose(f);
	if (strchr(buf, '\n') || strchr(buf, '\r')) {
		because("written as [%s]: a raw line break", buf);
		free(buf);
		return why;
	}
	rc = words_split(buf, &argc, &argv, err, sizeof(err));
	if (rc || argc != 1 || strcmp(argv[0], word)) {
		because("written as [%s], read back rc %d, %d words, [%s]",
			buf, rc, rc ? -1 : argc,
			rc || argc < 1 ? "" : argv[0]);
		if (!rc)
			free(argv);
		free(buf);
		return why;
	}
	free(argv);
	/* plain words stay readable as they are */
	if (!words_need_quote(word) && strcmp(buf, word)) {
		because("plain [%s] written as [%s]", word, buf);
		free(buf);
		return why;
	}
	free(buf);
	return NULL;
}

/* "PREFIX WORD" with WORD quoted as words_write() does: one line. */
static const char *case_name(const char *prefix, const char *word)
{
	static char name[256];
	FILE *f = fmemopen(name, sizeof(name), "w");

	fprintf(f, "%s ", prefix);
	words_write(f, word);
	fclose(f);
	name[sizeof(name) - 1] = '\0';
	return name;
}

static void test_words(void)
{
	char name[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(split_cases); i++)
		report(case_name("words split", split_cases[i].in),
		       check_split(&split_cases[i]));
	for (i = 0; i < ARRAY_SIZE(split_errs); i++)
		report(case_name("words refuse", split_errs[i].in),
		       check_split_err(&split_errs[i]));
	for (i = 0; i < ARRAY_SIZE(tricky); i++) {
		snprintf(name, sizeof(name), "words quote round trip #%zu", i);
		report(name, check_quote(tricky[i]));
	}
}

/* ---- state ---- */

static char *spec_a[] = { "rate", "10mbit", "allow", "22", NULL };
static char *spec_b[] = { "ingress", "rate", "5mbit", "egress", "rate",
			  "20mbit", "allow", "tcp/22,udp/3389", NULL };
static char *spec_odd[] = { "word with spaces", "\"q\"", "back\\slash",
			    "", "#x", NULL };

static const struct clamp samples[] = {
	{ .ifname = "vm-3-00c9", .argc = 4, .argv = spec_a, .at = 1764471234,
	  .reason = "ticket 4711: \"noisy\" neighbour\\n\nline two\ttab" },
	{ .ifname = "tap0", .netns = "tenant-a", .argc = 8, .argv = spec_b,
	  .at = 0 },
	{ .ifname = "tap0", .argc = 0, .argv = spec_a + 4, .at = 42,
	  .reason = "" },
	{ .ifname = "x@y.z-_", .netns = "ns with space 'q'", .argc = 5,
	  .argv = spec_odd, .at = 9223372036854775807LL,
	  .reason = "'single' $x `y` # not a comment" },
};

static const char *same_clamp(const struct clamp *a, const struct clamp *b)
{
	int i;

	EXPECT(!strcmp(a->ifname, b->ifname), "ifname [%s] != [%s]",
	       a->ifname, b->ifname);
	EXPECT(!strcmp(a->netns, b->netns), "%s: netns [%s] != [%s]",
	       a->ifname, a->netns, b->netns);
	EXPECT(a->at == b->at, "%s: at %lld != %lld", a->ifname,
	       (long long)a->at, (long long)b->at);
	EXPECT(!a->reason == !b->reason, "%s: reason %s != %s", a->ifname,
	       a->reason ? "set" : "NULL", b->reason ? "set" : "NULL");
	EXPECT(!a->reason || !strcmp(a->reason, b->reason),
	       "%s: reason [%s] != [%s]", a->ifname, a->reason, b->reason);
	EXPECT(a->argc == b->argc, "%s: argc %d != %d", a->ifname, a->argc,
	       b->argc);
	for (i = 0; i < a->argc; i++)
		EXPECT(!strcmp(a->argv[i], b->argv[i]),
		       "%s: word %d [%s] != [%s]", a->ifname, i, a->argv[i],
		       b->argv[i]);
	EXPECT(b->argv[b->argc] == NULL, "%s: argv not NULL-terminated",
	       b->ifname);
	return NULL;
}

static const char *fill(struct clamp_set *s)
{
	char err[256];
	size_t i;
	int rc;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < ARRAY_SIZE(samples); i++) {
		rc = state_set(s, &samples[i], err, sizeof(err));
		EXPECT(rc == 0, "state_set %s: %d %s", samples[i].ifname, rc,
		       err);
	}
	EXPECT(s->n == (int)ARRAY_SIZE(samples), "%d records after %zu sets",
	       s->n, ARRAY_SIZE(samples));
	return NULL;
}

static const char *t_round_trip(void)
{
	struct clamp_set s, back = { 0 };
	char dir[256], path[300], err[256], want[64], *text, *line;
	const char *r;
	size_t i;
	int rc, lines = 0;

	subdir(dir, sizeof(dir), "rt");
	r = fill(&s);
	if (r)
		return r;
	rc = state_save(dir, &s, err, sizeof(err));
	EXPECT(rc == 0, "save: %d %s", rc, err);
	rc = state_load(dir, &back, err, sizeof(err));
	EXPECT(rc == 0, "load: %d %s", rc, err);
	EXPECT(back.n == s.n, "%d records back, %d saved", back.n, s.n);
	for (i = 0; i < ARRAY_SIZE(samples); i++) {
		struct clamp *c = state_find(&back, samples[i].netns,
					     samples[i].ifname);

		EXPECT(c, "%s/%s not found after load", samples[i].netns,
		       samples[i].ifname);
		r = same_clamp(&samples[i], c);
		if (r)
			return r;
	}
	/* one line per record, for grep: the header and four records */
	snprintf(path, sizeof(path), "%s/clamps", dir);
	text = slurp(path);
	EXPECT(text, "cannot read %s", path);
	snprintf(want, sizeof(want), "tcbpf-state 2 layout %d tcbpf ",
		 TCBPF_LAYOUT);
	EXPECT(!strncmp(text, want, strlen(want)) &&
	       strchr(text, '\n') > text + strlen(want), "header: [%.40s]",
	       text);
	EXPECT(back.layout == TCBPF_LAYOUT && back.version[0],
	       "read back layout %d version \"%s\"", back.layout, back.version);
	for (line = text; *line; line++)
		lines += *line == '\n';
	r = strstr(text, "\nvm-3-00c9 at 1764471234 reason ") ? NULL :
		because("no greppable vm-3-00c9 line in:\n%s", text);
	free(text);
	if (r)
		return r;
	EXPECT(lines == 5, "%d lines, want 5", lines);
	state_free(&s);
	state_free(&back);
	EXPECT(back.n == 0 && !back.v, "state_free left records");
	return NULL;
}

static const char *t_set_del_find(void)
{
	struct clamp_set s;
	struct clamp c = samples[0];
	char err[256];
	const char *r;

	r = fill(&s);
	if (r)
		return r;
	/* replace by (netns, device): same count, new values */
	c.at = 7;
	c.reason = NULL;
	EXPECT(state_set(&s, &c, err, sizeof(err)) == 0, "replace: %s", err);
	EXPECT(s.n == (int)ARRAY_SIZE(samples), "replace added: %d", s.n);
	EXPECT(state_find(&s, NULL, "vm-3-00c9")->at == 7, "not replaced");
	EXPECT(!state_find(&s, "", "vm-3-00c9")->reason, "reason kept");
	/* the same device name in two namespaces is two records */
	EXPECT(state_find(&s, "", "tap0")->at == 42, "tap0 in own netns");
	EXPECT(state_find(&s, "tenant-a", "tap0")->at == 0, "tap0 in tenant-a");
	EXPECT(!state_find(&s, "tenant-b", "tap0"), "tap0 in tenant-b found");
	EXPECT(state_del(&s, "tenant-a", "tap0") == 0, "del failed");
	EXPECT(state_del(&s, "tenant-a", "tap0") == -ENOENT, "del twice");
	EXPECT(state_find(&s, NULL, "tap0"), "del removed the wrong tap0");
	EXPECT(s.n == (int)ARRAY_SIZE(samples) - 1, "%d after del", s.n);
	EXPECT(state_del(&s, NULL, "nope") == -ENOENT, "del of nothing");
	state_free(&s);
	return NULL;
}

static void many_name(char *dev, size_t len, int i)
{
	snprintf(dev, len, "vm-%hu-%04hx", (unsigned short)(i / 3),
		 (unsigned short)(i % 3));
}

/* Many records: found by (netns, device) through the index as it grows,
 * after deletes (which move the records behind) and after replaces. */
static const char *t_many(void)
{
	struct clamp_set s = {};
	struct clamp c = samples[0];
	char err[256], dev[IFNAMSIZ], ns[16];
	const struct clamp *f;
	int i, n = 3000;

	c.reason = NULL;
	for (i = 0; i < n; i++) {
		many_name(c.ifname, sizeof(c.ifname), i);
		snprintf(c.netns, sizeof(c.netns), "%s", i % 2 ? "tenant" : "");
		c.at = i;
		EXPECT(state_set(&s, &c, err, sizeof(err)) == 0, "set %d: %s", i, err);
	}
	EXPECT(s.n == n, "%d records, want %d", s.n, n);
	/* every third one goes, from the front: the rest move */
	for (i = 0; i < n; i += 3) {
		many_name(dev, sizeof(dev), i);
		EXPECT(state_del(&s, i % 2 ? "tenant" : NULL, dev) == 0, "del %d", i);
	}
	for (i = 0; i < n; i++) {
		many_name(dev, sizeof(dev), i);
		snprintf(ns, sizeof(ns), "%s", i % 2 ? "tenant" : "");
		f = state_find(&s, ns, dev);
		if (i % 3 == 0) {
			EXPECT(!f, "%s/%s found after its delete", ns, dev);
			continue;
		}
		EXPECT(f && f->at == i, "%s/%s: %s", ns, dev, f ? "wrong record" : "not found");
		/* the other namespace has no such device */
		EXPECT(!state_find(&s, i % 2 ? "" : "tenant", dev), "%s in the other namespace", dev);
	}
	/* replaced in place: the count stays */
	many_name(c.ifname, sizeof(c.ifname), 1501);
	snprintf(c.netns, sizeof(c.netns), "tenant");
	c.at = 99999;
	EXPECT(state_set(&s, &c, err, sizeof(err)) == 0, "replace: %s", err);
	EXPECT(s.n == n - n / 3, "%d records after the replace", s.n);
	EXPECT(state_find(&s, "tenant", c.ifname)->at == 99999, "not replaced");
	state_free(&s);
	EXPECT(!s.idx && !s.idx_cap, "state_free left the index");
	return NULL;
}

static const char *t_bad_names(void)
{
	static const struct { const char *dev, *ns, *msg; } bad[] = {
		{ "", "", "empty device name" },
		{ "sixteen-chars-xx", "", "longer than 15" },
		{ "a/b", "", "no valid device name" },
		{ "a b", "", "no valid device name" },
		{ "a:1", "", "no valid device name" },
		{ "..", "", "no valid device name" },
		{ "ok", "a/b", "no /run/netns name" },
		{ "ok", "..", "no /run/netns name" },
	};
	struct clamp_set s = { 0 };
	struct clamp c = samples[0];
	char err[256];
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(c.ifname, sizeof(c.ifname), "%s", bad[i].dev);
		snprintf(c.netns, sizeof(c.netns), "%s", bad[i].ns);
		/* the 16-byte name cannot be in c.ifname: copy over the NUL */
		if (strlen(bad[i].dev) >= IFNAMSIZ)
			memcpy(c.ifname, bad[i].dev, IFNAMSIZ);
		err[0] = '\0';
		rc = state_set(&s, &c, err, sizeof(err));
		if (strlen(bad[i].dev) >= IFNAMSIZ)
			c.ifname[IFNAMSIZ - 1] = '\0';
		EXPECT(rc == -EINVAL && strstr(err, bad[i].msg),
		       "[%s] in [%s]: rc %d \"%s\", want \"%s\"", bad[i].dev,
		       bad[i].ns, rc, err, bad[i].msg);
		EXPECT(s.n == 0, "a bad record was added");
	}
	return NULL;
}

static const char *t_missing_and_mode(void)
{
	struct clamp_set s;
	char dir[256], path[300], err[256];
	struct stat st;
	mode_t old;
	const char *r;
	int rc;

	snprintf(dir, sizeof(dir), "%s/no/such/dir", scratch);
	rc = state_load(dir, &s, err, sizeof(err));
	EXPECT(rc == 0 && s.n == 0, "missing file: rc %d, %d records", rc, s.n);
	r = fill(&s);
	if (r)
		return r;
	/* a strict umask must not make the file unreadable to operators */
	old = umask(077);
	rc = state_save(dir, &s, err, sizeof(err));
	umask(old);
	state_free(&s);
	EXPECT(rc == 0, "save into missing dirs: %d %s", rc, err);
	snprintf(path, sizeof(path), "%s/clamps", dir);
	EXPECT(stat(path, &st) == 0, "no %s", path);
	EXPECT((st.st_mode & 07777) == 0644, "file mode %o, want 644",
	       st.st_mode & 07777);
	EXPECT(stat(dir, &st) == 0 && S_ISDIR(st.st_mode), "no dir %s", dir);
	snprintf(path, sizeof(path), "%s/clamps.tmp", dir);
	EXPECT(stat(path, &st) < 0 && errno == ENOENT, "clamps.tmp left");
	return NULL;
}

/* A writer killed half way left clamps.tmp: it is never read, and the
 * next save replaces it. */
static const char *t_leftover_tmp(void)
{
	struct clamp_set s, back;
	char dir[256], path[300], err[256];
	struct stat st;
	const char *r;
	int rc;

	subdir(dir, sizeof(dir), "leftover");
	r = fill(&s);
	if (r)
		return r;
	rc = state_save(dir, &s, err, sizeof(err));
	EXPECT(rc == 0, "save: %s", err);
	EXPECT(PUT(dir, "clamps.tmp", "tcbpf-state 1\nhalf-writ") == 0,
	       "cannot plant clamps.tmp");
	rc = state_load(dir, &back, err, sizeof(err));
	EXPECT(rc == 0 && back.n == s.n, "load with leftover tmp: rc %d "
	       "(%s), %d records", rc, err, back.n);
	state_free(&back);
	state_del(&s, NULL, "tap0");
	rc = state_save(dir, &s, err, sizeof(err));
	EXPECT(rc == 0, "save over leftover tmp: %s", err);
	snprintf(path, sizeof(path), "%s/clamps.tmp", dir);
	EXPECT(stat(path, &st) < 0 && errno == ENOENT, "clamps.tmp stays");
	rc = state_load(dir, &back, err, sizeof(err));
	EXPECT(rc == 0 && back.n == s.n && !state_find(&back, NULL, "tap0"),
	       "after save: rc %d, %d records", rc, back.n);
	state_free(&back);
	state_free(&s);
	return NULL;
}

/* A save that cannot write leaves the old file as it was. */
static const char *t_failed_save(void)
{
	struct clamp_set s, one = { 0 };
	char dir[256], path[300], tmp[300], err[256], *before, *after;
	const char *r;
	int rc;

	subdir(dir, sizeof(dir), "failed");
	EXPECT(state_set(&one, &samples[1], err, sizeof(err)) == 0, "%s", err);
	EXPECT(state_save(dir, &one, err, sizeof(err)) == 0, "%s", err);
	state_free(&one);
	snprintf(path, sizeof(path), "%s/clamps", dir);
	snprintf(tmp, sizeof(tmp), "%s/clamps.tmp", dir);
	before = slurp(path);
	EXPECT(before, "no %s", path);

	/* something in the way of the temporary file */
	EXPECT(mkdir(tmp, 0755) == 0, "mkdir %s: %s", tmp, strerror(errno));
	r = fill(&s);
	if (r)
		return r;
	err[0] = '\0';
	rc = state_save(dir, &s, err, sizeof(err));
	state_free(&s);
	rmdir(tmp);
	after = slurp(path);
	r = NULL;
	if (rc >= 0)
		r = because("save succeeded with a directory at clamps.tmp");
	else if (!strstr(err, tmp))
		r = because("message \"%s\" does not name %s", err, tmp);
	else if (!after || strcmp(before, after))
		r = because("clamps changed by a failed save:\n%s", after);
	free(before);
	free(after);
	return r;
}

/* A rename that fails (clamps is a directory) leaves no clamps.tmp. */
static const char *t_failed_rename(void)
{
	struct clamp_set s;
	char dir[256], path[300], err[256] = "";
	struct stat st;
	const char *r;
	int rc;

	subdir(dir, sizeof(dir), "rename");
	snprintf(path, sizeof(path), "%s/clamps/x", dir);
	EXPECT(mkdir(dirname(strdupa(path)), 0755) == 0 && mkdir(path, 0755) == 0,
	       "cannot plant a directory at %s", path);
	r = fill(&s);
	if (r)
		return r;
	rc = state_save(dir, &s, err, sizeof(err));
	state_free(&s);
	EXPECT(rc < 0 && strstr(err, "rename"), "rc %d \"%s\"", rc, err);
	snprintf(path, sizeof(path), "%s/clamps.tmp", dir);
	EXPECT(stat(path, &st) < 0 && errno == ENOENT, "clamps.tmp left");
	return NULL;
}

/* A state directory that is a file: refused, naming it. */
static const char *t_dir_is_file(void)
{
	struct clamp_set s = { 0 };
	char dir[256], path[300], err[256] = "";
	int rc;

	subdir(dir, sizeof(dir), "isfile");
	EXPECT(PUT(dir, "f", "x") == 0, "cannot plant a file");
	snprintf(path, sizeof(path), "%s/f", dir);
	rc = state_save(path, &s, err, sizeof(err));
	EXPECT(rc < 0 && strstr(err, path), "rc %d, \"%s\"", rc, err);
	return NULL;
}

struct corrupt_case {
	const char *name;
	const char *text;
	size_t len;		/* 0: strlen */
	const char *msg;	/* NULL: loads fine */
	int n;			/* records when it loads */
	int layout;		/* and the layout, version its header says */
	const char *version;
};

#define HDR "tcbpf-state 1\n"
static const struct corrupt_case corrupt[] = {
	{ "empty file", "", 0, "clamps: empty file" },
	{ "newer version", "tcbpf-state 3\nvm1 at 1 spec\n", 0,
	  "clamps:1: format version \"3\" unknown" },
	{ "format 2 without layout", "tcbpf-state 2\nvm1 at 1 spec\n", 0,
	  "clamps:1: format 2 wants" },
	{ "format 2 layout not a number",
	  "tcbpf-state 2 layout x tcbpf 0.2\nvm1 at 1 spec\n", 0,
	  "clamps:1: layout \"x\" is no number" },
	{ "format 2 layout 0", "tcbpf-state 2 layout 0 tcbpf 0.2\n", 0,
	  "clamps:1: layout \"0\"" },
	{ "format 2 keys swapped", "tcbpf-state 2 tcbpf 0.2 layout 2\n", 0,
	  "clamps:1: format 2 wants" },
	{ "format 2", "tcbpf-state 2 layout 7 tcbpf 9.1\nvm1 at 1 spec\n", 0,
	  NULL, 1, 7, "9.1" },
	{ "format 1 (tcbpf 0.1) reads as layout 1",
	  "tcbpf-state 1\nvm1 at 1 spec\n", 0, NULL, 1, 1, "" },
	{ "no header", "vm1 at 1 spec\n", 0, "clamps:1: not a tcbpf state file" },
	{ "header with extra word", "tcbpf-state 1 x\n", 0, "clamps:1: format" },
	{ "unknown key", HDR "vm1 at 5 spec rate 1mbit\nvm2 at 5 rat 1mbit spec\n",
	  0, "clamps:3: unknown key \"rat\"" },
	{ "bad time", HDR "vm1 at 5x spec\n", 0,
	  "clamps:2: Illegal \"at\" value \"5x\"" },
	{ "negative time", HDR "vm1 at -5 spec\n", 0, "clamps:2: Illegal \"at\"" },
	{ "time out of range", HDR "vm1 at 9223372036854775808 spec\n", 0,
	  "clamps:2: Illegal \"at\"" },
	{ "no time", HDR "vm1 spec rate 1mbit\n", 0, "clamps:2: no \"at\"" },
	{ "no spec", HDR "vm1 at 5\n", 0, "clamps:2: no \"spec\"" },
	{ "key without value", HDR "vm1 at 5 reason\n", 0,
	  "clamps:2: \"reason\" needs a value" },
	{ "key twice", HDR "vm1 at 5 at 6 spec\n", 0,
	  "clamps:2: \"at\" given twice" },
	{ "unterminated quote", HDR "# c\nvm1 at 5 reason \"abc spec\n", 0,
	  "clamps:3: unterminated \" quote at column 17" },
	{ "duplicate", HDR "vm1 at 5 spec\nvm2 at 5 spec\nvm1 at 6 spec\n", 0,
	  "clamps:4: a second record for device \"vm1\"" },
	{ "duplicate in netns", HDR "vm1 netns a at 5 spec\nvm1 netns a at 6 spec\n",
	  0, "clamps:3: a second record for device \"vm1\" in netns a" },
	{ "bad netns", HDR "vm1 netns ../x at 5 spec\n", 0,
	  "clamps:2: \"../x\" is no /run/netns name" },
	{ "long device", HDR "sixteen-chars-xx at 5 spec\n", 0,
	  "clamps:2: device name \"sixteen-chars-xx\" longer than 15" },
	{ "NUL byte", HDR "vm1 at 5 spec\0 rate 1mbit\n",
	  sizeof(HDR "vm1 at 5 spec\0 rate 1mbit\n") - 1,
	  "clamps:2: NUL byte" },
	{ "comments and blanks", HDR "# note\n\n   \nvm1 at 5 spec # why\n"
	  "vm1 netns a at 6 spec rate 1mbit\n", 0, NULL, 2 },
	{ "no final newline", HDR "vm1 at 5 spec rate 1mbit", 0, NULL, 1 },
};

static const char *check_corrupt(const struct corrupt_case *c)
{
	struct clamp_set s;
	char dir[256], err[512] = "", want[300];
	int rc;

	subdir(dir, sizeof(dir), "corrupt");
	EXPECT(put_file(dir, "clamps", c->text, c->len ?: strlen(c->text)) == 0,
	       "cannot write clamps");
	rc = state_load(dir, &s, err, sizeof(err));
	if (!c->msg) {
		EXPECT(rc == 0, "rc %d: %s", rc, err);
		EXPECT(s.n == c->n, "%d records, want %d", s.n, c->n);
		EXPECT(!c->version || (s.layout == c->layout &&
				       !strcmp(s.version, c->version)),
		       "layout %d version \"%s\", want %d \"%s\"", s.layout,
		       s.version, c->layout, c->version);
		state_free(&s);
		return NULL;
	}
	EXPECT(rc == -EINVAL, "rc %d (\"%s\"), want -EINVAL", rc, err);
	EXPECT(s.n == 0 && !s.v, "records left after an error");
	/* the message names the file by its full path */
	snprintf(want, sizeof(want), "%s/%s", dir, c->msg);
	EXPECT(strstr(err, want), "message \"%s\" lacks \"%s\"", err, want);
	return NULL;
}

static void test_state(void)
{
	char name[128];
	size_t i;

	report("state round trip of every field", t_round_trip());
	report("state set replaces, del, find by (netns, device)",
	       t_set_del_find());
	report("state 3000 records: find, del, replace through the index",
	       t_many());
	report("state refuses bad names", t_bad_names());
	report("state missing file, dirs created, mode 0644",
	       t_missing_and_mode());
	report("state leftover clamps.tmp ignored and replaced",
	       t_leftover_tmp());
	report("state failed save keeps the old file", t_failed_save());
	report("state failed rename leaves no clamps.tmp", t_failed_rename());
	report("state dir that is a file", t_dir_is_file());
	for (i = 0; i < ARRAY_SIZE(corrupt); i++) {
		snprintf(name, sizeof(name), "state load: %s", corrupt[i].name);
		report(name, check_corrupt(&corrupt[i]));
	}
}

/* ---- policy ---- */

/*
 * A config dir whose files must be read in byte order, and whose other
 * files hold lines that would fail the load if they were read.
 */
static const char *make_conf(char *dir, size_t n)
{
	char sub[300];

	subdir(dir, n, "conf");
	EXPECT(PUT(dir, "20-b.conf",
		   "# second by name\n"
		   "vm-1-* rate 2mbit\n"
		   "tap[0-9]* netns tenant-a ingress rate 5mbit egress rate 20mbit\n"
		   "set webhook-url \"http://127.0.0.1:9000/a b\"\n") == 0 &&
	       PUT(dir, "10-a.conf",
		   "\n"
		   "vm-*-00c9 rate 10mbit allow 22   # tenants\n"
		   "  '#odd' rate 1mbit\n"
		   "set log-level 2\n"
		   "exact0\n") == 0 &&
	       PUT(dir, "9-c.conf",
		   "vm-* rate 3mbit\n"
		   "\"[s]et\" netns \"ns 1\" monitor\n") == 0 &&
	       PUT(dir, "x.conf.bak", "bad line rat 1\n") == 0 &&
	       PUT(dir, ".hidden.conf", "bad line rat 1\n") == 0 &&
	       PUT(dir, "README", "bad line rat 1\n") == 0 &&
	       PUT(dir, ".conf", "bad line rat 1\n") == 0,
	       "cannot write config files");
	snprintf(sub, sizeof(sub), "%s/sub.conf", dir);
	EXPECT(mkdir(sub, 0755) == 0 || errno == EEXIST, "mkdir %s", sub);
	return NULL;
}

static const char *ends(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && !strcmp(s + a - b, tail) ? NULL : s;
}

static const char *t_policy_load(void)
{
	struct policy_set ps;
	char dir[256], err[512];
	const char *r;
	int rc;

	r = make_conf(dir, sizeof(dir));
	if (r)
		return r;
	rc = policy_load(dir, &ps, err, sizeof(err));
	EXPECT(rc == 0, "load: %d %s", rc, err);
	EXPECT(ps.n == 7, "%d policies, want 7", ps.n);
	/* 10-a.conf, then 20-b.conf, then 9-c.conf: bytes, not numbers */
	EXPECT(!ends(ps.v[0].file, "/10-a.conf") && ps.v[0].line == 2,
	       "first policy from %s:%d", ps.v[0].file, ps.v[0].line);
	EXPECT(!strcmp(ps.v[0].glob, "vm-*-00c9") && ps.v[0].argc == 4 &&
	       !strcmp(ps.v[0].argv[3], "22") && !ps.v[0].argv[4],
	       "first policy [%s] %d words", ps.v[0].glob, ps.v[0].argc);
	EXPECT(!strcmp(ps.v[1].glob, "#odd"), "quoted device [%s]",
	       ps.v[1].glob);
	EXPECT(!strcmp(ps.v[2].glob, "exact0") && ps.v[2].argc == 0,
	       "policy without SPEC: [%s] %d", ps.v[2].glob, ps.v[2].argc);
	EXPECT(!ends(ps.v[3].file, "/20-b.conf") && ps.v[3].line == 2,
	       "fourth policy from %s:%d", ps.v[3].file, ps.v[3].line);
	EXPECT(!strcmp(ps.v[4].netns, "tenant-a") && ps.v[4].argc == 6 &&
	       !strcmp(ps.v[4].argv[0], "ingress"),
	       "netns policy: netns [%s] %d words", ps.v[4].netns,
	       ps.v[4].argc);
	EXPECT(!ends(ps.v[5].file, "/9-c.conf"), "sixth from %s",
	       ps.v[5].file);
	EXPECT(!strcmp(ps.v[6].glob, "[s]et") &&
	       !strcmp(ps.v[6].netns, "ns 1"), "[s]et: [%s] in [%s]",
	       ps.v[6].glob, ps.v[6].netns);
	/* settings, in file order, with their origin */
	EXPECT(ps.nset == 2, "%d settings, want 2", ps.nset);
	EXPECT(!strcmp(ps.set[0].key, "log-level") &&
	       !strcmp(ps.set[0].value, "2") &&
	       !ends(ps.set[0].file, "/10-a.conf") && ps.set[0].line == 4,
	       "setting 0: %s=%s at %s:%d", ps.set[0].key, ps.set[0].value,
	       ps.set[0].file, ps.set[0].line);
	EXPECT(!strcmp(ps.set[1].key, "webhook-url") &&
	       !strcmp(ps.set[1].value, "http://127.0.0.1:9000/a b"),
	       "setting 1: %s=%s", ps.set[1].key, ps.set[1].value);
	policy_free(&ps);
	EXPECT(ps.n == 0 && !ps.v && !ps.files, "policy_free left data");
	return NULL;
}

struct match_case {
	const char *ifname, *netns;
	int want;		/* index into the set, -1: none */
};

static const struct match_case matches[] = {
	{ "vm-1-00c9", NULL, 0 },	/* 10-a before 20-b's vm-1-* */
	{ "vm-3-00c9", "", 0 },
	{ "vm-1-00ca", NULL, 3 },
	{ "vm-3-00ca", NULL, 5 },	/* only 9-c's vm-* */
	{ "#odd", NULL, 1 },
	{ "exact0", NULL, 2 },
	{ "exact01", NULL, -1 },
	{ "tap7", "tenant-a", 4 },
	{ "tap7x", "tenant-a", 4 },
	{ "tap7", NULL, -1 },		/* the policy is for tenant-a */
	{ "tapx", "tenant-a", -1 },
	{ "vm-1-00c9", "tenant-a", -1 },
	{ "set", "ns 1", 6 },
	{ "set", NULL, -1 },
};

static const char *t_policy_match(void)
{
	struct policy_set ps;
	const struct policy *p;
	char dir[256], err[512];
	const char *r;
	size_t i;
	int got;

	r = make_conf(dir, sizeof(dir));
	if (r)
		return r;
	EXPECT(policy_load(dir, &ps, err, sizeof(err)) == 0, "load: %s", err);
	for (i = 0; i < ARRAY_SIZE(matches); i++) {
		p = policy_match(&ps, matches[i].ifname, matches[i].netns);
		got = p ? (int)(p - ps.v) : -1;
		if (got != matches[i].want) {
			because("%s in [%s]: policy %d, want %d",
				matches[i].ifname, matches[i].netns ?: "(null)",
				got, matches[i].want);
			policy_free(&ps);
			return why;
		}
	}
	policy_free(&ps);
	return NULL;
}

struct policy_err {
	const char *name;
	const char *text;	/* of bad.conf, after good.conf */
	const char *msg;	/* after "DIR/" */
};

static const struct policy_err policy_errs[] = {
	{ "bad SPEC key", "# x\nvm-1 rat 10mbit\n",
	  "b-bad.conf:2: unknown key \"rat\"" },
	{ "bad SPEC value", "\n\nvm-* rate 10xbit\n",
	  "b-bad.conf:3: Illegal \"rate\" value \"10xbit\"" },
	{ "SPEC key without value", "vm-1 allow\n",
	  "b-bad.conf:1: \"allow\" needs a value" },
	{ "netns without name", "vm-1 netns\n",
	  "b-bad.conf:1: \"netns\" needs a value" },
	{ "empty netns", "vm-1 netns \"\" rate 1mbit\n",
	  "b-bad.conf:1: empty \"netns\" value" },
	{ "netns path", "vm-1 netns /proc/1/ns/net\n",
	  "b-bad.conf:1: \"/proc/1/ns/net\" is no /run/netns name" },
	{ "device with slash", "vm/1 rate 1mbit\n",
	  "b-bad.conf:1: \"vm/1\" is no valid device name" },
	{ "glob with slash", "vm/* rate 1mbit\n",
	  "b-bad.conf:1: \"vm/*\" is no device name pattern" },
	{ "device too long", "averyveryverylongname rate 1mbit\n",
	  "b-bad.conf:1: device name \"averyveryverylongname\" longer than 15" },
	{ "unterminated quote", "vm-1 rate 1mbit\n'vm-2 rate 1mbit\n",
	  "b-bad.conf:2: unterminated ' quote at column 1" },
	{ "set without value", "set webhook-url\n",
	  "b-bad.conf:1: \"set\" takes KEY VALUE, got 1 word " },
	{ "set with two values", "set a b c\n",
	  "b-bad.conf:1: \"set\" takes KEY VALUE, got 3 words" },
};

static const char *check_policy_err(const struct policy_err *c)
{
	struct policy_set ps;
	char dir[256], err[512] = "", want[400];
	int rc;

	subdir(dir, sizeof(dir), "perr");
	EXPECT(PUT(dir, "a-good.conf", "vm-* rate 1mbit\nset k v\n") == 0 &&
	       PUT(dir, "b-bad.conf", c->text) == 0, "cannot write files");
	rc = policy_load(dir, &ps, err, sizeof(err));
	EXPECT(rc == -EINVAL, "rc %d (\"%s\"), want -EINVAL", rc, err);
	EXPECT(ps.n == 0 && ps.nset == 0 && !ps.v && !ps.files,
	       "policies left after an error");
	snprintf(want, sizeof(want), "%s/%s", dir, c->msg);
	EXPECT(strstr(err, want), "message \"%s\" lacks \"%s\"", err, want);
	return NULL;
}

static const char *t_policy_empty(void)
{
	struct policy_set ps;
	char dir[256], err[512];
	int rc;

	snprintf(dir, sizeof(dir), "%s/no-such-conf", scratch);
	rc = policy_load(dir, &ps, err, sizeof(err));
	EXPECT(rc == 0 && ps.n == 0, "missing dir: rc %d (%s), %d", rc, err,
	       ps.n);
	EXPECT(!policy_match(&ps, "vm-1", NULL), "empty set matched");
	subdir(dir, sizeof(dir), "empty-conf");
	EXPECT(PUT(dir, "only-comments.conf", "# nothing\n\n") == 0, "put");
	rc = policy_load(dir, &ps, err, sizeof(err));
	EXPECT(rc == 0 && ps.n == 0 && ps.nset == 0, "comments only: rc %d, %d",
	       rc, ps.n);
	policy_free(&ps);
	/* a dangling symlink named *.conf is an error, not nothing */
	subdir(dir, sizeof(dir), "dangling");
	snprintf(err, sizeof(err), "%s/z.conf", dir);
	EXPECT(symlink("/nonexistent/z.conf", err) == 0, "symlink");
	rc = policy_load(dir, &ps, err, sizeof(err));
	EXPECT(rc == -ENOENT && strstr(err, "/dangling/z.conf"),
	       "dangling symlink: rc %d \"%s\"", rc, err);
	return NULL;
}

static void test_policy(void)
{
	char name[128];
	size_t i;

	report("policy load: order, globs, netns, settings, only *.conf",
	       t_policy_load());
	report("policy match: first match, netns", t_policy_match());
	report("policy missing dir, comment-only file, dangling link",
	       t_policy_empty());
	for (i = 0; i < ARRAY_SIZE(policy_errs); i++) {
		snprintf(name, sizeof(name), "policy refuses %s",
			 policy_errs[i].name);
		report(name, check_policy_err(&policy_errs[i]));
	}
}

int main(void)
{
	if (!mkdtemp(scratch)) {
		printf("FAIL: state: mkdtemp %s: %s\n", scratch,
		       strerror(errno));
		return 1;
	}
	test_words();
	test_state();
	test_policy();
	rm_rf(scratch);
	return nfail ? 1 : 0;
}
