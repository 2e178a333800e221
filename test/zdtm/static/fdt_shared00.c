/*
 * fdt_shared00: two processes sharing one fd table (CLONE_FILES) still
 * share it after C/R, and a third, forked, keeps its own copy: kcmp
 * (KCMP_FILES) agrees, and after restore the init opens one file at fd 77
 * and closes fd 50: the sharer sees both changes, the forked child
 * neither. Sabotage unshares the init's table first.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static char *path_a, *path_b;

static int same_file(int fd, const char *path)
{
	struct stat a, b;

	return !fstat(fd, &a) && !stat(path, &b) && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

/* sharer runs in the process that shares the init's table. */
static void sharer(void)
{
	test_waitsig();
	if (!same_file(77, path_b))
		fail("sharer: fd 77 is not %s: the init's open did not reach its table", path_b);
	if (fcntl(50, F_GETFD) != -1)
		fail("sharer: fd 50 is still open: the init's close did not reach its table");
	_exit(test_failed());
}

static int copier(void *arg)
{
	(void)arg;
	test_daemon();
	test_waitsig();
	if (fcntl(77, F_GETFD) != -1)
		fail("copier: fd 77 is open in a table that was only copied");
	if (!same_file(50, path_a))
		fail("copier: fd 50 is no longer %s", path_a);
	return 0;
}

int main(int argc, char **argv)
{
	int fd, status;
	pid_t pid;

	test_init(argc, argv);
	path_a = test_path("a");
	path_b = test_path("b");
	fd = open(path_a, O_RDWR | O_CREAT, 0644);
	if (fd < 0 || dup2(fd, 50) != 50 || close(fd) || close(creat(path_b, 0644))) {
		fail("make the files");
		return 1;
	}
	if (test_spawn(copier, NULL) < 0)
		return 1;
	/* fork-like (no new stack, no CLONE_VM): the child goes on here. */
	pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
	if (pid < 0) {
		fail("clone(CLONE_FILES)");
		return 1;
	}
	if (pid == 0)
		sharer();

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		unshare(CLONE_FILES);
	if (syscall(SYS_kcmp, getpid(), pid, KCMP_FILES, 0, 0) != 0)
		fail("kcmp(KCMP_FILES): %d and %d no longer share their fd table", getpid(), pid);
	fd = open(path_b, O_RDONLY);
	if (fd < 0 || dup2(fd, 77) != 77 || close(fd) || close(50))
		fail("open fd 77, close fd 50");
	kill(pid, SIGTERM);
	if (waitpid(pid, &status, 0) != pid || status)
		fail("the sharer %d ended with %#x", pid, status);
	test_stop_children();
	pass();
	return test_exit();
}
