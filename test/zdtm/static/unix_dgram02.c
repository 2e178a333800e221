/*
 * unix_dgram02: datagrams queued on a socket before it connected to
 * another come back. R, bound to a path, got one datagram from an unnamed
 * socket U (closed since), one from S (bound) and one from N (bound), then
 * connected to N. After restore the three come out in order with their
 * senders' addresses (none, S's, N's), R is still connected to N: N's
 * datagrams reach it and S's are refused (EPERM). Sabotage takes R's
 * first datagram.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "unixutil.h"

static struct sockaddr_un addr(const char *name)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	strncpy(a.sun_path, test_path(name), sizeof(a.sun_path) - 1);
	return a;
}

int main(int argc, char **argv)
{
	struct sockaddr_un ra = addr("r.sock"), sa = addr("s.sock"), na = addr("n.sock");
	int r, u, s, n;
	char buf[8];

	test_init(argc, argv);
	r = socket(AF_UNIX, SOCK_DGRAM, 0);
	u = socket(AF_UNIX, SOCK_DGRAM, 0);
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	n = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (r < 0 || u < 0 || s < 0 || n < 0 || bind(r, (struct sockaddr *)&ra, sizeof(ra)) ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) || bind(n, (struct sockaddr *)&na, sizeof(na)) ||
	    sendto(u, "from u", 6, 0, (struct sockaddr *)&ra, sizeof(ra)) != 6 || close(u) ||
	    sendto(s, "from s", 6, 0, (struct sockaddr *)&ra, sizeof(ra)) != 6 ||
	    sendto(n, "from n", 6, 0, (struct sockaddr *)&ra, sizeof(ra)) != 6 ||
	    connect(r, (struct sockaddr *)&na, sizeof(na))) {
		fail("the sockets");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		recv(r, buf, sizeof(buf), MSG_DONTWAIT);
	expect_msg("R: first, from U", r, "from u", 6, "", 0);
	expect_msg("R: second, from S", r, "from s", 6, sa.sun_path, strlen(sa.sun_path));
	expect_msg("R: third, from N", r, "from n", 6, na.sun_path, strlen(na.sun_path));
	expect_name("R's peer", r, 1, na.sun_path, strlen(na.sun_path));
	if (sendto(n, "again", 5, 0, (struct sockaddr *)&ra, sizeof(ra)) != 5)
		fail("N: send to R after restore");
	expect_msg("R: from N after restore", r, "again", 5, na.sun_path, strlen(na.sun_path));
	if (sendto(s, "no", 2, 0, (struct sockaddr *)&ra, sizeof(ra)) >= 0 || errno != EPERM)
		fail("S can send to R, which is connected to N");
	pass();
	return test_exit();
}
