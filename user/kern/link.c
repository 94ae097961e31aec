// SPDX-License-Identifier: GPL-2.0-only
/* link.c - see link.h. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "kern/link.h"
#include "kern/nl.h"

int link_ifb_create(const char *name, unsigned int queues, char *err,
		    size_t errlen)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC,
				 .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
	struct nlattr *info;
	struct nl_sock s;
	struct nl_req r;
	int ret, idx;

	ret = nl_open(&s);
	if (ret) {
		nl_errf(err, errlen, "netlink socket: %s", strerror(-ret));
		return ret;
	}
	ret = nl_req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi,
			  sizeof(ifi), 128);
	if (ret)
		goto out;
	nl_req_put_strz(&r, IFLA_IFNAME, name);
	/* a queue per CPU, so fq runs per queue under mq as on egress */
	nl_req_put_u32(&r, IFLA_NUM_TX_QUEUES, queues);
	nl_req_put_u32(&r, IFLA_NUM_RX_QUEUES, queues);
	info = nl_req_nest_start(&r, IFLA_LINKINFO);
	if (info) {
		nl_req_put_strz(&r, IFLA_INFO_KIND, "ifb");
		nl_req_nest_end(&r, info);
	}
	ret = nl_talk(&s, &r, NULL, NULL);
	nl_req_free(&r);
out:
	if (ret) {
		nl_kerr(err, errlen, &s, ret, "creating ifb device");
		nl_close(&s);
		return ret;
	}
	nl_close(&s);
	idx = if_nametoindex(name);
	if (!idx) {
		ret = -errno;
		nl_errf(err, errlen, "ifb %s vanished: %s", name, strerror(-ret));
		return ret;
	}
	return idx;
}

int link_ifb_find(const char *name)
{
	/* by name only: TCBPF_PACE_IFNAME is tcbpf's, never another user's
	 * (sysfs would show the namespace it was mounted in, not ours) */
	return (int)if_nametoindex(name);
}

int link_delete(int ifindex, char *err, size_t errlen)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_sock s;
	struct nl_req r;
	int ret;

	ret = nl_open(&s);
	if (ret) {
		nl_errf(err, errlen, "netlink socket: %s", strerror(-ret));
		return ret;
	}
	ret = nl_req_init(&r, RTM_DELLINK, 0, &ifi, sizeof(ifi), 0);
	if (!ret) {
		ret = nl_talk(&s, &r, NULL, NULL);
		nl_req_free(&r);
	}
	if (ret)
		nl_kerr(err, errlen, &s, ret, "deleting the pacing ifb");
	nl_close(&s);
	return ret;
}
