/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hook.h - put the limiter's programs on a device's tc hooks and take them
 * off again: tcx links (kernel >= 6.6) or clsact + cls_bpf direct-action.
 * Only tcbpf's own link pins and its own filter are ever touched: the one
 * at TCBPF_TC_HANDLE/TCBPF_TC_PRIO whose program is tcbpf's (by name);
 * someone else's filter there is neither replaced (attach fails) nor
 * deleted.
 */
#ifndef TCBPF_HOOK_H
#define TCBPF_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* Attach @prog_fd at @dir of @ifindex with @hook (TCBPF_HOOK_TC/TCX).
 * *@made_clsact is set when this call created the clsact qdisc. When
 * something on the device excludes hook tc (a classic ingress qdisc,
 * someone else's filter at tcbpf's pref/handle), @why (@whylen > 0) says
 * what; it is empty otherwise. Nothing is printed: a caller that falls
 * back to the other hook has nothing to warn about. */
int hook_attach(int ifindex, int dir, int hook, int prog_fd, bool *made_clsact,
		char *why, size_t whylen);

/* Remove tcbpf's program from @dir of @ifindex, whichever hook holds it.
 * 0 also when nothing was there. */
int hook_detach(int ifindex, int dir);

/* Which hook carries program @prog_id at @dir of @ifindex: TCBPF_HOOK_*,
 * TCBPF_HOOK_NONE when it is not attached. */
int hook_query(int ifindex, int dir, __u32 prog_id);

/* 1 when a tcbpf program (of any namespace's pair) is on @dir of @ifindex,
 * with tcx or tc; 0 when none is; negative errno when it cannot tell. */
int hook_mine(int ifindex, int dir);

/* Delete the clsact qdisc if no filter is left on it. */
int hook_clsact_release(int ifindex);

/*
 * Upgrades: put new programs in place of tcbpf's old ones without taking
 * the hook off. hook_swap_links() updates every pinned tcx link of
 * namespace @netns (from any namespace) to the program of @prog_fd
 * (TCBPF_INGRESS, TCBPF_EGRESS, TCBPF_PROG_PACE) named as the link's
 * current one; the number swapped or a negative errno. hook_swap_tc()
 * replaces tcbpf's cls_bpf filter on @dir of @ifindex (the caller's
 * namespace) in place if its program is named as @prog_fd's: 1 swapped,
 * 0 none there.
 */
int hook_swap_links(__u64 netns, const int prog_fd[]);
int hook_swap_tc(int ifindex, int dir, int prog_fd);

/* 1 when the running kernel has tcx. */
bool hook_have_tcx(void);

#endif
