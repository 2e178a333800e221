/*
 * leak_pipe00: a pipe the init of the namespace holds (both ends, with
 * unread data) is also held, both ends, by a task outside it: a
 * checkpoint must refuse, naming both tasks and the pipe, and leave the
 * data in it. Sabotage rotates one byte.
 */
#define _GNU_SOURCE
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

#define LEN 3000

static int p[2] = { -1, -1 };
static uint8_t data[LEN];

static void piped(void)
{
	uint32_t crc = 71;

	datagen(data, LEN, &crc);
	if (pipe(p) || write(p[1], data, LEN) != LEN)
		p[0] = -1;
}

int main(int argc, char **argv)
{
	uint8_t buf[LEN], c;

	test_outside(0, piped);
	test_init(argc, argv);
	if (p[0] < 0) {
		fail("the helper could not fill the pipe");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage() && read(p[0], &c, 1) == 1)
		write(p[1], &c, 1);
	if (read(p[0], buf, LEN) != LEN || memcmp(buf, data, LEN))
		fail("the pipe's data changed");
	pass();
	return test_exit();
}
