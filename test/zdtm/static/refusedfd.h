/*
 * refusedfd.h: the body of a test whose fd is of a kind the checkpoint
 * must refuse (its .desc says crfail, with words the refusal must hold).
 * After the refused checkpoint the fd must still be there, the same file;
 * sabotage closes it.
 */
#ifndef REFUSEDFD_H
#define REFUSEDFD_H

#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

static int refused_fd_main(int argc, char **argv, const char *what, int (*open_it)(void))
{
	struct stat before, after;
	int fd;

	test_init(argc, argv);
	fd = open_it();
	if (fd < 0 || fstat(fd, &before)) {
		fail("create the %s fd: %m", what);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		close(fd);
	if (fstat(fd, &after) || after.st_ino != before.st_ino)
		fail("the %s fd is gone or changed", what);
	pass();
	return test_exit();
}

#endif
