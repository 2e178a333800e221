/*
 * chroot00: a chrooted task comes back chrooted, with its files. The test
 * makes jail/sub and jail/inner (with data) in its directory, opens
 * jail/outer before chroot(jail), then chdir("/sub") and opens "/inner"
 * at an offset from inside. After restore "/" is the jail (same inode,
 * and ".." of "/" is still "/"), the working directory is /sub, both fds
 * read their files at their offsets, and "/inner" opens by its path inside
 * the root. Sabotage chroots one level further down, into /sub.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

static const char data[] = "chroot00: data inside the jail";

static int make(const char *p)
{
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, data, sizeof(data)) != sizeof(data)) {
		fail("create %s", p);
		return -1;
	}
	return fd;
}

static void check_fd(const char *who, int fd, off_t off, const struct stat *want)
{
	char buf[sizeof(data)];
	struct stat st;

	if (fstat(fd, &st) || st.st_ino != want->st_ino || st.st_dev != want->st_dev)
		fail("%s: fd %d is another file", who, fd);
	if (lseek(fd, 0, SEEK_CUR) != off)
		fail("%s: offset %lld, want %lld", who, (long long)lseek(fd, 0, SEEK_CUR), (long long)off);
	if (pread(fd, buf, sizeof(buf), 0) != sizeof(buf) || memcmp(buf, data, sizeof(buf)))
		fail("%s: content differs", who);
}

int main(int argc, char **argv)
{
	struct stat jail, inner, outer, st, up;
	char *jpath, *p, cwd[64];
	int in_fd, out_fd, fd;

	test_init(argc, argv);
	jpath = test_path("jail");
	if (mkdir(jpath, 0755)) {
		fail("mkdir %s", jpath);
		return 1;
	}
	p = test_path("jail/sub");
	if (mkdir(p, 0755)) {
		fail("mkdir %s", p);
		return 1;
	}
	out_fd = make(test_path("jail/outer"));
	fd = make(test_path("jail/inner"));
	if (out_fd < 0 || fd < 0)
		return 1;
	close(fd);
	lseek(out_fd, 5, SEEK_SET);
	if (stat(jpath, &jail) || stat(test_path("jail/inner"), &inner) || fstat(out_fd, &outer)) {
		fail("stat");
		return 1;
	}
	if (chroot(jpath) || chdir("/sub")) {
		fail("chroot %s", jpath);
		return 1;
	}
	in_fd = open("/inner", O_RDWR);
	if (in_fd < 0 || lseek(in_fd, 7, SEEK_SET) != 7) {
		fail("open /inner in the jail");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage() && chroot("/sub"))
		fail("sabotage: chroot /sub");
	if (stat("/", &st) || st.st_ino != jail.st_ino || st.st_dev != jail.st_dev)
		fail("\"/\" is not the jail");
	if (stat("/..", &up) || up.st_ino != st.st_ino)
		fail("\"/..\" leads out of the root");
	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, "/sub"))
		fail("working directory is not /sub");
	check_fd("inner", in_fd, 7, &inner);
	check_fd("outer", out_fd, 5, &outer);
	fd = open("/inner", O_RDONLY);
	if (fd < 0 || fstat(fd, &st) || st.st_ino != inner.st_ino)
		fail("\"/inner\" does not open the jail's inner");
	pass();
	return test_exit();
}
