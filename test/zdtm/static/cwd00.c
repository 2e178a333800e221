/* cwd00: the working directory survives C/R. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char before[PATH_MAX], after[PATH_MAX], link[PATH_MAX];
	char *sub, *deeper;
	ssize_t n;
	int fd;

	test_init(argc, argv);
	sub = test_path("cwd00.sub");
	if (asprintf(&deeper, "%s/deeper", sub) < 0)
		return 1;
	if ((mkdir(sub, 0755) && errno != EEXIST) || (mkdir(deeper, 0755) && errno != EEXIST)) {
		fail("mkdir %s", deeper);
		return 1;
	}
	if (chdir(deeper) || !getcwd(before, sizeof(before))) {
		fail("chdir %s", deeper);
		return 1;
	}
	fd = open("marker", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		fail("create marker");
		return 1;
	}
	close(fd);

	test_daemon();
	test_waitsig();

	if (test_sabotage() && chdir(sub))
		fail("sabotage chdir");
	if (!getcwd(after, sizeof(after)))
		fail("getcwd");
	else if (strcmp(before, after))
		fail("getcwd = %s, want %s", after, before);
	n = readlink("/proc/self/cwd", link, sizeof(link) - 1);
	if (n < 0)
		fail("readlink /proc/self/cwd");
	else {
		link[n] = 0;
		if (strcmp(link, before))
			fail("/proc/self/cwd = %s, want %s", link, before);
	}
	fd = open("marker", O_RDONLY);
	if (fd < 0)
		fail("open marker relative to the cwd");
	else
		close(fd);
	pass();
	return test_exit();
}
