/* Test tracee for internal/ptrace. Built by main_test.go with gcc.
 *   helper pause  - SIGUSR1 handler exits with the sigqueue value (100 if
 *                   not SI_QUEUE); blocks in one pause(); exits 99 if pause
 *                   ever returns to it.
 *   helper block  - blocks SIGUSR1 and SIGUSR2, then pauses forever.
 *   helper thread - a second thread pauses forever; the main thread waits
 *                   in pthread_join.
 * Both print "ready" once set up. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	_exit(si->si_code == SI_QUEUE ? si->si_value.sival_int : 100);
}

static void *pauser(void *arg)
{
	(void)arg;
	if (write(1, "ready\n", 6) != 6)
		_exit(4);
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (strcmp(mode, "pause") == 0) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_usr1;
		sa.sa_flags = SA_SIGINFO;
		if (sigaction(SIGUSR1, &sa, NULL))
			return 3;
		if (write(1, "ready\n", 6) != 6)
			return 4;
		pause();
		_exit(99);
	}
	if (strcmp(mode, "block") == 0) {
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigaddset(&set, SIGUSR2);
		if (sigprocmask(SIG_BLOCK, &set, NULL))
			return 3;
		if (write(1, "ready\n", 6) != 6)
			return 4;
		for (;;)
			pause();
	}
	if (strcmp(mode, "thread") == 0) {
		pthread_t th;

		if (pthread_create(&th, NULL, pauser, NULL))
			return 3;
		pthread_join(th, NULL);
	}
	return 2;
}
