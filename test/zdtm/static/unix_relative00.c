/*
 * unix_relative00: unix sockets bound by a relative path keep that name
 * and their socket files, though the binder's current directory changed
 * since. In DIR/a the test binds listener L to "l.sock" (mode 0640),
 * connects C to it by that name and accepts A; in DIR/a/b it binds
 * datagram socket D to "d.sock" and S to "s.sock", and S sends D a
 * datagram; then it moves to DIR/c. After restore L, A, D and S are still
 * bound to the relative names (C's peer too), the socket files are where
 * they were with their modes, no file of those names is in DIR/c, the
 * current directory is still DIR/c, D's datagram comes from "s.sock", and
 * L accepts a new connection made by its whole path. Sabotage renames
 * L's socket file.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "unixutil.h"

static char dir[PATH_MAX / 4], a[PATH_MAX / 2], b[PATH_MAX / 2], c[PATH_MAX / 2];

static int bind_rel(int fd, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	strncpy(sa.sun_path, name, sizeof(sa.sun_path) - 1);
	return bind(fd, (struct sockaddr *)&sa, sizeof(sa));
}

static int connect_to(int fd, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	strncpy(sa.sun_path, name, sizeof(sa.sun_path) - 1);
	return connect(fd, (struct sockaddr *)&sa, sizeof(sa));
}

/* expect_file fails unless path is a socket file with permission bits mode. */
static void expect_file(const char *path, mode_t mode)
{
	struct stat st;

	if (stat(path, &st))
		fail("socket file %s is gone", path);
	else if (!S_ISSOCK(st.st_mode) || (st.st_mode & 07777) != mode)
		fail("%s: mode %o, want a socket with %o", path, st.st_mode, mode);
}

int main(int argc, char **argv)
{
	char path[PATH_MAX], cwd[PATH_MAX], path2[PATH_MAX];
	struct sockaddr_un da = { .sun_family = AF_UNIX };
	int l, cl, acc, d, s, n, na;

	test_init(argc, argv);
	snprintf(dir, sizeof(dir), "%s", test_dir());
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/a/b", dir);
	snprintf(c, sizeof(c), "%s/c", dir);
	if (mkdir(a, 0755) || mkdir(b, 0755) || mkdir(c, 0755) || chdir(a)) {
		fail("directories");
		return 1;
	}
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	cl = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || cl < 0 || bind_rel(l, "l.sock") || chmod("l.sock", 0640) || listen(l, 4) ||
	    connect_to(cl, "l.sock") || (acc = accept(l, NULL, NULL)) < 0) {
		fail("L, C and A");
		return 1;
	}
	d = socket(AF_UNIX, SOCK_DGRAM, 0);
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	strcpy(da.sun_path, "d.sock");
	if (chdir(b) || d < 0 || s < 0 || bind_rel(d, "d.sock") || bind_rel(s, "s.sock") ||
	    sendto(s, "from s", 6, 0, (struct sockaddr *)&da, sizeof(da)) != 6 || chdir(c)) {
		fail("D and S");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		snprintf(path, sizeof(path), "%s/l.sock", a);
		snprintf(path2, sizeof(path2), "%s/l2.sock", a);
		rename(path, path2);
	}
	expect_name("L", l, 0, "l.sock", 6);
	expect_name("A", acc, 0, "l.sock", 6);
	expect_name("C's peer", cl, 1, "l.sock", 6);
	expect_name("D", d, 0, "d.sock", 6);
	expect_name("S", s, 0, "s.sock", 6);
	snprintf(path, sizeof(path), "%s/l.sock", a);
	expect_file(path, 0640);
	snprintf(path, sizeof(path), "%s/d.sock", b);
	expect_file(path, 0755 & ~umask(0));
	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, c))
		fail("the current directory is %s, want %s", cwd, c);
	if (access("l.sock", F_OK) == 0 || access("d.sock", F_OK) == 0 || access("s.sock", F_OK) == 0)
		fail("a socket file appeared in the current directory");
	expect_msg("D: from S", d, "from s", 6, "s.sock", 6);
	if (write(cl, "ping", 4) != 4)
		fail("C: write");
	expect_data("A: from C", acc, "ping", 4);
	if (write(acc, "pong", 4) != 4)
		fail("A: write");
	expect_data("C: from A", cl, "pong", 4);
	snprintf(path, sizeof(path), "%s/l.sock", a);
	n = socket(AF_UNIX, SOCK_STREAM, 0);
	if (n < 0 || connect_to(n, path) || (na = accept(l, NULL, NULL)) < 0)
		fail("L does not take a new connection by its whole path");
	else
		expect_name("a new connection's accepted end", na, 0, "l.sock", 6);
	snprintf(path, sizeof(path), "%s/d.sock", b);
	snprintf(da.sun_path, sizeof(da.sun_path), "%.100s", path);
	if (sendto(s, "again", 5, 0, (struct sockaddr *)&da, sizeof(da)) != 5)
		fail("S: send to D by its whole path");
	expect_msg("D: again from S", d, "again", 5, "s.sock", 6);
	pass();
	return test_exit();
}
