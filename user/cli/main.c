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
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cmd.h"
#include "cli/export.h"
#include "lib/netid.h"
#include "lib/spec.h"
#include "lib/stats.h"
#include "cli/watch.h"
#include "kern/obj.h"
#include "util/log.h"

#define EXIT_USAGE	2


struct command {
	const char *name;
	int (*run)(const struct opts *o, int argc, char **argv);
	const char *args;
	const char *help;
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "tcbpf: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry \"tcbpf help\".\n");
	return -EUSAGE;
}

/* A name no device can have is a usage error, before anything runs. */
static int check_dev(const char *name)
{
	char err[128];

	if (dev_name_check(name, err, sizeof(err)))
		return usage_error("%s", err);
	return 0;
}

static int parse_spec(struct spec *s, int argc, char **argv)
{
	char err[256];

	if (spec_parse(s, argc, argv, err, sizeof(err)))
		return usage_error("%s", err);
	return 0;
}

/* "net NETID": every interface of that network (netid.c). */
static bool is_net(int argc, char **argv)
{
	return argc >= 1 && !strcmp(argv[0], "net");
}

static int run_attach(const struct opts *o, int argc, char **argv)
{
	struct spec s;
	int err;

	if (is_net(argc, argv))
		return cmd_net(o, "attach", argc - 1, argv + 1);
	if (argc < 1)
		return usage_error("%s", "attach needs a device");
	err = check_dev(argv[0]);
	if (!err)
		err = parse_spec(&s, argc - 1, argv + 1);
	if (err)
		return err;
	return cmd_attach(o, argv[0], &s);
}

static int run_change(const struct opts *o, int argc, char **argv)
{
	struct spec s;
	int err;

	if (is_net(argc, argv))
		return cmd_net(o, "change", argc - 1, argv + 1);
	if (argc < 1)
		return usage_error("%s", "change needs a device");
	if (argc < 2)
		return usage_error("change %s needs a SPEC of what to change",
				   argv[0]);
	err = check_dev(argv[0]);
	if (!err)
		err = parse_spec(&s, argc - 1, argv + 1);
	if (err)
		return err;
	return cmd_change(o, argv[0], &s);
}

static int run_detach(const struct opts *o, int argc, char **argv)
{
	if (is_net(argc, argv))
		return cmd_net(o, "detach", argc - 1, argv + 1);
	if (argc != 1)
		return usage_error("%s", argc ? "detach takes one device"
					      : "detach needs a device");
	if (check_dev(argv[0]))
		return -EUSAGE;
	return cmd_detach(o, argv[0]);
}

static int run_show(const struct opts *o, int argc, char **argv)
{
	if (is_net(argc, argv))
		return cmd_net(o, "show", argc - 1, argv + 1);
	if (argc > 1)
		return usage_error("show takes at most one device, not \"%s\"",
				   argv[1]);
	if (argc && check_dev(argv[0]))
		return -EUSAGE;
	return cmd_show(o, argc ? argv[0] : NULL);
}

static int run_list(const struct opts *o, int argc, char **argv)
{
	if (argc)
		return usage_error("list takes no arguments, not \"%s\"", argv[0]);
	return cmd_list(o);
}

static int run_help(const struct opts *o, int argc, char **argv);

static const struct command commands[] = {
	{ "attach", run_attach, "DEV [SPEC]",
	  "install the limiter on DEV (defaults below); if there, replace its settings" },
	{ "change", run_change, "DEV SPEC",
	  "change only the settings given, live" },
	{ "detach", run_detach, "DEV",
	  "remove everything tcbpf put on DEV" },
	{ "show", run_show, "[DEV]",
	  "settings, hook, mode and counters" },
	{ "list", run_list, "",
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
	{ "help", run_help, "", "this text" },
	{ NULL }
};

static void usage(FILE *f)
{
	const struct command *c;

	fprintf(f,
"Usage: tcbpf [-j|--json] [-n|--netns NETNS] [-v|--verbose] COMMAND ...\n\n");
	for (c = commands; c->name; c++)
		if (strlen(c->args) > 11)
			fprintf(f, "  tcbpf %-6s %s\n  %-25s %s\n", c->name,
				c->args, "", c->help);
		else
			fprintf(f, "  tcbpf %-6s %-11s %s\n", c->name, c->args,
				c->help);
	fprintf(f,
"\n"
"SPEC := { [ingress | egress | both] KEY VALUE ... }\n"
"KEY  := rate RATE | burst SIZE | pps { N | none } | pburst N | allow PORTS\n"
"      | allow-rate RATE | allow-burst SIZE | delay TIME | latency TIME | ecn TIME\n"
"      | mode { police | edt | monitor } | monitor | hook { auto | tc | tcx }\n"
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
	log_init();
	if (o.netns && netns_enter(o.netns))
		return EXIT_FAILURE;
	err = c->run(&o, argc - 1, argv + 1);
	if (err == -EUSAGE)
		return EXIT_USAGE;
	return err ? EXIT_FAILURE : EXIT_SUCCESS;
}
