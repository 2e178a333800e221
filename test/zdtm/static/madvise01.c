/*
 * madvise01: the madvise(2) and mmap(2) settings smaps shows that
 * madvise00 does not cover survive C/R: MADV_MERGEABLE (KSM),
 * MADV_SEQUENTIAL, MADV_RANDOM and MADV_HUGEPAGE on anonymous memory,
 * MADV_RANDOM on a private file mapping, MAP_NORESERVE, and a mapping
 * sealed with mseal(2), which can then no longer be unmapped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#ifndef SYS_mseal
#define SYS_mseal 462
#endif
#include <unistd.h>

#include "vmflags.h"
#include "zdtmtst.h"

#define PS 4096
#define LEN (8 * PS)

struct area {
	const char *name;
	int advice; /* -1: none */
	int mflags;
	const char *flag;
	unsigned char *p;
	uint32_t crc;
};

int main(int argc, char **argv)
{
	struct area a[] = {
		{ "mergeable", MADV_MERGEABLE, 0, "mg" },
		{ "sequential", MADV_SEQUENTIAL, 0, "sr" },
		{ "random", MADV_RANDOM, 0, "rr" },
		{ "hugepage", MADV_HUGEPAGE, 0, "hg" },
		{ "noreserve", -1, MAP_NORESERVE, "nr" },
		{ "sealed", -1, 0, "sl" },
		{ "file random", MADV_RANDOM, 0, "rr" },
	};
	const int n = sizeof(a) / sizeof(a[0]);
	int fd;

	test_init(argc, argv);
	fd = open(test_path("file"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, LEN)) {
		fail("create the mapped file");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		int file = i == n - 1;

		a[i].p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | (file ? 0 : MAP_ANONYMOUS) | a[i].mflags,
			      file ? fd : -1, 0);
		if (a[i].p == MAP_FAILED || (a[i].advice >= 0 && madvise(a[i].p, LEN, a[i].advice))) {
			fail("map %s", a[i].name);
			return 1;
		}
		datagen(a[i].p, LEN, &a[i].crc);
	}
	if (syscall(SYS_mseal, a[5].p, LEN, 0)) {
		fail("mseal");
		return 1;
	}
	close(fd);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		madvise(a[1].p, LEN, MADV_NORMAL);
	for (int i = 0; i < n; i++) {
		if (datachk(a[i].p, LEN, &a[i].crc))
			fail("%s: memory changed", a[i].name);
		if (has_vm_flag(a[i].p, a[i].flag) != 1)
			fail("%s: VmFlags lack %s", a[i].name, a[i].flag);
	}
	if (munmap(a[5].p, LEN) == 0 || errno != EPERM)
		fail("the sealed mapping could be unmapped");
	pass();
	return test_exit();
}
