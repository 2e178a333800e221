/*
 * leak_fdt00: the init of the namespace shares its fd table with a task
 * outside it (its parent, which made it with clone(CLONE_FILES)): a
 * checkpoint must refuse, naming both tasks and the fd table, and leave
 * the task as it was: the file it holds keeps its position. Sabotage
 * moves the position.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	int fd;

	test_outside(CLONE_FILES, NULL);
	test_init(argc, argv);
	fd = open(test_path("file"), O_RDWR | O_CREAT, 0644);
	if (fd < 0 || write(fd, "0123456789", 10) != 10) {
		fail("make the file");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		lseek(fd, 1, SEEK_SET);
	if (lseek(fd, 0, SEEK_CUR) != 10)
		fail("the file's position moved to %lld", (long long)lseek(fd, 0, SEEK_CUR));
	pass();
	return test_exit();
}
