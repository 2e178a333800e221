/*
 * leak_sysv00: the init of the namespace attaches a System V shared memory
 * segment of the IPC namespace it shares with everything outside (it has
 * none of its own). The segment is the outside's: a restore could neither
 * make it again nor find it, so a checkpoint must refuse, naming the
 * segment, and leave the memory as it was. Sabotage flips a byte.
 */
#include <sys/ipc.h>
#include <sys/shm.h>

#include "zdtmtst.h"

#define LEN (4 * 4096)

int main(int argc, char **argv)
{
	uint32_t crc = 91;
	uint8_t *mem;
	int id;

	test_init(argc, argv);
	id = shmget(IPC_PRIVATE, LEN, 0600);
	mem = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
	if (mem == (void *)-1) {
		fail("make the segment");
		return 1;
	}
	/* Removed now, it goes away with the last detach: nothing is left
	 * behind in the outside namespace however the test ends. */
	shmctl(id, IPC_RMID, NULL);
	datagen(mem, LEN, &crc);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		mem[100] ^= 1;
	if (datachk(mem, LEN, &crc))
		fail("the segment's content changed");
	pass();
	return test_exit();
}
