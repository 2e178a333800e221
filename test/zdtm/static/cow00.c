/*
 * cow00: memory a child inherits across fork and that neither writes
 * afterwards is shared copy-on-write by both; the image holds it once
 * (FORK_PAGES: TestForkPagesSavedOnce counts them), and both come back
 * with the right contents. The parent fills 16 MiB, forks; the child
 * rewrites the first MiB, the parent the second: after restore each sees
 * its own writes and the other's pages as they were at the fork.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>

#include "zdtmtst.h"

#define MIB (1024 * 1024)
#define LEN (16 * MIB)

static uint64_t *mem;

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

static int child(void *arg)
{
	(void)arg;
	fill(0, MIB, 2);
	test_daemon();
	test_waitsig();
	if (test_sabotage())
		mem[LEN / 16] ^= 1;
	if (check("child", 0, MIB, 2) || check("child", MIB, LEN, 1))
		return 1;
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
	if (test_spawn(child, NULL) < 0)
		return 1;
	fill(MIB, 2 * MIB, 3);

	test_daemon();
	test_waitsig();

	if (check("parent", 0, MIB, 1) || check("parent", MIB, 2 * MIB, 3) || check("parent", 2 * MIB, LEN, 1))
		return 1;
	if (test_stop_children())
		return 1;
	pass();
	return 0;
}
