/*
 * unix_dgram01: datagrams queued from unnamed senders closed since come
 * back with their data and their empty sender address. P holds one end of
 * a datagram socketpair whose other end sent it two datagrams and was
 * closed (P stays connected to the closed socket); R, bound to a path,
 * holds a datagram from an unnamed socket closed since and one from an
 * unnamed socket still open. After restore each comes out whole, in
 * order, from no name; R still receives by name, P is still connected.
 * Sabotage takes the first datagram queued on P.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "unixutil.h"

int main(int argc, char **argv)
{
	struct sockaddr_un ra = { .sun_family = AF_UNIX };
	int pr[2], r, u, gone;
	char buf[16];

	test_init(argc, argv);
	strncpy(ra.sun_path, test_path("r.sock"), sizeof(ra.sun_path) - 1);
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, pr) || send(pr[1], "first", 5, 0) != 5 ||
	    send(pr[1], "second!", 7, 0) != 7 || close(pr[1])) {
		fail("the socketpair");
		return 1;
	}
	r = socket(AF_UNIX, SOCK_DGRAM, 0);
	gone = socket(AF_UNIX, SOCK_DGRAM, 0);
	u = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (r < 0 || gone < 0 || u < 0 || bind(r, (struct sockaddr *)&ra, sizeof(ra)) ||
	    sendto(gone, "from gone", 9, 0, (struct sockaddr *)&ra, sizeof(ra)) != 9 || close(gone) ||
	    sendto(u, "from u", 6, 0, (struct sockaddr *)&ra, sizeof(ra)) != 6) {
		fail("R and its senders");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		recv(pr[0], buf, sizeof(buf), MSG_DONTWAIT);
	expect_msg("P: first", pr[0], "first", 5, "", 0);
	expect_msg("P: second", pr[0], "second!", 7, "", 0);
	expect_msg("R: from the closed sender", r, "from gone", 9, "", 0);
	expect_msg("R: from u", r, "from u", 6, "", 0);
	expect_name("R", r, 0, ra.sun_path, strlen(ra.sun_path));
	if (recv(pr[0], buf, sizeof(buf), MSG_DONTWAIT) >= 0 || errno != EAGAIN)
		fail("P: more than two datagrams, or not empty but closed");
	{
		struct sockaddr_un pa;
		socklen_t pl = sizeof(pa);

		if (getpeername(pr[0], (struct sockaddr *)&pa, &pl))
			fail("P is no longer connected");
	}
	if (sendto(u, "after", 5, 0, (struct sockaddr *)&ra, sizeof(ra)) != 5)
		fail("u: send to R after restore");
	expect_msg("R: after restore", r, "after", 5, "", 0);
	pass();
	return test_exit();
}
