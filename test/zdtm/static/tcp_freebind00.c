/*
 * tcp_freebind00: sockets bound to addresses that are not local, which
 * bind(2) takes only with IP_FREEBIND / IPV6_FREEBIND or IP_TRANSPARENT /
 * IPV6_TRANSPARENT set first: an IPv4 TCP listener on 192.0.2.1 and an
 * IPv6 TCP listener on 2001:db8::1 (FREEBIND), an IPv4 UDP socket on
 * 198.51.100.7 (IP_TRANSPARENT) and a bound IPv6 TCP socket on
 * 2001:db8::2 (IPV6_TRANSPARENT), none of them addresses of this host.
 * After restore each is bound to its address and port with its option
 * still on. Sabotage turns one option off.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif

struct sk {
	int family, type, level, opt, listen;
	const char *addr, *label;
	int fd;
	struct sockaddr_storage name;
	socklen_t len;
};

static struct sk sks[] = {
	{ AF_INET, SOCK_STREAM, IPPROTO_IP, IP_FREEBIND, 1, "192.0.2.1", "tcp IP_FREEBIND" },
	{ AF_INET6, SOCK_STREAM, IPPROTO_IPV6, IPV6_FREEBIND, 1, "2001:db8::1", "tcp6 IPV6_FREEBIND" },
	{ AF_INET, SOCK_DGRAM, IPPROTO_IP, IP_TRANSPARENT, 0, "198.51.100.7", "udp IP_TRANSPARENT" },
	{ AF_INET6, SOCK_STREAM, IPPROTO_IPV6, IPV6_TRANSPARENT, 0, "2001:db8::2", "tcp6 IPV6_TRANSPARENT" },
};
#define NSK (sizeof(sks) / sizeof(sks[0]))

static int getint(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, level, name, &v, &l))
		return -1;
	return v;
}

int main(int argc, char **argv)
{
	int one = 1;
	unsigned i;

	test_init(argc, argv);
	for (i = 0; i < NSK; i++) {
		struct sk *s = &sks[i];
		struct sockaddr_in a4 = { .sin_family = AF_INET };
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
		struct sockaddr *a = s->family == AF_INET ? (struct sockaddr *)&a4 : (struct sockaddr *)&a6;
		socklen_t al = s->family == AF_INET ? sizeof(a4) : sizeof(a6);

		inet_pton(s->family, s->addr, s->family == AF_INET ? (void *)&a4.sin_addr : (void *)&a6.sin6_addr);
		s->fd = socket(s->family, s->type, 0);
		if (s->fd < 0 || bind(s->fd, a, al) == 0) {
			fail("%s: %s is a local address here: the test proves nothing", s->label, s->addr);
			return 1;
		}
		close(s->fd);
		s->fd = socket(s->family, s->type, 0);
		if (setsockopt(s->fd, s->level, s->opt, &one, sizeof(one)) || bind(s->fd, a, al) ||
		    (s->listen && listen(s->fd, 5))) {
			fail("%s: set up", s->label);
			return 1;
		}
		s->len = sizeof(s->name);
		getsockname(s->fd, (struct sockaddr *)&s->name, &s->len);
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		int zero = 0;

		setsockopt(sks[0].fd, sks[0].level, sks[0].opt, &zero, sizeof(zero));
	}
	for (i = 0; i < NSK; i++) {
		struct sk *s = &sks[i];
		struct sockaddr_storage got;
		socklen_t l = sizeof(got);

		if (getsockname(s->fd, (struct sockaddr *)&got, &l) || l != s->len || memcmp(&got, &s->name, l))
			fail("%s: not bound to %s as before", s->label, s->addr);
		if (getint(s->fd, s->level, s->opt) != 1)
			fail("%s: option is %d", s->label, getint(s->fd, s->level, s->opt));
		if (getint(s->fd, SOL_SOCKET, SO_TYPE) != s->type)
			fail("%s: type changed", s->label);
		if (s->type == SOCK_STREAM && getint(s->fd, SOL_SOCKET, SO_ACCEPTCONN) != s->listen)
			fail("%s: SO_ACCEPTCONN %d", s->label, getint(s->fd, SOL_SOCKET, SO_ACCEPTCONN));
	}
	pass();
	return test_exit();
}
