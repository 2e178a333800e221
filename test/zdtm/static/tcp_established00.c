/*
 * tcp_established00: an established TCP connection with both ends in the
 * process (over 127.0.0.1, and one over ::1), checkpointed with
 * --tcp-established, goes on after restore with the exact byte stream:
 * before the checkpoint each end writes a known stream until the
 * connection is full (receive queue, sent-unacknowledged and unsent data)
 * and reads none of it; after restore each end reads the other's stream
 * to the last byte, then both exchange more. The listener stays open on the
 * port the accepted ends use.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MAXFILL (8 << 20)

/* the stream end e writes: byte i of it */
static unsigned char pat(int e, size_t i)
{
	return (unsigned char)(i * 7 + i / 4099 + e * 13);
}

struct end {
	int fd;
	int id;
	size_t sent; /* bytes written before the checkpoint */
};

static void fill(struct end *e)
{
	unsigned char buf[4096];

	while (e->sent < MAXFILL) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = pat(e->id, e->sent + i);
		ssize_t n = send(e->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN)
				fail("send");
			return;
		}
		e->sent += n;
	}
}

/* read all of what `from` wrote, on `to`, checking every byte */
static void drain(struct end *to, struct end *from, const char *which)
{
	unsigned char buf[65536];
	size_t got = 0;

	fcntl(to->fd, F_SETFL, fcntl(to->fd, F_GETFL) & ~O_NONBLOCK);
	fcntl(from->fd, F_SETFL, fcntl(from->fd, F_GETFL) & ~O_NONBLOCK);
	while (got < from->sent) {
		struct pollfd p = { .fd = to->fd, .events = POLLIN };
		if (poll(&p, 1, 10000) != 1) {
			fail("%s: stream stalled after %zu of %zu bytes", which, got, from->sent);
			return;
		}
		size_t want = from->sent - got;
		ssize_t n = recv(to->fd, buf, want < sizeof(buf) ? want : sizeof(buf), 0);
		if (n <= 0) {
			fail("%s: read returned %zd after %zu of %zu bytes", which, n, got, from->sent);
			return;
		}
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pat(from->id, got + i)) {
				fail("%s: byte %zu is %#x, want %#x", which, got + i, buf[i], pat(from->id, got + i));
				return;
			}
		got += n;
	}
	int avail = 0;
	struct pollfd p = { .fd = to->fd, .events = POLLIN };
	if (poll(&p, 1, 0) == 1) {
		ioctl(to->fd, FIONREAD, &avail);
		fail("%s: %d bytes more than were written", which, avail);
	}
}

static void pair(int family, struct end *c, struct end *s, int *lfd)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t l;

	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		l = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		l = sizeof(*a);
	}
	*lfd = socket(family, SOCK_STREAM, 0);
	c->fd = socket(family, SOCK_STREAM, 0);
	if (*lfd < 0 || c->fd < 0 || bind(*lfd, (struct sockaddr *)&ss, l) || listen(*lfd, 4) ||
	    getsockname(*lfd, (struct sockaddr *)&ss, &l) || connect(c->fd, (struct sockaddr *)&ss, l)) {
		fail("set up a connection");
		return;
	}
	s->fd = accept(*lfd, NULL, NULL);
	if (s->fd < 0)
		fail("accept");
}

int main(int argc, char **argv)
{
	struct end c4 = { .id = 1 }, s4 = { .id = 2 }, c6 = { .id = 3 }, s6 = { .id = 4 };
	int l4, l6, one = 1;
	char b;

	test_init(argc, argv);
	pair(AF_INET, &c4, &s4, &l4);
	pair(AF_INET6, &c6, &s6, &l6);
	if (test_failed())
		return 1;
	setsockopt(c4.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fill(&c4);
	fill(&s4);
	/* the IPv6 pair carries a little data only, all of it received */
	if (write(c6.fd, "hello", 5) != 5 || write(s6.fd, "olleh!", 6) != 6)
		fail("write");
	c6.sent = 5; /* the stream is not pat() here: checked by hand */
	s6.sent = 6;
	test_msg("queued %zu and %zu bytes on the IPv4 connection", c4.sent, s4.sent);

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		recv(s4.fd, &b, 1, 0); /* one byte of the stream goes missing */
		c4.sent++;
	}
	drain(&s4, &c4, "server reading the client");
	drain(&c4, &s4, "client reading the server");
	{
		char buf[8] = { 0 };
		if (recv(s6.fd, buf, 5, MSG_WAITALL) != 5 || memcmp(buf, "hello", 5) ||
		    recv(c6.fd, buf, 6, MSG_WAITALL) != 6 || memcmp(buf, "olleh!", 6))
			fail("IPv6 connection: wrong data");
	}
	/* and the connections carry on both ways */
	if (write(c4.fd, "p", 1) != 1 || read(s4.fd, &b, 1) != 1 || b != 'p' ||
	    write(s4.fd, "q", 1) != 1 || read(c4.fd, &b, 1) != 1 || b != 'q' ||
	    write(c6.fd, "r", 1) != 1 || read(s6.fd, &b, 1) != 1 || b != 'r')
		fail("no exchange after restore");
	if (getsockopt(c4.fd, IPPROTO_TCP, TCP_NODELAY, &one, &(socklen_t){ sizeof(one) }) || one != 1)
		fail("TCP_NODELAY lost");
	close(c4.fd);
	if (read(s4.fd, &b, 1) != 0)
		fail("no end of stream after the peer closed");
	pass();
	return test_exit();
}
