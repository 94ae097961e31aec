// SPDX-License-Identifier: GPL-2.0-only
/*
 * conf_example_test.c - the example configuration the package ships
 * (scripts/tcbpf.conf.example, /usr/share/doc/tcbpf/examples/tcbpf.conf)
 * loads with lib/policy.c, SPECs checked, and means what its comments say.
 *
 *   conf_example_test DIR    DIR holds the example as NAME.conf
 *
 * tests/pkg.sh (suite man) copies the example into a scratch directory
 * and runs this. One line per case, "PASS: name" or "FAIL: name: why".
 */
#include <stdio.h>
#include <string.h>

#include "lib/policy.h"

static int nfail;

static void report(const char *name, const char *why)
{
	if (why) {
		printf("FAIL: %s: %s\n", name, why);
		nfail++;
	} else {
		printf("PASS: %s\n", name);
	}
}

/* the policy @dev in @netns gets starts with SPEC word @first, or a reason */
static const char *expect(const struct policy_set *ps, const char *dev,
			  const char *netns, const char *first)
{
	static char why[256];
	const struct policy *p = policy_match(ps, dev, netns);

	if (!p) {
		snprintf(why, sizeof(why), "no policy matches %s%s%s", dev,
			 netns ? " netns " : "", netns ? netns : "");
		return why;
	}
	if (!p->argc || strcmp(p->argv[0], first)) {
		snprintf(why, sizeof(why), "%s gets line %d (%s ...), want %s ...",
			 dev, p->line, p->argc ? p->argv[0] : "defaults", first);
		return why;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct policy_set ps = { 0 };
	char err[512];

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	if (policy_load(argv[1], &ps, err, sizeof(err))) {
		report("conf-example-loads", err);
		return 1;
	}
	report("conf-example-loads", ps.n >= 4 ? NULL : "fewer than 4 policies");
	report("conf-example-net-00c9", expect(&ps, "vm-3-00c9", NULL, "rate"));
	report("conf-example-net-01a2", expect(&ps, "vm-12-01a2", NULL, "ingress"));
	report("conf-example-netns", expect(&ps, "tap3", "tenant-a", "rate"));
	report("conf-example-netns-only",
	       policy_match(&ps, "tap3", NULL) ? "tap3 outside tenant-a matched" : NULL);
	report("conf-example-monitor", expect(&ps, "vx-00c9", NULL, "monitor"));
	report("conf-example-others",
	       policy_match(&ps, "vm-3-0001", NULL) ? "vm-3-0001 matched" : NULL);
	policy_free(&ps);
	return nfail ? 1 : 0;
}
