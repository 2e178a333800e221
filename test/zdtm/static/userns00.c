/*
 * userns00: a task in a user namespace of its own cannot be restored in it
 * yet: the checkpoint must be refused, naming the namespace (crfail), and
 * the task carry on in it. Sabotage ends the task.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static int ns_of(pid_t pid, char *buf, size_t n)
{
	char path[64];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	len = readlink(path, buf, n - 1);
	if (len < 0)
		return -1;
	buf[len] = 0;
	return 0;
}

int main(int argc, char **argv)
{
	char mine[64], its[64];
	int p[2], q[2];
	pid_t pid;
	char c;

	test_init(argc, argv);
	if (pipe(p) || pipe(q)) {
		fail("pipe");
		return 1;
	}
	pid = test_fork();
	if (pid == 0) {
		close(p[1]);
		close(q[0]);
		if (unshare(CLONE_NEWUSER) || write(q[1], "x", 1) != 1)
			_exit(1);
		close(q[1]);
		/* Stays until the test closes the pipe. */
		_exit(read(p[0], &c, 1) == 0 ? 0 : 1);
	}
	close(p[0]);
	close(q[1]);
	/* A byte, then end of file once the child has closed its end. */
	if (read(q[0], &c, 1) != 1 || read(q[0], &c, 1) != 0) {
		fail("the child made no user namespace");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		kill(pid, SIGKILL), waitpid(pid, NULL, 0);
	if (ns_of(getpid(), mine, sizeof(mine)) || ns_of(pid, its, sizeof(its)) || !strcmp(mine, its))
		fail("the child is no longer in its own user namespace");
	close(p[1]);
	waitpid(pid, NULL, 0);
	pass();
	return test_exit();
}
