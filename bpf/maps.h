/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * maps.h - the limiter's maps; include/tcbpf.h has their layout.
 *
 * Pinned by name, so that every device's programs and the CLI share one
 * copy. bench/floor.bpf.c defines TCBPF_MAPS_PRIVATE before including
 * this: its probes then look up maps of the very same shape, which never
 * touch (or reuse) the pins.
 */
#ifndef TCBPF_MAPS_H
#define TCBPF_MAPS_H

#ifdef TCBPF_MAPS_PRIVATE
#define TCBPF_MAP_PIN
#else
#define TCBPF_MAP_PIN	__uint(pinning, LIBBPF_PIN_BY_NAME);
#endif

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCBPF_MAX_DEVS);
	__type(key, struct tcbpf_key);
	__type(value, struct tcbpf_dev);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	TCBPF_MAP_PIN
} tcbpf_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TCBPF_MAX_PROFS);
	__type(key, __u32);
	__type(value, struct tcbpf_prof);
	TCBPF_MAP_PIN
} tcbpf_prof SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCBPF_PCACHE);
	__type(key, __u32);
	__type(value, struct tcbpf_pc);
	TCBPF_MAP_PIN
} tcbpf_pcache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCBPF_MAX_VNIS);
	__type(key, struct tcbpf_vni_key);
	__type(value, struct tcbpf_dev);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	TCBPF_MAP_PIN
} tcbpf_vni SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, TCBPF_MAX_VNI_STATS);
	__type(key, struct tcbpf_vni_key);
	__type(value, struct tcbpf_vni_ctr);
	TCBPF_MAP_PIN
} tcbpf_vni_stats SEC(".maps");

/* A direction's profile (its index is 16 bits, the array's key 32). */
static __always_inline const struct tcbpf_prof *
prof_lookup(const struct tcbpf_ddir *dd)
{
	__u32 i = dd->prof;

	return bpf_map_lookup_elem(&tcbpf_prof, &i);
}

/*
 * The entry of device @ifindex of namespace @netns (@vni1 0), or of its
 * VXLAN network @vni1 - 1.
 */
static __always_inline struct tcbpf_dev *ent_lookup(__u64 netns,
						    __u32 ifindex, __u32 vni1)
{
	struct tcbpf_key k = { .netns = netns, .ifindex = ifindex };
	struct tcbpf_vni_key vk = { .netns = netns, .ifindex = ifindex,
				    .vni = vni1 - 1 };

	return vni1 ? bpf_map_lookup_elem(&tcbpf_vni, &vk) :
		      bpf_map_lookup_elem(&tcbpf_cfg, &k);
}

#endif /* TCBPF_MAPS_H */
