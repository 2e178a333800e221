/*
 * subreaper00: PR_SET_CHILD_SUBREAPER survives C/R: the flag reads back,
 * and an orphan made after restore is reparented to the test, not to the
 * namespace's init.
 */
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	int p[2], flag = 0;
	pid_t mid, orphan = 0;

	test_init(argc, argv);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		fail("prctl(PR_SET_CHILD_SUBREAPER)");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		prctl(PR_SET_CHILD_SUBREAPER, 0);
	if (prctl(PR_GET_CHILD_SUBREAPER, &flag) || flag != 1)
		fail("PR_GET_CHILD_SUBREAPER says %d, want 1", flag);

	/* mid forks the orphan-to-be, tells its pid and exits: the orphan,
	 * alive or a zombie by then, goes to the nearest subreaper. */
	if (pipe(p)) {
		fail("pipe");
		return 1;
	}
	mid = fork();
	if (mid == 0) {
		pid_t o = fork();

		if (o == 0)
			_exit(0);
		if (write(p[1], &o, sizeof(o)) != sizeof(o))
			_exit(1);
		_exit(0);
	}
	if (mid < 0 || waitpid(mid, NULL, 0) != mid || read(p[0], &orphan, sizeof(orphan)) != sizeof(orphan)) {
		fail("make an orphan");
		return 1;
	}
	/* Only a subreaper (or its init) can wait for its grandchild. */
	if (waitpid(orphan, NULL, 0) != orphan)
		fail("orphan %d was not reparented to the test", orphan);
	pass();
	return test_exit();
}
