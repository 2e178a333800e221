/*
 * mntns00: the namespace's private mounts survive C/R: a tmpfs with a
 * size and mode and a file in it, a read-only bind mount of a directory of
 * the test, and /proc of the namespace. After restore mountinfo shows the
 * same mounts (mount point, fs type, options) in the same order, the
 * tmpfs file has its bytes, the bind mount shows its source's file and is
 * still read-only. Sabotage unmounts the bind mount.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nsutil.h"

#define MAXM 64

static char *tmp, *src, *bind_dir;

/* mounts lists "mountpoint fstype options superoptions" of the mounts
 * under the test directory and on /proc. */
static int mounts(char out[MAXM][1200])
{
	char line[1024], mp[512], opts[256], fs[64], sopts[256];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int n = 0;

	while (f && fgets(line, sizeof(line), f) && n < MAXM) {
		char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*d %*d %*s %*s %511s %255s", mp, opts) != 2 ||
		    sscanf(dash + 3, "%63s %*s %255s", fs, sopts) != 2)
			continue;
		if (strncmp(mp, test_dir(), strlen(test_dir())) && strcmp(mp, "/proc"))
			continue;
		snprintf(out[n++], 1200, "%s %s %s %s", mp, fs, opts, sopts);
	}
	if (f)
		fclose(f);
	return n;
}

static int file_is(const char *dir, const char *want)
{
	char path[1024], buf[64] = { 0 };
	int fd;

	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return !strcmp(buf, want);
}

int main(int argc, char **argv)
{
	static char before[MAXM][1200], after[MAXM][1200];
	char path[1024];
	int nb, na, fd;

	test_init(argc, argv);
	tmp = test_path("tmpfs");
	src = test_path("src");
	bind_dir = test_path("bind");
	snprintf(path, sizeof(path), "%s/file", src);
	if (mkdir(tmp, 0755) || mkdir(src, 0755) || mkdir(bind_dir, 0755) ||
	    (fd = open(path, O_WRONLY | O_CREAT, 0644)) < 0 || write(fd, "in src", 6) != 6 || close(fd)) {
		fail("make the directories");
		return 1;
	}
	if (mount("zdtm-tmpfs", tmp, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0711") ||
	    mount(src, bind_dir, NULL, MS_BIND, NULL) ||
	    mount(NULL, bind_dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL)) {
		fail("mount");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/file", tmp);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0600)) < 0 || write(fd, "in tmpfs", 8) != 8 || close(fd)) {
		fail("write into the tmpfs");
		return 1;
	}
	nb = mounts(before);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		umount2(bind_dir, MNT_DETACH);
	na = mounts(after);
	if (na != nb)
		fail("%d mounts, want %d", na, nb);
	for (int i = 0; i < na && i < nb; i++)
		if (strcmp(before[i], after[i]))
			fail("mount %d: %s, want %s", i, after[i], before[i]);
	if (!file_is(tmp, "in tmpfs"))
		fail("the tmpfs file lost its bytes");
	if (!file_is(bind_dir, "in src"))
		fail("the bind mount does not show its source");
	snprintf(path, sizeof(path), "%s/new", bind_dir);
	if (open(path, O_WRONLY | O_CREAT, 0644) >= 0 || errno != EROFS)
		fail("the bind mount is writable");
	pass();
	return test_exit();
}
