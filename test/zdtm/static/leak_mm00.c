/*
 * leak_mm00: the init of the namespace shares its mm with a task outside
 * the namespace (its parent, which made it with clone(CLONE_VM) and waits
 * as a vfork parent): a checkpoint must refuse, naming both tasks and the
 * mm, and leave the task as it was. Sabotage spoils the memory the test
 * checks afterwards.
 */
#define _GNU_SOURCE
#include <sched.h>

#include "zdtmtst.h"

#define LEN (64 * 1024)

static uint8_t data[LEN];

int main(int argc, char **argv)
{
	uint32_t crc = 61;

	test_outside(CLONE_VM, NULL);
	test_init(argc, argv);
	datagen(data, LEN, &crc);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		data[LEN / 2] ^= 1;
	if (datachk(data, LEN, &crc))
		fail("the memory changed");
	pass();
	return test_exit();
}
