/*
 * chroot01: a chrooted child in a pid and mount namespace of the test's
 * own (the init is not chrooted) comes back chrooted, with a file it
 * opened inside by the path its root gives. The jail is a directory of
 * the test's. Sabotage makes the child chroot one level further down.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

static const char data[] = "chroot01: data inside the jail";
static struct stat jail, inner;

static int child(void *arg)
{
	struct stat st;
	char buf[sizeof(data)], cwd[16];
	int fd;

	if (chroot(arg) || chdir("/")) {
		fail("chroot %s", (char *)arg);
		return 1;
	}
	fd = open("/inner", O_RDONLY);
	if (fd < 0 || lseek(fd, 3, SEEK_SET) != 3) {
		fail("open /inner in the jail");
		return 1;
	}
	test_daemon();
	test_waitsig();
	if (test_sabotage() && chroot("/sub"))
		fail("sabotage: chroot /sub");
	if (stat("/", &st) || st.st_ino != jail.st_ino || st.st_dev != jail.st_dev)
		fail("child: \"/\" is not the jail");
	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, "/"))
		fail("child: working directory is not /");
	if (fstat(fd, &st) || st.st_ino != inner.st_ino || lseek(fd, 0, SEEK_CUR) != 3)
		fail("child: fd is not /inner at offset 3");
	if (pread(fd, buf, sizeof(buf), 0) != sizeof(buf) || memcmp(buf, data, sizeof(buf)))
		fail("child: content differs");
	return 0;
}

int main(int argc, char **argv)
{
	char *jpath, *p;
	int fd;

	test_init(argc, argv);
	jpath = test_path("jail");
	p = test_path("jail/sub");
	if (mkdir(jpath, 0755) || mkdir(p, 0755)) {
		fail("mkdir %s", p);
		return 1;
	}
	p = test_path("jail/inner");
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, sizeof(data)) != sizeof(data) || close(fd)) {
		fail("create %s", p);
		return 1;
	}
	if (stat(jpath, &jail) || stat(p, &inner)) {
		fail("stat");
		return 1;
	}
	if (test_spawn(child, jpath) < 0)
		return 1;

	test_daemon();
	test_waitsig();

	test_stop_children();
	pass();
	return test_exit();
}
