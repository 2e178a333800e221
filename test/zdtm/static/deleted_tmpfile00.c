/*
 * deleted_tmpfile00: files made with O_TMPFILE (never linked) come back as
 * such: T, open O_RDWR, with data, a hole and its offset moved; M, made
 * O_RDWR, mapped MAP_SHARED and its fd closed. After
 * restore T's status flags (O_TMPFILE among them), offset, mode, size and
 * data are as they were, it has no link, /proc names it after its inode
 * ("#INO (deleted)") as the kernel names an O_TMPFILE file, and it can be
 * linked into the directory (linkat through /proc/self/fd), as an
 * O_TMPFILE file made without O_EXCL can; M's mapping has its data and
 * still writes to the file. Sabotage truncates T.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define HOLE (1 << 20)

static uint8_t data[10000], tail[100];

/* expect_tmpfile_name fails unless fd's /proc link is DIR/#INO (deleted). */
static void expect_tmpfile_name(int fd, const char *dir)
{
	char p[64], link[PATH_MAX], want[PATH_MAX];
	struct stat st;
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, link, sizeof(link) - 1);
	if (n < 0 || fstat(fd, &st)) {
		fail("readlink or fstat of fd %d", fd);
		return;
	}
	link[n] = 0;
	snprintf(want, sizeof(want), "%.3000s/#%llu (deleted)", dir, (unsigned long long)st.st_ino);
	if (strcmp(link, want))
		fail("fd %d is %s, want %s", fd, link, want);
}

int main(int argc, char **argv)
{
	char path[PATH_MAX], p[64], buf[sizeof(data)];
	uint32_t crc = 3, tcrc;
	int t, m, flags, l;
	struct stat st;
	uint8_t *map;

	test_init(argc, argv);
	datagen(data, sizeof(data), &crc);
	tcrc = crc;
	datagen(tail, sizeof(tail), &tcrc);
	t = open(test_dir(), O_TMPFILE | O_RDWR, 0640);
	m = open(test_dir(), O_TMPFILE | O_RDWR, 0600);
	if (t < 0 || m < 0) {
		fail("open O_TMPFILE");
		return 1;
	}
	if (fchmod(t, 0640) || write(t, data, sizeof(data)) != sizeof(data) ||
	    pwrite(t, tail, sizeof(tail), HOLE) != sizeof(tail) || lseek(t, 123, SEEK_SET) != 123 ||
	    ftruncate(m, 4096) || (map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0)) == MAP_FAILED ||
	    close(m)) {
		fail("fill T and map M");
		return 1;
	}
	memcpy(map, "mapped", 6);
	flags = fcntl(t, F_GETFL);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		ftruncate(t, 0);
	if (fcntl(t, F_GETFL) != flags)
		fail("T's status flags are %o, want %o", fcntl(t, F_GETFL), flags);
	if (lseek(t, 0, SEEK_CUR) != 123)
		fail("T's offset moved");
	if (fstat(t, &st) || st.st_nlink != 0 || (st.st_mode & 07777) != 0640 || st.st_size != HOLE + (off_t)sizeof(tail))
		fail("T: links %lu, mode %o, size %lld", (unsigned long)st.st_nlink, st.st_mode, (long long)st.st_size);
	if (pread(t, buf, sizeof(data), 0) != sizeof(data) || memcmp(buf, data, sizeof(data)) ||
	    pread(t, buf, sizeof(tail), HOLE) != sizeof(tail) || memcmp(buf, tail, sizeof(tail)) ||
	    pread(t, buf, 16, HOLE - 16) != 16 || memcmp(buf, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16))
		fail("T's data differs");
	expect_tmpfile_name(t, test_dir());
	if (memcmp(map, "mapped", 6))
		fail("M's mapping lost its data");
	snprintf(p, sizeof(p), "/proc/self/fd/%d", t);
	snprintf(path, sizeof(path), "%.3000s/linked", test_dir());
	if (linkat(AT_FDCWD, p, AT_FDCWD, path, AT_SYMLINK_FOLLOW))
		fail("T cannot be linked into its directory");
	else if ((l = open(path, O_RDONLY)) < 0 || read(l, buf, sizeof(data)) != sizeof(data) || memcmp(buf, data, sizeof(data)))
		fail("the linked T has other data");
	pass();
	return test_exit();
}
