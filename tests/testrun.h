/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * testrun.h - a private copy of tcbpf's programs and maps for
 * BPF_PROG_TEST_RUN, the one loader of tests/bpf_test.c and bench/ppcost.c.
 *
 * Every map is unpinned before the load, so the CLI's pins under
 * TCBPF_PIN_DIR are neither touched nor reused: what a test writes no
 * attached device sees, and the other way round.
 */
#ifndef TCBPF_TESTS_TESTRUN_H
#define TCBPF_TESTS_TESTRUN_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tcbpf.h"
#include "tcbpf.skel.h"

struct testrun {
	struct tcbpf_bpf *skel;
	int prog[TCBPF_NDIR];
	int cfg_fd, state_fd, stats_fd;
	int ncpus;
	struct tcbpf_pcpu *percpu;	/* ncpus values, for the stats map */
};

/* Load it; on error returns -errno with a message naming the step. */
static inline int testrun_load(struct testrun *t, char *err, size_t len)
{
	struct bpf_map *map;
	int ret;

	memset(t, 0, sizeof(*t));
	t->skel = tcbpf_bpf__open();
	if (!t->skel) {
		ret = -errno;
		snprintf(err, len, "opening the skeleton: %s", strerror(-ret));
		return ret;
	}
	bpf_object__for_each_map(map, t->skel->obj)
		bpf_map__set_pin_path(map, NULL);
	ret = tcbpf_bpf__load(t->skel);
	if (ret) {
		snprintf(err, len, "loading: %s", strerror(-ret));
		return ret;
	}
	bpf_object__for_each_map(map, t->skel->obj) {
		if (bpf_map__is_pinned(map)) {
			snprintf(err, len, "map %s got pinned",
				 bpf_map__name(map));
			return -EEXIST;
		}
	}
	t->prog[TCBPF_INGRESS] = bpf_program__fd(t->skel->progs.tcbpf_ingress);
	t->prog[TCBPF_EGRESS] = bpf_program__fd(t->skel->progs.tcbpf_egress);
	t->cfg_fd = bpf_map__fd(t->skel->maps.tcbpf_cfg);
	t->state_fd = bpf_map__fd(t->skel->maps.tcbpf_state);
	t->stats_fd = bpf_map__fd(t->skel->maps.tcbpf_stats);
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus <= 0) {
		ret = t->ncpus ? t->ncpus : -EINVAL;
		snprintf(err, len, "possible CPUs: %s", strerror(-ret));
		return ret;
	}
	t->percpu = calloc(t->ncpus, sizeof(*t->percpu));
	if (!t->percpu) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/*
 * Settings of @dir of device @ifindex (namespace cookie 0, as the
 * programs of a private load see it), the other direction as it is.
 */
static inline int testrun_cfg_put(struct testrun *t, int ifindex, __u32 dir,
				  const struct tcbpf_cfg *cfg)
{
	struct tcbpf_key key = { .ifindex = ifindex };
	struct tcbpf_dev dev = {};

	bpf_map_lookup_elem(t->cfg_fd, &key, &dev);
	dev.dir[dir] = *cfg;
	dev.dirs |= 1U << dir;
	return bpf_map_update_elem(t->cfg_fd, &key, &dev, BPF_ANY) ? -errno : 0;
}

/* No settings for @dir of @ifindex (the device's entry goes with both). */
static inline void testrun_cfg_del(struct testrun *t, int ifindex, __u32 dir)
{
	struct tcbpf_key key = { .ifindex = ifindex };
	struct tcbpf_dev dev;

	if (bpf_map_lookup_elem(t->cfg_fd, &key, &dev))
		return;
	dev.dirs &= ~(1U << dir);
	if (dev.dirs)
		bpf_map_update_elem(t->cfg_fd, &key, &dev, BPF_ANY);
	else
		bpf_map_delete_elem(t->cfg_fd, &key);
}

static inline void testrun_close(struct testrun *t)
{
	tcbpf_bpf__destroy(t->skel);
	free(t->percpu);
	memset(t, 0, sizeof(*t));
}

/* Zero the counters and batched tokens of @slot on every CPU. */
static inline int testrun_stats_zero(struct testrun *t, __u32 slot)
{
	memset(t->percpu, 0, t->ncpus * sizeof(*t->percpu));
	if (bpf_map_update_elem(t->stats_fd, &slot, t->percpu, BPF_ANY))
		return -errno;
	return 0;
}

/* The counters of @slot summed over the CPUs. */
static inline int testrun_stats(struct testrun *t, __u32 slot,
				struct tcbpf_stats *sum)
{
	int cpu, c;

	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(t->stats_fd, &slot, t->percpu))
		return -errno;
	for (cpu = 0; cpu < t->ncpus; cpu++) {
		for (c = 0; c < TCBPF_NCLASS; c++) {
			const struct tcbpf_counters *p = &t->percpu[cpu].cls[c];
			struct tcbpf_counters *s = &sum->cls[c];

			s->pass_pkts += p->pass_pkts;
			s->pass_bytes += p->pass_bytes;
			s->drop_pkts += p->drop_pkts;
			s->drop_bytes += p->drop_bytes;
			s->mark_pkts += p->mark_pkts;
		}
	}
	return 0;
}

#endif /* TCBPF_TESTS_TESTRUN_H */
