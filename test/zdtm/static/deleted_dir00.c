/*
 * deleted_dir00: a directory held open (O_DIRECTORY) and then removed.
 * Restore could not open it again, so the checkpoint must be refused,
 * naming it (.desc crfail), and the task carries on untouched: the fd
 * still leads to the removed directory. Sabotage closes it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char dir[512];
	struct stat st;
	int fd;

	test_init(argc, argv);
	snprintf(dir, sizeof(dir), "%s/gone", test_dir());
	if (mkdir(dir, 0755) || (fd = open(dir, O_RDONLY | O_DIRECTORY)) < 0 || rmdir(dir)) {
		fail("open and remove the directory");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		close(fd);
	if (fstat(fd, &st) || !S_ISDIR(st.st_mode) || st.st_nlink != 0)
		fail("the fd no longer holds the removed directory");
	pass();
	return test_exit();
}
