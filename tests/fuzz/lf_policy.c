// SPDX-License-Identifier: GPL-2.0-only
/*
 * lf_policy.c - libFuzzer target: the policy files (lib/policy.c),
 * DIR/\*.conf, read by tcbpf apply and the daemon.
 *
 * The input is one policy file, DIR/50-fuzz.conf. policy_load() refuses
 * it with a message naming the file and line, or gives policies whose
 * SPEC words spec_parse() accepts (they were checked at load), whose
 * names are valid, and settings with a key and a value; policy_match()
 * of a policy's own name (when it is no pattern) finds a policy.
 */
#include <errno.h>

#include "lib/policy.h"
#include "lib/spec.h"
#include "lf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_set ps;
	struct spec spec;
	char err[512];
	int rc, i;

	lf_put_file(lf_dir(), "50-fuzz.conf", data, size);
	err[0] = '\0';
	rc = policy_load(lf_dir(), &ps, err, sizeof(err));
	if (rc) {
		/* -ERANGE: a SPEC value out of range (spec_parse) */
		LF_CHECK((rc == -EINVAL || rc == -ERANGE) &&
			 strstr(err, "/50-fuzz.conf:"),
			 "rc %d \"%s\"", rc, err);
		LF_CHECK(!ps.n && !ps.nset && !ps.v, "a refused load kept policies");
		return 0;
	}
	for (i = 0; i < ps.n; i++) {
		const struct policy *p = &ps.v[i];

		LF_CHECK(p->glob && *p->glob && p->argv && !p->argv[p->argc],
			 "policy %d incomplete", i);
		LF_CHECK(p->line >= 1 && strstr(p->file, "/50-fuzz.conf"),
			 "policy %d from %s:%d", i, p->file, p->line);
		rc = spec_parse(&spec, p->argc, p->argv, err, sizeof(err));
		LF_CHECK(rc == 0, "policy %d: SPEC accepted at load now "
			 "refused: %s", i, err);
		if (!strpbrk(p->glob, "*?[\\"))
			LF_CHECK(policy_match(&ps, p->glob, p->netns),
				 "policy %d \"%s\" does not match its own name",
				 i, p->glob);
	}
	for (i = 0; i < ps.nset; i++)
		LF_CHECK(ps.set[i].key && ps.set[i].value && ps.set[i].line >= 1,
			 "setting %d incomplete", i);
	policy_free(&ps);
	return 0;
}
