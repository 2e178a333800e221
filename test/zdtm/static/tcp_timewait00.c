/*
 * tcp_timewait00: sockets whose port a TIME_WAIT also holds, left by a
 * connection closed before the checkpoint, are bound again at restore
 * while that TIME_WAIT is still there. A bind(2) with SO_REUSEADDR off
 * fails on such a port; with it on, it passes a TIME_WAIT that had it on
 * (net/ipv4/inet_connection_sock.c:inet_bind_conflict). Three cases: a
 * listener with SO_REUSEADDR whose accepted connection it closed first; a
 * listener that bound with SO_REUSEADDR, closed an accepted connection
 * first, then turned SO_REUSEADDR off; a socket bound but not listening
 * that turned SO_REUSEADDR off after a connection from its port (another
 * socket's, with SO_REUSEADDR) closed first. After restore each is bound
 * to its port with the SO_REUSEADDR the task left, the listeners accept.
 * Sabotage turns SO_REUSEADDR back on for the second listener.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
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

static int setreuse(int fd, int v)
{
	return setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v));
}

static int port(int fd)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &l))
		return -1;
	return ntohs(a.sin_port);
}

/* tw_on: /proc/net/tcp lists a TIME_WAIT (state 06) on local port p */
static int tw_on(int p)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[256];
	unsigned lp, st;
	int found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %*d: %*x:%x %*x:%*x %x", &lp, &st) == 2 && (int)lp == p && st == 6)
			found = 1;
	fclose(f);
	return found;
}

static void wait_tw(int p)
{
	while (!tw_on(p))
		usleep(1000);
}

static int listener(int reuse)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int s = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || setreuse(s, reuse) || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4))
		return -1;
	return s;
}

/* conn: connect from (bound, or -1: a new socket) to listener l, and close
 * the connection from the server's side first (server_first) or the
 * client's; the side closing first is left in TIME_WAIT */
static int conn(int l, int from, int server_first)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int c = from >= 0 ? from : socket(AF_INET, SOCK_STREAM, 0), s;
	char b;

	getsockname(l, (struct sockaddr *)&a, &al);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) || (s = accept(l, NULL, NULL)) < 0)
		return -1;
	if (server_first) {
		close(s);
		if (read(c, &b, 1) != 0)
			return -1;
		close(c);
	} else {
		close(c);
		if (read(s, &b, 1) != 0)
			return -1;
		close(s);
	}
	return 0;
}

static void accepts(int l, const char *which)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int c = socket(AF_INET, SOCK_STREAM, 0), s = -1;

	getsockname(l, (struct sockaddr *)&a, &al);
	if (connect(c, (struct sockaddr *)&a, sizeof(a)) || (s = accept(l, NULL, NULL)) < 0)
		fail("%s: does not accept", which);
	close(s);
	close(c);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int l1, l2, b3, c3, p1, p2, p3;
	socklen_t al = sizeof(a);

	test_init(argc, argv);
	l1 = listener(1);
	l2 = listener(1);
	if (l1 < 0 || l2 < 0) {
		fail("listener");
		return 1;
	}
	p1 = port(l1);
	p2 = port(l2);
	if (conn(l1, -1, 1) || conn(l2, -1, 1)) {
		fail("connection to close");
		return 1;
	}
	wait_tw(p1);
	wait_tw(p2);
	if (setreuse(l2, 0)) {
		fail("SO_REUSEADDR off");
		return 1;
	}

	b3 = socket(AF_INET, SOCK_STREAM, 0);
	c3 = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (setreuse(b3, 1) || bind(b3, (struct sockaddr *)&a, sizeof(a)) || getsockname(b3, (struct sockaddr *)&a, &al) ||
	    setreuse(c3, 1) || bind(c3, (struct sockaddr *)&a, sizeof(a)) || conn(l1, c3, 0)) {
		fail("bound socket");
		return 1;
	}
	p3 = port(b3);
	wait_tw(p3);
	if (setreuse(b3, 0)) {
		fail("SO_REUSEADDR off");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		setreuse(l2, 1);
	if (port(l1) != p1 || port(l2) != p2 || port(b3) != p3)
		fail("ports %d %d %d, want %d %d %d", port(l1), port(l2), port(b3), p1, p2, p3);
	if (getint(l1, SOL_SOCKET, SO_REUSEADDR) != 1 || getint(l2, SOL_SOCKET, SO_REUSEADDR) != 0 ||
	    getint(b3, SOL_SOCKET, SO_REUSEADDR) != 0)
		fail("SO_REUSEADDR %d %d %d, want 1 0 0", getint(l1, SOL_SOCKET, SO_REUSEADDR),
		     getint(l2, SOL_SOCKET, SO_REUSEADDR), getint(b3, SOL_SOCKET, SO_REUSEADDR));
	if (getint(l1, SOL_SOCKET, SO_ACCEPTCONN) != 1 || getint(l2, SOL_SOCKET, SO_ACCEPTCONN) != 1 ||
	    getint(b3, SOL_SOCKET, SO_ACCEPTCONN) != 0)
		fail("SO_ACCEPTCONN changed");
	accepts(l1, "first listener");
	accepts(l2, "second listener");
	pass();
	return test_exit();
}
