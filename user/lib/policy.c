// SPDX-License-Identifier: GPL-2.0-only
/* policy.c - standing policies from DIR/\*.conf (format in policy.h). */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/policy.h"
#include "lib/spec.h"
#include "lib/state.h"
#include "lib/words.h"
#include "util/msg.h"

void policy_free(struct policy_set *ps)
{
	int i;

	for (i = 0; i < ps->n; i++) {
		free(ps->v[i].glob);
		free(ps->v[i].argv);
	}
	for (i = 0; i < ps->nset; i++) {
		free(ps->set[i].key);
		free(ps->set[i].value);
	}
	for (i = 0; i < ps->nfiles; i++)
		free(ps->files[i]);
	free(ps->v);
	free(ps->set);
	free(ps->files);
	memset(ps, 0, sizeof(*ps));
}

const struct policy *policy_match(const struct policy_set *ps,
				  const char *ifname, const char *netns)
{
	int i;

	if (!netns)
		netns = "";
	for (i = 0; i < ps->n; i++)
		if (!strcmp(ps->v[i].netns, netns) &&
		    !fnmatch(ps->v[i].glob, ifname, 0))
			return &ps->v[i];
	return NULL;
}

/* @v (of @n elements of @size) with room for one more, zeroed; NULL
 * when out of memory (@v is then unchanged). */
static void *grow(void *v, int n, size_t size)
{
	char *nv = realloc(v, (n + 1) * size);

	if (nv)
		memset(nv + n * size, 0, size);
	return nv;
}

/* "set KEY VALUE" */
static int add_setting(struct policy_set *ps, int argc, char **argv,
		       const char *file, int line, char *why, size_t wlen)
{
	struct policy_setting *st;

	if (argc != 3) {
		seterr(why, wlen, "\"set\" takes KEY VALUE, got %d word%s "
		       "(quote a value with spaces)", argc - 1,
		       argc == 2 ? "" : "s");
		return -EINVAL;
	}
	st = grow(ps->set, ps->nset, sizeof(*st));
	if (!st)
		goto oom;
	ps->set = st;
	st = &ps->set[ps->nset++];
	st->file = file;
	st->line = line;
	st->key = strdup(argv[1]);
	st->value = strdup(argv[2]);
	if (st->key && st->value)
		return 0;
oom:
	seterr(why, wlen, "out of memory");
	return -ENOMEM;
}

/* A pattern with no pattern characters must be a device name. */
static int check_glob(const char *glob, char *why, size_t wlen)
{
	if (!strpbrk(glob, "*?[\\"))
		return state_check_ifname(glob, why, wlen);
	if (strchr(glob, '/')) {
		seterr(why, wlen, "\"%s\" is no device name pattern: "
		       "a device name has no '/'", glob);
		return -EINVAL;
	}
	return 0;
}

/* DEVICE-OR-GLOB [netns NAME] SPEC... */
static int add_policy(struct policy_set *ps, int argc, char **argv,
		      const char *file, int line, char *why, size_t wlen)
{
	struct policy *p;
	struct spec spec;
	const char *netns = "";
	int i = 1, rc;

	rc = check_glob(argv[0], why, wlen);
	if (rc)
		return rc;
	if (argc > 1 && !strcmp(argv[1], "netns")) {
		if (argc < 3) {
			seterr(why, wlen, "\"netns\" needs a value");
			return -EINVAL;
		}
		netns = argv[2];
		rc = state_check_netns(netns, why, wlen);
		if (!rc && !*netns) {
			seterr(why, wlen, "empty \"netns\" value (leave "
			       "\"netns\" out for tcbpf's own namespace)");
			rc = -EINVAL;
		}
		if (rc)
			return rc;
		i = 3;
	}
	rc = spec_parse(&spec, argc - i, argv + i, why, wlen);
	if (rc)
		return rc;

	p = grow(ps->v, ps->n, sizeof(*p));
	if (!p)
		goto oom;
	ps->v = p;
	p = &ps->v[ps->n++];
	p->file = file;
	p->line = line;
	strcpy(p->netns, netns);
	p->argc = argc - i;
	p->glob = strdup(argv[0]);
	p->argv = words_dup(p->argc, argv + i);
	if (p->glob && p->argv)
		return 0;
oom:
	seterr(why, wlen, "out of memory");
	return -ENOMEM;
}

static int load_file(struct policy_set *ps, const char *path,
		     char *err, size_t len)
{
	char why[256], *text = NULL, **argv;
	size_t cap = 0;
	int lineno = 0, argc, rc = 0;
	ssize_t n;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		seterr(err, len, "%s: %s", path, strerror(-rc));
		return rc;
	}
	while (!rc && (n = getline(&text, &cap, f)) >= 0) {
		lineno++;
		if (strlen(text) != (size_t)n) {
			seterr(why, sizeof(why), "NUL byte in the line");
			rc = -EINVAL;
			break;
		}
		rc = words_split(text, &argc, &argv, why, sizeof(why));
		if (rc)
			break;
		if (argc && !strcmp(argv[0], "set"))
			rc = add_setting(ps, argc, argv, path, lineno,
					 why, sizeof(why));
		else if (argc)
			rc = add_policy(ps, argc, argv, path, lineno,
					why, sizeof(why));
		free(argv);
	}
	if (rc)
		seterr(err, len, "%s:%d: %s", path, lineno, why);
	else if (ferror(f)) {
		rc = -EIO;
		seterr(err, len, "%s: read error", path);
	}
	free(text);
	fclose(f);
	return rc;
}

static int conf_name(const struct dirent *d)
{
	size_t l = strlen(d->d_name);

	return d->d_name[0] != '.' && l > 5 &&
	       !strcmp(d->d_name + l - 5, ".conf");
}

/* Byte order, whatever the locale: "10-x" sorts before "9-x" everywhere. */
static int by_bytes(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Remember @path for the policies' .file; NULL when out of memory. */
static const char *keep_path(struct policy_set *ps, const char *dir,
			     const char *name)
{
	char **files = grow(ps->files, ps->nfiles, sizeof(*files));

	if (!files)
		return NULL;
	ps->files = files;
	if (asprintf(&files[ps->nfiles], "%s/%s", dir, name) < 0)
		return NULL;
	return files[ps->nfiles++];
}

int policy_load(const char *dir, struct policy_set *ps, char *err, size_t len)
{
	struct dirent **names;
	struct stat st;
	const char *path;
	int i, n, rc = 0;

	memset(ps, 0, sizeof(*ps));
	n = scandir(dir, &names, conf_name, by_bytes);
	if (n < 0) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		seterr(err, len, "%s: %s", dir, strerror(-rc));
		return rc;
	}
	for (i = 0; i < n && !rc; i++) {
		path = keep_path(ps, dir, names[i]->d_name);
		if (!path) {
			rc = -ENOMEM;
			seterr(err, len, "out of memory");
		} else if (stat(path, &st)) {
			rc = -errno;
			seterr(err, len, "%s: %s", path, strerror(-rc));
		} else if (S_ISREG(st.st_mode)) {
			rc = load_file(ps, path, err, len);
		}
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc)
		policy_free(ps);
	return rc;
}
