/*
 * deleted_fifo00: a FIFO open for reading and writing, with data in it,
 * whose name was removed. Deleted FIFOs are not supported: the checkpoint
 * must be refused, naming it (.desc crfail), and the task carries on
 * untouched: the data is still there. Sabotage reads it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char path[512], buf[8];
	int fd;

	test_init(argc, argv);
	snprintf(path, sizeof(path), "%s/fifo", test_dir());
	if (mkfifo(path, 0600) || (fd = open(path, O_RDWR | O_NONBLOCK)) < 0 || write(fd, "queued", 6) != 6 || unlink(path)) {
		fail("make, fill and remove the FIFO");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		read(fd, buf, sizeof(buf));
	if (read(fd, buf, sizeof(buf)) != 6 || memcmp(buf, "queued", 6))
		fail("the FIFO lost its data");
	pass();
	return test_exit();
}
