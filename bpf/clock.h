/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * clock.h - the precise clock only where it decides something.
 *
 * bpf_ktime_get_ns() is the largest single cost of a packet here (about
 * 30 ns under a hypervisor's kvm-clock), jiffies are one load. Every
 * reading of the precise clock notes, per CPU, which jiffy it fell in;
 * from such a mark, the jiffies alone bound the precise clock from above:
 *
 *	jiffies_64 becomes J at or after the J-th tick boundary B(J), and
 *	B(J) = B(J0) + (J - J0) * TICK, so with a mark (J0, ns0) and
 *	jiffies J now:  now < ns0 + (J - J0 + 1) * TICK + (jiffies' lag)
 *
 * clock_before(t) answers "is it certainly not yet t?" with a margin of
 * two ticks of lag, and never yes without a mark. The tick is taken as
 * 10 ms, the longest there is (HZ=100): a shorter one only makes the bound
 * looser (CONFIG_HZ would need libbpf to read the kernel's config, which
 * fails the load where there is none). The bound loosens as the mark ages;
 * once it no longer decides, the clock is read and the mark renewed.
 * Used to drop packets of a bucket deep in debt without the clock; a
 * kernel whose jiffies lag more than two ticks behind (a nohz_full CPU
 * busy for long) would see such packets dropped that much early.
 */
#ifndef TCBPF_CLOCK_H
#define TCBPF_CLOCK_H

#define CLOCK_CPUS	256	/* CPUs with a mark; others read the clock */
#define CLOCK_LAG_TICKS	2
#define CLOCK_TICK_NS	10000000ULL	/* HZ=100: no tick is longer */

/*
 * Per CPU (the program's .bss, plain arrays so that user space needs no
 * type for it): the jiffy of the last precise reading, and that reading.
 */
__u64 clock_jif[CLOCK_CPUS];
__u64 clock_ns[CLOCK_CPUS];

static __always_inline __u64 clock_now(void)
{
	__u64 ns = bpf_ktime_get_ns(), jif = bpf_jiffies64();
	__u32 cpu = bpf_get_smp_processor_id();

	if (cpu < CLOCK_CPUS && clock_jif[cpu] != jif) {
		/* written once a tick at most */
		clock_jif[cpu] = jif;
		clock_ns[cpu] = ns;
	}
	return ns;
}

/* The precise clock is certainly still before @t. */
static __always_inline bool clock_before(__u64 t)
{
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 jif;

	if (cpu >= CLOCK_CPUS || !clock_jif[cpu])
		return false;
	jif = bpf_jiffies64();
	return clock_ns[cpu] + (jif - clock_jif[cpu] + 1 + CLOCK_LAG_TICKS) *
	       CLOCK_TICK_NS <= t;
}

#endif /* TCBPF_CLOCK_H */
