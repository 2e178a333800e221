/*
 * tcp_listen00: listening TCP sockets keep their address, backlog and the
 * options set on them across C/R, and accept connections afterwards: an
 * IPv4 one on 127.0.0.1 (SO_REUSEADDR, TCP_NODELAY, SO_KEEPALIVE,
 * TCP_KEEPIDLE, SO_RCVBUF, SO_RCVTIMEO, non-blocking) and an IPv6 one on
 * ::1 (IPV6_V6ONLY, SO_REUSEPORT, TCP_DEFER_ACCEPT, backlog 7), plus a bound
 * socket that does not listen.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

struct want {
	int level, name, value;
	const char *label;
};

static int getint(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, level, name, &v, &l))
		return -1;
	return v;
}

static void check_opts(int fd, const char *which, const struct want *w, int n)
{
	for (int i = 0; i < n; i++) {
		int v = getint(fd, w[i].level, w[i].name);

		if (v != w[i].value)
			fail("%s: %s is %d, want %d", which, w[i].label, v, w[i].value);
	}
}

static int backlog(int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l))
		return -1;
	return ti.tcpi_sacked; /* sk_max_ack_backlog for a listener */
}

/* connect to addr, accept on lfd, send a byte each way */
static void try_connect(int lfd, struct sockaddr *addr, socklen_t len, int family, const char *which)
{
	int c = socket(family, SOCK_STREAM, 0), a;
	char b = 'x';

	if (c < 0 || connect(c, addr, len)) {
		fail("%s: connect", which);
		return;
	}
	if (write(c, "q", 1) != 1) /* TCP_DEFER_ACCEPT waits for data */
		fail("%s: write", which);
	fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) & ~O_NONBLOCK);
	a = accept(lfd, NULL, NULL);
	if (a < 0) {
		fail("%s: accept", which);
		close(c);
		return;
	}
	if (read(a, &b, 1) != 1 || b != 'q' || write(a, "r", 1) != 1 || read(c, &b, 1) != 1 || b != 'r')
		fail("%s: no exchange over the accepted connection", which);
	close(a);
	close(c);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET }, g4;
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT }, g6;
	struct sockaddr_in b4 = { .sin_family = AF_INET }, gb;
	socklen_t l;
	int one = 1, idle = 77, rcvbuf = 65536, defer = 5, s4, s6, sb, v;
	struct timeval tv = { .tv_sec = 3, .tv_usec = 250000 }, gtv, wtv;

	test_init(argc, argv);
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	b4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	s4 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	s6 = socket(AF_INET6, SOCK_STREAM, 0);
	sb = socket(AF_INET, SOCK_STREAM, 0);
	if (s4 < 0 || s6 < 0 || sb < 0) {
		fail("socket");
		return 1;
	}
	if (setsockopt(s4, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(s4, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    setsockopt(s4, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) ||
	    setsockopt(s4, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) ||
	    setsockopt(s4, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) ||
	    setsockopt(s4, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(s6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
	    setsockopt(s6, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    setsockopt(s6, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer))) {
		fail("setsockopt");
		return 1;
	}
	if (bind(s4, (struct sockaddr *)&a4, sizeof(a4)) || listen(s4, 16) ||
	    bind(s6, (struct sockaddr *)&a6, sizeof(a6)) || listen(s6, 7) ||
	    bind(sb, (struct sockaddr *)&b4, sizeof(b4))) {
		fail("bind/listen");
		return 1;
	}
	l = sizeof(a4);
	getsockname(s4, (struct sockaddr *)&a4, &l);
	l = sizeof(a6);
	getsockname(s6, (struct sockaddr *)&a6, &l);
	l = sizeof(b4);
	getsockname(sb, (struct sockaddr *)&b4, &l);
	rcvbuf = getint(s4, SOL_SOCKET, SO_RCVBUF); /* what the kernel made of it */
	defer = getint(s6, IPPROTO_TCP, TCP_DEFER_ACCEPT);
	l = sizeof(wtv); /* the kernel keeps it in jiffies */
	getsockopt(s4, SOL_SOCKET, SO_RCVTIMEO, &wtv, &l);

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		idle = 78;
		setsockopt(s4, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		idle = 77;
	}
	struct want w4[] = {
		{ SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR" },
		{ IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY" },
		{ SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE" },
		{ IPPROTO_TCP, TCP_KEEPIDLE, idle, "TCP_KEEPIDLE" },
		{ SOL_SOCKET, SO_RCVBUF, rcvbuf, "SO_RCVBUF" },
		{ SOL_SOCKET, SO_ACCEPTCONN, 1, "SO_ACCEPTCONN" },
	};
	struct want w6[] = {
		{ IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY" },
		{ SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT" },
		{ IPPROTO_TCP, TCP_DEFER_ACCEPT, defer, "TCP_DEFER_ACCEPT" },
		{ SOL_SOCKET, SO_ACCEPTCONN, 1, "SO_ACCEPTCONN" },
		{ SOL_SOCKET, SO_REUSEADDR, 0, "SO_REUSEADDR" },
	};
	struct want wb[] = {
		{ SOL_SOCKET, SO_ACCEPTCONN, 0, "SO_ACCEPTCONN" },
	};
	check_opts(s4, "ipv4", w4, sizeof(w4) / sizeof(w4[0]));
	check_opts(s6, "ipv6", w6, sizeof(w6) / sizeof(w6[0]));
	check_opts(sb, "bound", wb, sizeof(wb) / sizeof(wb[0]));
	if ((v = backlog(s4)) != 16)
		fail("ipv4 backlog %d, want 16", v);
	if ((v = backlog(s6)) != 7)
		fail("ipv6 backlog %d, want 7", v);
	l = sizeof(gtv);
	if (getsockopt(s4, SOL_SOCKET, SO_RCVTIMEO, &gtv, &l) || gtv.tv_sec != wtv.tv_sec || gtv.tv_usec != wtv.tv_usec)
		fail("ipv4 SO_RCVTIMEO %ld.%06ld, want %ld.%06ld", (long)gtv.tv_sec, (long)gtv.tv_usec,
		     (long)wtv.tv_sec, (long)wtv.tv_usec);
	if (!(fcntl(s4, F_GETFL) & O_NONBLOCK) || (fcntl(s6, F_GETFL) & O_NONBLOCK))
		fail("O_NONBLOCK lost or gained");
	l = sizeof(g4);
	if (getsockname(s4, (struct sockaddr *)&g4, &l) || memcmp(&g4, &a4, sizeof(a4)))
		fail("ipv4 address changed");
	l = sizeof(g6);
	if (getsockname(s6, (struct sockaddr *)&g6, &l) || memcmp(&g6, &a6, sizeof(a6)))
		fail("ipv6 address changed");
	l = sizeof(gb);
	if (getsockname(sb, (struct sockaddr *)&gb, &l) || memcmp(&gb, &b4, sizeof(b4)))
		fail("bound socket's address changed");
	try_connect(s4, (struct sockaddr *)&a4, sizeof(a4), AF_INET, "ipv4");
	try_connect(s6, (struct sockaddr *)&a6, sizeof(a6), AF_INET6, "ipv6");
	pass();
	return test_exit();
}
