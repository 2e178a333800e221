/*
 * tcp_acceptq00: a listening TCP socket with connections waiting in its
 * accept queue (complete, one with data already sent, held by no task) is
 * refused: user space cannot put a connection into a listener's accept
 * queue (only the kernel's handshake does, and it chooses the server's
 * sequence numbers itself), so restore could not make the listener's next
 * accept() return them (docs/state.md). The checkpoint must be refused,
 * naming the socket, and leave everything as it was: afterwards both
 * connections are accepted in order, with their data. Sabotage accepts
 * one of them early.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

static int waiting(int l)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(l, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return -1;
	return ti.tcpi_unacked; /* sk_ack_backlog for a listener */
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET }, p[2], got;
	socklen_t al = sizeof(a);
	int l, c[2], i, n;
	char buf[16];

	test_init(argc, argv);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 8) ||
	    getsockname(l, (struct sockaddr *)&a, &al)) {
		fail("listener");
		return 1;
	}
	for (i = 0; i < 2; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM, 0);
		al = sizeof(p[i]);
		if (c[i] < 0 || connect(c[i], (struct sockaddr *)&a, sizeof(a)) ||
		    getsockname(c[i], (struct sockaddr *)&p[i], &al)) {
			fail("connect %d", i);
			return 1;
		}
	}
	if (write(c[1], "queued", 6) != 6) {
		fail("write");
		return 1;
	}
	while (waiting(l) < 2)
		usleep(1000);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		close(accept(l, NULL, NULL));
	if ((n = waiting(l)) != 2)
		fail("%d connections waiting, want 2", n);
	fcntl(l, F_SETFL, O_NONBLOCK); /* they are queued: accept must not wait */
	for (i = 0; i < 2; i++) {
		int s;

		al = sizeof(got);
		s = accept(l, (struct sockaddr *)&got, &al);
		if (s < 0 || got.sin_port != p[i].sin_port) {
			fail("accept %d: not the connection from port %d", i, ntohs(p[i].sin_port));
			continue;
		}
		if (i == 1 && (read(s, buf, sizeof(buf)) != 6 || memcmp(buf, "queued", 6)))
			fail("the queued data is gone");
		close(s);
	}
	pass();
	return test_exit();
}
