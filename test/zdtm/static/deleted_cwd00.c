/*
 * deleted_cwd00: the working directory was removed (rmdir) while the task
 * stayed in it. Restore could not enter a directory that no longer exists,
 * so the checkpoint must be refused, naming it (.desc crfail), and the task
 * carries on untouched: its cwd is still the removed directory. Sabotage
 * moves to another directory.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char dir[512], cwd[600];
	ssize_t n;

	test_init(argc, argv);
	snprintf(dir, sizeof(dir), "%s/gone", test_dir());
	if (mkdir(dir, 0755) || chdir(dir) || rmdir(dir)) {
		fail("enter and remove the directory");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		chdir("/");
	n = readlink("/proc/self/cwd", cwd, sizeof(cwd) - 1);
	if (n < 0 || (cwd[n] = 0, !strstr(cwd, "/gone (deleted)")))
		fail("the cwd is no longer the removed directory");
	pass();
	return test_exit();
}
