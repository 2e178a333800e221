/*
 * guard00: a mapping with guard regions (MADV_GUARD_INSTALL: touching
 * those pages raises SIGSEGV) cannot be saved yet: the checkpoint is
 * refused, naming the mapping (crfail).
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "zdtmtst.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103
#endif

int main(int argc, char **argv)
{
	char *p;

	test_init(argc, argv);
	p = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || madvise(p + 4096, 4096, MADV_GUARD_INSTALL)) {
		fail("guard region");
		return 1;
	}

	test_daemon();
	test_waitsig();

	/* Refused: the test runs on untouched. A guard page cannot be read
	 * without a fault, so the check is that it is still refused to be
	 * populated: MADV_POPULATE_READ fails on it (EFAULT). */
	if (test_sabotage())
		madvise(p + 4096, 4096, MADV_GUARD_REMOVE);
	if (madvise(p + 4096, 4096, MADV_POPULATE_READ) == 0)
		fail("the guard region is gone");
	pass();
	return test_exit();
}
