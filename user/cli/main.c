// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcbpf - clamp a VM's interface at once: police traffic from the VM, limit
 * traffic to it, keep ssh and rdp usable.
 *
 *   tcbpf [-j|--json] [-n NETNS] [-v] COMMAND ...
 *
 * Exit codes: 0 done, 1 failed at run time, 2 usage error.
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/policy.h"
#include "kern/obj.h"
#include "kern/netns.h"
#include "util/log.h"

#define EXIT_USAGE	2

struct command {
	const char *name;
	int (*run)(const struct opts *o, int argc, char **argv);
	const char *args;
	const char *help;
};

static int run_help(const struct opts *o, int argc, char **argv);

static const struct command commands[] = {
	{ "attach", cmd_attach, "DEV [SPEC] [reason TEXT]",
	  "install the limiter on DEV (defaults below); if there, replace its settings" },
	{ "change", cmd_change, "DEV SPEC [reason TEXT]",
	  "change only the settings given, live" },
	{ "detach", cmd_detach, "DEV",
	  "remove everything tcbpf put on DEV" },
	{ "show", cmd_show, "[DEV]",
	  "settings, hook, mode and counters" },
	{ "list", cmd_list, "",
	  "devices that have a limiter" },
	{ "stats", cmd_stats, "[DEV|net NETID] [interval SECS] [count N] [--influx]",
	  "bits/s and packets/s seen, passed, dropped per interval" },
	{ "export", cmd_export, "influx URL [interval SECS] [count N]",
	  "push counters to InfluxDB's /write endpoint" },
	{ "export", cmd_export, "prometheus [listen ADDR:PORT]",
	  "serve /metrics for Prometheus (default 127.0.0.1:9761)" },
	{ "watch", cmd_watch, "[PATTERN...] bps RATE | pps N [for SECS] [then SPEC]\n"
	  "                   [release-after SECS] [exec PROGRAM] [interval SECS] [auto-monitor]",
	  "clamp a monitored device that crosses a threshold" },
	{ "apply", cmd_apply, "[--check]",
	  "make the machine what the recorded clamps and /etc/tcbpf ask" },
	{ "daemon", cmd_daemon, "",
	  "keep it so: re-clamp devices as they come back, forget gone ones" },
	{ "upgrade", cmd_upgrade, "",
	  "this tcbpf takes over the live limiter (migrating an older one)" },
	{ "help", run_help, "", "this text" },
	{ NULL }
};

/* ------------------------------------------------------------------ help */

static void usage(FILE *f)
{
	const struct command *c;

	fprintf(f,
"Usage: tcbpf [-j|--json] [-n|--netns NETNS] [-v|--verbose] [-q|--quiet]\n"
"             [--state-dir DIR] [--config-dir DIR] COMMAND ...\n\n");
	for (c = commands; c->name; c++) {
		/* "NAME ARGS" in 18 columns, or on a line of its own */
		int w = (int)(strlen(c->name) + 1 + strlen(c->args));

		if (w > 18)
			fprintf(f, "  tcbpf %-6s %s\n  %-25s %s\n", c->name,
				c->args, "", c->help);
		else
			fprintf(f, "  tcbpf %s %-*s %s\n", c->name,
				17 - (int)strlen(c->name), c->args, c->help);
	}
	fprintf(f,
"\n"
"SPEC := { [ingress | egress | both] KEY VALUE ... }\n"
"KEY  := rate RATE | burst SIZE | pps { N | none } | pburst N | allow PORTS\n"
"      | allow-rate RATE | allow-burst SIZE | delay TIME | latency TIME | ecn TIME\n"
"      | mode { police | edt | monitor } | monitor | hook { auto | tc | tcx }\n"
"      | vni HEX | vxlan-port PORT\n"
"PORTS := none | [tcp/|udp/|sctp/]PORT[-PORT][,...]   (a bare port: tcp and udp)\n\n"
"ingress is traffic FROM the VM (policed), egress traffic TO the VM.\n"
"Keys before a direction word apply to both directions.\n"
"Units as tc(8): rates bit kbit mbit gbit tbit, bps kbps mbps gbps (BYTES/s),\n"
"kibit mibit ...; sizes b k kb m mb g gb kbit mbit gbit; times s ms us ns.\n"
"Defaults: rate 1mbit burst 1200kbit allow 22,3389 allow-rate 100mbit\n"
"allow-burst 100mbit, delay 400ms to the VM (needs EDT pacing with fq).\n"
"\n"
"attach, change, detach and show also take \"net NETID\" for a DEV: every\n"
"interface vm-*-NETID, vx-NETID, spc-NETID, pub-NETID (NETID hex) of this host.\n");
}

static int run_help(const struct opts *o, int argc, char **argv)
{
	usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,		NULL, 'j' },
		{ "netns",	required_argument,	NULL, 'n' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "state-dir",	required_argument,	NULL, 'S' },
		{ "config-dir",	required_argument,	NULL, 'C' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL }
	};
	const struct command *c;
	struct opts o = {};
	int opt, err;

	while ((opt = getopt_long(argc, argv, "+jn:vqh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			o.json = true;
			break;
		case 'n':
			o.netns = optarg;
			break;
		case 'v':
			log_level++;
			break;
		case 'q':
			log_level = 0;
			break;
		case 'S':
			o.state_dir = optarg;
			break;
		case 'C':
			o.config_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (!o.state_dir)
		o.state_dir = getenv("TCBPF_STATE_DIR") ?: LIM_STATE_DIR;
	if (!o.config_dir)
		o.config_dir = getenv("TCBPF_CONFIG_DIR") ?: POLICY_DIR;
	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (c = commands; c->name; c++)
		if (!strcmp(c->name, argv[0]))
			break;
	if (!c->name) {
		usage_error("unknown command \"%s\"", argv[0]);
		return EXIT_USAGE;
	}
	cli_log_init();
	if (o.netns && netns_enter(o.netns))
		return EXIT_FAILURE;
	err = c->run(&o, argc - 1, argv + 1);
	if (err == -EUSAGE)
		return EXIT_USAGE;
	return err ? EXIT_FAILURE : EXIT_SUCCESS;
}
