/*
 * lazy00: memory is exact after a restore even when the program, before
 * touching its memory again, does what changes what a lazy restore's page
 * server must fill (restore --lazy: the pages arrive through userfaultfd):
 *
 *   fork     a child checks area A whole, which neither it nor its parent
 *            had touched since the restore;
 *   madvise  MADV_DONTNEED on the first half of area B: zeros there, the
 *            data in the second half;
 *   mremap   area C moved elsewhere: its data at the new place;
 *   munmap   the middle of area D unmapped and mapped again: zeros there,
 *            the data around it;
 *   sparse   area E, only every 8th page ever written: the rest zero;
 *   mprotect one page inside area A, splitting its mapping in three.
 *
 * The same holds without any C/R, and after a plain restore.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PG 4096UL
#define A_LEN (4UL << 20)
#define B_LEN (256 * PG)
#define C_LEN (256 * PG)
#define D_LEN (64 * PG)
#define E_PAGES 512

static int zero(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

static void *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		fail("mmap %zu", len);
		exit(1);
	}
	return p;
}

int main(int argc, char **argv)
{
	uint32_t crc_a = 0, crc_b = 0, crc_c = 0, crc_d1 = 0, crc_d2 = 0;
	unsigned char *a, *b, *c, *d, *e, *f;
	int status;
	pid_t pid;

	test_init(argc, argv);
	a = map(A_LEN);
	b = map(B_LEN);
	c = map(C_LEN);
	d = map(D_LEN);
	e = map(E_PAGES * PG);
	/* Where C moves to: reserved, so the move replaces nothing else. */
	f = mmap(NULL, C_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (f == MAP_FAILED) {
		fail("mmap the place for C");
		return 1;
	}
	datagen(a, A_LEN, &crc_a);
	datagen(b + B_LEN / 2, B_LEN / 2, &crc_b);
	memset(b, 0x5a, B_LEN / 2);
	datagen(c, C_LEN, &crc_c);
	memset(d + 16 * PG, 0xa5, 32 * PG);
	datagen(d, 16 * PG, &crc_d1);
	datagen(d + 48 * PG, 16 * PG, &crc_d2);
	for (int i = 0; i < E_PAGES; i += 8)
		memset(e + i * PG, i / 8 + 1, PG);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		a[A_LEN - 1] ^= 1;

	/*
	 * Before anything else touches the memory. One page of A read-only:
	 * A is now three mappings, and a fill across their boundaries must
	 * go page by page.
	 */
	if (mprotect(a + 8 * PG, PG, PROT_READ)) {
		fail("mprotect");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		fail("fork");
		return 1;
	}
	if (pid == 0)
		_exit(datachk(a, A_LEN, &crc_a) ? 1 : 0);
	if (madvise(b, B_LEN / 2, MADV_DONTNEED)) {
		fail("madvise");
		return 1;
	}
	void *nc = mremap(c, C_LEN, C_LEN, MREMAP_MAYMOVE | MREMAP_FIXED, f);
	if (nc != f) {
		fail("mremap");
		return 1;
	}
	if (munmap(d + 16 * PG, 32 * PG) ||
	    mmap(d + 16 * PG, 32 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
		fail("munmap and map again");
		return 1;
	}

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child forked after the restore saw area A changed (status %#x)", status);
	if (datachk(a, A_LEN, &crc_a))
		fail("area A changed");
	if (!zero(b, B_LEN / 2))
		fail("area B: the range given MADV_DONTNEED is not zero");
	if (datachk(b + B_LEN / 2, B_LEN / 2, &crc_b))
		fail("area B: the rest changed");
	if (datachk(nc, C_LEN, &crc_c))
		fail("area C changed when moved by mremap");
	if (datachk(d, 16 * PG, &crc_d1) || datachk(d + 48 * PG, 16 * PG, &crc_d2))
		fail("area D changed around the range mapped again");
	if (!zero(d + 16 * PG, 32 * PG))
		fail("area D: the range mapped again is not zero");
	for (int i = 0; i < E_PAGES; i++) {
		unsigned char *p = e + i * PG;

		if (i % 8 == 0 ? (p[0] != i / 8 + 1 || p[PG - 1] != i / 8 + 1) : !zero(p, PG)) {
			fail("area E page %d is wrong", i);
			break;
		}
	}
	if (!test_failed())
		pass();
	return test_exit();
}
