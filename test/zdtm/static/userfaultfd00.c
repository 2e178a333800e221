/*
 * userfaultfd00: a process holding a userfaultfd. Its state lives in the kernel where
 * no syscall reads it back, so the checkpoint must be refused naming the
 * kind (userfaultfd, .desc crfail and refusal) and the process carry on: the
 * fd is still open and still the same file afterwards.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "zdtmtst.h"

static int open_it(void)
{
	return syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
}

int main(int argc, char **argv)
{
	struct stat before, after;
	int fd;

	test_init(argc, argv);
	fd = open_it();
	if (fd < 0 || fstat(fd, &before)) {
		fail("create the userfaultfd fd: %m");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		close(fd);
	if (fstat(fd, &after) || after.st_ino != before.st_ino)
		fail("the userfaultfd fd is gone or changed");
	pass();
	return test_exit();
}
