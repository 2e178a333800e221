/*
 * pidfd01: a pidfd of a child that has exited and was reaped. Restore has
 * no process to make it a pidfd of, so the checkpoint must be refused,
 * naming it (.desc crfail), and the task carries on untouched: the pidfd
 * is still readable (the process exited) and names no pid. Sabotage
 * closes it.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct pollfd p;
	pid_t c;
	int fd;

	test_init(argc, argv);
	c = test_fork();
	if (c == 0)
		_exit(0);
	if (c < 0 || (fd = syscall(SYS_pidfd_open, c, 0)) < 0 || waitpid(c, NULL, 0) != c) {
		fail("a pidfd of a reaped child");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		close(fd);
	p.fd = fd;
	p.events = POLLIN;
	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN))
		fail("the pidfd of the exited child does not poll readable (revents %#x)", p.revents);
	pass();
	return test_exit();
}
