/*
 * tcp_synsent00: TCP connects in progress (SYN_SENT) come back connecting
 * and then connect. Two listeners of the test drop every packet (a classic
 * BPF filter that returns 0), so the SYNs sent to them go unanswered: a
 * non-blocking IPv4 socket whose connect(2) returned EINPROGRESS, and an
 * IPv6 socket a child is blocked in connect(2) on. After restore the
 * IPv4 socket is still connecting from the same port, its SYN has the same
 * sequence number (read in TCP repair mode: TCP_QUEUE_SEQ of the send
 * queue), and once the filters are detached both connects complete when
 * the SYN is sent again, the child's connect(2) returning 0, and the
 * listeners accept connections from the right ports. Sabotage puts an
 * unconnected socket in place of the IPv4 one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef TCP_REPAIR
#define TCP_REPAIR 19
#define TCP_REPAIR_QUEUE 20
#define TCP_QUEUE_SEQ 21
#endif
#define TCP_SEND_QUEUE 2
#define TCP_REPAIR_OFF_NO_WP -1

static int tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l))
		return -1;
	return ti.tcpi_state;
}

/* syn_seq: the send queue's TCP_QUEUE_SEQ, one past the SYN's sequence number */
static int syn_seq(int fd, unsigned *seq)
{
	int on = 1, q = TCP_SEND_QUEUE, off = TCP_REPAIR_OFF_NO_WP, r;
	socklen_t l = sizeof(*seq);

	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)))
		return -1;
	r = setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) ||
	    getsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, seq, &l);
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off)))
		return -1;
	return r ? -1 : 0;
}

static int dropping_listener(int family, struct sockaddr *a, socklen_t len)
{
	struct sock_filter drop[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct sock_fprog prog = { .len = 1, .filter = drop };
	int s = socket(family, SOCK_STREAM, 0);

	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) || bind(s, a, len) ||
	    listen(s, 4) || getsockname(s, a, &len))
		return -1;
	return s;
}

/* accept_from: l accepts a connection from local port port of the client */
static void accept_from(int l, int port, const char *which)
{
	struct sockaddr_in6 p; /* room for either family; the ports are at the same offset */
	socklen_t pl = sizeof(p);
	int s;

	s = accept(l, (struct sockaddr *)&p, &pl);
	if (s < 0 || ntohs(p.sin6_port) != port)
		fail("%s: no connection accepted from port %d", which, port);
	close(s);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET }, c4a;
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int l4, l6, c4, c6, err, zero = 0;
	unsigned seq, seq2;
	socklen_t l;
	pid_t child;

	test_init(argc, argv);
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l4 = dropping_listener(AF_INET, (struct sockaddr *)&a4, sizeof(a4));
	l6 = dropping_listener(AF_INET6, (struct sockaddr *)&a6, sizeof(a6));
	if (l4 < 0 || l6 < 0) {
		fail("listeners");
		return 1;
	}
	c4 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c4 < 0 || connect(c4, (struct sockaddr *)&a4, sizeof(a4)) == 0 || errno != EINPROGRESS) {
		fail("non-blocking connect");
		return 1;
	}
	c6 = socket(AF_INET6, SOCK_STREAM, 0);
	child = test_fork();
	if (child == 0) {
		/* blocked here across the checkpoint; restarted after restore */
		_exit(connect(c6, (struct sockaddr *)&a6, sizeof(a6)) ? 1 : 0);
	}
	while (tcp_state(c6) != 2) /* TCP_SYN_SENT */
		usleep(1000);
	if (tcp_state(c4) != 2 || syn_seq(c4, &seq)) {
		fail("not connecting, or no sequence number");
		return 1;
	}
	l = sizeof(c4a);
	getsockname(c4, (struct sockaddr *)&c4a, &l);

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

		dup2(s, c4);
		close(s);
	}
	if (tcp_state(c4) != 2 || tcp_state(c6) != 2)
		fail("states %d and %d, want SYN_SENT (2)", tcp_state(c4), tcp_state(c6));
	if (syn_seq(c4, &seq2) || seq2 != seq)
		fail("the SYN's sequence number is %u, was %u", seq2 - 1, seq - 1);
	if (!(fcntl(c4, F_GETFL) & O_NONBLOCK) || (fcntl(c6, F_GETFL) & O_NONBLOCK))
		fail("O_NONBLOCK changed");
	struct sockaddr_in g;
	l = sizeof(g);
	if (getsockname(c4, (struct sockaddr *)&g, &l) || g.sin_port != c4a.sin_port)
		fail("the connecting socket's port changed");

	/* let the SYNs through: sent again, they connect */
	if (setsockopt(l4, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof(zero)) ||
	    setsockopt(l6, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof(zero)))
		fail("SO_DETACH_FILTER");
	struct pollfd pf = { .fd = c4, .events = POLLOUT };
	l = sizeof(err);
	if (test_failed()) /* c4 is not connecting: nothing to accept */
		;
	else if (poll(&pf, 1, -1) != 1 || getsockopt(c4, SOL_SOCKET, SO_ERROR, &err, &l) || err)
		fail("the non-blocking connect failed: %s", strerror(err));
	else
		accept_from(l4, ntohs(c4a.sin_port), "ipv4");
	int st;
	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st))
		fail("the child's blocking connect failed (status %#x)", st);
	else {
		struct sockaddr_in6 c6a;

		l = sizeof(c6a);
		getsockname(c6, (struct sockaddr *)&c6a, &l);
		accept_from(l6, ntohs(c6a.sin6_port), "ipv6");
	}
	pass();
	return test_exit();
}
