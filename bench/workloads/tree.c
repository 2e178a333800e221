/*
 * tree: a process tree, a root with F children each with G children of its
 * own (1 + F + F*G processes), each holding K KiB of its own random memory.
 * On SIGUSR1 every process forwards the poke to its children, then replies
 * for itself, so the bench expects one line per process.
 *
 *   tree F G KiB
 */
#include "common.h"

#include <sys/wait.h>

static size_t len;
static pid_t kids[1024];
static unsigned nkids;

static uint64_t check(void *mem)
{
	return wl_sum(mem, len);
}

static void forward(void)
{
	for (unsigned i = 0; i < nkids; i++)
		kill(kids[i], SIGUSR1);
}

/* Fill, report ready on the pipe, and serve forever. */
static void serve(unsigned id, int ready)
{
	char *mem = wl_map(len);
	wl_fill(mem, len, id);
	uint64_t want = check(mem);
	if (write(ready, "r", 1) != 1)
		wl_die("write ready");
	close(ready);
	wl_serve(check, mem, want, forward);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: tree F G KiB\n");
		return 2;
	}
	unsigned f = strtoul(argv[1], NULL, 10), g = strtoul(argv[2], NULL, 10);
	len = strtoul(argv[3], NULL, 10) * 1024;
	if (f > 1024 || g > 1024)
		return 2;
	unsigned total = 1 + f + f * g;
	int p[2];
	if (pipe(p) < 0)
		wl_die("pipe");
	/* The handler is installed before any fork so no child misses a poke. */
	wl_catch_usr1();
	uint64_t t0 = wl_now_ns();

	for (unsigned i = 0; i < f; i++) {
		pid_t c = fork();
		if (c < 0)
			wl_die("fork");
		if (c == 0) {
			nkids = 0;
			close(p[0]);
			for (unsigned j = 0; j < g; j++) {
				pid_t gc = fork();
				if (gc < 0)
					wl_die("fork");
				if (gc == 0) {
					nkids = 0;
					serve(2 + f + i * g + j, p[1]);
				}
				kids[nkids++] = gc;
			}
			serve(2 + i, p[1]);
		}
		kids[nkids++] = c;
	}
	close(p[1]);
	/* Every other process writes one byte once it is filled. */
	char buf[256];
	for (unsigned got = 0; got < total - 1;) {
		ssize_t n = read(p[0], buf, sizeof(buf));
		if (n <= 0)
			wl_die("read ready");
		got += n;
	}
	close(p[0]);

	char *mem = wl_map(len);
	wl_fill(mem, len, 1);
	uint64_t want = check(mem);
	dprintf(1, "READY %016llx %llu\n", (unsigned long long)want,
		(unsigned long long)(wl_now_ns() - t0));
	wl_serve(check, mem, want, forward);
}
