/*
 * eventfd00: eventfds keep their counter and mode across C/R: a plain one
 * with a counter above 32 bits, a non-blocking semaphore-mode one, and a
 * second fd sharing the first's description (dup), which must still share
 * it: reading one drains the other.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "zdtmtst.h"

#define BIG ((1ULL << 40) + 5)

int main(int argc, char **argv)
{
	uint64_t v, one = 1;
	int plain, sem, dup1, flags;

	test_init(argc, argv);
	plain = eventfd(0, 0);
	sem = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
	if (plain < 0 || sem < 0) {
		fail("eventfd");
		return 1;
	}
	v = BIG;
	if (write(plain, &v, 8) != 8) {
		fail("write eventfd");
		return 1;
	}
	dup1 = dup(plain);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		write(plain, &one, 8);
	if (read(dup1, &v, 8) != 8 || v != BIG)
		fail("plain eventfd read %llu through the dup, want %llu", (unsigned long long)v, BIG);
	flags = fcntl(plain, F_GETFL);
	if (flags < 0 || (flags & O_NONBLOCK))
		fail("plain eventfd flags %#x", flags);
	if (fcntl(plain, F_SETFL, O_NONBLOCK) || read(plain, &v, 8) != -1 || errno != EAGAIN)
		fail("plain eventfd is not empty after reading through its dup");
	for (int i = 0; i < 3; i++)
		if (read(sem, &v, 8) != 8 || v != 1)
			fail("semaphore read %d gave %llu, want 1", i, (unsigned long long)v);
	if (read(sem, &v, 8) != -1 || errno != EAGAIN)
		fail("semaphore eventfd: a 4th read did not fail with EAGAIN (non-blocking lost?)");
	pass();
	return test_exit();
}
