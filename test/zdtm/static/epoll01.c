/*
 * epoll01: an epoll instance watching a pipe's read end through an fd
 * closed since; the pipe is still open at a dup of it, so the epoll still
 * holds the watch. Restore registers watches by fd, so the checkpoint must
 * be refused, naming it (.desc crfail), and the task carries on untouched:
 * data written to the pipe is reported by the epoll. Sabotage reads the
 * data first.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 42};
	int ep, p[2], d;
	char c;

	test_init(argc, argv);
	ep = epoll_create1(0);
	if (ep < 0 || pipe(p) || epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) || (d = dup(p[0])) < 0 || close(p[0])) {
		fail("watch the pipe, close its fd");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (write(p[1], "x", 1) != 1)
		fail("write");
	if (test_sabotage())
		read(d, &c, 1);
	if (epoll_wait(ep, &ev, 1, 0) != 1 || ev.data.u64 != 42)
		fail("the epoll does not report the pipe");
	pass();
	return test_exit();
}
