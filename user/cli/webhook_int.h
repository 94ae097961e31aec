/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * webhook_int.h - what the two halves of the webhook share: webhook.c (the
 * settings, HTTP in libmicrohttpd's thread, start and stop) and
 * webhook_act.c (in the daemon's loop: the alerts' clamps and releases,
 * the audit log). Not for other modules.
 */
#ifndef TCBPF_WEBHOOK_INT_H
#define TCBPF_WEBHOOK_INT_H

#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include "cli/dl.h"
#include "cli/cli.h"
#include "lib/limiter.h"
#include "lib/state.h"

#define WH_MAX_LABELS	8
#define WH_MAX_BODY	(1 << 20)	/* Alertmanager batches are far smaller */
#define WH_MAX_FP	8		/* alerts holding one clamp */
#define WH_MAX_CLAMPS	1024
#define WH_WAIT_SECS	20		/* for the daemon's loop to answer */
#define WH_TOKEN_MAX	512

struct wh_cfg {
	char listen[PATH_MAX];
	char token_file[PATH_MAX];
	char labels[WH_MAX_LABELS][64];
	int nlabels;
	char netns_label[64];
	char spec_annotation[64];
	char default_spec[512];
	unsigned long release_after;	/* seconds */
};

/* One alert of a notification, as the HTTP thread read it. */
struct wh_alert {
	bool firing;
	char status[16];
	char fp[64];
	char name[128];			/* alertname */
	char dev[IF_NAMESIZE];		/* "" = no label names a device here */
	char label[64];			/* the label that named it */
	char why[256];			/* why none did */
	char netns[NAME_MAX + 1];	/* from the netns label, "" = none */
	char *spec;			/* the annotation, NULL = none */
};

struct wh_req {
	char remote[160];
	int refused;			/* HTTP status: only logged */
	char why[256];
	char receiver[128];
	struct wh_alert *a;
	int n;
	char *reply;			/* JSON, by the daemon's loop */
	size_t reply_len;
	bool done, abandoned;
	struct wh_req *next;
};

/* A clamp the alerts made. */
struct wh_clamp {
	char netns[NAME_MAX + 1];
	char dev[IF_NAMESIZE];
	char fps[WH_MAX_FP][64];	/* the alerts holding it */
	int nfp;
	char alert[128];		/* alertname of the first */
	char reason[80];		/* "alert:FINGERPRINT", as recorded */
	char last[64];			/* the alert whose resolved started
					 * the quiet period */
	int64_t at;			/* the record's time */
	struct lim_snap before, after;	/* after: what the alert set */
	char before_words[1024];	/* the settings before as SPEC words
					 * ("" = no limiter): what a release
					 * attaches; kept in the file */
	char after_words[1024];		/* what the alert set, as words: a
					 * restarted daemon compares */
	bool unchecked;			/* read from the file, not yet
					 * checked against the record */
	bool had_record;
	struct clamp old;		/* the record before (argv, reason owned) */
	__u64 release_at;		/* CLOCK_MONOTONIC ns, 0 = held */
};

struct webhook {
	struct wh_cfg cfg;
	const struct opts *o;
	char token[WH_TOKEN_MAX];
	char host[HOST_NAME_MAX + 1], host_short[HOST_NAME_MAX + 1];
	struct MHD_Daemon *mhd;
	int listen_fd;
	char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int efd;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct wh_req *head, **tail;
	bool stopping;
	struct wh_clamp *c;
	int nc;
	bool dirty;			/* c[] changed: save it */
	bool unchecked;			/* some c[] are unchecked */
};

#define WH_FILE		"webhook-clamps"	/* in the state directory */

/* Act on request @r (its answer into r->reply); log a refused one. */
void wh_answer(struct webhook *wh, struct lim *l, struct wh_req *r);

/* Release the clamps whose quiet period is over. */
void wh_releases_due(struct webhook *wh, struct lim *l);

/* Forget clamp @c (moves the last one into its place). */
void wh_clamp_drop(struct webhook *wh, struct wh_clamp *c);

/* After a restart: keep the clamps read from the file whose records are
 * still the alerts', forget (and log) the others. */
void wh_adopt(struct webhook *wh, struct lim *l);

/* The settings of @s as SPEC words in tc's units, as lim_restore() would
 * attach them ("" = no limiter). -ENOMEM, -ENOSPC (longer than @len). */
int wh_snap_words(const struct lim_snap *s, char *out, size_t len);

/* webhook_save.c: the alerts' clamps in STATE_DIR/webhook-clamps, so that
 * a restarted daemon still releases them. */
int wh_load(struct webhook *wh);
void wh_save(struct webhook *wh);

#endif
