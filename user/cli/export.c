// SPDX-License-Identifier: GPL-2.0-only
/*
 * export.c - counters for monitoring servers.
 *
 *   tcbpf export influx URL [interval SECS] [count N]
 *	push: every interval, one batch of InfluxDB line protocol to URL
 *	(an InfluxDB 1.x "/write?db=NAME" endpoint) over libcurl.
 *   tcbpf export prometheus [listen ADDR:PORT]
 *	pull: serve /metrics in the Prometheus text format (0.0.4) from
 *	libmicrohttpd's own thread; every scrape reads the maps afresh.
 *
 * Both export counters, not rates: the servers derive rates themselves
 * (InfluxQL non_negative_derivative(), PromQL rate()), which survives a
 * missed push or scrape. A counter that restarts (the device re-attached)
 * is a counter reset to both.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define CURL_DISABLE_TYPECHECK	/* its macros would wrap our pointers' names */
#include <curl/curl.h>

#include "cli/cli.h"
#include "cli/dl.h"
#include "cli/export.h"
#include "cli/loop.h"
#include "cli/print.h"
#include "lib/names.h"
#include "lib/units.h"
#include "util/clock.h"
#include "util/log.h"

/* libcurl is opened when an export starts, not linked: see cli/dl.h. */
#define CURL_FNS(X)							\
	X(curl_global_init)	X(curl_global_cleanup)			\
	X(curl_easy_init)	X(curl_easy_cleanup)			\
	X(curl_easy_setopt)	X(curl_easy_perform)			\
	X(curl_easy_getinfo)	X(curl_easy_strerror)			\
	X(curl_slist_append)	X(curl_slist_free_all)

static struct { CURL_FNS(DL_FN_PTR) } lcurl;

static int load_curl(void)
{
#define FN_SYM(f)	{ #f, (void **)&lcurl.f },
	struct dl_sym syms[] = { CURL_FNS(FN_SYM) };
#undef FN_SYM

	return dl_load("export", "libcurl.so.4", "libcurl4", syms,
		       sizeof(syms) / sizeof(syms[0]));
}

#define PROM_DEFAULT_LISTEN	"127.0.0.1:9761"
#define INFLUX_MAX_PENDING	(8 << 20)	/* bytes kept while the server is down */
#define PROM_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* The counters now, through the limiter library. */
static int export_sample(struct sample_set *s)
{
	struct lim *l = cli_lim(NULL);
	int err;

	if (!l)
		return -ENOMEM;
	err = lim_sample(l, s);
	if (err)
		cli_fail(l, err);
	lim_close(l);
	return err;
}

/* ------------------------------------------------------------- formats */

/* tcbpf_vxlan,dev=..,dir=..,netid=VNI: what each network of an underlay
 * carried */
static void influx_vnis(FILE *f, const struct dev_sample *d, __u64 ts)
{
	char vn[16];
	int i, dir;

	for (i = 0; i < d->nvni; i++) {
		vni_name(d->vnis[i].vni, vn, sizeof(vn));
		for (dir = 0; dir < TCBPF_NDIR; dir++) {
			const struct tcbpf_vni_dir *c = &d->vnis[i].c.dir[dir];

			fputs("tcbpf_vxlan", f);
			print_influx_tag(f, "dev", d->ifname);
			print_influx_tag(f, "dir", dir_name(dir));
			print_influx_tag(f, "netid", vn);
			fprintf(f, " passed_packets=%llui,passed_bytes=%llui,"
				"dropped_packets=%llui,dropped_bytes=%llui %llu\n",
				(unsigned long long)c->pass_pkts,
				(unsigned long long)c->pass_bytes,
				(unsigned long long)c->drop_pkts,
				(unsigned long long)c->drop_bytes,
				(unsigned long long)ts);
		}
	}
}

void influx_write(FILE *f, const struct sample_set *s)
{
	int i, dir, cls;

	for (i = 0; i < s->n; i++) {
		const struct dev_sample *d = &s->devs[i];

		for (dir = 0; dir < TCBPF_NDIR; dir++) {
			if (!d->have[dir])
				continue;
			for (cls = 0; cls < TCBPF_NCLASS; cls++) {
				const struct tcbpf_counters *c = &d->st[dir].cls[cls];

				fputs("tcbpf", f);
				print_influx_tag(f, "dev", d->ifname);
				print_influx_tag(f, "dir", dir_name(dir));
				print_influx_tag(f, "class", class_name(cls));
				if (d->netid[0])
					print_influx_tag(f, "netid", d->netid);
				fprintf(f, " passed_packets=%llui,passed_bytes=%llui,"
					"dropped_packets=%llui,dropped_bytes=%llui,"
					"marked_packets=%llui,would_drop_packets=%llui,"
					"would_drop_bytes=%llui,mode=\"%s\" %llu\n",
					(unsigned long long)c->pass_pkts,
					(unsigned long long)c->pass_bytes,
					(unsigned long long)c->drop_pkts,
					(unsigned long long)c->drop_bytes,
					(unsigned long long)c->mark_pkts,
					(unsigned long long)c->wdrop_pkts,
					(unsigned long long)c->wdrop_bytes,
					mode_name(d->cfg[dir].mode),
					(unsigned long long)s->real_ns);
			}
		}
		influx_vnis(f, d, s->real_ns);
	}
}

static void prom_label(FILE *f, const char *key, const char *val, bool first)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", key);
	for (; *val; val++) {
		if (*val == '\\' || *val == '"')
			fputc('\\', f);
		if (*val == '\n')
			fputs("\\n", f);
		else
			fputc(*val, f);
	}
	fputc('"', f);
}

/* device, direction[, class][, netid]: the labels of every series */
static void prom_labels(FILE *f, const struct dev_sample *d, int dir, int cls)
{
	prom_label(f, "device", d->ifname, true);
	prom_label(f, "direction", dir_name(dir), false);
	if (cls >= 0)
		prom_label(f, "class", class_name(cls), false);
	if (d->netid[0])
		prom_label(f, "netid", d->netid, false);
}

enum prom_metric { M_PACKETS, M_BYTES, M_MARKED, M_LIMIT_BITS, M_LIMIT_PKTS, M_MODE,
		   M_WOULD_PKTS, M_WOULD_BYTES, M_N };

static const struct {
	const char *name, *type, *help;
} prom_meta[M_N] = {
	[M_PACKETS] = { "tcbpf_packets_total", "counter",
		"Packets seen by tcbpf, by verdict (passed or dropped); their sum is the offered load." },
	[M_BYTES] = { "tcbpf_bytes_total", "counter",
		"Bytes of whole frames as seen at the tc hook (Ethernet header included), by verdict." },
	[M_MARKED] = { "tcbpf_marked_packets_total", "counter",
		"Packets marked CE (ECN) by the EDT pacer." },
	[M_LIMIT_BITS] = { "tcbpf_limit_bytes_per_second", "gauge",
		"Configured rate of the class's bucket (bits/s / 8); 0 when the mode limits nothing (monitor) or no bucket." },
	[M_LIMIT_PKTS] = { "tcbpf_limit_packets_per_second", "gauge",
		"Configured packet rate of the class's bucket; 0 when none." },
	[M_MODE] = { "tcbpf_mode", "gauge",
		"1 for the mode (police, edt, monitor) a direction of a device is in." },
	/* metrics of their own, not a verdict: would-drops are passed too,
	 * and a sum over verdicts must stay the offered load */
	[M_WOULD_PKTS] = { "tcbpf_would_drop_packets_total", "counter",
		"Monitor mode: packets passed that its SPEC (police) would have dropped." },
	[M_WOULD_BYTES] = { "tcbpf_would_drop_bytes_total", "counter",
		"Monitor mode: bytes passed that its SPEC (police) would have dropped." },
};

static void prom_metric(FILE *f, const struct sample_set *s, int m)
{
	static const char *const verdict[] = { "passed", "dropped" };
	int i, dir, cls, v;

	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", prom_meta[m].name,
		prom_meta[m].help, prom_meta[m].name, prom_meta[m].type);
	for (i = 0; i < s->n; i++) {
		const struct dev_sample *d = &s->devs[i];

		for (dir = 0; dir < TCBPF_NDIR; dir++) {
			const struct tcbpf_cfg *cfg = &d->cfg[dir];
			bool limits = cfg->mode != TCBPF_MODE_MONITOR;

			if (!d->have[dir])
				continue;
			if (m == M_MODE) {
				fprintf(f, "%s{", prom_meta[m].name);
				prom_labels(f, d, dir, -1);
				prom_label(f, "mode", mode_name(cfg->mode), false);
				fprintf(f, "} 1\n");
				continue;
			}
			for (cls = 0; cls < TCBPF_NCLASS; cls++) {
				const struct tcbpf_counters *c = &d->st[dir].cls[cls];
				const struct tcbpf_bucket_cfg *b = &cfg->cls[cls];
				unsigned long long val[2];
				int nv = 1;

				switch (m) {
				case M_PACKETS:
					val[0] = c->pass_pkts;
					val[1] = c->drop_pkts;
					nv = 2;
					break;
				case M_BYTES:
					val[0] = c->pass_bytes;
					val[1] = c->drop_bytes;
					nv = 2;
					break;
				case M_MARKED:
					val[0] = c->mark_pkts;
					break;
				case M_WOULD_PKTS:
					val[0] = c->wdrop_pkts;
					break;
				case M_WOULD_BYTES:
					val[0] = c->wdrop_bytes;
					break;
				case M_LIMIT_BITS:
					val[0] = limits ? b->rate_bits_per_sec / 8 : 0;
					break;
				default:
					val[0] = limits ? b->pps : 0;
					break;
				}
				for (v = 0; v < nv; v++) {
					fprintf(f, "%s{", prom_meta[m].name);
					prom_labels(f, d, dir, cls);
					if (nv > 1)
						prom_label(f, "verdict",
							   verdict[v], false);
					fprintf(f, "} %llu\n", val[v]);
				}
			}
		}
	}
}

/* What each VXLAN network of an underlay carried, labelled netid=VNI. */
static void prom_vnis(FILE *f, const struct sample_set *s)
{
	static const char *const name[] = { "tcbpf_vxlan_packets_total",
					    "tcbpf_vxlan_bytes_total" };
	int m, i, j, dir, v;
	char vn[16];

	for (m = 0; m < 2; m++) {
		fprintf(f, "# HELP %s %s of each VXLAN network (netid: its VNI "
			"in hex) on a VXLAN underlay, outer frames, by verdict.\n"
			"# TYPE %s counter\n", name[m], m ? "Bytes" : "Packets",
			name[m]);
		for (i = 0; i < s->n; i++) {
			const struct dev_sample *d = &s->devs[i];

			for (j = 0; j < d->nvni; j++) {
				vni_name(d->vnis[j].vni, vn, sizeof(vn));
				for (dir = 0; dir < TCBPF_NDIR; dir++) {
					const struct tcbpf_vni_dir *c =
						&d->vnis[j].c.dir[dir];
					__u64 val[2] = {
						m ? c->pass_bytes : c->pass_pkts,
						m ? c->drop_bytes : c->drop_pkts };

					for (v = 0; v < 2; v++) {
						fprintf(f, "%s{", name[m]);
						prom_label(f, "device", d->ifname, true);
						prom_label(f, "direction", dir_name(dir), false);
						prom_label(f, "netid", vn, false);
						prom_label(f, "verdict", v ? "dropped" :
							   "passed", false);
						fprintf(f, "} %llu\n",
							(unsigned long long)val[v]);
					}
				}
			}
		}
	}
}

void prom_write(FILE *f, const struct sample_set *s)
{
	int m;

	for (m = 0; m < M_N; m++)
		prom_metric(f, s, m);
	prom_vnis(f, s);
	fprintf(f, "# HELP tcbpf_devices Devices with a limiter in this network namespace.\n"
		"# TYPE tcbpf_devices gauge\ntcbpf_devices %d\n", s->n);
}

/* ---------------------------------------------------------------- influx */

struct body {
	char buf[512];
	size_t len;
};

static size_t body_keep(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n, room = sizeof(b->buf) - 1 - b->len;

	memcpy(b->buf + b->len, p, len < room ? len : room);
	b->len += len < room ? len : room;
	b->buf[b->len] = '\0';
	return len;
}

/*
 * POST @data to @url. 0: written; -EAGAIN: keep it and try again (no
 * server, 5xx); -EINVAL: the server refused it (4xx), retrying won't help.
 */
static int influx_post(CURL *c, const char *url, const char *data, size_t len,
		       double interval)
{
	struct body b = { .len = 0 };
	long code = 0, tmo;
	CURLcode rc;

	tmo = interval < 10 ? (long)(interval * 1000) : 10000;
	if (tmo < 500)
		tmo = 500;
	lcurl.curl_easy_setopt(c, CURLOPT_URL, url);
	lcurl.curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
	lcurl.curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	lcurl.curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, tmo);
	lcurl.curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_keep);
	lcurl.curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	lcurl.curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = lcurl.curl_easy_perform(c);
	if (rc != CURLE_OK) {
		pr_warn("export influx: %s: %s\n", url, lcurl.curl_easy_strerror(rc));
		return -EAGAIN;
	}
	lcurl.curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code < 300)
		return 0;
	pr_warn("export influx: %s: HTTP %ld: %s\n", url, code, b.buf);
	return code >= 500 ? -EAGAIN : -EINVAL;
}

static int export_influx(const char *url, double interval,
			 unsigned long long count)
{
	struct curl_slist *hdr = NULL;
	char *pending = NULL;
	size_t plen = 0;
	unsigned long long n, sent = 0;
	__u64 next, step = (__u64)(interval * NSEC_PER_SEC);
	CURL *c;
	int err = 0;

	err = load_curl();
	if (err)
		return err;
	if (lcurl.curl_global_init(CURL_GLOBAL_DEFAULT))
		return -ENOMEM;
	c = lcurl.curl_easy_init();
	if (!c) {
		lcurl.curl_global_cleanup();
		return -ENOMEM;
	}
	hdr = lcurl.curl_slist_append(hdr, "Content-Type: text/plain; charset=utf-8");
	lcurl.curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	loop_signals();
	next = mono_ns();
	for (n = 0; !count || n < count; n++) {
		struct sample_set s;
		char *batch = NULL;
		size_t blen = 0;
		FILE *f;

		if (n && sleep_until(next))
			break;
		next += step;
		err = export_sample(&s);
		if (err)
			break;
		f = open_memstream(&batch, &blen);
		if (!f) {
			sample_free(&s);
			err = -ENOMEM;
			break;
		}
		/* what could not be written before goes first, in order */
		if (plen)
			fwrite(pending, 1, plen, f);
		influx_write(f, &s);
		fclose(f);
		sample_free(&s);
		free(pending);
		pending = batch;
		plen = blen;
		if (!plen)
			continue;	/* no device: nothing to say */
		err = influx_post(c, url, pending, plen, interval);
		if (err == -EAGAIN && plen < INFLUX_MAX_PENDING) {
			pr_info("export influx: keeping %zu bytes for the next try\n",
				plen);
			continue;
		}
		if (err == -EAGAIN)
			pr_warn("export influx: dropping %zu bytes: the server has "
				"been unreachable too long\n", plen);
		if (!err)
			sent++;
		free(pending);
		pending = NULL;
		plen = 0;
	}
	free(pending);
	lcurl.curl_slist_free_all(hdr);
	lcurl.curl_easy_cleanup(c);
	lcurl.curl_global_cleanup();
	if (count && !sent) {
		pr_warn("export influx: nothing was written to %s\n", url);
		return -EIO;
	}
	return 0;
}

/* ------------------------------------------------------------ prometheus */

static enum MHD_Result prom_reply(struct MHD_Connection *conn, unsigned int code,
				  char *body, size_t len, const char *type)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = lmhd.MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	lmhd.MHD_add_response_header(r, "Content-Type", type);
	ret = lmhd.MHD_queue_response(conn, code, r);
	lmhd.MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result prom_text(struct MHD_Connection *conn, unsigned int code,
				 const char *text, const char *type)
{
	char *body = strdup(text);

	if (!body)
		return MHD_NO;
	return prom_reply(conn, code, body, strlen(body), type);
}

static enum MHD_Result prom_handler(void *cls, struct MHD_Connection *conn,
				    const char *url, const char *method,
				    const char *version, const char *upload,
				    size_t *upload_len, void **state)
{
	struct sample_set s;
	char *body = NULL;
	size_t len = 0;
	FILE *f;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return prom_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				 "GET /metrics\n", "text/plain");
	if (!strcmp(url, "/"))
		return prom_text(conn, MHD_HTTP_OK,
				 "<html><head><title>tcbpf</title></head><body>"
				 "<a href=\"/metrics\">/metrics</a></body></html>\n",
				 "text/html");
	if (strcmp(url, "/metrics"))
		return prom_text(conn, MHD_HTTP_NOT_FOUND,
				 "not found: try /metrics\n", "text/plain");
	if (export_sample(&s))
		return prom_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				 "cannot read the tcbpf maps\n", "text/plain");
	f = open_memstream(&body, &len);
	if (!f) {
		sample_free(&s);
		return MHD_NO;
	}
	prom_write(f, &s);
	fclose(f);
	sample_free(&s);
	return prom_reply(conn, MHD_HTTP_OK, body, len, PROM_CONTENT_TYPE);
}

/* "127.0.0.1:9761", "[::1]:9761", ":9761" (every IPv4 address) */
int parse_listen(const char *s, struct sockaddr_storage *ss,
			bool *v6)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char host[64];
	const char *colon;
	char *end;
	unsigned long port;

	memset(ss, 0, sizeof(*ss));
	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof(host))
			return -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(rb - s - 1), s + 1);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			return -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || !port || port > 65535)
		return -EINVAL;
	*v6 = *s == '[';
	if (*v6) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		return inet_pton(AF_INET6, host, &in6->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	if (!host[0])
		return 0;	/* INADDR_ANY */
	return inet_pton(AF_INET, host, &in->sin_addr) == 1 ? 0 : -EINVAL;
}

static int export_prometheus(const char *listen)
{
	struct sockaddr_storage ss;
	struct MHD_Daemon *d;
	bool v6;

	if (parse_listen(listen, &ss, &v6)) {
		pr_warn("Illegal \"listen\" value \"%s\": want ADDR:PORT, e.g. "
			"127.0.0.1:9761 or [::1]:9761\n", listen);
		return -EUSAGE;
	}
	if (mhd_load("export"))
		return -ENOENT;
	loop_signals();
	d = lmhd.MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
			     (v6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
			     prom_handler, NULL,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
			     MHD_OPTION_END);
	if (!d) {
		pr_warn("export prometheus: cannot listen on %s (in use?)\n",
			listen);
		return -EADDRINUSE;
	}
	pr_info("export prometheus: serving http://%s/metrics\n", listen);
	while (!sleep_until(mono_ns() + NSEC_PER_SEC))
		;
	lmhd.MHD_stop_daemon(d);
	return 0;
}

/* ------------------------------------------------------------------ CLI */

int cmd_export(const struct opts *o, int argc, char **argv)
{
	const char *url = NULL, *listen = PROM_DEFAULT_LISTEN;
	unsigned long long count = 0;
	double interval = 10;
	bool influx;
	int i;

	if (argc < 1 || (strcmp(argv[0], "influx") &&
			 strcmp(argv[0], "prometheus"))) {
		pr_warn("export: want \"influx URL\" or \"prometheus\"\n");
		return -EUSAGE;
	}
	influx = !strcmp(argv[0], "influx");
	i = 1;
	if (influx) {
		if (argc < 2 || strncmp(argv[1], "http", 4)) {
			pr_warn("export influx needs the URL of a /write endpoint, "
				"e.g. http://127.0.0.1:8086/write?db=tcbpf\n");
			return -EUSAGE;
		}
		url = argv[1];
		i = 2;
	}
	for (; i < argc; i++) {
		const char *w = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;

		if (!v) {
			pr_warn("export: \"%s\" needs a value\n", w);
			return -EUSAGE;
		}
		if (influx && !strcmp(w, "interval")) {
			if (parse_secs(v, &interval)) {
				pr_warn("Illegal \"interval\" value \"%s\"\n", v);
				return -EUSAGE;
			}
		} else if (influx && !strcmp(w, "count")) {
			errno = 0;
			count = strtoull(v, &end, 10);
			if (*end || !*v || *v == '-' || errno || !count) {
				pr_warn("Illegal \"count\" value \"%s\"\n", v);
				return -EUSAGE;
			}
		} else if (!influx && !strcmp(w, "listen")) {
			listen = v;
		} else {
			pr_warn("export %s: what is \"%s\"?\n", argv[0], w);
			return -EUSAGE;
		}
		i++;
	}
	return influx ? export_influx(url, interval, count) :
			export_prometheus(listen);
}
