// SPDX-License-Identifier: GPL-2.0-only
/*
 * netid.c - `tcbpf attach|change|detach|show net NETID [SPEC]`: one command
 * over every interface of a network on this host, reported per device.
 *
 * attach and change are all or nothing: each device's settings are
 * snapshotted before it is touched, and when one device fails, the ones
 * done before it get their snapshot back (detached if they had no
 * limiter), the ones after it are not attempted. detach goes on past a
 * failure (there is nothing better to go back to) and says which failed.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "lib/netid.h"
#include "lib/stats.h"
#include "lib/cfg.h"
#include "kern/obj.h"
#include "util/json.h"
#include "util/log.h"

int netid_parse(const char *s, unsigned long long *id)
{
	unsigned long long v = 0;
	const char *p = s;

	if (!strncasecmp(p, "0x", 2))
		p += 2;
	if (!*p || strlen(p) > 15)
		return -EINVAL;
	for (; *p; p++) {
		if (!isxdigit((unsigned char)*p))
			return -EINVAL;
		v = v * 16 + (isdigit((unsigned char)*p) ? *p - '0' :
			      tolower((unsigned char)*p) - 'a' + 10);
	}
	*id = v;
	return 0;
}

bool netid_match(const char *ifname, unsigned long long id)
{
	char hex[NETID_LEN];
	unsigned long long v;

	netid_of_name(ifname, hex, sizeof(hex));
	return hex[0] && !netid_parse(hex, &v) && v == id;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int netid_devices(unsigned long long id, char (**names)[IF_NAMESIZE], int *n)
{
	struct if_nameindex *ifs, *i;
	char (*v)[IF_NAMESIZE] = NULL, (*nv)[IF_NAMESIZE];
	int cnt = 0;

	ifs = if_nameindex();
	if (!ifs)
		return -errno;
	for (i = ifs; i->if_index; i++) {
		if (!netid_match(i->if_name, id))
			continue;
		nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv) {
			free(v);
			if_freenameindex(ifs);
			return -ENOMEM;
		}
		v = nv;
		snprintf(v[cnt++], IF_NAMESIZE, "%s", i->if_name);
	}
	if_freenameindex(ifs);
	qsort(v, cnt, sizeof(*v), name_cmp);
	*names = v;
	*n = cnt;
	return 0;
}

/* ------------------------------------------------------ snapshot/restore */

int dev_snapshot(const char *name, struct dev_snap *s)
{
	struct tcbpf t;
	__u64 ns = netns_ino();
	int dir, err;

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->ifindex = if_nametoindex(name);
	if (!s->ifindex)
		return -ENODEV;
	err = tcbpf_open(&t, false);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		struct tcbpf_key key = { .ifindex = s->ifindex, .dir = dir };

		if (!bpf_map_lookup_elem(t.cfg_fd, &key, &s->cfg[dir]) &&
		    s->cfg[dir].netns_ino == ns)
			s->have[dir] = true;
	}
	tcbpf_close(&t);
	return 0;
}

void spec_from_cfg(struct spec *s, const struct tcbpf_cfg cfg[TCBPF_NDIR])
{
	int dir;

	memset(s, 0, sizeof(*s));
	s->hook = TCBPF_HOOK_NONE;	/* keep the hook the device has */
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		struct spec_dir *d = &s->dir[dir];

		cfg_to_spec(d, &cfg[dir]);
		d->set |= SPEC_RATE | SPEC_BURST | SPEC_PPS | SPEC_PBURST |
			  SPEC_ALLOW | SPEC_ALLOW_RATE | SPEC_ALLOW_BURST |
			  SPEC_MODE | SPEC_DELAY;
		/*
		 * Pacing that fell back to policing for want of fq: leave mode
		 * and delay to attach's defaults (pace, else police), or attach
		 * would insist on pacing and fail.
		 */
		if (cfg[dir].flags & (TCBPF_F_NO_FQ | TCBPF_F_TREE_KEPT))
			d->set &= ~(SPEC_MODE | SPEC_DELAY);
		/* A delay police or monitor does not enforce cannot be given
		 * (spec_validate refuses it): attach's default stands in, so
		 * only a non-default delay, unenforced anyway, is lost. */
		else if (d->mode != TCBPF_MODE_EDT && d->delay)
			d->set &= ~SPEC_DELAY;
	}
}

int dev_restore(const struct opts *o, const struct dev_snap *s)
{
	struct opts q = *o;
	struct spec sp;
	struct tcbpf_cfg cfg[TCBPF_NDIR];
	int dir;

	q.json = true;		/* the commands' own "done" lines: ours instead */
	if (!s->have[TCBPF_INGRESS] && !s->have[TCBPF_EGRESS])
		return cmd_detach(&q, s->name);
	for (dir = 0; dir < TCBPF_NDIR; dir++) {
		cfg[dir] = s->cfg[s->have[dir] ? dir : !dir];
		if (!s->have[dir])	/* half a limiter: never made by tcbpf */
			cfg[dir].mode = TCBPF_MODE_MONITOR;
	}
	spec_from_cfg(&sp, cfg);
	return cmd_attach(&q, s->name, &sp);
}

/* ---------------------------------------------------------------- net ops */

enum result {
	R_DONE,
	R_NOOP,		/* detach/change: the device had no limiter */
	R_FAILED,
	R_ROLLED_BACK,
	R_ROLLBACK_FAILED,
	R_NOT_ATTEMPTED,
};

static const char *const result_name[] = {
	[R_DONE] = "done",
	[R_NOOP] = "no-limiter",
	[R_FAILED] = "failed",
	[R_ROLLED_BACK] = "rolled-back",
	[R_ROLLBACK_FAILED] = "rollback-failed",
	[R_NOT_ATTEMPTED] = "not-attempted",
};

struct net_dev {
	char name[IF_NAMESIZE];
	struct dev_snap snap;
	enum result res;
	int err;
};

static const char *result_text(const char *op, const struct net_dev *d,
			       char *buf, size_t len)
{
	switch (d->res) {
	case R_DONE:
		snprintf(buf, len, "%s", !strcmp(op, "attach") ? "attached" :
			 !strcmp(op, "change") ? "changed" : "detached");
		break;
	case R_NOOP:
		snprintf(buf, len, "no limiter%s", !strcmp(op, "change") ?
			 ", skipped" : "");
		break;
	case R_FAILED:
		snprintf(buf, len, "FAILED: %s", strerror(-d->err));
		break;
	case R_ROLLED_BACK:
		snprintf(buf, len, "rolled back (%s)",
			 d->snap.have[0] || d->snap.have[1] ?
			 "previous settings restored" : "detached again");
		break;
	case R_ROLLBACK_FAILED:
		snprintf(buf, len, "ROLLBACK FAILED: %s", strerror(-d->err));
		break;
	case R_NOT_ATTEMPTED:
		snprintf(buf, len, "not attempted");
		break;
	}
	return buf;
}

static void report(const struct opts *o, const char *op,
		   const struct net_dev *devs, int n)
{
	json_writer_t *jw;
	char buf[128];
	int i;

	if (!o->json) {
		for (i = 0; i < n; i++)
			printf("%s: %s\n", devs[i].name,
			       result_text(op, &devs[i], buf, sizeof(buf)));
		fflush(stdout);
		return;
	}
	jw = jw_new(stdout);
	if (!jw)
		return;
	jw_arr_open(jw, NULL);
	for (i = 0; i < n; i++) {
		const struct net_dev *d = &devs[i];
		char hex[NETID_LEN];

		netid_of_name(d->name, hex, sizeof(hex));
		jw_obj_open(jw, NULL);
		jw_str(jw, "ifname", d->name);
		jw_u64(jw, "ifindex", d->snap.ifindex);
		jw_str(jw, "netid", hex);
		jw_str(jw, "action", op);
		jw_str(jw, "result", result_name[d->res]);
		jw_bool(jw, "had_limiter", d->snap.have[0] || d->snap.have[1]);
		if (d->res == R_FAILED || d->res == R_ROLLBACK_FAILED)
			jw_str(jw, "error", strerror(-d->err));
		jw_obj_close(jw);
	}
	jw_arr_close(jw);
	jw_destroy(&jw);
}

/* Undo devs[0..upto) that were done, newest first. */
static void rollback(const struct opts *o, struct net_dev *devs, int upto)
{
	int err;

	while (upto-- > 0) {
		struct net_dev *d = &devs[upto];

		if (d->res != R_DONE)
			continue;
		err = dev_restore(o, &d->snap);
		d->res = err ? R_ROLLBACK_FAILED : R_ROLLED_BACK;
		d->err = err;
		if (err)
			pr_warn("%s: cannot roll back: %s\n", d->name,
				strerror(-err));
	}
}

static bool has_limiter(const struct dev_snap *s)
{
	return s->have[TCBPF_INGRESS] || s->have[TCBPF_EGRESS];
}

static int net_apply(const struct opts *o, const char *op,
		     const struct spec *s, struct net_dev *devs, int n)
{
	struct opts q = *o;
	int i, j, err, ret = 0;

	q.json = true;	/* quiet: one report at the end */
	for (i = 0; i < n; i++) {
		struct net_dev *d = &devs[i];

		err = dev_snapshot(d->name, &d->snap);
		if (!err) {
			if (!strcmp(op, "attach")) {
				err = cmd_attach(&q, d->name, s);
			} else if (!has_limiter(&d->snap)) {
				d->res = R_NOOP;
				continue;
			} else if (!strcmp(op, "change")) {
				err = cmd_change(&q, d->name, s);
			} else {
				err = cmd_detach(&q, d->name);
			}
		}
		d->res = err ? R_FAILED : R_DONE;
		d->err = err;
		if (!err)
			continue;
		ret = err;
		if (!strcmp(op, "detach"))
			continue;	/* detach the rest all the same */
		rollback(o, devs, i);
		for (j = i + 1; j < n; j++)
			devs[j].res = R_NOT_ATTEMPTED;
		break;
	}
	return ret;
}

/* Each device's `show -j` array, merged into one. */
static int net_show_json(const struct opts *o, struct net_dev *devs, int n)
{
	char *buf = NULL;
	size_t len = 0;
	int i, out, err = 0;
	bool first = true;
	FILE *tmp;

	fflush(stdout);
	printf("[");
	for (i = 0; i < n; i++) {
		struct net_dev *d = &devs[i];

		if (!has_limiter(&d->snap)) {
			printf("%s{\"ifname\":\"%s\",\"ifindex\":%d,\"hook\":\"none\","
			       "\"attached\":false}", first ? "" : ",", d->name,
			       d->snap.ifindex);
			first = false;
			continue;
		}
		tmp = tmpfile();
		if (!tmp)
			return -errno;
		fflush(stdout);
		out = dup(STDOUT_FILENO);
		dup2(fileno(tmp), STDOUT_FILENO);
		err = cmd_show(o, d->name);
		fflush(stdout);
		dup2(out, STDOUT_FILENO);
		close(out);
		rewind(tmp);
		len = 0;
		if (getdelim(&buf, &len, '\0', tmp) < 0 || err) {
			fclose(tmp);
			err = err ? err : -EIO;
			break;
		}
		fclose(tmp);
		/* "[{...}]\n" -> "{...}" */
		len = strlen(buf);
		while (len && (buf[len - 1] == '\n' || buf[len - 1] == ']'))
			buf[--len] = '\0';
		if (len > 1) {
			printf("%s%s", first ? "" : ",", buf + 1);
			first = false;
		}
	}
	printf("]\n");
	fflush(stdout);
	free(buf);
	return err;
}

static int net_show(const struct opts *o, struct net_dev *devs, int n)
{
	int i, err, ret = 0;

	for (i = 0; i < n; i++) {
		err = dev_snapshot(devs[i].name, &devs[i].snap);
		if (err)
			return err;
	}
	if (o->json)
		return net_show_json(o, devs, n);
	for (i = 0; i < n; i++) {
		if (!has_limiter(&devs[i].snap)) {
			printf("%s (ifindex %d) no limiter\n", devs[i].name,
			       devs[i].snap.ifindex);
			continue;
		}
		fflush(stdout);
		err = cmd_show(o, devs[i].name);
		if (err)
			ret = err;
	}
	return ret;
}

int cmd_net(const struct opts *o, const char *op, int argc, char **argv)
{
	char (*names)[IF_NAMESIZE] = NULL;
	unsigned long long id;
	struct net_dev *devs;
	struct spec s;
	char err_buf[256];
	int i, n, err;

	if (argc < 1 || netid_parse(argv[0], &id)) {
		pr_warn("%s net: Illegal network id \"%s\": want hex, e.g. 01a2\n",
			op, argc ? argv[0] : "");
		return -EUSAGE;
	}
	if (!strcmp(op, "attach") || !strcmp(op, "change")) {
		if (!strcmp(op, "change") && argc < 2) {
			pr_warn("change net %s needs a SPEC of what to change\n",
				argv[0]);
			return -EUSAGE;
		}
		if (spec_parse(&s, argc - 1, argv + 1, err_buf, sizeof(err_buf))) {
			pr_warn("%s\n", err_buf);
			return -EUSAGE;
		}
	} else if (argc > 1) {
		pr_warn("%s net %s: what is \"%s\"?\n", op, argv[0], argv[1]);
		return -EUSAGE;
	}
	err = netid_devices(id, &names, &n);
	if (err) {
		pr_warn("cannot list interfaces: %s\n", strerror(-err));
		return err;
	}
	if (!n) {
		pr_warn("no interface of network %llx (vm-*-%04llx, vx-%04llx, "
			"spc-%04llx, pub-%04llx) in this namespace\n", id, id, id,
			id, id);
		free(names);
		return -ENODEV;
	}
	devs = calloc(n, sizeof(*devs));
	if (!devs) {
		free(names);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		snprintf(devs[i].name, sizeof(devs[i].name), "%s", names[i]);
	free(names);

	if (!strcmp(op, "show")) {
		err = net_show(o, devs, n);
		free(devs);
		return err;
	}
	err = net_apply(o, op, &s, devs, n);
	report(o, op, devs, n);
	if (!err && !strcmp(op, "change")) {
		for (i = 0; i < n && devs[i].res == R_NOOP; i++)
			;
		if (i == n) {
			pr_warn("change net %s: no interface of it has a limiter\n",
				argv[0]);
			err = -ENOENT;
		}
	}
	free(devs);
	return err;
}
