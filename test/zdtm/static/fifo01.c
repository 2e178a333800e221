/*
 * fifo01: a FIFO that the task holds only write-only (its reader has
 * gone) keeps its unread data, its non-blocking mode and its enlarged
 * capacity across C/R: after restore a new reader gets exactly the data,
 * nothing twice, and the writer's end still fills the FIFO. Sabotage
 * rotates one byte of the FIFO through a reader of its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nsutil.h"

#define LEN 100000 /* more than a default FIFO holds */
#define BIG (128 * 1024)

static uint8_t data[LEN], buf[LEN + 1];

int main(int argc, char **argv)
{
	char link[64], got[PATH_MAX];
	uint32_t crc = 51;
	char *path;
	int r, w, flags;
	ssize_t n;
	uint8_t c;

	test_init(argc, argv);
	datagen(data, LEN, &crc);
	path = test_path("fifo");
	if (mkfifo(path, 0600)) {
		fail("mkfifo");
		return 1;
	}
	r = open(path, O_RDONLY | O_NONBLOCK);
	w = open(path, O_WRONLY | O_NONBLOCK);
	if (r < 0 || w < 0 || fcntl(w, F_SETPIPE_SZ, BIG) < BIG || write_full(w, data, LEN) != LEN || close(r)) {
		fail("fill the FIFO");
		return 1;
	}

	test_daemon();
	test_waitsig();

	r = open(path, O_RDONLY | O_NONBLOCK);
	if (r < 0) {
		fail("open a reader");
		return 1;
	}
	if (test_sabotage() && read(r, &c, 1) == 1)
		write(w, &c, 1);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", w);
	n = readlink(link, got, sizeof(got) - 1);
	if (n < 0 || (got[n] = 0, strcmp(got, path)))
		fail("fd %d is %s, want %s", w, n < 0 ? "?" : got, path);
	flags = fcntl(w, F_GETFL);
	if ((flags & O_ACCMODE) != O_WRONLY || !(flags & O_NONBLOCK))
		fail("writer flags %#x", flags);
	if (fcntl(w, F_GETPIPE_SZ) != BIG)
		fail("capacity %d, want %d", fcntl(w, F_GETPIPE_SZ), BIG);
	n = read_full(r, buf, LEN);
	if (n != LEN || memcmp(buf, data, LEN))
		fail("read %zd bytes, want %d, or the data differs", n, LEN);
	if (read(r, buf, 1) != -1 || errno != EAGAIN)
		fail("the FIFO holds more than its data");
	if (write(w, "more", 4) != 4 || read(r, buf, 4) != 4 || memcmp(buf, "more", 4))
		fail("the writer's end does not reach the reader");
	pass();
	return test_exit();
}
