/*
 * unix_unlinked00: unix sockets bound to a path that was unlinked since
 * keep their name, and the name stays gone: a datagram socket with a
 * socket connected to it, a listening stream socket with a connection
 * accepted, and a connection accepted from a second listener closed since. After restore getsockname still says the path, the path does
 * not exist (restore binds to it and must unlink it again), and data goes
 * both ways. Sabotage creates a file at one of the paths after
 * test_daemon.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

static struct sockaddr_un da, la, ca;

static int name_is(int fd, struct sockaddr_un *want)
{
	struct sockaddr_un a;
	socklen_t l = sizeof(a);

	memset(&a, 0, sizeof(a));
	return getsockname(fd, (struct sockaddr *)&a, &l) == 0 && strcmp(a.sun_path, want->sun_path) == 0;
}

int main(int argc, char **argv)
{
	int d, dc, ls, c, acc, ls2, c2, acc2;
	struct stat st;
	char buf[8];

	test_init(argc, argv);
	da.sun_family = la.sun_family = AF_UNIX;
	snprintf(da.sun_path, sizeof(da.sun_path), "%s/dgram.sock", test_dir());
	snprintf(la.sun_path, sizeof(la.sun_path), "%s/listen.sock", test_dir());
	ca.sun_family = AF_UNIX;
	snprintf(ca.sun_path, sizeof(ca.sun_path), "%s/closed.sock", test_dir());
	d = socket(AF_UNIX, SOCK_DGRAM, 0);
	dc = socket(AF_UNIX, SOCK_DGRAM, 0);
	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (d < 0 || dc < 0 || ls < 0 || c < 0 || bind(d, (struct sockaddr *)&da, sizeof(da)) ||
	    connect(dc, (struct sockaddr *)&da, sizeof(da)) || bind(ls, (struct sockaddr *)&la, sizeof(la)) ||
	    listen(ls, 4) || connect(c, (struct sockaddr *)&la, sizeof(la)) || (acc = accept(ls, NULL, NULL)) < 0) {
		fail("make the sockets");
		return 1;
	}
	ls2 = socket(AF_UNIX, SOCK_STREAM, 0);
	c2 = socket(AF_UNIX, SOCK_STREAM, 0);
	if (ls2 < 0 || c2 < 0 || bind(ls2, (struct sockaddr *)&ca, sizeof(ca)) || listen(ls2, 1) ||
	    connect(c2, (struct sockaddr *)&ca, sizeof(ca)) || (acc2 = accept(ls2, NULL, NULL)) < 0 || close(ls2)) {
		fail("make the connection of the closed listener");
		return 1;
	}
	if (unlink(da.sun_path) || unlink(la.sun_path) || unlink(ca.sun_path)) {
		fail("unlink");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		close(open(da.sun_path, O_CREAT | O_WRONLY, 0600));
	if (!name_is(d, &da) || !name_is(ls, &la) || !name_is(acc, &la) || !name_is(acc2, &ca))
		fail("a socket lost its name");
	if (stat(da.sun_path, &st) == 0 || stat(la.sun_path, &st) == 0 || stat(ca.sun_path, &st) == 0)
		fail("an unlinked name exists again");
	if (write(c2, "c2", 2) != 2 || read(acc2, buf, 2) != 2 || memcmp(buf, "c2", 2))
		fail("the connection of the closed listener is broken");
	if (send(dc, "dgram", 5, 0) != 5 || recv(d, buf, sizeof(buf), 0) != 5 || memcmp(buf, "dgram", 5))
		fail("the datagram socket does not receive");
	if (write(c, "strm", 4) != 4 || read(acc, buf, 4) != 4 || memcmp(buf, "strm", 4) ||
	    write(acc, "back", 4) != 4 || read(c, buf, 4) != 4 || memcmp(buf, "back", 4))
		fail("the stream connection is broken");
	pass();
	return test_exit();
}
