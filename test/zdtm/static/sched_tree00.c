/*
 * sched_tree00: scheduling settings survive C/R, per task and per thread: nice
 * values, policies (SCHED_BATCH, SCHED_IDLE, SCHED_RR with its priority
 * and SCHED_RESET_ON_FORK) and CPU affinity. The init runs SCHED_BATCH at
 * nice 5 on the first CPU, with a thread at nice 2 on the last CPU; child A
 * runs SCHED_IDLE, child B SCHED_RR priority 7 with reset-on-fork, child
 * C nice -3 on the last CPU. (B only sleeps: an RR task that spun would
 * starve the machine.) Sabotage changes the init's nice value.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsutil.h"

struct sched {
	const char *who;
	int policy, prio, nice, cpu; /* cpu: 0 first, 1 last, -1 all */
};

static const struct sched init_s = { "init", SCHED_BATCH, 0, 5, 0 }, thread_s = { "thread", SCHED_BATCH, 0, 2, 1 },
			  a_s = { "A", SCHED_IDLE, 0, 0, -1 },
			  b_s = { "B", SCHED_RR | SCHED_RESET_ON_FORK, 7, 0, -1 },
			  c_s = { "C", SCHED_OTHER, 0, -3, 1 };
static cpu_set_t all;
static int first, last;
static pthread_barrier_t bar;

static void cpus(int which, cpu_set_t *s)
{
	if (which < 0) {
		*s = all;
		return;
	}
	CPU_ZERO(s);
	CPU_SET(which ? last : first, s);
}

static int apply(const struct sched *s)
{
	struct sched_param p = { s->prio };
	pid_t tid = (pid_t)syscall(SYS_gettid);
	cpu_set_t set;

	cpus(s->cpu, &set);
	if (sched_setscheduler(tid, s->policy, &p) || setpriority(PRIO_PROCESS, tid, s->nice) ||
	    sched_setaffinity(tid, sizeof(set), &set)) {
		fail("%s: set policy, nice, affinity", s->who);
		return -1;
	}
	return 0;
}

static void check(const struct sched *s)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	struct sched_param p;
	cpu_set_t want, got;
	int pol, nice;

	cpus(s->cpu, &want);
	pol = sched_getscheduler(tid);
	if (pol != s->policy || sched_getparam(tid, &p) || p.sched_priority != s->prio)
		fail("%s: policy %#x priority %d, want %#x %d", s->who, pol, p.sched_priority, s->policy, s->prio);
	errno = 0;
	nice = getpriority(PRIO_PROCESS, tid);
	if (nice != s->nice)
		fail("%s: nice %d, want %d", s->who, nice, s->nice);
	if (sched_getaffinity(tid, sizeof(got), &got) || !CPU_EQUAL(&got, &want))
		fail("%s: affinity has %d CPUs, want %d", s->who, CPU_COUNT(&got), CPU_COUNT(&want));
}

static void *thread(void *arg)
{
	(void)arg;
	if (apply(&thread_s))
		return NULL;
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	check(&thread_s);
	return NULL;
}

static int child(void *arg)
{
	const struct sched *s = arg;

	if (apply(s))
		return 1;
	test_daemon();
	test_waitsig();
	check(s);
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t th;

	test_init(argc, argv);
	if (sched_getaffinity(0, sizeof(all), &all)) {
		fail("sched_getaffinity");
		return 1;
	}
	for (first = 0; !CPU_ISSET(first, &all); first++)
		;
	for (last = CPU_SETSIZE - 1; !CPU_ISSET(last, &all); last--)
		;
	if (test_spawn(child, (void *)&a_s) < 0 || test_spawn(child, (void *)&b_s) < 0 ||
	    test_spawn(child, (void *)&c_s) < 0 || apply(&init_s))
		return 1;
	pthread_barrier_init(&bar, NULL, 2);
	if (pthread_create(&th, NULL, thread, NULL)) {
		fail("pthread_create");
		return 1;
	}
	pthread_barrier_wait(&bar);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		setpriority(PRIO_PROCESS, 0, 6);
	check(&init_s);
	pthread_barrier_wait(&bar);
	pthread_join(th, NULL);
	test_stop_children();
	pass();
	return test_exit();
}
