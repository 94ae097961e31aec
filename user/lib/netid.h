/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netid.h - operations by network id, and per-device snapshot/restore.
 *
 * A network NETID has, on a host, the interfaces vm-<N>-<NETID>,
 * vx-<NETID>, spc-<NETID> and pub-<NETID>, NETID in hex. Names are
 * compared numerically, so "1a2", "01a2" and "0x1A2" are one network.
 */
#ifndef TCBPF_NETID_H
#define TCBPF_NETID_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include "tcbpf.h"
#include "lib/cmd.h"
#include "lib/spec.h"

/* "01a2", "1A2", "0x1a2" -> 0x1a2; -EINVAL otherwise. */
int netid_parse(const char *s, unsigned long long *id);

/* @ifname is one of the four forms with network @id. */
bool netid_match(const char *ifname, unsigned long long id);

/* The interfaces of network @id in this namespace, sorted by name. */
int netid_devices(unsigned long long id, char (**names)[IF_NAMESIZE], int *n);

/* What tcbpf had on a device before a command changed it. */
struct dev_snap {
	char name[IF_NAMESIZE];
	int ifindex;
	bool have[TCBPF_NDIR];
	struct tcbpf_cfg cfg[TCBPF_NDIR];
};

/* Take the settings of @name (none: have[] false). -ENODEV if no device. */
int dev_snapshot(const char *name, struct dev_snap *s);

/* A SPEC that, given to attach, reproduces @cfg (every key set). */
void spec_from_cfg(struct spec *s, const struct tcbpf_cfg cfg[TCBPF_NDIR]);

/* Put @s back: its settings again, or detach when it had none. Quiet. */
int dev_restore(const struct opts *o, const struct dev_snap *s);

/* tcbpf attach|change|detach|show net NETID [SPEC]: argv[0] is NETID. */
int cmd_net(const struct opts *o, const char *op, int argc, char **argv);

#endif
