/*
 * loginuid00: the audit login uid (/proc/PID/loginuid, set by a login
 * program with CAP_AUDIT_CONTROL) survives C/R. The session id the kernel
 * gave with it cannot be set again: a restored task has a new one.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "zdtmtst.h"

#define LOGINUID 4242u

static long read_num(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY);

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
		return -2;
	close(fd);
	return strtol(buf, NULL, 10);
}

static int write_num(const char *path, unsigned v)
{
	char buf[32];
	int fd = open(path, O_WRONLY);
	int n = snprintf(buf, sizeof(buf), "%u", v);

	if (fd < 0)
		return -1;
	if (write(fd, buf, n) != n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (write_num("/proc/self/loginuid", LOGINUID)) {
		fail("write /proc/self/loginuid");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		write_num("/proc/self/loginuid", LOGINUID + 1);
	if (read_num("/proc/self/loginuid") != LOGINUID)
		fail("loginuid %ld, want %u", read_num("/proc/self/loginuid"), LOGINUID);
	pass();
	return test_exit();
}
