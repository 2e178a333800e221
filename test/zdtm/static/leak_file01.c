/*
 * leak_file01: as leak_file00, the init shares an open file description
 * (read-only, at position 1234) with the helper outside its namespace, but
 * the checkpoint is made with --allow-shared-offset: it goes on, and the
 * restored init has a description of its own at the same position, which
 * it then moves without moving the helper's. Sabotage moves it before the
 * check.
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
		fail("the position is %lld, want 1234", (long long)lseek(fd, 0, SEEK_CUR));
	if ((fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDONLY)
		fail("flags %#x, want O_RDONLY", fcntl(fd, F_GETFL));
	pass();
	return test_exit();
}
