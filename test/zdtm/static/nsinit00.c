/*
 * nsinit00: the simplest ns-flavor test: one process, pid 1 of its own pid
 * namespace, in a mount namespace of its own with /proc mounted for that
 * namespace. After C/R it must still be pid 1, /proc must still be its
 * namespace's (/proc/self is "1", and no pid but 1 is listed), and the
 * proc mounts on /proc (the host's, under the namespace's own) must be as
 * many as before, the top one with the same flags.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "zdtmtst.h"

/* proc_mounts counts the proc mounts on /proc in mountinfo and returns the
 * mount options of the last one in opts. */
static int proc_mounts(char *opts, size_t len)
{
	char line[1024], mnt[512], o[256];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *dash = strstr(line, " - ");

		if (sscanf(line, "%*d %*d %*s %*s %511s %255s", mnt, o) != 2 || !dash)
			continue;
		if (!strcmp(mnt, "/proc") && !strncmp(dash, " - proc ", 8)) {
			n++;
			snprintf(opts, len, "%s", o);
		}
	}
	fclose(f);
	return n;
}

static int other_pids(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (atoi(e->d_name) > 1)
			n++;
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	char self[32], opts[256], opts_before[256];
	int mounts;
	ssize_t n;

	test_init(argc, argv);
	if (!test_newns()) {
		fail("nsinit00 needs the ns flavor (ZDTM_NEWNS=1)");
		return 1;
	}
	mounts = proc_mounts(opts_before, sizeof(opts_before));
	if (mounts < 1) {
		fail("no proc on /proc");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		umount2("/proc", MNT_DETACH);
	if (getpid() != 1)
		fail("getpid() = %d, want 1", getpid());
	if (getppid() != 0)
		fail("getppid() = %d, want 0 (the parent is outside)", getppid());
	n = readlink("/proc/self", self, sizeof(self) - 1);
	if (n < 0)
		fail("readlink /proc/self");
	else if (self[n] = 0, strcmp(self, "1"))
		fail("/proc/self is %s, want 1: /proc is not this namespace's", self);
	if ((n = other_pids()) != 0)
		fail("/proc lists %zd pids besides 1", n);
	if ((n = proc_mounts(opts, sizeof(opts))) != mounts)
		fail("%zd proc mounts on /proc, want %d", n, mounts);
	else if (strcmp(opts, opts_before))
		fail("/proc mount options %s, want %s", opts, opts_before);
	pass();
	return test_exit();
}
