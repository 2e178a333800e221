/*
 * pthread00: a process with many threads (40) keeps each thread's own
 * state across C/R: callee-saved registers held across a sleeping futex
 * syscall, the fs base and a __thread variable, the signal mask, the
 * sigaltstack, the name, the rseq registration (registering the same area
 * again must say EBUSY), the robust futex list (its head, and it works: a
 * thread that dies holding a robust mutex after restore hands the next
 * locker EOWNERDEAD) and clear_child_tid (pthread_join, which waits on
 * it, returns). Sabotage changes one thread's signal mask.
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsutil.h"

#define NT 40
#define ALT (32 * 1024)

static volatile uint32_t go;
static pthread_barrier_t ready;
static pthread_mutex_t robust;
static __thread int tls_id = -1;

struct th {
	pthread_t t;
	int id;
	unsigned long fs;
	void *robust_head;
	stack_t alt;
};
static struct th ths[NT];

/* sleep_keep_regs sleeps on go with r12-r15 and rbx loaded from magic and
 * returns how those registers differ from it when the syscall is back. */
static uint64_t sleep_keep_regs(uint64_t magic)
{
	register long r10 asm("r10") = 0;
	long nr = SYS_futex;
	uint64_t diff;

	asm volatile("mov %[m], %%rbx\n\t"
		     "mov %[m], %%r12\n\t"
		     "mov %[m], %%r13\n\t"
		     "mov %[m], %%r14\n\t"
		     "mov %[m], %%r15\n\t"
		     "syscall\n\t"
		     "xor %[m], %%rbx\n\t"
		     "xor %[m], %%r12\n\t"
		     "xor %[m], %%r13\n\t"
		     "xor %[m], %%r14\n\t"
		     "xor %[m], %%r15\n\t"
		     "or %%rbx, %%r12\n\t"
		     "or %%r13, %%r12\n\t"
		     "or %%r14, %%r12\n\t"
		     "or %%r15, %%r12\n\t"
		     "mov %%r12, %[d]\n\t"
		     : "+a"(nr), [d] "=&r"(diff)
		     : [m] "r"(magic), "D"(&go), "S"(FUTEX_WAIT_PRIVATE), "d"(0), "r"(r10)
		     : "rbx", "r12", "r13", "r14", "r15", "rcx", "r11", "memory");
	return diff;
}

static int rseq_registered(void)
{
	void *area = (char *)__builtin_thread_pointer() + __rseq_offset;

	for (unsigned int len = __rseq_size; len <= 32; len = len == 32 ? 33 : 32)
		if (syscall(SYS_rseq, area, len, 0, RSEQ_SIG) == -1 && errno == EBUSY)
			return 1;
	return 0;
}

static void mask_of(int id, sigset_t *s)
{
	sigemptyset(s);
	sigaddset(s, SIGRTMIN + id % 8);
	if (id & 1)
		sigaddset(s, SIGUSR1);
	if (id % 3 == 0)
		sigaddset(s, SIGUSR2);
}

static void *thread(void *arg)
{
	struct th *me = arg;
	char name[16], got_name[16];
	sigset_t want, cur;
	unsigned long fs;
	stack_t alt;
	size_t len;
	void *head;

	tls_id = me->id;
	mask_of(me->id, &want);
	pthread_sigmask(SIG_SETMASK, &want, NULL);
	me->alt = (stack_t){ .ss_sp = malloc(ALT + me->id * 4096), .ss_size = ALT + me->id * 4096 };
	snprintf(name, sizeof(name), "zdtm-%d", me->id);
	if (sigaltstack(&me->alt, NULL) || pthread_setname_np(pthread_self(), name) ||
	    syscall(SYS_arch_prctl, ARCH_GET_FS, &me->fs) || syscall(SYS_get_robust_list, 0, &me->robust_head, &len)) {
		fail("thread %d: set up", me->id);
		return NULL;
	}
	if (me->id == 0 && pthread_mutex_lock(&robust))
		fail("thread 0: lock the robust mutex");
	pthread_barrier_wait(&ready);
	while (!go) {
		uint64_t d = sleep_keep_regs(0x5a5a000000000000ull | (uint64_t)me->id << 8);

		if (d)
			fail("thread %d: callee-saved registers changed across a syscall (xor %#lx)", me->id, (long)d);
	}
	if (test_sabotage() && me->id == 7)
		sigaddset(&want, SIGHUP), pthread_sigmask(SIG_BLOCK, &want, NULL);
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	if (sigismember(&cur, SIGHUP) || !sigismember(&cur, SIGRTMIN + me->id % 8) ||
	    sigismember(&cur, SIGUSR1) != !!(me->id & 1) || sigismember(&cur, SIGUSR2) != (me->id % 3 == 0))
		fail("thread %d: signal mask changed", me->id);
	if (tls_id != me->id || syscall(SYS_arch_prctl, ARCH_GET_FS, &fs) || fs != me->fs)
		fail("thread %d: __thread id %d, fs base %#lx, want %d %#lx", me->id, tls_id, fs, me->id, me->fs);
	if (sigaltstack(NULL, &alt) || alt.ss_sp != me->alt.ss_sp || alt.ss_size != me->alt.ss_size || alt.ss_flags)
		fail("thread %d: sigaltstack %p+%zu flags %d", me->id, alt.ss_sp, alt.ss_size, alt.ss_flags);
	if (pthread_getname_np(pthread_self(), got_name, sizeof(got_name)) || strcmp(got_name, name))
		fail("thread %d: name %s, want %s", me->id, got_name, name);
	if (syscall(SYS_get_robust_list, 0, &head, &len) || head != me->robust_head)
		fail("thread %d: robust list head %p, want %p", me->id, head, me->robust_head);
	/* glibc registers the whole struct rseq (32 bytes) while __rseq_size
	 * may say less: the kernel says EBUSY for the length it has. */
	if (__rseq_size && !rseq_registered())
		fail("thread %d: rseq is no longer registered", me->id);
	return NULL; /* thread 0 dies holding the robust mutex */
}

int main(int argc, char **argv)
{
	pthread_mutexattr_t ma;

	test_init(argc, argv);
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&robust, &ma);
	pthread_barrier_init(&ready, NULL, NT + 1);
	for (int i = 0; i < NT; i++) {
		ths[i].id = i;
		if (pthread_create(&ths[i].t, NULL, thread, &ths[i])) {
			fail("pthread_create %d", i);
			return 1;
		}
	}
	pthread_barrier_wait(&ready);

	test_daemon();
	test_waitsig();

	go = 1;
	syscall(SYS_futex, &go, FUTEX_WAKE_PRIVATE, NT, NULL, NULL, 0);
	for (int i = 0; i < NT; i++)
		pthread_join(ths[i].t, NULL);
	if (pthread_mutex_lock(&robust) != EOWNERDEAD)
		fail("the robust mutex of a dead owner did not say EOWNERDEAD");
	pass();
	return test_exit();
}
