/*
 * pathescape DIR FEATURES: a container's process that leads its own paths
 * through an absolute symlink, /x -> DIR, where DIR is also a directory of
 * the host (issue 11, reproduction 1). A restore that acts on these paths
 * as host paths reaches the host's DIR instead of the container's.
 *
 * FEATURES is a comma-separated list:
 *   sock    a listener bound to /x/victim, whose file is then removed
 *   sock2   a listener bound to /x/sock2, its file mode 0777
 *   fifo    a FIFO /x/fifo held read-write with "abc" queued in it
 *   inotify an inotify watch on the directory /w
 *   deleted a file /x/del held open after it is removed
 *
 * It writes /ready once set up. Whenever /go appears it checks that all of
 * it is there, as it was, inside its own root, writes "PASS" or "FAIL: why"
 * to /result and removes /go.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static char failed[512];

static void fail(const char *fmt, ...)
{
	va_list ap;
	if (failed[0])
		return;
	va_start(ap, fmt);
	vsnprintf(failed, sizeof(failed), fmt, ap);
	va_end(ap);
}

static void put(const char *path, const char *s);

static void die(const char *what)
{
	char msg[512];
	snprintf(msg, sizeof(msg), "FAIL: setup: %s: %s", what, strerror(errno));
	put("/result", msg);
	exit(1);
}

static void put(const char *path, const char *s)
{
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s) || close(fd) < 0 || rename(tmp, path) < 0)
		exit(3);
}

static struct sockaddr_un addr(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	strncpy(a.sun_path, path, sizeof(a.sun_path) - 1);
	return a;
}

static int listener(const char *path)
{
	struct sockaddr_un a = addr(path);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 4) < 0)
		die(path);
	return s;
}

static void mkdirs(const char *dir)
{
	char p[256];
	snprintf(p, sizeof(p), "%s", dir);
	for (char *c = p + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = 0;
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			die(p);
		*c = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		die(p);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: pathescape DIR FEATURES\n");
		return 2;
	}
	int sock = 0, sock2 = 0, fifo = 0, ino = 0, del = 0;
	for (char *f = strtok(argv[2], ","); f; f = strtok(NULL, ",")) {
		sock |= strcmp(f, "sock") == 0;
		sock2 |= strcmp(f, "sock2") == 0;
		fifo |= strcmp(f, "fifo") == 0;
		ino |= strcmp(f, "inotify") == 0;
		del |= strcmp(f, "deleted") == 0;
	}
	int s1 = -1, s2 = -1, ff = -1, in = -1, df = -1;

	/* The runtime's stdio are files of the test, deleted by now. */
	int null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		die("/dev/null");
	close(null);

	mkdirs(argv[1]);
	if (symlink(argv[1], "/x") < 0)
		die("symlink /x");
	if (sock) {
		s1 = listener("/x/victim");
		if (unlink("/x/victim") < 0)
			die("unlink /x/victim");
	}
	if (sock2) {
		s2 = listener("/x/sock2");
		if (chmod("/x/sock2", 0777) < 0)
			die("chmod /x/sock2");
	}
	if (fifo) {
		if (mkfifo("/x/fifo", 0600) < 0)
			die("mkfifo /x/fifo");
		ff = open("/x/fifo", O_RDWR | O_NONBLOCK);
		if (ff < 0 || write(ff, "abc", 3) != 3)
			die("fifo");
	}
	if (ino) {
		if (mkdir("/w", 0755) < 0)
			die("mkdir /w");
		in = inotify_init1(IN_NONBLOCK);
		if (in < 0 || inotify_add_watch(in, "/w", IN_CREATE) < 0)
			die("inotify /w");
	}
	if (del) {
		df = open("/x/del", O_RDWR | O_CREAT | O_EXCL, 0640);
		if (df < 0 || write(df, "deleted data", 12) != 12 || unlink("/x/del") < 0)
			die("/x/del");
	}
	put("/ready", "ready\n");

	for (;;) {
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
		if (access("/go", F_OK) != 0)
			continue;
		failed[0] = 0;
		struct stat st;
		if (sock) {
			struct sockaddr_un got = {0};
			socklen_t n = sizeof(got);
			if (lstat("/x/victim", &st) == 0)
				fail("/x/victim exists again (mode %o)", st.st_mode);
			if (getsockname(s1, (struct sockaddr *)&got, &n) < 0 || strcmp(got.sun_path, "/x/victim") != 0)
				fail("the first listener's name is not /x/victim");
		}
		if (sock2) {
			if (lstat("/x/sock2", &st) < 0 || !S_ISSOCK(st.st_mode) || (st.st_mode & 07777) != 0777)
				fail("/x/sock2 is not the socket file of mode 0777 (%s, mode %o)", strerror(errno), st.st_mode);
			struct sockaddr_un a = addr("/x/sock2");
			int c = socket(AF_UNIX, SOCK_STREAM, 0);
			if (connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
				fail("connect to /x/sock2: %s", strerror(errno));
			else {
				int d = accept(s2, NULL, NULL);
				if (d < 0)
					fail("accept on the second listener: %s", strerror(errno));
				close(d);
			}
			close(c);
		}
		if (fifo) {
			char buf[8] = {0};
			if (read(ff, buf, sizeof(buf)) != 3 || memcmp(buf, "abc", 3) != 0)
				fail("the FIFO does not hold abc (%s)", buf);
			if (write(ff, "abc", 3) != 3)
				fail("refill the FIFO");
		}
		if (ino) {
			char name[64];
			snprintf(name, sizeof(name), "/w/new%ld", (long)time(NULL));
			int fd = open(name, O_WRONLY | O_CREAT, 0644);
			close(fd);
			unlink(name);
			struct pollfd p = {.fd = in, .events = POLLIN};
			char ev[4096];
			if (poll(&p, 1, 10000) != 1 || read(in, ev, sizeof(ev)) <= 0 ||
			    ((struct inotify_event *)ev)->mask != IN_CREATE)
				fail("no IN_CREATE from the watch on /w");
		}
		if (del) {
			char buf[16] = {0};
			if (fstat(df, &st) < 0 || st.st_nlink != 0 || (st.st_mode & 07777) != 0640 ||
			    pread(df, buf, sizeof(buf), 0) != 12 || memcmp(buf, "deleted data", 12) != 0)
				fail("the deleted file is not as it was (nlink %d, mode %o, %s)", (int)st.st_nlink, st.st_mode, buf);
		}
		unlink("/go");
		put("/result", failed[0] ? failed : "PASS");
	}
}
