/*
 * unix_seqpacket00: unix seqpacket sockets keep their connections and
 * queued records, with their boundaries, across C/R. The init makes a
 * seqpacket socketpair and gives one end to its child A, with three
 * records queued each way; it listens on a path and accepts a connection
 * from A, with two records queued each way, after which A shuts its end
 * down for writing. After restore each record comes out whole and in
 * order, the accepted end still has the listener's name and reads EOF
 * after its records, and records still go both ways. Sabotage takes one
 * record queued for the init.
 */
#define _GNU_SOURCE
#include <linux/sockios.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "unixutil.h"

static int sp[2];
static char *path;
static struct sockaddr_un addr;
static socklen_t addrlen;
static uint8_t rec[5][4000];
static const size_t len_down[3] = { 4000, 1, 250 }, len_up[3] = { 17, 3999, 2 }, len_conn[2] = { 100, 3000 };

static int child(void *arg)
{
	int c, i;

	(void)arg;
	close(sp[0]);
	for (i = 0; i < 3; i++)
		if (send(sp[1], rec[1], len_up[i], 0) != (ssize_t)len_up[i])
			fail("A: send");
	c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&addr, addrlen)) {
		fail("A: connect");
		return 1;
	}
	for (i = 0; i < 2; i++)
		if (send(c, rec[2], len_conn[i], 0) != (ssize_t)len_conn[i])
			fail("A: send on the connection");
	shutdown(c, SHUT_WR);
	test_daemon();
	test_waitsig();
	for (i = 0; i < 3; i++)
		expect_msg("A: queued on the socketpair", sp[1], rec[0], len_down[i], NULL, -1);
	for (i = 0; i < 2; i++)
		expect_msg("A: queued on the connection", c, rec[3], len_conn[i], NULL, -1);
	expect_name("A: the connection's peer", c, 1, path, strlen(path));
	if (send(sp[1], "up", 2, 0) != 2)
		fail("A: send after restore");
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t crc = 3;
	int l, s, i;
	char buf[8];

	test_init(argc, argv);
	datagen(rec, sizeof(rec), &crc);
	path = test_path("seq.sock");
	addr.sun_family = AF_UNIX;
	strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
	addrlen = offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
	l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) || l < 0 || bind(l, (struct sockaddr *)&addr, addrlen) || listen(l, 3)) {
		fail("sockets");
		return 1;
	}
	for (i = 0; i < 3; i++)
		if (send(sp[0], rec[0], len_down[i], 0) != (ssize_t)len_down[i])
			fail("send");
	if (test_spawn(child, NULL) < 0)
		return 1;
	close(sp[1]);
	s = accept(l, NULL, NULL);
	if (s < 0) {
		fail("accept");
		return 1;
	}
	for (i = 0; i < 2; i++)
		if (send(s, rec[3], len_conn[i], 0) != (ssize_t)len_conn[i])
			fail("send on the connection");
	/* Wait until every record of A's is queued. */
	for (;;) {
		int q1 = 0, q2 = 0;

		if (ioctl(s, SIOCINQ, &q1) || ioctl(sp[0], SIOCINQ, &q2)) {
			fail("SIOCINQ");
			return 1;
		}
		if (q1 == (int)(len_conn[0] + len_conn[1]) && q2 == (int)(len_up[0] + len_up[1] + len_up[2]))
			break;
		usleep(1000);
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		recv(sp[0], buf, sizeof(buf), MSG_DONTWAIT);
	for (i = 0; i < 3; i++)
		expect_msg("queued on the socketpair", sp[0], rec[1], len_up[i], NULL, -1);
	for (i = 0; i < 2; i++)
		expect_msg("queued on the connection", s, rec[2], len_conn[i], NULL, -1);
	if (recv(s, buf, sizeof(buf), MSG_DONTWAIT) != 0)
		fail("the connection: no EOF after A's records");
	expect_name("the accepted connection", s, 0, path, strlen(path));
	test_stop_children();
	expect_msg("the socketpair after restore", sp[0], "up", 2, NULL, -1);
	pass();
	return test_exit();
}
