/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * export.h - counters for monitoring servers: pushed to InfluxDB's /write
 * endpoint (libcurl) or served at /metrics for Prometheus (libmicrohttpd).
 */
#ifndef TCBPF_EXPORT_H
#define TCBPF_EXPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <sys/socket.h>
#include "lib/sample.h"

/* The Prometheus text exposition of @s (format 0.0.4). */
void prom_write(FILE *f, const struct sample_set *s);

/* InfluxDB line protocol of @s: measurement "tcbpf", counters. */
void influx_write(FILE *f, const struct sample_set *s);

/* "127.0.0.1:9761", "[::1]:9761", ":9761" into @ss; -EINVAL. */
int parse_listen(const char *s, struct sockaddr_storage *ss, bool *v6);

#endif
