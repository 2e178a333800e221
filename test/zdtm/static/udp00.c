/*
 * udp00: UDP sockets keep their addresses and options across C/R: a bound
 * IPv4 socket (SO_BROADCAST, IP_PKTINFO), an IPv4 socket connected to it,
 * and a bound IPv6 one (IPV6_V6ONLY) with a connected IPv6 peer.
 * Datagrams then go both ways with the right source addresses.
 * (Datagrams queued at checkpoint time are not saved: none are queued.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

static int getint(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, level, name, &v, &l))
		return -1;
	return v;
}

/* send msg on from (connected) to the bound socket to, whose answer must
 * reach from; checks the source address to sees is from's address */
static void exchange(int from, int to, const char *which)
{
	struct sockaddr_storage src, self;
	socklen_t sl = sizeof(src), fl = sizeof(self);
	char buf[32];
	struct pollfd p = { .fd = to, .events = POLLIN };

	if (send(from, which, strlen(which), 0) != (ssize_t)strlen(which)) {
		fail("%s: send", which);
		return;
	}
	if (poll(&p, 1, 5000) != 1) {
		fail("%s: nothing arrived", which);
		return;
	}
	ssize_t n = recvfrom(to, buf, sizeof(buf), 0, (struct sockaddr *)&src, &sl);
	getsockname(from, (struct sockaddr *)&self, &fl);
	if (n != (ssize_t)strlen(which) || memcmp(buf, which, n))
		fail("%s: wrong datagram", which);
	if (sl != fl || memcmp(&src, &self, sl))
		fail("%s: the datagram came from another address than the sender's", which);
	if (sendto(to, "ack", 3, 0, (struct sockaddr *)&src, sl) != 3) {
		fail("%s: sendto", which);
		return;
	}
	p.fd = from;
	if (poll(&p, 1, 5000) != 1 || recv(from, buf, sizeof(buf), 0) != 3 || memcmp(buf, "ack", 3))
		fail("%s: no answer", which);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET }, p4, g;
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT }, p6, g6;
	socklen_t l;
	int one = 1, b4, c4, b6, c6;

	test_init(argc, argv);
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	b4 = socket(AF_INET, SOCK_DGRAM, 0);
	c4 = socket(AF_INET, SOCK_DGRAM, 0);
	b6 = socket(AF_INET6, SOCK_DGRAM, 0);
	c6 = socket(AF_INET6, SOCK_DGRAM, 0);
	if (b4 < 0 || c4 < 0 || b6 < 0 || c6 < 0) {
		fail("socket");
		return 1;
	}
	if (setsockopt(b4, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) ||
	    setsockopt(b4, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) ||
	    setsockopt(b6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) {
		fail("setsockopt");
		return 1;
	}
	l = sizeof(a4);
	if (bind(b4, (struct sockaddr *)&a4, l) || getsockname(b4, (struct sockaddr *)&a4, &l) ||
	    connect(c4, (struct sockaddr *)&a4, l)) {
		fail("ipv4 bind/connect");
		return 1;
	}
	l = sizeof(a6);
	if (bind(b6, (struct sockaddr *)&a6, l) || getsockname(b6, (struct sockaddr *)&a6, &l) ||
	    connect(c6, (struct sockaddr *)&a6, l)) {
		fail("ipv6 bind/connect");
		return 1;
	}
	l = sizeof(p4);
	getsockname(c4, (struct sockaddr *)&p4, &l);
	l = sizeof(p6);
	getsockname(c6, (struct sockaddr *)&p6, &l);

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		struct sockaddr_in other = a4;
		other.sin_port = htons(ntohs(a4.sin_port) ^ 1);
		connect(c4, (struct sockaddr *)&other, sizeof(other));
	}
	if (getint(b4, SOL_SOCKET, SO_BROADCAST) != 1 || getint(b4, IPPROTO_IP, IP_PKTINFO) != 1)
		fail("ipv4 options lost");
	if (getint(b6, IPPROTO_IPV6, IPV6_V6ONLY) != 1 || getint(c6, IPPROTO_IPV6, IPV6_V6ONLY) != 0)
		fail("IPV6_V6ONLY wrong: bound %d connected %d", getint(b6, IPPROTO_IPV6, IPV6_V6ONLY), getint(c6, IPPROTO_IPV6, IPV6_V6ONLY));
	l = sizeof(g);
	if (getsockname(b4, (struct sockaddr *)&g, &l) || memcmp(&g, &a4, sizeof(g)))
		fail("ipv4 bound address changed");
	l = sizeof(g);
	if (getsockname(c4, (struct sockaddr *)&g, &l) || memcmp(&g, &p4, sizeof(g)))
		fail("ipv4 connected socket's own address changed");
	l = sizeof(g);
	if (getpeername(c4, (struct sockaddr *)&g, &l) || memcmp(&g, &a4, sizeof(g)))
		fail("ipv4 peer changed");
	l = sizeof(g6);
	if (getsockname(b6, (struct sockaddr *)&g6, &l) || memcmp(&g6, &a6, sizeof(g6)))
		fail("ipv6 bound address changed");
	l = sizeof(g6);
	if (getpeername(c6, (struct sockaddr *)&g6, &l) || memcmp(&g6, &a6, sizeof(g6)))
		fail("ipv6 peer changed");
	if (!test_failed()) {
		exchange(c4, b4, "ipv4");
		exchange(c6, b6, "ipv6");
	}
	pass();
	return test_exit();
}
