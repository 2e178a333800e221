/*
 * mem: one process holding N MiB of touched memory, in one of three shapes.
 *
 *   mem anon MiB            every page anonymous and full of random data
 *   mem halfzero MiB        the same, but every other page written with zeros
 *   mem filemap MiB FILE    FILE (MiB long) mapped private and only read,
 *                           plus 1 MiB of random anonymous memory
 *   mem dirty MiB RATE      as anon, with a thread writing RATE MiB/s of it
 *                           (each page rewritten with its own bytes, so
 *                           the checksum holds), for pre-copy checkpoints
 *
 * The zero pages are written, not just left untouched, so they are present
 * in pagemap and a tool has to notice their content to skip them. The file
 * mapping is never written, so its pages are the page cache's and a tool
 * that understands that needs not copy them.
 */
#include "common.h"

#include <fcntl.h>
#include <pthread.h>

#define PAGE 4096UL

struct region {
	void *file, *anon;
	size_t file_len, anon_len;
};

static uint64_t check(void *arg)
{
	struct region *r = arg;
	uint64_t sum = wl_sum(r->anon, r->anon_len);
	if (r->file)
		sum ^= wl_sum(r->file, r->file_len) * 3;
	return sum;
}

struct writer {
	volatile unsigned char *p;
	size_t len;
	size_t rate; /* bytes per second */
};

/* writer rewrites rate bytes' worth of pages a second, 100 times a second,
 * one byte per page with the value it holds: the page is written, its
 * content does not change. */
static void *writer(void *arg)
{
	struct writer *w = arg;
	size_t pages = w->len / PAGE, per_tick = w->rate / PAGE / 100, next = 0;
	if (per_tick == 0)
		per_tick = 1;
	for (;;) {
		for (size_t i = 0; i < per_tick; i++) {
			volatile unsigned char *b = w->p + next * PAGE;
			*b = *b;
			next = (next + 1) % pages;
		}
		usleep(10000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: mem anon|halfzero|filemap|dirty MiB [FILE|RATE]\n");
		return 2;
	}
	const char *shape = argv[1];
	size_t len = strtoul(argv[2], NULL, 10) * MiB;
	struct region r = { 0 };

	wl_catch_usr1();
	if (strcmp(shape, "filemap") == 0) {
		if (argc < 4)
			return 2;
		int fd = open(argv[3], O_RDONLY);
		if (fd < 0)
			wl_die("open");
		r.file = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (r.file == MAP_FAILED)
			wl_die("mmap file");
		/* The mapping alone keeps the file: no fd for the tools to carry. */
		close(fd);
		r.file_len = len;
		len = MiB;
	}
	r.anon = wl_map(len);
	r.anon_len = len;
	wl_fill(r.anon, len, 1);
	if (strcmp(shape, "halfzero") == 0)
		for (size_t off = PAGE; off < len; off += 2 * PAGE)
			memset((char *)r.anon + off, 0, PAGE);

	uint64_t t0 = wl_now_ns();
	uint64_t want = check(&r);
	if (strcmp(shape, "dirty") == 0) {
		static struct writer w;
		pthread_t th;
		w.p = r.anon;
		w.len = len;
		w.rate = (argc > 3 ? strtoul(argv[3], NULL, 10) : 50) * MiB;
		if (pthread_create(&th, NULL, writer, &w) != 0)
			wl_die("pthread_create");
	}
	dprintf(1, "READY %016llx %llu\n", (unsigned long long)want,
		(unsigned long long)(wl_now_ns() - t0));
	wl_serve(check, &r, want, NULL);
}
