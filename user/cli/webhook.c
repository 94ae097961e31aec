// SPDX-License-Identifier: GPL-2.0-only
/*
 * webhook.c - see webhook.h: the settings, the listening socket, HTTP in
 * libmicrohttpd's own thread, start and stop. That thread checks the
 * token, reads the JSON and queues a request; the daemon's loop acts on it
 * (webhook_act.c) and the thread answers with what was done.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <json.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/export.h"
#include "cli/webhook.h"
#include "cli/webhook_int.h"
#include "lib/spec.h"
#include "lib/words.h"
#include "util/log.h"

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

/* ------------------------------------------------------- the daemon's loop */

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
	if (wh->unchecked)
		wh_adopt(wh, l);
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
		wh_answer(wh, l, r);
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
	wh_releases_due(wh, l);
	if (wh->dirty)
		wh_save(wh);
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
		wh_clamp_drop(wh, &wh->c[0]);
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
	wh_load(wh);	/* a bad file is reported and left alone */
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
	wh_save(wh);	/* the rest of each quiet period, as of now */
	webhook_free(wh);
}
