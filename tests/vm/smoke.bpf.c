// SPDX-License-Identifier: GPL-2.0-only
/* Smallest tc program with a map, built on the host by tests/vm/vmtest.sh
 * for its default smoke check: proves the guest loads and attaches tc BPF.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} smoke_packets SEC(".maps");

SEC("tc")
int smoke_count(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&smoke_packets, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
