/*
 * seccomp02: strict seccomp mode survives C/R. The init's child A enters
 * SECCOMP_MODE_STRICT and waits in read(2) on a pipe from the init (a
 * strict task may only read, write, exit and sigreturn, and the checkpoint
 * and restore inject many other syscalls into it). After restore the init
 * finds "Seccomp: 1" in A's status, A echoes a byte back through another
 * pipe, and then calls getpid, for which strict mode kills it with
 * SIGKILL. Sabotage kills A first.
 */
#define _GNU_SOURCE
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsutil.h"

/* seccomp_mode returns the Seccomp: field of pid's status, or -1. */
static int seccomp_mode(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	int mode = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Seccomp:", 8))
			mode = atoi(line + 8);
	if (f)
		fclose(f);
	return mode;
}

int main(int argc, char **argv)
{
	int to_a[2], from_a[2], status;
	char c = 0;
	pid_t a;

	test_init(argc, argv);
	if (pipe(to_a) || pipe(from_a)) {
		fail("pipes");
		return 1;
	}
	a = test_fork();
	if (a < 0) {
		fail("fork A");
		return 1;
	}
	if (a == 0) {
		close(to_a[1]);
		close(from_a[0]);
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0))
			syscall(SYS_exit, 2);
		/* From here on only read, write, exit and sigreturn. */
		while (syscall(SYS_read, to_a[0], &c, 1) != 1)
			;
		syscall(SYS_write, from_a[1], &c, 1);
		syscall(SYS_getpid); /* killed here */
		syscall(SYS_exit, 3);
	}
	close(to_a[0]);
	close(from_a[1]);
	while (seccomp_mode(a) != 1)
		if (seccomp_mode(a) < 0) {
			fail("A is gone before C/R");
			return 1;
		}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		kill(a, SIGKILL);
	if (seccomp_mode(a) != 1)
		fail("A: seccomp mode %d, want 1 (strict)", seccomp_mode(a));
	c = 'k';
	if (write(to_a[1], &c, 1) != 1 || read(from_a[0], &c, 1) != 1 || c != 'k')
		fail("A did not echo the byte back");
	if (waitpid(a, &status, 0) != a || !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		fail("A ended with status %#x, want killed by SIGKILL for its getpid", status);
	pass();
	return test_exit();
}
