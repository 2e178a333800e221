/*
 * sighand_shared00: two processes sharing one table of signal handlers
 * (CLONE_SIGHAND, which needs CLONE_VM) still share it after C/R. The
 * handlers set before (with their flags and masks) are intact; kcmp
 * (KCMP_SIGHAND) agrees; a handler the init installs after restore is the
 * partner's too, and a signal sent to the partner runs it there. Sabotage
 * replaces the partner by one with a copy of the table.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define STACK (256 * 1024)

static volatile uint32_t ready, go, ran_in;
static volatile int partner_bad;

static void futex(volatile uint32_t *w, int op, uint32_t val)
{
	syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
}

static void on_hup(int sig)
{
	(void)sig;
}

static void on_urg(int sig)
{
	(void)sig;
	ran_in = (uint32_t)syscall(SYS_getpid);
	futex(&ran_in, FUTEX_WAKE, 1);
}

/* partner runs on the init's TLS: syscalls only. It waits for go, then
 * checks that the handler installed meanwhile is in its table. */
static int partner(void *arg)
{
	struct sigaction sa;

	(void)arg;
	ready = 1;
	futex(&ready, FUTEX_WAKE, 1);
	while (!go)
		futex(&go, FUTEX_WAIT, 0);
	if (syscall(SYS_rt_sigaction, SIGURG, NULL, &sa, 8) || sa.sa_handler != on_urg)
		partner_bad = 1;
	go = 2;
	futex(&go, FUTEX_WAKE, 1);
	while (go != 3)
		futex(&go, FUTEX_WAIT, 2);
	return 0;
}

static pid_t start_partner(int flags)
{
	char *stack = malloc(STACK);

	ready = 0;
	return clone(partner, stack + STACK, flags | SIGCHLD, NULL);
}

static int check_old(void)
{
	struct sigaction sa;
	int bad = 0;

	if (sigaction(SIGUSR1, NULL, &sa) || sa.sa_sigaction != on_usr1 ||
	    (sa.sa_flags & (SA_SIGINFO | SA_RESTART | SA_ONSTACK)) != (SA_SIGINFO | SA_RESTART) ||
	    !sigismember(&sa.sa_mask, SIGUSR2) || sigismember(&sa.sa_mask, SIGHUP))
		fail("SIGUSR1: handler %p flags %#x", sa.sa_sigaction, sa.sa_flags), bad++;
	if (sigaction(SIGUSR2, NULL, &sa) || sa.sa_handler != SIG_IGN)
		fail("SIGUSR2 is no longer ignored"), bad++;
	if (sigaction(SIGHUP, NULL, &sa) || sa.sa_handler != on_hup || !(sa.sa_flags & SA_NODEFER))
		fail("SIGHUP: handler %p flags %#x", sa.sa_handler, sa.sa_flags), bad++;
	return bad;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO | SA_RESTART };
	pid_t pid;

	test_init(argc, argv);
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	if (sigaction(SIGUSR1, &sa, NULL) || signal(SIGUSR2, SIG_IGN) == SIG_ERR) {
		fail("install handlers");
		return 1;
	}
	sa = (struct sigaction){ .sa_handler = on_hup, .sa_flags = SA_NODEFER };
	if (sigaction(SIGHUP, &sa, NULL)) {
		fail("install handlers");
		return 1;
	}
	pid = start_partner(CLONE_VM | CLONE_SIGHAND);
	if (pid < 0) {
		fail("clone(CLONE_VM | CLONE_SIGHAND)");
		return 1;
	}
	while (!ready)
		futex(&ready, FUTEX_WAIT, 0);

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = start_partner(CLONE_VM);
		while (!ready)
			futex(&ready, FUTEX_WAIT, 0);
	}
	check_old();
	if (syscall(SYS_kcmp, getpid(), pid, KCMP_SIGHAND, 0, 0) != 0)
		fail("kcmp(KCMP_SIGHAND): %d and %d no longer share their handlers", getpid(), pid);
	if (signal(SIGURG, on_urg) == SIG_ERR)
		fail("install the SIGURG handler");
	go = 1;
	futex(&go, FUTEX_WAKE, 1);
	while (go != 2)
		futex(&go, FUTEX_WAIT, 1);
	if (partner_bad) {
		fail("the partner %d does not see the SIGURG handler the init installed", pid);
	} else {
		kill(pid, SIGURG);
		while (ran_in == 0)
			futex(&ran_in, FUTEX_WAIT, 0);
		if (ran_in != (uint32_t)pid)
			fail("the SIGURG handler ran in %u, want the partner %d", ran_in, pid);
	}
	go = 3;
	futex(&go, FUTEX_WAKE, 1);
	if (waitpid(pid, NULL, 0) != pid)
		fail("wait for the partner %d", pid);
	pass();
	return test_exit();
}
