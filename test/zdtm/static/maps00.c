/*
 * maps00: private anonymous and file mappings survive C/R with their
 * content, their protections and their shape in /proc/self/maps: a region
 * split by mprotect, a read-only range, a PROT_NONE guard page holding data,
 * a sparse region whose untouched pages must stay zero, a read-only file
 * mapping and a written (COW) private file mapping at an offset.
 *
 * The regions are carved with MAP_FIXED out of one PROT_NONE reservation,
 * one PROT_NONE page apart, so they stay apart from each other and from
 * anything else the process maps.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define A_PAGES 64 /* anon rw, pages 16..19 read-only, last page PROT_NONE */
#define B_PAGES 32 /* anon rw, every 4th page touched */
#define F_PAGES 16 /* the test file */
#define C_PAGES F_PAGES /* file private read-only, whole file */
#define D_PAGES 8 /* file private rw at file page 4, pages 0 and 3 written */
#define E_PAGES 16 /* PROT_NONE, never touched */

static long pg;
static uint8_t *file_data;

static void *carve(uint8_t **cursor, size_t pages, int prot, int flags, int fd, off_t off)
{
	void *p = mmap(*cursor, pages * pg, prot, flags | MAP_PRIVATE | MAP_FIXED, fd, off);

	if (p == MAP_FAILED)
		return NULL;
	*cursor += (pages + 1) * pg;
	return p;
}

/* maps_of returns the /proc/self/maps entries overlapping [lo, hi), with
 * neighbours the kernel may or may not keep apart merged (same protection
 * and backing, contiguous file offsets): a restore that recreates the same
 * memory may split or merge VMAs differently, and no program can tell. */
static char *maps_of(void *lo, void *hi)
{
	char line[512], path[PATH_MAX], *out = NULL;
	unsigned long s, e, off, ino, ps = 0, pe = 0, poff = 0, pino = 0;
	char perms[8], dev[16], pperms[8] = "", pdev[16] = "", ppath[PATH_MAX] = "";
	size_t outlen = 0;
	FILE *f = fopen("/proc/self/maps", "r"), *m;
	int have = 0;

	if (!f)
		return NULL;
	m = open_memstream(&out, &outlen);
	while (fgets(line, sizeof(line), f)) {
		path[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %4095s", &s, &e, perms, &off, dev, &ino, path) < 6)
			continue;
		if (e <= (unsigned long)lo || s >= (unsigned long)hi)
			continue;
		if (have && pe == s && !strcmp(pperms, perms) && !strcmp(pdev, dev) && pino == ino &&
		    !strcmp(ppath, path) && (ino == 0 || off == poff + (pe - ps))) {
			pe = e;
			continue;
		}
		if (have)
			fprintf(m, "%lx-%lx %s %08lx %s %lu %s\n", ps, pe, pperms, poff, pdev, pino, ppath);
		ps = s, pe = e, poff = off, pino = ino, have = 1;
		strcpy(pperms, perms), strcpy(pdev, dev), strcpy(ppath, path);
	}
	if (have)
		fprintf(m, "%lx-%lx %s %08lx %s %lu %s\n", ps, pe, pperms, poff, pdev, pino, ppath);
	fclose(f);
	fclose(m);
	return out;
}

static int make_file(const char *path, uint32_t *crc)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return -1;
	file_data = malloc(F_PAGES * pg);
	*crc = 11;
	datagen(file_data, F_PAGES * pg, crc);
	if (write(fd, file_data, F_PAGES * pg) != F_PAGES * pg)
		return -1;
	return fd;
}

int main(int argc, char **argv)
{
	uint32_t crc_file, crc_a = 1, crc_b[B_PAGES], crc_d0 = 3, crc_d3 = 4;
	uint8_t *base, *cur, *a, *b, *c, *d, *e;
	size_t total;
	char *before, *after;
	int fd;

	test_init(argc, argv);
	pg = sysconf(_SC_PAGESIZE);
	fd = make_file(test_path("maps00.file"), &crc_file);
	if (fd < 0) {
		fail("create the mapped file");
		return 1;
	}
	total = (A_PAGES + B_PAGES + C_PAGES + D_PAGES + E_PAGES + 6) * pg;
	base = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		fail("reserve %zu bytes", total);
		return 1;
	}
	cur = base + pg;
	a = carve(&cur, A_PAGES, PROT_READ | PROT_WRITE, MAP_ANONYMOUS, -1, 0);
	b = carve(&cur, B_PAGES, PROT_READ | PROT_WRITE, MAP_ANONYMOUS, -1, 0);
	c = carve(&cur, C_PAGES, PROT_READ, 0, fd, 0);
	d = carve(&cur, D_PAGES, PROT_READ | PROT_WRITE, 0, fd, 4 * pg);
	e = carve(&cur, E_PAGES, PROT_NONE, MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!a || !b || !c || !d || !e) {
		fail("carve the regions");
		return 1;
	}
	close(fd); /* the mappings keep the file; no fd is part of this test */

	datagen(a, A_PAGES * pg, &crc_a);
	if (mprotect(a + 16 * pg, 4 * pg, PROT_READ) ||
	    mprotect(a + (A_PAGES - 1) * pg, pg, PROT_NONE)) {
		fail("mprotect");
		return 1;
	}
	for (int i = 0; i < B_PAGES; i += 4) {
		crc_b[i] = 100 + i;
		datagen(b + i * pg, pg, &crc_b[i]);
	}
	datagen(d, pg, &crc_d0);
	datagen(d + 3 * pg, pg, &crc_d3);
	before = maps_of(base, base + total);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		a[5 * pg + 7] ^= 1;
	after = maps_of(base, base + total);
	if (!before || !after || strcmp(before, after))
		fail("maps changed:\n--- before\n%s--- after\n%s", before, after);
	if (mprotect(a + (A_PAGES - 1) * pg, pg, PROT_READ))
		fail("unprotect the guard page");
	else if (datachk(a, A_PAGES * pg, &crc_a))
		fail("region A content changed");
	for (int i = 0; i < B_PAGES; i++) {
		if (i % 4 == 0) {
			if (datachk(b + i * pg, pg, &crc_b[i]))
				fail("region B page %d content changed", i);
		} else {
			for (long k = 0; k < pg; k++)
				if (b[i * pg + k]) {
					fail("region B untouched page %d is not zero at %ld", i, k);
					break;
				}
		}
	}
	if (datachk(c, C_PAGES * pg, &crc_file) || memcmp(c, file_data, C_PAGES * pg))
		fail("read-only file mapping differs from the file");
	if (datachk(d, pg, &crc_d0) || datachk(d + 3 * pg, pg, &crc_d3))
		fail("written pages of the private file mapping changed");
	if (memcmp(d + pg, file_data + 5 * pg, 2 * pg) || memcmp(d + 4 * pg, file_data + 8 * pg, 4 * pg))
		fail("unwritten pages of the private file mapping differ from the file");
	if (mprotect(e, E_PAGES * pg, PROT_READ))
		fail("unprotect region E");
	else
		for (long k = 0; k < E_PAGES * pg; k++)
			if (e[k]) {
				fail("never touched PROT_NONE region is not zero at %ld", k);
				break;
			}
	pass();
	return test_exit();
}
