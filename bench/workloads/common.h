/*
 * common.h: what every bench workload shares.
 *
 * The protocol with ckpt-bench: a workload writes one line per reply to its
 * standard output, which the bench opened with O_APPEND (so a restored
 * process keeps appending after the lines written before the checkpoint):
 *
 *   READY <sum> <ns>    memory filled, checksum <sum> took <ns>
 *   OK <sum> <ns>       after SIGUSR1: the recomputed checksum matches
 *   BAD <sum> <want>    after SIGUSR1: it does not
 *
 * A workload made of several processes writes one reply line per process.
 * Each line is one write(2) under PIPE_BUF bytes, so lines never interleave.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MiB (1024UL * 1024UL)

static volatile sig_atomic_t wl_poked;

static inline void wl_on_usr1(int sig)
{
	(void)sig;
	wl_poked = 1;
}

static inline void wl_die(const char *what)
{
	dprintf(1, "BAD %s: %s\n", what, strerror(errno));
	exit(1);
}

static inline uint64_t wl_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Anonymous, private, touched by the caller: the memory a tool must copy. */
static inline void *wl_map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		wl_die("mmap");
	return p;
}

/*
 * xorshift64* fills memory at several GB/s with data no compressor or
 * zero-page check can shrink, which is what makes the image size honest.
 */
static inline void wl_fill(void *p, size_t len, uint64_t seed)
{
	uint64_t *w = p, x = seed * 0x9E3779B97F4A7C15ULL + 1;
	for (size_t i = 0; i < len / 8; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		w[i] = x * 0x2545F4914F6CDD1DULL;
	}
}

/*
 * Four independent multiply-xor lanes keep the checksum close to memory
 * bandwidth; every word changes the result, and so does its position.
 */
static inline uint64_t wl_sum(const void *p, size_t len)
{
	const uint64_t *w = p;
	const uint64_t k = 0xFF51AFD7ED558CCDULL;
	uint64_t a = 1, b = 2, c = 3, d = 4;
	size_t n = len / 8, i = 0;
	for (; i + 4 <= n; i += 4) {
		a = (a ^ w[i]) * k;
		b = (b ^ w[i + 1]) * k;
		c = (c ^ w[i + 2]) * k;
		d = (d ^ w[i + 3]) * k;
	}
	for (; i < n; i++)
		a = (a ^ w[i]) * k;
	return a ^ (b << 1 | b >> 63) ^ (c << 2 | c >> 62) ^ (d << 3 | d >> 61);
}

static inline void wl_catch_usr1(void)
{
	struct sigaction sa = { .sa_handler = wl_on_usr1 };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		wl_die("sigaction");
}

static inline void wl_reply(uint64_t sum, uint64_t want, uint64_t ns)
{
	if (sum == want)
		dprintf(1, "OK %016llx %llu\n", (unsigned long long)sum, (unsigned long long)ns);
	else
		dprintf(1, "BAD %016llx %016llx\n", (unsigned long long)sum, (unsigned long long)want);
}

/*
 * Sleep until poked, then recheck. A poke that lands between the test and
 * sleep() costs at most a second; the bench waits for the reply line.
 * on_poke runs before the checksum (a tree forwards the poke from there).
 */
static inline void wl_serve(uint64_t (*check)(void *), void *arg, uint64_t want, void (*on_poke)(void))
{
	for (;;) {
		while (!wl_poked)
			sleep(1);
		wl_poked = 0;
		if (on_poke)
			on_poke();
		uint64_t t0 = wl_now_ns();
		uint64_t sum = check(arg);
		wl_reply(sum, want, wl_now_ns() - t0);
	}
}

#endif
