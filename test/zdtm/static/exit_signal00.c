/*
 * exit_signal00: a child's exit signal (clone(2)'s exit_signal) survives
 * C/R. The init has a child made with exit signal SIGUSR1, one with none
 * (0), and a zombie made with SIGUSR2. A parent waits for such children
 * only with __WCLONE or __WALL: plain waitpid must not see them, and
 * /proc/PID/stat field 38 must still name their signal.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nsutil.h"

static int exit_signal_of(pid_t pid)
{
	char path[64], buf[1024], *p;
	int fd, n, field = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strrchr(buf, ')');
	/* After ")" comes field 3; field 38 is 35 fields on. */
	for (field = 2; p && field < 38; field++)
		p = strchr(p + 1, ' ');
	return p ? atoi(p + 1) : -1;
}

/* ready carries one byte from each waiting child once it holds only the
 * read end of the pipe it waits on: the runner's view of its fds is then
 * settled. */
static int ready[2];

/* child forks with exit signal sig; the child waits on the pipe p, or
 * exits with code at once if p is NULL. */
static pid_t child(int sig, int *p, int code)
{
	pid_t pid = syscall(SYS_clone, sig, NULL, NULL, NULL, 0);
	char c = 0;

	if (pid == 0) {
		if (!p)
			_exit(code);
		close(p[1]);
		close(ready[0]);
		if (write(ready[1], &c, 1) != 1)
			_exit(2);
		close(ready[1]);
		_exit(read(p[0], &c, 1) == 0 ? 0 : 1);
	}
	return pid;
}

int main(int argc, char **argv)
{
	struct {
		pid_t pid;
		int sig;
	} c[3] = { { 0, SIGUSR1 }, { 0, 0 }, { 0, SIGUSR2 } };
	int p[2], status;
	siginfo_t si;

	test_init(argc, argv);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	if (pipe(p) || pipe(ready)) {
		fail("pipe");
		return 1;
	}
	c[0].pid = child(c[0].sig, p, 0);
	c[1].pid = child(c[1].sig, p, 0);
	c[2].pid = child(c[2].sig, NULL, 7);
	if (c[0].pid < 0 || c[1].pid < 0 || c[2].pid < 0) {
		fail("clone");
		return 1;
	}
	close(p[0]);
	close(ready[1]);
	/* Two bytes, then end of file once both have closed their end. */
	{
		char b;
		int n = 0;

		while (read(ready[0], &b, 1) == 1)
			n++;
		if (n != 2) {
			fail("%d children got ready, want 2", n);
			return 1;
		}
	}
	close(ready[0]);
	if (waitid(P_PID, c[2].pid, &si, WEXITED | WNOWAIT | __WCLONE)) {
		fail("wait for the zombie");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		waitpid(c[2].pid, NULL, __WCLONE);
	for (int i = 0; i < 3; i++) {
		if (exit_signal_of(c[i].pid) != c[i].sig)
			fail("child %d: exit signal %d, want %d", c[i].pid, exit_signal_of(c[i].pid), c[i].sig);
		if (waitpid(c[i].pid, &status, WNOHANG) != -1)
			fail("plain waitpid sees child %d", c[i].pid);
	}
	if (waitpid(c[2].pid, &status, __WCLONE) != c[2].pid || !WIFEXITED(status) || WEXITSTATUS(status) != 7)
		fail("the zombie is not a clone child that exited 7");
	close(p[1]);
	for (int i = 0; i < 2; i++)
		if (waitpid(c[i].pid, &status, __WALL) != c[i].pid || !WIFEXITED(status) || WEXITSTATUS(status))
			fail("child %d did not exit 0", c[i].pid);
	pass();
	return test_exit();
}
