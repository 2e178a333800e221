/*
 * condvar00: threads and processes asleep in pthread_cond_wait wake
 * correctly after C/R: three threads wait on one condition variable (one
 * of them with pthread_cond_timedwait on CLOCK_MONOTONIC, an hour ahead),
 * and child A waits on a process-shared condition variable in shared
 * memory. After restore a pthread_cond_signal must wake one thread, a
 * broadcast the rest; each must come back holding the mutex and seeing the
 * generation it was woken for (the timed one without ETIMEDOUT); A must
 * wake on its signal. Sabotage bumps the generation once too often.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "nsutil.h"

#define NT 3

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static int gen, woken, asleep, seen[NT], timed_out;
static volatile pid_t tids[NT];

struct shared {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int go, asleep;
};
static struct shared *sh;

static void *waiter(void *arg)
{
	int i = (int)(long)arg, g;
	struct timespec until;

	tids[i] = (pid_t)syscall(SYS_gettid);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += 3600;
	pthread_mutex_lock(&mu);
	g = gen;
	asleep++;
	while (gen == g) {
		int r = i == 0 ? pthread_cond_timedwait(&cv, &mu, &until) : pthread_cond_wait(&cv, &mu);

		if (r == ETIMEDOUT)
			timed_out++;
	}
	seen[i] = gen;
	woken++;
	pthread_mutex_unlock(&mu);
	return NULL;
}

static int shared_waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&sh->mu);
	sh->asleep = 1;
	test_daemon();
	while (!sh->go)
		pthread_cond_wait(&sh->cv, &sh->mu);
	pthread_mutex_unlock(&sh->mu);
	test_waitsig();
	return 0;
}

static void wait_woken(int n)
{
	struct timespec ms = { 0, 1000000 };

	for (;;) {
		pthread_mutex_lock(&mu);
		if (woken >= n) {
			pthread_mutex_unlock(&mu);
			return;
		}
		pthread_mutex_unlock(&mu);
		nanosleep(&ms, NULL);
	}
}

int main(int argc, char **argv)
{
	pthread_condattr_t ca;
	pthread_mutexattr_t ma;
	pthread_t th[NT];
	pid_t a;

	test_init(argc, argv);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cv, &ca);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&sh->mu, &ma);
	pthread_cond_init(&sh->cv, &ca);
	for (int i = 0; i < NT; i++)
		if (pthread_create(&th[i], NULL, waiter, (void *)(long)i)) {
			fail("pthread_create");
			return 1;
		}
	a = test_spawn(shared_waiter, NULL);
	if (a < 0)
		return 1;
	for (int i = 0; i < NT; i++) {
		while (!tids[i])
			sched_yield();
		wait_in_syscall(tids[i], SYS_futex);
	}
	wait_in_syscall(a, SYS_futex);

	test_daemon();
	test_waitsig();

	pthread_mutex_lock(&mu);
	if (asleep != NT || woken)
		fail("%d threads asleep, %d woken before any signal", asleep, woken);
	gen++;
	if (test_sabotage())
		gen++;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	wait_woken(1);
	pthread_mutex_lock(&mu);
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < NT; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NT; i++)
		if (seen[i] != 1)
			fail("thread %d woke to generation %d, want 1", i, seen[i]);
	if (timed_out)
		fail("pthread_cond_timedwait timed out %d times an hour early", timed_out);
	pthread_mutex_lock(&sh->mu);
	sh->go = 1;
	pthread_cond_signal(&sh->cv);
	pthread_mutex_unlock(&sh->mu);
	test_stop_children();
	pass();
	return test_exit();
}
