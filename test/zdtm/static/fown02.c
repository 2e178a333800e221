/*
 * fown02: signal-driven I/O on a pipe shared with a child, armed while the
 * process ran with another effective uid (the kernel keeps the credentials
 * of whoever called F_SETOWN, and checks them when it signals). Both ends
 * have the process as owner, SIGIO chosen with F_SETSIG and O_ASYNC. After
 * restore each end still has its owner, signal and flags in both tasks,
 * and data the child writes raises SIGIO in the parent, caught by its
 * handler. Sabotage turns O_ASYNC off on the read end.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

static int p[2];
static pid_t parent;
static volatile sig_atomic_t sigio;

static void on_sigio(int sig)
{
	(void)sig;
	sigio++;
}

static int check(const char *who)
{
	int i;

	for (i = 0; i < 2; i++) {
		int fl = fcntl(p[i], F_GETFL), own = fcntl(p[i], F_GETOWN), sig = fcntl(p[i], F_GETSIG);

		if (!(fl & O_ASYNC) || own != parent || sig != SIGIO) {
			fail("%s: end %d: flags %#x owner %d signal %d, want O_ASYNC, %d, %d", who, i, fl, own, sig, parent, SIGIO);
			return -1;
		}
	}
	return 0;
}

static int child(void *arg)
{
	(void)arg;
	test_daemon();
	test_waitsig();
	check("child");
	/* written even after a failed check: the parent reads it */
	if (write(p[1], "x", 1) != 1) {
		fail("child: write");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	uid_t ruid, euid, suid;
	char c;

	test_init(argc, argv);
	parent = getpid();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigio;
	sa.sa_flags = SA_RESTART;
	if (pipe(p) || sigaction(SIGIO, &sa, NULL) || getresuid(&ruid, &euid, &suid)) {
		fail("pipe, sigaction");
		return 1;
	}
	if (setresuid(-1, 1, -1)) {
		fail("setresuid");
		return 1;
	}
	if (fcntl(p[0], F_SETOWN, parent) || fcntl(p[1], F_SETOWN, parent) || fcntl(p[0], F_SETSIG, SIGIO) ||
	    fcntl(p[1], F_SETSIG, SIGIO) || fcntl(p[0], F_SETFL, O_ASYNC) || fcntl(p[1], F_SETFL, O_ASYNC)) {
		fail("arm the pipe");
		return 1;
	}
	if (setresuid(-1, euid, -1)) {
		fail("setresuid back");
		return 1;
	}
	if (test_spawn(child, NULL) < 0)
		return 1;

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		fcntl(p[0], F_SETFL, 0);
	check("parent");
	if (test_stop_children())
		fail("the child failed");
	if (read(p[0], &c, 1) != 1)
		fail("read what the child wrote");
	if (sigio < 1)
		fail("no SIGIO arrived");
	pass();
	return test_exit();
}
