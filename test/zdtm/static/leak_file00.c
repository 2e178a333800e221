/*
 * leak_file00: the init of the namespace shares an open file description
 * with a task outside it (the helper opened it, then forked the init, and
 * keeps it): a checkpoint must refuse, naming both tasks and the file, and
 * leave the description as it was: its position is still 1234. Sabotage
 * moves it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "zdtmtst.h"

static int fd = -1;

/* opened runs outside: the helper keeps the description too. */
static void opened(void)
{
	fd = open("/proc/self/exe", O_RDONLY);
	if (fd >= 0)
		lseek(fd, 1234, SEEK_SET);
}

int main(int argc, char **argv)
{
	test_outside(0, opened);
	test_init(argc, argv);
	if (fd < 0) {
		fail("the helper could not open the file");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		lseek(fd, 1, SEEK_CUR);
	if (lseek(fd, 0, SEEK_CUR) != 1234)
		fail("the shared position is %lld, want 1234", (long long)lseek(fd, 0, SEEK_CUR));
	pass();
	return test_exit();
}
