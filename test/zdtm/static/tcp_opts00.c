/*
 * tcp_opts00: every integer option INET_SOCKET saves comes back with its
 * value after C/R. A listening IPv4 TCP socket holds SO_SNDBUF,
 * SO_SNDTIMEO, SO_LINGER, SO_OOBINLINE, SO_RCVLOWAT, SO_MARK, TCP_CORK,
 * TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT, IP_TOS, IP_TTL, IP_RECVERR
 * and, set after IP_TOS (which sets the priority too), SO_PRIORITY; an
 * IPv6 TCP one IPV6_UNICAST_HOPS, IPV6_TCLASS, TCP_NOTSENT_LOWAT; a bound
 * IPv6 UDP one IPV6_RECVPKTINFO and IPV6_UNICAST_HOPS. Each is set to a
 * value that is not the default. Sabotage changes TCP_KEEPCNT after
 * test_daemon.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

struct opt {
	int *fd;
	int level, name, value;
	const char *label;
	int want; /* read back after setting: what the kernel made of value */
};

static int getint(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, level, name, &v, &l))
		return -1;
	return v;
}

static int t4, t6, u6;

static struct opt opts[] = {
	{ &t4, SOL_SOCKET, SO_SNDBUF, 50000, "SO_SNDBUF" },
	{ &t4, SOL_SOCKET, SO_OOBINLINE, 1, "SO_OOBINLINE" },
	{ &t4, SOL_SOCKET, SO_RCVLOWAT, 17, "SO_RCVLOWAT" },
	{ &t4, SOL_SOCKET, SO_MARK, 0x42, "SO_MARK" },
	{ &t4, IPPROTO_TCP, TCP_CORK, 1, "TCP_CORK" },
	{ &t4, IPPROTO_TCP, TCP_KEEPINTVL, 33, "TCP_KEEPINTVL" },
	{ &t4, IPPROTO_TCP, TCP_KEEPCNT, 4, "TCP_KEEPCNT" },
	{ &t4, IPPROTO_TCP, TCP_USER_TIMEOUT, 12345, "TCP_USER_TIMEOUT" },
	{ &t4, IPPROTO_IP, IP_TOS, 0x10, "IP_TOS" },
	{ &t4, IPPROTO_IP, IP_TTL, 33, "IP_TTL" },
	{ &t4, IPPROTO_IP, IP_RECVERR, 1, "IP_RECVERR" },
	{ &t4, SOL_SOCKET, SO_PRIORITY, 5, "SO_PRIORITY" }, /* after IP_TOS */
	{ &t6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 21, "IPV6_UNICAST_HOPS" },
	{ &t6, IPPROTO_IPV6, IPV6_TCLASS, 0x20, "IPV6_TCLASS" },
	{ &t6, IPPROTO_TCP, TCP_NOTSENT_LOWAT, 4096, "TCP_NOTSENT_LOWAT" },
	{ &u6, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO" },
	{ &u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 7, "IPV6_UNICAST_HOPS (udp)" },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

int main(int argc, char **argv)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct timeval tv = { .tv_sec = 2, .tv_usec = 500000 }, wtv, gtv;
	struct linger lg = { .l_onoff = 1, .l_linger = 9 }, gl;
	socklen_t l;
	unsigned i;

	test_init(argc, argv);
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	t4 = socket(AF_INET, SOCK_STREAM, 0);
	t6 = socket(AF_INET6, SOCK_STREAM, 0);
	u6 = socket(AF_INET6, SOCK_DGRAM, 0);
	if (t4 < 0 || t6 < 0 || u6 < 0) {
		fail("socket");
		return 1;
	}
	for (i = 0; i < NOPTS; i++) {
		struct opt *o = &opts[i];

		if (getint(*o->fd, o->level, o->name) == o->value) {
			fail("%s is %d by default: the test proves nothing", o->label, o->value);
			return 1;
		}
		if (setsockopt(*o->fd, o->level, o->name, &o->value, sizeof(o->value))) {
			fail("setsockopt %s", o->label);
			return 1;
		}
	}
	if (setsockopt(t4, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(t4, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg))) {
		fail("setsockopt SO_SNDTIMEO/SO_LINGER");
		return 1;
	}
	if (bind(t4, (struct sockaddr *)&a4, sizeof(a4)) || listen(t4, 3) ||
	    bind(t6, (struct sockaddr *)&a6, sizeof(a6)) || listen(t6, 3) ||
	    bind(u6, (struct sockaddr *)&a6, sizeof(a6))) {
		fail("bind/listen");
		return 1;
	}
	for (i = 0; i < NOPTS; i++)
		opts[i].want = getint(*opts[i].fd, opts[i].level, opts[i].name);
	l = sizeof(wtv); /* kept in jiffies: compare with what it reads as */
	getsockopt(t4, SOL_SOCKET, SO_SNDTIMEO, &wtv, &l);

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		int v = 5;

		setsockopt(t4, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(v));
	}
	for (i = 0; i < NOPTS; i++) {
		struct opt *o = &opts[i];
		int v = getint(*o->fd, o->level, o->name);

		if (v != o->want)
			fail("%s is %d, want %d", o->label, v, o->want);
	}
	l = sizeof(gtv);
	if (getsockopt(t4, SOL_SOCKET, SO_SNDTIMEO, &gtv, &l) || gtv.tv_sec != wtv.tv_sec || gtv.tv_usec != wtv.tv_usec)
		fail("SO_SNDTIMEO %ld.%06ld, want %ld.%06ld", (long)gtv.tv_sec, (long)gtv.tv_usec, (long)wtv.tv_sec,
		     (long)wtv.tv_usec);
	l = sizeof(gl);
	if (getsockopt(t4, SOL_SOCKET, SO_LINGER, &gl, &l) || gl.l_onoff != 1 || gl.l_linger != 9)
		fail("SO_LINGER %d/%d, want 1/9", gl.l_onoff, gl.l_linger);
	pass();
	return test_exit();
}
