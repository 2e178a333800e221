/*
 * pidfd00: pidfds of processes of the tree are restored as pidfds of the
 * same processes: one of a child (non-blocking), one of the test itself.
 * After restore the child's pidfd signals and reaps the child (waitid
 * P_PIDFD names the child's pid), and the test's own names the test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

/* fdinfo_pid returns the "Pid:" of a pidfd's fdinfo. */
static int fdinfo_pid(int fd)
{
	char path[64], line[256];
	int v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Pid:", 4))
			v = atoi(line + 4);
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	int child_fd, self_fd;
	siginfo_t si;
	pid_t child;

	test_init(argc, argv);
	child = test_fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		for (;;)
			pause();
	}
	child_fd = syscall(SYS_pidfd_open, child, PIDFD_NONBLOCK);
	self_fd = syscall(SYS_pidfd_open, getpid(), 0);
	if (child_fd < 0 || self_fd < 0) {
		fail("pidfd_open");
		kill(child, SIGKILL);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		dup2(self_fd, child_fd);

	if (fdinfo_pid(self_fd) != getpid())
		fail("the test's own pidfd names pid %d, want %d", fdinfo_pid(self_fd), getpid());
	if (fdinfo_pid(child_fd) != child)
		fail("the child's pidfd names pid %d, want %d", fdinfo_pid(child_fd), child);
	if (!(fcntl(child_fd, F_GETFL) & O_NONBLOCK) || (fcntl(self_fd, F_GETFL) & O_NONBLOCK))
		fail("PIDFD_NONBLOCK changed");
	/* Non-blocking: the child is alive, so there is nothing to reap yet. */
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, child_fd, &si, WEXITED) != -1 || errno != EAGAIN)
		fail("waitid on the live child's non-blocking pidfd did not fail with EAGAIN");
	if (syscall(SYS_pidfd_send_signal, child_fd, SIGKILL, NULL, 0))
		fail("pidfd_send_signal to the child: %m");
	memset(&si, 0, sizeof(si));
	fcntl(child_fd, F_SETFL, 0);
	if (waitid(P_PIDFD, child_fd, &si, WEXITED))
		fail("waitid P_PIDFD: %m");
	else if (si.si_pid != child || si.si_code != CLD_KILLED || si.si_status != SIGKILL)
		fail("waitid P_PIDFD reaped pid %d (code %d, status %d), want the child %d killed", si.si_pid, si.si_code, si.si_status, child);
	kill(child, SIGKILL);
	pass();
	return test_exit();
}
