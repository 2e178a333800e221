/*
 * mm00: what the kernel keeps about an address space beyond its mappings
 * survives C/R: the executable link, the auxiliary vector, the program
 * break with data below it, the code, data and stack boundaries of
 * /proc/self/stat and a MAP_GROWSDOWN mapping's flag. Sabotage moves the
 * break.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmflags.h"
#include "zdtmtst.h"

#define BRKLEN (16 * 4096)

struct snap {
	char exe[4096];
	unsigned char auxv[4096];
	ssize_t auxv_len;
	unsigned long stat[6]; /* fields 26-28 and 45-47 */
	void *brk;
};

static int take(struct snap *s)
{
	char buf[4096], *p;
	int fd, field;
	ssize_t n;

	memset(s, 0, sizeof(*s));
	if (readlink("/proc/self/exe", s->exe, sizeof(s->exe) - 1) < 0)
		return -1;
	fd = open("/proc/self/auxv", O_RDONLY);
	if (fd < 0 || (s->auxv_len = read(fd, s->auxv, sizeof(s->auxv))) <= 0)
		return -1;
	close(fd);
	fd = open("/proc/self/stat", O_RDONLY);
	if (fd < 0 || (n = read(fd, buf, sizeof(buf) - 1)) <= 0)
		return -1;
	close(fd);
	buf[n] = 0;
	p = strrchr(buf, ')') + 2; /* field 3 */
	for (field = 3; p && field <= 47; field++) {
		unsigned long v = strtoul(p, NULL, 10);

		if (field >= 26 && field <= 28)
			s->stat[field - 26] = v;
		if (field >= 45)
			s->stat[3 + field - 45] = v;
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	s->brk = sbrk(0);
	return 0;
}

int main(int argc, char **argv)
{
	struct snap before, after;
	unsigned char *heap, *gd;
	uint32_t crc = 0;

	test_init(argc, argv);
	heap = sbrk(BRKLEN);
	gd = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
	if (heap == (void *)-1 || gd == MAP_FAILED) {
		fail("allocate");
		return 1;
	}
	datagen(heap, BRKLEN, &crc);
	if (take(&before)) {
		fail("read the address space's settings");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		sbrk(4096);
	if (take(&after)) {
		fail("read the address space's settings again");
		return 1;
	}
	if (strcmp(before.exe, after.exe))
		fail("exe %s, was %s", after.exe, before.exe);
	if (before.auxv_len != after.auxv_len || memcmp(before.auxv, after.auxv, before.auxv_len))
		fail("the auxiliary vector changed");
	for (int i = 0; i < 6; i++)
		if (before.stat[i] != after.stat[i])
			fail("/proc/self/stat boundary %d: %#lx, was %#lx", i, after.stat[i], before.stat[i]);
	if (before.brk != after.brk)
		fail("break %p, was %p", after.brk, before.brk);
	if (datachk(heap, BRKLEN, &crc))
		fail("the data below the break changed");
	if (has_vm_flag(gd, "gd") != 1)
		fail("the MAP_GROWSDOWN mapping lost gd");
	pass();
	return test_exit();
}
