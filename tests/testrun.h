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
#include <sched.h>
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
	int cfg_fd, prof_fd, pcache_fd, set_fd;
	int ncpus;
	__u64 ids;			/* the last direction id given */
	struct tcbpf_pc *percpu;	/* ncpus values, for the cache map */
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
	t->set_fd = bpf_program__fd(t->skel->progs.tcbpf_set);
	t->cfg_fd = bpf_map__fd(t->skel->maps.tcbpf_cfg);
	t->prof_fd = bpf_map__fd(t->skel->maps.tcbpf_prof);
	t->pcache_fd = bpf_map__fd(t->skel->maps.tcbpf_pcache);
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

/* The profile of @dir of @ifindex: one each, for the tests. */
static inline __u32 testrun_prof(int ifindex, __u32 dir)
{
	return (ifindex * TCBPF_NDIR + dir) % TCBPF_MAX_PROFS;
}

/*
 * A new direction id: odd multiples of a large odd number, distinct,
 * never 0, spread over the cache.
 */
static inline __u64 testrun_id(struct testrun *t)
{
	t->ids += 2;
	return (t->ids - 1) * 0x9e3779b97f4a7c15ULL;
}

/*
 * A new direction id whose place in each CPU's cache is entry @idx (ids
 * sharing it collide), unlike any other the tests gave.
 */
static inline __u64 testrun_collide_id(struct testrun *t, __u32 idx)
{
	return testrun_id(t) * TCBPF_PCACHE | (idx & (TCBPF_PCACHE - 1));
}

/*
 * Run on the CPU the thread is on now, alone (the CPUs' caches are per
 * CPU: a test of one must stay on it); the CPUs it had into @saved, for
 * testrun_unpin(). Returns the CPU, or -1 with errno.
 */
static inline int testrun_pin(cpu_set_t *saved)
{
	cpu_set_t one;
	int cpu = sched_getcpu();

	if (cpu < 0 || sched_getaffinity(0, sizeof(*saved), saved))
		return -1;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return sched_setaffinity(0, sizeof(one), &one) ? -1 : cpu;
}

static inline void testrun_unpin(const cpu_set_t *saved)
{
	sched_setaffinity(0, sizeof(*saved), saved);
}

/*
 * Settings of @dir of device @ifindex (namespace cookie 0, as the
 * programs of a private load see it), the other direction as it is; the
 * direction's timelines and counters too when it had none.
 */
static inline int testrun_cfg_put(struct testrun *t, int ifindex, __u32 dir,
				  const struct tcbpf_cfg *cfg)
{
	struct tcbpf_key key = { .ifindex = ifindex };
	__u32 p = testrun_prof(ifindex, dir);
	struct tcbpf_dev dev = {};
	struct tcbpf_ddir *dd = &dev.dir[dir];

	if (bpf_map_update_elem(t->prof_fd, &p, &cfg->prof, BPF_ANY))
		return -errno;
	bpf_map_lookup_elem(t->cfg_fd, &key, &dev);
	if (!(dev.dirs & (1U << dir))) {
		memset(dd, 0, sizeof(*dd));
		dd->id = testrun_id(t);
	}
	dd->prof = p;
	dd->pace_ifindex = cfg->pace_ifindex;
	dev.dirs |= 1U << dir;
	dev.hook = cfg->hook;
	memcpy(dev.ifname, cfg->ifname, sizeof(dev.ifname));
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

/* The direction's part of the entry (zeroes when it has none: -ENOENT). */
static inline int testrun_ddir(struct testrun *t, int ifindex, __u32 dir,
			       struct tcbpf_ddir *dd)
{
	struct tcbpf_key key = { .ifindex = ifindex };
	struct tcbpf_dev dev;

	memset(dd, 0, sizeof(*dd));
	if (bpf_map_lookup_elem(t->cfg_fd, &key, &dev))
		return -errno;
	if (!(dev.dirs & (1U << dir)))
		return -ENOENT;
	*dd = dev.dir[dir];
	return 0;
}

/*
 * @dir of @ifindex attached anew with id @id (a test's choice, e.g. one
 * that collides in the cache with another's): timelines and counters from
 * zero, what the caches hold of the old id is no longer its own.
 */
static inline int testrun_id_set(struct testrun *t, int ifindex, __u32 dir,
				 __u64 id)
{
	struct tcbpf_key key = { .ifindex = ifindex };
	struct tcbpf_dev dev;
	struct tcbpf_ddir *dd = &dev.dir[dir];

	if (bpf_map_lookup_elem(t->cfg_fd, &key, &dev))
		return -errno;
	if (!(dev.dirs & (1U << dir)))
		return -ENOENT;
	dd->id = id;
	memset(dd->tl, 0, sizeof(dd->tl));
	memset(&dd->ctr, 0, sizeof(dd->ctr));
	if (bpf_map_update_elem(t->cfg_fd, &key, &dev, BPF_EXIST))
		return -errno;
	return 0;
}

/*
 * Empty every CPU's cache, whoever holds its entries: what they held is
 * handed in to no one.
 */
static inline int testrun_caches_zero(struct testrun *t)
{
	__u32 i;

	memset(t->percpu, 0, t->ncpus * sizeof(*t->percpu));
	for (i = 0; i < TCBPF_PCACHE; i++)
		if (bpf_map_update_elem(t->pcache_fd, &i, t->percpu, BPF_ANY))
			return -errno;
	return 0;
}

/*
 * Run tcbpf_set with @a (the program writes a->ret back into it): -errno
 * when the run fails, else a->ret (0, or -ENOENT for an unknown entry).
 */
static inline int testrun_set(struct testrun *t, struct tcbpf_set_args *a)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = a,
		    .ctx_size_in = sizeof(*a));

	a->ret = 1;	/* not 0 or -ENOENT: the run did not write it */
	if (bpf_prog_test_run_opts(t->set_fd, &opts))
		return -errno;
	if (opts.retval)
		return -EPROTO;
	return a->ret;
}

/*
 * Zero the timelines, counters and batched tokens of @dir of @ifindex:
 * the entry's, and the CPUs' caches at its place (whoever holds it).
 */
static inline int testrun_stats_zero(struct testrun *t, int ifindex, __u32 dir)
{
	struct tcbpf_key key = { .ifindex = ifindex };
	struct tcbpf_dev dev;
	__u32 i;

	if (bpf_map_lookup_elem(t->cfg_fd, &key, &dev))
		return 0;
	memset(dev.dir[dir].tl, 0, sizeof(dev.dir[dir].tl));
	memset(&dev.dir[dir].ctr, 0, sizeof(dev.dir[dir].ctr));
	if (bpf_map_update_elem(t->cfg_fd, &key, &dev, BPF_EXIST))
		return -errno;
	i = dev.dir[dir].id & (TCBPF_PCACHE - 1);
	memset(t->percpu, 0, t->ncpus * sizeof(*t->percpu));
	if (bpf_map_update_elem(t->pcache_fd, &i, t->percpu, BPF_ANY))
		return -errno;
	return 0;
}

/*
 * The CPUs' cache entries of @dir of @ifindex into t->percpu; *@tag its
 * id. The entries of other tags are not its own.
 */
static inline int testrun_caches(struct testrun *t, int ifindex, __u32 dir,
				 __u64 *tag)
{
	struct tcbpf_ddir dd;
	__u32 i;
	int err = testrun_ddir(t, ifindex, dir, &dd);

	if (err)
		return err;
	i = dd.id & (TCBPF_PCACHE - 1);
	*tag = dd.id;
	return bpf_map_lookup_elem(t->pcache_fd, &i, t->percpu) ? -errno : 0;
}

/*
 * The counters of the direction @dd (a device's, or a VXLAN network's with
 * a limit) as read from its entry: those plus the CPUs' caches' that hold
 * its id. The caches are read after the entry.
 */
static inline int testrun_ddir_stats(struct testrun *t,
				     const struct tcbpf_ddir *dd,
				     struct tcbpf_stats *sum)
{
	__u32 i = dd->id & (TCBPF_PCACHE - 1);
	int cpu, c;

	*sum = dd->ctr;
	if (bpf_map_lookup_elem(t->pcache_fd, &i, t->percpu))
		return -errno;
	for (cpu = 0; cpu < t->ncpus; cpu++) {
		if (t->percpu[cpu].tag != dd->id)
			continue;
		for (c = 0; c < TCBPF_NCLASS; c++) {
			const struct tcbpf_counters *p = &t->percpu[cpu].ctr.cls[c];
			struct tcbpf_counters *s = &sum->cls[c];

			s->pass_pkts += p->pass_pkts;
			s->pass_bytes += p->pass_bytes;
			s->drop_pkts += p->drop_pkts;
			s->drop_bytes += p->drop_bytes;
			s->mark_pkts += p->mark_pkts;
			s->wdrop_pkts += p->wdrop_pkts;
			s->wdrop_bytes += p->wdrop_bytes;
		}
	}
	return 0;
}

/* The counters of @dir of @ifindex: the entry's and the CPUs' caches'. */
static inline int testrun_stats(struct testrun *t, int ifindex, __u32 dir,
				struct tcbpf_stats *sum)
{
	struct tcbpf_ddir dd;
	int err;

	memset(sum, 0, sizeof(*sum));
	err = testrun_ddir(t, ifindex, dir, &dd);
	if (err)
		return err;
	return testrun_ddir_stats(t, &dd, sum);
}

#endif /* TCBPF_TESTS_TESTRUN_H */
