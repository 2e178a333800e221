/*
 * unix_unlinked01: files made at the paths of unix sockets after their
 * socket files were removed stay as they are, and the sockets keep their
 * names. D (datagram, with C connected to it) was bound to DIR/d.sock, L
 * (a listener, with a connection accepted) to DIR/l.sock; both socket
 * files were removed and a FIFO made at DIR/d.sock, a regular file with
 * data at DIR/l.sock; E was bound to DIR/e.sock, its file removed, and
 * another socket bound there and closed (its socket file stays). After
 * restore D, L (and L's accepted end) and E still say those names, the
 * FIFO, the file and the other socket's file are the same inodes with
 * their modes and the file its data, C still sends to D and the
 * connection carries data. Sabotage removes the FIFO.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "unixutil.h"

static void expect_same(const char *what, const char *path, const struct stat *before)
{
	struct stat st;

	if (lstat(path, &st))
		fail("%s: %s is gone", what, path);
	else if (st.st_ino != before->st_ino || st.st_dev != before->st_dev || st.st_mode != before->st_mode ||
		 st.st_size != before->st_size)
		fail("%s: %s is another file now (mode %o, inode %llu)", what, path, st.st_mode,
		     (unsigned long long)st.st_ino);
}

int main(int argc, char **argv)
{
	struct sockaddr_un da = { .sun_family = AF_UNIX }, la = { .sun_family = AF_UNIX }, ea = { .sun_family = AF_UNIX };
	struct stat fifo, file, other;
	int d, c, l, lc, acc, f, e, o;
	char buf[8];

	test_init(argc, argv);
	snprintf(da.sun_path, sizeof(da.sun_path), "%.90s/d.sock", test_dir());
	snprintf(la.sun_path, sizeof(la.sun_path), "%.90s/l.sock", test_dir());
	snprintf(ea.sun_path, sizeof(ea.sun_path), "%.90s/e.sock", test_dir());
	e = socket(AF_UNIX, SOCK_STREAM, 0);
	o = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (e < 0 || o < 0 || bind(e, (struct sockaddr *)&ea, sizeof(ea)) || unlink(ea.sun_path) ||
	    bind(o, (struct sockaddr *)&ea, sizeof(ea)) || close(o) || lstat(ea.sun_path, &other)) {
		fail("E and the other socket's file");
		return 1;
	}
	d = socket(AF_UNIX, SOCK_DGRAM, 0);
	c = socket(AF_UNIX, SOCK_DGRAM, 0);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	lc = socket(AF_UNIX, SOCK_STREAM, 0);
	if (d < 0 || c < 0 || l < 0 || lc < 0 || bind(d, (struct sockaddr *)&da, sizeof(da)) ||
	    connect(c, (struct sockaddr *)&da, sizeof(da)) || bind(l, (struct sockaddr *)&la, sizeof(la)) ||
	    listen(l, 2) || connect(lc, (struct sockaddr *)&la, sizeof(la)) || (acc = accept(l, NULL, NULL)) < 0) {
		fail("the sockets");
		return 1;
	}
	if (unlink(da.sun_path) || unlink(la.sun_path) || mkfifo(da.sun_path, 0620) ||
	    (f = open(la.sun_path, O_CREAT | O_EXCL | O_WRONLY, 0604)) < 0 || write(f, "data", 4) != 4 || close(f) ||
	    lstat(da.sun_path, &fifo) || lstat(la.sun_path, &file)) {
		fail("replace the socket files");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		unlink(da.sun_path);
	expect_name("D", d, 0, da.sun_path, strlen(da.sun_path));
	expect_name("L", l, 0, la.sun_path, strlen(la.sun_path));
	expect_name("L's accepted end", acc, 0, la.sun_path, strlen(la.sun_path));
	expect_same("the FIFO", da.sun_path, &fifo);
	expect_same("the file", la.sun_path, &file);
	expect_name("E", e, 0, ea.sun_path, strlen(ea.sun_path));
	expect_same("the other socket's file", ea.sun_path, &other);
	f = open(la.sun_path, O_RDONLY);
	if (f < 0 || read(f, buf, sizeof(buf)) != 4 || memcmp(buf, "data", 4))
		fail("the file lost its data");
	if (send(c, "dgram", 5, 0) != 5)
		fail("C: send to D");
	expect_msg("D: from C", d, "dgram", 5, NULL, -1);
	if (write(lc, "strm", 4) != 4)
		fail("write on L's connection");
	expect_data("L's accepted end", acc, "strm", 4);
	pass();
	return test_exit();
}
