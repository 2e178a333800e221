/*
 * fd_many01: two processes, each holding more open file descriptions of
 * its own than half of RLIMIT_NOFILE (about 11,000 each here, where the
 * hard limit is 20,000), survive C/R: the restorer may keep copies only of
 * descriptions something else shares, not of every one (together they
 * pass its own limit). Each fd is a fresh open of the same file at its own
 * position; both processes check every position. Sabotage moves one of
 * the parent's.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "zdtmtst.h"

#define WANT 11000

static char file[PATH_MAX];
static int n;

/* open_all opens n descriptions of file, the i-th at position i % 1021. */
static int *open_all(const char *who)
{
	int *fds = calloc(n, sizeof(*fds)), i;

	if (!fds) {
		fail("%s: calloc", who);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		fds[i] = open(file, O_RDONLY);
		if (fds[i] < 0) {
			fail("%s: open number %d: %m", who, i);
			return NULL;
		}
		lseek(fds[i], i % 1021, SEEK_SET);
	}
	return fds;
}

static void check_all(const char *who, const int *fds)
{
	int i;

	for (i = 0; i < n; i++) {
		if (lseek(fds[i], 0, SEEK_CUR) != i % 1021) {
			fail("%s: fd %d at %ld, want %d", who, fds[i], (long)lseek(fds[i], 0, SEEK_CUR), i % 1021);
			return;
		}
	}
}

static int child(void *arg)
{
	int *fds = open_all("child");

	(void)arg;
	if (!fds)
		return 1;
	test_daemon();
	test_waitsig();
	check_all("child", fds);
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit r;
	int *fds, f;

	test_init(argc, argv);
	if (getrlimit(RLIMIT_NOFILE, &r)) {
		fail("getrlimit: %m");
		return 1;
	}
	r.rlim_cur = r.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &r)) {
		fail("setrlimit: %m");
		return 1;
	}
	n = WANT;
	if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < (rlim_t)WANT + 100)
		n = (int)(r.rlim_cur * 55 / 100);
	snprintf(file, sizeof(file), "%s/f", test_dir());
	f = open(file, O_CREAT | O_RDWR, 0644);
	if (f < 0 || ftruncate(f, 4096) || close(f)) {
		fail("create %s: %m", file);
		return 1;
	}
	if (test_spawn(child, NULL) < 0)
		return 1;
	fds = open_all("parent");
	if (!fds)
		return 1;
	test_daemon();
	test_waitsig();

	if (test_sabotage())
		lseek(fds[n / 2], 1, SEEK_CUR);
	check_all("parent", fds);
	test_stop_children();
	pass();
	return test_exit();
}
