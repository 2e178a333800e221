/*
 * fds: N open file descriptors spread over P processes (the root and P-1
 * children). In mode "files" each fd is a file of its own (DIR/f<proc>-<i>,
 * created empty), as a server's connections or a build's open files are; in
 * mode "same" every fd is its own open file description of one file
 * (DIR/same), the case where a tool must tell descriptions of one inode
 * apart. Each fd is at its own offset. On SIGUSR1 every process forwards the
 * poke to its children, then checks each of its fds (same inode, same
 * offset) and replies for itself, so the bench expects one line per process.
 *
 *   fds files|same N P DIR
 *
 * Several processes, not one: RLIMIT_NOFILE's hard limit on the bench
 * machine is 20000 and root cannot raise it there (setrlimit gives EPERM),
 * so 100,000 fds need at least five processes. The bench splits the fds so
 * that no process holds more than 10,000.
 */
#include "common.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>

static pid_t kids[1024];
static unsigned nkids;
static int *fds;
static ino_t *inos;
static unsigned nfds;
static int same;

static off_t offset_of(unsigned i)
{
	return (off_t)((i * 4099UL) % 65536);
}

/* A checksum over every fd's number, offset and inode: a missing fd, a
 * description at the wrong offset or on another file changes it. */
static uint64_t check(void *arg)
{
	(void)arg;
	uint64_t sum = 1;
	for (unsigned i = 0; i < nfds; i++) {
		struct stat st;
		off_t off = lseek(fds[i], 0, SEEK_CUR);
		if (fstat(fds[i], &st) < 0 || off < 0)
			return 0;
		uint64_t v = ((uint64_t)fds[i] << 40) ^ ((uint64_t)off << 8) ^ (uint64_t)(st.st_ino == inos[i]);
		sum = (sum ^ v) * 0x100000001B3ULL;
	}
	return sum;
}

static void forward(void)
{
	for (unsigned i = 0; i < nkids; i++)
		kill(kids[i], SIGUSR1);
}

static void open_all(const char *dir, unsigned id, unsigned n)
{
	char path[4096];
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		wl_die("getrlimit");
	if (rl.rlim_cur < n + 64) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			wl_die("setrlimit");
	}
	fds = calloc(n ? n : 1, sizeof(*fds));
	inos = calloc(n ? n : 1, sizeof(*inos));
	if (!fds || !inos)
		wl_die("calloc");
	for (unsigned i = 0; i < n; i++) {
		if (same)
			snprintf(path, sizeof(path), "%s/same", dir);
		else
			snprintf(path, sizeof(path), "%s/f%u-%u", dir, id, i);
		fds[i] = open(path, O_RDWR | O_CREAT, 0644);
		if (fds[i] < 0)
			wl_die("open");
		struct stat st;
		if (fstat(fds[i], &st) < 0)
			wl_die("fstat");
		inos[i] = st.st_ino;
		if (lseek(fds[i], offset_of(i), SEEK_SET) < 0)
			wl_die("lseek");
	}
	nfds = n;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: fds files|same N P DIR\n");
		return 2;
	}
	same = strcmp(argv[1], "same") == 0;
	unsigned n = strtoul(argv[2], NULL, 10), procs = strtoul(argv[3], NULL, 10);
	const char *dir = argv[4];
	if (procs < 1 || procs > 1024)
		return 2;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		wl_die("mkdir");

	int p[2];
	if (pipe(p) < 0)
		wl_die("pipe");
	wl_catch_usr1();
	uint64_t t0 = wl_now_ns();
	unsigned per = n / procs;
	for (unsigned i = 1; i < procs; i++) {
		pid_t c = fork();
		if (c < 0)
			wl_die("fork");
		if (c == 0) {
			nkids = 0;
			close(p[0]);
			open_all(dir, i, per);
			uint64_t want = check(NULL);
			if (write(p[1], "r", 1) != 1)
				wl_die("write ready");
			close(p[1]);
			wl_serve(check, NULL, want, NULL);
		}
		kids[nkids++] = c;
	}
	close(p[1]);
	char rb[256];
	for (unsigned got = 0; got < procs - 1;) {
		ssize_t r = read(p[0], rb, sizeof(rb));
		if (r < 0 && errno == EINTR)
			continue; /* a poke before READY: the serve loop answers it */
		if (r <= 0)
			wl_die("read ready");
		got += r;
	}
	close(p[0]);
	open_all(dir, 0, n - per * (procs - 1));
	uint64_t want = check(NULL);
	dprintf(1, "READY %016llx %llu\n", (unsigned long long)want,
		(unsigned long long)(wl_now_ns() - t0));
	wl_serve(check, NULL, want, forward);
}
