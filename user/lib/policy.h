/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy.h - standing policies from a configuration directory (tcbpf's
 * default is /etc/tcbpf/): which devices get which clamp without anyone
 * typing a command.
 *
 * Every "*.conf" file of the directory is read, in byte order of the
 * names (C locale: "10-a.conf" before "9-b.conf" before "a.conf"); names
 * starting with '.' are skipped (editors' and package managers' leftovers),
 * and so are subdirectories. A missing directory means no policies.
 * Lines are words as in words.h (shell-like quoting, '#' comments):
 *
 *   # tenant VMs: 10 Mbit/s, ssh stays reachable
 *   vm-*-00c9 rate 10mbit allow 22
 *   tap[0-9]* netns tenant-a ingress rate 5mbit egress rate 20mbit
 *   set webhook-url "http://127.0.0.1:9000/alert"
 *
 * - DEVICE-OR-GLOB [netns NAME] SPEC...: DEVICE-OR-GLOB is an fnmatch(3)
 *   pattern on the device name (no flags: '*' '?' '[...]'); NAME is a
 *   /run/netns name (absent = the namespace tcbpf runs in; not a
 *   pattern); SPEC is the grammar of attach (spec.h), checked at load.
 *   A device literally named "set" is written "[s]et".
 * - set KEY VALUE: a daemon setting, kept in order for the daemon to
 *   interpret. This module knows no keys; the caller refuses those it does
 *   not know (each keeps its file and line for that message).
 *
 * The first policy that matches a device wins (files in the order above,
 * lines in file order). Any error refuses the whole load, naming
 * file:line and the word: "/etc/tcbpf/vm.conf:3: unknown key \"rat\"".
 * Nothing here prints.
 */
#ifndef TCBPF_POLICY_H
#define TCBPF_POLICY_H

#include <limits.h>
#include <stddef.h>

#define POLICY_DIR	"/etc/tcbpf"

struct policy {
	char *glob;			/* fnmatch pattern on the device name */
	char netns[NAME_MAX + 1];	/* "" = tcbpf's own namespace */
	int argc;			/* SPEC words, may be 0 (defaults) */
	char **argv;			/* one block (words.h) */
	const char *file;		/* where it was written, for messages */
	int line;
};

struct policy_setting {
	char *key;
	char *value;
	const char *file;
	int line;
};

struct policy_set {
	struct policy *v;
	int n;
	struct policy_setting *set;
	int nset;
	char **files;			/* owns the strings .file points to */
	int nfiles;
};

/*
 * Read DIR's policies into @ps (left empty on error, with the message in
 * @err). 0, -ENOMEM, -EINVAL (a bad line), or the errno of an unreadable
 * directory or file.
 */
int policy_load(const char *dir, struct policy_set *ps, char *err, size_t len);

/* The first policy for device @ifname in namespace @netns (NULL = ""),
 * or NULL. */
const struct policy *policy_match(const struct policy_set *ps,
				  const char *ifname, const char *netns);

void policy_free(struct policy_set *ps);

#endif
