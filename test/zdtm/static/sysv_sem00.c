/*
 * sysv_sem00: System V semaphores of the namespace's own IPC namespace
 * survive C/R: the set's id, key, mode and values, a task blocked in semop
 * (it must be blocked there again, and wake when the init posts), and an
 * undo adjustment (SEM_UNDO): when the task holding it exits after
 * restore, the kernel must give its unit back. Sabotage changes a value.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <unistd.h>

#include "nsutil.h"

#define KEY 0x7a647432
#define NSEMS 4

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static int id;

static int sem_add(int num, int delta, int flags)
{
	struct sembuf op = { (unsigned short)num, (short)delta, (short)flags };

	return semop(id, &op, 1);
}

/* waiter blocks on semaphore 1 (value 0) until the init posts it. */
static int waiter(void *arg)
{
	(void)arg;
	test_daemon();
	if (sem_add(1, -1, 0))
		fail("B: semop(-1) on semaphore 1 failed instead of waiting");
	test_waitsig();
	return 0;
}

/* holder takes semaphore 3 with SEM_UNDO: its exit gives it back. */
static int holder(void *arg)
{
	(void)arg;
	if (sem_add(3, -1, SEM_UNDO)) {
		fail("A: semop(-1, SEM_UNDO)");
		return 1;
	}
	test_daemon();
	test_waitsig();
	return 0;
}

static void wait_ncnt(int num, int n)
{
	struct timespec ms = { 0, 1000000 };

	while (semctl(id, num, GETNCNT) != n)
		nanosleep(&ms, NULL);
}

int main(int argc, char **argv)
{
	unsigned short init_vals[NSEMS] = { 3, 0, 7, 1 }, vals[NSEMS];
	const unsigned short want[NSEMS] = { 3, 0, 7, 0 };
	struct semid_ds ds;
	pid_t a;

	test_init(argc, argv);
	if (unshare(CLONE_NEWIPC)) {
		fail("unshare(CLONE_NEWIPC)");
		return 1;
	}
	id = semget(KEY, NSEMS, IPC_CREAT | IPC_EXCL | 0640);
	if (id < 0 || semctl(id, 0, SETALL, (union semun){ .array = init_vals })) {
		fail("make the semaphore set");
		return 1;
	}
	a = test_spawn(holder, NULL);
	if (a < 0 || test_spawn(waiter, NULL) < 0)
		return 1;
	wait_ncnt(1, 1);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		semctl(id, 2, SETVAL, (union semun){ .val = 6 });
	if (semget(KEY, 0, 0) != id)
		fail("key %#x is set %d, want %d", KEY, semget(KEY, 0, 0), id);
	if (semctl(id, 0, IPC_STAT, (union semun){ .buf = &ds }) || ds.sem_nsems != NSEMS ||
	    (ds.sem_perm.mode & 0777) != 0640)
		fail("set %d: %lu semaphores, mode %#o", id, (unsigned long)ds.sem_nsems, ds.sem_perm.mode);
	if (semctl(id, 0, GETALL, (union semun){ .array = vals }))
		fail("GETALL");
	for (int i = 0; i < NSEMS; i++)
		if (vals[i] != want[i])
			fail("semaphore %d is %d, want %d", i, vals[i], want[i]);
	/* The waiter must be waiting again, then get through. */
	wait_ncnt(1, 1);
	if (sem_add(1, 1, 0))
		fail("post semaphore 1");
	wait_ncnt(1, 0);
	test_stop_children();
	if (semctl(id, 1, GETVAL) != 0)
		fail("semaphore 1 is %d after the waiter took the post, want 0", semctl(id, 1, GETVAL));
	if (semctl(id, 3, GETVAL) != 1)
		fail("semaphore 3 is %d after the holder exited, want 1 (its SEM_UNDO)", semctl(id, 3, GETVAL));
	pass();
	return test_exit();
}
