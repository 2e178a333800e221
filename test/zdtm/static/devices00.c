/*
 * devices00: fds of plain character devices survive C/R as the same devices
 * with the same modes: /dev/null (write-only), /dev/zero (read-write),
 * /dev/full (writes fail with ENOSPC), /dev/urandom and /dev/random
 * (non-blocking reads give bytes).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "zdtmtst.h"

struct dev {
	const char *path;
	int flags;
	unsigned maj, min;
	int fd;
};

static struct dev devs[] = {
	{"/dev/null", O_WRONLY, 1, 3},
	{"/dev/zero", O_RDWR, 1, 5},
	{"/dev/full", O_WRONLY, 1, 7},
	{"/dev/random", O_RDONLY | O_NONBLOCK, 1, 8},
	{"/dev/urandom", O_RDONLY, 1, 9},
};

#define NDEVS (sizeof(devs) / sizeof(devs[0]))

int main(int argc, char **argv)
{
	char buf[16];
	struct stat st;
	unsigned i;

	test_init(argc, argv);
	for (i = 0; i < NDEVS; i++) {
		devs[i].fd = open(devs[i].path, devs[i].flags);
		if (devs[i].fd < 0) {
			fail("open %s", devs[i].path);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		dup2(devs[0].fd, devs[2].fd);

	for (i = 0; i < NDEVS; i++) {
		int fl = fcntl(devs[i].fd, F_GETFL);

		if (fstat(devs[i].fd, &st) || !S_ISCHR(st.st_mode) || major(st.st_rdev) != devs[i].maj ||
		    minor(st.st_rdev) != devs[i].min)
			fail("fd %d is not %s (%u:%u) any more", devs[i].fd, devs[i].path, devs[i].maj, devs[i].min);
		if (fl < 0 || (fl & (O_ACCMODE | O_NONBLOCK)) != devs[i].flags)
			fail("%s: flags %#o, want %#o", devs[i].path, fl, devs[i].flags);
	}
	if (write(devs[0].fd, "x", 1) != 1)
		fail("write /dev/null");
	memset(buf, 1, sizeof(buf));
	if (read(devs[1].fd, buf, sizeof(buf)) != sizeof(buf) || buf[0] || buf[15])
		fail("read /dev/zero");
	if (write(devs[2].fd, "x", 1) != -1 || errno != ENOSPC)
		fail("write /dev/full did not fail with ENOSPC");
	if (read(devs[3].fd, buf, sizeof(buf)) <= 0)
		fail("read /dev/random: %m");
	if (read(devs[4].fd, buf, sizeof(buf)) != sizeof(buf))
		fail("read /dev/urandom");
	pass();
	return test_exit();
}
