/*
 * sysv_sem01: undo adjustments (SEM_UNDO) of either sign survive C/R, on
 * values near both ends of the range, held by two tasks on one semaphore:
 * A holds -100 on semaphore 0 (value 32700, 67 below the maximum), -7 on
 * semaphore 1 (value 3: its exit clamps at 0) and +5 on semaphore 2, where
 * B holds -3. When they exit after restore the kernel must apply exactly
 * those. Sabotage posts semaphore 2 once more.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static int id;

static int op(int num, int delta, int flags)
{
	struct sembuf sop = { (unsigned short)num, (short)delta, (short)flags };

	return semop(id, &sop, 1);
}

static int task_a(void *arg)
{
	(void)arg;
	if (op(0, 100, SEM_UNDO) || op(1, 7, SEM_UNDO) || op(2, -5, SEM_UNDO)) {
		fail("A: semop");
		return 1;
	}
	test_daemon();
	test_waitsig();
	return 0;
}

static int task_b(void *arg)
{
	(void)arg;
	if (op(2, 3, SEM_UNDO)) {
		fail("B: semop");
		return 1;
	}
	test_daemon();
	test_waitsig();
	return 0;
}

static int check(const char *when, const unsigned short *want)
{
	unsigned short got[3];
	int bad = 0;

	if (semctl(id, 0, GETALL, (union semun){ .array = got })) {
		fail("%s: GETALL", when);
		return -1;
	}
	for (int i = 0; i < 3; i++)
		if (got[i] != want[i]) {
			fail("%s: semaphore %d is %d, want %d", when, i, got[i], want[i]);
			bad = -1;
		}
	return bad;
}

int main(int argc, char **argv)
{
	unsigned short init_vals[3] = { 32600, 0, 5 }, vals[3];
	const unsigned short held[3] = { 32700, 3, 3 }, after[3] = { 32600, 0, 5 };
	struct timespec ms = { 0, 1000000 };

	test_init(argc, argv);
	if (unshare(CLONE_NEWIPC)) {
		fail("unshare(CLONE_NEWIPC)");
		return 1;
	}
	id = semget(IPC_PRIVATE, 3, 0600);
	if (id < 0 || semctl(id, 0, SETALL, (union semun){ .array = init_vals })) {
		fail("make the semaphore set");
		return 1;
	}
	if (test_spawn(task_a, NULL) < 0 || test_spawn(task_b, NULL) < 0)
		return 1;
	/* Both have made their operations when semaphore 2 is 3 and 1 is 7. */
	do {
		nanosleep(&ms, NULL);
		semctl(id, 0, GETALL, (union semun){ .array = vals });
	} while (vals[0] != 32700 || vals[1] != 7 || vals[2] != 3);
	if (op(1, -4, 0)) {
		fail("take 4 from semaphore 1");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		op(2, 1, 0);
	check("after restore", held);
	test_stop_children();
	check("after A and B exited", after);
	pass();
	return test_exit();
}
