/* SPDX-License-Identifier: GPL-2.0-only */
/* cfg.h - settings as the maps hold them, from a SPEC and back to one. */
#ifndef TCBPF_CFG_H
#define TCBPF_CFG_H

#include <stdbool.h>
#include <linux/types.h>
#include "tcbpf.h"
#include "lib/spec.h"

/* Settings of one direction as the maps hold them (derived fields filled). */
void cfg_from_spec(struct tcbpf_cfg *cfg, const struct spec_dir *d);
void cfg_to_spec(struct spec_dir *d, const struct tcbpf_cfg *cfg);

/* A SPEC that, given to attach, reproduces @cfg (every key set). */
void spec_from_cfg(struct spec *s, const struct tcbpf_cfg cfg[TCBPF_NDIR]);

/* The settings attach would write for @s (before pacing's fallbacks). */
void cfg_wanted(const struct spec *s, struct tcbpf_cfg cfg[TCBPF_NDIR]);

/* @cur holds what @want asks (a fallback to policing for want of fq
 * counts as what pacing asked). */
bool cfg_same(const struct tcbpf_cfg *cur, const struct tcbpf_cfg *want);

/* Policing class @cls with less burst than TCP needs (SPEC_TCP_BURST_MS). */
bool cfg_tcp_burst_short(const struct tcbpf_cfg *cfg, int cls);

#endif
