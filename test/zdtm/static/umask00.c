/* umask00: the file mode creation mask survives C/R. */
#include <sys/stat.h>

#include "zdtmtst.h"

#define MASK 0027

int main(int argc, char **argv)
{
	mode_t got;

	test_init(argc, argv);
	umask(MASK);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		umask(0022);
	got = umask(0);
	if (got != MASK)
		fail("umask = %04o, want %04o", got, MASK);
	pass();
	return test_exit();
}
