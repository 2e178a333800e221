/*
 * unix_listen_queue00: connections waiting in a listener's backlog are
 * still there after C/R, in order, and can be accepted. The init listens
 * on a path; its child A connects three times: the first connection is
 * accepted (with data queued both ways), the second (whose end A bound to
 * a path of its own) and the third wait in the backlog. After restore the
 * init accepts exactly two more connections, the bound one first, with
 * the peer credentials of A, and data goes through all three. Sabotage
 * accepts one waiting connection before the checks.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "unixutil.h"

static char *path, *cpath;

static struct sockaddr_un sun(const char *p, socklen_t *len)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	strncpy(a.sun_path, p, sizeof(a.sun_path) - 1);
	*len = offsetof(struct sockaddr_un, sun_path) + strlen(p) + 1;
	return a;
}

static int child(void *arg)
{
	socklen_t l, cl;
	struct sockaddr_un a = sun(path, &l), ca = sun(cpath, &cl);
	int c[3], i;

	(void)arg;
	for (i = 0; i < 3; i++) {
		c[i] = socket(AF_UNIX, SOCK_STREAM, 0);
		if (c[i] < 0 || (i == 1 && bind(c[i], (struct sockaddr *)&ca, cl)) || connect(c[i], (struct sockaddr *)&a, l)) {
			fail("A: connection %d", i);
			return 1;
		}
	}
	if (write_full(c[0], "ready", 5) != 5)
		fail("A: write");
	test_daemon();
	test_waitsig();
	expect_data("A: queued on the accepted connection", c[0], "hello", 5);
	for (i = 0; i < 3; i++) {
		expect_peer_pid("A: a connection", c[i], 1);
		expect_name("A: a connection's peer", c[i], 1, path, strlen(path));
		if (write_full(c[i], "abc" + i, 1) != 1)
			fail("A: write on connection %d after restore", i);
	}
	expect_name("A: the bound connection", c[1], 0, cpath, strlen(cpath));
	return 0;
}

int main(int argc, char **argv)
{
	socklen_t len;
	struct sockaddr_un a;
	int l, s[3], i;
	pid_t pa;
	char buf[8];

	test_init(argc, argv);
	path = test_path("listen.sock");
	cpath = test_path("client.sock");
	a = sun(path, &len);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, len) || listen(l, 4)) {
		fail("listen");
		return 1;
	}
	pa = test_spawn(child, NULL);
	if (pa < 0)
		return 1;
	s[0] = accept(l, NULL, NULL);
	/* A writes once all three are connected. */
	if (s[0] < 0 || write_full(s[0], "hello", 5) != 5 || recv(s[0], buf, 5, MSG_PEEK | MSG_WAITALL) != 5) {
		fail("accept the first connection");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		close(accept(l, NULL, NULL));
	expect_data("the accepted connection", s[0], "ready", 5);
	if (fcntl(l, F_SETFL, O_NONBLOCK))
		fail("O_NONBLOCK");
	for (i = 1; i < 3; i++) {
		s[i] = accept(l, NULL, NULL);
		if (s[i] < 0) {
			fail("accept waiting connection %d", i);
			return test_exit();
		}
		expect_peer_pid("a waiting connection", s[i], pa);
	}
	if (accept(l, NULL, NULL) >= 0)
		fail("a third connection was waiting");
	expect_name("the first waiting connection's peer", s[1], 1, cpath, strlen(cpath));
	expect_name("the second waiting connection's peer", s[2], 1, "", 0);
	test_stop_children();
	for (i = 0; i < 3; i++)
		expect_data("data after restore", s[i], "abc" + i, 1);
	pass();
	return test_exit();
}
