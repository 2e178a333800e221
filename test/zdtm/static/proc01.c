/*
 * proc01: a file of /proc/PID of a task outside the tree (the runner's
 * pid 1, seen through the host's /proc) is refused: after restore that pid
 * could be anyone's.
 */
#include <fcntl.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char buf[16];
	int fd;

	test_init(argc, argv);
	fd = open("/proc/1/stat", O_RDONLY);
	if (fd < 0) {
		fail("open /proc/1/stat");
		return 1;
	}
	test_daemon();
	test_waitsig();
	if (test_sabotage())
		close(fd);
	if (pread(fd, buf, sizeof(buf), 0) <= 0 || buf[0] != '1')
		fail("/proc/1/stat no longer reads pid 1");
	pass();
	return test_exit();
}
