/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * watch.h - `tcbpf watch`: clamp a monitored device the moment its offered
 * load crosses a threshold, and optionally release it after a quiet spell.
 */
#ifndef TCBPF_WATCH_H
#define TCBPF_WATCH_H

#include <stddef.h>
#include "lib/cmd.h"

int cmd_watch(const struct opts *o, int argc, char **argv);

#endif
