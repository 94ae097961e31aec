/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netid.h - network ids in interface names.
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

#define NETID_LEN	16

/* "01a2", "1A2", "0x1a2" -> 0x1a2; -EINVAL otherwise. */
int netid_parse(const char *s, unsigned long long *id);

/* "vm-3-00c9" -> "00c9"; "" when the name is none of the four forms. */
void netid_of_name(const char *name, char *hex, size_t len);

/* @ifname is one of the four forms with network @id. */
bool netid_match(const char *ifname, unsigned long long id);

/* The interfaces of network @id in this namespace, sorted by name. */
int netid_devices(unsigned long long id, char (**names)[IF_NAMESIZE], int *n);

#endif
