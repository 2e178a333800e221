/*
 * fdflags01: the status flags O_NOATIME, O_SYNC and O_DSYNC of regular
 * files survive C/R, each on its own description and all three on one,
 * alone or with O_APPEND: fcntl(F_GETFL) says the same after restore, and
 * the files are the same, at the same offsets. Sabotage clears O_NOATIME
 * (F_SETFL can; it cannot clear O_SYNC or O_DSYNC).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define N 5

static const int extra[N] = {
	O_NOATIME, O_SYNC, O_DSYNC, O_NOATIME | O_SYNC | O_DSYNC, O_DSYNC | O_APPEND,
};

int main(int argc, char **argv)
{
	char path[PATH_MAX];
	int fd[N], fl[N], i;
	struct stat before[N], st;

	test_init(argc, argv);
	for (i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "%.3000s/f%d", test_dir(), i);
		fd[i] = open(path, O_CREAT | O_RDWR | extra[i], 0600);
		if (fd[i] < 0 || write(fd[i], "0123456789", 10) != 10 || lseek(fd[i], i + 1, SEEK_SET) != i + 1 ||
		    fstat(fd[i], &before[i])) {
			fail("open %s with %o", path, extra[i]);
			return 1;
		}
		fl[i] = fcntl(fd[i], F_GETFL);
		if ((fl[i] & extra[i]) != extra[i]) {
			fail("%s: flags %o lack %o before C/R", path, fl[i], extra[i]);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		fcntl(fd[0], F_SETFL, fl[0] & ~O_NOATIME);
	for (i = 0; i < N; i++) {
		if (fcntl(fd[i], F_GETFL) != fl[i])
			fail("fd %d: status flags %o, want %o", fd[i], fcntl(fd[i], F_GETFL), fl[i]);
		if (fstat(fd[i], &st) || st.st_ino != before[i].st_ino || st.st_dev != before[i].st_dev)
			fail("fd %d is another file", fd[i]);
		if (lseek(fd[i], 0, SEEK_CUR) != i + 1)
			fail("fd %d: offset moved", fd[i]);
	}
	pass();
	return test_exit();
}
