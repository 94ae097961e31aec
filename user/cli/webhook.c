// SPDX-License-Identifier: GPL-2.0-only
/*
 * webhook.c - see webhook.h.
 *
 * Which alerts clamp what:
 * - the device: the first of the configured labels (default "device",
 *   then "instance") whose value names one: "vm-3-00c9" (any host that
 *   receives the alert) or "HOST:vm-3-00c9" (only the host whose name,
 *   full or up to the first dot, is HOST). A value whose host part is
 *   another host, such as Prometheus' own instance="10.1.2.3:9761", names
 *   nothing here and the next label is looked at. The device must exist
 *   here, in the namespace of the "netns" label (default: the daemon's).
 * - the SPEC: the annotation "tcbpf_spec", else webhook-default-spec.
 * A device that already has an enforcing clamp not made by an alert is
 * left alone: an operator's clamp is never loosened, replaced or released
 * by an alert. Alerts clamp a device only when it has no limiter or a
 * monitoring one.
 *
 * A clamp is the alerts' while its record (state.h) still carries the
 * reason "alert:FINGERPRINT" and time it was given and the kernel still has
 * the settings the alert put there; anything an operator did since (a
 * change, an attach, a detach) makes it theirs, and no alert releases it.
 * Several alerts may hold one clamp; the quiet period (webhook-release-
 * after) starts when the last of them resolved, and a new firing cancels
 * it. Release puts back the settings from before (lim_restore) and the
 * record from before, byte for byte (or none).
 *
 * What is remembered to release lives in this process: after a restart of
 * the daemon, alert clamps stay until an operator lifts them (the log says
 * so when their alerts resolve).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <json.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/dl.h"
#include "cli/export.h"
#include "cli/webhook.h"
#include "kern/netns.h"
#include "lib/cfg.h"
#include "lib/spec_words.h"
#include "lib/state.h"
#include "lib/words.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"

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
	struct lim_snap before, after;
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
};

/* ---------------------------------------------------------- configuration */

static int set_err(const struct policy_setting *s, const char *fmt, const char *v)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, v);
	pr_warn("%s:%d: %s %s\n", s->file, s->line, s->key, msg);
	return -EINVAL;
}

static int cfg_labels(struct wh_cfg *c, const struct policy_setting *s)
{
	char buf[512], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", s->value);
	c->nlabels = 0;
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (c->nlabels == WH_MAX_LABELS || strlen(tok) >= sizeof(c->labels[0]))
			return set_err(s, "\"%s\": at most 8 label names of up to 63 bytes",
				       s->value);
		snprintf(c->labels[c->nlabels++], sizeof(c->labels[0]), "%s", tok);
	}
	if (!c->nlabels)
		return set_err(s, "\"%s\": want label names, e.g. device,instance",
			       s->value);
	return 0;
}

static int cfg_spec(struct wh_cfg *c, const struct policy_setting *s)
{
	char err[256], **argv;
	struct spec sp;
	int argc, rc;

	if (strlen(s->value) >= sizeof(c->default_spec))
		return set_err(s, "\"%.40s...\": too long", s->value);
	rc = words_split(s->value, &argc, &argv, err, sizeof(err));
	if (!rc) {
		rc = spec_parse(&sp, argc, argv, err, sizeof(err));
		free(argv);
	}
	if (rc) {
		pr_warn("%s:%d: %s \"%s\": %s\n", s->file, s->line, s->key,
			s->value, err);
		return -EINVAL;
	}
	snprintf(c->default_spec, sizeof(c->default_spec), "%s", s->value);
	return 0;
}

static int cfg_one(struct wh_cfg *c, const struct policy_setting *s)
{
	const char *k = s->key + strlen("webhook-"), *v = s->value;
	char *end;

#define STR(field)							\
	do {								\
		if (strlen(v) >= sizeof(c->field) || !*v)		\
			return set_err(s, "\"%s\": empty or too long", v); \
		snprintf(c->field, sizeof(c->field), "%s", v);		\
	} while (0)

	if (!strcmp(k, "listen")) {
		STR(listen);
	} else if (!strcmp(k, "token-file")) {
		if (v[0] != '/')
			return set_err(s, "\"%s\": want an absolute path", v);
		STR(token_file);
	} else if (!strcmp(k, "device-labels")) {
		return cfg_labels(c, s);
	} else if (!strcmp(k, "netns-label")) {
		STR(netns_label);
	} else if (!strcmp(k, "spec-annotation")) {
		STR(spec_annotation);
	} else if (!strcmp(k, "default-spec")) {
		return cfg_spec(c, s);
	} else if (!strcmp(k, "release-after")) {
		errno = 0;
		c->release_after = strtoul(v, &end, 10);
		if (!*v || *end || *v == '-' || errno || c->release_after > 86400 * 7)
			return set_err(s, "\"%s\": want seconds, 0 to 604800", v);
	} else {
		pr_warn("%s:%d: unknown key \"%s\" (webhook-listen, -token-file, "
			"-device-labels, -netns-label, -spec-annotation, "
			"-default-spec, -release-after)\n", s->file, s->line, s->key);
		return -EINVAL;
	}
#undef STR
	return 0;
}

/* The webhook-* settings of @pol into @c; each key at most once. */
static int cfg_load(struct wh_cfg *c, const struct policy_set *pol)
{
	int i, j, err;

	memset(c, 0, sizeof(*c));
	snprintf(c->labels[0], sizeof(c->labels[0]), "device");
	snprintf(c->labels[1], sizeof(c->labels[1]), "instance");
	c->nlabels = 2;
	snprintf(c->netns_label, sizeof(c->netns_label), "netns");
	snprintf(c->spec_annotation, sizeof(c->spec_annotation), "tcbpf_spec");
	c->release_after = 300;
	for (i = 0; i < pol->nset; i++) {
		const struct policy_setting *s = &pol->set[i];

		if (strncmp(s->key, "webhook-", 8))
			continue;	/* another module's */
		for (j = 0; j < i; j++)
			if (!strcmp(pol->set[j].key, s->key)) {
				pr_warn("%s:%d: %s given again (first at %s:%d)\n",
					s->file, s->line, s->key,
					pol->set[j].file, pol->set[j].line);
				return -EINVAL;
			}
		err = cfg_one(c, s);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The bearer token: the file must be a regular file of root's, mode 0600
 * (a token others can read is no secret), holding one printable word.
 */
static int read_token(const char *path, char *tok, size_t len)
{
	struct stat st;
	ssize_t n;
	int fd, i;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		pr_warn("webhook: cannot read the token file %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 07777) != 0600) {
		pr_warn("webhook: token file %s must be a regular file owned by "
			"root with mode 0600 (it has uid %u, mode %04o)\n", path,
			(unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	n = read(fd, tok, len - 1);
	close(fd);
	if (n < 0)
		n = 0;
	tok[n] = '\0';
	while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r' ||
			 tok[n - 1] == ' ' || tok[n - 1] == '\t'))
		tok[--n] = '\0';
	for (i = 0; i < n; i++)
		if (tok[i] <= ' ' || tok[i] > '~')
			break;
	if (!n || i < n || (size_t)n >= len - 1) {
		pr_warn("webhook: token file %s must hold one word of printable "
			"characters, 1 to %zu bytes\n", path, len - 2);
		return -EINVAL;
	}
	return 0;
}

/* --------------------------------------------------------------- listen */

static bool is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *in = (const void *)ss;
	const struct sockaddr_in6 *in6 = (const void *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	return ss->ss_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
}

/* "unix:/run/tcbpf/webhook.sock": mode 0660, a stale socket replaced. */
static int listen_unix(struct webhook *wh, const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	char dir[sizeof(un.sun_path)], *slash;
	struct stat st;
	int fd;

	if (path[0] != '/' || strlen(path) >= sizeof(un.sun_path)) {
		pr_warn("webhook-listen unix:%s: want an absolute path of up to "
			"%zu bytes\n", path, sizeof(un.sun_path) - 1);
		return -EINVAL;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);	/* /run/tcbpf after a boot */
	}
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			pr_warn("webhook-listen unix:%s: exists and is no socket\n", path);
			return -EEXIST;
		}
		unlink(path);		/* a daemon before us */
	}
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&un, sizeof(un)) ||
	    chmod(path, 0660) || listen(fd, 16)) {
		pr_warn("webhook: cannot listen on unix:%s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	snprintf(wh->unix_path, sizeof(wh->unix_path), "%s", path);
	wh->listen_fd = fd;
	return 0;
}

static int listen_tcp(struct webhook *wh, const char *addr)
{
	struct sockaddr_storage ss;
	int fd, one = 1;
	bool v6;

	if (parse_listen(addr, &ss, &v6)) {
		pr_warn("webhook-listen \"%s\": want ADDR:PORT ([::1]:PORT for IPv6) "
			"or unix:/PATH\n", addr);
		return -EINVAL;
	}
	if (!wh->token[0] && !is_loopback(&ss)) {
		pr_warn("webhook-listen %s is not a loopback address: set "
			"webhook-token-file too, or listen on 127.0.0.1 or a unix "
			"socket behind a proxy\n", addr);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, v6 ?
			   sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) ||
	    listen(fd, 16)) {
		pr_warn("webhook: cannot listen on %s: %s\n", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	wh->listen_fd = fd;
	return 0;
}

/* ----------------------------------------------------------- HTTP thread */

struct wh_conn {
	char *buf;
	size_t len;
	bool too_big;
};

/* "127.0.0.1:41234", "[::1]:41234", "unix:pid=12,uid=0" */
static void remote_of(struct MHD_Connection *conn, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;
	char a[INET6_ADDRSTRLEN];

	snprintf(out, len, "unknown");
	ci = lmhd.MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	sa = ci ? ci->client_addr : NULL;
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(out, len, "%s:%u", a, ntohs(in->sin_port));
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(out, len, "[%s]:%u", a, ntohs(in6->sin6_port));
	} else {
		struct ucred cr;
		socklen_t cl = sizeof(cr);

		ci = lmhd.MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci && !getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl))
			snprintf(out, len, "unix:pid=%d,uid=%u", (int)cr.pid,
				 (unsigned int)cr.uid);
		else
			snprintf(out, len, "unix");
	}
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int code,
			     const char *body, size_t len, bool bearer)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = lmhd.MHD_create_response_from_buffer(len, (void *)body,
						 MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	lmhd.MHD_add_response_header(r, "Content-Type", "application/json");
	if (bearer)
		lmhd.MHD_add_response_header(r, "WWW-Authenticate",
					     "Bearer realm=\"tcbpf\"");
	ret = lmhd.MHD_queue_response(conn, code, r);
	lmhd.MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_error(struct MHD_Connection *conn,
				   unsigned int code, const char *why)
{
	char body[400];
	int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", why);

	return reply(conn, code, body, n, code == MHD_HTTP_UNAUTHORIZED);
}

static void queue_push(struct webhook *wh, struct wh_req *r)
{
	uint64_t one = 1;

	pthread_mutex_lock(&wh->mu);
	*wh->tail = r;
	wh->tail = &r->next;
	pthread_mutex_unlock(&wh->mu);
	if (write(wh->efd, &one, sizeof(one)) < 0) {
		/* the counter is full: it is readable anyway */
	}
}

static void req_free(struct wh_req *r)
{
	int i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		free(r->a[i].spec);
	free(r->a);
	free(r->reply);
	free(r);
}

/* A refused request: logged by the daemon's loop, answered here. */
static enum MHD_Result refuse(struct webhook *wh, struct MHD_Connection *conn,
			      unsigned int code, const char *remote, const char *why)
{
	struct wh_req *r = calloc(1, sizeof(*r));

	if (r) {
		snprintf(r->remote, sizeof(r->remote), "%s", remote);
		snprintf(r->why, sizeof(r->why), "%s", why);
		r->refused = code;
		r->abandoned = true;	/* nobody waits for it */
		queue_push(wh, r);
	}
	return reply_error(conn, code, why);
}

/* Compare without a timing that tells how much of a guess was right. */
static bool token_ok(const struct webhook *wh, const char *auth)
{
	size_t n = strlen(wh->token), m, i;
	unsigned char d = 0;

	if (!wh->token[0])
		return true;
	if (!auth || strncasecmp(auth, "Bearer ", 7))
		return false;
	auth += 7;
	m = strlen(auth);
	for (i = 0; i < n; i++)
		d |= (unsigned char)wh->token[i] ^ (unsigned char)(i < m ? auth[i] : 0);
	return !d && m == n;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Alertmanager's fingerprint is in every v4 alert; if a script leaves it
 * out, one from the labels (FNV-1a of the sorted pairs) stands in. */
static void fingerprint_of(struct json_object *labels, char *out, size_t len)
{
	const char *keys[64];
	uint64_t h = 0xcbf29ce484222325ULL;
	int n = 0, i;

	if (labels) {
		json_object_object_foreach(labels, k, v) {
			(void)v;
			if (n < 64)
				keys[n++] = k;
		}
	}
	qsort(keys, n, sizeof(keys[0]), cmp_str);
	for (i = 0; i < n; i++) {
		const char *v = jstr(labels, keys[i]), *p;

		for (p = keys[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
		h = (h ^ 0xff) * 0x100000001b3ULL;
		for (p = v ? v : ""; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
		h = (h ^ 0xfe) * 0x100000001b3ULL;
	}
	snprintf(out, len, "%016llx", (unsigned long long)h);
}

/*
 * The device the labels name here: the first configured label whose value
 * is "DEV" or "HOST:DEV" with HOST this host (device names have no ':').
 */
static void device_of(const struct webhook *wh, struct json_object *labels,
		      struct wh_alert *a)
{
	char err[160];
	int i;

	snprintf(a->why, sizeof(a->why), "no label %s%s%s names a device",
		 wh->cfg.labels[0], wh->cfg.nlabels > 1 ? ", " : "",
		 wh->cfg.nlabels > 1 ? wh->cfg.labels[1] : "");
	for (i = 0; i < wh->cfg.nlabels; i++) {
		const char *v = jstr(labels, wh->cfg.labels[i]), *colon;

		if (!v || !*v)
			continue;
		colon = strrchr(v, ':');
		if (colon) {
			size_t hl = colon - v;

			if (!((strlen(wh->host) == hl && !strncmp(v, wh->host, hl)) ||
			      (strlen(wh->host_short) == hl &&
			       !strncmp(v, wh->host_short, hl)))) {
				snprintf(a->why, sizeof(a->why), "%s=\"%.100s\" names "
					 "another host", wh->cfg.labels[i], v);
				continue;
			}
			v = colon + 1;
		}
		if (dev_name_check(v, err, sizeof(err))) {
			snprintf(a->why, sizeof(a->why), "%s: %s", wh->cfg.labels[i], err);
			continue;
		}
		snprintf(a->dev, sizeof(a->dev), "%s", v);
		snprintf(a->label, sizeof(a->label), "%s", wh->cfg.labels[i]);
		return;
	}
}

static int alert_read(const struct webhook *wh, struct json_object *o,
		      struct wh_alert *a)
{
	struct json_object *labels = NULL, *ann = NULL;
	const char *s;

	json_object_object_get_ex(o, "labels", &labels);
	json_object_object_get_ex(o, "annotations", &ann);
	s = jstr(o, "status");
	if (!s || (strcmp(s, "firing") && strcmp(s, "resolved")))
		return -EINVAL;
	snprintf(a->status, sizeof(a->status), "%s", s);
	a->firing = !strcmp(s, "firing");
	s = jstr(o, "fingerprint");
	if (s && *s)
		snprintf(a->fp, sizeof(a->fp), "%s", s);
	else
		fingerprint_of(labels, a->fp, sizeof(a->fp));
	snprintf(a->name, sizeof(a->name), "%s", jstr(labels, "alertname") ?: "");
	device_of(wh, labels, a);
	s = jstr(labels, wh->cfg.netns_label);
	if (s)
		snprintf(a->netns, sizeof(a->netns), "%s", s);
	s = jstr(ann, wh->cfg.spec_annotation);
	if (s && *s) {
		a->spec = strdup(s);
		if (!a->spec)
			return -ENOMEM;
	}
	return 0;
}

/* A notification (format 4) into a request; NULL with @why set if not. */
static struct wh_req *notification_read(const struct webhook *wh, const char *body,
					char *why, size_t len)
{
	struct json_object *root = json_tokener_parse(body), *alerts;
	struct wh_req *r = NULL;
	const char *v;
	int i, n;

	if (!root || !json_object_is_type(root, json_type_object)) {
		snprintf(why, len, "the body is no JSON object");
		goto out;
	}
	v = jstr(root, "version");
	if (v && strcmp(v, "4")) {
		snprintf(why, len, "notification version %.20s: only 4 is known", v);
		goto out;
	}
	if (!json_object_object_get_ex(root, "alerts", &alerts) ||
	    !json_object_is_type(alerts, json_type_array)) {
		snprintf(why, len, "no \"alerts\" array");
		goto out;
	}
	n = json_object_array_length(alerts);
	r = calloc(1, sizeof(*r));
	if (r && n)
		r->a = calloc(n, sizeof(*r->a));
	if (!r || (n && !r->a)) {
		snprintf(why, len, "out of memory");
		goto fail;
	}
	snprintf(r->receiver, sizeof(r->receiver), "%s", jstr(root, "receiver") ?: "");
	for (i = 0; i < n; i++, r->n++) {
		struct json_object *o = json_object_array_get_idx(alerts, i);

		if (!o || alert_read(wh, o, &r->a[i])) {
			snprintf(why, len, "alert %d: no status \"firing\" or \"resolved\"", i);
			r->n++;
			goto fail;
		}
	}
	goto out;
fail:
	req_free(r);
	r = NULL;
out:
	json_object_put(root);
	return r;
}

/* Queue @r for the daemon's loop and wait for its answer. */
static enum MHD_Result hand_over(struct webhook *wh, struct MHD_Connection *conn,
				 struct wh_req *r)
{
	struct timespec until;
	enum MHD_Result ret;
	bool done;

	queue_push(wh, r);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += WH_WAIT_SECS;
	pthread_mutex_lock(&wh->mu);
	while (!r->done && !wh->stopping &&
	       pthread_cond_timedwait(&wh->cv, &wh->mu, &until) != ETIMEDOUT)
		;
	done = r->done;
	if (!done)
		r->abandoned = true;	/* the loop frees it */
	pthread_mutex_unlock(&wh->mu);
	if (!done)
		return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				   "the daemon did not get to it in time");
	ret = reply(conn, MHD_HTTP_OK, r->reply ?: "{}\n",
		    r->reply ? r->reply_len : 3, false);
	req_free(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_len, void **state)
{
	struct webhook *wh = cls;
	struct wh_conn *c = *state;
	char remote[160], why[256];
	struct wh_req *r;

	if (!c) {
		c = calloc(1, sizeof(*c));
		*state = c;
		return c ? MHD_YES : MHD_NO;
	}
	if (*upload_len) {
		if (c->len + *upload_len > WH_MAX_BODY) {
			c->too_big = true;
		} else if (!c->too_big) {
			char *b = realloc(c->buf, c->len + *upload_len + 1);

			if (!b)
				return MHD_NO;
			memcpy(b + c->len, upload, *upload_len);
			c->buf = b;
			c->len += *upload_len;
			c->buf[c->len] = '\0';
		}
		*upload_len = 0;
		return MHD_YES;
	}
	remote_of(conn, remote, sizeof(remote));
	if (!token_ok(wh, lmhd.MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							   "Authorization")))
		return refuse(wh, conn, MHD_HTTP_UNAUTHORIZED, remote,
			      "no or a wrong bearer token");
	if (strcmp(method, "POST"))
		return reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				   "POST Alertmanager notifications here");
	if (c->too_big)
		return refuse(wh, conn, MHD_HTTP_CONTENT_TOO_LARGE, remote,
			      "body larger than 1 MiB");
	r = notification_read(wh, c->buf ?: "", why, sizeof(why));
	if (!r)
		return refuse(wh, conn, MHD_HTTP_BAD_REQUEST, remote, why);
	snprintf(r->remote, sizeof(r->remote), "%s", remote);
	return hand_over(wh, conn, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
			 enum MHD_RequestTerminationCode toe)
{
	struct wh_conn *c = *state;

	if (c) {
		free(c->buf);
		free(c);
		*state = NULL;
	}
}

/* ------------------------------------------------------------ the audit */

/* What one alert led to, for the log line and the answer. */
struct wh_act {
	const char *action;		/* clamp, release, ... */
	const char *result;		/* done, failed, ignored, ... */
	const struct wh_req *r;		/* NULL: a release on the timer */
	const struct wh_alert *a;
	const struct wh_clamp *c;
	const char *dev, *netns, *spec;
	const struct lim_snap *before, *after;
	char why[512];
	unsigned long release_in;	/* release-scheduled: seconds */
	struct lim_snap now;		/* for before/after of a dropped clamp */
};

/* Settings as SPEC words in tc's units ("" = no limiter). */
static void settings_text(const struct lim_snap *s, char *out, size_t len)
{
	struct tcbpf_cfg cfg[TCBPF_NDIR];
	char **argv = NULL, *buf = NULL;
	size_t blen = 0;
	struct spec sp;
	int argc = 0, i, dir;
	FILE *f;

	out[0] = '\0';
	if (!lim_snap_has(s))
		return;
	for (dir = 0; dir < TCBPF_NDIR; dir++)
		cfg[dir] = s->cfg[s->have[dir] ? dir : !dir];
	spec_from_cfg(&sp, cfg);
	f = open_memstream(&buf, &blen);
	if (!f || spec_words(&sp, &argc, &argv)) {
		if (f)
			fclose(f);
		free(buf);
		return;
	}
	for (i = 0; i < argc; i++) {
		if (i)
			fputc(' ', f);
		words_write(f, argv[i]);
	}
	fclose(f);
	snprintf(out, len, "%s", buf ?: "");
	free(buf);
	free(argv);
}

static void jw_settings(json_writer_t *jw, const char *key, const struct lim_snap *s)
{
	char text[1024];

	if (!s)
		return;
	settings_text(s, text, sizeof(text));
	if (text[0])
		jw_str(jw, key, text);
	else
		jw_null(jw, key);
}

static void act_write(json_writer_t *jw, const struct wh_act *x)
{
	const struct wh_alert *a = x->a;

	jw_obj_open(jw, NULL);
	jw_u64(jw, "time_ns", real_ns());
	jw_str(jw, "event", "webhook");
	jw_str(jw, "action", x->action);
	jw_str(jw, "result", x->result);
	if (x->r) {
		jw_str(jw, "remote", x->r->remote);
		if (x->r->receiver[0])
			jw_str(jw, "receiver", x->r->receiver);
	}
	if (a) {
		jw_str(jw, "alertname", a->name);
		jw_str(jw, "fingerprint", a->fp);
		jw_str(jw, "status", a->status);
	} else if (x->c) {
		jw_str(jw, "alertname", x->c->alert);
		jw_str(jw, "fingerprint", x->c->last);
	}
	if (x->c)
		jw_str(jw, "clamped_by", x->c->reason);
	if (x->dev)
		jw_str(jw, "ifname", x->dev);
	if (x->dev && x->netns && x->netns[0])
		jw_str(jw, "netns", x->netns);
	else if (x->dev)
		jw_null(jw, "netns");
	if (a && a->label[0])
		jw_str(jw, "label", a->label);
	if (x->spec)
		jw_str(jw, "spec", x->spec);
	jw_settings(jw, "before", x->before);
	jw_settings(jw, "after", x->after);
	if (x->release_in)
		jw_u64(jw, "release_in_secs", x->release_in);
	if (x->why[0])
		jw_str(jw, "why", x->why);
	jw_obj_close(jw);
}

/* One line on the event log, and the same object into the answer. */
static void audit(json_writer_t *answer, const struct wh_act *x)
{
	json_writer_t *jw = jw_new(stdout);

	if (jw) {
		act_write(jw, x);
		jw_destroy(&jw);
		fflush(stdout);
	}
	if (answer)
		act_write(answer, x);
}

/* ------------------------------------------------------ the daemon's side */

static const char *own_ns(const struct webhook *wh)
{
	return wh->o->netns ? wh->o->netns : "";
}

/*
 * Enter namespace @ns for the limiter and its records; *@self is what
 * leave() needs (-1: @ns is the daemon's own, nothing entered). 0 or the
 * negative errno of netns_push().
 */
static int enter(struct webhook *wh, struct lim *l, const char *ns, int *self)
{
	*self = -1;
	if (strcmp(ns, own_ns(wh))) {
		*self = netns_push(ns);
		if (*self < 0)
			return *self;
	}
	lim_set_netns_name(l, ns);
	return 0;
}

static void leave(struct webhook *wh, struct lim *l, int self)
{
	lim_set_netns_name(l, own_ns(wh));
	netns_pop(self);
}

static struct wh_clamp *clamp_find(struct webhook *wh, const char *ns, const char *dev)
{
	int i;

	for (i = 0; i < wh->nc; i++)
		if (!strcmp(wh->c[i].netns, ns) && !strcmp(wh->c[i].dev, dev))
			return &wh->c[i];
	return NULL;
}

static void clamp_drop(struct webhook *wh, struct wh_clamp *c)
{
	free(c->old.argv);
	free(c->old.reason);
	*c = wh->c[--wh->nc];
}

static bool same_cfg(const struct tcbpf_cfg *a, const struct tcbpf_cfg *b)
{
	return a->mode == b->mode && a->delay_ns == b->delay_ns &&
	       a->horizon_ns == b->horizon_ns && a->ecn_ns == b->ecn_ns &&
	       a->nports == b->nports &&
	       !memcmp(a->ports, b->ports, sizeof(a->ports)) &&
	       !memcmp(a->cls, b->cls, sizeof(a->cls));
}

static bool same_snap(const struct lim_snap *a, const struct lim_snap *b)
{
	int dir;

	if (a->ifindex != b->ifindex)
		return false;
	for (dir = 0; dir < TCBPF_NDIR; dir++)
		if (a->have[dir] != b->have[dir] ||
		    (a->have[dir] && !same_cfg(&a->cfg[dir], &b->cfg[dir])))
			return false;
	return true;
}

static int record_load(struct webhook *wh, struct clamp_set *set)
{
	char err[256];

	memset(set, 0, sizeof(*set));
	if (state_load(wh->o->state_dir, set, err, sizeof(err))) {
		pr_warn("webhook: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

/*
 * Still the alerts' clamp (in its namespace): the record is the one the
 * alert wrote and the kernel has what it put there. @now: the settings.
 */
static bool still_ours(struct webhook *wh, struct lim *l, const struct wh_clamp *c,
		       struct lim_snap *now, char *why, size_t len)
{
	struct clamp_set set;
	const struct clamp *rec;
	bool ok;

	if (lim_snapshot(l, c->dev, now)) {
		snprintf(why, len, "the device is gone");
		return false;
	}
	if (!same_snap(now, &c->after)) {
		snprintf(why, len, "its settings were changed since the alert "
			 "clamped it: not the alerts' clamp any more");
		return false;
	}
	if (record_load(wh, &set)) {
		snprintf(why, len, "the recorded state cannot be read");
		return false;
	}
	rec = state_find(&set, c->netns, c->dev);
	ok = rec && rec->at == c->at && rec->reason && !strcmp(rec->reason, c->reason);
	if (!ok)
		snprintf(why, len, "its record was replaced since the alert "
			 "clamped it: not the alerts' clamp any more");
	state_free(&set);
	return ok;
}

static bool enforcing(const struct lim_snap *s)
{
	int dir;

	for (dir = 0; dir < TCBPF_NDIR; dir++)
		if (s->have[dir] && s->cfg[dir].mode != TCBPF_MODE_MONITOR)
			return true;
	return false;
}

static int spec_of(const struct webhook *wh, const struct wh_alert *a,
		   const char **text, struct spec *sp, char *why, size_t len)
{
	char err[256], **argv;
	int argc, rc;

	*text = a->spec ? a->spec : wh->cfg.default_spec;
	if (!**text) {
		snprintf(why, len, "no %s annotation and no webhook-default-spec",
			 wh->cfg.spec_annotation);
		return -EINVAL;
	}
	rc = words_split(*text, &argc, &argv, err, sizeof(err));
	if (!rc) {
		rc = spec_parse(sp, argc, argv, err, sizeof(err));
		free(argv);
	}
	if (rc)
		snprintf(why, len, "bad SPEC \"%s\": %s", *text, err);
	return rc;
}

/* The record of the device before the alert, kept to be put back. */
static int remember_record(struct webhook *wh, struct wh_clamp *c)
{
	struct clamp_set set;
	const struct clamp *rec;
	int err = record_load(wh, &set);

	if (err)
		return err;
	rec = state_find(&set, c->netns, c->dev);
	if (rec) {
		c->had_record = true;
		c->old = *rec;
		c->old.argv = words_dup(rec->argc, rec->argv);
		c->old.reason = rec->reason ? strdup(rec->reason) : NULL;
		if (!c->old.argv || (rec->reason && !c->old.reason))
			err = -ENOMEM;
	}
	state_free(&set);
	return err;
}

/* The record's time after the alert's attach: what identifies it later. */
static void record_time(struct webhook *wh, struct wh_clamp *c)
{
	struct clamp_set set;
	const struct clamp *rec;

	if (record_load(wh, &set))
		return;
	rec = state_find(&set, c->netns, c->dev);
	c->at = rec ? rec->at : -1;
	state_free(&set);
}

/* In the namespace already: clamp @x->dev for alert @a. */
static void clamp_new(struct webhook *wh, struct lim *l, struct wh_act *x)
{
	const struct wh_alert *a = x->a;
	struct wh_clamp *c;
	struct spec sp;
	int err;

	x->action = "clamp";
	x->result = "ignored";
	if (spec_of(wh, a, &x->spec, &sp, x->why, sizeof(x->why)))
		return;
	if (wh->nc == WH_MAX_CLAMPS) {
		snprintf(x->why, sizeof(x->why), "%d alert clamps already", wh->nc);
		return;
	}
	c = &wh->c[wh->nc];
	memset(c, 0, sizeof(*c));
	if (lim_snapshot(l, x->dev, &c->before)) {
		snprintf(x->why, sizeof(x->why), "%s", lim_msg(l));
		return;
	}
	x->before = &c->before;
	if (enforcing(&c->before)) {
		snprintf(x->why, sizeof(x->why), "clamped already, not by an alert: "
			 "an operator's clamp is left alone");
		return;
	}
	snprintf(c->netns, sizeof(c->netns), "%s", x->netns);
	snprintf(c->dev, sizeof(c->dev), "%s", x->dev);
	snprintf(c->fps[0], sizeof(c->fps[0]), "%s", a->fp);
	snprintf(c->alert, sizeof(c->alert), "%s", a->name);
	snprintf(c->reason, sizeof(c->reason), "alert:%s", a->fp);
	c->nfp = 1;
	x->result = "failed";
	err = remember_record(wh, c);
	if (err) {
		snprintf(x->why, sizeof(x->why), "cannot read the record: %s",
			 strerror(-err));
		goto fail;
	}
	lim_set_reason(l, c->reason);
	err = lim_attach(l, x->dev, &sp);
	lim_set_reason(l, NULL);
	if (err) {
		snprintf(x->why, sizeof(x->why), "%s", lim_msg(l));
		goto fail;
	}
	lim_snapshot(l, x->dev, &c->after);
	record_time(wh, c);
	x->after = &c->after;
	x->c = c;
	x->result = "done";
	wh->nc++;
	return;
fail:
	free(c->old.argv);
	free(c->old.reason);
}

static void on_firing(struct webhook *wh, struct lim *l, struct wh_act *x)
{
	struct wh_clamp *c = clamp_find(wh, x->netns, x->dev);
	const struct wh_alert *a = x->a;
	int i;

	if (!c) {
		clamp_new(wh, l, x);
		return;
	}
	x->action = "clamp";
	x->c = c;
	if (!still_ours(wh, l, c, &x->now, x->why, sizeof(x->why))) {
		x->result = "ignored";
		x->before = &x->now;
		clamp_drop(wh, c);
		x->c = NULL;
		return;
	}
	x->before = x->after = &c->after;
	x->result = "unchanged";
	for (i = 0; i < c->nfp && strcmp(c->fps[i], a->fp); i++)
		;
	if (i == c->nfp && c->nfp < WH_MAX_FP) {
		snprintf(c->fps[c->nfp++], sizeof(c->fps[0]), "%s", a->fp);
		snprintf(x->why, sizeof(x->why), "clamped by alert %s already; "
			 "held by %d alerts now", c->fps[0], c->nfp);
	}
	if (c->release_at) {
		c->release_at = 0;
		x->result = "release-cancelled";
		snprintf(x->why, sizeof(x->why), "firing again in the quiet period");
	}
}

static void on_resolved(struct webhook *wh, struct lim *l, struct wh_act *x)
{
	struct wh_clamp *c = clamp_find(wh, x->netns, x->dev);
	int i;

	x->action = "release-scheduled";
	x->result = "ignored";
	for (i = 0; c && i < c->nfp && strcmp(c->fps[i], x->a->fp); i++)
		;
	if (!c || i == c->nfp) {
		snprintf(x->why, sizeof(x->why), "%s", c ?
			 "the device's clamp is held by other alerts" :
			 "no clamp of this alert on the device (none made, released, "
			 "taken over by an operator, or the daemon restarted since)");
		return;
	}
	x->c = c;
	memmove(&c->fps[i], &c->fps[i + 1], (c->nfp - i - 1) * sizeof(c->fps[0]));
	c->nfp--;
	if (c->nfp) {
		x->result = "unchanged";
		snprintf(x->why, sizeof(x->why), "still held by %d alert%s", c->nfp,
			 c->nfp > 1 ? "s" : "");
		return;
	}
	if (!c->release_at)
		c->release_at = mono_ns() + wh->cfg.release_after * NSEC_PER_SEC;
	snprintf(c->last, sizeof(c->last), "%s", x->a->fp);
	x->result = "done";
	x->release_in = (c->release_at - mono_ns() + NSEC_PER_SEC - 1) / NSEC_PER_SEC;
	if (!x->release_in)
		x->release_in = 1;	/* 0 reads as "not scheduled" */
}

/* One alert of a notification. */
static void on_alert(struct webhook *wh, struct lim *l, const struct wh_req *r,
		     const struct wh_alert *a, json_writer_t *answer)
{
	struct wh_act x = { .r = r, .a = a, .dev = a->dev };
	char err[256];
	int self;

	x.netns = a->netns[0] ? a->netns : own_ns(wh);
	x.action = a->firing ? "clamp" : "release-scheduled";
	x.result = "ignored";
	if (!a->dev[0]) {
		x.dev = NULL;
		snprintf(x.why, sizeof(x.why), "%s", a->why);
	} else if (state_check_netns(x.netns, err, sizeof(err))) {
		snprintf(x.why, sizeof(x.why), "label %s: %s", wh->cfg.netns_label, err);
	} else if (enter(wh, l, x.netns, &self)) {
		snprintf(x.why, sizeof(x.why), "no namespace \"%s\" here", x.netns);
	} else if (!if_nametoindex(a->dev)) {
		snprintf(x.why, sizeof(x.why), "no device %s here", a->dev);
		leave(wh, l, self);
	} else {
		if (a->firing)
			on_firing(wh, l, &x);
		else
			on_resolved(wh, l, &x);
		leave(wh, l, self);
	}
	audit(answer, &x);
}

static void answer_request(struct webhook *wh, struct lim *l, struct wh_req *r)
{
	json_writer_t *jw;
	FILE *f;
	int i;

	if (r->refused) {
		struct wh_act x = { .action = "refused", .r = r };

		x.result = r->refused == MHD_HTTP_UNAUTHORIZED ? "401" :
			   r->refused == MHD_HTTP_BAD_REQUEST ? "400" : "413";
		snprintf(x.why, sizeof(x.why), "%s", r->why);
		audit(NULL, &x);
		return;
	}
	f = open_memstream(&r->reply, &r->reply_len);
	jw = f ? jw_new(f) : NULL;
	if (jw) {
		jw_obj_open(jw, NULL);
		jw_arr_open(jw, "actions");
	}
	for (i = 0; i < r->n; i++)
		on_alert(wh, l, r, &r->a[i], jw);
	if (jw) {
		jw_arr_close(jw);
		jw_obj_close(jw);
		jw_destroy(&jw);
	}
	if (f)
		fclose(f);
}

/* Put the record from before back (or none), under the caller's lock. */
static int record_restore(struct webhook *wh, const struct wh_clamp *c)
{
	struct clamp_set set;
	char err[256];
	int rc = record_load(wh, &set);

	if (rc)
		return rc;
	state_del(&set, c->netns, c->dev);
	rc = c->had_record ? state_set(&set, &c->old, err, sizeof(err)) : 0;
	if (!rc)
		rc = state_save(wh->o->state_dir, &set, err, sizeof(err));
	if (rc)
		pr_warn("webhook: %s: cannot put its record back: %s\n", c->dev, err);
	state_free(&set);
	return rc;
}

/* In the namespace already: release @c, quiet for long enough. */
static void release(struct webhook *wh, struct lim *l, struct wh_clamp *c)
{
	struct wh_act x = { .action = "release", .c = c, .dev = c->dev,
			    .netns = c->netns };
	struct lim_snap now, after;
	int err;

	if (!still_ours(wh, l, c, &now, x.why, sizeof(x.why))) {
		x.action = "release-skipped";
		x.result = "ignored";
		x.before = x.after = &now;
		audit(NULL, &x);
		return;
	}
	x.before = &now;
	err = lim_lock(l);
	if (!err) {
		/* the kernel's part unrecorded: the record goes back whole */
		lim_set_recording(l, false);
		err = lim_restore(l, &c->before);
		lim_set_recording(l, true);
		if (err)
			snprintf(x.why, sizeof(x.why), "%s", lim_msg(l));
		else if (record_restore(wh, c))
			snprintf(x.why, sizeof(x.why), "settings restored, but not "
				 "the record from before (see stderr)");
		lim_unlock(l);
	} else {
		snprintf(x.why, sizeof(x.why), "%s", lim_msg(l));
	}
	x.result = err ? "failed" : "done";
	if (!lim_snapshot(l, c->dev, &after))
		x.after = &after;
	audit(NULL, &x);
}

static void releases_due(struct webhook *wh, struct lim *l)
{
	__u64 now = mono_ns();
	int i, self;

	for (i = 0; i < wh->nc; i++) {
		struct wh_clamp *c = &wh->c[i];

		if (!c->release_at || now < c->release_at)
			continue;
		if (!enter(wh, l, c->netns, &self)) {
			release(wh, l, c);
			leave(wh, l, self);
		} else {
			struct wh_act x = { .action = "release", .result = "failed",
					    .c = c, .dev = c->dev, .netns = c->netns };

			snprintf(x.why, sizeof(x.why), "no namespace \"%s\" any more",
				 c->netns);
			audit(NULL, &x);
		}
		clamp_drop(wh, c);
		i--;
	}
}

int webhook_fd(const struct webhook *wh)
{
	return wh ? wh->efd : -1;
}

void webhook_run(struct webhook *wh, struct lim *l)
{
	struct wh_req *r;
	uint64_t v;

	if (!wh)
		return;
	if (read(wh->efd, &v, sizeof(v)) < 0) {
		/* nothing waiting (EAGAIN) */
	}
	for (;;) {
		pthread_mutex_lock(&wh->mu);
		r = wh->head;
		if (r) {
			wh->head = r->next;
			if (!wh->head)
				wh->tail = &wh->head;
		}
		pthread_mutex_unlock(&wh->mu);
		if (!r)
			break;
		answer_request(wh, l, r);
		pthread_mutex_lock(&wh->mu);
		if (r->abandoned) {
			pthread_mutex_unlock(&wh->mu);
			req_free(r);
			continue;
		}
		r->done = true;
		pthread_cond_broadcast(&wh->cv);
		pthread_mutex_unlock(&wh->mu);
	}
	releases_due(wh, l);
}

/* ------------------------------------------------------------ start, stop */

static int serve(struct webhook *wh)
{
	sigset_t block, old;

	if (mhd_load("webhook"))
		return -ENOENT;
	/* signals are the daemon loop's: not for libmicrohttpd's thread */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	wh->mhd = lmhd.MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
					MHD_USE_ERROR_LOG, 0, NULL, NULL,
					on_request, wh,
					MHD_OPTION_LISTEN_SOCKET, wh->listen_fd,
					MHD_OPTION_NOTIFY_COMPLETED, on_completed, wh,
					MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
					MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
					MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!wh->mhd) {
		pr_warn("webhook: libmicrohttpd does not serve on %s\n", wh->cfg.listen);
		return -EIO;
	}
	return 0;
}

static void webhook_free(struct webhook *wh)
{
	struct wh_req *r;

	if (wh->listen_fd >= 0)
		close(wh->listen_fd);
	if (wh->unix_path[0])
		unlink(wh->unix_path);
	if (wh->efd >= 0)
		close(wh->efd);
	while ((r = wh->head)) {
		wh->head = r->next;
		req_free(r);
	}
	while (wh->nc)
		clamp_drop(wh, &wh->c[0]);
	free(wh->c);
	pthread_mutex_destroy(&wh->mu);
	pthread_cond_destroy(&wh->cv);
	free(wh);
}

int webhook_start(struct webhook **whp, const struct policy_set *pol,
		  const struct opts *o)
{
	struct webhook *wh;
	char *dot;
	int err;

	*whp = NULL;
	wh = calloc(1, sizeof(*wh));
	if (!wh)
		return -ENOMEM;
	wh->o = o;
	wh->listen_fd = wh->efd = -1;
	wh->tail = &wh->head;
	pthread_mutex_init(&wh->mu, NULL);
	pthread_cond_init(&wh->cv, NULL);
	err = cfg_load(&wh->cfg, pol);
	if (err || !wh->cfg.listen[0])
		goto out;
	gethostname(wh->host, sizeof(wh->host) - 1);
	snprintf(wh->host_short, sizeof(wh->host_short), "%s", wh->host);
	dot = strchr(wh->host_short, '.');
	if (dot)
		*dot = '\0';
	wh->c = calloc(WH_MAX_CLAMPS, sizeof(*wh->c));
	wh->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!wh->c || wh->efd < 0) {
		err = -ENOMEM;
		goto out;
	}
	if (wh->cfg.token_file[0])
		err = read_token(wh->cfg.token_file, wh->token, sizeof(wh->token));
	if (!err)
		err = strncmp(wh->cfg.listen, "unix:", 5) ?
		      listen_tcp(wh, wh->cfg.listen) :
		      listen_unix(wh, wh->cfg.listen + 5);
	if (!err)
		err = serve(wh);
	if (err)
		goto out;
	*whp = wh;
	pr_info("webhook: Alertmanager notifications on %s%s, release %lu s after "
		"resolved\n", wh->cfg.listen, wh->token[0] ? " (bearer token)" : "",
		wh->cfg.release_after);
	return 0;
out:
	webhook_free(wh);
	return err;
}

void webhook_stop(struct webhook *wh)
{
	if (!wh)
		return;
	pthread_mutex_lock(&wh->mu);
	wh->stopping = true;
	pthread_cond_broadcast(&wh->cv);
	pthread_mutex_unlock(&wh->mu);
	lmhd.MHD_stop_daemon(wh->mhd);
	webhook_free(wh);
}
