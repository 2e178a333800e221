/*
 * sigmask00: the blocked set and pending signals survive C/R: a process-wide
 * queued realtime signal (two instances, in order, with their sigqueue
 * values), a process-wide standard signal and a thread-private one.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define RT (SIGRTMIN + 2)

static unsigned long long bit(int sig)
{
	return 1ULL << (sig - 1);
}

/* status_mask reads one signal mask line of /proc/self/status. */
static unsigned long long status_mask(const char *key)
{
	char line[256];
	unsigned long long m = ~0ULL;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return m;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			m = strtoull(line + strlen(key), NULL, 16);
	fclose(f);
	return m;
}

/* same_set compares signal by signal: only the kernel's 64 bits of a glibc
 * sigset_t are ever written. */
static int same_set(const sigset_t *a, const sigset_t *b)
{
	for (int s = 1; s < NSIG; s++)
		if (sigismember(a, s) != sigismember(b, s))
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	sigset_t blocked, now, pending;
	int sig;
	struct timespec zero = { 0, 0 };
	union sigval v;
	siginfo_t si;
	pid_t me;

	test_init(argc, argv);
	me = getpid();
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGUSR1);
	sigaddset(&blocked, SIGUSR2);
	sigaddset(&blocked, SIGHUP);
	sigaddset(&blocked, RT);
	sigaddset(&blocked, SIGRTMAX);
	if (sigprocmask(SIG_SETMASK, &blocked, NULL)) {
		fail("sigprocmask");
		return 1;
	}
	v.sival_int = 0x1234;
	if (sigqueue(me, RT, v)) {
		fail("sigqueue first");
		return 1;
	}
	v.sival_int = 0x5678;
	if (sigqueue(me, RT, v) || kill(me, SIGUSR2) || syscall(SYS_tgkill, me, gettid(), SIGUSR1)) {
		fail("queue the pending signals");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		sigtimedwait(&blocked, &si, &zero);
	if (sigprocmask(SIG_BLOCK, NULL, &now) || !same_set(&now, &blocked))
		fail("blocked set changed");
	if (sigpending(&pending))
		fail("sigpending");
	if (!sigismember(&pending, SIGUSR1) || !sigismember(&pending, SIGUSR2) || !sigismember(&pending, RT))
		fail("pending: SIGUSR1 %d SIGUSR2 %d RT %d, want all 1", sigismember(&pending, SIGUSR1),
		     sigismember(&pending, SIGUSR2), sigismember(&pending, RT));
	if (sigismember(&pending, SIGHUP) || sigismember(&pending, SIGRTMAX))
		fail("a signal that was never sent is pending");
	for (int i = 0; i < 2; i++) {
		int want = i ? 0x5678 : 0x1234;
		sigset_t rt;

		sigemptyset(&rt);
		sigaddset(&rt, RT);
		memset(&si, 0, sizeof(si));
		if (sigtimedwait(&rt, &si, &zero) != RT)
			fail("realtime signal instance %d is not pending", i);
		else if (si.si_code != SI_QUEUE || si.si_value.sival_int != want || si.si_pid != me)
			fail("realtime instance %d: code %d value %#x pid %d, want %d %#x %d", i, si.si_code,
			     si.si_value.sival_int, si.si_pid, SI_QUEUE, want, me);
	}
	/* glibc folds SI_TKILL into SI_USER in sigtimedwait, so which queue a
	 * signal sits on is read from /proc instead. */
	if (status_mask("SigPnd:") != bit(SIGUSR1) || status_mask("ShdPnd:") != bit(SIGUSR2))
		fail("SigPnd %#llx ShdPnd %#llx, want %#llx (SIGUSR1, thread) and %#llx (SIGUSR2, process)",
		     status_mask("SigPnd:"), status_mask("ShdPnd:"), bit(SIGUSR1), bit(SIGUSR2));
	sig = sigtimedwait(&blocked, &si, &zero);
	if (sig != SIGUSR1 || si.si_pid != me)
		fail("got signal %d from %d, want SIGUSR1 (thread-private, from tgkill) from %d", sig, si.si_pid, me);
	sig = sigtimedwait(&blocked, &si, &zero);
	if (sig != SIGUSR2 || si.si_code != SI_USER || si.si_pid != me)
		fail("got signal %d code %d from %d, want SIGUSR2 (process-wide, from kill) with SI_USER from %d", sig,
		     si.si_code, si.si_pid, me);
	if (sigtimedwait(&blocked, &si, &zero) >= 0)
		fail("signal %d pending after all were taken", si.si_signo);
	pass();
	return test_exit();
}
