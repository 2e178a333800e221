/*
 * memfd03: a memfd mapped MAP_PRIVATE (one page written over, so a
 * private copy), its fd closed. Not supported yet: the checkpoint must be
 * refused (.desc crfail), naming it, and the task carries on with its
 * private copy and the memfd's data under it. Sabotage writes over the
 * second page.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char *p;
	int fd;

	test_init(argc, argv);
	fd = memfd_create("ckpt-private", 0);
	if (fd < 0 || ftruncate(fd, 8192) || pwrite(fd, "file", 4, 4096) != 4 ||
	    (p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)) == MAP_FAILED || close(fd)) {
		fail("map the memfd");
		return 1;
	}
	memcpy(p, "copy", 4);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		memcpy(p + 4096, "gone", 4);
	if (memcmp(p, "copy", 4) || memcmp(p + 4096, "file", 4))
		fail("the mapping changed");
	pass();
	return test_exit();
}
