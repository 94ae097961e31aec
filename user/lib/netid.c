// SPDX-License-Identifier: GPL-2.0-only
/*
 * netid.c - network ids in interface names: vm-<N>-<NETID>, vx-<NETID>,
 * spc-<NETID>, pub-<NETID>, NETID in hex, and the interfaces of one.
 */
#include <stdio.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/netid.h"

static bool all_hex(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return false;
	return true;
}

void netid_of_name(const char *name, char *hex, size_t len)
{
	static const char *const pfx[] = { "vx-", "spc-", "pub-" };
	const char *h = NULL, *p;
	unsigned int i;

	for (i = 0; i < 3; i++)
		if (!strncmp(name, pfx[i], strlen(pfx[i])))
			h = name + strlen(pfx[i]);
	if (!h && !strncmp(name, "vm-", 3)) {
		/* vm-<number>-<netid> */
		for (p = name + 3; isdigit((unsigned char)*p); p++)
			;
		if (p > name + 3 && *p == '-')
			h = p + 1;
	}
	if (!h || !all_hex(h)) {
		snprintf(hex, len, "%s", "");
		return;
	}
	snprintf(hex, len, "%s", h);
	for (p = hex; *p; p++)
		hex[p - hex] = tolower((unsigned char)*p);
}

int netid_parse(const char *s, unsigned long long *id)
{
	unsigned long long v = 0;
	const char *p = s;

	if (!strncasecmp(p, "0x", 2))
		p += 2;
	if (!*p || strlen(p) > 15)
		return -EINVAL;
	for (; *p; p++) {
		if (!isxdigit((unsigned char)*p))
			return -EINVAL;
		v = v * 16 + (isdigit((unsigned char)*p) ? *p - '0' :
			      tolower((unsigned char)*p) - 'a' + 10);
	}
	*id = v;
	return 0;
}

bool netid_match(const char *ifname, unsigned long long id)
{
	char hex[NETID_LEN];
	unsigned long long v;

	netid_of_name(ifname, hex, sizeof(hex));
	return hex[0] && !netid_parse(hex, &v) && v == id;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int netid_devices(unsigned long long id, char (**names)[IF_NAMESIZE], int *n)
{
	struct if_nameindex *ifs, *i;
	char (*v)[IF_NAMESIZE] = NULL, (*nv)[IF_NAMESIZE];
	int cnt = 0;

	ifs = if_nameindex();
	if (!ifs)
		return -errno;
	for (i = ifs; i->if_index; i++) {
		if (!netid_match(i->if_name, id))
			continue;
		nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv) {
			free(v);
			if_freenameindex(ifs);
			return -ENOMEM;
		}
		v = nv;
		snprintf(v[cnt++], IF_NAMESIZE, "%s", i->if_name);
	}
	if_freenameindex(ifs);
	qsort(v, cnt, sizeof(*v), name_cmp);
	*names = v;
	*n = cnt;
	return 0;
}
