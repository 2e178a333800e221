/*
 * timens00: a task in a time namespace of its own (a CLOCK_MONOTONIC
 * offset of a day) cannot be restored with its clocks yet: the checkpoint
 * must be refused, naming the namespace (crfail), and the task carry on
 * with its offset. Sabotage ends the task.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int main(int argc, char **argv)
{
	char path[64], buf[256] = "";
	int fd, p[2], q[2];
	pid_t pid;
	FILE *f;

	test_init(argc, argv);
	if (unshare(CLONE_NEWTIME)) {
		fail("unshare(CLONE_NEWTIME)");
		return 1;
	}
	/* Offsets can be set until a task enters the namespace. */
	fd = open("/proc/self/timens_offsets", O_WRONLY);
	if (fd < 0 || dprintf(fd, "monotonic 86400 0\n") < 0 || close(fd)) {
		fail("write timens_offsets");
		return 1;
	}
	if (pipe(p) || pipe(q)) {
		fail("pipe");
		return 1;
	}
	pid = test_fork();
	if (pid == 0) {
		char c = 0;

		close(p[1]);
		close(q[0]);
		/* Ready once it holds only what it keeps. */
		if (write(q[1], &c, 1) != 1)
			_exit(2);
		close(q[1]);
		/* Stays until the test closes the pipe. */
		_exit(read(p[0], &c, 1) == 0 ? 0 : 1);
	}
	close(p[0]);
	close(q[1]);
	/* A byte, then end of file once the child has closed its end. */
	if (read(q[0], buf, 1) != 1 || read(q[0], buf, 1) != 0) {
		fail("the child did not get ready");
		return 1;
	}
	close(q[0]);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		kill(pid, SIGKILL), waitpid(pid, NULL, 0);
	snprintf(path, sizeof(path), "/proc/%d/timens_offsets", pid);
	f = fopen(path, "r");
	if (!f || !fread(buf, 1, sizeof(buf) - 1, f) || !strstr(buf, "86400"))
		fail("the child lost its time namespace offset (%s)", buf);
	if (f)
		fclose(f);
	close(p[1]);
	waitpid(pid, NULL, 0);
	pass();
	return test_exit();
}
