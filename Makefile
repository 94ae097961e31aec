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

CFLAGS		?= -O2 -g
CFLAGS		+= -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
		   -D_GNU_SOURCE -Iinclude -Iuser -I$(OUTPUT) $(LIBBPF_CFLAGS) $(EXPORT_CFLAGS) -MMD -MP
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

.PHONY: all clean test demo deps vmlinux vmtest bench bench-smoke fuzz
.DELETE_ON_ERROR:
.SECONDARY:

all: tcbpf

tcbpf: $(LIB_OBJS) $(MAIN_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBBPF_LIBS)

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
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

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

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT) tcbpf

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/user/*/*.d $(OUTPUT)/tests/*.d $(FUZZ_OUT)/*.d)
