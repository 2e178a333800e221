/*
 * file_shared00: one open file description shared by several fds (dup)
 * and processes (fork) stays one across C/R: the position moves for all of
 * them together and status flags set through one are seen through the
 * others, while a second open of the same file keeps its own position.
 * After restore the init reads (position 1000 -> 1100), then its child A
 * finds 1100 through its own fd, reads on to 1200 and sets O_NONBLOCK,
 * then A's child B finds 1200 and O_NONBLOCK. Sabotage makes the init's
 * fds a fresh description.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/kcmp.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsutil.h"

#define LEN 8192
#define SHARED 10	/* the shared description, dup'ed to SHARED + 1 */
#define OWN 12		/* the init's second, separate open */

static uint8_t data[LEN];

static void expect(const char *who, off_t pos, int nonblock)
{
	int fl = fcntl(SHARED + 1, F_GETFL);

	if (lseek(SHARED, 0, SEEK_CUR) != pos || lseek(SHARED + 1, 0, SEEK_CUR) != pos)
		fail("%s: shared position %lld/%lld, want %lld", who, (long long)lseek(SHARED, 0, SEEK_CUR),
		     (long long)lseek(SHARED + 1, 0, SEEK_CUR), (long long)pos);
	if (fl < 0 || !!(fl & O_NONBLOCK) != nonblock)
		fail("%s: status flags %#x, want O_NONBLOCK %s", who, fl, nonblock ? "set" : "clear");
	if (lseek(OWN, 0, SEEK_CUR) != 5000)
		fail("%s: the separate open moved to %lld", who, (long long)lseek(OWN, 0, SEEK_CUR));
}

static void read_on(const char *who, off_t from, int fd)
{
	uint8_t buf[100];

	if (read_full(fd, buf, sizeof(buf)) != sizeof(buf) || memcmp(buf, data + from, sizeof(buf)))
		fail("%s: read 100 bytes at %lld", who, (long long)from);
}

static int child_b(void *arg)
{
	(void)arg;
	test_daemon();
	test_waitsig();
	expect("B", 1200, 1);
	return 0;
}

static int child_a(void *arg)
{
	(void)arg;
	if (test_spawn(child_b, NULL) < 0)
		return 1;
	test_daemon();
	test_waitsig();
	if (syscall(SYS_kcmp, getpid(), getppid(), KCMP_FILE, SHARED, SHARED) != 0)
		fail("A: kcmp(KCMP_FILE): its fd %d is not its parent's description", SHARED);
	expect("A", 1100, 0);
	read_on("A", 1100, SHARED + 1);
	fcntl(SHARED, F_SETFL, fcntl(SHARED, F_GETFL) | O_NONBLOCK);
	test_stop_children();
	return 0;
}

int main(int argc, char **argv)
{
	char *path;
	uint32_t crc = 9;
	int fd;

	test_init(argc, argv);
	path = test_path("data");
	datagen(data, LEN, &crc);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write_full(fd, data, LEN) != LEN || dup2(fd, SHARED) != SHARED ||
	    dup2(fd, SHARED + 1) != SHARED + 1 || close(fd) || lseek(SHARED, 1000, SEEK_SET) != 1000) {
		fail("set up the shared description");
		return 1;
	}
	fd = open(path, O_RDONLY);
	if (fd < 0 || dup2(fd, OWN) != OWN || close(fd) || lseek(OWN, 5000, SEEK_SET) != 5000) {
		fail("set up the separate open");
		return 1;
	}
	if (test_spawn(child_a, NULL) < 0)
		return 1;

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		fd = open(path, O_RDWR);
		lseek(fd, 1000, SEEK_SET);
		dup2(fd, SHARED);
		dup2(fd, SHARED + 1);
		close(fd);
	}
	expect("init", 1000, 0);
	read_on("init", 1000, SHARED);
	test_stop_children();
	pass();
	return test_exit();
}
