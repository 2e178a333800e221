/*
 * sigaction00: signal dispositions survive C/R: handlers with SA_RESTART,
 * SA_SIGINFO, SA_NODEFER|SA_RESETHAND and handler masks, and an ignored
 * signal. Checked twice: sigaction() must return what it returned before
 * the checkpoint, and raising each signal must run its handler with its
 * mask in force.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

static volatile sig_atomic_t hits[NSIG], bad_mask[NSIG], bad_info[NSIG];
static sigset_t want_blocked[NSIG];

/* handler records that it ran, and whether the handler mask was in force. */
static void check_mask(int sig)
{
	sigset_t cur;

	hits[sig]++;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	for (int s = 1; s < NSIG; s++)
		if (sigismember(&want_blocked[sig], s) && !sigismember(&cur, s))
			bad_mask[sig] = s;
}

static void handler(int sig)
{
	check_mask(sig);
}

static void info_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	check_mask(sig);
	if (si->si_signo != sig || si->si_pid != getpid())
		bad_info[sig] = 1;
}

struct disp {
	int sig;
	int flags;
	int info;
	int masked[2];
};

static const struct disp disps[] = {
	{ SIGUSR1, SA_RESTART, 0, { SIGUSR2, SIGHUP } },
	{ SIGUSR2, SA_SIGINFO, 1, { SIGALRM, 0 } },
	{ SIGHUP, SA_NODEFER | SA_RESETHAND, 0, { 0, 0 } },
	{ SIGALRM, SA_SIGINFO | SA_RESTART, 1, { SIGUSR1, SIGCHLD } },
};

#define N (sizeof(disps) / sizeof(disps[0]))

static int same_action(const struct sigaction *a, const struct sigaction *b)
{
	/* Only the kernel's 64 bits of sa_mask are meaningful: glibc's
	 * sigset_t is larger and the rest is whatever was on the stack. */
	if (a->sa_handler != b->sa_handler || a->sa_flags != b->sa_flags)
		return 0;
	for (int s = 1; s < NSIG; s++)
		if (sigismember(&a->sa_mask, s) != sigismember(&b->sa_mask, s))
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	struct sigaction before[NSIG], now;

	test_init(argc, argv);
	for (unsigned i = 0; i < N; i++) {
		struct sigaction sa;
		int sig = disps[i].sig;

		memset(&sa, 0, sizeof(sa));
		sigemptyset(&sa.sa_mask);
		for (int k = 0; k < 2; k++)
			if (disps[i].masked[k])
				sigaddset(&sa.sa_mask, disps[i].masked[k]);
		want_blocked[sig] = sa.sa_mask;
		if (!(disps[i].flags & SA_NODEFER))
			sigaddset(&want_blocked[sig], sig);
		sa.sa_flags = disps[i].flags;
		if (disps[i].info)
			sa.sa_sigaction = info_handler;
		else
			sa.sa_handler = handler;
		if (sigaction(sig, &sa, NULL)) {
			fail("sigaction %d", sig);
			return 1;
		}
	}
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		fail("ignore SIGPIPE");
		return 1;
	}
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, NULL, &before[s]);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		signal(SIGUSR2, SIG_IGN);
	for (int s = 1; s < 32; s++) {
		if (s == SIGKILL || s == SIGSTOP)
			continue;
		if (sigaction(s, NULL, &now))
			fail("sigaction(%d) read", s);
		else if (!same_action(&now, &before[s]))
			fail("signal %d: handler %p flags %#x, want %p flags %#x (or a different mask)", s,
			     (void *)now.sa_handler, now.sa_flags, (void *)before[s].sa_handler, before[s].sa_flags);
	}
	for (unsigned i = 0; i < N; i++) {
		int sig = disps[i].sig;

		raise(sig);
		if (hits[sig] != 1)
			fail("signal %d: handler ran %d times, want once", sig, hits[sig]);
		if (bad_mask[sig])
			fail("signal %d: signal %d was not blocked in its handler", sig, bad_mask[sig]);
		if (bad_info[sig])
			fail("signal %d: wrong siginfo in its SA_SIGINFO handler", sig);
	}
	/* SA_RESETHAND did its job only if the disposition is now default. */
	if (sigaction(SIGHUP, NULL, &now) || now.sa_handler != SIG_DFL)
		fail("SIGHUP handler was not reset by SA_RESETHAND");
	raise(SIGPIPE); /* ignored: must not kill us */
	pass();
	return test_exit();
}
