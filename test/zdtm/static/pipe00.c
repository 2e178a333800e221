/*
 * pipe00: pipes between two tasks keep their unread data, in both
 * directions, and stay connected across C/R. The init writes 100000 bytes
 * to its child A through a pipe grown to 128 KiB; A writes 30000 bytes back
 * through another, of which the init already read 1000 (its read end is
 * O_NONBLOCK); a third pipe, held at both ends by both, has 500 bytes in
 * it. After restore each side reads exactly what was left, then more data
 * goes through each pipe to show the ends still meet. Sabotage rotates one
 * byte of the pipe the init holds at both ends.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "nsutil.h"

#define DOWN_LEN 100000
#define UP_LEN 30000
#define UP_READ 1000
#define BOTH_LEN 500
#define BIG_PIPE (128 * 1024)

static int down[2], up[2], both[2];
static uint8_t down_data[DOWN_LEN], up_data[UP_LEN], both_data[BOTH_LEN];

static void gen(void)
{
	uint32_t c1 = 1, c2 = 2, c3 = 3;

	datagen(down_data, DOWN_LEN, &c1);
	datagen(up_data, UP_LEN, &c2);
	datagen(both_data, BOTH_LEN, &c3);
}

static void expect(const char *what, int fd, const uint8_t *want, size_t len)
{
	static uint8_t buf[DOWN_LEN];

	if (read_full(fd, buf, len) != (ssize_t)len)
		fail("%s: short read", what);
	else if (memcmp(buf, want, len))
		fail("%s: the data differs", what);
}

static int child(void *arg)
{
	(void)arg;
	close(down[1]);
	close(up[0]);
	if (write_full(up[1], up_data, UP_LEN) != UP_LEN) {
		fail("A: write %d bytes up", UP_LEN);
		return 1;
	}
	test_daemon();
	test_waitsig();
	expect("A: the unread data of the down pipe", down[0], down_data, DOWN_LEN);
	expect("A: the down pipe after restore", down[0], (const uint8_t *)"after", 5);
	if (fcntl(down[0], F_GETPIPE_SZ) != BIG_PIPE)
		fail("A: down pipe size %d, want %d", fcntl(down[0], F_GETPIPE_SZ), BIG_PIPE);
	if (write_full(up[1], "back", 4) != 4)
		fail("A: write up after restore");
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t buf[UP_READ];

	test_init(argc, argv);
	gen();
	if (pipe(down) || pipe(up) || pipe(both) || fcntl(down[1], F_SETPIPE_SZ, BIG_PIPE) != BIG_PIPE) {
		fail("make the pipes");
		return 1;
	}
	if (write_full(down[1], down_data, DOWN_LEN) != DOWN_LEN ||
	    write_full(both[1], both_data, BOTH_LEN) != BOTH_LEN) {
		fail("fill the pipes");
		return 1;
	}
	if (test_spawn(child, NULL) < 0)
		return 1;
	close(down[0]);
	close(up[1]);
	if (read_full(up[0], buf, UP_READ) != UP_READ || memcmp(buf, up_data, UP_READ) ||
	    fcntl(up[0], F_SETFL, O_NONBLOCK)) {
		fail("read the first %d bytes up", UP_READ);
		return 1;
	}

	test_daemon();
	test_waitsig();

	/* Rotate one byte of the pipe the init holds at both ends: the same
	 * amount of data, no longer the same data. */
	if (test_sabotage() && read(both[0], buf, 1) == 1)
		write(both[1], buf, 1);
	if (!(fcntl(up[0], F_GETFL) & O_NONBLOCK))
		fail("the up pipe's read end lost O_NONBLOCK");
	fcntl(up[0], F_SETFL, 0);
	expect("the unread data of the up pipe", up[0], up_data + UP_READ, UP_LEN - UP_READ);
	expect("the pipe both hold", both[0], both_data, BOTH_LEN);
	if (fcntl(down[1], F_GETPIPE_SZ) != BIG_PIPE)
		fail("down pipe size %d, want %d", fcntl(down[1], F_GETPIPE_SZ), BIG_PIPE);
	if (write_full(down[1], "after", 5) != 5)
		fail("write down after restore");
	test_stop_children();
	expect("the up pipe after restore", up[0], (const uint8_t *)"back", 4);
	pass();
	return test_exit();
}
