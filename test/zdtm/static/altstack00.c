/*
 * altstack00: the alternate signal stack survives C/R: sigaltstack() must
 * report the same stack, and an SA_ONSTACK handler must run on it.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zdtmtst.h"

#define ALT_SIZE (64 * 1024)

static uint8_t altstack[ALT_SIZE] __attribute__((aligned(64)));
static volatile uintptr_t handler_sp;
static volatile int handler_onstack;

static void usr1(int sig)
{
	stack_t cur;
	int local;

	(void)sig;
	handler_sp = (uintptr_t)&local;
	if (!sigaltstack(NULL, &cur))
		handler_onstack = !!(cur.ss_flags & SS_ONSTACK);
}

int main(int argc, char **argv)
{
	stack_t ss = { .ss_sp = altstack, .ss_size = ALT_SIZE, .ss_flags = 0 }, before, now;
	struct sigaction sa = { .sa_handler = usr1, .sa_flags = SA_ONSTACK };

	test_init(argc, argv);
	sigemptyset(&sa.sa_mask);
	if (sigaltstack(&ss, NULL) || sigaltstack(NULL, &before) || sigaction(SIGUSR1, &sa, NULL)) {
		fail("set up the alternate stack");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		stack_t off = { .ss_flags = SS_DISABLE };
		sigaltstack(&off, NULL);
	}
	if (sigaltstack(NULL, &now))
		fail("sigaltstack read");
	else if (now.ss_sp != before.ss_sp || now.ss_size != before.ss_size || now.ss_flags != before.ss_flags)
		fail("altstack %p+%zu flags %#x, want %p+%zu flags %#x", now.ss_sp, now.ss_size, now.ss_flags,
		     before.ss_sp, before.ss_size, before.ss_flags);
	raise(SIGUSR1);
	if (handler_sp < (uintptr_t)altstack || handler_sp >= (uintptr_t)altstack + ALT_SIZE || !handler_onstack)
		fail("SIGUSR1 handler ran on %#lx (onstack %d), not on the alternate stack %p+%d",
		     (unsigned long)handler_sp, handler_onstack, (void *)altstack, ALT_SIZE);
	pass();
	return test_exit();
}
