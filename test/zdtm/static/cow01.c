/*
 * cow01: as cow00 (the parent fills 16 MiB and forks, the child rewrites
 * the first MiB, the parent the second), and after restore the 14 MiB
 * neither wrote are shared again, copy-on-write, by parent and child: the
 * child's /proc/self/smaps counts them as Shared_Dirty, as before the
 * checkpoint. A second mapping of 1 MiB, filled before the fork, is split
 * in the parent afterwards (mprotect of its second half): the child's
 * mapping is no longer the parent's, and it gets its pages as copies.
 * (Not in TestZdtmLazy: a lazy restore gives the child its own copies.)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MIB (1024 * 1024)
#define LEN (16 * MIB)

static uint64_t *mem;
static uint64_t *split;

static uint64_t word(uint64_t i, uint64_t seed)
{
	return (i + 1) * 0x9E3779B97F4A7C15ULL ^ seed;
}

static void fill(size_t from, size_t to, uint64_t seed)
{
	for (size_t i = from / 8; i < to / 8; i++)
		mem[i] = word(i, seed);
}

static int check(const char *who, size_t from, size_t to, uint64_t seed)
{
	for (size_t i = from / 8; i < to / 8; i++)
		if (mem[i] != word(i, seed)) {
			fail("%s: word at offset %zu is %#llx, want %#llx", who, i * 8, (unsigned long long)mem[i],
			     (unsigned long long)word(i, seed));
			return -1;
		}
	return 0;
}

/* shared_kb is Shared_Dirty of the mapping holding mem in /proc/self/smaps. */
static long shared_kb(void)
{
	char line[256];
	unsigned long lo, hi, at = (unsigned long)mem;
	long kb = -1;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = lo <= at && at < hi;
		else if (in && sscanf(line, "Shared_Dirty: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

static int child(void *arg)
{
	long before, after;

	(void)arg;
#ifdef COW_OWN_GROUP
	if (setpgid(0, 0)) {
		fail("setpgid");
		return 1;
	}
#endif
	fill(0, MIB, 2);
	test_daemon();
	before = shared_kb();
	test_waitsig();
	if (test_sabotage())
		mem[LEN / 16] ^= 1;
	if (check("child", 0, MIB, 2) || check("child", MIB, LEN, 1))
		return 1;
	for (size_t i = 0; i < MIB / 8; i++)
		if (split[i] != word(i, 4)) {
			fail("child: the split mapping's word %zu is %#llx", i, (unsigned long long)split[i]);
			return 1;
		}
	after = shared_kb();
#ifdef COW_OWN_GROUP
	if (getpgrp() != getpid()) {
		fail("the child is in group %d, not its own", (int)getpgrp());
		return 1;
	}
#endif
	if (before < 13 * 1024) {
		fail("before the checkpoint only %ld kB were shared with the parent", before);
		return 1;
	}
	if (after < 13 * 1024) {
		fail("%ld kB are shared with the parent, %ld kB were before", after, before);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	mem = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	fill(0, LEN, 1);
	/* MAP_NORESERVE: a flag mem has not, so the two never merge. */
	split = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (split == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	for (size_t i = 0; i < MIB / 8; i++)
		split[i] = word(i, 4);
	if (test_spawn(child, NULL) < 0)
		return 1;
	fill(MIB, 2 * MIB, 3);
	if (mprotect((char *)split + MIB / 2, MIB / 2, PROT_READ)) {
		fail("mprotect");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (check("parent", 0, MIB, 1) || check("parent", MIB, 2 * MIB, 3) || check("parent", 2 * MIB, LEN, 1))
		return 1;
	if (test_stop_children())
		return 1;
	pass();
	return 0;
}
