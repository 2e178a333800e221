/*
 * fown00: signal-driven I/O survives C/R. A socket with O_ASYNC, the
 * process as its owner and a real-time signal chosen with F_SETSIG; a pipe
 * with O_ASYNC and the default SIGIO; a socket with only an owner (its
 * main thread, for SIGURG) and no O_ASYNC. After restore each keeps its
 * owner, signal and flags, and data arriving on the first two raises their
 * signal, naming the fd.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

static int check_owner(const char *what, int fd, int type, pid_t pid, int sig, int async)
{
	struct f_owner_ex own;
	int fl, s;

	if (fcntl(fd, F_GETOWN_EX, &own)) {
		fail("%s: F_GETOWN_EX", what);
		return -1;
	}
	if (own.type != type || own.pid != pid) {
		fail("%s: owner type %d pid %d, want type %d pid %d", what, own.type, own.pid, type, pid);
		return -1;
	}
	s = fcntl(fd, F_GETSIG);
	if (s != sig) {
		fail("%s: F_GETSIG %d, want %d", what, s, sig);
		return -1;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || !!(fl & O_ASYNC) != async) {
		fail("%s: flags %#x, want O_ASYNC %s", what, fl, async ? "on" : "off");
		return -1;
	}
	return 0;
}

/* raised checks that writing to wr raised sig for rd, now: the kernel
 * queues the signal before write(2) returns. */
static void raised(const char *what, int wr, int rd, int sig)
{
	struct timespec now = {0, 0};
	siginfo_t si;
	sigset_t set;
	char c = 'x';

	if (write(wr, &c, 1) != 1) {
		fail("%s: write", what);
		return;
	}
	sigemptyset(&set);
	sigaddset(&set, sig);
	if (sigtimedwait(&set, &si, &now) != sig) {
		fail("%s: data arrived and signal %d was not raised", what, sig);
		return;
	}
	if (sig != SIGIO && (si.si_fd != rd || si.si_code != POLL_IN))
		fail("%s: signal %d for fd %d code %d, want fd %d POLL_IN", what, sig, si.si_fd, si.si_code, rd);
}

int main(int argc, char **argv)
{
	int sk[2], urg[2], p[2], rt;
	struct f_owner_ex own;
	sigset_t set;

	test_init(argc, argv);
	rt = SIGRTMIN + 1;
	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	sigaddset(&set, rt);
	if (sigprocmask(SIG_BLOCK, &set, NULL)) {
		fail("sigprocmask");
		return 1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sk) || socketpair(AF_UNIX, SOCK_STREAM, 0, urg) || pipe(p)) {
		fail("socketpair / pipe");
		return 1;
	}
	own.type = F_OWNER_PID;
	own.pid = getpid();
	if (fcntl(sk[0], F_SETOWN_EX, &own) || fcntl(sk[0], F_SETSIG, rt) || fcntl(sk[0], F_SETFL, O_ASYNC | O_NONBLOCK)) {
		fail("arm the socket");
		return 1;
	}
	if (fcntl(p[0], F_SETOWN, getpid()) || fcntl(p[0], F_SETFL, O_ASYNC)) {
		fail("arm the pipe");
		return 1;
	}
	own.type = F_OWNER_TID;
	own.pid = gettid();
	if (fcntl(urg[0], F_SETOWN_EX, &own)) {
		fail("own the second socket");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		fcntl(sk[0], F_SETFL, O_NONBLOCK);
	if (check_owner("socket", sk[0], F_OWNER_PID, getpid(), rt, 1) == 0)
		raised("socket", sk[1], sk[0], rt);
	if (check_owner("pipe", p[0], F_OWNER_PID, getpid(), 0, 1) == 0)
		raised("pipe", p[1], p[0], SIGIO);
	check_owner("owner-only socket", urg[0], F_OWNER_TID, gettid(), 0, 0);
	pass();
	return test_exit();
}
