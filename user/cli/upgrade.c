// SPDX-License-Identifier: GPL-2.0-only
/* upgrade.c - tcbpf upgrade: this build takes over the pinned limiter. */
#include <errno.h>

#include "cli/cli.h"
#include "cli/print.h"
#include "lib/upgrade.h"
#include "kern/obj.h"

static const char *const did_name[] = {
	[UPGRADE_NOTHING] = "nothing",
	[UPGRADE_CURRENT] = "current",
	[UPGRADE_OTHER_BUILD] = "other-build",
	[UPGRADE_TAKEOVER] = "takeover",
	[UPGRADE_MIGRATED] = "migrated",
};

static const char *const did_text[] = {
	[UPGRADE_NOTHING] = "nothing pinned: nothing to upgrade",
	[UPGRADE_CURRENT] = "this build's programs are in place already",
	[UPGRADE_OTHER_BUILD] = "another build's programs are in place",
	[UPGRADE_TAKEOVER] = "this build's programs took over",
	[UPGRADE_MIGRATED] = "the maps were migrated to this layout",
};

int cmd_upgrade(const struct opts *o, int argc, char **argv)
{
	struct upgrade_report r;
	struct lim *l;
	int err;

	if (argc)
		return usage_error("upgrade takes no arguments, not \"%s\"",
				   argv[0]);
	l = cli_lim(o);
	if (!l)
		return -ENOMEM;
	err = lim_upgrade(l, &r);
	if (err) {
		err = cli_fail(l, err);
		goto out;
	}
	print_start(o->json);
	print_open_object(NULL);
	print_string(PRINT_ANY, "result", "%s", did_name[r.did]);
	print_string(PRINT_FP, NULL, ": %s", did_text[r.did]);
	print_u64(PRINT_JSON, "from_layout", NULL, r.from_layout);
	print_string(PRINT_JSON, "from_version", NULL, r.from_version);
	print_u64(PRINT_JSON, "layout", NULL, TCBPF_LAYOUT);
	print_string(PRINT_ANY, "version", " (tcbpf %s", tcbpf_version());
	print_u64(PRINT_FP, NULL, ", layout %llu)", TCBPF_LAYOUT);
	if (r.did == UPGRADE_TAKEOVER || r.did == UPGRADE_MIGRATED || o->json) {
		print_u64(PRINT_ANY, "namespaces", ": %llu namespaces",
			  r.namespaces);
		print_u64(PRINT_ANY, "hooks", ", %llu hooks swapped", r.hooks);
		print_u64(PRINT_ANY, "settings", ", %llu settings carried over",
			  r.settings);
	}
	print_text("\n");
	print_close_object();
	print_end();
out:
	lim_close(l);
	return err;
}
