/*
 * fd00: regular files and character devices keep their fd number, position,
 * status flags, fd flags and sharing across C/R: a read-only file with a
 * moved position, a read-write one, an O_APPEND log, an O_CLOEXEC fd, an fd
 * dup'ed to a high number (sharing its description, so sharing the
 * position), an O_NONBLOCK fd, /dev/null and /dev/zero.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define DATA_LEN (3 * 4096 + 123)

struct fdstate {
	const char *what;
	int fd;
	off_t pos;
	int fl, fdfl;
};

static uint8_t data[DATA_LEN];

static int snap(struct fdstate *s)
{
	s->pos = lseek(s->fd, 0, SEEK_CUR);
	s->fl = fcntl(s->fd, F_GETFL);
	s->fdfl = fcntl(s->fd, F_GETFD);
	return s->fl < 0 || s->fdfl < 0 ? -1 : 0;
}

static int move_fd(int fd, int to)
{
	if (dup2(fd, to) != to)
		return -1;
	close(fd);
	return to;
}

static void check_read(int fd, off_t at, size_t n, const char *what)
{
	uint8_t buf[256];

	if (read(fd, buf, n) != (ssize_t)n)
		fail("read %zu bytes from %s", n, what);
	else if (memcmp(buf, data + at, n))
		fail("%s: bytes at %lld differ from the file", what, (long long)at);
}

int main(int argc, char **argv)
{
	char *path = NULL, *log = NULL;
	struct fdstate fds[8], now;
	uint32_t crc = 7;
	struct stat st;
	int n = 0, fd;
	uint8_t buf[16];

	test_init(argc, argv);
	path = test_path("fd00.data");
	log = test_path("fd00.log");
	datagen(data, sizeof(data), &crc);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, sizeof(data)) != sizeof(data) || close(fd)) {
		fail("write %s", path);
		return 1;
	}

	fds[n++] = (struct fdstate){ .what = "ro", .fd = open(path, O_RDONLY) };
	fds[n++] = (struct fdstate){ .what = "rw", .fd = open(path, O_RDWR) };
	fds[n++] = (struct fdstate){ .what = "append", .fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC, 0600) };
	fds[n++] = (struct fdstate){ .what = "cloexec", .fd = open(path, O_RDONLY | O_CLOEXEC) };
	fds[n++] = (struct fdstate){ .what = "nonblock", .fd = move_fd(open(path, O_RDONLY | O_NONBLOCK), 200) };
	fds[n++] = (struct fdstate){ .what = "null", .fd = open("/dev/null", O_WRONLY) };
	fds[n++] = (struct fdstate){ .what = "zero", .fd = open("/dev/zero", O_RDONLY) };
	fds[n++] = (struct fdstate){ .what = "dup", .fd = dup2(fds[1].fd, 100) };
	for (int i = 0; i < n; i++)
		if (fds[i].fd < 0) {
			fail("open the %s fd", fds[i].what);
			return 1;
		}
	if (lseek(fds[0].fd, 100, SEEK_SET) != 100 || lseek(fds[1].fd, 4097, SEEK_SET) != 4097 ||
	    lseek(fds[3].fd, 5000, SEEK_SET) != 5000 || write(fds[2].fd, "hello\n", 6) != 6) {
		fail("position the fds");
		return 1;
	}
	for (int i = 0; i < n; i++)
		if (snap(&fds[i])) {
			fail("snapshot the %s fd", fds[i].what);
			return 1;
		}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		lseek(fds[7].fd, 1, SEEK_CUR);
	for (int i = 0; i < n; i++) {
		now = fds[i];
		if (snap(&now)) {
			fail("fd %d (%s) is gone", fds[i].fd, fds[i].what);
			continue;
		}
		if (now.pos != fds[i].pos || now.fl != fds[i].fl || now.fdfl != fds[i].fdfl)
			fail("fd %d (%s): pos %lld flags %#o fdflags %#x, want pos %lld flags %#o fdflags %#x",
			     fds[i].fd, fds[i].what, (long long)now.pos, now.fl, now.fdfl,
			     (long long)fds[i].pos, fds[i].fl, fds[i].fdfl);
	}
	check_read(fds[0].fd, 100, 64, "ro fd");
	check_read(fds[3].fd, 5000, 200, "cloexec fd");
	check_read(fds[4].fd, 0, 32, "nonblock fd");
	check_read(fds[1].fd, 4097, 16, "rw fd");
	/* fd 100 shares the rw fd's description, so it moved with it. */
	if (lseek(fds[7].fd, 0, SEEK_CUR) != 4097 + 16)
		fail("dup'ed fd no longer shares the position of the rw fd");
	if (write(fds[2].fd, "world\n", 6) != 6 || fstat(fds[2].fd, &st) || st.st_size != 12)
		fail("append fd: log is %lld bytes after the second write, want 12", (long long)st.st_size);
	if (read(fds[6].fd, buf, sizeof(buf)) != sizeof(buf) || memcmp(buf, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16))
		fail("/dev/zero read");
	if (write(fds[5].fd, "x", 1) != 1)
		fail("/dev/null write");
	pass();
	return test_exit();
}
