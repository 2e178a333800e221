/*
 * fd_many00: a process holding more fds than half its RLIMIT_NOFILE (about
 * 12,000 here, where the hard limit is 20,000) survives C/R: restore may
 * not park a second copy of every description above the task's fds. Nine
 * fds in ten are fresh opens of the same file, each at its own position;
 * every tenth is a dup of the fd before it, sharing its description; all
 * come back, shared as they were. Sabotage moves one position.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "zdtmtst.h"

#define WANT 12000

int main(int argc, char **argv)
{
	char file[PATH_MAX];
	struct rlimit r;
	int first, n, i, f;

	test_init(argc, argv);
	if (getrlimit(RLIMIT_NOFILE, &r)) {
		fail("getrlimit: %m");
		return 1;
	}
	r.rlim_cur = r.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &r)) {
		fail("setrlimit: %m");
		return 1;
	}
	/* More than half the limit, so that a copy of each cannot fit. */
	n = WANT;
	if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < (rlim_t)WANT + 100)
		n = (int)(r.rlim_cur * 6 / 10);
	snprintf(file, sizeof(file), "%s/f", test_dir());
	f = open(file, O_CREAT | O_RDWR, 0644);
	if (f < 0 || ftruncate(f, 4096)) {
		fail("create %s: %m", file);
		return 1;
	}
	first = -1;
	for (i = 0; i < n; i++) {
		int fd = i % 10 == 9 ? dup(first + i - 1) : open(file, O_RDONLY);

		if (fd < 0) {
			fail("fd number %d: %m", i);
			return 1;
		}
		if (first < 0)
			first = fd;
		if (fd != first + i) {
			fail("fd %d, want %d", fd, first + i);
			return 1;
		}
		if (i % 10 != 9)
			lseek(fd, i % 1021, SEEK_SET);
	}
	test_daemon();
	test_waitsig();

	if (test_sabotage())
		lseek(first + n / 2, 1, SEEK_CUR);

	for (i = 0; i < n; i++) {
		int fd = first + i, at = i % 10 == 9 ? i - 1 : i;
		off_t want = at % 1021;

		if (lseek(fd, 0, SEEK_CUR) != want) {
			fail("fd %d at %ld, want %ld", fd, (long)lseek(fd, 0, SEEK_CUR), (long)want);
			break;
		}
		if (i % 10 != 9)
			continue;
		/* Shared with the fd before it: moving one moves the other. */
		lseek(fd - 1, want + 1, SEEK_SET);
		if (lseek(fd, 0, SEEK_CUR) != want + 1) {
			fail("fds %d and %d no longer share their description", fd - 1, fd);
			break;
		}
	}
	if (fcntl(first + n, F_GETFD) != -1)
		fail("fd %d is open after restore", first + n);
	pass();
	return test_exit();
}
