/* SPDX-License-Identifier: GPL-2.0-only */
/* cmd.h - the commands; each returns 0, or a negative errno once it has
 * said what went wrong. */
#ifndef TCBPF_CMD_H
#define TCBPF_CMD_H

#include <stdbool.h>
#include "lib/spec.h"

/* A usage error (exit 2), as opposed to a run-time failure (exit 1). */
#define EUSAGE		4095

struct opts {
	bool json;
	const char *netns;
};

int cmd_attach(const struct opts *o, const char *dev, const struct spec *s);
int cmd_change(const struct opts *o, const char *dev, const struct spec *s);
int cmd_detach(const struct opts *o, const char *dev);
int cmd_show(const struct opts *o, const char *dev);
int cmd_list(const struct opts *o);

#endif
