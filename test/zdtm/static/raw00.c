/*
 * raw00: raw sockets keep their state across C/R, in a network namespace
 * of the test's own (no other program's packets reach them):
 *  - r1, IPv4 IPPROTO_ICMP, bound to 127.0.0.1, bound to the device "lo"
 *    (SO_BINDTODEVICE), with IP_TOS and an ICMP_FILTER that passes echo
 *    replies only;
 *  - r2, IPv4 protocol 253 (experiments), IP_HDRINCL on, connected to
 *    127.0.0.1;
 *  - r6, IPv6 IPPROTO_ICMPV6, bound to ::1, with an ICMPV6_FILTER that
 *    passes echo replies only, its reading shut down.
 * After restore the addresses, device, options and filters read back the
 * same; an echo request r1 sends to 127.0.0.1 comes back to it as the
 * reply alone (the filter drops the request it also sees); a packet r2
 * makes whole (its own IP header) to 127.0.0.1 reaches r2. Sabotage clears
 * r1's filter.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef ICMP_FILTER
#define ICMP_FILTER 1 /* linux/icmp.h, which clashes with net/if.h */
#endif

#define PROTO 253
#define TOS 0x10
#define FILTER4 (~(1u << ICMP_ECHOREPLY))
#define ECHO_ID 0x4242

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

static unsigned short csum(const void *p, int len)
{
	const unsigned short *w = p;
	unsigned sum = 0;

	for (; len > 1; len -= 2)
		sum += *w++;
	if (len)
		sum += *(const unsigned char *)w;
	sum = (sum >> 16) + (sum & 0xffff);
	sum += sum >> 16;
	return ~sum;
}

/* wait_read reads one packet of fd into buf within 5 seconds */
static ssize_t wait_read(int fd, void *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 5000) != 1)
		return -1;
	return recv(fd, buf, len, MSG_DONTWAIT);
}

static void check_echo(int r1)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	unsigned char buf[128] = {};
	struct icmphdr *h = (struct icmphdr *)buf;
	struct iphdr *ip = (struct iphdr *)buf;
	ssize_t n;

	h->type = ICMP_ECHO;
	h->un.echo.id = htons(ECHO_ID);
	h->un.echo.sequence = htons(1);
	h->checksum = csum(buf, 16);
	if (sendto(r1, buf, 16, 0, (struct sockaddr *)&lo, sizeof(lo)) != 16) {
		fail("r1: send an echo request");
		return;
	}
	n = wait_read(r1, buf, sizeof(buf));
	if (n < (ssize_t)sizeof(*ip) + 8) {
		fail("r1: no packet (%zd)", n);
		return;
	}
	h = (struct icmphdr *)(buf + ip->ihl * 4);
	if (h->type != ICMP_ECHOREPLY || ntohs(h->un.echo.id) != ECHO_ID)
		fail("r1: first packet is ICMP type %d id %#x, want the echo reply (%d) to %#x: the filter let it through",
		     h->type, ntohs(h->un.echo.id), ICMP_ECHOREPLY, ECHO_ID);
}

static void check_hdrincl(int r2)
{
	unsigned char buf[128] = {};
	struct iphdr *ip = (struct iphdr *)buf;
	ssize_t n;

	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = PROTO;
	ip->saddr = htonl(INADDR_LOOPBACK);
	ip->daddr = htonl(INADDR_LOOPBACK);
	ip->tot_len = htons(sizeof(*ip) + 4);
	memcpy(buf + sizeof(*ip), "r2r2", 4);
	/* connected: no address needed; IP_HDRINCL: the header is ours */
	if (send(r2, buf, sizeof(*ip) + 4, 0) != (ssize_t)sizeof(*ip) + 4) {
		fail("r2: send");
		return;
	}
	n = wait_read(r2, buf, sizeof(buf));
	if (n != (ssize_t)sizeof(*ip) + 4 || ip->protocol != PROTO || memcmp(buf + sizeof(*ip), "r2r2", 4))
		fail("r2: got %zd bytes of protocol %d, want its own packet", n, ip->protocol);
}

int main(int argc, char **argv)
{
	struct sockaddr_in lo4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, a;
	struct sockaddr_in6 lo6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT }, a6;
	struct icmp6_filter f6, g6;
	struct pollfd p;
	char dev[IFNAMSIZ] = {};
	socklen_t l;
	int r1, r2, r6;

	test_init(argc, argv);
	if (unshare(CLONE_NEWNET) || lo_up()) {
		fail("make the network namespace");
		return 1;
	}
	r1 = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	r2 = socket(AF_INET, SOCK_RAW, PROTO);
	r6 = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	if (r1 < 0 || r2 < 0 || r6 < 0) {
		fail("make the raw sockets");
		return 1;
	}
	if (bind(r1, (struct sockaddr *)&lo4, sizeof(lo4)) ||
	    setsockopt(r1, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) || setint(r1, IPPROTO_IP, IP_TOS, TOS) ||
	    setint(r1, SOL_RAW, ICMP_FILTER, FILTER4)) {
		fail("set r1 up");
		return 1;
	}
	if (setint(r2, IPPROTO_IP, IP_HDRINCL, 1) || connect(r2, (struct sockaddr *)&lo4, sizeof(lo4))) {
		fail("set r2 up");
		return 1;
	}
	ICMP6_FILTER_SETBLOCKALL(&f6);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f6);
	if (bind(r6, (struct sockaddr *)&lo6, sizeof(lo6)) ||
	    setsockopt(r6, IPPROTO_ICMPV6, ICMP6_FILTER, &f6, sizeof(f6)) ||
	    (shutdown(r6, SHUT_RD) && errno != ENOTCONN)) {
		fail("set r6 up");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		setint(r1, SOL_RAW, ICMP_FILTER, 0);

	l = sizeof(a);
	if (getsockname(r1, (struct sockaddr *)&a, &l) || a.sin_addr.s_addr != htonl(INADDR_LOOPBACK))
		fail("r1 is not bound to 127.0.0.1");
	l = sizeof(dev);
	if (getsockopt(r1, SOL_SOCKET, SO_BINDTODEVICE, dev, &l) || strcmp(dev, "lo"))
		fail("r1: SO_BINDTODEVICE \"%s\", want \"lo\"", dev);
	if (getint(r1, IPPROTO_IP, IP_TOS) != TOS || getint(r1, SOL_RAW, ICMP_FILTER) != (int)FILTER4 ||
	    getint(r1, SOL_SOCKET, SO_PROTOCOL) != IPPROTO_ICMP || getint(r1, IPPROTO_IP, IP_HDRINCL) != 0)
		fail("r1: IP_TOS %#x, ICMP_FILTER %#x, protocol %d, IP_HDRINCL %d", getint(r1, IPPROTO_IP, IP_TOS),
		     getint(r1, SOL_RAW, ICMP_FILTER), getint(r1, SOL_SOCKET, SO_PROTOCOL), getint(r1, IPPROTO_IP, IP_HDRINCL));
	if (getint(r2, IPPROTO_IP, IP_HDRINCL) != 1 || getint(r2, SOL_SOCKET, SO_PROTOCOL) != PROTO)
		fail("r2: IP_HDRINCL %d, protocol %d", getint(r2, IPPROTO_IP, IP_HDRINCL), getint(r2, SOL_SOCKET, SO_PROTOCOL));
	l = sizeof(a6);
	if (getsockname(r6, (struct sockaddr *)&a6, &l) || memcmp(&a6.sin6_addr, &lo6.sin6_addr, 16))
		fail("r6 is not bound to ::1");
	l = sizeof(g6);
	if (getsockopt(r6, IPPROTO_ICMPV6, ICMP6_FILTER, &g6, &l) || memcmp(&f6, &g6, sizeof(f6)))
		fail("r6: ICMP6_FILTER changed");
	p = (struct pollfd){ .fd = r6, .events = POLLIN | POLLRDHUP };
	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLRDHUP))
		fail("r6: reading is no longer shut down (revents %#x)", p.revents);

	check_echo(r1);
	check_hdrincl(r2);
	pass();
	return test_exit();
}
