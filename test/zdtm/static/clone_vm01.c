/*
 * clone_vm01: two processes share an address space that their parent no
 * longer has (it made both with clone(CLONE_VM) and then exec'd). Restore
 * can only give a task its parent's objects, so the checkpoint must be
 * refused, naming the address space, and leave the three as they were:
 * the two still share their mm. Sabotage ends one of them.
 */
#define _GNU_SOURCE
#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define STACK (64 * 1024)

/* sibling touches nothing of libc but syscall(): it runs on the TLS of a
 * process that has since exec'd (its old mm lives on in the siblings). */
static int sibling(void *arg)
{
	(void)arg;
	/* Nothing of the parent's but the mm: its launcher waits for the
	 * end of a pipe we would hold. */
	syscall(SYS_close_range, 3, ~0U, 0);
	for (;;)
		syscall(SYS_pause);
	return 0;
}

int main(int argc, char **argv)
{
	int p[2], status;
	pid_t mid, sib[2];

	test_init(argc, argv);
	if (pipe(p)) {
		fail("pipe");
		return 1;
	}
	mid = fork();
	if (mid < 0) {
		fail("fork");
		return 1;
	}
	if (mid == 0) {
		close(p[0]);
		for (int i = 0; i < 2; i++) {
			char *stack = malloc(STACK);

			sib[i] = clone(sibling, stack + STACK, CLONE_VM | SIGCHLD, NULL);
			if (sib[i] < 0)
				_exit(1);
		}
		if (write(p[1], sib, sizeof(sib)) != sizeof(sib))
			_exit(2);
		close(p[1]);
		execl("/bin/sleep", "sleep", "1000000", (char *)NULL);
		_exit(3);
	}
	close(p[1]);
	if (read(p[0], sib, sizeof(sib)) != sizeof(sib)) {
		fail("the middle process did not make the siblings");
		return 1;
	}
	close(p[0]);
	/* Its exec is done when its name changes. */
	for (int i = 0; i < 5000; i++) {
		char path[64], comm[32] = { 0 };
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/comm", mid);
		f = fopen(path, "r");
		if (f && fgets(comm, sizeof(comm), f) && !strncmp(comm, "sleep", 5)) {
			fclose(f);
			break;
		}
		if (f)
			fclose(f);
		usleep(1000);
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		kill(sib[1], SIGKILL);
		/* It lets go of the mm as it dies. */
		for (int i = 0; i < 2000 && !syscall(SYS_kcmp, sib[0], sib[1], KCMP_VM, 0, 0); i++)
			usleep(1000);
	}
	if (syscall(SYS_kcmp, sib[0], sib[1], KCMP_VM, 0, 0) != 0)
		fail("siblings %d and %d no longer share their mm", sib[0], sib[1]);
	if (syscall(SYS_kcmp, mid, sib[0], KCMP_VM, 0, 0) == 0)
		fail("the middle process %d shares the siblings' mm again", mid);
	kill(sib[0], SIGKILL);
	kill(sib[1], SIGKILL);
	kill(mid, SIGKILL);
	while (waitpid(-1, &status, 0) > 0)
		;
	pass();
	return test_exit();
}
