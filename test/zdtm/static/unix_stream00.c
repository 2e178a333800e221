/*
 * unix_stream00: unix stream sockets keep their connections, names,
 * queued data, peer credentials, options and shutdown state across C/R.
 * The init (pid 1) makes a socketpair and gives one end to its child A,
 * with 100000 bytes queued one way and 3000 the other; it listens on a
 * path, and its child B connects (B's connection is accepted, with 5000
 * bytes queued towards the init's end, which is O_NONBLOCK, and 7000 the
 * other way; B's end has a receive timeout); a second socketpair has 500
 * bytes queued and its writer shut down. After restore each end reads
 * exactly what was queued, the names and SO_PEERCRED are the same, data
 * still goes both ways, the listener takes a new connection from B, and
 * the shut-down pair reads EOF after its data. Sabotage consumes one byte
 * queued on the shut-down pair.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "unixutil.h"

#define PAIR_DOWN 100000
#define PAIR_UP 3000
#define CONN_UP 5000
#define CONN_DOWN 7000
#define SHUT_LEN 500

static int sp[2], sh[2];
static char *path;
static struct sockaddr_un addr;
static socklen_t addrlen;
static uint8_t pair_down[PAIR_DOWN], pair_up[PAIR_UP], conn_up[CONN_UP], conn_down[CONN_DOWN], shut_data[SHUT_LEN];

static void gen(void)
{
	uint32_t c1 = 1, c2 = 2, c3 = 3, c4 = 4, c5 = 5;

	datagen(pair_down, PAIR_DOWN, &c1);
	datagen(pair_up, PAIR_UP, &c2);
	datagen(conn_up, CONN_UP, &c3);
	datagen(conn_down, CONN_DOWN, &c4);
	datagen(shut_data, SHUT_LEN, &c5);
}

static int child_a(void *arg)
{
	(void)arg;
	close(sp[0]);
	if (write_full(sp[1], pair_up, PAIR_UP) != PAIR_UP) {
		fail("A: write");
		return 1;
	}
	test_daemon();
	test_waitsig();
	expect_peer_pid("A: the socketpair", sp[1], 1);
	expect_data("A: queued on the socketpair", sp[1], pair_down, PAIR_DOWN);
	expect_data("A: the socketpair after restore", sp[1], "down", 4);
	if (write_full(sp[1], "up", 2) != 2)
		fail("A: write after restore");
	return 0;
}

static int child_b(void *arg)
{
	struct timeval tv = { .tv_sec = 42 }, got;
	socklen_t l = sizeof(got);
	int c, c2;

	(void)arg;
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&addr, addrlen) ||
	    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    write_full(c, conn_up, CONN_UP) != CONN_UP) {
		fail("B: connect and write");
		return 1;
	}
	test_daemon();
	test_waitsig();
	expect_peer_pid("B: its connection", c, 1);
	expect_name("B: its connection", c, 0, "", 0);
	expect_name("B: its connection", c, 1, path, strlen(path));
	if (getsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &got, &l) || got.tv_sec != 42)
		fail("B: SO_RCVTIMEO lost");
	expect_data("B: queued on its connection", c, conn_down, CONN_DOWN);
	if (write_full(c, "more", 4) != 4)
		fail("B: write after restore");
	c2 = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c2 < 0 || connect(c2, (struct sockaddr *)&addr, addrlen) || write_full(c2, "new", 3) != 3)
		fail("B: a new connection after restore");
	return 0;
}

int main(int argc, char **argv)
{
	int l, s;
	pid_t b;
	uint8_t c;
	char buf[8];

	test_init(argc, argv);
	gen();
	path = test_path("srv.sock");
	addr.sun_family = AF_UNIX;
	strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
	addrlen = offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) || socketpair(AF_UNIX, SOCK_STREAM, 0, sh)) {
		fail("socketpair");
		return 1;
	}
	if (write_full(sp[0], pair_down, PAIR_DOWN) != PAIR_DOWN || write_full(sh[0], shut_data, SHUT_LEN) != SHUT_LEN ||
	    shutdown(sh[0], SHUT_WR)) {
		fail("fill the socketpairs");
		return 1;
	}
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&addr, addrlen) || listen(l, 5)) {
		fail("listen on %s", path);
		return 1;
	}
	if (test_spawn(child_a, NULL) < 0)
		return 1;
	close(sp[1]);
	b = test_spawn(child_b, NULL);
	if (b < 0)
		return 1;
	s = accept(l, NULL, NULL);
	if (s < 0 || write_full(s, conn_down, CONN_DOWN) != CONN_DOWN) {
		fail("accept and write");
		return 1;
	}
	/* Wait for B's data to be queued, then leave the end non-blocking. */
	if (recv(s, &c, 1, MSG_PEEK) != 1 || fcntl(s, F_SETFL, O_NONBLOCK)) {
		fail("peek");
		return 1;
	}

	test_daemon();
	test_waitsig();

	/* The shut-down pair ends in EOF: a byte short is seen, not waited for. */
	if (test_sabotage() && read(sh[1], &c, 1) != 1)
		fail("sabotage");
	expect_peer_pid("the socketpair", sp[0], 1);
	expect_peer_pid("the accepted connection", s, b);
	expect_name("the listener", l, 0, path, strlen(path));
	expect_name("the accepted connection", s, 0, path, strlen(path));
	if (!(fcntl(s, F_GETFL) & O_NONBLOCK))
		fail("the accepted connection lost O_NONBLOCK");
	fcntl(s, F_SETFL, 0);
	expect_data("queued on the socketpair", sp[0], pair_up, PAIR_UP);
	expect_data("queued on the accepted connection", s, conn_up, CONN_UP);
	expect_data("queued on the shut-down socketpair", sh[1], shut_data, SHUT_LEN);
	if (read(sh[1], buf, sizeof(buf)) != 0)
		fail("the shut-down socketpair: no EOF after its data");
	signal(SIGPIPE, SIG_IGN);
	if (write(sh[0], "x", 1) != -1 || errno != EPIPE)
		fail("the shut-down end can still write");
	if (write_full(sp[0], "down", 4) != 4)
		fail("write on the socketpair after restore");
	test_stop_children();
	expect_data("the socketpair after restore", sp[0], "up", 2);
	expect_data("the accepted connection after restore", s, "more", 4);
	s = accept(l, NULL, NULL);
	if (s < 0)
		fail("accept after restore");
	else
		expect_data("a new connection after restore", s, "new", 3);
	pass();
	return test_exit();
}
