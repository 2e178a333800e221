/*
 * deleted00: files deleted while open or mapped survive C/R with their
 * contents, holes, size, mode, offsets and sharing:
 *  - a sparse file (data, a 1 MiB hole, data) open twice through dup
 *    (one description, offset 1234) and deleted;
 *  - a file both open and mapped MAP_SHARED, deleted: after restore a
 *    write through the mapping shows through the fd (the same inode);
 *  - a file mapped MAP_PRIVATE only (its fd closed) with one page written
 *    over (copy-on-write), deleted.
 * Each is still unlinked after restore (st_nlink 0, link ends in
 * " (deleted)").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PG 4096
#define HOLE (1 << 20)

static char pa[PATH_MAX / 2], pb[PATH_MAX / 2], pc[PATH_MAX / 2];

static void fill(char *buf, size_t n, int seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)(i * 7 + seed);
}

static int writefile(const char *path, int seed, size_t n, mode_t mode)
{
	char *buf = malloc(n);
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, mode);

	fill(buf, n, seed);
	if (fd < 0 || write(fd, buf, n) != (ssize_t)n) {
		free(buf);
		return -1;
	}
	free(buf);
	fchmod(fd, mode);
	return fd;
}

/* still_deleted checks fd's file is unlinked, regular, with mode & size. */
static void still_deleted(int fd, const char *what, mode_t mode, off_t size)
{
	char link[64], target[PATH_MAX];
	struct stat st;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = 0;
	if (n <= 10 || strcmp(target + n - 10, " (deleted)"))
		fail("%s: link %s, want a deleted file", what, target);
	if (fstat(fd, &st) || st.st_nlink != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 07777) != mode || st.st_size != size)
		fail("%s: nlink %lu mode %o size %ld, want 0, %o, %ld", what, (unsigned long)st.st_nlink,
		     st.st_mode, (long)st.st_size, mode, (long)size);
}

int main(int argc, char **argv)
{
	char want[3 * PG], got[3 * PG];
	int a, a2, b, c;
	char *shared, *priv;
	off_t dataoff;

	test_init(argc, argv);
	snprintf(pa, sizeof(pa), "%s/sparse", test_dir());
	snprintf(pb, sizeof(pb), "%s/shared", test_dir());
	snprintf(pc, sizeof(pc), "%s/private", test_dir());

	a = writefile(pa, 1, 3 * PG, 0640);
	fill(want, PG, 9);
	if (a < 0 || pwrite(a, want, PG, 3 * PG + HOLE) != PG || lseek(a, 1234, SEEK_SET) != 1234) {
		fail("set up %s", pa);
		return 1;
	}
	a2 = dup(a);
	b = writefile(pb, 2, 2 * PG, 0600);
	c = writefile(pc, 3, 2 * PG, 0604);
	if (b < 0 || c < 0) {
		fail("set up");
		return 1;
	}
	shared = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, b, 0);
	priv = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, c, 0);
	if (shared == MAP_FAILED || priv == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	memset(priv + PG, 'p', PG); /* copy-on-write: not in the file */
	close(c);
	if (unlink(pa) || unlink(pb) || unlink(pc)) {
		fail("unlink");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		pwrite(a, "X", 1, 5);

	still_deleted(a, "sparse file", 0640, 3 * PG + HOLE + PG);
	still_deleted(b, "shared file", 0600, 2 * PG);
	if (lseek(a2, 0, SEEK_CUR) != 1234)
		fail("sparse file offset %ld through the dup, want 1234", (long)lseek(a2, 0, SEEK_CUR));
	fill(want, 3 * PG, 1);
	if (pread(a, got, 3 * PG, 0) != 3 * PG || memcmp(got, want, 3 * PG))
		fail("sparse file: the first 3 pages differ");
	fill(want, PG, 9);
	if (pread(a, got, PG, 3 * PG + HOLE) != PG || memcmp(got, want, PG))
		fail("sparse file: the page after the hole differs");
	dataoff = lseek(a, 3 * PG, SEEK_DATA);
	if (dataoff != 3 * PG + HOLE)
		fail("sparse file: data found at %ld after 3 pages, want the hole up to %d", (long)dataoff, 3 * PG + HOLE);
	lseek(a, 1234, SEEK_SET);

	fill(want, 2 * PG, 2);
	if (memcmp(shared, want, 2 * PG))
		fail("shared mapping: contents differ");
	shared[10] = 'Z';
	if (pread(b, got, 11, 0) != 11 || got[10] != 'Z')
		fail("shared mapping and fd are not the same file any more");

	fill(want, PG, 3);
	if (memcmp(priv, want, PG))
		fail("private mapping: the file's page differs");
	memset(want, 'p', PG);
	if (memcmp(priv + PG, want, PG))
		fail("private mapping: the written-over page differs");
	pass();
	return test_exit();
}
