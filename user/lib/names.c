// SPDX-License-Identifier: GPL-2.0-only
/* names.c - see names.h. */
#include <stdio.h>

#include "lib/names.h"

const char *dir_name(int dir)
{
	return dir == TCBPF_INGRESS ? "ingress" : "egress";
}

const char *dir_side(int dir)
{
	return dir == TCBPF_INGRESS ? "from VM" : "to VM";
}

const char *class_name(int cls)
{
	return cls == TCBPF_CLASS_ALLOW ? "allow" : "default";
}

const char *mode_name(__u32 mode)
{
	switch (mode) {
	case TCBPF_MODE_POLICE:
		return "police";
	case TCBPF_MODE_EDT:
		return "edt";
	case TCBPF_MODE_MONITOR:
		return "monitor";
	}
	return "unknown";
}

const char *hook_name(int hook)
{
	switch (hook) {
	case TCBPF_HOOK_TC:
		return "tc";
	case TCBPF_HOOK_TCX:
		return "tcx";
	}
	return "none";
}

const char *qdisc_state_name(__u32 flags)
{
	if (flags & TCBPF_F_OWN_FQ)
		return "fq";
	if (flags & TCBPF_F_NO_FQ)
		return "unavailable";
	if (flags & TCBPF_F_TREE_KEPT)
		return "kept";
	return "untouched";
}

char *proto_list(char *buf, size_t len, __u8 p)
{
	static const struct { __u8 bit; const char *name; } protos[] = {
		{ TCBPF_P_TCP, "tcp" },
		{ TCBPF_P_UDP, "udp" },
		{ TCBPF_P_SCTP, "sctp" },
	};
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if ((p & protos[i].bit) && off < len)
			off += snprintf(buf + off, len - off, "%s%s",
					off ? "," : "", protos[i].name);
	return buf;
}
