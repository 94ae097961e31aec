// SPDX-License-Identifier: GPL-2.0-only
/* dl.c - see dl.h. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>

#include "cli/dl.h"
#include "util/log.h"

struct mhd_fns lmhd;

int dl_load(const char *who, const char *soname, const char *pkg,
	    struct dl_sym *syms, size_t n)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	size_t i;

	if (!h) {
		pr_warn("%s: cannot load %s (apt-get install %s): %s\n",
			who, soname, pkg, dlerror());
		return -ENOENT;
	}
	for (i = 0; i < n; i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			pr_warn("%s: %s has no %s\n", who, soname, syms[i].name);
			return -ENOENT;
		}
	}
	return 0;
}

static int mhd_err = 1;		/* 1: not tried yet */

int mhd_load(const char *who)
{
#define FN_SYM(f)	{ #f, (void **)&lmhd.f },
	struct dl_sym syms[] = { MHD_FNS(FN_SYM) };
#undef FN_SYM

	if (mhd_err <= 0)
		return mhd_err;
	mhd_err = dl_load(who, "libmicrohttpd.so.12", "libmicrohttpd12", syms,
			  sizeof(syms) / sizeof(syms[0]));
	return mhd_err;
}
