/*
 * io_uring00: a process holding an io_uring instance. The engine has no
 * handler for io_uring (its rings and in-flight requests live in the
 * kernel), so the checkpoint must be refused (.desc crfail) and the process
 * must carry on untouched: its ring still works afterwards.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/io_uring.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct io_uring_params p;
	int ring, flags;

	test_init(argc, argv);
	memset(&p, 0, sizeof(p));
	ring = syscall(__NR_io_uring_setup, 4, &p);
	if (ring < 0) {
		fail("io_uring_setup");
		return 1;
	}
	flags = fcntl(ring, F_GETFD);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		close(ring);
	/* A NOP-less check: entering the ring with nothing to submit works on
	 * a live instance and fails with EBADF/EOPNOTSUPP on anything else. */
	if (fcntl(ring, F_GETFD) != flags)
		fail("io_uring fd %d lost its fd flags", ring);
	else if (syscall(__NR_io_uring_enter, ring, 0, 0, 0, NULL, 0) < 0)
		fail("io_uring_enter on fd %d", ring);
	pass();
	return test_exit();
}
