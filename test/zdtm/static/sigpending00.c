/*
 * sigpending00: pending signals survive C/R with their siginfo, whether
 * directed at one thread or at the whole process. The init blocks them in
 * all its threads and queues: to the process, SIGRTMIN twice (values 101,
 * 102, order kept) and SIGUSR1; to its second thread, SIGRTMIN+1 (value
 * 201) and SIGUSR2. Its child A gets SIGRTMIN+2 (value 301) from the init,
 * so si_pid must still say 1. After restore the per-thread and shared
 * pending sets are as before and each signal comes out with its si_code,
 * si_pid, si_uid and value. Sabotage takes one signal early.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsutil.h"

static volatile pid_t thread_tid;
static volatile uint32_t thread_ready;
static pthread_barrier_t checked;

static void block_all(void)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGUSR2);
	for (int i = 0; i < 3; i++)
		sigaddset(&s, SIGRTMIN + i);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
}

static void queue(pid_t tgid, pid_t tid, int sig, int val)
{
	siginfo_t si = { .si_signo = sig, .si_code = SI_QUEUE };

	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = val;
	if (tid ? syscall(SYS_rt_tgsigqueueinfo, tgid, tid, sig, &si) : syscall(SYS_rt_sigqueueinfo, tgid, sig, &si))
		fail("queue signal %d (value %d)", sig, val);
}

static void take(const char *who, int sig, int code, pid_t from, int val)
{
	struct timespec now = { 0, 0 };
	siginfo_t si;
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, sig);
	memset(&si, 0, sizeof(si));
	/* The raw call: glibc's sigtimedwait folds SI_TKILL into SI_USER. */
	if (syscall(SYS_rt_sigtimedwait, &s, &si, &now, 8) != sig) {
		fail("%s: signal %d is not pending", who, sig);
		return;
	}
	if (si.si_code != code || si.si_pid != from || si.si_uid != 0 || (code == SI_QUEUE && si.si_value.sival_int != val))
		fail("%s: signal %d: code %d pid %d uid %d value %d, want %d %d 0 %d", who, sig, si.si_code, si.si_pid,
		     si.si_uid, si.si_value.sival_int, code, from, val);
}

/* pending reads SigPnd (this thread's) or ShdPnd (the process's). */
static unsigned long long pending(pid_t tid, const char *key)
{
	char path[64], line[256];
	unsigned long long v = ~0ULL;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "r");
	if (!f)
		return v;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = strtoull(line + strlen(key) + 1, NULL, 16);
	fclose(f);
	return v;
}

#define BIT(s) (1ULL << ((s) - 1))

static void *thread(void *arg)
{
	(void)arg;
	thread_tid = (pid_t)syscall(SYS_gettid);
	__atomic_store_n(&thread_ready, 1, __ATOMIC_SEQ_CST);
	pthread_barrier_wait(&checked);
	if (pending(thread_tid, "SigPnd") != (BIT(SIGUSR2) | BIT(SIGRTMIN + 1)))
		fail("thread: SigPnd %#llx", pending(thread_tid, "SigPnd"));
	take("thread", SIGRTMIN + 1, SI_QUEUE, 1, 201);
	take("thread", SIGUSR2, SI_TKILL, 1, 0);
	return NULL;
}

static int child(void *arg)
{
	(void)arg;
	block_all();
	test_daemon();
	test_waitsig();
	if (pending(getpid(), "ShdPnd") != BIT(SIGRTMIN + 2))
		fail("A: ShdPnd %#llx", pending(getpid(), "ShdPnd"));
	take("A", SIGRTMIN + 2, SI_QUEUE, 1, 301);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long shd;
	pthread_t th;
	pid_t a;

	test_init(argc, argv);
	block_all();
	pthread_barrier_init(&checked, NULL, 2);
	if (pthread_create(&th, NULL, thread, NULL)) {
		fail("pthread_create");
		return 1;
	}
	while (!__atomic_load_n(&thread_ready, __ATOMIC_SEQ_CST))
		sched_yield();
	a = test_spawn(child, NULL);
	if (a < 0)
		return 1;
	queue(getpid(), 0, SIGRTMIN, 101);
	queue(getpid(), 0, SIGRTMIN, 102);
	kill(getpid(), SIGUSR1);
	queue(getpid(), thread_tid, SIGRTMIN + 1, 201);
	syscall(SYS_tgkill, getpid(), thread_tid, SIGUSR2);
	queue(a, 0, SIGRTMIN + 2, 301);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		take("sabotage", SIGRTMIN, SI_QUEUE, 1, 101);
	shd = pending(getpid(), "ShdPnd");
	if (shd != (BIT(SIGUSR1) | BIT(SIGRTMIN)))
		fail("init: ShdPnd %#llx, want %#llx", shd, BIT(SIGUSR1) | BIT(SIGRTMIN));
	if (pending(getpid(), "SigPnd") != 0)
		fail("init: SigPnd %#llx, want 0", pending(getpid(), "SigPnd"));
	pthread_barrier_wait(&checked);
	pthread_join(th, NULL);
	take("init", SIGRTMIN, SI_QUEUE, 1, 101);
	take("init", SIGRTMIN, SI_QUEUE, 1, 102);
	take("init", SIGUSR1, SI_USER, 1, 0);
	test_stop_children();
	pass();
	return test_exit();
}
