/* Test tracee for internal/ptrace. Built by main_test.go with gcc.
 *   helper pause  - SIGUSR1 handler exits with the sigqueue value (100 if
 *                   not SI_QUEUE); blocks in one pause(); exits 99 if pause
 *                   ever returns to it.
 *   helper block  - blocks SIGUSR1 and SIGUSR2, then pauses forever.
 *   helper thread - a second thread pauses forever; the main thread waits
 *                   in pthread_join.
 *   helper seccomp - installs two seccomp filters: first one of 4
 *                   instructions that kills the process on getppid, then
 *                   one of 1 instruction (allow all) with
 *                   SECCOMP_FILTER_FLAG_LOG; then pauses forever.
 * All print "ready" once set up. */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
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
	if (strcmp(mode, "seccomp") == 0) {
		struct sock_filter kill_getppid[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
		struct sock_fprog p1 = { 4, kill_getppid }, p2 = { 1, allow };

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p1) ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_LOG, &p2))
			return 3;
		if (write(1, "ready\n", 6) != 6)
			return 4;
		for (;;)
			pause();
	}
	return 2;
}
