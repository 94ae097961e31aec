// SPDX-License-Identifier: GPL-2.0-only
/*
 * flood.c - the benchmark's traffic: a UDP flood with sendmmsg, a counting
 * UDP receiver with recvmmsg, and a TCP sender/receiver pair. Every mode
 * is bounded in time and prints one JSON object on stdout.
 *
 *   flood send  -d ADDR -p PORT [-s PAYLOAD] [-r BITS|-P PPS] [-t SECS]
 *               [-c CPU] [-b BATCH] [-S SPORT] [-o OVERHEAD]
 *       UDP datagrams of PAYLOAD bytes (default 18: 60-byte IPv4 frames),
 *       batches of BATCH (64) per sendmmsg, as fast as it can or paced to
 *       BITS frame bits/s (payload + OVERHEAD, default 42 for IPv4, 62 for
 *       IPv6) or PPS datagrams/s.
 *   flood recv  -p PORT [-t SECS] [-c CPU] [-B BIN_MS] [-I IDLE] [-R FILE]
 *               [-o OVERHEAD] [-W WARM]
 *       counts datagrams by the kernel's receive time (SO_TIMESTAMPNS) in
 *       bins of BIN_MS (100) from the first one, and what the socket
 *       dropped for lack of buffer (SO_RXQ_OVFL); ends SECS after start or
 *       IDLE seconds (0.5) after the last datagram. FILE is created once
 *       the socket is bound. Summarises the first second and the steady
 *       state (from WARM seconds, default 1, to the last full bin, and
 *       with -E SEND_SECS before the sender's last bin), frame bytes
 *       counting OVERHEAD (0) bytes of headers per datagram.
 *   flood tsend -d ADDR -p PORT [-t SECS] [-c CPU]
 *       one TCP connection, writing as fast as it can for SECS.
 *   flood trecv -p PORT [-t SECS] [-c CPU] [-B BIN_MS] [-R FILE] [-W WARM]
 *               [-E SEND_SECS]
 *       accepts one connection (waiting up to 10 s), counts payload bytes
 *       per bin until EOF or SECS after the connection.
 *
 * Only the addresses given are ever used; the runner gives namespace-local
 * ones (10.204.x.0/24, fd00:7cc0::/64).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define NSEC_PER_SEC	1000000000LL
#define MAX_BATCH	64
#define MAX_PAYLOAD	65000
#define MAX_BINS	20000
#define RCVBUF		(64 << 20)
#define TCP_BUF		(256 << 10)
#define ACCEPT_WAIT_MS	10000

static const char *addr, *ready_file;
static int port, payload = 18, batch = MAX_BATCH, cpu = -1, sport;
static int overhead = -1, bin_ms = 100;
static double secs = 3, idle = 0.5, rate_bits, rate_pps, warm = 1, send_secs;

static int64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void die(const char *what)
{
	int err = errno;

	printf("{\"error\": \"%s: %s\"}\n", what, strerror(err));
	fprintf(stderr, "flood: %s: %s\n", what, strerror(err));
	exit(1);
}

static void pin(void)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

static void mark_ready(void)
{
	int fd;

	if (!ready_file)
		return;
	fd = open(ready_file, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd >= 0)
		close(fd);
}

/* ADDR (v4 or v6) and PORT into @ss; returns its length, 0 if not an IP. */
static socklen_t sockaddr_of(const char *a, int p, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a && inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(p);
		return sizeof(*s4);
	}
	if (!a || inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;	/* no address: [::], both */
		s6->sin6_port = htons(p);
		return sizeof(*s6);
	}
	return 0;
}

/* A socket bound to PORT on every address, v4 and v6. */
static int listen_socket(int type)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(NULL, port, &ss);
	int fd, off = 0, on = 1;

	fd = socket(AF_INET6, type, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, len))
		die("bind");
	return fd;
}

/* ---- UDP ---------------------------------------------------------------- */

static int udp_send(void)
{
	static char buf[MAX_PAYLOAD];
	struct mmsghdr msgs[MAX_BATCH];
	struct iovec iov = { buf, payload };
	struct sockaddr_storage dst, src;
	socklen_t dlen = sockaddr_of(addr, port, &dst);
	int64_t t0, end, next, gap = 0, now, prev, maxgap = 0, c0, used;
	uint64_t sent = 0, calls = 0, errs = 0;
	int fd, i, n, sndbuf = 4 << 20;
	double dt;

	if (!dlen)
		die("bad -d address");
	if (overhead < 0)
		overhead = dst.ss_family == AF_INET ? 42 : 62;
	fd = socket(dst.ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf));
	if (sport) {
		socklen_t slen = sockaddr_of(dst.ss_family == AF_INET ?
					     "0.0.0.0" : "::", sport, &src);

		if (bind(fd, (struct sockaddr *)&src, slen))
			die("bind source port");
	}
	if (connect(fd, (struct sockaddr *)&dst, dlen))
		die("connect");
	memset(buf, 0x5a, sizeof(buf));
	if (rate_bits > 0)
		rate_pps = rate_bits / ((payload + overhead) * 8.0);
	if (rate_pps > 0) {
		/* Batches about every 0.5 ms, but at least one datagram. */
		n = rate_pps / 2000;
		batch = n < 1 ? 1 : n < batch ? n : batch;
		gap = batch * NSEC_PER_SEC / rate_pps;
	}
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < batch; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	pin();
	c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	t0 = next = prev = now_ns(CLOCK_MONOTONIC);
	end = t0 + (int64_t)(secs * NSEC_PER_SEC);
	while ((now = now_ns(CLOCK_MONOTONIC)) < end) {
		/* The longest time between two sends: the sender descheduled
		 * (by other work on the machine) while it should be flooding. */
		if (!gap && now - prev > maxgap)
			maxgap = now - prev;
		prev = now;
		if (gap) {
			if (now < next) {
				struct timespec ts = {
					next / NSEC_PER_SEC, next % NSEC_PER_SEC };

				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
						&ts, NULL);
				continue;
			}
			next += gap;
		}
		n = sendmmsg(fd, msgs, batch, 0);
		calls++;
		if (n < 0) {
			if (errno != ENOBUFS && errno != EAGAIN &&
			    errno != ECONNREFUSED && errno != EINTR)
				die("sendmmsg");
			errs++;
			continue;
		}
		sent += n;
	}
	dt = (now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	/* On-CPU time of this thread: the send path and, on veth, the
	 * receive path and everything behind it (softirq in this context),
	 * but not the time it was descheduled. */
	used = now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	printf("{\"mode\": \"send\", \"sent_pkts\": %llu, \"payload\": %d, "
	       "\"frame_bytes\": %d, \"secs\": %.6f, \"pps\": %.1f, "
	       "\"frame_bits_per_sec\": %.1f, \"calls\": %llu, "
	       "\"errors\": %llu, \"cpu\": %d, \"max_gap_ms\": %.3f, "
	       "\"cpu_secs\": %.6f, \"cpu_ns_per_pkt\": %.2f}\n",
	       (unsigned long long)sent, payload, payload + overhead, dt,
	       sent / dt, sent * (payload + overhead) * 8.0 / dt,
	       (unsigned long long)calls, (unsigned long long)errs, cpu,
	       maxgap / 1e6, used / 1e9, sent ? (double)used / sent : 0);
	close(fd);
	return 0;
}

struct bins {
	int64_t first, last;	/* ns of the first and last arrival */
	uint64_t pkts, bytes;
	uint32_t nbins;
	uint64_t *bp, *bb;	/* per bin: packets, payload bytes */
	int64_t *tf, *tl;	/* per bin: first and last arrival (ns) */
	uint64_t *lf;		/* per bin: payload bytes of the first */
};

static void bins_alloc(struct bins *b)
{
	b->bp = calloc(MAX_BINS, sizeof(*b->bp));
	b->bb = calloc(MAX_BINS, sizeof(*b->bb));
	b->tf = calloc(MAX_BINS, sizeof(*b->tf));
	b->tl = calloc(MAX_BINS, sizeof(*b->tl));
	b->lf = calloc(MAX_BINS, sizeof(*b->lf));
	if (!b->bp || !b->bb || !b->tf || !b->tl || !b->lf)
		die("calloc");
}

static void bins_add(struct bins *b, int64_t t, uint64_t len)
{
	int64_t i;

	if (!b->pkts && !b->bytes)
		b->first = t;
	if (t < b->first)
		t = b->first;
	b->last = t;
	b->pkts++;
	b->bytes += len;
	i = (t - b->first) / (bin_ms * 1000000LL);
	if (i >= MAX_BINS)
		i = MAX_BINS - 1;
	if ((uint32_t)i + 1 > b->nbins)
		b->nbins = i + 1;
	if (!b->bp[i]) {
		b->tf[i] = t;
		b->lf[i] = len;
	}
	b->tl[i] = t;
	b->bp[i]++;
	b->bb[i] += len;
}

/*
 * The steady state measured between arrivals instead of bin edges: from
 * the first arrival in bin S0 to the last one before bin S1, what arrived
 * after that first one. At 1 Mbit/s a 100 ms bin holds 8 or 9 frames, so
 * averaging bins is only good to a frame per bin (~1 %); between arrivals
 * the error is the timestamps' jitter over the whole window. A sender's
 * pause no longer than the burst costs nothing here: the bucket keeps
 * what was not spent.
 */
static void span_summary(const struct bins *b, uint32_t s0, uint32_t s1)
{
	uint32_t i, a = UINT32_MAX, z = 0;
	uint64_t p = 0, by = 0;

	for (i = s0; i < s1 && i < b->nbins; i++) {
		if (!b->bp[i])
			continue;
		if (a == UINT32_MAX)
			a = i;
		z = i;
		p += b->bp[i];
		by += b->bb[i];
	}
	if (a == UINT32_MAX || p < 3 || b->tl[z] <= b->tf[a]) {
		printf("\"span\": null, ");
		return;
	}
	printf("\"span\": {\"pkts\": %llu, \"payload_bytes\": %llu, "
	       "\"secs\": %.9f}, ", (unsigned long long)(p - 1),
	       (unsigned long long)(by - b->lf[a]),
	       (b->tl[z] - b->tf[a]) / 1e9);
}

/*
 * Summaries: the first second from the first arrival (burst included),
 * and the steady state: from WARM seconds after the first arrival to the
 * end of the last full bin. Frame bytes add OVERHEAD per datagram (UDP).
 */
static void bins_summary(const struct bins *b)
{
	uint32_t i, first_end = 1000 / bin_ms, s0 = warm * 1000 / bin_ms;
	uint32_t s1 = b->nbins ? b->nbins - 1 : 0;	/* last one is partial */
	uint32_t e1 = send_secs * 1000 / bin_ms;
	uint64_t fp = 0, fb = 0, sp = 0, sb = 0;
	double ss = (double)(s1 > s0 ? s1 - s0 : 0) * bin_ms / 1000;
	int ov = overhead < 0 ? 0 : overhead;

	/* The sender's last bin may be partial, and what straggles in after
	 * it stopped is no steady state. */
	if (send_secs > 0 && e1 >= 1 && e1 - 1 < s1)
		s1 = e1 - 1;
	ss = (double)(s1 > s0 ? s1 - s0 : 0) * bin_ms / 1000;

	for (i = 0; i < b->nbins; i++) {
		if (i < first_end) {
			fp += b->bp[i];
			fb += b->bb[i];
		}
		if (i >= s0 && i < s1) {
			sp += b->bp[i];
			sb += b->bb[i];
		}
	}
	printf("\"first_sec_pkts\": %llu, \"first_sec_payload_bytes\": %llu, "
	       "\"first_sec_frame_bytes\": %llu, \"steady_secs\": %.3f, ",
	       (unsigned long long)fp, (unsigned long long)fb,
	       (unsigned long long)(fb + fp * ov), ss);
	if (ss > 0)
		printf("\"steady_pps\": %.2f, \"steady_payload_bps\": %.1f, "
		       "\"steady_frame_bps\": %.1f, ", sp / ss, sb * 8 / ss,
		       (sb + sp * ov) * 8 / ss);
	else
		printf("\"steady_pps\": null, \"steady_payload_bps\": null, "
		       "\"steady_frame_bps\": null, ");
	span_summary(b, s0, s1);
}

static void bins_print(const struct bins *b)
{
	uint32_t i;

	bins_summary(b);
	printf("\"pkts\": %llu, \"payload_bytes\": %llu, \"span_secs\": %.6f, "
	       "\"bin_ms\": %d, \"bin_pkts\": [", (unsigned long long)b->pkts,
	       (unsigned long long)b->bytes, (b->last - b->first) / 1e9, bin_ms);
	for (i = 0; i < b->nbins; i++)
		printf("%s%llu", i ? ", " : "", (unsigned long long)b->bp[i]);
	printf("], \"bin_bytes\": [");
	for (i = 0; i < b->nbins; i++)
		printf("%s%llu", i ? ", " : "", (unsigned long long)b->bb[i]);
	printf("]");
}

static int udp_recv(void)
{
	static char bufs[MAX_BATCH][2048];
	static char ctl[MAX_BATCH][CMSG_SPACE(sizeof(struct timespec)) +
				   CMSG_SPACE(sizeof(uint32_t))];
	struct mmsghdr msgs[MAX_BATCH];
	struct iovec iov[MAX_BATCH];
	struct bins b = {};
	uint32_t ovfl = 0;
	int64_t t0, end, lastrx = 0;
	int fd, i, n, on = 1, rcvbuf = RCVBUF;

	bins_alloc(&b);
	fd = listen_socket(SOCK_DGRAM);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on));
	pin();
	mark_ready();
	t0 = now_ns(CLOCK_MONOTONIC);
	end = t0 + (int64_t)(secs * NSEC_PER_SEC);
	for (;;) {
		int64_t now = now_ns(CLOCK_MONOTONIC);
		struct pollfd pfd = { fd, POLLIN, 0 };

		if (now >= end ||
		    (lastrx && now - lastrx > (int64_t)(idle * NSEC_PER_SEC)))
			break;
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		for (i = 0; i < MAX_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_control = ctl[i];
			msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
		}
		n = recvmmsg(fd, msgs, MAX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		lastrx = now_ns(CLOCK_MONOTONIC);
		for (i = 0; i < n; i++) {
			struct msghdr *m = &msgs[i].msg_hdr;
			struct cmsghdr *c;
			int64_t t = now_ns(CLOCK_REALTIME);

			for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
				if (c->cmsg_level != SOL_SOCKET)
					continue;
				if (c->cmsg_type == SO_TIMESTAMPNS) {
					struct timespec ts;

					memcpy(&ts, CMSG_DATA(c), sizeof(ts));
					t = ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
				} else if (c->cmsg_type == SO_RXQ_OVFL) {
					memcpy(&ovfl, CMSG_DATA(c), sizeof(ovfl));
				}
			}
			bins_add(&b, t, msgs[i].msg_len);
		}
	}
	printf("{\"mode\": \"recv\", ");
	bins_print(&b);
	printf(", \"socket_drops\": %u}\n", ovfl);
	close(fd);
	return 0;
}

/* ---- TCP ---------------------------------------------------------------- */

static int tcp_send(void)
{
	static char buf[TCP_BUF];
	struct sockaddr_storage dst;
	socklen_t dlen = sockaddr_of(addr, port, &dst);
	struct timeval tv = { 1, 0 };
	int64_t t0, end;
	uint64_t sent = 0;
	int fd, i;
	ssize_t n;

	if (!dlen)
		die("bad -d address");
	pin();
	fd = socket(dst.ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	/* The receiver may still be starting: retry for up to 3 s. */
	for (i = 0; connect(fd, (struct sockaddr *)&dst, dlen); i++) {
		if (i >= 30 || errno != ECONNREFUSED)
			die("connect");
		close(fd);
		usleep(100000);
		fd = socket(dst.ss_family, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket");
	}
	/* Blocking writes end within a second of the deadline. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(buf, 0x5a, sizeof(buf));
	t0 = now_ns(CLOCK_MONOTONIC);
	end = t0 + (int64_t)(secs * NSEC_PER_SEC);
	while (now_ns(CLOCK_MONOTONIC) < end) {
		n = write(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			die("write");
		}
		sent += n;
	}
	printf("{\"mode\": \"tsend\", \"sent_bytes\": %llu, \"secs\": %.6f}\n",
	       (unsigned long long)sent,
	       (now_ns(CLOCK_MONOTONIC) - t0) / 1e9);
	close(fd);
	return 0;
}

static int tcp_recv(void)
{
	static char buf[TCP_BUF];
	struct bins b = {};
	int64_t t0, end;
	int lfd, fd;
	ssize_t n;

	bins_alloc(&b);
	pin();
	lfd = listen_socket(SOCK_STREAM);
	if (listen(lfd, 1))
		die("listen");
	mark_ready();
	{
		/* A slow machine may take a while to start the sender. */
		struct pollfd pfd = { lfd, POLLIN, 0 };

		if (poll(&pfd, 1, ACCEPT_WAIT_MS) <= 0)
			die("no connection");
	}
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		die("accept");
	t0 = now_ns(CLOCK_MONOTONIC);
	end = t0 + (int64_t)(secs * NSEC_PER_SEC);
	for (;;) {
		int64_t now = now_ns(CLOCK_MONOTONIC);
		struct pollfd pfd = { fd, POLLIN, 0 };

		if (now >= end)
			break;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		bins_add(&b, now_ns(CLOCK_MONOTONIC), n);
	}
	printf("{\"mode\": \"trecv\", ");
	bins_print(&b);
	printf("}\n");
	close(fd);
	close(lfd);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
"usage: flood send -d ADDR -p PORT [-s PAYLOAD] [-r BITS|-P PPS] [-t SECS]\n"
"                  [-c CPU] [-b BATCH] [-S SPORT] [-o OVERHEAD]\n"
"       flood recv -p PORT [-t SECS] [-c CPU] [-B BIN_MS] [-I IDLE] [-R FILE]\n"
"                  [-o OVERHEAD] [-W WARM] [-E SEND_SECS]\n"
"       flood tsend -d ADDR -p PORT [-t SECS] [-c CPU]\n"
"       flood trecv -p PORT [-t SECS] [-c CPU] [-B BIN_MS] [-R FILE] [-W WARM]\n"
"                   [-E SEND_SECS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *mode;
	int opt;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "d:p:s:r:P:t:c:b:S:o:B:I:R:W:E:")) != -1) {
		switch (opt) {
		case 'd': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 's': payload = atoi(optarg); break;
		case 'r': rate_bits = atof(optarg); break;
		case 'P': rate_pps = atof(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'c': cpu = atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 'S': sport = atoi(optarg); break;
		case 'o': overhead = atoi(optarg); break;
		case 'B': bin_ms = atoi(optarg); break;
		case 'I': idle = atof(optarg); break;
		case 'R': ready_file = optarg; break;
		case 'W': warm = atof(optarg); break;
		case 'E': send_secs = atof(optarg); break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535 || payload < 0 || payload > MAX_PAYLOAD ||
	    batch < 1 || batch > MAX_BATCH || secs <= 0 || secs > 600 ||
	    bin_ms < 1)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(mode, "send"))
		return udp_send();
	if (!strcmp(mode, "recv"))
		return udp_recv();
	if (!strcmp(mode, "tsend"))
		return tcp_send();
	if (!strcmp(mode, "trecv"))
		return tcp_recv();
	usage();
	return 2;
}
