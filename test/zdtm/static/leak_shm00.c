/*
 * leak_shm00: shared anonymous memory the init of the namespace maps is
 * also mapped by a task outside it (the helper mapped it MAP_SHARED and
 * forked the init): a checkpoint must refuse, naming both tasks and the
 * shared memory, and leave its content. Sabotage flips a byte.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "zdtmtst.h"

#define LEN (16 * 4096)

static uint8_t *mem;
static uint32_t crc = 81;

static void mapped(void)
{
	mem = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem != MAP_FAILED)
		datagen(mem, LEN, &crc);
}

int main(int argc, char **argv)
{
	test_outside(0, mapped);
	test_init(argc, argv);
	if (mem == MAP_FAILED) {
		fail("the helper could not map the memory");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		mem[100] ^= 1;
	if (datachk(mem, LEN, &crc))
		fail("the shared memory changed");
	pass();
	return test_exit();
}
