/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * spec_words.h - a SPEC as words again, and SPECs merged: what the
 * recorded state keeps of a clamp is the keys the operator set, so that a
 * later change merges onto them and a restart parses them again.
 */
#ifndef TCBPF_SPEC_WORDS_H
#define TCBPF_SPEC_WORDS_H

#include "lib/spec.h"

/*
 * The keys @s sets, as words in tc's units (exact: spec_parse() of them
 * gives @s back): keys with one value for both directions first, then
 * "ingress ..." and "egress ..." for the rest. *@argv is one block, as
 * words.h's (free() releases it). -ENOMEM.
 */
int spec_words(const struct spec *s, int *argc, char ***argv);

/* The keys @src sets, applied onto @dst and marked set there. */
void spec_merge(struct spec *dst, const struct spec *src);

#endif
