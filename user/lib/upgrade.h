/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * upgrade.h - take over, or migrate, what another version of tcbpf pinned,
 * without a gap in enforcement.
 *
 * The pins carry their layout in tcbpf_info (kern/obj.h; none = layout 1,
 * tcbpf 0.1). Against this build:
 *
 *   same layout, same build     nothing to do
 *   same layout, other build    takeover (when asked): load this build's
 *                               programs on the pinned maps, swap them into
 *                               every hook in one step each (tcx: the
 *                               link's program, tc: the filter replaced in
 *                               place), repin them; the old ones go
 *   older layout it knows       migrate (always: nothing else can use the
 *                               maps): new maps staged under
 *                               <pin dir>/upgrade, every entry converted
 *                               into them (settings, bucket timelines,
 *                               counters), programs on them swapped into
 *                               every hook, then the new pins renamed over
 *                               the old (each pin replaced at once)
 *   newer or unknown layout     refused (-EPROTO), nothing touched, with a
 *                               message saying what to do
 *
 * A swap that fails puts back what it swapped and leaves the old pins.
 * The caller holds tcbpf's lock.
 */
#ifndef TCBPF_UPGRADE_H
#define TCBPF_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

enum upgrade_did {
	UPGRADE_NOTHING = 0,	/* nothing pinned */
	UPGRADE_CURRENT,	/* this layout and build already */
	UPGRADE_OTHER_BUILD,	/* same layout, another build, not asked */
	UPGRADE_TAKEOVER,	/* programs swapped */
	UPGRADE_MIGRATED,	/* maps migrated, programs swapped */
};

struct upgrade_report {
	enum upgrade_did did;
	int from_layout;
	char from_version[32];	/* "" unknown (layout 1 does not say) */
	int namespaces;		/* program trios loaded */
	int hooks;		/* hooks swapped */
	int settings;		/* devices' and VXLAN networks' settings
				 * carried over (migration) */
};

/*
 * Bring the pins to this build: migrate an older layout; with @takeover
 * also swap in this build's programs when the layout is the same but the
 * build is not. 0 with @r filled, or a negative errno with a message in
 * @msg (-EPROTO: refused, nothing changed).
 */
int upgrade_run(bool takeover, struct upgrade_report *r, char *msg,
		size_t len);

/*
 * Without migrating: remove the layout 1 settings entry of (@netns,
 * @ifindex) from the pinned maps, its flags (both directions') in
 * *@flags. -ENOENT: none.
 */
int upgrade_forget_v1(__u64 netns, __u32 ifindex, __u32 *flags);

#endif
