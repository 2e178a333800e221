/*
 * zombie00: zombies stay zombies across C/R, with their exit status, and
 * their parent can still wait for them. The init and one of its children
 * each hold zombies that exited with 0, 3 and 255, and that were killed by
 * SIGKILL, SIGUSR1 and SIGSEGV (core dumps off). After C/R each must
 * still be in state Z under the same parent, and waitid must report the
 * same si_code and si_status.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nsutil.h"

static const struct how {
	int code; /* CLD_EXITED or CLD_KILLED */
	int val;  /* exit status or signal */
} hows[] = {
	{ CLD_EXITED, 0 }, { CLD_EXITED, 3 }, { CLD_EXITED, 255 },
	{ CLD_KILLED, SIGKILL }, { CLD_KILLED, SIGUSR1 }, { CLD_KILLED, SIGSEGV },
};
#define NZ (int)(sizeof(hows) / sizeof(hows[0]))

static int make_zombies(pid_t *z)
{
	for (int i = 0; i < NZ; i++) {
		z[i] = test_fork();
		if (z[i] < 0) {
			fail("fork zombie %d", i);
			return -1;
		}
		if (z[i] == 0) {
			if (hows[i].code == CLD_EXITED)
				_exit(hows[i].val);
			signal(hows[i].val, SIG_DFL);
			raise(hows[i].val);
			_exit(100);
		}
		if (wait_zombie(z[i])) {
			fail("wait for zombie %d to exit", z[i]);
			return -1;
		}
	}
	return 0;
}

static void check_zombies(const pid_t *z)
{
	struct pstat st;
	siginfo_t si;

	for (int i = 0; i < NZ; i++) {
		if (pstat_read(z[i], &st))
			fail("zombie %d is gone", z[i]);
		else if (st.state != 'Z' || st.ppid != getpid())
			fail("zombie %d: state %c parent %d, want Z and %d", z[i], st.state, st.ppid, getpid());
		si.si_pid = 0;
		if (waitid(P_PID, z[i], &si, WEXITED | WNOHANG) || si.si_pid != z[i]) {
			fail("waitid(%d) found no exited child", z[i]);
			continue;
		}
		if (si.si_code != hows[i].code || si.si_status != hows[i].val)
			fail("zombie %d: si_code %d si_status %d, want %d %d", z[i], si.si_code, si.si_status,
			     hows[i].code, hows[i].val);
	}
}

static int middle(void *arg)
{
	pid_t z[NZ];

	(void)arg;
	if (make_zombies(z))
		return 1;
	test_daemon();
	test_waitsig();
	check_zombies(z);
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit nocore = { 0, 0 };
	pid_t z[NZ];

	test_init(argc, argv);
	if (setrlimit(RLIMIT_CORE, &nocore)) {
		fail("setrlimit(RLIMIT_CORE)");
		return 1;
	}
	if (make_zombies(z) || test_spawn(middle, NULL) < 0)
		return 1;

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		waitpid(z[1], NULL, 0);
	check_zombies(z);
	test_stop_children();
	pass();
	return test_exit();
}
