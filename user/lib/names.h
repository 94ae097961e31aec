/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * names.h - the one place that names tcbpf's enums for people and JSON:
 * directions, classes, modes, hooks, the egress qdisc's state, rate kinds
 * and allowlist protocols. The parser of each word lives in spec.c.
 */
#ifndef TCBPF_NAMES_H
#define TCBPF_NAMES_H

#include <stddef.h>
#include <linux/types.h>
#include "tcbpf.h"

const char *dir_name(int dir);		/* "ingress", "egress" */
const char *dir_side(int dir);		/* "from VM", "to VM" */
const char *class_name(int cls);	/* "default", "allow" */
const char *mode_name(__u32 mode);	/* "police", "edt", "monitor" */
const char *hook_name(int hook);	/* "none", "tc", "tcx" */

/* Egress root qdisc, from cfg flags: "fq", "unavailable", "kept", "untouched". */
const char *qdisc_state_name(__u32 flags);

/* "tcp,udp" */
char *proto_list(char *buf, size_t len, __u8 protos);

#endif
