/*
 * wake00: the last scenario: a thread blocked on a futex and one
 * blocked in pthread_cond_wait both wake up correctly after restore when
 * signalled: FUTEX_WAKE finds exactly the one waiter, which never came
 * back before its word changed; the condition variable's waiter comes back
 * once, holding the mutex, with its predicate true. Sabotage wakes the
 * futex waiter before its word changes.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsutil.h"

static volatile uint32_t word;
static volatile pid_t ftid, ctid;
static volatile int early;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready_flag, returns;

static void *futex_waiter(void *arg)
{
	(void)arg;
	ftid = (pid_t)syscall(SYS_gettid);
	while (!word)
		if (syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0) == 0 && !word)
			early++;
	return NULL;
}

static void *cond_waiter(void *arg)
{
	(void)arg;
	ctid = (pid_t)syscall(SYS_gettid);
	pthread_mutex_lock(&mu);
	while (!ready_flag)
		pthread_cond_wait(&cv, &mu);
	returns++;
	if (pthread_mutex_trylock(&mu) != EBUSY)
		fail("pthread_cond_wait came back without the mutex");
	pthread_mutex_unlock(&mu);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t f, c;
	long n;

	test_init(argc, argv);
	if (pthread_create(&f, NULL, futex_waiter, NULL) || pthread_create(&c, NULL, cond_waiter, NULL)) {
		fail("pthread_create");
		return 1;
	}
	while (!ftid || !ctid)
		sched_yield();
	wait_in_syscall(ftid, SYS_futex);
	wait_in_syscall(ctid, SYS_futex);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	wait_in_syscall(ftid, SYS_futex);
	word = 1;
	if ((n = syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0)) != 1)
		fail("FUTEX_WAKE woke %ld waiters, want 1", n);
	pthread_mutex_lock(&mu);
	ready_flag = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(f, NULL);
	pthread_join(c, NULL);
	if (early)
		fail("the futex waiter came back %d times before its word changed", early);
	if (returns != 1)
		fail("the condition variable's waiter came back %d times, want 1", returns);
	pass();
	return test_exit();
}
