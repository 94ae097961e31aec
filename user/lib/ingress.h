/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ingress.h - ingress EDT: traffic FROM the VM paced instead of dropped.
 *
 * tcbpf_ingress redirects the default class of a device in ingress EDT
 * mode to one shared pacing device per network namespace, the ifb
 * TCBPF_PACE_IFNAME, created by tcbpf on first need and removed when no
 * device of the namespace paces through it any more. Its egress program
 * (tcbpf_pace) stamps each packet's departure time on the device's
 * timelines, its root qdisc (mq + fq per queue, sized for the fastest
 * device) holds it until then, and ifb hands it back to the device's
 * receive path with tc_skip_classify set, so tcbpf_ingress does not see it
 * twice. Where the kernel has no ifb or no fq, ingress polices.
 */
#ifndef TCBPF_INGRESS_H
#define TCBPF_INGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "tcbpf.h"
#include "kern/obj.h"

/*
 * Make @cfg (a device's ingress settings, about to be written) pace if it
 * is in EDT mode: the ifb with its fq and program, cfg->pace_ifindex set.
 * @cmd_set: what this command said for ingress (SPEC_*); @old_flags: the
 * flags of the settings it replaces (0 if none); @hook: the device's hook
 * kind, used for the ifb too. Returns 0 (pacing, or not wanted), 1 when it
 * fell back to policing (@msg says why, for a note), or -errno when the
 * command asked for pacing explicitly and the kernel cannot (@msg has the
 * kernel's words).
 */
int ingress_pacing(struct tcbpf *t, const char *dev, __u32 cmd_set,
		   struct tcbpf_cfg *cfg, __u32 old_flags, int hook,
		   char *msg, size_t msglen);

/*
 * Remove this namespace's pacing ifb when no device's settings in the
 * map still pace through it (after detach, change, or an undone attach).
 */
void ingress_release(struct tcbpf *t);

#endif
