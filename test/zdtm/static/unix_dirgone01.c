/*
 * unix_dirgone01: a unix socket bound to a path whose file and directory were removed since. Restore could not
 * tell where its file is, if anywhere: the checkpoint must be refused
 * (.desc crfail), naming the directory, and the task carries on with its
 * socket still bound to the name. Sabotage closes the socket.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "unixutil.h"

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char d[PATH_MAX / 2], d2[PATH_MAX / 2];
	int s;

	test_init(argc, argv);
	snprintf(d, sizeof(d), "%.200s/dir", test_dir());
	snprintf(d2, sizeof(d2), "%.200s/moved", test_dir());
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.90s/s.sock", d);
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (mkdir(d, 0755) || s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) || unlink(sa.sun_path) || rmdir(d)) {
		fail("bind and removed");
		return 1;
	}
	(void)d2;

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		close(s);
	expect_name("the socket", s, 0, sa.sun_path, strlen(sa.sun_path));
	pass();
	return test_exit();
}
