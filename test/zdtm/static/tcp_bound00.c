/*
 * tcp_bound00: sockets bound but neither listening nor connected (TCP state
 * CLOSE with a local port) are bound again at restore to the same address
 * and port, and hold the port: an IPv4 TCP socket on 127.0.0.1, an IPv6
 * TCP socket on the wildcard address (IPV6_V6ONLY off, so it holds the
 * IPv4 port too) and an IPv4 UDP socket; and an IPv4 TCP socket bound to
 * 127.0.0.2 with IP_BIND_ADDRESS_NO_PORT, which has an address and no port
 * yet. After restore each has its address, a second socket cannot bind
 * a port taken, and each can still be used: the IPv4 TCP socket listens
 * and accepts, the IPv6 one and the one without a port connect to it (the
 * latter from 127.0.0.2). A TCP socket never bound and a UDP socket never
 * bound whose reading was shut down stay so (sock_diag does not list
 * sockets without a port). Sabotage replaces the IPv4 TCP socket with an
 * unbound one.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

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
	struct sockaddr_in n4 = { .sin_family = AF_INET };
	int t4, t6, ud, np, un, uu, zero = 0, one = 1, acc, v, ok = 1;
	struct sockaddr_in none = { .sin_family = AF_INET };
	struct pollfd pf;
	socklen_t l;

	test_init(argc, argv);
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	u4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	t4 = socket(AF_INET, SOCK_STREAM, 0);
	t6 = socket(AF_INET6, SOCK_STREAM, 0);
	ud = socket(AF_INET, SOCK_DGRAM, 0);
	np = socket(AF_INET, SOCK_STREAM, 0);
	un = socket(AF_INET, SOCK_STREAM, 0);
	uu = socket(AF_INET, SOCK_DGRAM, 0);
	shutdown(uu, SHUT_RD); /* ENOTCONN, and shut down all the same */
	inet_pton(AF_INET, "127.0.0.2", &n4.sin_addr);
	if (t4 < 0 || t6 < 0 || ud < 0 || np < 0 || un < 0 || uu < 0) {
		fail("socket");
		return 1;
	}
	if (setsockopt(t6, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    bind(t4, (struct sockaddr *)&a4, sizeof(a4)) || bind(t6, (struct sockaddr *)&a6, sizeof(a6)) ||
	    bind(ud, (struct sockaddr *)&u4, sizeof(u4)) ||
	    setsockopt(np, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) ||
	    bind(np, (struct sockaddr *)&n4, sizeof(n4))) {
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
	same_addr(np, &n4, sizeof(n4), "tcp without a port");
	same_addr(un, &none, sizeof(none), "tcp never bound");
	same_addr(uu, &none, sizeof(none), "udp never bound");
	pf = (struct pollfd){ .fd = uu, .events = POLLIN | POLLRDHUP };
	if (poll(&pf, 1, 0) != 1 || !(pf.revents & POLLRDHUP) || (pf.revents & POLLHUP))
		fail("udp never bound: poll %#x, want POLLRDHUP without POLLHUP (reading shut down)", pf.revents);
	l = sizeof(v);
	if (getsockopt(np, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &v, &l) || v != 1)
		fail("tcp without a port: IP_BIND_ADDRESS_NO_PORT is %d", v);
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
		close(acc);
	}
	if (ok) {
		struct sockaddr_in p;

		if (connect(np, (struct sockaddr *)&a4, sizeof(a4)))
			fail("tcp without a port: connect");
		acc = accept(t4, (struct sockaddr *)&p, &(socklen_t){ sizeof(p) });
		if (acc < 0 || p.sin_addr.s_addr != n4.sin_addr.s_addr)
			fail("tcp without a port: connection not accepted or not from 127.0.0.2");
		close(acc);
	}
	pass();
	return test_exit();
}
