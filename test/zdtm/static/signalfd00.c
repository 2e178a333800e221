/*
 * signalfd00: signalfds keep their mask and mode across C/R, and still read
 * the signals of the task: a non-blocking signalfd for SIGUSR1 and SIGRTMIN+2
 * with a SIGUSR1 pending (blocked) at checkpoint, which it must read after
 * restore, and nothing else; a blocking one for SIGUSR2 only.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "zdtmtst.h"

/* fdinfo_sigmask returns the "sigmask:" of the fd's fdinfo. */
static unsigned long long fdinfo_sigmask(int fd)
{
	char path[64], line[256];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "sigmask:", 8))
			v = strtoull(line + 8, NULL, 16);
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	struct signalfd_siginfo si;
	sigset_t m1, m2, block;
	unsigned long long want1, want2;
	int sfd1, sfd2;

	test_init(argc, argv);
	sigemptyset(&m1);
	sigaddset(&m1, SIGUSR1);
	sigaddset(&m1, SIGRTMIN + 2);
	sigemptyset(&m2);
	sigaddset(&m2, SIGUSR2);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGRTMIN + 2);
	if (sigprocmask(SIG_BLOCK, &block, NULL)) {
		fail("sigprocmask");
		return 1;
	}
	sfd1 = signalfd(-1, &m1, SFD_NONBLOCK);
	sfd2 = signalfd(-1, &m2, 0);
	if (sfd1 < 0 || sfd2 < 0) {
		fail("signalfd");
		return 1;
	}
	want1 = (1ULL << (SIGUSR1 - 1)) | (1ULL << (SIGRTMIN + 2 - 1));
	want2 = 1ULL << (SIGUSR2 - 1);
	if (kill(getpid(), SIGUSR1)) {
		fail("kill");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		read(sfd1, &si, sizeof(si));

	if (fdinfo_sigmask(sfd1) != want1 || fdinfo_sigmask(sfd2) != want2)
		fail("masks %#llx and %#llx, want %#llx and %#llx", fdinfo_sigmask(sfd1), fdinfo_sigmask(sfd2), want1, want2);
	if (!(fcntl(sfd1, F_GETFL) & O_NONBLOCK) || (fcntl(sfd2, F_GETFL) & O_NONBLOCK))
		fail("non-blocking modes changed");
	if (read(sfd1, &si, sizeof(si)) != sizeof(si))
		fail("the pending SIGUSR1 is not readable from the signalfd: %m");
	else if (si.ssi_signo != SIGUSR1)
		fail("read signal %u, want SIGUSR1", si.ssi_signo);
	if (read(sfd1, &si, sizeof(si)) != -1 || errno != EAGAIN)
		fail("a second read gave a signal (%u) or did not fail with EAGAIN", si.ssi_signo);
	/* A signal sent now arrives through the restored file. */
	kill(getpid(), SIGRTMIN + 2);
	if (read(sfd1, &si, sizeof(si)) != sizeof(si) || si.ssi_signo != (unsigned)SIGRTMIN + 2)
		fail("SIGRTMIN+2 sent after restore not read from the signalfd");
	kill(getpid(), SIGUSR2);
	if (read(sfd2, &si, sizeof(si)) != sizeof(si) || si.ssi_signo != SIGUSR2)
		fail("SIGUSR2 sent after restore not read from the second signalfd");
	pass();
	return test_exit();
}
