/*
 * clone_vm00: two processes sharing one mm (clone(CLONE_VM) without
 * CLONE_THREAD: two thread groups, one address space) still share it after
 * C/R: kcmp(KCMP_VM) says so, and a page the init maps after restore is
 * readable by the other process at the same address with the same bytes.
 * Sabotage replaces the partner by one with a copy of the mm.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PAGE 4096
#define STACK (256 * 1024)

/* The partner's mailbox: state goes 0 (idle), 1 (request at addr), 2
 * (answer ready), 3 (leave). */
static volatile uint32_t state, ready;
static volatile uintptr_t addr;
static volatile uint32_t answer;

static void futex(volatile uint32_t *w, int op, uint32_t val)
{
	syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

/* partner touches nothing of libc but syscall(): it runs on the init's
 * TLS. */
static int partner(void *arg)
{
	(void)arg;
	ready = 1;
	futex(&ready, FUTEX_WAKE, 1);
	for (;;) {
		uint32_t s = state;

		if (s == 3)
			return 0;
		if (s == 1) {
			uint32_t sum = 0;

			for (int i = 0; i < PAGE; i++)
				sum = sum * 31 + ((volatile uint8_t *)addr)[i];
			answer = sum;
			state = 2;
			futex(&state, FUTEX_WAKE, 1);
			continue;
		}
		futex(&state, FUTEX_WAIT, s);
	}
}

static pid_t start_partner(int flags)
{
	char *stack = malloc(STACK);
	pid_t pid;

	ready = 0;
	pid = clone(partner, stack + STACK, flags | SIGCHLD, NULL);
	if (pid < 0)
		return -1;
	/* Only a partner in our mm can tell us it runs. */
	while (!ready && (flags & CLONE_VM))
		futex(&ready, FUTEX_WAIT, 0);
	return pid;
}

int main(int argc, char **argv)
{
	uint32_t crc = 5, sum = 0;
	int status;
	pid_t pid;
	uint8_t *p;

	test_init(argc, argv);
	pid = start_partner(CLONE_VM);
	if (pid < 0) {
		fail("clone(CLONE_VM)");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		/* The same partner, but with a copy of the mm: it only sees
		 * its copy of the mailbox, so it is asked nothing. */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = start_partner(0);
	}
	if (syscall(SYS_kcmp, getpid(), pid, KCMP_VM, 0, 0) != 0) {
		fail("kcmp(KCMP_VM) says %d and %d no longer share their mm", getpid(), pid);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pass();
		return test_exit();
	}
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	datagen(p, PAGE, &crc);
	for (int i = 0; i < PAGE; i++)
		sum = sum * 31 + p[i];
	addr = (uintptr_t)p;
	state = 1;
	futex(&state, FUTEX_WAKE, 1);
	while (state != 2) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fail("the partner %d ended (status %#x) before answering", pid, status);
			return 1;
		}
		futex(&state, FUTEX_WAIT, 1);
	}
	if (answer != sum)
		fail("the partner read %#x from the new page, want %#x", answer, sum);
	state = 3;
	futex(&state, FUTEX_WAKE, 1);
	if (waitpid(pid, &status, 0) != pid || status)
		fail("the partner %d ended with %#x", pid, status);
	pass();
	return test_exit();
}
