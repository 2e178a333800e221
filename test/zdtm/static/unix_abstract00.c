/*
 * unix_abstract00: sockets bound to abstract names keep them across C/R.
 * The init listens on an abstract name and accepts a connection from its
 * child A, whose end is bound to an abstract name of its own, with data
 * queued both ways; the init's datagram socket D, bound to a third
 * abstract name, holds two datagrams from A's socket E, bound to a
 * fourth. After restore every socket has its name, the connection its
 * peer's, the datagrams their sender's; the listener takes a new
 * connection and D a new datagram. Sabotage takes one of D's datagrams.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "unixutil.h"

/* Abstract names: a NUL, then text unique to this run. */
static char names[4][100];
static size_t lens[4];
enum { LISTENER, CLIENT, DGRAM, SENDER };

static struct sockaddr_un sun(int i, socklen_t *len)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	memcpy(a.sun_path, names[i], lens[i]);
	*len = offsetof(struct sockaddr_un, sun_path) + lens[i];
	return a;
}

static int bound(int type, int i)
{
	socklen_t l;
	struct sockaddr_un a = sun(i, &l);
	int s = socket(AF_UNIX, type, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&a, l)) {
		fail("bind to @%s", names[i] + 1);
		return -1;
	}
	return s;
}

static int child(void *arg)
{
	socklen_t l;
	struct sockaddr_un la = sun(LISTENER, &l), da;
	int c, e, c2;

	(void)arg;
	c = bound(SOCK_STREAM, CLIENT);
	e = bound(SOCK_DGRAM, SENDER);
	if (c < 0 || e < 0 || connect(c, (struct sockaddr *)&la, l))
		return 1;
	/* The datagrams go first: once the init has the stream data, they
	 * are queued. */
	da = sun(DGRAM, &l);
	if (sendto(e, "d1", 2, 0, (struct sockaddr *)&da, l) != 2 || sendto(e, "d22", 3, 0, (struct sockaddr *)&da, l) != 3)
		fail("A: sendto D");
	if (write_full(c, "client", 6) != 6)
		return 1;
	test_daemon();
	test_waitsig();
	expect_name("A: its connection", c, 0, names[CLIENT], lens[CLIENT]);
	expect_name("A: its connection's peer", c, 1, names[LISTENER], lens[LISTENER]);
	expect_name("A: E", e, 0, names[SENDER], lens[SENDER]);
	expect_data("A: queued on its connection", c, "server", 6);
	if (sendto(e, "d333", 4, 0, (struct sockaddr *)&da, l) != 4)
		fail("A: sendto D after restore");
	la = sun(LISTENER, &l);
	c2 = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c2 < 0 || connect(c2, (struct sockaddr *)&la, l) || write_full(c2, "new", 3) != 3)
		fail("A: connect after restore");
	return 0;
}

int main(int argc, char **argv)
{
	const char *tags[4] = { "listener", "client", "dgram", "sender" };
	int l, s, d, i;
	char buf[8];

	test_init(argc, argv);
	for (i = 0; i < 4; i++) {
		snprintf(names[i] + 1, sizeof(names[i]) - 1, "ckpt-zdtm-%s-%s", tags[i], test_dir());
		lens[i] = 1 + strlen(names[i] + 1);
		if (lens[i] > 100)
			lens[i] = 100;
	}
	l = bound(SOCK_STREAM, LISTENER);
	d = bound(SOCK_DGRAM, DGRAM);
	if (l < 0 || d < 0 || listen(l, 4))
		return 1;
	if (test_spawn(child, NULL) < 0)
		return 1;
	s = accept(l, NULL, NULL);
	if (s < 0 || write_full(s, "server", 6) != 6) {
		fail("accept");
		return 1;
	}
	/* Wait for A's data, sent after its datagrams. */
	if (recv(s, buf, 6, MSG_PEEK | MSG_WAITALL) != 6)
		fail("wait for A");

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		recv(d, buf, sizeof(buf), MSG_DONTWAIT);
	expect_name("the listener", l, 0, names[LISTENER], lens[LISTENER]);
	expect_name("the accepted connection", s, 0, names[LISTENER], lens[LISTENER]);
	expect_name("the accepted connection's peer", s, 1, names[CLIENT], lens[CLIENT]);
	expect_name("D", d, 0, names[DGRAM], lens[DGRAM]);
	expect_msg("D: first datagram", d, "d1", 2, names[SENDER], lens[SENDER]);
	expect_msg("D: second datagram", d, "d22", 3, names[SENDER], lens[SENDER]);
	expect_data("queued on the accepted connection", s, "client", 6);
	test_stop_children();
	expect_msg("D: a datagram after restore", d, "d333", 4, names[SENDER], lens[SENDER]);
	s = accept(l, NULL, NULL);
	if (s < 0)
		fail("accept after restore");
	else
		expect_data("a connection after restore", s, "new", 3);
	pass();
	return test_exit();
}
