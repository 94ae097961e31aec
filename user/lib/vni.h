/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vni.h - VXLAN networks on a VXLAN underlay device (`vxbackend`): the
 * device's programs count every network (VNI) they see, both directions,
 * and police the networks that have a limit of their own, each with its
 * own buckets; other VXLAN and non-VXLAN traffic keeps the device's
 * settings (monitor: untouched).
 */
#ifndef TCBPF_VNI_H
#define TCBPF_VNI_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "tcbpf.h"
#include "kern/obj.h"
#include "lib/spec.h"

/* The device name that is an underlay without "vxlan-port" being said. */
#define VNI_UNDERLAY_NAME	"vxbackend"

/* Whether attach of @name with @s makes it a VXLAN underlay. */
bool vni_underlay(const char *name, const struct spec *s);

/*
 * Mark the settings of an underlay (vni_underlay()): TCBPF_F_VXLAN and
 * the VXLAN port ("vxlan-port N"; else the port it had, else 4789).
 * @old: the device's settings before, NULL when none.
 */
void vni_dev_cfg(const char *name, const struct spec *s,
		 const struct tcbpf_cfg *old, struct tcbpf_cfg cfg[TCBPF_NDIR]);

/*
 * "attach DEV vni HEX SPEC": the limit of one network of underlay DEV,
 * police by default in both directions (the underlay has no queue of its
 * own to pace in); its counters kept when it had a limit. Returns 0 or a
 * negative errno with a message naming the culprit in @msg.
 */
int vni_attach(struct tcbpf *t, int ifindex, const char *name,
	       const struct spec *s, char *msg, size_t len);

/*
 * "detach DEV vni HEX": remove one network's limit (its counters stay,
 * its traffic goes back to the device's settings). Takes the lock file.
 * 0, -ENOENT when it had none (a message in @msg either way on error).
 */
int vni_detach(const char *name, __u32 vni, char *msg, size_t len);

/* One network's traffic over an interval, for stats and the exporters. */
struct vni_rate {
	__u32 vni;
	double bps[TCBPF_NDIR];		/* passed + dropped, bits/s */
	double pps[TCBPF_NDIR];
	double drop_bps[TCBPF_NDIR];
	double drop_pps[TCBPF_NDIR];
};

/* What each network of @ifindex carried, summed over CPUs: *@out (free()
 * it), *@n entries, sorted by VNI. */
struct vni_count {
	__u32 vni;
	struct tcbpf_vni_ctr c;
	bool limited;			/* has a limit of its own */
	__u32 mode[TCBPF_NDIR];		/* of that limit */
};
int vni_counts(struct tcbpf *t, int ifindex, struct vni_count **out, int *n);

/* Rates between two vni_counts() @secs apart, sorted by bits/s (both
 * directions) then pkt/s, highest first; *@out to free(). */
int vni_rates(const struct vni_count *old, int nold,
	      const struct vni_count *cur, int ncur, double secs,
	      struct vni_rate **out, int *n);

/* "00c9": the VNI in the hex form of interface names (at least 4 digits). */
void vni_name(__u32 vni, char *buf, size_t len);

#endif /* TCBPF_VNI_H */
