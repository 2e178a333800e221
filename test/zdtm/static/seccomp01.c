/*
 * seccomp01: seccomp filters that kill the process on syscalls ckpt itself
 * injects, and a filter shared by two threads, survive C/R. The init starts
 * a thread T, then installs with TSYNC a filter, so T shares it, that kills
 * the process on personality and getitimer (the checkpoint asks every task
 * both) and on set_tid_address (restore sets it in every thread after it
 * installs filters), and answers getcpu with 11. T stacks its own filter
 * answering getcpu with 22. After restore T stacks, with TSYNC, one more
 * that answers mincore with 33: the kernel allows it only if the init's
 * filter is still the very one T's chain starts with, and gives the init
 * T's whole chain. Both threads must then answer getcpu 22 and mincore 33.
 * Sabotage stacks a filter on the init alone first, so TSYNC is refused.
 */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsutil.h"

struct rule {
	int nr;
	unsigned int ret;
};

/* add_filter installs a filter answering each rule's syscall with its
 * action and allowing the rest. */
static long add_filter(const struct rule *r, int n, unsigned int flags)
{
	struct sock_filter f[2 * 8 + 2];
	struct sock_fprog prog = { 0, f };
	int k = 0;

	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (int i = 0; i < n; i++) {
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, r[i].nr, 0, 1);
		f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, r[i].ret);
	}
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog.len = k;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

static int answer(int nr)
{
	errno = 0;
	return syscall(nr, 0, 0, 0) < 0 ? errno : 0;
}

static pthread_barrier_t step;
static long tsync_ret;
static int t_getcpu, t_mincore;

static void *thread_t(void *arg)
{
	const struct rule own[] = { { SYS_getcpu, SECCOMP_RET_ERRNO | 22 } };
	const struct rule more[] = { { SYS_mincore, SECCOMP_RET_ERRNO | 33 } };

	(void)arg;
	pthread_barrier_wait(&step); /* the init's filter is in */
	if (add_filter(own, 1, 0))
		fail("T: add its own filter");
	pthread_barrier_wait(&step); /* C/R happens here */
	pthread_barrier_wait(&step);
	tsync_ret = add_filter(more, 1, SECCOMP_FILTER_FLAG_TSYNC);
	t_getcpu = answer(SYS_getcpu);
	t_mincore = answer(SYS_mincore);
	return NULL;
}

int main(int argc, char **argv)
{
	const struct rule deadly[] = {
		{ SYS_personality, SECCOMP_RET_KILL_PROCESS },
		{ SYS_getitimer, SECCOMP_RET_KILL_PROCESS },
		{ SYS_set_tid_address, SECCOMP_RET_KILL_PROCESS },
		{ SYS_getcpu, SECCOMP_RET_ERRNO | 11 },
	};
	pthread_t t;

	test_init(argc, argv);
	if (pthread_barrier_init(&step, NULL, 2) || pthread_create(&t, NULL, thread_t, NULL)) {
		fail("start thread T");
		return 1;
	}
	if (add_filter(deadly, 4, SECCOMP_FILTER_FLAG_TSYNC)) {
		fail("install the shared filter");
		return 1;
	}
	pthread_barrier_wait(&step);
	pthread_barrier_wait(&step);

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		const struct rule alone[] = { { SYS_getppid, SECCOMP_RET_ERRNO | 1 } };
		add_filter(alone, 1, 0);
	}
	pthread_barrier_wait(&step);
	pthread_join(t, NULL);
	if (tsync_ret != 0)
		fail("T: TSYNC refused (returned %ld): the threads no longer share the first filter", tsync_ret);
	if (t_getcpu != 22 || t_mincore != 33)
		fail("T: getcpu answers %d, mincore %d; want 22, 33", t_getcpu, t_mincore);
	if (answer(SYS_getcpu) != 22 || answer(SYS_mincore) != 33)
		fail("init: getcpu answers %d, mincore %d; want 22, 33", answer(SYS_getcpu), answer(SYS_mincore));
	pass();
	return test_exit();
}
