// SPDX-License-Identifier: GPL-2.0-only
/*
 * dev.c - attach, change, detach, show and list, for one device or for
 * "net NETID" (every interface of a network, one group under one lock).
 *
 * Parsing and printing only: the work is the limiter library's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/print.h"
#include "lib/cfg.h"
#include "lib/names.h"
#include "lib/netid.h"
#include "util/log.h"

/* --------------------------------------------------------------- show */

/* Delay is enforced only where EDT paces the default class. */
static bool delay_enforced(const struct tcbpf_cfg *c)
{
	return c->mode == TCBPF_MODE_EDT && c->delay_ns;
}

static const char *dev_hook(const struct dev_sample *d)
{
	if (!d->here)
		return "gone";
	if (d->hook_seen[0] == d->hook_seen[1])
		return hook_name(d->hook_seen[0]);
	return "mixed";
}

static void show_allow(const struct tcbpf_cfg *c)
{
	char protos[32];
	__u32 i;

	print_text("\n          allow");
	if (!c->nports)
		print_text(" none");
	print_open_array("allow");
	for (i = 0; i < c->nports && i < TCBPF_MAX_PORTS; i++) {
		const struct tcbpf_port *p = &c->ports[i];

		print_open_object(NULL);
		print_text("%s %s/", i ? "," : "",
			   proto_list(protos, sizeof(protos), p->protos));
		print_u64(PRINT_ANY, "port_min", "%llu", p->lo);
		print_u64(PRINT_JSON, "port_max", NULL, p->hi);
		if (p->hi != p->lo)
			print_text("-%u", p->hi);
		print_open_array("protocols");
		if (p->protos & TCBPF_P_TCP)
			print_string(PRINT_JSON, NULL, NULL, "tcp");
		if (p->protos & TCBPF_P_UDP)
			print_string(PRINT_JSON, NULL, NULL, "udp");
		if (p->protos & TCBPF_P_SCTP)
			print_string(PRINT_JSON, NULL, NULL, "sctp");
		print_close_array();
		print_close_object();
	}
	print_close_array();
}

static void show_counters(const struct tcbpf_cfg *c, const struct tcbpf_stats *st)
{
	int k;

	print_open_object("classes");
	for (k = 0; k < TCBPF_NCLASS; k++) {
		const struct tcbpf_counters *n = &st->cls[k];

		print_open_object(class_name(k));
		print_text("          %-7s", class_name(k));
		print_u64(PRINT_ANY, "passed_packets", " passed %llu pkts", n->pass_pkts);
		print_u64(PRINT_ANY, "passed_bytes", " %llu bytes", n->pass_bytes);
		print_u64(PRINT_ANY, "dropped_packets", ", dropped %llu pkts",
			  n->drop_pkts);
		print_u64(PRINT_ANY, "dropped_bytes", " %llu bytes", n->drop_bytes);
		print_u64(c->mode == TCBPF_MODE_EDT ? PRINT_ANY : PRINT_JSON,
			  "marked_packets", ", marked %llu pkts", n->mark_pkts);
		/* passed all the same: what the SPEC would have dropped */
		print_u64(c->mode == TCBPF_MODE_MONITOR ? PRINT_ANY : PRINT_JSON,
			  "would_drop_packets", ", would drop %llu pkts",
			  n->wdrop_pkts);
		print_u64(c->mode == TCBPF_MODE_MONITOR ? PRINT_ANY : PRINT_JSON,
			  "would_drop_bytes", " %llu bytes", n->wdrop_bytes);
		print_text("\n");
		print_close_object();
	}
	print_close_object();
}

/* A policer's burst too short for TCP: said in text, a flag in JSON. */
static void short_burst(const struct tcbpf_cfg *c, int cls, const char *key)
{
	bool is = cfg_tcp_burst_short(c, cls);

	print_bool(PRINT_JSON, key, NULL, is);
	if (is)
		print_text(" (short for TCP)");
}

static void show_dir(const struct dev_sample *d, int dir)
{
	const struct tcbpf_cfg *c = &d->cfg[dir];
	const struct tcbpf_bucket_cfg *def = &c->cls[TCBPF_CLASS_DEFAULT];
	const struct tcbpf_bucket_cfg *alw = &c->cls[TCBPF_CLASS_ALLOW];
	bool edt = c->mode == TCBPF_MODE_EDT;

	print_open_object(dir_name(dir));
	print_text("  %-7s", dir_name(dir));
	print_string(PRINT_ANY, "mode", " %s", mode_name(c->mode));
	print_text(" (%s)", dir_side(dir));
	print_string(PRINT_JSON, "hook", NULL, hook_name(d->hook_seen[dir]));
	print_u64(PRINT_JSON, "prog_id", NULL, d->prog_id[dir]);
	print_rate(PRINT_ANY, "rate_bits_per_sec", " rate %s", def->rate_bits_per_sec);
	print_size(PRINT_ANY, "burst_bytes", " burst %s", def->burst_bytes);
	short_burst(c, TCBPF_CLASS_DEFAULT, "tcp_burst_short");
	print_u64(def->pps ? PRINT_ANY : PRINT_JSON, "pps", " pps %llu", def->pps);
	print_u64(def->pps ? PRINT_ANY : PRINT_JSON, "pburst_packets",
		  " pburst %llu", def->pburst_pkts);
	print_time(c->delay_ns ? PRINT_ANY : PRINT_JSON, "delay_ns", " delay %s",
		   c->delay_ns);
	print_bool(PRINT_JSON, "delay_enforced", NULL, delay_enforced(c));
	if (c->delay_ns && !delay_enforced(c))
		print_text(" (not enforced: needs EDT/fq)");
	if (dir == TCBPF_EGRESS)
		print_string(PRINT_JSON, "qdisc", NULL, qdisc_state_name(c->flags));
	if (edt) {
		print_time(PRINT_ANY, "horizon_ns", " latency %s", c->horizon_ns);
		if (c->ecn_ns)
			print_time(PRINT_ANY, "ecn_threshold_ns", " ecn %s", c->ecn_ns);
		else
			print_u64(PRINT_JSON, "ecn_threshold_ns", NULL, 0);
		if (!c->ecn_ns)
			print_text(" ecn off");
	}
	if (c->flags & TCBPF_F_NO_IFB)
		print_text(" (no ifb pacing here: policing)");
	else if (c->flags & TCBPF_F_NO_FQ)
		print_text(" (no fq: pacing unavailable)");
	if (dir == TCBPF_INGRESS && c->mode == TCBPF_MODE_EDT) {
		print_u64(PRINT_JSON, "pace_ifindex", NULL, c->pace_ifindex);
		print_text(" (paced through " TCBPF_PACE_IFNAME ")");
	}
	if (c->flags & TCBPF_F_TREE_KEPT)
		print_text(" (root qdisc tree kept: not pacing)");
	show_allow(c);
	print_rate(PRINT_ANY, "allow_rate_bits_per_sec", " rate %s",
		   alw->rate_bits_per_sec);
	print_size(PRINT_ANY, "allow_burst_bytes", " burst %s", alw->burst_bytes);
	short_burst(c, TCBPF_CLASS_ALLOW, "allow_tcp_burst_short");
	print_text("\n");
	print_u64(PRINT_JSON, "id", NULL, c->id);
	show_counters(c, &d->st[dir]);
	print_close_object();
}

/* A VXLAN underlay: its port and what each network carried. */
static void show_vnis(const struct dev_sample *d)
{
	const struct tcbpf_cfg *c = &d->cfg[d->have[0] ? 0 : 1];
	char vn[16];
	int i, dir;

	if (!(c->flags & TCBPF_F_VXLAN))
		return;
	print_open_object("vxlan");
	print_u64(PRINT_ANY, "port", "    vxlan port %llu", c->vxlan_port);
	print_u64(PRINT_ANY, "count", ", %llu networks\n", d->nvni);
	print_open_array("networks");
	for (i = 0; i < d->nvni; i++) {
		const struct vni_count *v = &d->vnis[i];

		vni_name(v->vni, vn, sizeof(vn));
		print_open_object(NULL);
		print_string(PRINT_ANY, "netid", "      vni %s", vn);
		print_bool(PRINT_JSON, "limited", NULL, v->limited);
		if (v->limited)
			print_string(PRINT_ANY, "mode", " (own limit, %s)",
				     mode_name(v->mode[TCBPF_INGRESS]));
		for (dir = 0; dir < TCBPF_NDIR; dir++) {
			const struct tcbpf_vni_dir *n = &v->c.dir[dir];

			print_open_object(dir_name(dir));
			print_text(" %s", dir_name(dir));
			print_u64(PRINT_ANY, "passed_packets", " %llu pkts",
				  n->pass_pkts);
			print_u64(PRINT_ANY, "passed_bytes", " %llu bytes",
				  n->pass_bytes);
			print_u64(PRINT_ANY, "dropped_packets", " dropped %llu",
				  n->drop_pkts);
			print_u64(PRINT_JSON, "dropped_bytes", NULL, n->drop_bytes);
			print_close_object();
		}
		print_text("\n");
		print_close_object();
	}
	print_close_array();
	print_close_object();
}

static void show_dev(const struct dev_sample *d)
{
	int dir;

	print_open_object(NULL);
	print_string(PRINT_ANY, "ifname", "%s", d->ifname);
	print_u64(PRINT_ANY, "ifindex", " (ifindex %llu)", d->ifindex);
	if (!sample_has_limiter(d)) {	/* net show: a device without */
		print_string(PRINT_JSON, "hook", NULL, "none");
		print_bool(PRINT_JSON, "attached", NULL, false);
		print_text(" no limiter\n");
		print_close_object();
		return;
	}
	print_string(PRINT_ANY, "hook", " hook %s\n", dev_hook(d));
	print_bool(PRINT_JSON, "attached", NULL, d->here &&
		   d->hook_seen[0] != TCBPF_HOOK_NONE &&
		   d->hook_seen[1] != TCBPF_HOOK_NONE);
	for (dir = 0; dir < TCBPF_NDIR; dir++)
		if (d->have[dir])
			show_dir(d, dir);
	show_vnis(d);
	print_close_object();
}

/* --------------------------------------------------------------- net */

/* "net NETID": argv[0] is "net". */
static bool is_net(int argc, char **argv)
{
	return argc >= 1 && !strcmp(argv[0], "net");
}

/* The interfaces of network argv[1] as a group of items for lim_apply. */
static int net_items(const char *op, const char *netid, struct lim_item **out,
		     int *n)
{
	char (*names)[IF_NAMESIZE] = NULL;
	unsigned long long id;
	struct lim_item *items;
	int i, err;

	if (netid_parse(netid, &id))
		return usage_error("%s net: Illegal network id \"%s\": want hex, "
				   "e.g. 01a2", op, netid);
	err = netid_devices(id, &names, n);
	if (err) {
		pr_warn("cannot list interfaces: %s\n", strerror(-err));
		return err;
	}
	if (!*n) {
		pr_warn("no interface of network %llx (vm-*-%04llx, vx-%04llx, "
			"spc-%04llx, pub-%04llx) in this namespace\n", id, id, id,
			id, id);
		free(names);
		return -ENODEV;
	}
	items = calloc(*n, sizeof(*items));
	if (!items) {
		free(names);
		return -ENOMEM;
	}
	for (i = 0; i < *n; i++)
		snprintf(items[i].name, sizeof(items[i].name), "%s", names[i]);
	free(names);
	*out = items;
	return 0;
}

static const char *result_text(enum lim_op op, const struct lim_item *it,
			       char *buf, size_t len)
{
	static const char *const done[] = {
		[LIM_ATTACH] = "attached", [LIM_CHANGE] = "changed",
		[LIM_DETACH] = "detached",
	};

	switch (it->res) {
	case LIM_DONE:
		return done[op];
	case LIM_NOOP:
		return op == LIM_CHANGE ? "no limiter, skipped" : "no limiter";
	case LIM_FAILED:
		snprintf(buf, len, "FAILED: %s", strerror(-it->err));
		return buf;
	case LIM_ROLLED_BACK:
		return lim_snap_has(&it->snap) ? "rolled back (previous settings "
		       "restored)" : "rolled back (detached again)";
	case LIM_ROLLBACK_FAILED:
		snprintf(buf, len, "ROLLBACK FAILED: %s", strerror(-it->err));
		return buf;
	case LIM_NOT_ATTEMPTED:
		break;
	}
	return "not attempted";
}

static void net_report(const struct opts *o, const char *op, enum lim_op lop,
		       const struct lim_item *items, int n)
{
	char buf[128], hex[NETID_LEN];
	int i;

	for (i = 0; i < n; i++)
		if (items[i].res == LIM_FAILED || items[i].res == LIM_ROLLBACK_FAILED)
			pr_warn("%s\n", items[i].msg);
	print_start(o->json);
	print_open_array(NULL);
	for (i = 0; i < n; i++) {
		const struct lim_item *it = &items[i];
		bool failed = it->res == LIM_FAILED ||
			      it->res == LIM_ROLLBACK_FAILED;

		netid_of_name(it->name, hex, sizeof(hex));
		print_open_object(NULL);
		print_string(PRINT_ANY, "ifname", "%s: ", it->name);
		print_u64(PRINT_JSON, "ifindex", NULL, it->snap.ifindex);
		print_string(PRINT_JSON, "netid", NULL, hex);
		print_string(PRINT_JSON, "action", NULL, op);
		print_string(PRINT_JSON, "result", NULL, lim_result_name(it->res));
		print_bool(PRINT_JSON, "had_limiter", NULL, lim_snap_has(&it->snap));
		if (failed) {
			print_string(PRINT_JSON, "error", NULL, strerror(-it->err));
			print_string(PRINT_JSON, "message", NULL, it->msg);
		}
		print_text("%s\n", result_text(lop, it, buf, sizeof(buf)));
		print_close_object();
	}
	print_close_array();
	print_end();
}

static int net_op(const struct opts *o, const char *op, enum lim_op lop,
		  int argc, char **argv)
{
	struct lim_item *items = NULL;
	struct spec s;
	struct lim *l;
	char err_buf[256];
	int i, n, err;

	if (argc < 1)
		return usage_error("%s net needs a network id", op);
	if (lop == LIM_DETACH && argc > 1)
		return usage_error("%s net %s: what is \"%s\"?", op, argv[0], argv[1]);
	if (lop == LIM_CHANGE && argc < 2)
		return usage_error("change net %s needs a SPEC of what to change",
				   argv[0]);
	if (lop != LIM_DETACH &&
	    spec_parse(&s, argc - 1, argv + 1, err_buf, sizeof(err_buf)))
		return usage_error("%s", err_buf);
	err = net_items(op, argv[0], &items, &n);
	if (err)
		return err;
	l = cli_lim(o);
	if (!l) {
		free(items);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		items[i].op = lop;
		items[i].spec = &s;
	}
	err = lim_apply(l, items, n);
	net_report(o, op, lop, items, n);
	if (!err && lop == LIM_CHANGE) {
		for (i = 0; i < n && items[i].res == LIM_NOOP; i++)
			;
		if (i == n) {
			pr_warn("change net %s: no interface of it has a limiter\n",
				argv[0]);
			err = -ENOENT;
		}
	}
	lim_close(l);
	free(items);
	return err;
}

static int net_show(const struct opts *o, int argc, char **argv)
{
	struct lim_item *items = NULL;
	struct sample_set set;
	struct lim *l;
	int i, n, err;

	if (argc != 1)
		return usage_error(argc ? "show net %s: what is \"%s\"?" :
				   "show net needs a network id%s%s",
				   argc ? argv[0] : "", argc > 1 ? argv[1] : "");
	err = net_items("show", argv[0], &items, &n);
	if (err)
		return err;
	l = cli_lim(o);
	err = l ? lim_show(l, NULL, &set) : -ENOMEM;
	if (err) {
		err = cli_fail(l, err);
		goto out;
	}
	print_start(o->json);
	print_open_array(NULL);
	for (i = 0; i < n; i++) {
		const struct dev_sample *d = sample_by_name(&set, items[i].name);
		struct dev_sample none = {};

		if (!d) {
			snprintf(none.ifname, sizeof(none.ifname), "%s", items[i].name);
			none.ifindex = if_nametoindex(items[i].name);
			d = &none;
		}
		show_dev(d);
	}
	print_close_array();
	print_end();
	sample_free(&set);
out:
	lim_close(l);
	free(items);
	return err;
}

/* ------------------------------------------------------------ commands */

static int parse_spec(struct spec *s, int argc, char **argv)
{
	char err[256];

	if (spec_parse(s, argc, argv, err, sizeof(err)))
		return usage_error("%s", err);
	return 0;
}

/*
 * "reason TEXT" among the SPEC words is for the record, not the SPEC:
 * take it out (argv is compacted in place). -EUSAGE when it has no text
 * or comes twice.
 */
static int take_reason(int *argc, char **argv, const char **reason)
{
	int i, j;

	*reason = NULL;
	for (i = j = 0; i < *argc; i++) {
		if (strcmp(argv[i], "reason")) {
			argv[j++] = argv[i];
			continue;
		}
		if (i + 1 >= *argc)
			return usage_error("\"reason\" needs a text");
		if (*reason)
			return usage_error("\"reason\" given twice");
		*reason = argv[++i];
	}
	*argc = j;
	return 0;
}

/* attach DEV [SPEC] [reason TEXT] / change DEV SPEC [reason TEXT] */
static int set_dev(const struct opts *o, enum lim_op op, int argc, char **argv)
{
	static const char *const done[] = {
		[LIM_ATTACH] = "attached", [LIM_CHANGE] = "changed",
	};
	const char *cmd = op == LIM_ATTACH ? "attach" : "change";
	const char *reason;
	struct spec s;
	struct lim *l;
	int err;

	if (is_net(argc, argv))
		return net_op(o, cmd, op, argc - 1, argv + 1);
	if (argc < 1)
		return usage_error("%s needs a device", cmd);
	argc--;
	argv++;
	err = take_reason(&argc, argv, &reason);
	if (err)
		return err;
	if (op == LIM_CHANGE && argc < 1)
		return usage_error("change %s needs a SPEC of what to change",
				   argv[-1]);
	err = parse_spec(&s, argc, argv);
	if (err)
		return err;
	argv--;
	l = cli_lim(o);
	if (!l)
		return -ENOMEM;
	lim_set_reason(l, reason);
	err = op == LIM_ATTACH ? lim_attach(l, argv[0], &s) :
				 lim_change(l, argv[0], &s);
	if (err)
		err = cli_fail(l, err);
	else if (!o->json)
		cli_info("%s: limiter %s\n", argv[0], done[op]);
	lim_close(l);
	return err;
}

int cmd_attach(const struct opts *o, int argc, char **argv)
{
	return set_dev(o, LIM_ATTACH, argc, argv);
}

int cmd_change(const struct opts *o, int argc, char **argv)
{
	return set_dev(o, LIM_CHANGE, argc, argv);
}

/* "detach DEV vni HEX": one VXLAN network's limit only. */
static int detach_vni(const struct opts *o, const char *dev, const char *hex)
{
	unsigned long vni;
	char msg[256], *end;
	int err;

	errno = 0;
	vni = strtoul(hex, &end, 16);
	if (errno || !*hex || *end || *hex == '-' || vni > 0xffffff)
		return usage_error("detach %s vni \"%s\": want a VXLAN network "
				   "id in hex, 0 to ffffff", dev, hex);
	err = vni_detach(dev, vni, msg, sizeof(msg));
	if (err) {
		pr_warn("%s\n", msg);
		return err;
	}
	if (!o->json)
		cli_info("%s vni %s: limit removed\n", dev, hex);
	return 0;
}

int cmd_detach(const struct opts *o, int argc, char **argv)
{
	struct lim *l;
	bool had;
	int err;

	if (is_net(argc, argv))
		return net_op(o, "detach", LIM_DETACH, argc - 1, argv + 1);
	if (argc == 3 && !strcmp(argv[1], "vni"))
		return detach_vni(o, argv[0], argv[2]);
	if (argc != 1)
		return usage_error("%s", argc ? "detach takes one device"
					      : "detach needs a device");
	l = cli_lim(o);
	if (!l)
		return -ENOMEM;
	err = lim_detach(l, argv[0], &had);
	if (err)
		err = cli_fail(l, err);
	else if (!o->json)
		cli_info("%s: %s\n", argv[0], had ? "limiter detached" : "no limiter");
	lim_close(l);
	return err;
}

int cmd_show(const struct opts *o, int argc, char **argv)
{
	const char *dev = argc ? argv[0] : NULL;
	struct sample_set set;
	char msg[256];
	struct lim *l;
	int i, err;

	if (is_net(argc, argv))
		return net_show(o, argc - 1, argv + 1);
	if (argc > 1)
		return usage_error("show takes at most one device, not \"%s\"",
				   argv[1]);
	if (dev && dev_name_check(dev, msg, sizeof(msg)))
		return usage_error("%s", msg);
	l = cli_lim(o);
	if (!l)
		return -ENOMEM;
	err = lim_show(l, dev, &set);
	if (err) {
		err = cli_fail(l, err);
		goto out;
	}
	print_start(o->json);
	print_open_array(NULL);
	for (i = 0; i < set.n; i++)
		if (!dev || !strcmp(dev, set.devs[i].ifname))
			show_dev(&set.devs[i]);
	print_close_array();
	print_end();
	sample_free(&set);
out:
	lim_close(l);
	return err;
}

int cmd_list(const struct opts *o, int argc, char **argv)
{
	struct sample_set set;
	struct lim *l;
	int i, err;

	if (argc)
		return usage_error("list takes no arguments, not \"%s\"", argv[0]);
	l = cli_lim(o);
	if (!l)
		return -ENOMEM;
	err = lim_show(l, NULL, &set);
	if (err) {
		err = cli_fail(l, err);
		goto out;
	}
	print_start(o->json);
	print_open_array(NULL);
	for (i = 0; i < set.n; i++) {
		print_open_object(NULL);
		print_string(PRINT_ANY, "ifname", "%s\n", set.devs[i].ifname);
		print_u64(PRINT_JSON, "ifindex", NULL, set.devs[i].ifindex);
		print_string(PRINT_JSON, "hook", NULL, dev_hook(&set.devs[i]));
		print_close_object();
	}
	print_close_array();
	print_end();
	sample_free(&set);
out:
	lim_close(l);
	return err;
}
