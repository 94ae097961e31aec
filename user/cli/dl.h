/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dl.h - libraries the front ends open when they need them, not at
 * start: libmicrohttpd (the Prometheus exporter, the daemon's alert
 * webhook) here, libcurl in export.c.
 *
 * Linked, they and what they pull in (TLS stacks, Kerberos, LDAP, ...)
 * cost every tcbpf process ~23 ms before main(), and attach/change are
 * what a jumpscript runs under an alert. Their headers still give the
 * types, so every call is checked against the real prototype.
 */
#ifndef TCBPF_DL_H
#define TCBPF_DL_H

#include <stddef.h>
#include <microhttpd.h>

struct dl_sym {
	const char *name;
	void **slot;
};

/*
 * Open @soname and fill @syms; 0, or -ENOENT with a message naming what
 * is missing and the Debian package @pkg that has it (@who: "export", ...).
 */
int dl_load(const char *who, const char *soname, const char *pkg,
	    struct dl_sym *syms, size_t n);

#define DL_FN_PTR(f)	__typeof__(&(f)) f;

#define MHD_FNS(X)							\
	X(MHD_start_daemon)	X(MHD_stop_daemon)			\
	X(MHD_create_response_from_buffer)				\
	X(MHD_add_response_header)					\
	X(MHD_queue_response)	X(MHD_destroy_response)			\
	X(MHD_lookup_connection_value)	X(MHD_get_connection_info)

/* libmicrohttpd's functions, once mhd_load() succeeded. */
struct mhd_fns { MHD_FNS(DL_FN_PTR) };
extern struct mhd_fns lmhd;

/* Load libmicrohttpd (once; later calls return the first result). */
int mhd_load(const char *who);

#endif
