/*
 * mntns01: the whole mount table of a private mount namespace and a
 * tmpfs's content survive C/R. The namespace unmounts an inherited mount
 * (/sys) and remounts one it inherited with other flags (/ nosuid); it
 * makes a tmpfs (uid/gid/mode options) holding a directory owned by
 * someone else, a sparse file bigger than one image record, a set-uid file,
 * a symlink, a hard link, a FIFO and a character device, all with fixed
 * times; binds a directory of that tmpfs elsewhere, a plain file of the
 * test read-only onto another, and /proc/sys read-only onto itself; a
 * second tmpfs is mounted on a directory of the first that holds a file
 * (which the checkpoint must still see and save); a third tmpfs with a
 * file is made read-only, superblock and mount. The
 * task keeps an fd open at an offset in the tmpfs and its cwd there.
 * (The tmpfs is noatime: a restored file's ctime is the restore's, which
 * would make relatime update atimes on the next read after restore.)
 * After restore every line of mountinfo (mount point, fs type, options,
 * superblock options) is the same and in the same order, and every name
 * of the tmpfs has its type, mode, owner, size, times, link target, data
 * and holes. Sabotage changes the mode of one tmpfs file.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "nsutil.h"

#define MAXM 128
#define BIG (1300 * 1024) /* more than one TMPFS_DATA record */
#define HOLE_AT (600 * 1024)

static char *tmp, *bind_dir, *src_file, *dst_file, *ro;

/* mounts lists "mountpoint fstype options superoptions" of every mount. */
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
		snprintf(out[n++], 1200, "%s %s %s %s", mp, fs, opts, sopts);
	}
	if (f)
		fclose(f);
	return n;
}

struct ent {
	const char *name;
	struct stat st;
	char link[256];
};

static struct ent ents[] = {
	{ "." }, { "d" }, { "d/big" }, { "d/suid" }, { "link" }, { "hard" }, { "fifo" }, { "null" },
};
#define NENT (sizeof(ents) / sizeof(ents[0]))

static void fill(char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(seed + i * 7 + i / 4096);
}

static int make_tmpfs(void)
{
	static char buf[BIG];
	struct timespec ts[2] = { { 1000000000, 123456789 }, { 1100000000, 987654321 } };
	int fd, dfd;

	if (mkdir(tmp, 0755) || mount("zdtm-t", tmp, "tmpfs", MS_NODEV | MS_NOATIME, "size=8m,mode=1777,uid=7,gid=8"))
		return -1;
	dfd = open(tmp, O_RDONLY | O_DIRECTORY);
	if (dfd < 0 || mkdirat(dfd, "d", 0750) || fchownat(dfd, "d", 1000, 1001, 0))
		return -1;
	fd = openat(dfd, "d/big", O_WRONLY | O_CREAT, 0640);
	fill(buf, sizeof(buf), 3);
	/* data, a hole from HOLE_AT to BIG, data again, then a trailing hole */
	if (fd < 0 || pwrite(fd, buf, HOLE_AT, 0) != HOLE_AT || pwrite(fd, buf, BIG, 2 * BIG) != BIG ||
	    ftruncate(fd, 4 * BIG) || close(fd))
		return -1;
	fd = openat(dfd, "d/suid", O_WRONLY | O_CREAT, 0755);
	if (fd < 0 || write(fd, "#!/bin/true\n", 12) != 12 || fchown(fd, 0, 5) || fchmod(fd, 04755) || close(fd))
		return -1;
	if (symlinkat("d/big", dfd, "link") || linkat(dfd, "d/big", dfd, "hard", 0) ||
	    mkfifoat(dfd, "fifo", 0620) || mknodat(dfd, "null", S_IFCHR | 0666, makedev(1, 3)))
		return -1;
	for (int i = NENT - 1; i >= 0; i--) /* children first: they change their directory's times */
		if (utimensat(dfd, ents[i].name, ts, AT_SYMLINK_NOFOLLOW))
			return -1;
	close(dfd);
	return 0;
}

static int put(const char *dir, const char *name, const char *what)
{
	char path[1024];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, what, strlen(what)) != (ssize_t)strlen(what) || close(fd))
		return -1;
	return 0;
}

static int has(const char *dir, const char *name, const char *what)
{
	char path[1024], buf[64] = { 0 };
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return !strcmp(buf, what);
}

static int snap_tmpfs(struct ent *e)
{
	char path[1024];

	for (unsigned i = 0; i < NENT; i++) {
		snprintf(path, sizeof(path), "%s/%s", tmp, ents[i].name);
		e[i].name = ents[i].name;
		memset(e[i].link, 0, sizeof(e[i].link));
		if (readlink(path, e[i].link, sizeof(e[i].link) - 1) < 0 && errno != EINVAL)
			return -1;
		if (lstat(path, &e[i].st))
			return -1;
	}
	return 0;
}

static void compare_tmpfs(const struct ent *b, const struct ent *a)
{
	for (unsigned i = 0; i < NENT; i++) {
		const struct stat *x = &b[i].st, *y = &a[i].st;

		if (x->st_mode != y->st_mode || x->st_uid != y->st_uid || x->st_gid != y->st_gid ||
		    x->st_size != y->st_size || x->st_nlink != y->st_nlink || x->st_rdev != y->st_rdev ||
		    x->st_blocks != y->st_blocks || x->st_mtim.tv_sec != y->st_mtim.tv_sec ||
		    x->st_mtim.tv_nsec != y->st_mtim.tv_nsec || x->st_atim.tv_sec != y->st_atim.tv_sec ||
		    x->st_atim.tv_nsec != y->st_atim.tv_nsec || strcmp(b[i].link, a[i].link))
			fail("%s: mode %o uid %d gid %d size %ld nlink %ld rdev %lx blocks %ld mtime %ld.%09ld atime %ld.%09ld link %s, "
			     "want mode %o uid %d gid %d size %ld nlink %ld rdev %lx blocks %ld mtime %ld.%09ld atime %ld.%09ld link %s",
			     b[i].name, y->st_mode, y->st_uid, y->st_gid, (long)y->st_size, (long)y->st_nlink,
			     (long)y->st_rdev, (long)y->st_blocks, (long)y->st_mtim.tv_sec, y->st_mtim.tv_nsec,
			     (long)y->st_atim.tv_sec, y->st_atim.tv_nsec, a[i].link, x->st_mode, x->st_uid, x->st_gid,
			     (long)x->st_size, (long)x->st_nlink, (long)x->st_rdev, (long)x->st_blocks,
			     (long)x->st_mtim.tv_sec, x->st_mtim.tv_nsec, (long)x->st_atim.tv_sec, x->st_atim.tv_nsec,
			     b[i].link);
	}
	if (a[2].st.st_ino != a[5].st.st_ino)
		fail("d/big and hard are no longer one file");
}

static void check_big(void)
{
	static char want[BIG], got[BIG];
	char path[1024];
	int fd;

	snprintf(path, sizeof(path), "%s/d/big", tmp);
	fd = open(path, O_RDONLY);
	fill(want, sizeof(want), 3);
	if (fd < 0 || pread(fd, got, HOLE_AT, 0) != HOLE_AT || memcmp(got, want, HOLE_AT))
		fail("d/big: the first run of data differs");
	if (fd < 0 || pread(fd, got, BIG, 2 * BIG) != BIG || memcmp(got, want, BIG))
		fail("d/big: the second run of data differs");
	if (fd >= 0 && lseek(fd, HOLE_AT, SEEK_DATA) != 2 * BIG)
		fail("d/big: the hole after %d bytes is gone", HOLE_AT);
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	static char before[MAXM][1200], after[MAXM][1200];
	static struct ent eb[NENT], ea[NENT];
	char path[1024], buf[16] = { 0 }, cwd[1024], sub[1024];
	int nb, na, fd, ofd;

	test_init(argc, argv);
	tmp = test_path("tmpfs");
	bind_dir = test_path("bind");
	src_file = test_path("src");
	dst_file = test_path("dst");
	if (mkdir(bind_dir, 0755) || (fd = open(src_file, O_WRONLY | O_CREAT, 0644)) < 0 ||
	    write(fd, "source", 6) != 6 || close(fd) || (fd = open(dst_file, O_WRONLY | O_CREAT, 0644)) < 0 ||
	    close(fd)) {
		fail("make the files");
		return 1;
	}
	if (make_tmpfs()) {
		fail("make the tmpfs");
		return 1;
	}
	snprintf(sub, sizeof(sub), "%s/d/sub", tmp);
	if (mkdir(sub, 0700) || put(sub, "hidden", "under the mount") ||
	    mount("zdtm-inner", sub, "tmpfs", 0, "size=64k") || put(sub, "inner", "in the inner tmpfs")) {
		fail("make the inner tmpfs");
		return 1;
	}
	ro = test_path("ro");
	if (mkdir(ro, 0755) || mount("zdtm-ro", ro, "tmpfs", 0, "size=16k") || put(ro, "f", "read-only") ||
	    mount(NULL, ro, NULL, MS_REMOUNT | MS_RDONLY, "size=16k")) {
		fail("make the read-only tmpfs");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/d", tmp);
	if (umount2("/sys", MNT_DETACH) || mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_NOSUID, NULL) ||
	    mount(path, bind_dir, NULL, MS_BIND, NULL) || mount(src_file, dst_file, NULL, MS_BIND, NULL) ||
	    mount(NULL, dst_file, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) ||
	    mount("/proc/sys", "/proc/sys", NULL, MS_BIND, NULL) ||
	    mount(NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) {
		fail("mount");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/d/big", tmp);
	ofd = open(path, O_RDWR);
	if (ofd < 0 || lseek(ofd, 4321, SEEK_SET) != 4321 || chdir(bind_dir) || !getcwd(cwd, sizeof(cwd))) {
		fail("open d/big, chdir");
		return 1;
	}
	nb = mounts(before);
	if (snap_tmpfs(eb)) {
		fail("stat the tmpfs");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		snprintf(path, sizeof(path), "%s/d/suid", tmp);
		chmod(path, 0755);
	}
	na = mounts(after);
	if (na != nb)
		fail("%d mounts, want %d", na, nb);
	for (int i = 0; i < na && i < nb; i++)
		if (strcmp(before[i], after[i]))
			fail("mount %d: %s, want %s", i, after[i], before[i]);
	if (snap_tmpfs(ea))
		fail("stat the tmpfs after restore");
	else
		compare_tmpfs(eb, ea);
	check_big();
	if (lseek(ofd, 0, SEEK_CUR) != 4321)
		fail("the fd on d/big is at %ld, want 4321", (long)lseek(ofd, 0, SEEK_CUR));
	if (!getcwd(path, sizeof(path)) || strcmp(path, cwd))
		fail("cwd %s, want %s", path, cwd);
	if ((fd = open("suid", O_RDONLY)) < 0 || read(fd, buf, 11) != 11 || strcmp(buf, "#!/bin/true"))
		fail("the tmpfs directory bound on %s does not show its file", bind_dir);
	if (fd >= 0)
		close(fd);
	if ((fd = open(dst_file, O_RDONLY)) < 0 || read(fd, buf, 6) != 6 || memcmp(buf, "source", 6))
		fail("the file bound on %s does not show its source", dst_file);
	if (fd >= 0)
		close(fd);
	if (open(dst_file, O_WRONLY) >= 0 || errno != EROFS)
		fail("the file bind mount is writable");
	if (open("/proc/sys/kernel/hostname", O_WRONLY) >= 0 || errno != EROFS)
		fail("/proc/sys is writable");
	if (!has(ro, "f", "read-only"))
		fail("the read-only tmpfs lost its file");
	if (put(ro, "g", "x") == 0 || errno != EROFS)
		fail("the read-only tmpfs is writable");
	if (!has(sub, "inner", "in the inner tmpfs"))
		fail("the inner tmpfs lost its file");
	if (umount2(sub, MNT_DETACH) || !has(sub, "hidden", "under the mount"))
		fail("the file under the inner tmpfs is gone");
	pass();
	return test_exit();
}
