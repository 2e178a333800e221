/*
 * deleted_tmpfile01: a file made with O_TMPFILE and linked into its
 * directory since (linkat through /proc/self/fd). Its description still
 * names the unlinked "#INO" entry (/proc shows "#INO (deleted)") though
 * the file has a link: which one cannot be found from the description,
 * and a reopen by a path would not give back its O_TMPFILE status flags.
 * The checkpoint must be refused (.desc crfail), naming the other link,
 * and the task carries on with the same file at the same offset.
 * Sabotage moves the offset.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char p[64], path[PATH_MAX];
	struct stat before, after;
	int t;

	test_init(argc, argv);
	snprintf(path, sizeof(path), "%.3000s/linked", test_dir());
	t = open(test_dir(), O_TMPFILE | O_RDWR, 0600);
	snprintf(p, sizeof(p), "/proc/self/fd/%d", t);
	if (t < 0 || write(t, "data", 4) != 4 || linkat(AT_FDCWD, p, AT_FDCWD, path, AT_SYMLINK_FOLLOW) || fstat(t, &before)) {
		fail("make and link the O_TMPFILE file");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		lseek(t, 0, SEEK_SET);
	if (fstat(t, &after) || after.st_ino != before.st_ino || lseek(t, 0, SEEK_CUR) != 4)
		fail("the file or its offset changed");
	pass();
	return test_exit();
}
