/*
 * rseq00: glibc's rseq registration survives C/R: the kernel keeps updating
 * cpu_id in the thread's rseq area. The test pins itself to each allowed
 * CPU in turn and checks the area follows; a stale area (registration lost)
 * cannot follow a move.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

static volatile struct rseq *area(void)
{
	return (volatile struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
}

/* follow pins the thread to every CPU of set and checks cpu_id each time. */
static int follow(cpu_set_t *set, const char *when)
{
	int moved = 0;

	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		cpu_set_t one;

		if (!CPU_ISSET(cpu, set))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one)) {
			fail("pin to cpu %d", cpu);
			return -1;
		}
		if ((int)area()->cpu_id != cpu || sched_getcpu() != cpu) {
			fail("%s: on cpu %d rseq cpu_id is %d (sched_getcpu %d)", when, cpu, (int)area()->cpu_id,
			     sched_getcpu());
			return -1;
		}
		moved++;
	}
	return sched_setaffinity(0, sizeof(*set), set) ? -1 : moved;
}

int main(int argc, char **argv)
{
	cpu_set_t all;

	test_init(argc, argv);
	if (__rseq_size == 0) {
		test_msg("glibc did not register rseq (glibc.pthread.rseq=0?): nothing to check");
		test_daemon();
		test_waitsig();
		pass();
		return test_exit();
	}
	if (sched_getaffinity(0, sizeof(all), &all) || follow(&all, "before checkpoint") < 0)
		return 1;

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		/* What a lost registration looks like: the area stops moving. */
		/* glibc registers the whole struct rseq (32 bytes) while
		 * __rseq_size may say less: try both lengths. */
		if (syscall(__NR_rseq, area(), __rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) &&
		    syscall(__NR_rseq, area(), 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG))
			fail("sabotage: unregister rseq");
	}
	follow(&all, "after restore");
	pass();
	return test_exit();
}
