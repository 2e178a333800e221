/*
 * threads: one process with T threads sharing M MiB of random memory; each
 * thread owns a slice, fills it, and on every round recomputes the slice's
 * checksum. A round is the main thread's answer to SIGUSR1, so a reply of
 * OK means every restored thread woke up from its condition-variable wait
 * with its registers and stack intact and saw the right memory.
 *
 *   threads T MiB
 */
#include "common.h"

#include <pthread.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go, done; /* CLOCK_MONOTONIC, set in main */
static unsigned round_no, acks;  /* guarded by mu */
static uint64_t *sums;           /* guarded by mu */

static size_t slice;
static char *mem;
static unsigned nthreads;

static void *worker(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg, seen = 0;
	char *mine = mem + (size_t)i * slice;

	wl_fill(mine, slice, i + 1);
	for (;;) {
		uint64_t s = wl_sum(mine, slice);
		pthread_mutex_lock(&mu);
		sums[i] = s;
		acks++;
		pthread_cond_signal(&done);
		while (round_no == seen)
			pthread_cond_wait(&go, &mu);
		seen = round_no;
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

/* A round: wake every thread and wait for all answers, at most a minute. */
static uint64_t check(void *arg)
{
	(void)arg;
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 60;

	pthread_mutex_lock(&mu);
	round_no++;
	acks = 0;
	pthread_cond_broadcast(&go);
	while (acks < nthreads)
		if (pthread_cond_timedwait(&done, &mu, &deadline) == ETIMEDOUT)
			break;
	uint64_t sum = acks == nthreads ? 0 : 1;
	for (unsigned i = 0; i < nthreads; i++)
		sum = (sum ^ sums[i]) * 0x100000001B3ULL;
	pthread_mutex_unlock(&mu);
	return sum;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: threads T MiB\n");
		return 2;
	}
	nthreads = strtoul(argv[1], NULL, 10);
	slice = strtoul(argv[2], NULL, 10) * MiB / nthreads / 4096 * 4096;
	mem = wl_map(slice * nthreads);
	sums = calloc(nthreads, sizeof(*sums));

	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&go, &ca);
	pthread_cond_init(&done, &ca);

	/* Only the main thread takes SIGUSR1: the workers inherit it blocked. */
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	uint64_t t0 = wl_now_ns();
	for (unsigned i = 0; i < nthreads; i++) {
		pthread_t t;
		if ((errno = pthread_create(&t, NULL, worker, (void *)(uintptr_t)i)))
			wl_die("pthread_create");
	}
	pthread_mutex_lock(&mu);
	while (acks < nthreads)
		pthread_cond_wait(&done, &mu);
	uint64_t want = 0;
	for (unsigned i = 0; i < nthreads; i++)
		want = (want ^ sums[i]) * 0x100000001B3ULL;
	pthread_mutex_unlock(&mu);
	wl_catch_usr1();
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);

	dprintf(1, "READY %016llx %llu\n", (unsigned long long)want,
		(unsigned long long)(wl_now_ns() - t0));
	wl_serve(check, NULL, want, NULL);
}
