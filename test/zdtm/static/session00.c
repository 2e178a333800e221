/*
 * session00: sessions and process groups survive C/R, including the two
 * that only exist through their members: a group whose leader has exited
 * and been reaped, and a session whose leader has. The pid numbers of
 * those leaders stay taken (as pgid, as sid) with no task behind them.
 *
 *	init (session 1)
 *	 ├─ A: setsid (session A)
 *	 │   ├─ B: setpgid (group B in session A) ── C (in group B)
 *	 │   ├─ D: setpgid, spawns E, exits, reaped by A: E (group D, session
 *	 │   │     A) is an orphan of the init
 *	 │   └─ I: spawns J, exits, reaped by A: J (group A, session A) is an
 *	 │         orphan of the init in a session whose leader lives
 *	 ├─ F: setsid, spawns G, exits, reaped by the init: G (session F,
 *	 │     group F) is an orphan of the init
 *	 └─ H: setpgid (group H in session 1)
 *
 * Each task checks its own group and session; the init also compares the
 * whole namespace (ppid, pgid, sid, zombie or not) before and after.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <unistd.h>

#include "nsutil.h"

struct ident {
	const char *name;
	pid_t pgid, sid;
	int orphan;	/* its parent exited: it must now be the init's */
	pid_t gone;	/* a leader that must have no task left */
};

/* member waits for SIGTERM and checks its group and session. */
static int member(void *arg)
{
	struct ident *want = arg;

	if (want->pgid == 0)
		want->pgid = getpgid(0);
	if (want->sid == 0)
		want->sid = getsid(0);
	test_daemon();
	test_waitsig();
	if (test_sabotage() && want->orphan)
		setpgid(0, 0);
	if (getpgid(0) != want->pgid || getsid(0) != want->sid)
		fail("%s (pid %d): pgid %d sid %d, want %d %d", want->name, getpid(), getpgid(0), getsid(0),
		     want->pgid, want->sid);
	if (want->orphan && getppid() != 1)
		fail("%s (pid %d): parent %d, want the init", want->name, getpid(), getppid());
	if (want->gone > 0 && kill(want->gone, 0) == 0)
		fail("%s (pid %d): its leader %d exists again", want->name, getpid(), want->gone);
	test_stop_children();
	return 0;
}

enum { NEW_GROUP, NEW_SESSION, SAME };

/* leave_orphan forks a task that sets itself up (new group or session, or
 * neither), spawns an orphan-to-be and exits; the caller reaps it at once. */
static int leave_orphan(int how, struct ident *orphan)
{
	pid_t pid = test_fork(), me;
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		me = getpid();
		if ((how == NEW_SESSION && setsid() < 0) || (how == NEW_GROUP && setpgid(0, 0) < 0))
			_exit(1);
		orphan->pgid = how == SAME ? getpgid(0) : me;
		orphan->sid = how == NEW_SESSION ? me : getsid(0);
		orphan->gone = me;
		_exit(test_spawn(member, orphan) < 0);
	}
	if (waitpid(pid, &status, 0) != pid || status) {
		fail("the orphans' parent %d ended with %#x", pid, status);
		return -1;
	}
	return 0;
}

static struct ident idA = { "A" }, idB = { "B" }, idC = { "C" }, idE = { "E", .orphan = 1 },
		    idG = { "G", .orphan = 1 }, idH = { "H" },
		    idJ = { "J", .orphan = 1 };

static int group_b(void *arg)
{
	if (setpgid(0, 0)) {
		fail("B: setpgid");
		return 1;
	}
	if (test_spawn(member, &idC) < 0)
		return 1;
	return member(arg);
}

static int session_a(void *arg)
{
	if (setsid() < 0) {
		fail("A: setsid");
		return 1;
	}
	if (test_spawn(group_b, &idB) < 0 || leave_orphan(NEW_GROUP, &idE) || leave_orphan(SAME, &idJ))
		return 1;
	return member(arg);
}

static int group_h(void *arg)
{
	if (setpgid(0, 0)) {
		fail("H: setpgid");
		return 1;
	}
	return member(arg);
}

int main(int argc, char **argv)
{
	struct pstat before[64], after[64];
	int nb, na;

	test_init(argc, argv);
	if (test_spawn(session_a, &idA) < 0 || leave_orphan(NEW_SESSION, &idG) || test_spawn(group_h, &idH) < 0)
		return 1;
	nb = snap_ns(before, 64);

	test_daemon();
	test_waitsig();

	na = snap_ns(after, 64);
	compare_ns(before, nb, after, na);
	if (getpid() == 1)
		kill(-1, SIGTERM); /* E and G are nobody's spawned children */
	test_stop_children();
	reap_rest();
	pass();
	return test_exit();
}
