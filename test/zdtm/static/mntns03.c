/*
 * mntns03: mappings of files on a tmpfs the namespace made survive C/R:
 * a shared mapping written through (the bytes are in the file, which
 * restore re-creates) and a private one written to (the bytes are the
 * task's own). After restore both are at their addresses with their
 * bytes, and the shared one is still the file: a write through it is
 * read back with pread, and a pwrite shows in it. The re-created tmpfs has
 * another device number, so the runner's maps check is skipped; the
 * program checks its mappings itself. Sabotage unmaps the shared mapping
 * and maps an anonymous copy there.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nsutil.h"

#define LEN (3 * 4096)

int main(int argc, char **argv)
{
	char *tmp, path[1024], buf[16];
	char *shared, *priv;
	int fd, pfd;

	test_init(argc, argv);
	tmp = test_path("tmpfs");
	if (mkdir(tmp, 0755) || mount("zdtm-map", tmp, "tmpfs", 0, "size=1m")) {
		fail("mount the tmpfs");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/shared", tmp);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	snprintf(path, sizeof(path), "%s/private", tmp);
	pfd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || pfd < 0 || ftruncate(fd, LEN) || pwrite(pfd, "file bytes", 10, 4096) != 10 ||
	    ftruncate(pfd, LEN)) {
		fail("make the files");
		return 1;
	}
	shared = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	priv = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, pfd, 0);
	close(pfd);
	if (shared == MAP_FAILED || priv == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	memcpy(shared + 4096, "written shared", 14);
	memcpy(priv, "private bytes", 13);

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		char copy[LEN];

		memcpy(copy, shared, LEN);
		munmap(shared, LEN);
		if (mmap(shared, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == shared)
			memcpy(shared, copy, LEN);
	}
	if (memcmp(shared + 4096, "written shared", 14))
		fail("the shared mapping lost its bytes");
	if (memcmp(priv, "private bytes", 13) || memcmp(priv + 4096, "file bytes", 10))
		fail("the private mapping lost its bytes");
	if (pread(fd, buf, 14, 4096) != 14 || memcmp(buf, "written shared", 14))
		fail("the file does not hold what was written through the shared mapping");
	memcpy(shared + 8192, "after", 5);
	if (pread(fd, buf, 5, 8192) != 5 || memcmp(buf, "after", 5))
		fail("a write through the shared mapping does not reach the file");
	if (pwrite(fd, "back", 4, 100) != 4 || memcmp(shared + 100, "back", 4))
		fail("a write to the file does not show in the shared mapping");
	pass();
	return test_exit();
}
