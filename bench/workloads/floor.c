/*
 * floor: what the hardware and the kernel's page cache allow at best, for
 * N MiB, measured with the same file system the images go to.
 *
 *   floor MiB FILE
 *
 * Prints one JSON object, in ns: write N MiB of random data from touched
 * memory into a new FILE (page cache, no fsync); the same again at once
 * (write_warm); read it back into touched memory; read it into fresh, never
 * touched memory, as a restore must; the same again at once
 * (read_fresh_warm); memcpy N MiB between touched buffers. FILE is removed
 * at the end.
 *
 * The warm repeats matter in a virtual machine that hands free memory back
 * to its host (virtio-balloon free page reporting): the first pass may get
 * pages the host has to fault in again, the repeat gets the pages the first
 * pass has just freed. The warm figure is the floor proper; the first one
 * shows what the machine adds on a bad moment.
 */
#include "common.h"

#include <fcntl.h>

#define CHUNK (8 * MiB)

static uint64_t do_write(const char *path, const char *src, size_t len)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		wl_die("open for write");
	uint64_t t0 = wl_now_ns();
	for (size_t off = 0; off < len;) {
		size_t n = len - off < CHUNK ? len - off : CHUNK;
		ssize_t w = write(fd, src + off, n);
		if (w <= 0)
			wl_die("write");
		off += w;
	}
	close(fd);
	return wl_now_ns() - t0;
}

static uint64_t do_read(const char *path, char *dst, size_t len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		wl_die("open for read");
	uint64_t t0 = wl_now_ns();
	for (size_t off = 0; off < len;) {
		size_t n = len - off < CHUNK ? len - off : CHUNK;
		ssize_t r = read(fd, dst + off, n);
		if (r <= 0)
			wl_die("read");
		off += r;
	}
	uint64_t ns = wl_now_ns() - t0;
	close(fd);
	return ns;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: floor MiB FILE\n");
		return 2;
	}
	size_t len = strtoul(argv[1], NULL, 10) * MiB;
	const char *path = argv[2];

	char *a = wl_map(len), *b = wl_map(len);
	wl_fill(a, len, 7);
	memset(b, 1, len);

	uint64_t write_ns = do_write(path, a, len);
	uint64_t write_warm_ns = do_write(path, a, len); /* unlinks the first */
	uint64_t read_ns = do_read(path, b, len);
	if (memcmp(a, b, len) != 0) {
		fprintf(stderr, "floor: read back differs\n");
		return 1;
	}
	munmap(b, len);
	char *c = wl_map(len);
	uint64_t read_fresh_ns = do_read(path, c, len);
	munmap(c, len);
	c = wl_map(len);
	uint64_t read_fresh_warm_ns = do_read(path, c, len);
	unlink(path);

	uint64_t t0 = wl_now_ns();
	memcpy(c, a, len);
	uint64_t memcpy_ns = wl_now_ns() - t0;
	/* Keep the copy observable so the compiler cannot drop it. */
	if (wl_sum(c, len) != wl_sum(a, len))
		return 1;

	printf("{\"write_ns\":%llu,\"write_warm_ns\":%llu,\"read_ns\":%llu,"
	       "\"read_fresh_ns\":%llu,\"read_fresh_warm_ns\":%llu,\"memcpy_ns\":%llu}\n",
	       (unsigned long long)write_ns, (unsigned long long)write_warm_ns,
	       (unsigned long long)read_ns, (unsigned long long)read_fresh_ns,
	       (unsigned long long)read_fresh_warm_ns, (unsigned long long)memcpy_ns);
	return 0;
}
