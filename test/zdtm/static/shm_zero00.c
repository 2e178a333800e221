/*
 * shm_zero00: a MAP_SHARED mapping of /dev/zero (the kernel makes that
 * shared anonymous memory, shown as "/dev/zero (deleted)") comes back
 * shared: S is filled with the /dev/zero fd left open, then the test
 * forks. After restore S has its data in both, the fd is still /dev/zero,
 * and a write by the child to S shows in the parent. Sabotage swaps the
 * parent's S for a private copy.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "zdtmtst.h"

#define SLEN (4 * 4096)

static uint8_t *s, sdata[SLEN];

static void check(const char *who)
{
	if (memcmp(s, sdata, SLEN))
		fail("%s: S lost its data", who);
}

static int child(void *arg)
{
	(void)arg;
	test_daemon();
	test_waitsig();
	check("child");
	s[SLEN - 1] = 0x5a; /* shared: the parent sees it */
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t crc = 11;
	struct stat st;
	int z;

	test_init(argc, argv);
	datagen(sdata, SLEN, &crc);
	sdata[SLEN - 1] = 0;
	z = open("/dev/zero", O_RDWR);
	if (z < 0 || (s = mmap(NULL, SLEN, PROT_READ | PROT_WRITE, MAP_SHARED, z, 0)) == MAP_FAILED) {
		fail("map /dev/zero");
		return 1;
	}
	memcpy(s, sdata, SLEN);
	if (test_spawn(child, NULL) < 0)
		return 1;

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		uint8_t *c = mmap(NULL, SLEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		memcpy(c, s, SLEN);
		mremap(c, SLEN, SLEN, MREMAP_MAYMOVE | MREMAP_FIXED, s);
	}
	check("parent");
	if (fstat(z, &st) || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 5)
		fail("the fd is not /dev/zero any more");
	test_stop_children();
	if (s[SLEN - 1] != 0x5a)
		fail("the child's write to S does not show: S is not shared any more");
	pass();
	return test_exit();
}
