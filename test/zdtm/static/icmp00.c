/*
 * icmp00: ICMP ("ping") sockets keep their state across C/R, in a network
 * namespace of the test's own whose net.ipv4.ping_group_range lets every
 * group make them (a new namespace lets none):
 *  - s4, IPv4, bound to 127.0.0.1 with echo identifier ID4, connected to
 *    127.0.0.1, with IP_TTL, IP_RECVERR and a receive buffer of its own;
 *  - s6, IPv6, bound to ::1 with identifier ID6, with IPV6_UNICAST_HOPS;
 *  - a4, IPv4, whose identifier the kernel chose at its first echo (the
 *    reply read before the checkpoint), its reading shut down;
 *  - n4, IPv4, never used.
 * After restore the range, addresses, identifiers, peer and options read
 * back the same, a4 polls POLLRDHUP, n4 has no identifier yet, and an echo
 * sent on s4, on s6 and on n4 is answered on the same socket (with its
 * identifier). Sabotage changes s4's
 * IP_TTL.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

#define ID4 0x1234
#define ID6 0x2345
#define TTL4 33
#define HOPS6 7
#define RCVBUF 32768
#define RANGE "0\t2147483647"

static int getint(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, level, name, &v, &l))
		return -1;
	return v;
}

static int setint(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v));
}

static int lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s = socket(AF_INET, SOCK_DGRAM, 0), ret;

	if (s < 0)
		return -1;
	ret = ioctl(s, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (!ret)
		ret = ioctl(s, SIOCSIFFLAGS, &ifr);
	close(s);
	return ret;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret;

	if (fd < 0)
		return -1;
	ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
	close(fd);
	return ret;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return 0;
}

/* echo sends an echo request of sequence seq (to dst if not connected)
 * and reads the reply: it must come back with identifier id (any if id is
 * -1); returns the identifier, -1 on failure */
static int echo(int fd, int v6, const struct sockaddr *dst, socklen_t dlen, int id, uint16_t seq)
{
	unsigned char buf[64] = {};
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int type, rseq, rid;

	if (v6) {
		struct icmp6_hdr *h = (struct icmp6_hdr *)buf;
		h->icmp6_type = ICMP6_ECHO_REQUEST;
		h->icmp6_seq = htons(seq);
	} else {
		struct icmphdr *h = (struct icmphdr *)buf;
		h->type = ICMP_ECHO;
		h->un.echo.sequence = htons(seq);
	}
	if (sendto(fd, buf, 16, 0, dst, dlen) != 16) {
		fail("send an echo of seq %d", seq);
		return -1;
	}
	if (poll(&p, 1, 5000) != 1) {
		fail("no echo reply to seq %d", seq);
		return -1;
	}
	if (recv(fd, buf, sizeof(buf), 0) < 8) {
		fail("read the echo reply to seq %d", seq);
		return -1;
	}
	if (v6) {
		struct icmp6_hdr *h = (struct icmp6_hdr *)buf;
		type = h->icmp6_type == ICMP6_ECHO_REPLY;
		rseq = ntohs(h->icmp6_seq);
		rid = ntohs(h->icmp6_id);
	} else {
		struct icmphdr *h = (struct icmphdr *)buf;
		type = h->type == ICMP_ECHOREPLY;
		rseq = ntohs(h->un.echo.sequence);
		rid = ntohs(h->un.echo.id);
	}
	if (!type || rseq != seq || (id >= 0 && rid != id)) {
		fail("echo reply: %s, seq %d id %#x, want an echo reply, seq %d id %#x", type ? "echo reply" : "other type",
		     rseq, rid, seq, id);
		return -1;
	}
	return rid;
}

int main(int argc, char **argv)
{
	struct sockaddr_in lo4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, a;
	struct sockaddr_in6 lo6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT }, a6;
	struct pollfd p;
	socklen_t l;
	char range[64];
	int s4, s6, a4, a4id, n4;

	test_init(argc, argv);
	if (unshare(CLONE_NEWNET) || lo_up()) {
		fail("make the network namespace");
		return 1;
	}
	if (write_file("/proc/sys/net/ipv4/ping_group_range", "0 2147483647")) {
		fail("set ping_group_range");
		return 1;
	}
	s4 = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	s6 = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
	a4 = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	n4 = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	if (s4 < 0 || s6 < 0 || a4 < 0 || n4 < 0) {
		fail("make the ICMP sockets");
		return 1;
	}
	a = lo4;
	a.sin_port = htons(ID4);
	if (bind(s4, (struct sockaddr *)&a, sizeof(a)) || connect(s4, (struct sockaddr *)&lo4, sizeof(lo4)) ||
	    setint(s4, IPPROTO_IP, IP_TTL, TTL4) || setint(s4, IPPROTO_IP, IP_RECVERR, 1) ||
	    setint(s4, SOL_SOCKET, SO_RCVBUF, RCVBUF)) {
		fail("set s4 up");
		return 1;
	}
	a6 = lo6;
	a6.sin6_port = htons(ID6);
	if (bind(s6, (struct sockaddr *)&a6, sizeof(a6)) || setint(s6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, HOPS6)) {
		fail("set s6 up");
		return 1;
	}
	/* the kernel picks a4's identifier at its first echo */
	a4id = echo(a4, 0, (struct sockaddr *)&lo4, sizeof(lo4), -1, 1);
	/* not connected: ENOTCONN, but shut down all the same (inet_shutdown) */
	if (a4id < 0 || (shutdown(a4, SHUT_RD) && errno != ENOTCONN)) {
		fail("set a4 up");
		return 1;
	}
	int rcvbuf = getint(s4, SOL_SOCKET, SO_RCVBUF);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		setint(s4, IPPROTO_IP, IP_TTL, TTL4 + 1);

	if (read_file("/proc/sys/net/ipv4/ping_group_range", range, sizeof(range)) || strcmp(range, RANGE))
		fail("ping_group_range is \"%s\", want \"%s\"", range, RANGE);
	for (int i = 0; i < 3; i++) {
		int fd = i == 0 ? s4 : i == 1 ? s6 : a4;
		if (getint(fd, SOL_SOCKET, SO_TYPE) != SOCK_DGRAM ||
		    getint(fd, SOL_SOCKET, SO_PROTOCOL) != (i == 1 ? IPPROTO_ICMPV6 : IPPROTO_ICMP))
			fail("socket %d: type or protocol changed", i);
	}
	l = sizeof(a);
	if (getsockname(s4, (struct sockaddr *)&a, &l) || a.sin_addr.s_addr != htonl(INADDR_LOOPBACK) ||
	    ntohs(a.sin_port) != ID4)
		fail("s4 bound to %#x identifier %#x, want 127.0.0.1 and %#x", ntohl(a.sin_addr.s_addr), ntohs(a.sin_port), ID4);
	/* getpeername says ENOTCONN for a peer port 0: the echo without an
	 * address below shows s4 connected */
	if (getint(s4, IPPROTO_IP, IP_TTL) != TTL4 || getint(s4, IPPROTO_IP, IP_RECVERR) != 1 ||
	    getint(s4, SOL_SOCKET, SO_RCVBUF) != rcvbuf)
		fail("s4: IP_TTL %d, IP_RECVERR %d, SO_RCVBUF %d, want %d, 1, %d", getint(s4, IPPROTO_IP, IP_TTL),
		     getint(s4, IPPROTO_IP, IP_RECVERR), getint(s4, SOL_SOCKET, SO_RCVBUF), TTL4, rcvbuf);
	l = sizeof(a6);
	if (getsockname(s6, (struct sockaddr *)&a6, &l) || memcmp(&a6.sin6_addr, &lo6.sin6_addr, 16) ||
	    ntohs(a6.sin6_port) != ID6)
		fail("s6 not bound to ::1 with identifier %#x (%#x)", ID6, ntohs(a6.sin6_port));
	if (getint(s6, IPPROTO_IPV6, IPV6_UNICAST_HOPS) != HOPS6)
		fail("s6: IPV6_UNICAST_HOPS %d, want %d", getint(s6, IPPROTO_IPV6, IPV6_UNICAST_HOPS), HOPS6);
	l = sizeof(a);
	if (getsockname(a4, (struct sockaddr *)&a, &l) || ntohs(a.sin_port) != a4id)
		fail("a4: identifier %#x, want %#x", ntohs(a.sin_port), a4id);
	p = (struct pollfd){ .fd = a4, .events = POLLIN | POLLRDHUP };
	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLRDHUP))
		fail("a4: reading is no longer shut down (revents %#x)", p.revents);

	l = sizeof(a);
	if (getsockname(n4, (struct sockaddr *)&a, &l) || a.sin_port || a.sin_addr.s_addr)
		fail("n4: bound to %#x identifier %#x, want nothing", ntohl(a.sin_addr.s_addr), ntohs(a.sin_port));

	echo(s4, 0, NULL, 0, ID4, 2);
	echo(n4, 0, (struct sockaddr *)&lo4, sizeof(lo4), -1, 4);
	echo(s6, 1, (struct sockaddr *)&lo6, sizeof(lo6), ID6, 3);
	pass();
	return test_exit();
}
