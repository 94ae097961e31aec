// SPDX-License-Identifier: GPL-2.0-only
/*
 * show.c - show and list: settings, hook, mode and counters.
 *
 * JSON carries raw numbers in base units with the unit in the key
 * (rate_bits_per_sec, burst_bytes, delay_ns); text is for people.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "lib/cmd.h"
#include "lib/cfg.h"
#include "kern/hook.h"
#include "util/json.h"
#include "kern/obj.h"
#include "lib/stats.h"
#include "lib/units.h"
#include "util/log.h"


/* One device: both directions' settings, as the cfg map holds them. */
struct devinfo {
	int ifindex;
	char ifname[IF_NAMESIZE];
	bool here;		/* in this netns and the device exists */
	bool have[TCBPF_NDIR];
	struct tcbpf_cfg cfg[TCBPF_NDIR];
	int hook_seen[TCBPF_NDIR];
};

static int devinfo_cmp(const void *a, const void *b)
{
	const struct devinfo *x = a, *y = b;

	return strcmp(x->ifname, y->ifname);
}

/* Collect the devices of this network namespace, sorted by name. */
static int collect(struct tcbpf *t, struct devinfo **out, int *n)
{
	struct tcbpf_key key, *prev = NULL;
	struct devinfo *devs = NULL, *dv;
	__u64 ns = netns_ino();
	struct tcbpf_cfg cfg;
	char name[IF_NAMESIZE];
	int i, cnt = 0;

	while (bpf_map_get_next_key(t->cfg_fd, prev, &key) == 0) {
		prev = &key;
		/* ifindexes mean something only in their own namespace */
		if (key.dir >= TCBPF_NDIR ||
		    bpf_map_lookup_elem(t->cfg_fd, &key, &cfg) ||
		    cfg.netns_ino != ns)
			continue;
		for (i = 0; i < cnt; i++)
			if (devs[i].ifindex == (int)key.ifindex)
				break;
		if (i == cnt) {
			dv = realloc(devs, (cnt + 1) * sizeof(*devs));
			if (!dv) {
				free(devs);
				return -ENOMEM;
			}
			devs = dv;
			memset(&devs[cnt], 0, sizeof(devs[cnt]));
			devs[cnt].ifindex = key.ifindex;
			cnt++;
		}
		dv = &devs[i];
		dv->have[key.dir] = true;
		dv->cfg[key.dir] = cfg;
		snprintf(dv->ifname, sizeof(dv->ifname), "%s", cfg.ifname);
		dv->here = if_indextoname(key.ifindex, name) &&
			   !strcmp(name, cfg.ifname);
	}
	for (i = 0; i < cnt; i++) {
		int d;

		for (d = 0; d < TCBPF_NDIR; d++)
			devs[i].hook_seen[d] = devs[i].here ?
				hook_query(devs[i].ifindex, d, t->prog_id[d]) :
				TCBPF_HOOK_NONE;
	}
	qsort(devs, cnt, sizeof(*devs), devinfo_cmp);
	*out = devs;
	*n = cnt;
	return 0;
}

static const char *proto_list(char *buf, size_t len, __u8 p)
{
	snprintf(buf, len, "%s%s%s%s%s",
		 p & TCBPF_P_TCP ? "tcp" : "",
		 (p & TCBPF_P_TCP) && (p & (TCBPF_P_UDP | TCBPF_P_SCTP)) ? "," : "",
		 p & TCBPF_P_UDP ? "udp" : "",
		 (p & TCBPF_P_UDP) && (p & TCBPF_P_SCTP) ? "," : "",
		 p & TCBPF_P_SCTP ? "sctp" : "");
	return buf;
}

/* Delay is enforced only where EDT paces the default class. */
static bool delay_enforced(const struct tcbpf_cfg *c)
{
	return c->mode == TCBPF_MODE_EDT && c->delay_ns;
}

static void json_dir(json_writer_t *jw, struct tcbpf *t,
		     const struct devinfo *dv, int dir)
{
	const struct tcbpf_cfg *c = &dv->cfg[dir];
	const struct tcbpf_bucket_cfg *def = &c->cls[TCBPF_CLASS_DEFAULT];
	const struct tcbpf_bucket_cfg *alw = &c->cls[TCBPF_CLASS_ALLOW];
	struct tcbpf_stats st;
	__u32 i;
	int k;

	jw_obj_open(jw, dir_name(dir));
	jw_str(jw, "mode", mode_str(c->mode));
	jw_str(jw, "hook", hook_name(dv->hook_seen[dir]));
	jw_u64(jw, "prog_id", t->prog_id[dir]);
	jw_u64(jw, "rate_bits_per_sec", def->rate_bits_per_sec);
	jw_u64(jw, "burst_bytes", def->burst_bytes);
	jw_u64(jw, "pps", def->pps);
	jw_u64(jw, "pburst_packets", def->pburst_pkts);
	jw_arr_open(jw, "allow");
	for (i = 0; i < c->nports && i < TCBPF_MAX_PORTS; i++) {
		const struct tcbpf_port *p = &c->ports[i];

		jw_obj_open(jw, NULL);
		jw_u64(jw, "port_min", p->lo);
		jw_u64(jw, "port_max", p->hi);
		jw_arr_open(jw, "protocols");
		if (p->protos & TCBPF_P_TCP)
			jw_str(jw, NULL, "tcp");
		if (p->protos & TCBPF_P_UDP)
			jw_str(jw, NULL, "udp");
		if (p->protos & TCBPF_P_SCTP)
			jw_str(jw, NULL, "sctp");
		jw_arr_close(jw);
		jw_obj_close(jw);
	}
	jw_arr_close(jw);
	jw_u64(jw, "allow_rate_bits_per_sec", alw->rate_bits_per_sec);
	jw_u64(jw, "allow_burst_bytes", alw->burst_bytes);
	jw_u64(jw, "delay_ns", c->delay_ns);
	jw_bool(jw, "delay_enforced", delay_enforced(c));
	if (dir == TCBPF_EGRESS)
		jw_str(jw, "qdisc", c->flags & TCBPF_F_OWN_FQ ? "fq" :
		       c->flags & TCBPF_F_NO_FQ ? "unavailable" :
		       c->flags & TCBPF_F_TREE_KEPT ? "kept" : "untouched");
	if (c->mode == TCBPF_MODE_EDT) {
		jw_u64(jw, "horizon_ns", c->horizon_ns);
		jw_u64(jw, "ecn_threshold_ns", c->ecn_ns);
	}
	jw_u64(jw, "slot", c->slot);

	jw_obj_open(jw, "classes");
	if (cfg_read_stats(t, c->slot, &st))
		memset(&st, 0, sizeof(st));
	for (k = 0; k < TCBPF_NCLASS; k++) {
		const struct tcbpf_counters *n = &st.cls[k];

		jw_obj_open(jw, class_names[k]);
		jw_u64(jw, "passed_packets", n->pass_pkts);
		jw_u64(jw, "passed_bytes", n->pass_bytes);
		jw_u64(jw, "dropped_packets", n->drop_pkts);
		jw_u64(jw, "dropped_bytes", n->drop_bytes);
		jw_u64(jw, "marked_packets", n->mark_pkts);
		jw_obj_close(jw);
	}
	jw_obj_close(jw);
	jw_obj_close(jw);
}

static void text_dir(struct tcbpf *t, const struct devinfo *dv, int dir)
{
	const struct tcbpf_cfg *c = &dv->cfg[dir];
	const struct tcbpf_bucket_cfg *def = &c->cls[TCBPF_CLASS_DEFAULT];
	const struct tcbpf_bucket_cfg *alw = &c->cls[TCBPF_CLASS_ALLOW];
	char b1[32], b2[32], b3[32];
	struct tcbpf_stats st;
	__u32 i;
	int k;

	printf("  %-7s %s (%s) rate %s burst %s", dir_name(dir),
	       mode_str(c->mode), dir == TCBPF_INGRESS ? "from VM" : "to VM",
	       fmt_rate(b1, sizeof(b1), def->rate_bits_per_sec),
	       fmt_size(b2, sizeof(b2), def->burst_bytes));
	if (def->pps)
		printf(" pps %llu pburst %llu", (unsigned long long)def->pps,
		       (unsigned long long)def->pburst_pkts);
	if (c->delay_ns)
		printf(" delay %s%s", fmt_time(b3, sizeof(b3), c->delay_ns),
		       delay_enforced(c) ? "" : " (not enforced: needs EDT/fq)");
	if (c->mode == TCBPF_MODE_EDT)
		printf(" latency %s ecn %s",
		       fmt_time(b1, sizeof(b1), c->horizon_ns),
		       c->ecn_ns ? fmt_time(b2, sizeof(b2), c->ecn_ns) : "off");
	if (c->flags & TCBPF_F_NO_FQ)
		printf(" (no fq: pacing unavailable)");
	if (c->flags & TCBPF_F_TREE_KEPT)
		printf(" (root qdisc tree kept: not pacing)");
	printf("\n          allow");
	if (!c->nports)
		printf(" none");
	for (i = 0; i < c->nports && i < TCBPF_MAX_PORTS; i++) {
		const struct tcbpf_port *p = &c->ports[i];

		printf("%s %s/%u", i ? "," : "",
		       proto_list(b3, sizeof(b3), p->protos), p->lo);
		if (p->hi != p->lo)
			printf("-%u", p->hi);
	}
	printf(" rate %s burst %s\n",
	       fmt_rate(b1, sizeof(b1), alw->rate_bits_per_sec),
	       fmt_size(b2, sizeof(b2), alw->burst_bytes));
	if (cfg_read_stats(t, c->slot, &st))
		memset(&st, 0, sizeof(st));
	for (k = 0; k < TCBPF_NCLASS; k++) {
		const struct tcbpf_counters *n = &st.cls[k];

		printf("          %-7s passed %llu pkts %llu bytes, dropped %llu pkts %llu bytes",
		       class_names[k],
		       (unsigned long long)n->pass_pkts,
		       (unsigned long long)n->pass_bytes,
		       (unsigned long long)n->drop_pkts,
		       (unsigned long long)n->drop_bytes);
		if (c->mode == TCBPF_MODE_EDT)
			printf(", marked %llu pkts",
			       (unsigned long long)n->mark_pkts);
		printf("\n");
	}
}

static const char *dev_hook(const struct devinfo *dv)
{
	if (!dv->here)
		return "gone";
	if (dv->hook_seen[0] == dv->hook_seen[1])
		return hook_name(dv->hook_seen[0]);
	return "mixed";
}

int cmd_show(const struct opts *o, const char *dev)
{
	struct devinfo *devs = NULL;
	json_writer_t *jw = NULL;
	struct tcbpf t;
	int i, d, n = 0, shown = 0, err;

	err = tcbpf_open(&t, false);
	if (err == -ENOENT) {
		err = 0;	/* no limiter anywhere */
	} else if (err) {
		pr_warn("cannot open the pinned limiter in %s: %s\n",
			TCBPF_PIN_DIR, strerror(-err));
		return err;
	} else {
		err = collect(&t, &devs, &n);
		if (err)
			goto out;
	}
	if (o->json) {
		jw = jw_new(stdout);
		jw_arr_open(jw, NULL);
	}
	for (i = 0; i < n; i++) {
		struct devinfo *dv = &devs[i];

		if (dev && strcmp(dev, dv->ifname))
			continue;
		shown++;
		if (jw) {
			jw_obj_open(jw, NULL);
			jw_str(jw, "ifname", dv->ifname);
			jw_u64(jw, "ifindex", dv->ifindex);
			jw_str(jw, "hook", dev_hook(dv));
			jw_bool(jw, "attached", dv->here &&
				dv->hook_seen[0] != TCBPF_HOOK_NONE &&
				dv->hook_seen[1] != TCBPF_HOOK_NONE);
			for (d = 0; d < TCBPF_NDIR; d++)
				if (dv->have[d])
					json_dir(jw, &t, dv, d);
			jw_obj_close(jw);
			continue;
		}
		printf("%s (ifindex %d) hook %s\n", dv->ifname, dv->ifindex,
		       dev_hook(dv));
		for (d = 0; d < TCBPF_NDIR; d++)
			if (dv->have[d])
				text_dir(&t, dv, d);
	}
	if (jw) {
		jw_arr_close(jw);
		jw_destroy(&jw);
	}
	if (dev && !shown) {
		pr_warn("%s has no limiter\n", dev);
		err = -ENOENT;
	}
out:
	free(devs);
	if (n || err != -ENOENT)
		tcbpf_close(&t);
	return err;
}

int cmd_list(const struct opts *o)
{
	struct devinfo *devs = NULL;
	json_writer_t *jw = NULL;
	struct tcbpf t;
	int i, n = 0, err;

	err = tcbpf_open(&t, false);
	if (!err) {
		err = collect(&t, &devs, &n);
		tcbpf_close(&t);
		if (err)
			return err;
	} else if (err != -ENOENT) {
		pr_warn("cannot open the pinned limiter in %s: %s\n",
			TCBPF_PIN_DIR, strerror(-err));
		return err;
	}
	if (o->json) {
		jw = jw_new(stdout);
		jw_arr_open(jw, NULL);
	}
	for (i = 0; i < n; i++) {
		if (jw) {
			jw_obj_open(jw, NULL);
			jw_str(jw, "ifname", devs[i].ifname);
			jw_u64(jw, "ifindex", devs[i].ifindex);
			jw_str(jw, "hook", dev_hook(&devs[i]));
			jw_obj_close(jw);
		} else {
			printf("%s\n", devs[i].ifname);
		}
	}
	if (jw) {
		jw_arr_close(jw);
		jw_destroy(&jw);
	}
	free(devs);
	return 0;
}
