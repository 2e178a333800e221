/*
 * fdflags00: open flags and kinds of open files fd00 does not cover survive
 * C/R: an O_DIRECT file (where the file system allows it), O_PATH fds of a
 * file and of a directory, a directory opened for reading with its position
 * moved past the first entries by getdents64, and an O_APPEND|O_RDWR file
 * whose position is not at its end (writes still append).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

static char dir[PATH_MAX / 2], file[PATH_MAX / 2], dfile[PATH_MAX / 2], afile[PATH_MAX / 2];

/* same_file checks fd is the file at path. */
static void same_file(int fd, const char *path, const char *what)
{
	struct stat a, b;

	if (fstat(fd, &a) || stat(path, &b) || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
		fail("%s: fd %d is not %s any more", what, fd, path);
}

int main(int argc, char **argv)
{
	char name[PATH_MAX], buf[512] __attribute__((aligned(4096)));
	int direct, opath_file, opath_dir, dirfd, app, f, i;
	off_t dirpos;
	long n;

	test_init(argc, argv);
	snprintf(dir, sizeof(dir), "%s/d", test_dir());
	snprintf(file, sizeof(file), "%s/f", test_dir());
	snprintf(dfile, sizeof(dfile), "%s/direct", test_dir());
	snprintf(afile, sizeof(afile), "%s/append", test_dir());
	if (mkdir(dir, 0755)) {
		fail("mkdir");
		return 1;
	}
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "%s/e%02d", dir, i);
		f = open(name, O_CREAT | O_WRONLY, 0644);
		close(f);
	}
	f = open(file, O_CREAT | O_WRONLY, 0644);
	close(f);

	direct = open(dfile, O_CREAT | O_RDWR | O_DIRECT, 0644);
	if (direct < 0 && errno != EINVAL) {
		fail("open O_DIRECT: %m");
		return 1;
	}
	if (direct >= 0) {
		memset(buf, 'd', sizeof(buf));
		if (write(direct, buf, sizeof(buf)) != sizeof(buf)) {
			/* The file system takes O_DIRECT opens but not 512-byte I/O. */
			close(direct);
			direct = -1;
		}
	}
	if (direct < 0)
		test_msg("O_DIRECT is not supported on %s: that part is skipped\n", test_dir());
	opath_file = open(file, O_PATH);
	opath_dir = open(dir, O_PATH | O_DIRECTORY);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	app = open(afile, O_CREAT | O_RDWR | O_APPEND, 0644);
	if (opath_file < 0 || opath_dir < 0 || dirfd < 0 || app < 0) {
		fail("open");
		return 1;
	}
	/* Read a few entries only: the position moves past them. */
	n = syscall(SYS_getdents64, dirfd, buf, 64);
	if (n <= 0) {
		fail("getdents64: %m");
		return 1;
	}
	dirpos = lseek(dirfd, 0, SEEK_CUR);
	if (write(app, "hello", 5) != 5 || lseek(app, 1, SEEK_SET) != 1) {
		fail("append file");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		fcntl(app, F_SETFL, 0);

	if (direct >= 0) {
		if (!(fcntl(direct, F_GETFL) & O_DIRECT))
			fail("O_DIRECT lost");
		if (lseek(direct, 0, SEEK_CUR) != sizeof(buf))
			fail("O_DIRECT file position %ld, want %zu", (long)lseek(direct, 0, SEEK_CUR), sizeof(buf));
		same_file(direct, dfile, "O_DIRECT file");
	}
	if (!(fcntl(opath_file, F_GETFL) & O_PATH) || !(fcntl(opath_dir, F_GETFL) & O_PATH))
		fail("O_PATH lost");
	same_file(opath_file, file, "O_PATH file");
	same_file(opath_dir, dir, "O_PATH directory");
	/* An O_PATH directory still anchors *at calls. */
	f = openat(opath_dir, "e00", O_RDONLY);
	if (f < 0)
		fail("openat through the O_PATH directory: %m");
	close(f);
	if (read(opath_file, buf, 1) != -1 || errno != EBADF)
		fail("read on the O_PATH file did not fail with EBADF");

	same_file(dirfd, dir, "directory");
	if (lseek(dirfd, 0, SEEK_CUR) != dirpos)
		fail("directory position %ld, want %ld", (long)lseek(dirfd, 0, SEEK_CUR), (long)dirpos);
	if (syscall(SYS_getdents64, dirfd, buf, sizeof(buf)) <= 0)
		fail("getdents64 after restore: %m");

	if (!(fcntl(app, F_GETFL) & O_APPEND) || (fcntl(app, F_GETFL) & O_ACCMODE) != O_RDWR)
		fail("append file flags %#o, want O_RDWR|O_APPEND", fcntl(app, F_GETFL));
	if (lseek(app, 0, SEEK_CUR) != 1)
		fail("append file position %ld, want 1", (long)lseek(app, 0, SEEK_CUR));
	if (write(app, "!", 1) != 1 || lseek(app, 0, SEEK_CUR) != 6)
		fail("a write did not append");
	pass();
	return test_exit();
}
