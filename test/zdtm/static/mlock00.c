/*
 * mlock00: locked memory stays locked across C/R, with its contents:
 * a MAP_LOCKED mapping, part of a mapping locked with mlock (the kernel
 * splits it: only that part is locked), and a mapping locked with
 * mlock2(MLOCK_ONFAULT), which locks pages only as they are touched.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "vmflags.h"
#include "zdtmtst.h"

#define PS 4096
#define LEN (8 * PS)

struct area {
	const char *name;
	unsigned char *p;
	const char *want, *wantnot;
	uint32_t crc;
};

int main(int argc, char **argv)
{
	struct area a[4] = {
		{ "MAP_LOCKED", NULL, "lo", "lf" },
		{ "mlock'ed half", NULL, "lo", "lf" },
		{ "unlocked half", NULL, NULL, "lo" },
		{ "MLOCK_ONFAULT", NULL, "lf", NULL },
	};
	unsigned char *half;

	test_init(argc, argv);
	a[0].p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	half = mmap(NULL, 2 * LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	a[3].p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a[0].p == MAP_FAILED || half == MAP_FAILED || a[3].p == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	a[1].p = half + LEN;
	a[2].p = half;
	if (mlock(a[1].p, LEN) || mlock2(a[3].p, LEN, MLOCK_ONFAULT)) {
		fail("mlock");
		return 1;
	}
	for (int i = 0; i < 4; i++)
		datagen(a[i].p, i == 3 ? PS : LEN, &a[i].crc);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		munlock(a[1].p, LEN);
	for (int i = 0; i < 4; i++) {
		if (datachk(a[i].p, i == 3 ? PS : LEN, &a[i].crc))
			fail("%s: memory changed", a[i].name);
		if (a[i].want && has_vm_flag(a[i].p, a[i].want) != 1)
			fail("%s: VmFlags lack %s", a[i].name, a[i].want);
		if (a[i].wantnot && has_vm_flag(a[i].p, a[i].wantnot) != 0)
			fail("%s: VmFlags have %s", a[i].name, a[i].wantnot);
	}
	pass();
	return test_exit();
}
