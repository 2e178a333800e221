/*
 * locks01: a process holding a POSIX lock is checkpointed without
 * --file-locks: the checkpoint must be refused, naming the locked file, and
 * the process keep its lock (a child still finds it).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char path[PATH_MAX];
	int fd, status;
	pid_t child, parent;

	test_init(argc, argv);
	snprintf(path, sizeof(path), "%s/locks01-locked-file", test_dir());
	fd = open(path, O_CREAT | O_RDWR, 0644);
	if (fd < 0 || fcntl(fd, F_SETLK, &fl)) {
		fail("lock: %m");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		fl.l_type = F_UNLCK;
		fcntl(fd, F_SETLK, &fl);
	}
	parent = getpid();
	child = fork();
	if (child == 0) {
		struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		int f = open(path, O_RDWR);

		_exit(f < 0 || fcntl(f, F_GETLK, &q) || q.l_type != F_WRLCK || q.l_pid != parent);
	}
	if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the POSIX lock is gone");
	pass();
	return test_exit();
}
