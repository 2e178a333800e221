/*
 * fifo00: FIFOs between tasks keep their unread data and their name
 * across C/R. The init reads from a FIFO its child A writes 20000 bytes
 * into; a second FIFO is open read-write by the init alone with 3000
 * bytes in it. After restore the fds still name the FIFOs' paths, each
 * holds exactly its data, and A can still write to the init. Sabotage
 * rotates one byte of the read-write FIFO.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nsutil.h"

#define LEN 20000
#define SELF_LEN 3000

static char *path, *self_path;
static uint8_t data[LEN], self_data[SELF_LEN];

static void expect(const char *what, int fd, const uint8_t *want, size_t len)
{
	static uint8_t buf[LEN];

	if (read_full(fd, buf, len) != (ssize_t)len)
		fail("%s: short read", what);
	else if (memcmp(buf, want, len))
		fail("%s: the data differs", what);
}

static void expect_name(int fd, const char *want)
{
	char link[64], got[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, got, sizeof(got) - 1);
	if (n < 0 || (got[n] = 0, strcmp(got, want)))
		fail("fd %d is %s, want %s", fd, n < 0 ? "?" : got, want);
}

static int writer(void *arg)
{
	int fd = open(path, O_WRONLY);

	(void)arg;
	if (fd < 0 || write_full(fd, data, LEN) != LEN) {
		fail("A: write into %s", path);
		return 1;
	}
	test_daemon();
	test_waitsig();
	expect_name(fd, path);
	if (write_full(fd, "more", 4) != 4)
		fail("A: write after restore");
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t c1 = 11, c2 = 12;
	int fd, self;
	uint8_t c;

	test_init(argc, argv);
	datagen(data, LEN, &c1);
	datagen(self_data, SELF_LEN, &c2);
	path = test_path("fifo");
	self_path = test_path("fifo.self");
	if (mkfifo(path, 0600) || mkfifo(self_path, 0600)) {
		fail("mkfifo");
		return 1;
	}
	/* O_RDWR opens without waiting for a writer; the read end is then
	 * reopened read-only and the O_RDWR one dropped. */
	fd = open(path, O_RDWR);
	if (fd < 0 || test_spawn(writer, NULL) < 0)
		return 1;
	self = open(path, O_RDONLY);
	close(fd);
	fd = self;
	self = open(self_path, O_RDWR);
	if (fd < 0 || self < 0 || write_full(self, self_data, SELF_LEN) != SELF_LEN) {
		fail("open the FIFOs");
		return 1;
	}

	test_daemon();
	test_waitsig();

	/* Rotate one byte of the FIFO the init holds read-write. */
	if (test_sabotage() && read(self, &c, 1) == 1)
		write(self, &c, 1);
	expect_name(fd, path);
	expect_name(self, self_path);
	expect("the FIFO from A", fd, data, LEN);
	expect("the FIFO of the init alone", self, self_data, SELF_LEN);
	test_stop_children();
	expect("the FIFO from A after restore", fd, (const uint8_t *)"more", 4);
	pass();
	return test_exit();
}
