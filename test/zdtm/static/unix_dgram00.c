/*
 * unix_dgram00: unix datagram sockets keep their names, connections and
 * queued messages, with their boundaries and sender addresses, across
 * C/R. The init binds R to a path; its child A sends R two datagrams from
 * an unnamed socket U and one from N, bound to another path. A datagram
 * socketpair between the init and A holds three messages each way. The
 * init's unnamed socket C is connected to N and has sent it two messages.
 * The init's socket G was bound to a path, sent a datagram and its socket
 * file removed; its socket Z is connected to a socket closed since.
 * After restore every message comes out whole, in order, from the same
 * sender address; C is still connected to N; A's sockets still send to R
 * and C to N; G keeps its name and datagram and its file stays removed;
 * Z is still connected (to a closed socket). Sabotage takes one of the
 * messages queued for the init.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "unixutil.h"

static int dp[2], r, c;
static char *rpath, *npath, *gpath;
static uint8_t big[3000], pair[3][700], pair_up[3][900];
static const size_t pair_len[3] = { 1, 700, 33 }, up_len[3] = { 900, 2, 64 };

static struct sockaddr_un sun(const char *path, socklen_t *len)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	strncpy(a.sun_path, path, sizeof(a.sun_path) - 1);
	*len = offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
	return a;
}

static void gen(void)
{
	uint32_t crc = 7;

	datagen(big, sizeof(big), &crc);
	datagen(pair, sizeof(pair), &crc);
	datagen(pair_up, sizeof(pair_up), &crc);
}

static int child(void *arg)
{
	struct sockaddr_un ra, na;
	socklen_t rl, nl;
	int u, n, i;

	(void)arg;
	close(dp[0]);
	ra = sun(rpath, &rl);
	na = sun(npath, &nl);
	u = socket(AF_UNIX, SOCK_DGRAM, 0);
	n = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (u < 0 || n < 0 || bind(n, (struct sockaddr *)&na, nl)) {
		fail("A: sockets");
		return 1;
	}
	if (sendto(u, "unnamed", 7, 0, (struct sockaddr *)&ra, rl) != 7 ||
	    sendto(u, big, sizeof(big), 0, (struct sockaddr *)&ra, rl) != sizeof(big) ||
	    sendto(n, "named", 5, 0, (struct sockaddr *)&ra, rl) != 5) {
		fail("A: send to R");
		return 1;
	}
	for (i = 0; i < 3; i++)
		if (send(dp[1], pair_up[i], up_len[i], 0) != (ssize_t)up_len[i])
			fail("A: send on the socketpair");
	test_daemon();
	test_waitsig();
	for (i = 0; i < 3; i++)
		expect_msg("A: queued on the socketpair", dp[1], pair[i], pair_len[i], "", 0);
	expect_msg("N: queued from C", n, "c1", 2, NULL, -1);
	expect_msg("N: queued from C", n, big, 1000, NULL, -1);
	expect_name("N", n, 0, npath, strlen(npath));
	if (sendto(u, "after", 5, 0, (struct sockaddr *)&ra, rl) != 5 || send(dp[1], "up", 2, 0) != 2)
		fail("A: send after restore");
	if (recv(n, big, sizeof(big), 0) != 5 || memcmp(big, "again", 5))
		fail("N: no message from C after restore");
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un ra, na, ga;
	socklen_t rl, nl, gl;
	char buf[8];
	int i, g, z[2], tmp;

	test_init(argc, argv);
	gen();
	rpath = test_path("r.sock");
	npath = test_path("n.sock");
	gpath = test_path("g.sock");
	ra = sun(rpath, &rl);
	na = sun(npath, &nl);
	ga = sun(gpath, &gl);
	g = socket(AF_UNIX, SOCK_DGRAM, 0);
	tmp = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (g < 0 || tmp < 0 || bind(g, (struct sockaddr *)&ga, gl) || sendto(tmp, "gone", 4, 0, (struct sockaddr *)&ga, gl) != 4 ||
	    close(tmp) || unlink(gpath) || socketpair(AF_UNIX, SOCK_DGRAM, 0, z) || close(z[1])) {
		fail("G and Z");
		return 1;
	}
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, dp)) {
		fail("socketpair");
		return 1;
	}
	r = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (r < 0 || bind(r, (struct sockaddr *)&ra, rl)) {
		fail("bind R");
		return 1;
	}
	for (i = 0; i < 3; i++)
		if (send(dp[0], pair[i], pair_len[i], 0) != (ssize_t)pair_len[i])
			fail("send on the socketpair");
	if (test_spawn(child, NULL) < 0)
		return 1;
	close(dp[1]);
	/* A binds N and sends to R before it sends on the socketpair. */
	if (recv(dp[0], buf, 1, MSG_PEEK) != 1)
		fail("wait for A");
	c = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&na, nl) || send(c, "c1", 2, 0) != 2 || send(c, big, 1000, 0) != 1000) {
		fail("C: connect and send to N");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		recv(dp[0], buf, sizeof(buf), MSG_DONTWAIT);
	expect_name("R", r, 0, rpath, strlen(rpath));
	expect_name("C's peer", c, 1, npath, strlen(npath));
	expect_msg("R: first from U", r, "unnamed", 7, "", 0);
	expect_msg("R: second from U", r, big, sizeof(big), "", 0);
	expect_msg("R: from N", r, "named", 5, npath, strlen(npath));
	for (i = 0; i < 3; i++)
		expect_msg("queued on the socketpair", dp[0], pair_up[i], up_len[i], "", 0);
	expect_name("G", g, 0, gpath, strlen(gpath));
	expect_msg("G", g, "gone", 4, "", 0);
	if (access(gpath, F_OK) == 0 || errno != ENOENT)
		fail("G's socket file is back");
	{
		struct sockaddr_un za;
		socklen_t zl = sizeof(za);

		if (getpeername(z[0], (struct sockaddr *)&za, &zl))
			fail("Z is no longer connected");
	}
	if (send(c, "again", 5, 0) != 5)
		fail("C: send after restore");
	test_stop_children();
	expect_msg("R: from U after restore", r, "after", 5, "", 0);
	expect_msg("the socketpair after restore", dp[0], "up", 2, "", 0);
	pass();
	return test_exit();
}
