/*
 * unix_buflock00: SO_BUF_LOCK of unix sockets survives C/R: a socketpair
 * whose first end locked its buffers with SO_BUF_LOCK (sizes untouched),
 * whose second end set SO_SNDBUF (which locks the send buffer), and a
 * second pair left as made (nothing locked, though restore sets every
 * socket's buffer sizes). Sabotage unlocks the first end.
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif

static int lockof(int fd)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_BUF_LOCK, &v, &l))
		return -1;
	return v;
}

int main(int argc, char **argv)
{
	int a[2], b[2], both = 3, snd = 100000, zero = 0;
	char buf[4];

	test_init(argc, argv);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) || socketpair(AF_UNIX, SOCK_STREAM, 0, b) ||
	    setsockopt(a[0], SOL_SOCKET, SO_BUF_LOCK, &both, sizeof(both)) ||
	    setsockopt(a[1], SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd))) {
		fail("make the sockets");
		return 1;
	}
	if (lockof(a[0]) != 3 || lockof(a[1]) != 1 || lockof(b[0]) != 0) {
		fail("locks before: %d %d %d", lockof(a[0]), lockof(a[1]), lockof(b[0]));
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		setsockopt(a[0], SOL_SOCKET, SO_BUF_LOCK, &zero, sizeof(zero));
	if (lockof(a[0]) != 3)
		fail("SO_BUF_LOCK of the locked end %d, want 3", lockof(a[0]));
	if (lockof(a[1]) != 1)
		fail("SO_BUF_LOCK of the end with SO_SNDBUF %d, want 1", lockof(a[1]));
	if (lockof(b[0]) != 0 || lockof(b[1]) != 0)
		fail("SO_BUF_LOCK of an untouched pair %d %d, want 0", lockof(b[0]), lockof(b[1]));
	if (write(a[0], "ab", 2) != 2 || read(a[1], buf, 2) != 2 || memcmp(buf, "ab", 2))
		fail("the pair does not work");
	pass();
	return test_exit();
}
