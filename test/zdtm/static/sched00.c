/*
 * sched00: scheduling survives C/R: the main thread runs SCHED_BATCH at
 * nice 7 pinned to CPU 0; a second thread runs SCHED_FIFO priority 5 on
 * every CPU.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

static pid_t rt_tid;
static volatile int stop;

static void *rt_thread(void *arg)
{
	struct sched_param p = { .sched_priority = 5 };

	rt_tid = syscall(SYS_gettid);
	if (sched_setscheduler(0, SCHED_FIFO, &p))
		rt_tid = -1;
	while (!stop)
		usleep(10000);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sched_param p = { 0 };
	pthread_t th;
	cpu_set_t set;

	test_init(argc, argv);
	if (sched_setscheduler(0, SCHED_BATCH, &p) || setpriority(PRIO_PROCESS, 0, 7)) {
		fail("SCHED_BATCH, nice 7");
		return 1;
	}
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set) || pthread_create(&th, NULL, rt_thread, NULL)) {
		fail("affinity, thread");
		return 1;
	}
	while (!rt_tid)
		usleep(1000);
	if (rt_tid < 0) {
		fail("SCHED_FIFO");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		setpriority(PRIO_PROCESS, 0, 3);
	if (sched_getscheduler(0) != SCHED_BATCH)
		fail("policy %d, want SCHED_BATCH", sched_getscheduler(0));
	if (getpriority(PRIO_PROCESS, 0) != 7)
		fail("nice %d, want 7", getpriority(PRIO_PROCESS, 0));
	if (sched_getaffinity(0, sizeof(set), &set) || CPU_COUNT(&set) != 1 || !CPU_ISSET(0, &set))
		fail("affinity has %d CPUs, want CPU 0 only", CPU_COUNT(&set));
	if (sched_getscheduler(rt_tid) != SCHED_FIFO || sched_getparam(rt_tid, &p) || p.sched_priority != 5)
		fail("thread %d: policy %d priority %d, want SCHED_FIFO 5", rt_tid, sched_getscheduler(rt_tid), p.sched_priority);
	stop = 1;
	pthread_join(th, NULL);
	pass();
	return test_exit();
}
