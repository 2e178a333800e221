/*
 * pipeline00: the shell scenario. The init runs
 *	seq | sed | tr | { read gate < FIFO; cat; } > out
 * with sh -c. The last stage waits on a gate FIFO, so at checkpoint every
 * pipe is full of unread data and seq, sed and tr sleep in write. After
 * restore the init opens the gate; the pipeline must finish with status 0
 * and its output must be byte-identical to an uninterrupted run made
 * first. Sabotage steals 100 bytes from the last pipe before the gate.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nsutil.h"

#define SCRIPT "seq 1 200000 | sed -e 's/^/line /' | tr a-z A-Z | { read gate < \"$1\"; cat; } > \"$2\""

static pid_t run(const char *gate, const char *out)
{
	pid_t pid = test_fork();

	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", SCRIPT, "sh", gate, out, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void open_gate(const char *gate)
{
	int fd = open(gate, O_WRONLY);

	if (fd < 0 || write(fd, "go\n", 3) != 3)
		fail("open the gate %s", gate);
	close(fd);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;

	*len = 0;
	if (f && getdelim(&buf, len, '\0', f) >= 0)
		*len = ftell(f);
	if (f)
		fclose(f);
	return buf;
}

/* children lists sh's children (seq, sed, tr, the gated stage). */
static int children(pid_t sh, pid_t *kids, int max)
{
	char path[64], buf[512], *p, *end;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", sh, sh);
	f = fopen(path, "r");
	if (f && fgets(buf, sizeof(buf), f))
		for (p = buf; n < max; p = end) {
			long pid = strtol(p, &end, 10);

			if (end == p)
				break;
			kids[n++] = (pid_t)pid;
		}
	if (f)
		fclose(f);
	return n;
}

static pid_t last_child(pid_t sh)
{
	pid_t kids[8];
	int n = children(sh, kids, 8);

	return n ? kids[n - 1] : -1;
}

/* writers_blocked is true when seq, sed and tr all sleep in write: every
 * pipe before the gate is full. */
static int writers_blocked(pid_t sh)
{
	pid_t kids[8];
	int n = children(sh, kids, 8), blocked = 0;

	for (int i = 0; i < n; i++)
		blocked += in_syscall(kids[i], SYS_write);
	return n == 4 && blocked == 3;
}

int main(int argc, char **argv)
{
	char *gate, *ref, *out;
	struct timespec ms = { 0, 1000000 };
	size_t ref_len, out_len;
	char *want, *got, link[64], steal[100];
	int status, fd;
	pid_t sh;

	test_init(argc, argv);
	gate = test_path("gate");
	ref = test_path("ref");
	out = test_path("out");
	if (mkfifo(gate, 0600)) {
		fail("mkfifo");
		return 1;
	}
	/* The uninterrupted run. */
	sh = run(gate, ref);
	open_gate(gate);
	if (waitpid(sh, &status, 0) != sh || status) {
		fail("the reference run ended with %#x", status);
		return 1;
	}
	want = slurp(ref, &ref_len);
	sh = run(gate, out);
	while (!writers_blocked(sh))
		nanosleep(&ms, NULL);

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		/* The gated stage, sh's last child, reads the last pipe. */
		snprintf(link, sizeof(link), "/proc/%d/fd/0", last_child(sh));
		fd = open(link, O_RDONLY);
		if (fd >= 0 && read_full(fd, steal, sizeof(steal)) == sizeof(steal))
			close(fd);
	}
	open_gate(gate);
	if (waitpid(sh, &status, 0) != sh || status)
		fail("the pipeline ended with %#x", status);
	got = slurp(out, &out_len);
	if (!want || !got || out_len != ref_len || memcmp(want, got, ref_len))
		fail("the output (%zu bytes) differs from the uninterrupted run's (%zu bytes)", out_len, ref_len);
	pass();
	return test_exit();
}
