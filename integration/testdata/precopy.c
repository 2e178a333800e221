/* precopy: memory that changes between the checkpoints of a pre-copy
 * chain, and checks itself. Each SIGUSR1 runs the next phase of writes and
 * logs "PHASE n"; SIGUSR2 compares all of memory with what the phases so far
 * must have left and logs "VERIFY phase=n bad=N" (N pages differ).
 *
 * Phase 1: rewrites every 7th page of the main region (from page 1), drops
 *   three pages with MADV_DONTNEED (they read as zero after), maps a new
 *   region (not tracked by an earlier pre-dump) and forks a child that
 *   just sleeps (it inherits every fd, the tracking one too).
 * Phase 2: rewrites every 7th page from page 2, then replaces a 1 MiB piece
 *   in the middle of the main region by a fresh mapping (MAP_FIXED).
 * Phase 3: rewrites every 7th page from page 3 and every 5th page of the
 *   new region.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

#define PG 4096L
#define N 4096           /* main region: 16 MiB */
#define ZAP 100          /* pages ZAP..ZAP+2 dropped in phase 1 */
#define HOLE 2048        /* pages HOLE..HOLE+255 remapped in phase 2 */
#define HOLEN 256
#define R2N 256          /* the region of phase 1 */

static volatile sig_atomic_t want_phase, want_verify;
static int phase, verified, logfd;
static unsigned char *m, *r2;

static void on_usr1(int s) { (void)s; want_phase++; }
static void on_usr2(int s) { (void)s; want_verify++; }

static void logf_(const char *fmt, int a, int b) {
	char buf[128];
	int n = snprintf(buf, sizeof buf, fmt, a, b);
	write(logfd, buf, n);
}

static int main_val(long i, int p) {
	int v = (i % 250) + 1;
	if (p >= 1 && i >= ZAP && i < ZAP + 3)
		return 0;
	for (int s = 1; s <= p; s++) {
		if (i >= s && (i - s) % 7 == 0)
			v = (i + s) % 250 + 1;
		if (s == 2 && i >= HOLE && i < HOLE + HOLEN)
			v = 0x77;
	}
	return v;
}

static int r2_val(long j, int p) {
	if (p >= 3 && j % 5 == 0)
		return 0xee;
	return (j * 3) % 250 + 1;
}

static void rewrite(int s) {
	for (long i = s; i < N; i += 7)
		if (i < ZAP || i >= ZAP + 3)
			memset(m + i * PG, (i + s) % 250 + 1, PG);
}

static void next_phase(void) {
	phase++;
	rewrite(phase);
	switch (phase) {
	case 1:
		madvise(m + ZAP * PG, 3 * PG, MADV_DONTNEED);
		r2 = mmap(0, R2N * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (r2 == MAP_FAILED)
			exit(2);
		for (long j = 0; j < R2N; j++)
			memset(r2 + j * PG, r2_val(j, 0), PG);
		if (fork() == 0)
			for (;;)
				pause();
		break;
	case 2:
		if (mmap(m + HOLE * PG, HOLEN * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			exit(2);
		memset(m + HOLE * PG, 0x77, HOLEN * PG);
		break;
	case 3:
		for (long j = 0; j < R2N; j += 5)
			memset(r2 + j * PG, 0xee, PG);
		break;
	}
	logf_("PHASE %d%.0d\n", phase, 0);
}

static int page_is(const unsigned char *p, int v) {
	for (long k = 0; k < PG; k++)
		if (p[k] != v)
			return 0;
	return 1;
}

static void verify(void) {
	int bad = 0;
	for (long i = 0; i < N; i++)
		bad += !page_is(m + i * PG, main_val(i, phase));
	if (phase >= 1)
		for (long j = 0; j < R2N; j++)
			bad += !page_is(r2 + j * PG, r2_val(j, phase));
	logf_("VERIFY phase=%d bad=%d\n", phase, bad);
}

int main(int argc, char **argv) {
	if (argc < 2)
		return 2;
	logfd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0)
		return 2;
	signal(SIGUSR1, on_usr1);
	signal(SIGUSR2, on_usr2);
	m = mmap(0, N * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 2;
	for (long i = 0; i < N; i++)
		memset(m + i * PG, main_val(i, 0), PG);
	logf_("READY%.0d%.0d\n", 0, 0);
	for (;;) {
		if (phase < want_phase)
			next_phase();
		else if (verified < want_verify) {
			verified++;
			verify();
		} else
			usleep(5000);
	}
}
