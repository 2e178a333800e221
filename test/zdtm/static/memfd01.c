/*
 * memfd01: a memfd that only fds hold (no task maps it) survives C/R with
 * its name, size, seals and content, and its descriptions keep their own
 * mode and offset: fd and its dup share one (moving one moves the other),
 * a read-only reopen has its own and cannot write. Sabotage moves the
 * shared offset after test_daemon.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define LEN 10000 /* not a whole number of pages */
#define POS 1234
#define RO_POS 5000
#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW)

static uint8_t want[LEN], got[LEN];

int main(int argc, char **argv)
{
	char link[64], name[PATH_MAX];
	struct stat st, rst;
	uint32_t crc = 41;
	int fd, dupfd, ro;
	ssize_t n;

	test_init(argc, argv);
	datagen(want, LEN, &crc);
	fd = memfd_create("zdtm-fdonly", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || write(fd, want, LEN) != LEN || fcntl(fd, F_ADD_SEALS, SEALS) || lseek(fd, POS, SEEK_SET) != POS) {
		fail("make the memfd");
		return 1;
	}
	dupfd = dup(fd);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ro = open(link, O_RDONLY);
	if (dupfd < 0 || ro < 0 || lseek(ro, RO_POS, SEEK_SET) != RO_POS) {
		fail("dup and reopen the memfd");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		lseek(dupfd, 1, SEEK_CUR);
	n = readlink(link, name, sizeof(name) - 1);
	if (n < 0 || (name[n] = 0, strcmp(name, "/memfd:zdtm-fdonly (deleted)")))
		fail("fd %d is %s", fd, n < 0 ? "?" : name);
	if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC) || (fcntl(dupfd, F_GETFD) & FD_CLOEXEC))
		fail("close-on-exec: fd %#x, dup %#x", fcntl(fd, F_GETFD), fcntl(dupfd, F_GETFD));
	if (fcntl(fd, F_GET_SEALS) != SEALS)
		fail("seals %#x, want %#x", fcntl(fd, F_GET_SEALS), SEALS);
	if (fstat(fd, &st) || st.st_size != LEN)
		fail("size %lld, want %d", (long long)st.st_size, LEN);
	if (fstat(ro, &rst) || rst.st_ino != st.st_ino || rst.st_dev != st.st_dev)
		fail("the read-only fd is not the same file");
	if (lseek(fd, 0, SEEK_CUR) != POS)
		fail("offset %lld, want %d", (long long)lseek(fd, 0, SEEK_CUR), POS);
	if (lseek(ro, 0, SEEK_CUR) != RO_POS)
		fail("read-only offset %lld, want %d", (long long)lseek(ro, 0, SEEK_CUR), RO_POS);
	if ((fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDWR || (fcntl(ro, F_GETFL) & O_ACCMODE) != O_RDONLY)
		fail("access modes %#x and %#x", fcntl(fd, F_GETFL), fcntl(ro, F_GETFL));
	if (write(ro, "x", 1) != -1 || errno != EBADF)
		fail("the read-only fd can write");
	if (pread(ro, got, LEN, 0) != LEN || memcmp(got, want, LEN))
		fail("the content differs");
	if (pwrite(fd, "written", 7, 100) != 7 || pread(ro, got, 7, 100) != 7 || memcmp(got, "written", 7))
		fail("a write through the fd does not show through the read-only one");
	if (lseek(dupfd, 7, SEEK_SET) != 7 || lseek(fd, 0, SEEK_CUR) != 7 || lseek(ro, 0, SEEK_CUR) != RO_POS)
		fail("the fd and its dup no longer share one offset, or the reopen shares it");
	pass();
	return test_exit();
}
