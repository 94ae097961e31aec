// SPDX-License-Identifier: GPL-2.0-only
/*
 * hookfloor.c - the kernel's own cost of putting a program on N devices,
 * with no tcbpf logic: the floor under `tcbpf attach net` and `apply`.
 *
 *   hookfloor tcx N FMT [THREADS]
 *       two tcx links (ingress, egress) per device, BPF_LINK_CREATE each;
 *       with THREADS > 1 the devices are shared out between threads (does
 *       the kernel let attaches overlap?). The links go with the process.
 *   hookfloor tc N FMT
 *       clsact + two cls_bpf direct-action filters per device, one
 *       netlink request and its ack at a time (what libbpf's bpf_tc_*
 *       calls do, less their socket per call)
 *   hookfloor tc-batch N FMT
 *       the same requests, 64 devices' worth per sendmsg, acks read after
 *
 * FMT names the devices: a printf format with one %d, 1..N, e.g.
 * "vm-%d-0abc". Runs in the caller's network namespace; the tc modes
 * delete the clsact qdiscs they made at the end. The program: "return
 * -1" (TC_ACT_UNSPEC, TCX_NEXT). One JSON object on stdout, microseconds.
 */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <bpf/bpf.h>

#define TCX_INGRESS	46
#define TCX_EGRESS	47
#define BATCH		64
#define PREF		0x7cbe	/* not tcbpf's own pref/handle */

static int prog_fd, *ifx, n_dev;
static struct mnl_socket *nl;
static unsigned int seq;

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int load_prog(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = -1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "floor_pass", "GPL",
			     insns, 2, NULL);
}

struct share { int from, step, err; };

static void *tcx_worker(void *arg)
{
	struct share *s = arg;
	int i, d, fd;

	for (i = s->from; i < n_dev; i += s->step)
		for (d = 0; d < 2; d++) {
			fd = bpf_link_create(prog_fd, ifx[i],
					     d ? TCX_EGRESS : TCX_INGRESS, NULL);
			if (fd < 0) {
				s->err = -errno;
				return NULL;
			}
		}
	return NULL;
}

static int run_tcx(int threads)
{
	struct share sh[16];
	pthread_t th[16];
	int i, err = 0;

	if (threads < 1 || threads > 16)
		return -EINVAL;
	for (i = 0; i < threads; i++) {
		sh[i] = (struct share){ .from = i, .step = threads };
		pthread_create(&th[i], NULL, tcx_worker, &sh[i]);
	}
	for (i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		if (sh[i].err)
			err = sh[i].err;
	}
	return err;
}

/* One request for device @i: 0 clsact, 1 ingress filter, 2 egress filter,
 * 3 clsact deleted. */
static struct nlmsghdr *put_req(char *buf, int i, int what)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tcmsg *t;
	struct nlattr *o;

	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++seq;
	t = mnl_nlmsg_put_extra_header(nlh, sizeof(*t));
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = ifx[i];
	if (what == 0 || what == 3) {
		nlh->nlmsg_type = what ? RTM_DELQDISC : RTM_NEWQDISC;
		if (!what)
			nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
		t->tcm_parent = TC_H_CLSACT;
		t->tcm_handle = TC_H_MAKE(TC_H_CLSACT, 0);
		mnl_attr_put_strz(nlh, TCA_KIND, "clsact");
		return nlh;
	}
	nlh->nlmsg_type = RTM_NEWTFILTER;
	nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	t->tcm_parent = TC_H_MAKE(TC_H_CLSACT, what == 1 ? TC_H_MIN_INGRESS :
				  TC_H_MIN_EGRESS);
	t->tcm_handle = PREF;
	t->tcm_info = TC_H_MAKE(PREF << 16, htons(ETH_P_ALL));
	mnl_attr_put_strz(nlh, TCA_KIND, "bpf");
	o = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put_u32(nlh, TCA_BPF_FD, prog_fd);
	mnl_attr_put_strz(nlh, TCA_BPF_NAME, "floor_pass");
	mnl_attr_put_u32(nlh, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
	mnl_attr_nest_end(nlh, o);
	return nlh;
}

/* Read acks until @n have come; the first error. */
static int read_acks(int n)
{
	static char buf[1 << 16];
	int err = 0;

	while (n > 0) {
		int len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (len < 0)
			return -errno;
		for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			n--;
			if (!err)
				err = ((struct nlmsgerr *)mnl_nlmsg_get_payload(h))->error;
		}
	}
	return err;
}

/* Requests @whats for every device, @per devices per sendmsg. */
static int run_tc(const int *whats, int nwhat, int per)
{
	static char buf[BATCH * 3 * 256];
	int i, w, k, err;

	for (i = 0; i < n_dev; i += per) {
		size_t off = 0;
		int sent = 0;

		for (k = i; k < n_dev && k < i + per; k++)
			for (w = 0; w < nwhat; w++) {
				struct nlmsghdr *h = put_req(buf + off, k, whats[w]);

				off += h->nlmsg_len;
				sent++;
				if (per == 1) {	/* one at a time */
					if (mnl_socket_sendto(nl, buf, off) < 0)
						return -errno;
					err = read_acks(1);
					if (err)
						return err;
					off = 0;
					sent = 0;
				}
			}
		if (sent) {
			if (mnl_socket_sendto(nl, buf, off) < 0)
				return -errno;
			err = read_acks(sent);
			if (err)
				return err;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const int add[] = { 0, 1, 2 }, del[] = { 3 };
	char name[IF_NAMESIZE + 16];
	long long t0, t1, t2 = 0;
	int i, err, one = 1, threads = 1;
	bool tc;

	if (argc < 4) {
		fprintf(stderr, "usage: hookfloor tcx|tc|tc-batch N FMT [THREADS]\n");
		return 2;
	}
	n_dev = atoi(argv[2]);
	if (argc > 4)
		threads = atoi(argv[4]);
	ifx = calloc(n_dev, sizeof(*ifx));
	for (i = 0; ifx && i < n_dev; i++) {
		snprintf(name, sizeof(name), argv[3], i + 1);
		ifx[i] = if_nametoindex(name);
		if (!ifx[i]) {
			fprintf(stderr, "hookfloor: no device %s\n", name);
			return 1;
		}
	}
	prog_fd = load_prog();
	if (prog_fd < 0) {
		fprintf(stderr, "hookfloor: cannot load: %s\n", strerror(errno));
		return 1;
	}
	tc = strncmp(argv[1], "tc-", 3) == 0 || strcmp(argv[1], "tc") == 0;
	if (tc) {
		nl = mnl_socket_open(NETLINK_ROUTE);
		if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
			return 1;
		mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	}
	t0 = now_us();
	if (!tc)
		err = run_tcx(threads);
	else
		err = run_tc(add, 3, strcmp(argv[1], "tc") ? BATCH : 1);
	t1 = now_us();
	if (tc) {
		int err2 = run_tc(del, 1, BATCH);

		t2 = now_us();
		if (!err)
			err = err2;
	}
	if (err) {
		fprintf(stderr, "hookfloor %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	printf("{\"mode\":\"%s\",\"n\":%d,\"threads\":%d,\"attach_us\":%lld,"
	       "\"per_device_us\":%lld,\"detach_us\":%lld}\n", argv[1], n_dev,
	       threads, t1 - t0, (t1 - t0) / n_dev, tc ? t2 - t1 : -1LL);
	return 0;
}
