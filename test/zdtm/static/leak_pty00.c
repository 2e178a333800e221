/*
 * leak_pty00: the init of the namespace holds a pty's master; a task
 * outside holds its slave. A checkpoint must refuse, naming the pty (a
 * restore would make a new pty, and the outside task would keep the old
 * one), and leave the pty as it was: the data queued both ways, which the
 * checkpoint reads before it refuses, must be back in place. Sabotage
 * reads one byte off the master.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "zdtmtst.h"

static int master = -1, slave = -1;

/* pty runs in the outside helper, before the init is cloned: both get
 * both ends, and the init closes the slave. */
static void pty(void)
{
	struct termios tio;

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master) ||
	    (slave = open(ptsname(master), O_RDWR | O_NOCTTY)) < 0 || tcgetattr(slave, &tio)) {
		master = -1;
		return;
	}
	tio.c_lflag &= ~ECHO;
	tcsetattr(slave, TCSANOW, &tio);
}

static int expect(int fd, const char *want)
{
	char buf[64];
	size_t got = 0, len = strlen(want);
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (got < len && poll(&p, 1, 5000) == 1) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n <= 0)
			break;
		got += n;
	}
	return got == len && !memcmp(buf, want, len);
}

int main(int argc, char **argv)
{
	char c;

	test_outside(0, pty);
	test_init(argc, argv);
	if (master < 0) {
		fail("the helper could not make the pty");
		return 1;
	}
	if (write(master, "typed\n", 6) != 6 || write(slave, "written\n", 8) != 8) {
		fail("queue data in the pty");
		return 1;
	}
	close(slave);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY); /* to read the input back */

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		read(master, &c, 1);
	if (!expect(master, "written\r\n"))
		fail("the output queued on the master changed");
	if (slave < 0 || !expect(slave, "typed\n"))
		fail("the input queued for the slave changed");
	pass();
	return test_exit();
}
