/*
 * tcp_bound00: sockets bound but neither listening nor connected (TCP state
 * CLOSE with a local port) are bound again at restore to the same address
 * and port, and hold the port: an IPv4 TCP socket on 127.0.0.1, an IPv6
 * TCP socket on the wildcard address (IPV6_V6ONLY off, so it holds the
 * IPv4 port too) and an IPv4 UDP socket. After restore each has its
 * address, a second socket cannot bind that port, and each can still be
 * used: the IPv4 TCP socket listens and accepts, the IPv6 one connects to
 * it. Sabotage replaces the IPv4 TCP socket with an unbound one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

/* port_taken: binding a fresh socket of the same kind to addr fails */
static int port_taken(int family, int type, struct sockaddr *addr, socklen_t len)
{
	int s = socket(family, type, 0), r;

	if (s < 0)
		return 0;
	r = bind(s, addr, len) < 0 && errno == EADDRINUSE;
	close(s);
	return r;
}

static void same_addr(int fd, const void *want, socklen_t len, const char *which)
{
	struct sockaddr_storage got;
	socklen_t l = sizeof(got);

	if (getsockname(fd, (struct sockaddr *)&got, &l) || l != len || memcmp(&got, want, len))
		fail("%s: address changed", which);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET }, u4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	int t4, t6, ud, zero = 0, acc, v, ok = 1;
	socklen_t l;

	test_init(argc, argv);
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	u4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	t4 = socket(AF_INET, SOCK_STREAM, 0);
	t6 = socket(AF_INET6, SOCK_STREAM, 0);
	ud = socket(AF_INET, SOCK_DGRAM, 0);
	if (t4 < 0 || t6 < 0 || ud < 0) {
		fail("socket");
		return 1;
	}
	if (setsockopt(t6, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    bind(t4, (struct sockaddr *)&a4, sizeof(a4)) || bind(t6, (struct sockaddr *)&a6, sizeof(a6)) ||
	    bind(ud, (struct sockaddr *)&u4, sizeof(u4))) {
		fail("bind");
		return 1;
	}
	l = sizeof(a4);
	getsockname(t4, (struct sockaddr *)&a4, &l);
	l = sizeof(a6);
	getsockname(t6, (struct sockaddr *)&a6, &l);
	l = sizeof(u4);
	getsockname(ud, (struct sockaddr *)&u4, &l);

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		int s = socket(AF_INET, SOCK_STREAM, 0);

		dup2(s, t4);
		close(s);
	}
	same_addr(t4, &a4, sizeof(a4), "tcp");
	same_addr(t6, &a6, sizeof(a6), "tcp6");
	same_addr(ud, &u4, sizeof(u4), "udp");
	if (!port_taken(AF_INET, SOCK_STREAM, (struct sockaddr *)&a4, sizeof(a4)))
		fail("tcp: port %d not held", ntohs(a4.sin_port));
	if (!port_taken(AF_INET6, SOCK_STREAM, (struct sockaddr *)&a6, sizeof(a6)))
		fail("tcp6: port %d not held", ntohs(a6.sin6_port));
	if (!port_taken(AF_INET, SOCK_DGRAM, (struct sockaddr *)&u4, sizeof(u4)))
		fail("udp: port %d not held", ntohs(u4.sin_port));
	l = sizeof(v);
	if (getsockopt(t4, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) || v != 0)
		fail("tcp: listening after restore");
	if (listen(t4, 1)) {
		fail("tcp: listen");
		ok = 0;
	}
	/* t6 is bound: connect keeps its port */
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = a4.sin_port };
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &to.sin6_addr);
	if (ok && connect(t6, (struct sockaddr *)&to, sizeof(to))) {
		fail("tcp6: connect to the tcp socket");
		ok = 0;
	}
	if (ok) {
		struct sockaddr_in6 p;

		acc = accept(t4, NULL, NULL);
		l = sizeof(p);
		if (acc < 0 || getsockname(t6, (struct sockaddr *)&p, &l) || p.sin6_port != a6.sin6_port)
			fail("tcp6: connection not accepted or not from its port");
	}
	pass();
	return test_exit();
}
