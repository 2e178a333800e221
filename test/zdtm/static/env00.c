/* env00: the environment survives C/R, both as libc sees it (memory) and as
 * the kernel shows it in /proc/self/environ (mm->env_start/env_end). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

/* The runner starts every test with ZDTM_TEST_ENV set, so the variable sits
 * in the initial environment block the kernel knows about. */
static char *envname = "ZDTM_TEST_ENV";
TEST_OPTION(envname, string, "variable set in the environment before exec");

static const char set_name[] = "ZDTM_ENV00_SET";
static const char set_value[] = "set by setenv before checkpoint";

/* in_proc_environ reports whether "name=value" is one of the NUL-separated
 * entries of /proc/self/environ. */
static int in_proc_environ(const char *name, const char *value)
{
	static char buf[1 << 16];
	char want[1024];
	ssize_t n, total = 0;
	int fd;

	snprintf(want, sizeof(want), "%s=%s", name, value);
	fd = open("/proc/self/environ", O_RDONLY);
	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + total, sizeof(buf) - 1 - total)) > 0)
		total += n;
	close(fd);
	for (char *p = buf; p < buf + total; p += strlen(p) + 1)
		if (!strcmp(p, want))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *v;
	char *want;

	test_init(argc, argv);
	v = getenv(envname);
	if (!v) {
		fail("%s is not set (the runner sets it)", envname);
		return 1;
	}
	want = strdup(v);
	if (in_proc_environ(envname, want) != 1) {
		fail("%s=%s is not in /proc/self/environ before checkpoint", envname, want);
		return 1;
	}
	if (setenv(set_name, set_value, 1)) {
		fail("setenv");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		setenv(envname, "sabotaged", 1);
	v = getenv(envname);
	if (!v || strcmp(v, want))
		fail("getenv(%s) = %s, want %s", envname, v ? v : "(null)", want);
	v = getenv(set_name);
	if (!v || strcmp(v, set_value))
		fail("getenv(%s) = %s, want %s", set_name, v ? v : "(null)", set_value);
	if (in_proc_environ(envname, want) != 1)
		fail("%s=%s is not in /proc/self/environ after restore", envname, want);
	pass();
	return test_exit();
}
