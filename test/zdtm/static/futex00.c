/*
 * futex00: tasks asleep on futexes are still asleep on the same futexes
 * after C/R, and wake as the kernel promises: a private FUTEX_WAIT, a
 * FUTEX_WAIT_BITSET (a wake with another bit must not reach it), a shared
 * futex in MAP_SHARED memory waited on by child A, and FUTEX_LOCK_PI on a
 * lock the init's main thread owns (its word holds the owner's tid, which
 * must still be right). Each FUTEX_WAKE must report exactly one waiter
 * woken, and no waiter may come back early. Sabotage wakes the private
 * waiter before its word changes.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsutil.h"

static volatile uint32_t w_priv, w_bits, w_pi;
static volatile uint32_t *w_shared;
static volatile pid_t tid_priv, tid_bits, tid_pi;
static volatile int early_priv, early_bits;

static long futex(volatile uint32_t *w, int op, uint32_t val, uint32_t bits)
{
	return syscall(SYS_futex, w, op, val, NULL, NULL, bits);
}

static void *priv_waiter(void *arg)
{
	(void)arg;
	tid_priv = (pid_t)syscall(SYS_gettid);
	while (!w_priv)
		if (futex(&w_priv, FUTEX_WAIT_PRIVATE, 0, 0) == 0 && !w_priv)
			early_priv++;
	return NULL;
}

static void *bits_waiter(void *arg)
{
	(void)arg;
	tid_bits = (pid_t)syscall(SYS_gettid);
	while (!w_bits)
		if (futex(&w_bits, FUTEX_WAIT_BITSET_PRIVATE, 0, 0x4) == 0 && !w_bits)
			early_bits++;
	return NULL;
}

static void *pi_waiter(void *arg)
{
	(void)arg;
	tid_pi = (pid_t)syscall(SYS_gettid);
	if (futex(&w_pi, FUTEX_LOCK_PI_PRIVATE, 0, 0))
		fail("FUTEX_LOCK_PI");
	else if ((w_pi & FUTEX_TID_MASK) != (uint32_t)tid_pi)
		fail("the PI lock word is %#x after FUTEX_LOCK_PI, want owner %d", w_pi, tid_pi);
	return NULL;
}

static int shared_waiter(void *arg)
{
	int early = 0;

	(void)arg;
	test_daemon();
	while (!*w_shared)
		if (futex(w_shared, FUTEX_WAIT, 0, 0) == 0 && !*w_shared)
			early++;
	if (early)
		fail("A: %d early returns from FUTEX_WAIT", early);
	test_waitsig();
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t th[3];
	pid_t a;
	long n;

	test_init(argc, argv);
	w_shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (w_shared == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	w_pi = (uint32_t)syscall(SYS_gettid); /* the main thread owns the PI lock */
	if (pthread_create(&th[0], NULL, priv_waiter, NULL) || pthread_create(&th[1], NULL, bits_waiter, NULL) ||
	    pthread_create(&th[2], NULL, pi_waiter, NULL)) {
		fail("pthread_create");
		return 1;
	}
	a = test_spawn(shared_waiter, NULL);
	if (a < 0)
		return 1;
	while (!tid_priv || !tid_bits || !tid_pi)
		sched_yield();
	wait_in_syscall(tid_priv, SYS_futex);
	wait_in_syscall(tid_bits, SYS_futex);
	wait_in_syscall(tid_pi, SYS_futex);
	wait_in_syscall(a, SYS_futex);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		futex(&w_priv, FUTEX_WAKE_PRIVATE, 1, 0);
	/* Restored waiters go back to sleep; wake each one once it is. */
	wait_in_syscall(tid_priv, SYS_futex);
	w_priv = 1;
	if ((n = futex(&w_priv, FUTEX_WAKE_PRIVATE, 1, 0)) != 1)
		fail("FUTEX_WAKE woke %ld private waiters, want 1", n);
	wait_in_syscall(tid_bits, SYS_futex);
	if ((n = futex(&w_bits, FUTEX_WAKE_BITSET_PRIVATE, 1, 0x1)) != 0)
		fail("a wake for bit 0x1 woke %ld waiters, want 0 (the waiter waits on 0x4)", n);
	w_bits = 1;
	if ((n = futex(&w_bits, FUTEX_WAKE_BITSET_PRIVATE, 1, 0x4)) != 1)
		fail("a wake for bit 0x4 woke %ld waiters, want 1", n);
	wait_in_syscall(a, SYS_futex);
	*w_shared = 1;
	if ((n = futex(w_shared, FUTEX_WAKE, 1, 0)) != 1)
		fail("FUTEX_WAKE on the shared futex woke %ld, want 1", n);
	wait_in_syscall(tid_pi, SYS_futex);
	if ((w_pi & FUTEX_TID_MASK) != (uint32_t)syscall(SYS_gettid) || !(w_pi & FUTEX_WAITERS))
		fail("the PI lock word is %#x, want owner %ld with FUTEX_WAITERS", w_pi, syscall(SYS_gettid));
	if (futex(&w_pi, FUTEX_UNLOCK_PI_PRIVATE, 0, 0))
		fail("FUTEX_UNLOCK_PI");
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	if (early_priv || early_bits)
		fail("early returns: %d from FUTEX_WAIT, %d from FUTEX_WAIT_BITSET", early_priv, early_bits);
	test_stop_children();
	pass();
	return test_exit();
}
