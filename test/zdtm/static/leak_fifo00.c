/*
 * leak_fifo00: a FIFO the init of the namespace holds (read-write, with
 * unread data) is also held by a task outside it, which shares the data:
 * a checkpoint must refuse, naming the FIFO, and leave the data in it.
 * Sabotage rotates one byte.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define LEN 3000

static int fd = -1;
static uint8_t data[LEN];

static void fifo(void)
{
	uint32_t crc = 73;
	char *path = test_path("fifo");

	datagen(data, LEN, &crc);
	if (mkfifo(path, 0600) || (fd = open(path, O_RDWR)) < 0 || write(fd, data, LEN) != LEN)
		fd = -1;
}

int main(int argc, char **argv)
{
	uint8_t buf[LEN], c;

	test_outside(0, fifo);
	test_init(argc, argv);
	if (fd < 0) {
		fail("the helper could not fill the FIFO");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage() && read(fd, &c, 1) == 1)
		write(fd, &c, 1);
	if (read(fd, buf, LEN) != LEN || memcmp(buf, data, LEN))
		fail("the FIFO's data changed");
	pass();
	return test_exit();
}
