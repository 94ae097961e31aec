/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * state.h - the recorded desired state: what the operator asked for, one
 * record per clamped device, kept in DIR/clamps (DIR is /var/lib/tcbpf
 * unless a front end says otherwise). The kernel's state is reconciled
 * against it; it is never derived from the kernel.
 *
 * The file is text, words as in words.h (shell-like quoting), so cat and
 * grep work on it:
 *
 *   tcbpf-state 2 layout 2 tcbpf 0.2
 *   vm-3-00c9 at 1764471234 reason "ticket 4711: \"noisy\" neighbour" spec rate 10mbit allow 22
 *   tap0 netns tenant-a at 1764471300 spec ingress rate 5mbit egress rate 20mbit
 *
 * - Line 1 is the format's version: "tcbpf-state 2 layout N tcbpf
 *   VERSION", the map layout (TCBPF_LAYOUT) and version of the tcbpf that
 *   wrote it, or tcbpf 0.1's "tcbpf-state 1" (read as layout 1, version
 *   unknown; the next save writes format 2). A reader refuses a format it
 *   does not know rather than guess.
 * - Every other line is blank, a comment ('#' starting a word), or one
 *   record: the DEVICE name, then keys with one value each, in any order:
 *     netns NAME   the /run/netns name; absent = the namespace tcbpf
 *                  itself runs in
 *     at SECONDS   when the clamp was set, unix time (required)
 *     reason TEXT  why, free text (optional)
 *   and last "spec" followed by the SPEC words exactly as the operator
 *   gave them (none = the defaults). The SPEC is kept as words, not as
 *   numbers, and parsed again (spec_parse) when applied, so a record keeps
 *   its meaning across tcbpf versions.
 * - At most one record per (netns, DEVICE). Anything else (an unknown key,
 *   a duplicate, a missing "at" or "spec", a bad quote) makes the whole
 *   file an error naming file:line: no record is ever dropped silently.
 *
 * state_save() replaces the file atomically (DIR/clamps.tmp, fsync,
 * rename, fsync of DIR): a reader sees the old file or the new one, and a
 * leftover clamps.tmp (a writer killed half way) is never read and is
 * overwritten by the next save. Writers must be serialised by the caller
 * (tcbpf's lock); nothing here locks.
 *
 * Functions print nothing; they return 0 or a negative errno and, where
 * they take @err, write a one-line message naming the culprit there.
 */
#ifndef TCBPF_STATE_H
#define TCBPF_STATE_H

#include <limits.h>
#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#define STATE_FILE	"clamps"
#define STATE_VERSION	2

/* One clamp the operator asked for. */
struct clamp {
	char ifname[IFNAMSIZ];
	char netns[NAME_MAX + 1];	/* "" = tcbpf's own namespace */
	int argc;			/* SPEC words, may be 0 */
	char **argv;			/* one block (words.h), NULL-terminated */
	int64_t at;			/* when it was set, unix seconds */
	char *reason;			/* NULL = none */
};

struct clamp_set {
	struct clamp *v;
	int n;
	int cap;
	int *idx;	/* by namespace and device: v's index + 1, 0 free */
	int idx_cap;	/* a power of two, at least twice n; 0 no index */
	/* what the file's first line says of its writer (state_load; 0 and
	 * "" when there was no file); state_save writes this build's */
	int layout;
	char version[32];
};

/*
 * Read DIR/clamps into @s (which must be empty: zeroed or state_free()d).
 * A missing file is an empty set. On error @s is left empty and @err
 * names the file and line: "/var/lib/tcbpf/clamps:7: unknown key \"rat\"".
 */
int state_load(const char *dir, struct clamp_set *s, char *err, size_t len);

/*
 * Write @s to DIR/clamps atomically (see above), creating DIR (0755, and
 * missing parents) first. File mode 0644. On failure DIR/clamps is what
 * it was before, and clamps.tmp is removed where possible; only when the
 * final fsync of DIR fails is the new file in place, but maybe not yet
 * durable.
 */
int state_save(const char *dir, const struct clamp_set *s,
	       char *err, size_t len);

/*
 * Add @c, or replace the record with the same (netns, ifname). @c is
 * copied (argv, reason); the caller keeps its own. -EINVAL with a message
 * when ifname or netns is not a name a device or a /run/netns entry can
 * have. The SPEC words are not parsed here: the caller applied them.
 */
int state_set(struct clamp_set *s, const struct clamp *c,
	      char *err, size_t len);

/* Remove the record of (@netns, @ifname); -ENOENT if there is none.
 * @netns NULL is the same as "". */
int state_del(struct clamp_set *s, const char *netns, const char *ifname);

/* The record of (@netns, @ifname), or NULL. Valid until @s changes. */
struct clamp *state_find(const struct clamp_set *s, const char *netns,
			 const char *ifname);

/* Release everything @s holds and leave it empty (reusable). */
void state_free(struct clamp_set *s);

/* Name checks shared with policy.c; 0 or -EINVAL with a message. */
int state_check_ifname(const char *name, char *err, size_t len);
int state_check_netns(const char *name, char *err, size_t len);

#endif
