# SPDX-License-Identifier: GPL-2.0-only
# tcbpf - tc/eBPF limiter for VM interfaces.

OUTPUT		?= .output
CLANG		?= clang
CC		?= gcc
BPFTOOL		?= bpftool
PKG_CONFIG	?= pkg-config

ARCH		:= $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
LIBBPF_CFLAGS	:= $(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null)
LIBBPF_LIBS	:= $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf) -lelf -lz -lmnl
# export: libcurl (InfluxDB push) and libmicrohttpd (Prometheus /metrics)
# are dlopen()ed by user/export.c when an export starts; only their headers
# are needed here.
EXPORT_CFLAGS	:= $(shell $(PKG_CONFIG) --cflags libcurl libmicrohttpd 2>/dev/null)
LIBBPF_LIBS	+= -ldl
# the daemon's alert webhook parses Alertmanager's JSON with json-c (small,
# no dependencies of its own: linked)
JSONC_CFLAGS	:= $(shell $(PKG_CONFIG) --cflags json-c 2>/dev/null)
LIBBPF_LIBS	+= $(shell $(PKG_CONFIG) --libs json-c 2>/dev/null || echo -ljson-c) -pthread

# tcbpf's version: debian/changelog's first entry (tcbpf_info records it)
TCBPF_VERSION	:= $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null)

CFLAGS		?= -O2 -g
CFLAGS		+= -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
		   -D_GNU_SOURCE -DTCBPF_VERSION='"$(or $(TCBPF_VERSION),unknown)"' \
		   -Iinclude -Iuser -I$(OUTPUT) $(LIBBPF_CFLAGS) $(EXPORT_CFLAGS) $(JSONC_CFLAGS) -MMD -MP
BPF_CFLAGS	:= -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) \
		   -Wall -Werror -Iinclude -Ibpf -I. $(LIBBPF_CFLAGS) -MMD -MP

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_SRCS	:= $(wildcard bpf/*.bpf.c)
BPF_OBJS	:= $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS		:= $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))

# user/ is layered; includes point downwards only (tests/layers.sh):
#   cli/   front ends: argument parsing, printing, the commands
#   lib/   the limiter library: attach/change/detach/show/apply, maps,
#          spec, units, names, netid, sampling, pacing policy
#   kern/  kernel plumbing: the BPF object, hooks, netlink, qdiscs
#   util/  logging and the JSON writer
# Everything but cli/main.c forms a library the tests and bench link too.
LAYERS		:= util kern lib cli
LIB_SRCS	:= $(filter-out user/cli/main.c,$(foreach l,$(LAYERS),$(wildcard user/$(l)/*.c)))
LIB_OBJS	:= $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(LIB_SRCS))
MAIN_OBJ	:= $(OUTPUT)/user/cli/main.o

TEST_SRCS	:= $(wildcard tests/*_test.c)
TEST_BINS	:= $(patsubst tests/%.c,$(OUTPUT)/tests/%,$(TEST_SRCS))

.PHONY: all clean test demo deps vmlinux vmtest bench bench-smoke fuzz libfuzz asan asan-build \
	man install uninstall deb pkgtest
.DELETE_ON_ERROR:
.SECONDARY:

all: tcbpf

tcbpf: $(LIB_OBJS) $(MAIN_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBBPF_LIBS)

$(OUTPUT) $(OUTPUT)/tests $(addprefix $(OUTPUT)/user/,$(LAYERS)):
	$(Q)mkdir -p $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) vmlinux.h include/tcbpf.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(OUTPUT)/user/%.o: user/%.c $(SKELS) | $(addprefix $(OUTPUT)/user/,$(LAYERS))
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# what prints or records the version is rebuilt when it changes
$(OUTPUT)/user/kern/obj.o $(OUTPUT)/user/lib/state.o: debian/changelog

$(OUTPUT)/tests/%: tests/%.c $(LIB_OBJS) $(SKELS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LIB_OBJS) $(LIBBPF_LIBS)

# Differential fuzzer (tests/fuzz/): a test-only BPF harness around the
# real parse.h/classify.h, and the driver that runs it and the limiter.
FUZZ_OUT	:= $(OUTPUT)/tests/fuzz
FUZZ_BIN	:= $(FUZZ_OUT)/fuzz

$(FUZZ_OUT):
	$(Q)mkdir -p $@

$(FUZZ_OUT)/harness.bpf.o: tests/fuzz/harness.bpf.c tests/fuzz/fuzz.h $(wildcard bpf/*.h) \
			   vmlinux.h include/tcbpf.h | $(FUZZ_OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Itests/fuzz -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(FUZZ_OUT)/harness.skel.h: $(FUZZ_OUT)/harness.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name harness_bpf > $@

$(FUZZ_BIN): tests/fuzz/fuzz.c tests/fuzz/gen.c tests/fuzz/fuzz.h tests/fuzz/gen.h tests/fuzz/private.h \
	     $(FUZZ_OUT)/harness.skel.h $(LIB_OBJS) $(SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(FUZZ_OUT) -Itests/fuzz -o $@ tests/fuzz/fuzz.c tests/fuzz/gen.c \
		$(LIB_OBJS) $(LIBBPF_LIBS)

# The full run: 10 million frames, a new seed each time unless FUZZ_SEED
# is given (tests/run.sh fuzz runs 200 000 with a fixed one).
fuzz: $(FUZZ_BIN)
	$(Q)tests/fuzz/run.sh full

# libFuzzer targets (tests/fuzz/lf_*.c): the parsers of what tcbpf reads
# from operators and from the kernel, with their sources built into each
# target under ASan and UBSan; tests/fuzz/libfuzz.sh runs them on their
# corpus (tests/fuzz/corpus/NAME/). lf_nl and lf_linkwatch include the
# .c they test (the parsers are static there), so do not list it again.
LF_OUT		:= $(OUTPUT)/libfuzz
LF_CFLAGS	:= -g -O1 -fno-omit-frame-pointer \
		   -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		   -Wall -Wextra -Werror -Wno-unused-parameter \
		   -Wno-missing-field-initializers -D_GNU_SOURCE -Iinclude -Iuser
LF_NAMES	:= units spec words state policy nl linkwatch
LF_BINS		:= $(addprefix $(LF_OUT)/lf_,$(LF_NAMES))
LF_SPEC		:= user/lib/units.c user/lib/spec.c user/lib/spec_words.c \
		   user/lib/names.c user/lib/words.c user/util/msg.c
LF_SRCS_units	:= user/lib/units.c user/lib/spec.c user/util/msg.c
LF_SRCS_spec	:= $(LF_SPEC)
LF_SRCS_words	:= user/lib/words.c user/util/msg.c
LF_SRCS_state	:= user/lib/state.c user/lib/words.c user/util/msg.c
LF_SRCS_policy	:= user/lib/policy.c user/lib/state.c $(LF_SPEC)
LF_SRCS_nl	:=
LF_SRCS_linkwatch := user/kern/nl.c user/kern/netns.c user/util/log.c user/util/msg.c
LF_INCL_nl	:= user/kern/nl.c user/kern/qdisc.c
LF_INCL_linkwatch := user/kern/linkwatch.c
LF_LIBS_linkwatch := $(LIBBPF_LIBS)

.SECONDEXPANSION:
$(LF_OUT)/lf_%: tests/fuzz/lf_%.c tests/fuzz/lf.h $$(LF_SRCS_$$*) $$(LF_INCL_$$*) \
		$(wildcard user/*/*.h include/*.h)
	$(Q)mkdir -p $(LF_OUT)
	$(call msg,LIBFUZZ,$@)
	$(Q)$(CLANG) $(LF_CFLAGS) $(LIBBPF_CFLAGS) -o $@ $< $(LF_SRCS_$*) $(LF_LIBS_$*) -lmnl

libfuzz: $(LF_BINS)

# Regenerate vmlinux.h from the running kernel's BTF (committed, so the
# build does not depend on the build machine's kernel).
vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h

deps:
	$(Q)scripts/install-deps.sh

test: tcbpf $(TEST_BINS) $(FUZZ_BIN)
	$(Q)tests/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory tcbpf
	$(Q)scripts/demo.sh

vmtest: tcbpf $(TEST_BINS)
	$(Q)tests/vm/make-vmtest.sh

bench: tcbpf
	$(Q)bench/run.sh

bench-smoke: tcbpf
	$(Q)BENCH_SMOKE=1 bench/run.sh

# make asan: the CLI and the C test programs built with ASan and UBSan
# (LeakSanitizer on) into .output-asan/ (the BPF objects as always), then
# tests/asan.sh runs the unit suites and the bad-input integration cases
# with them. The sub-make gets its CFLAGS from the environment, so the
# flags above are still added to them.
ASAN_OUT	:= .output-asan
ASAN_CFLAGS	:= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=all

# The CLI inside OUTPUT, for builds that must not replace ./tcbpf.
$(OUTPUT)/tcbpf: $(LIB_OBJS) $(MAIN_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBBPF_LIBS)

asan-build:
	$(Q)CFLAGS="$(ASAN_CFLAGS)" $(MAKE) --no-print-directory OUTPUT=$(ASAN_OUT) \
		$(ASAN_OUT)/tcbpf $(patsubst $(OUTPUT)/%,$(ASAN_OUT)/%,$(TEST_BINS))

asan: asan-build
	$(Q)ASAN_OUT=$(ASAN_OUT) tests/asan.sh

# ------------------------------------------------------------ packaging
# Man pages: scdoc sources in docs/man/NAME.SECTION.scd -> $(OUTPUT)/man/.
SCDOC		?= scdoc
MAN_SRCS	:= $(wildcard docs/man/*.scd)
MANS		:= $(patsubst docs/man/%.scd,$(OUTPUT)/man/%,$(MAN_SRCS))

man: $(MANS)

$(OUTPUT)/man:
	$(Q)mkdir -p $@

$(OUTPUT)/man/%: docs/man/%.scd | $(OUTPUT)/man
	$(call msg,SCDOC,$@)
	$(Q)$(SCDOC) < $< > $@

# make install [DESTDIR=...] [PREFIX=/usr] [sbindir=...] ...
PREFIX		?= /usr
sbindir		?= $(PREFIX)/sbin
datadir		?= $(PREFIX)/share
mandir		?= $(datadir)/man
docdir		?= $(datadir)/doc/tcbpf
sysconfdir	?= /etc
localstatedir	?= /var
bashcompdir	?= $(or $(shell $(PKG_CONFIG) --define-variable=datadir=$(datadir) \
			--variable=completionsdir \
			bash-completion 2>/dev/null),$(datadir)/bash-completion/completions)
systemdunitdir	?= $(or $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir \
			systemd 2>/dev/null),/lib/systemd/system)
INSTALL		?= install
UNITS		:= scripts/tcbpf.service scripts/tcbpf-watch.service

# The units name the binary and the docs where a hand install would put
# them (/usr/sbin, /usr/local/sbin, /usr/local/share/doc): point them at
# where this install puts them.
UNIT_SED	:= -e 's|/usr/\(local/\)\{0,1\}sbin/tcbpf|$(sbindir)/tcbpf|g' \
		   -e 's|/usr/\(local/\)\{0,1\}share/doc/tcbpf|$(docdir)|g'

install: tcbpf man
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d $(DESTDIR)$(sbindir) $(DESTDIR)$(mandir)/man5 \
		$(DESTDIR)$(mandir)/man8 $(DESTDIR)$(bashcompdir) \
		$(DESTDIR)$(systemdunitdir) $(DESTDIR)$(docdir)/examples \
		$(DESTDIR)$(sysconfdir)/tcbpf $(DESTDIR)$(localstatedir)/lib/tcbpf
	$(Q)$(INSTALL) -m 0755 tcbpf $(DESTDIR)$(sbindir)/tcbpf
	$(Q)$(INSTALL) -m 0644 $(filter %.5,$(MANS)) $(DESTDIR)$(mandir)/man5/
	$(Q)$(INSTALL) -m 0644 $(filter %.8,$(MANS)) $(DESTDIR)$(mandir)/man8/
	$(Q)$(INSTALL) -m 0644 scripts/tcbpf.bash-completion \
		$(DESTDIR)$(bashcompdir)/tcbpf
	$(Q)for u in $(UNITS); do \
		sed $(UNIT_SED) $$u > $(DESTDIR)$(systemdunitdir)/$${u##*/} && \
		chmod 0644 $(DESTDIR)$(systemdunitdir)/$${u##*/} || exit 1; \
	done
	$(Q)$(INSTALL) -m 0644 README.md docs/MONITORING.md $(DESTDIR)$(docdir)/
	$(Q)$(INSTALL) -m 0755 scripts/alert-action.py $(DESTDIR)$(docdir)/examples/
	$(Q)$(INSTALL) -m 0644 scripts/tcbpf.conf.example \
		$(DESTDIR)$(docdir)/examples/tcbpf.conf

# Leaves /etc/tcbpf and /var/lib/tcbpf unless empty: they hold the
# operator's policies and the recorded clamps.
uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(sbindir)/tcbpf $(DESTDIR)$(bashcompdir)/tcbpf \
		$(addprefix $(DESTDIR)$(mandir)/man5/,$(notdir $(filter %.5,$(MANS)))) \
		$(addprefix $(DESTDIR)$(mandir)/man8/,$(notdir $(filter %.8,$(MANS)))) \
		$(addprefix $(DESTDIR)$(systemdunitdir)/,$(notdir $(UNITS))) \
		$(DESTDIR)$(docdir)/README.md $(DESTDIR)$(docdir)/MONITORING.md \
		$(DESTDIR)$(docdir)/examples/alert-action.py \
		$(DESTDIR)$(docdir)/examples/tcbpf.conf
	$(Q)rmdir $(DESTDIR)$(docdir)/examples $(DESTDIR)$(docdir) 2>/dev/null || :
	$(Q)rmdir $(DESTDIR)$(sysconfdir)/tcbpf $(DESTDIR)$(localstatedir)/lib/tcbpf \
		2>/dev/null || :

# make deb: a Debian package built by dpkg-buildpackage from a copy of the
# tree in $(OUTPUT)/deb/build (it writes its results to the parent of the
# tree it builds, which must not be the repository's shared parent);
# the .deb lands in $(OUTPUT)/deb/. MAKEFLAGS is not passed down: the
# package build is a make of its own (debian/rules).
DEB_BUILD	:= $(OUTPUT)/deb/build

deb:
	$(call msg,DEB,$(OUTPUT)/deb)
	$(Q)rm -rf $(DEB_BUILD) && mkdir -p $(DEB_BUILD)/tcbpf
	$(Q)if [ -d .git ] || [ -f .git ]; then \
		git ls-files -z --cached --others --exclude-standard | \
			xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh | \
			xargs -0 cp --parents -t $(DEB_BUILD)/tcbpf; \
	else \
		tar -c --exclude=./$(OUTPUT) --exclude=./tcbpf . | tar -x -C $(DEB_BUILD)/tcbpf; \
	fi
	$(Q)cd $(DEB_BUILD)/tcbpf && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		dpkg-buildpackage -us -uc -b -jauto $(if $(V:0=),,>../build.log 2>&1) || \
		{ tail -40 ../build.log; echo "make deb: failed, log in $(DEB_BUILD)/build.log" >&2; exit 1; }
	$(Q)rm -f $(OUTPUT)/deb/*.deb && cp $(DEB_BUILD)/tcbpf_*.deb $(OUTPUT)/deb/
	$(Q)ls $(OUTPUT)/deb/*.deb

# The packaging suites alone (make test runs them too): man pages,
# completion, and the package built, installed into a throwaway root,
# run and purged (tests/pkg.sh; the pkg suite builds it, ~10 s).
pkgtest: tcbpf
	$(Q)tests/run.sh man completion pkg

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT) $(ASAN_OUT) tcbpf

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/user/*/*.d $(OUTPUT)/tests/*.d $(FUZZ_OUT)/*.d)
