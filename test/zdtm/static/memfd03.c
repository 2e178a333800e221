/*
 * memfd03: memfds mapped MAP_PRIVATE come back with the memfd's data under
 * the task's own copies. M1, its fd closed, is mapped private over two
 * pages, the first written over (a private copy), the second left as the
 * memfd has it; M2 is also held open, and the test writes to it through
 * the fd after restore, which the untouched page of its private mapping
 * then shows (it still maps the memfd) and the written one does not.
 * Sabotage writes over M1's second page.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

static char *map_private(int fd)
{
	char *p;

	if (ftruncate(fd, 8192) || pwrite(fd, "file", 4, 0) != 4 || pwrite(fd, "file", 4, 4096) != 4)
		return MAP_FAILED;
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (p != MAP_FAILED)
		memcpy(p, "copy", 4);
	return p;
}

int main(int argc, char **argv)
{
	int m1, m2;
	char *p1, *p2;

	test_init(argc, argv);
	m1 = memfd_create("ckpt-private", 0);
	m2 = memfd_create("ckpt-private-open", 0);
	if (m1 < 0 || m2 < 0 || (p1 = map_private(m1)) == MAP_FAILED || (p2 = map_private(m2)) == MAP_FAILED || close(m1)) {
		fail("map the memfds");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		memcpy(p1 + 4096, "gone", 4);
	if (memcmp(p1, "copy", 4) || memcmp(p1 + 4096, "file", 4))
		fail("M1's mapping changed");
	if (memcmp(p2, "copy", 4) || memcmp(p2 + 4096, "file", 4))
		fail("M2's mapping changed");
	if (pwrite(m2, "new!", 4, 0) != 4 || pwrite(m2, "new!", 4, 4096) != 4)
		fail("write to M2");
	if (memcmp(p2, "copy", 4))
		fail("M2's private copy shows the memfd's new data");
	if (memcmp(p2 + 4096, "new!", 4))
		fail("M2's untouched page does not show the memfd's new data: it no longer maps the memfd");
	pass();
	return test_exit();
}
