/* personality00: the execution domain flags survive C/R. */
#include <sys/personality.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	int before, got;

	test_init(argc, argv);
	before = personality(0xffffffff);
	if (before < 0 || personality(before | ADDR_NO_RANDOMIZE | READ_IMPLIES_EXEC) < 0) {
		fail("personality");
		return 1;
	}
	before = personality(0xffffffff);
	if (!(before & ADDR_NO_RANDOMIZE) || !(before & READ_IMPLIES_EXEC)) {
		fail("personality %#x did not take ADDR_NO_RANDOMIZE|READ_IMPLIES_EXEC", before);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		personality(before & ~READ_IMPLIES_EXEC);
	got = personality(0xffffffff);
	if (got != before)
		fail("personality = %#x, want %#x", got, before);
	pass();
	return test_exit();
}
