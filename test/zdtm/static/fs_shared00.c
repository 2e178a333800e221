/*
 * fs_shared00: two processes sharing one fs_struct (CLONE_FS: cwd, root,
 * umask) still share it after C/R, and a forked third keeps its own. The
 * init's cwd and umask are as before; after restore it moves to another
 * directory and changes its umask, and the sharer sees both, the forked
 * child neither. Sabotage unshares the init's fs_struct first.
 */
#define _GNU_SOURCE
#include <linux/kcmp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static char *dir1, *dir2, *dir3;

static void expect(const char *who, const char *dir, mode_t mask)
{
	char cwd[PATH_MAX];
	mode_t m = umask(0);

	umask(m);
	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, dir))
		fail("%s: cwd %s, want %s", who, cwd, dir);
	if (m != mask)
		fail("%s: umask %03o, want %03o", who, m, mask);
}

static void sharer(void)
{
	test_waitsig();
	expect("sharer", dir2, 077);
	_exit(test_failed());
}

static int own(void *arg)
{
	(void)arg;
	if (chdir(dir3) || umask(022) != 027) {
		fail("own: chdir, umask");
		return 1;
	}
	test_daemon();
	test_waitsig();
	expect("own", dir3, 022);
	return 0;
}

int main(int argc, char **argv)
{
	int status;
	pid_t pid;

	test_init(argc, argv);
	dir1 = test_path("one");
	dir2 = test_path("two");
	dir3 = test_path("three");
	if (mkdir(dir1, 0755) || mkdir(dir2, 0755) || mkdir(dir3, 0755) || chdir(dir1)) {
		fail("make the directories");
		return 1;
	}
	umask(027);
	if (test_spawn(own, NULL) < 0)
		return 1;
	pid = syscall(SYS_clone, CLONE_FS | SIGCHLD, 0, 0, 0, 0);
	if (pid < 0) {
		fail("clone(CLONE_FS)");
		return 1;
	}
	if (pid == 0)
		sharer();

	test_daemon();
	test_waitsig();

	expect("init", dir1, 027);
	if (test_sabotage())
		unshare(CLONE_FS);
	if (syscall(SYS_kcmp, getpid(), pid, KCMP_FS, 0, 0) != 0)
		fail("kcmp(KCMP_FS): %d and %d no longer share cwd and umask", getpid(), pid);
	if (chdir(dir2))
		fail("chdir %s", dir2);
	umask(077);
	kill(pid, SIGTERM);
	if (waitpid(pid, &status, 0) != pid || status)
		fail("the sharer %d ended with %#x", pid, status);
	test_stop_children();
	pass();
	return test_exit();
}
