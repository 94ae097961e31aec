/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * link.h - create and delete the ifb device that ingress EDT paces
 * through, over rtnetlink, in the calling thread's network namespace.
 * No policy: which name, and when, is lib/ingress.c's business.
 */
#ifndef TCBPF_LINK_H
#define TCBPF_LINK_H

#include <stddef.h>

/*
 * Create ifb @name with @queues tx/rx queues and bring it up. Returns its
 * ifindex, -EEXIST when a device of that name exists, or -errno with the
 * kernel's text in @err (e.g. no ifb driver).
 */
int link_ifb_create(const char *name, unsigned int queues, char *err,
		    size_t errlen);

/* The device @name's ifindex, 0 when there is none. */
int link_ifb_find(const char *name);

/* Delete device @ifindex. */
int link_delete(int ifindex, char *err, size_t errlen);

#endif
