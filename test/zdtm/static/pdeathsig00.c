/* pdeathsig00: the parent-death signal setting survives C/R. SIGWINCH is
 * chosen because its default action is to ignore it: the test's parent
 * changes across C/R (the runner, then ckpt restore), and a delivery must
 * not end the test. */
#include <signal.h>
#include <sys/prctl.h>

#include "zdtmtst.h"

#define PDEATHSIG SIGWINCH

int main(int argc, char **argv)
{
	int got = 0;

	test_init(argc, argv);
	if (prctl(PR_SET_PDEATHSIG, PDEATHSIG)) {
		fail("prctl(PR_SET_PDEATHSIG)");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		prctl(PR_SET_PDEATHSIG, 0);
	if (prctl(PR_GET_PDEATHSIG, &got))
		fail("prctl(PR_GET_PDEATHSIG)");
	else if (got != PDEATHSIG)
		fail("pdeathsig = %d, want %d", got, PDEATHSIG);
	pass();
	return test_exit();
}
