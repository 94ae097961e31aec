// SPDX-License-Identifier: GPL-2.0-only
/*
 * webhook_save.c - the alerts' clamps in STATE_DIR/webhook-clamps, so that
 * a daemon restarted (a package upgrade, a crash) still releases them with
 * the settings and the record from before.
 *
 * Text in words (words.h), one clamp per line, written atomically (a
 * temporary file, fsync, rename) whenever the set changes:
 *
 *   tcbpf-webhook 1
 *   vm-3-00c9 netns "" at 1796010485 reason alert:5a1c0e3f alert TcbpfFlood
 *     last "" fps 5a1c0e3f release - before "mode monitor ..."
 *     after "rate 50Mbit ..." record-at 1796010400 record-spec monitor
 *
 * (one line in the file). "release" is the rest of the quiet period in
 * seconds, "-" while alerts hold the clamp; "before" the settings to put
 * back ("" = none); "after" those the alert set (a restarted daemon
 * adopts the clamp only if the device still has them); "record-*" the
 * record to put back (absent: none).
 * A file that does not parse is reported and ignored: the clamps it named
 * stay, as an operator's would.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/webhook_int.h"
#include "lib/words.h"
#include "util/clock.h"
#include "util/log.h"

#define WH_FILE_HEAD	"tcbpf-webhook 1"

static void kv(FILE *f, const char *key, const char *val)
{
	fprintf(f, " %s ", key);
	words_write(f, val);
}

/* argv as one words line ("rate 10Mbit allow 22"); NULL on ENOMEM */
static char *join_words(int argc, char **argv)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int i;

	if (!f)
		return NULL;
	for (i = 0; i < argc; i++) {
		if (i)
			fputc(' ', f);
		words_write(f, argv[i]);
	}
	fclose(f);
	return buf;
}

static int write_clamp(FILE *f, const struct wh_clamp *c, __u64 now)
{
	char fps[WH_MAX_FP * 65] = "", rel[32] = "-", *spec;
	int i;

	for (i = 0; i < c->nfp; i++)
		snprintf(fps + strlen(fps), sizeof(fps) - strlen(fps), "%s%s",
			 i ? "," : "", c->fps[i]);
	if (c->release_at)
		snprintf(rel, sizeof(rel), "%llu", (unsigned long long)
			 (c->release_at > now ? (c->release_at - now) / NSEC_PER_SEC : 0));
	words_write(f, c->dev);
	kv(f, "netns", c->netns);
	fprintf(f, " at %lld", (long long)c->at);
	kv(f, "reason", c->reason);
	kv(f, "alert", c->alert);
	kv(f, "last", c->last);
	kv(f, "fps", fps);
	kv(f, "release", rel);
	kv(f, "before", c->before_words);
	kv(f, "after", c->after_words);
	if (c->had_record) {
		spec = join_words(c->old.argc, c->old.argv);
		if (!spec)
			return -ENOMEM;
		fprintf(f, " record-at %lld", (long long)c->old.at);
		if (c->old.reason)
			kv(f, "record-reason", c->old.reason);
		kv(f, "record-spec", spec);
		free(spec);
	}
	fputc('\n', f);
	return 0;
}

void wh_save(struct webhook *wh)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	__u64 now = mono_ns();
	int i, err = 0;
	FILE *f;

	wh->dirty = false;
	snprintf(path, sizeof(path), "%s/%s", wh->o->state_dir, WH_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!wh->nc && access(path, F_OK))
		return;		/* nothing now, nothing before */
	f = fopen(tmp, "we");
	if (!f) {
		pr_warn("webhook: cannot write %s: %s\n", tmp, strerror(errno));
		return;
	}
	fprintf(f, "%s\n", WH_FILE_HEAD);
	for (i = 0; i < wh->nc && !err; i++)
		err = write_clamp(f, &wh->c[i], now);
	if (fflush(f) || fsync(fileno(f)) || ferror(f))
		err = errno ? -errno : -EIO;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		pr_warn("webhook: cannot write %s: %s (a restarted daemon would "
			"not release the alerts' clamps)\n", path, strerror(-err));
		unlink(tmp);
	}
}

/* "a,b,c" into c->fps */
static void read_fps(struct wh_clamp *c, const char *v)
{
	char buf[WH_MAX_FP * 65], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", v);
	for (tok = strtok_r(buf, ",", &save); tok && c->nfp < WH_MAX_FP;
	     tok = strtok_r(NULL, ",", &save))
		snprintf(c->fps[c->nfp++], sizeof(c->fps[0]), "%s", tok);
}

#define COPY(dst, v)	(strlen(v) < sizeof(dst) ? (snprintf(dst, sizeof(dst), "%s", v), 0) : -1)

static int read_key(struct wh_clamp *c, const char *k, const char *v, __u64 now)
{
	char err[128], *end;

	if (!strcmp(k, "netns"))
		return COPY(c->netns, v);
	if (!strcmp(k, "reason"))
		return COPY(c->reason, v);
	if (!strcmp(k, "alert"))
		return COPY(c->alert, v);
	if (!strcmp(k, "last"))
		return COPY(c->last, v);
	if (!strcmp(k, "before"))
		return COPY(c->before_words, v);
	if (!strcmp(k, "after"))
		return COPY(c->after_words, v);
	if (!strcmp(k, "fps")) {
		read_fps(c, v);
		return 0;
	}
	if (!strcmp(k, "at") || !strcmp(k, "record-at")) {
		long long n = strtoll(v, &end, 10);

		*(!strcmp(k, "at") ? &c->at : &c->old.at) = n;
		c->had_record |= !strcmp(k, "record-at");
		return *v && !*end ? 0 : -1;
	}
	if (!strcmp(k, "release")) {
		if (!strcmp(v, "-"))
			return 0;
		c->release_at = now + strtoull(v, &end, 10) * NSEC_PER_SEC;
		return *v && !*end ? 0 : -1;
	}
	if (!strcmp(k, "record-reason")) {
		c->old.reason = strdup(v);
		return c->old.reason ? 0 : -1;
	}
	if (!strcmp(k, "record-spec")) {
		free(c->old.argv);
		c->old.argv = NULL;
		return words_split(v, &c->old.argc, &c->old.argv, err, sizeof(err));
	}
	return -1;
}

/* One line into wh->c[wh->nc]; -EINVAL for a bad one. */
static int read_clamp(struct webhook *wh, const char *line, __u64 now)
{
	struct wh_clamp *c = &wh->c[wh->nc];
	char err[128], **argv;
	int argc, i, rc;

	rc = words_split(line, &argc, &argv, err, sizeof(err));
	if (rc || !argc) {
		if (!rc)
			free(argv);
		return rc;
	}
	memset(c, 0, sizeof(*c));
	rc = argc % 2 && !COPY(c->dev, argv[0]) ? 0 : -EINVAL;
	for (i = 1; !rc && i + 1 < argc; i += 2)
		rc = read_key(c, argv[i], argv[i + 1], now) ? -EINVAL : 0;
	if (!rc && (!c->reason[0] || !c->after_words[0] || !c->nfp == !c->release_at ||
		    (c->had_record && !c->old.argv)))
		rc = -EINVAL;	/* held by nobody and not released, ... */
	free(argv);
	if (rc) {
		free(c->old.argv);
		free(c->old.reason);
		return rc;
	}
	snprintf(c->old.ifname, sizeof(c->old.ifname), "%s", c->dev);
	snprintf(c->old.netns, sizeof(c->old.netns), "%s", c->netns);
	c->unchecked = true;
	wh->unchecked = true;
	wh->nc++;
	return 0;
}

int wh_load(struct webhook *wh)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	__u64 now = mono_ns();
	int lineno = 0, rc = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", wh->o->state_dir, WH_FILE);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (!rc && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (!lineno++)
			rc = strcmp(line, WH_FILE_HEAD) ? -EINVAL : 0;
		else if (wh->nc < WH_MAX_CLAMPS)
			rc = read_clamp(wh, line, now);
	}
	free(line);
	fclose(f);
	if (rc) {
		pr_warn("webhook: %s:%d: not a clamp this version wrote: ignoring the "
			"file (the alerts' clamps it names stay until lifted by hand)\n",
			path, lineno);
		while (wh->nc)
			wh_clamp_drop(wh, &wh->c[0]);
		wh->unchecked = false;
	}
	wh->dirty = false;
	return rc;
}
