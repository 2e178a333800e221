/*
 * zombie01: zombies whose process group leader is itself a zombie, made
 * with CLONE_PARENT so that leader and member are siblings under the test.
 *
 *   a: a child that leads its own group, then clones b with CLONE_PARENT
 *      (b is the test's child too, born in a's group); both exit.
 *   c: a child that clones d with CLONE_PARENT; d leads a new group, c
 *      joins it; both exit: the group's leader is the younger sibling.
 *
 *   e, f: as a, b, but the test reaps the leader e: f is a zombie in a
 *      group whose leader is gone;
 *   g, h: as c, d, and the test reaps the leader h.
 *
 * After C/R each is still a zombie of the test in the same group, and
 * waitid reports its exit status.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nsutil.h"

#define NZ 8

struct zinfo {
	pid_t pid, pgid;
	int status;
	int reaped;
};

/* clone_parent forks a sibling of the caller: raw clone, so the child
 * returns here like a fork child does. */
static pid_t clone_parent(void)
{
	return syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, 0);
}

/* pair makes the two zombies: with leader_first, the first child leads
 * the group and its CLONE_PARENT sibling joins it; otherwise the sibling
 * leads and the first child joins. z[0] and z[1] get the pids (first
 * child, sibling), rendezvous through a pipe. */
static int pair(int leader_first, int code, struct zinfo *z)
{
	int p[2], q[2];
	pid_t a;

	if (pipe(p) || pipe(q)) {
		fail("pipe");
		return -1;
	}
	a = test_fork();
	if (a < 0) {
		fail("fork");
		return -1;
	}
	if (a == 0) {
		pid_t b, me = getpid();
		char c = 0;

		if (leader_first && setpgid(0, 0))
			_exit(90);
		b = clone_parent();
		if (b < 0)
			_exit(91);
		if (b == 0) {
			/* the sibling */
			if (!leader_first) {
				if (setpgid(0, 0))
					_exit(92);
				if (write(q[1], &c, 1) != 1)
					_exit(93);
			}
			_exit(code + 1);
		}
		if (write(p[1], &b, sizeof(b)) != sizeof(b))
			_exit(94);
		if (!leader_first) {
			if (read(q[0], &c, 1) != 1 || setpgid(0, b))
				_exit(95);
		}
		(void)me;
		_exit(code);
	}
	z[0].pid = a;
	if (read(p[0], &z[1].pid, sizeof(z[1].pid)) != sizeof(z[1].pid)) {
		fail("read the sibling's pid");
		return -1;
	}
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	z[0].status = code;
	z[1].status = code + 1;
	for (int i = 0; i < 2; i++) {
		if (wait_zombie(z[i].pid)) {
			fail("wait for zombie %d", z[i].pid);
			return -1;
		}
	}
	z[0].pgid = z[1].pgid = leader_first ? z[0].pid : z[1].pid;
	return 0;
}

int main(int argc, char **argv)
{
	struct zinfo z[NZ];
	struct pstat st;
	siginfo_t si;

	test_init(argc, argv);
	memset(z, 0, sizeof(z));
	if (pair(1, 10, &z[0]) || pair(0, 20, &z[2]) || pair(1, 30, &z[4]) || pair(0, 40, &z[6]))
		return 1;
	/* The leaders of the last two groups are reaped. */
	z[4].reaped = z[7].reaped = 1;
	for (int i = 0; i < NZ; i++) {
		if (z[i].reaped) {
			if (waitpid(z[i].pid, NULL, 0) != z[i].pid) {
				fail("reap %d", z[i].pid);
				return 1;
			}
			continue;
		}
		if (pstat_read(z[i].pid, &st) || st.state != 'Z' || st.pgid != z[i].pgid) {
			fail("setup: %d is not a zombie in group %d", z[i].pid, z[i].pgid);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		waitpid(z[1].pid, NULL, 0);
	for (int i = 0; i < NZ; i++) {
		if (z[i].reaped)
			continue;
		if (pstat_read(z[i].pid, &st)) {
			fail("zombie %d is gone", z[i].pid);
			continue;
		}
		if (st.state != 'Z' || st.ppid != getpid() || st.pgid != z[i].pgid)
			fail("zombie %d: state %c parent %d group %d, want Z %d %d", z[i].pid, st.state,
			     st.ppid, st.pgid, getpid(), z[i].pgid);
		si.si_pid = 0;
		if (waitid(P_PID, z[i].pid, &si, WEXITED | WNOHANG) || si.si_pid != z[i].pid) {
			fail("waitid(%d) found no exited child", z[i].pid);
			continue;
		}
		if (si.si_code != CLD_EXITED || si.si_status != z[i].status)
			fail("zombie %d: si_code %d status %d, want exit %d", z[i].pid, si.si_code,
			     si.si_status, z[i].status);
	}
	pass();
	return test_exit();
}
