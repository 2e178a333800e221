/*
 * pipe01: the status flags and signal-driven I/O of each pipe end are the
 * end's own. Pipe a has O_NONBLOCK on its read end only, pipe b on its
 * write end only; pipe c's read end has O_ASYNC, the process as owner
 * (F_SETOWN) and a real-time signal (F_SETSIG), its write end O_ASYNC with
 * the default SIGIO. a's read end is also opened a second time through
 * /proc/self/fd: a description of its own, without O_NONBLOCK. After
 * restore each end has exactly its flags, owner
 * and signal, a read of the empty pipe a fails with EAGAIN, and data
 * written to c raises the chosen signal naming c's read end. Sabotage
 * turns O_NONBLOCK off on a's read end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

static void flags(const char *what, int fd, int want)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || (fl & (O_NONBLOCK | O_ASYNC)) != want)
		fail("%s: flags %#x, want O_NONBLOCK|O_ASYNC bits %#x", what, fl, want);
}

int main(int argc, char **argv)
{
	int a[2], b[2], c[2], a2, rt, s;
	char link[64];
	struct timespec now = {0, 0};
	siginfo_t si;
	sigset_t set;
	char ch = 'x';

	test_init(argc, argv);
	rt = SIGRTMIN + 2;
	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	sigaddset(&set, rt);
	if (sigprocmask(SIG_BLOCK, &set, NULL) || pipe(a) || pipe(b) || pipe(c)) {
		fail("make the pipes");
		return 1;
	}
	if (fcntl(a[0], F_SETFL, O_NONBLOCK) || fcntl(b[1], F_SETFL, O_NONBLOCK) ||
	    fcntl(c[0], F_SETOWN, getpid()) || fcntl(c[0], F_SETSIG, rt) || fcntl(c[0], F_SETFL, O_ASYNC) ||
	    fcntl(c[1], F_SETOWN, getpid()) || fcntl(c[1], F_SETFL, O_ASYNC)) {
		fail("set the flags");
		return 1;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", a[0]);
	a2 = open(link, O_RDONLY);
	if (a2 < 0) {
		fail("reopen a's read end");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		fcntl(a[0], F_SETFL, 0);
	flags("a read end", a[0], O_NONBLOCK);
	flags("a read end reopened", a2, 0);
	flags("a write end", a[1], 0);
	flags("b read end", b[0], 0);
	flags("b write end", b[1], O_NONBLOCK);
	flags("c read end", c[0], O_ASYNC);
	flags("c write end", c[1], O_ASYNC);
	if (fcntl(c[0], F_GETOWN) != getpid() || fcntl(c[1], F_GETOWN) != getpid())
		fail("c owners %d %d, want %d", fcntl(c[0], F_GETOWN), fcntl(c[1], F_GETOWN), getpid());
	if ((s = fcntl(c[0], F_GETSIG)) != rt || fcntl(c[1], F_GETSIG) != 0)
		fail("c signals %d %d, want %d 0", s, fcntl(c[1], F_GETSIG), rt);
	if (fcntl(a[0], F_GETFL) & O_NONBLOCK) {
		if (read(a[0], &ch, 1) != -1 || errno != EAGAIN)
			fail("a: read of the empty pipe did not fail with EAGAIN");
	}
	if (write(c[1], &ch, 1) != 1) {
		fail("c: write");
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, rt);
	if (sigtimedwait(&set, &si, &now) != rt)
		fail("c: data arrived and signal %d was not raised", rt);
	else if (si.si_fd != c[0] || si.si_code != POLL_IN)
		fail("c: signal for fd %d code %d, want fd %d POLL_IN", si.si_fd, si.si_code, c[0]);
	pass();
	return test_exit();
}
