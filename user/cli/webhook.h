/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * webhook.h - the daemon's Alertmanager receiver: Prometheus Alertmanager
 * webhook notifications (format version 4) clamp the devices their alerts
 * name and release them, with the settings from before, once resolved.
 *
 * It is configured by "set webhook-*" lines of the policies (policy.h):
 *
 *   set webhook-listen 127.0.0.1:9762	(or [::1]:PORT, unix:/PATH)
 *   set webhook-token-file /etc/tcbpf/webhook.token	(root, 0600)
 *   set webhook-device-labels device,instance
 *   set webhook-netns-label netns
 *   set webhook-spec-annotation tcbpf_spec
 *   set webhook-default-spec "rate 10mbit allow 22"
 *   set webhook-release-after 300
 *
 * HTTP is served by libmicrohttpd's own thread; that thread only checks,
 * parses and queues. The limiter is called from the daemon's loop alone
 * (webhook_run()), so nothing here races the daemon's reconciliation.
 * Every decision is one JSON line on stdout (the daemon's event log).
 */
#ifndef TCBPF_WEBHOOK_H
#define TCBPF_WEBHOOK_H

#include "cli/cli.h"
#include "lib/policy.h"

struct webhook;

/*
 * Start the receiver the policies configure: *@wh NULL (and 0) when they
 * set no webhook-listen. -EINVAL with a message naming file:line for a bad
 * setting, another negative errno when it cannot listen.
 */
int webhook_start(struct webhook **wh, const struct policy_set *pol,
		  const struct opts *o);

/* The fd that becomes readable when requests wait (-1 for NULL @wh). */
int webhook_fd(const struct webhook *wh);

/* In the daemon's loop: act on the requests waiting, release what is due. */
void webhook_run(struct webhook *wh, struct lim *l);

/* Stop serving and free @wh (NULL: nothing). Clamps stay as they are. */
void webhook_stop(struct webhook *wh);

#endif
