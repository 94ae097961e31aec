/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * private.h - a private copy of the limiter for tests: the skeleton loaded
 * with every map unpinned first, so the CLI's pins under TCBPF_PIN_DIR are
 * never touched or reused (the approach of tests/bpf_test.c), and a struct
 * tcbpf filled from it so that the CLI library's helpers (cfg_*) work on it.
 */
#ifndef TCBPF_TESTS_PRIVATE_H
#define TCBPF_TESTS_PRIVATE_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "tcbpf.h"
#include "tcbpf.skel.h"
#include "kern/obj.h"

/* Returns the loaded skeleton (tcbpf_bpf__destroy() it), NULL on error. */
static inline struct tcbpf_bpf *private_load(struct tcbpf *t)
{
	struct tcbpf_bpf *skel = tcbpf_bpf__open();
	struct bpf_map *map;
	int err;

	if (!skel) {
		fprintf(stderr, "opening tcbpf.bpf.o: %s\n", strerror(errno));
		return NULL;
	}
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	err = tcbpf_bpf__load(skel);
	if (err) {
		fprintf(stderr, "loading tcbpf.bpf.o: %s\n", strerror(-err));
		tcbpf_bpf__destroy(skel);
		return NULL;
	}
	memset(t, 0, sizeof(*t));
	t->cfg_fd = bpf_map__fd(skel->maps.tcbpf_cfg);
	t->prof_fd = bpf_map__fd(skel->maps.tcbpf_prof);
	t->pcache_fd = bpf_map__fd(skel->maps.tcbpf_pcache);
	t->vni_fd = bpf_map__fd(skel->maps.tcbpf_vni);
	t->vni_stats_fd = bpf_map__fd(skel->maps.tcbpf_vni_stats);
	t->set_fd = bpf_program__fd(skel->progs.tcbpf_set);
	t->prog_fd[TCBPF_INGRESS] = bpf_program__fd(skel->progs.tcbpf_ingress);
	t->prog_fd[TCBPF_EGRESS] = bpf_program__fd(skel->progs.tcbpf_egress);
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus <= 0) {
		fprintf(stderr, "possible CPUs: %s\n", strerror(-t->ncpus));
		tcbpf_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

#endif
