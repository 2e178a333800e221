/*
 * memfd00: memfd files and their shared mappings survive C/R: the name,
 * the size, the seals, the content, the sharing. The init and its child A
 * hold a sealed memfd (fd and MAP_SHARED mapping; A maps a second window
 * at offset 16 KiB), and both map a second memfd whose fd is closed. After
 * restore the init writes through the fd and A sees it in its window; A
 * writes through its mapping and the init reads it back through the fd;
 * the same through the fd-less one. Sabotage has A swap its window for a
 * private copy right after test_daemon.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nsutil.h"

#define LEN (64 * 1024)
#define WIN_OFF (16 * 1024)
#define WIN_LEN (16 * 1024)
#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW)

static int fd;
static uint8_t *map, *lone, want[LEN];

static int child(void *arg)
{
	uint8_t *win = mmap(NULL, WIN_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, WIN_OFF);

	(void)arg;
	if (win == MAP_FAILED) {
		fail("A: map the window");
		return 1;
	}
	test_daemon();
	if (test_sabotage()) {
		uint8_t *copy = malloc(WIN_LEN);

		memcpy(copy, win, WIN_LEN);
		mmap(win, WIN_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		memcpy(win, copy, WIN_LEN);
	}
	test_waitsig();
	if (memcmp(win + 20000 - WIN_OFF, "init wrote", 10))
		fail("A: the window does not show what the init wrote through the fd");
	if (memcmp(lone + 100, "init", 4))
		fail("A: the fd-less memfd does not show the init's write");
	memcpy(map + 40000, "A wrote", 7);
	memcpy(lone + 200, "A", 1);
	return 0;
}

int main(int argc, char **argv)
{
	char link[64], name[PATH_MAX];
	uint32_t crc = 31;
	struct stat st;
	uint8_t buf[16];
	ssize_t n;
	int lfd;

	test_init(argc, argv);
	datagen(want, LEN, &crc);
	fd = memfd_create("zdtm-memfd", MFD_ALLOW_SEALING);
	lfd = memfd_create("zdtm-lone", 0);
	if (fd < 0 || lfd < 0 || write_full(fd, want, LEN) != LEN || fcntl(fd, F_ADD_SEALS, SEALS) ||
	    ftruncate(lfd, 4096)) {
		fail("make the memfds");
		return 1;
	}
	map = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	lone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, lfd, 0);
	if (map == MAP_FAILED || lone == MAP_FAILED || close(lfd)) {
		fail("map the memfds");
		return 1;
	}
	if (test_spawn(child, NULL) < 0)
		return 1;

	test_daemon();
	test_waitsig();

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, name, sizeof(name) - 1);
	if (n < 0 || (name[n] = 0, strcmp(name, "/memfd:zdtm-memfd (deleted)")))
		fail("fd %d is %s", fd, n < 0 ? "?" : name);
	if (fcntl(fd, F_GET_SEALS) != SEALS)
		fail("seals %#x, want %#x", fcntl(fd, F_GET_SEALS), SEALS);
	if (fstat(fd, &st) || st.st_size != LEN)
		fail("size %lld, want %d", (long long)st.st_size, LEN);
	if (memcmp(map, want, LEN))
		fail("the mapping's content differs");
	if (pwrite(fd, "init wrote", 10, 20000) != 10)
		fail("pwrite");
	memcpy(lone + 100, "init", 4);
	test_stop_children();
	if (pread(fd, buf, 7, 40000) != 7 || memcmp(buf, "A wrote", 7))
		fail("the fd does not show what A wrote through its mapping");
	if (lone[200] != 'A')
		fail("the fd-less memfd does not show A's write");
	pass();
	return test_exit();
}
