/*
 * lease00: a read lease (F_SETLEASE) on a file. Leases are not supported:
 * the checkpoint must be refused, naming it (.desc crfail), and the task
 * carries on untouched: it still holds the lease. Sabotage gives it up.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char path[512];
	int fd;

	test_init(argc, argv);
	snprintf(path, sizeof(path), "%s/leased", test_dir());
	fd = open(path, O_CREAT | O_RDONLY, 0644);
	if (fd < 0 || fcntl(fd, F_SETLEASE, F_RDLCK)) {
		fail("take a read lease");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		fcntl(fd, F_SETLEASE, F_UNLCK);
	if (fcntl(fd, F_GETLEASE) != F_RDLCK)
		fail("lease %d, want F_RDLCK", fcntl(fd, F_GETLEASE));
	pass();
	return test_exit();
}
