/*
 * unix_relative01: a unix socket bound by a relative path whose socket
 * file was removed since. Where the name was bound from cannot be told
 * (no file leads back to it): the checkpoint must be refused (.desc
 * crfail), naming the name, and the task carries on with its socket still
 * bound to it. Sabotage closes the socket.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "unixutil.h"

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "x.sock" };
	int s;

	test_init(argc, argv);
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (s < 0 || chdir(test_dir()) || bind(s, (struct sockaddr *)&sa, sizeof(sa)) || unlink("x.sock")) {
		fail("bind and unlink");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		close(s);
	expect_name("the socket", s, 0, "x.sock", 6);
	pass();
	return test_exit();
}
