/*
 * pause00: the main thread is blocked in pause() at checkpoint time. After
 * restore, pause() must go on blocking until a signal with a handler
 * arrives: the runner sends SIGUSR1 (its .desc "presig") before SIGTERM.
 * A restore that let pause() return by itself shows up as a return without
 * SIGUSR1.
 */
#include <signal.h>
#include <unistd.h>

#include "zdtmtst.h"

static volatile sig_atomic_t got_usr1;

static void usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = usr1 };
	int r, err;

	test_init(argc, argv);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL)) {
		fail("sigaction SIGUSR1");
		return 1;
	}

	test_daemon();
	if (test_sabotage())
		signal(SIGUSR1, SIG_IGN);
	r = pause();
	err = errno;
	if (r != -1 || err != EINTR)
		fail("pause returned %d errno %d, want -1 EINTR", r, err);
	if (!got_usr1)
		fail("pause returned without SIGUSR1");
	test_waitsig();
	pass();
	return test_exit();
}
