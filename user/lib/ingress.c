// SPDX-License-Identifier: GPL-2.0-only
/* ingress.c - see ingress.h. Policy only: kern/ does the talking. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "lib/ingress.h"
#include "lib/maps.h"
#include "lib/pace.h"
#include "lib/spec.h"
#include "kern/hook.h"
#include "kern/link.h"
#include "kern/qdisc.h"
#include "util/log.h"

/*
 * ifb takes only packets marked redirected (ifb_xmit drops the rest, and
 * counts them in its rx_dropped). act_mirred marks them; bpf_redirect()
 * does since Linux 6.4 ("bpf, net: Support redirecting to ifb with bpf",
 * skb_set_redirected_noclear() in __bpf_tx_skb()). Measured: on 6.1 every
 * packet tcbpf_ingress redirected to the ifb was dropped there; on 6.18
 * they come back on the device's receive path. No probe short of sending
 * traffic tells, so the release decides. Returns 0, or -EOPNOTSUPP with
 * @why.
 */
static int redirect_reaches_ifb(char *why, size_t len)
{
	unsigned int major = 0, minor = 0;
	struct utsname u;

	if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return 0;	/* unknown: let the attach try */
	if (major > 6 || (major == 6 && minor >= 4))
		return 0;
	snprintf(why, len, "kernel %s drops packets bpf_redirect() sends to "
		 "an ifb (it needs 6.4 or later)", u.release);
	return -EOPNOTSUPP;
}

/*
 * The ifb's fq sized for the smallest frames (60 bytes without FCS: an
 * "mtu" of 46). The pacer admits at most rate x horizon bytes ahead of now,
 * and has taken their tokens already: whatever fq drops for its flow limit
 * is lost to the VM's rate. Sized for full frames (pace_fq_params' default,
 * with 25 % to spare), fq dropped 44 % of a 60-byte UDP flood in the 6.12
 * guest (3406 of 6121 pkt/s passed); a per-packet bound costs nothing
 * until packets are queued.
 */
#define IFB_MIN_MTU	46

struct fast {
	int skip;
	__u64 rate, horizon;
};

/* A device of this namespace pacing through the ifb, other than skip. */
static int fast_one(struct tcbpf *t, const struct tcbpf_key *k,
		    const struct maps_dev *v, void *ctx)
{
	const struct tcbpf_cfg *c = &v->dir[TCBPF_INGRESS];
	struct fast *f = ctx;

	if (k->netns != t->netns || (int)k->ifindex == f->skip ||
	    !maps_dev_has(v, TCBPF_INGRESS) || c->mode != TCBPF_MODE_EDT ||
	    !c->pace_ifindex)
		return 0;
	if (c->cls[TCBPF_CLASS_DEFAULT].rate_bits_per_sec > f->rate)
		f->rate = c->cls[TCBPF_CLASS_DEFAULT].rate_bits_per_sec;
	if (c->horizon_ns > f->horizon)
		f->horizon = c->horizon_ns;
	return 0;
}

/*
 * The fastest rate and longest horizon among the namespace's pacing
 * devices and @cfg: the shared fq must hold what any of them queues.
 */
static void fastest(struct tcbpf *t, const struct tcbpf_cfg *cfg,
		   int self, __u64 *rate, __u64 *horizon)
{
	struct fast f = {
		.skip = self,
		.rate = cfg->cls[TCBPF_CLASS_DEFAULT].rate_bits_per_sec,
		.horizon = cfg->horizon_ns,
	};

	maps_foreach(t, fast_one, &f);
	*rate = f.rate;
	*horizon = f.horizon;
}

/*
 * The ifb up, with fq sized for @rate and @horizon and tcbpf_pace on its
 * egress. Returns its ifindex, or -errno with @msg; *@made: created now,
 * *@no_ifb: it could not be created.
 */
static int ifb_ready(struct tcbpf *t, __u64 rate, __u64 horizon, int hook,
		     bool *made, bool *no_ifb, char *msg, size_t msglen)
{
	__u32 id = t->prog_id[TCBPF_PROG_PACE];
	struct fq_params p;
	bool clsact = false;
	char why[160];
	int ifb, err;

	if (t->prog_fd[TCBPF_PROG_PACE] < 0) {
		snprintf(msg, msglen, "the loaded tcbpf programs have no pacer "
			 "(loaded by an older tcbpf: detach every device of "
			 "the namespace to reload)");
		return -ENOENT;
	}
	*made = false;
	ifb = link_ifb_find(TCBPF_PACE_IFNAME);
	if (!ifb) {
		ifb = link_ifb_create(TCBPF_PACE_IFNAME, t->ncpus, msg, msglen);
		*no_ifb = ifb < 0;
		if (ifb < 0)
			return ifb;
		*made = true;
	}
	pace_fq_params(&(struct pace_class){ .rate_bits = rate }, 1, 0, horizon,
		       IFB_MIN_MTU, &p);
	err = qdisc_fq_install(ifb, &p, msg, msglen);
	if (err)
		return err;
	if (hook_query(ifb, TCBPF_EGRESS, id) != TCBPF_HOOK_NONE)
		return ifb;
	err = hook_attach(ifb, TCBPF_EGRESS, hook, t->prog_fd[TCBPF_PROG_PACE],
			  &clsact, why, sizeof(why));
	if (err && hook == TCBPF_HOOK_TCX)
		err = hook_attach(ifb, TCBPF_EGRESS, TCBPF_HOOK_TC,
				  t->prog_fd[TCBPF_PROG_PACE], &clsact,
				  why, sizeof(why));
	if (err) {
		snprintf(msg, msglen, "cannot attach the pacer to %s: %s",
			 TCBPF_PACE_IFNAME, why[0] ? why : strerror(-err));
		return err;
	}
	return ifb;
}

static void ifb_remove(int ifb)
{
	char msg[256];

	hook_detach(ifb, TCBPF_EGRESS);
	if (link_delete(ifb, msg, sizeof(msg)))
		pr_warn("%s: %s\n", TCBPF_PACE_IFNAME, msg);
	else
		pr_debug("removed the pacing device %s\n", TCBPF_PACE_IFNAME);
}

int ingress_pacing(struct tcbpf *t, const char *dev, __u32 cmd_set,
		   struct tcbpf_cfg *cfg, __u32 old_flags, int hook,
		   char *msg, size_t msglen)
{
	bool made = false, no_ifb = false;
	char why[200] = "";
	__u64 rate, horizon;
	int ifb;

	msg[0] = '\0';
	cfg->flags &= ~(TCBPF_F_NO_FQ | TCBPF_F_NO_IFB);
	cfg->pace_ifindex = 0;
	if (cfg->mode != TCBPF_MODE_EDT)
		return 0;
	/* Known not to pace here, and not asked again: police quietly. */
	if ((old_flags & TCBPF_F_NO_FQ) && !(cmd_set & SPEC_MODE)) {
		cfg->mode = TCBPF_MODE_POLICE;
		cfg->flags |= old_flags & (TCBPF_F_NO_FQ | TCBPF_F_NO_IFB);
		return 1;
	}
	fastest(t, cfg, 0, &rate, &horizon);
	ifb = redirect_reaches_ifb(why, sizeof(why));
	no_ifb = ifb < 0;
	if (!ifb)
		ifb = ifb_ready(t, rate, horizon, hook, &made, &no_ifb, why,
				sizeof(why));
	if (ifb > 0) {
		cfg->pace_ifindex = ifb;
		return 0;
	}
	if (made) {	/* what this attempt made goes again */
		int idx = link_ifb_find(TCBPF_PACE_IFNAME);

		if (idx > 0)
			ifb_remove(idx);
	}
	if (cmd_set & SPEC_MODE) {
		snprintf(msg, msglen, "%s ingress: mode edt needs the ifb "
			 "device %s with the fq qdisc, which failed: %s", dev,
			 TCBPF_PACE_IFNAME, why);
		return ifb;
	}
	cfg->mode = TCBPF_MODE_POLICE;
	cfg->flags |= TCBPF_F_NO_FQ;
	if (no_ifb)
		cfg->flags |= TCBPF_F_NO_IFB;
	snprintf(msg, msglen, "%s ingress: cannot pace (%s): policing instead",
		 dev, why);
	return 1;
}

/* Stops the walk at the first device of this namespace that paces. */
static int pacing_one(struct tcbpf *t, const struct tcbpf_key *k,
		      const struct maps_dev *v, void *ctx)
{
	const struct tcbpf_cfg *c = &v->dir[TCBPF_INGRESS];

	return k->netns == t->netns && maps_dev_has(v, TCBPF_INGRESS) &&
	       c->mode == TCBPF_MODE_EDT && c->pace_ifindex;
}

void ingress_release(struct tcbpf *t)
{
	int ifb = link_ifb_find(TCBPF_PACE_IFNAME);

	if (!ifb)
		return;
	/* an error is not "none paces": keep the ifb then */
	if (maps_foreach(t, pacing_one, NULL))
		return;
	ifb_remove(ifb);
}
