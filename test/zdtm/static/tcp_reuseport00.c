/*
 * tcp_reuseport00: SO_REUSEPORT groups come back whole. Three IPv4 TCP
 * listeners share one port on 127.0.0.1 (one of them also SO_REUSEADDR),
 * two IPv6 UDP sockets share another; a socket outside the group
 * (without SO_REUSEPORT) could not bind either port. After restore every
 * member is bound to its port and has SO_REUSEPORT, the listeners listen,
 * a socket outside still cannot bind, a new member can join, and every
 * connection made is accepted by one of the three. Sabotage takes one
 * listener out of the group.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NT 3
#define NU 2

static int getint(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, level, name, &v, &l))
		return -1;
	return v;
}

static int port(int fd)
{
	struct sockaddr_in6 a; /* big enough for either family */
	socklen_t l = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &l))
		return -1;
	return ntohs(a.sin6_port); /* sin_port and sin6_port are at the same offset */
}

static int try_bind(int family, int type, int reuseport, struct sockaddr *a, socklen_t len)
{
	int s = socket(family, type, 0), r;

	setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &reuseport, sizeof(reuseport));
	r = bind(s, a, len);
	close(s);
	return r;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int t[NT], u[NU], one = 1, i, p4, p6;
	socklen_t l;

	test_init(argc, argv);
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < NT; i++) {
		t[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (t[i] < 0 || setsockopt(t[i], SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
		    (i == 1 && setsockopt(t[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) ||
		    bind(t[i], (struct sockaddr *)&a4, sizeof(a4)) || listen(t[i], 4)) {
			fail("tcp listener %d", i);
			return 1;
		}
		if (i == 0) {
			l = sizeof(a4);
			getsockname(t[0], (struct sockaddr *)&a4, &l);
		}
	}
	for (i = 0; i < NU; i++) {
		u[i] = socket(AF_INET6, SOCK_DGRAM, 0);
		if (u[i] < 0 || setsockopt(u[i], SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
		    bind(u[i], (struct sockaddr *)&a6, sizeof(a6))) {
			fail("udp socket %d", i);
			return 1;
		}
		if (i == 0) {
			l = sizeof(a6);
			getsockname(u[0], (struct sockaddr *)&a6, &l);
		}
	}
	p4 = ntohs(a4.sin_port);
	p6 = ntohs(a6.sin6_port);

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		int s = socket(AF_INET, SOCK_STREAM, 0);

		dup2(s, t[2]);
		close(s);
	}
	for (i = 0; i < NT; i++) {
		if (port(t[i]) != p4 || getint(t[i], SOL_SOCKET, SO_REUSEPORT) != 1 ||
		    getint(t[i], SOL_SOCKET, SO_ACCEPTCONN) != 1)
			fail("tcp listener %d: port %d (want %d), SO_REUSEPORT %d, SO_ACCEPTCONN %d", i, port(t[i]), p4,
			     getint(t[i], SOL_SOCKET, SO_REUSEPORT), getint(t[i], SOL_SOCKET, SO_ACCEPTCONN));
		if (getint(t[i], SOL_SOCKET, SO_REUSEADDR) != (i == 1))
			fail("tcp listener %d: SO_REUSEADDR %d", i, getint(t[i], SOL_SOCKET, SO_REUSEADDR));
	}
	for (i = 0; i < NU; i++)
		if (port(u[i]) != p6 || getint(u[i], SOL_SOCKET, SO_REUSEPORT) != 1)
			fail("udp socket %d: port %d (want %d), SO_REUSEPORT %d", i, port(u[i]), p6,
			     getint(u[i], SOL_SOCKET, SO_REUSEPORT));
	if (try_bind(AF_INET, SOCK_STREAM, 0, (struct sockaddr *)&a4, sizeof(a4)) == 0 ||
	    try_bind(AF_INET6, SOCK_DGRAM, 0, (struct sockaddr *)&a6, sizeof(a6)) == 0)
		fail("a socket without SO_REUSEPORT could bind a group's port");
	if (try_bind(AF_INET6, SOCK_DGRAM, 1, (struct sockaddr *)&a6, sizeof(a6)))
		fail("a new member cannot join the udp group: %m");
	/* every connection lands in one of the listeners' queues */
	for (i = 0; i < 8; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0), a = -1, j;
		struct pollfd pf[NT];

		if (connect(c, (struct sockaddr *)&a4, sizeof(a4))) {
			fail("connect %d", i);
			break;
		}
		for (j = 0; j < NT; j++)
			pf[j] = (struct pollfd){ .fd = t[j], .events = POLLIN };
		if (poll(pf, NT, -1) < 1) {
			fail("poll");
			break;
		}
		for (j = 0; j < NT && a < 0; j++)
			if (pf[j].revents & POLLIN)
				a = accept(t[j], NULL, NULL);
		if (a < 0)
			fail("connection %d not accepted", i);
		close(a);
		close(c);
	}
	pass();
	return test_exit();
}
