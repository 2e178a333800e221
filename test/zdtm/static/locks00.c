/*
 * locks00: file locks survive C/R when checkpointed and restored with
 * --file-locks (.desc ckpt_opts): an exclusive flock lock, two POSIX locks
 * (a write lock on bytes 10-14 and a read lock from byte 100 to the end)
 * and a shared OFD lock on a whole file. After restore a child process
 * (another owner) finds each lock where it was and nothing elsewhere.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static char path_a[PATH_MAX / 2], path_b[PATH_MAX / 2], path_c[PATH_MAX / 2];

/* probe asks F_GETLK (or F_OFD_GETLK) whether a write lock of [start,
 * start+len) on path conflicts, and returns the conflicting lock's type
 * (F_UNLCK if none) and owner pid. */
static int probe(const char *path, int cmd, off_t start, off_t len, pid_t *pid)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	int fd = open(path, O_RDWR);

	if (fd < 0 || fcntl(fd, cmd, &fl))
		return -1;
	close(fd);
	*pid = fl.l_pid;
	return fl.l_type;
}

/* check runs in a child: another lock owner than the test. */
static int check(pid_t parent)
{
	int bad = 0, fd, t;
	pid_t pid;

	fd = open(path_a, O_RDONLY);
	if (flock(fd, LOCK_SH | LOCK_NB) != -1 || errno != EWOULDBLOCK) {
		test_msg("flock: a shared lock was granted: the exclusive flock lock is gone\n");
		bad = 1;
	}
	close(fd);
	t = probe(path_b, F_GETLK, 12, 1, &pid);
	if (t != F_WRLCK || pid != parent) {
		test_msg("POSIX: byte 12 has lock type %d of pid %d, want a write lock of %d\n", t, pid, parent);
		bad = 1;
	}
	t = probe(path_b, F_GETLK, 15, 85, &pid);
	if (t != F_UNLCK) {
		test_msg("POSIX: bytes 15-99 have lock type %d of pid %d, want none\n", t, pid);
		bad = 1;
	}
	t = probe(path_b, F_GETLK, 1 << 20, 1, &pid);
	if (t != F_RDLCK || pid != parent) {
		test_msg("POSIX: byte 1M has lock type %d of pid %d, want a read lock of %d\n", t, pid, parent);
		bad = 1;
	}
	t = probe(path_c, F_OFD_GETLK, 0, 0, &pid);
	if (t != F_RDLCK || pid != -1) {
		test_msg("OFD: lock type %d of pid %d, want a read lock of pid -1\n", t, pid);
		bad = 1;
	}
	return bad;
}

int main(int argc, char **argv)
{
	struct flock wr = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 5};
	struct flock rd = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 0};
	struct flock ofd = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
	int a, b, c, status;
	pid_t child;

	test_init(argc, argv);
	snprintf(path_a, sizeof(path_a), "%s/flock", test_dir());
	snprintf(path_b, sizeof(path_b), "%s/posix", test_dir());
	snprintf(path_c, sizeof(path_c), "%s/ofd", test_dir());
	a = open(path_a, O_CREAT | O_RDWR, 0644);
	b = open(path_b, O_CREAT | O_RDWR, 0644);
	c = open(path_c, O_CREAT | O_RDWR, 0644);
	if (a < 0 || b < 0 || c < 0) {
		fail("open");
		return 1;
	}
	if (flock(a, LOCK_EX) || fcntl(b, F_SETLK, &wr) || fcntl(b, F_SETLK, &rd) || fcntl(c, F_OFD_SETLK, &ofd)) {
		fail("lock: %m");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		flock(a, LOCK_UN);

	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0)
		_exit(check(getppid()));
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the locks are not what they were (see above)");
	pass();
	return test_exit();
}
