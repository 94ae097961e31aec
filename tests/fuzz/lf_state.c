// SPDX-License-Identifier: GPL-2.0-only
/*
 * lf_state.c - libFuzzer target: the recorded state file (lib/state.c),
 * DIR/clamps, read by every tcbpf command and by the daemon at start.
 *
 * The input is the file. state_load() refuses it with a message naming
 * file:line, or gives records that satisfy state.h (valid names, at most
 * one per (netns, device), a NULL-terminated SPEC); state_save() of them
 * and state_load() again give the same records, in the same order, and a
 * second save writes the same bytes. state_find() finds each record and
 * state_del() removes it.
 */
#include <errno.h>
#include <sys/stat.h>

#include "lib/state.h"
#include "lf.h"

static void same_clamp(const struct clamp *a, const struct clamp *b, int i)
{
	int k;

	LF_CHECK(!strcmp(a->ifname, b->ifname) && !strcmp(a->netns, b->netns),
		 "record %d: %s/%s read back as %s/%s", i, a->netns, a->ifname,
		 b->netns, b->ifname);
	LF_CHECK(a->at == b->at, "record %d: at changed", i);
	LF_CHECK(!a->reason == !b->reason &&
		 (!a->reason || !strcmp(a->reason, b->reason)),
		 "record %d: reason changed", i);
	LF_CHECK(a->argc == b->argc, "record %d: %d SPEC words, then %d", i,
		 a->argc, b->argc);
	for (k = 0; k < a->argc; k++)
		LF_CHECK(!strcmp(a->argv[k], b->argv[k]), "record %d word %d: "
			 "\"%s\" then \"%s\"", i, k, a->argv[k], b->argv[k]);
	LF_CHECK(!b->argv[b->argc], "record %d: argv not NULL-terminated", i);
}

static char *slurp(const char *dir, size_t *len)
{
	char path[128], *buf = NULL;
	FILE *f, *m;
	int c;

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	f = fopen(path, "re");
	LF_CHECK(f, "%s not written", path);
	m = open_memstream(&buf, len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(f);
	fclose(m);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct clamp_set s = { 0 }, t = { 0 };
	char in[128], out[128], err[512], why[256], *b1, *b2;
	size_t l1, l2;
	int rc, i;

	snprintf(in, sizeof(in), "%s/in", lf_dir());
	snprintf(out, sizeof(out), "%s/out", lf_dir());
	mkdir(in, 0755);
	lf_put_file(in, STATE_FILE, data, size);
	err[0] = '\0';
	rc = state_load(in, &s, err, sizeof(err));
	if (rc) {
		LF_CHECK(rc == -EINVAL && strstr(err, "/clamps"),
			 "rc %d \"%s\"", rc, err);
		LF_CHECK(!s.n && !s.v, "a refused file left records");
		return 0;
	}
	for (i = 0; i < s.n; i++) {
		LF_CHECK(!state_check_ifname(s.v[i].ifname, why, sizeof(why)) &&
			 !state_check_netns(s.v[i].netns, why, sizeof(why)),
			 "record %d: %s", i, why);
		LF_CHECK(state_find(&s, s.v[i].netns, s.v[i].ifname) == &s.v[i],
			 "record %d is not the one state_find() finds", i);
	}
	rc = state_save(out, &s, err, sizeof(err));
	LF_CHECK(rc == 0, "save: %s", err);
	b1 = slurp(out, &l1);
	rc = state_load(out, &t, err, sizeof(err));
	LF_CHECK(rc == 0, "a saved file refused: %s", err);
	LF_CHECK(s.n == t.n, "%d records saved, %d read back", s.n, t.n);
	for (i = 0; i < s.n; i++)
		same_clamp(&s.v[i], &t.v[i], i);
	rc = state_save(out, &t, err, sizeof(err));
	LF_CHECK(rc == 0, "second save: %s", err);
	b2 = slurp(out, &l2);
	LF_CHECK(l1 == l2 && !memcmp(b1, b2, l1), "second save differs");
	while (t.n) {
		int n = t.n;

		rc = state_del(&t, t.v[n - 1].netns, t.v[n - 1].ifname);
		LF_CHECK(rc == 0 && t.n == n - 1, "state_del: %d", rc);
	}
	free(b1);
	free(b2);
	state_free(&s);
	state_free(&t);
	return 0;
}
