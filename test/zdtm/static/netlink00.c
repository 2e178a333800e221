/*
 * netlink00: netlink sockets keep their protocol, port id, groups, peer
 * and options across C/R, in a network namespace of the test's own (so no
 * other program's events reach its groups, and its port ids are its own):
 *  - r1, NETLINK_ROUTE, whose port id the kernel chose (bind with port id
 *    0), in group RTNLGRP_LINK by bind and, past the first 32 groups,
 *    RTNLGRP_STATS, with NETLINK_PKTINFO and NETLINK_EXT_ACK;
 *  - r2, NETLINK_ROUTE bound to a port id of the test's choosing, with
 *    NETLINK_NO_ENOBUFS and a receive buffer of its own, connected to r1;
 *  - d, NETLINK_SOCK_DIAG, never bound, with NETLINK_CAP_ACK;
 *  - u, NETLINK_KOBJECT_UEVENT (datagram), in group 2 (libudev's);
 *  - a, NETLINK_AUDIT, never bound, where the kernel has audit.
 * After restore r1 answers RTM_GETLINK with the reply addressed to its
 * port id, and what r2 sends reaches r1 from r2's port id. Sabotage takes
 * r1 out of RTNLGRP_STATS.
 */
#define _GNU_SOURCE
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

#define R2_PORTID 0x12345
#define R2_RCVBUF 65536

static int getint(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, level, name, &v, &l))
		return -1;
	return v;
}

static int name_of(int fd, struct sockaddr_nl *a)
{
	socklen_t l = sizeof(*a);

	memset(a, 0, sizeof(*a));
	return getsockname(fd, (struct sockaddr *)a, &l);
}

/* groups_of reads the group bitmap into g (n words); returns the words set */
static int groups_of(int fd, uint32_t *g, int n)
{
	socklen_t l = n * sizeof(*g);

	memset(g, 0, l);
	if (getsockopt(fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, g, &l))
		return -1;
	return l / sizeof(*g);
}

static int mksock(int type, int proto)
{
	int s = socket(AF_NETLINK, type, proto);

	if (s < 0)
		fail("socket(AF_NETLINK, %d, %d)", type, proto);
	return s;
}

static int on(int fd, int name)
{
	int one = 1;

	return setsockopt(fd, SOL_NETLINK, name, &one, sizeof(one));
}

/* getlink asks r1 for the loopback; the reply must come addressed to
 * portid */
static void getlink(int r1, uint32_t portid)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 7 },
		.i = { .ifi_family = AF_UNSPEC, .ifi_index = 1 },
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char buf[8192];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct pollfd p = { .fd = r1, .events = POLLIN };

	if (sendto(r1, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) != sizeof(req)) {
		fail("RTM_GETLINK: send");
		return;
	}
	if (poll(&p, 1, 5000) != 1 || recv(r1, buf, sizeof(buf), 0) < (ssize_t)sizeof(*h)) {
		fail("RTM_GETLINK: no answer");
		return;
	}
	if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_seq != 7 || h->nlmsg_pid != portid)
		fail("RTM_GETLINK: answer of type %d seq %u to port id %u, want RTM_NEWLINK seq 7 to %u",
		     h->nlmsg_type, h->nlmsg_seq, h->nlmsg_pid, portid);
}

int main(int argc, char **argv)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK }, g;
	uint32_t r1_portid, grp[8];
	int r1, r2, d, u, au, n, stats = RTNLGRP_STATS;

	test_init(argc, argv);
	if (unshare(CLONE_NEWNET)) {
		fail("make the network namespace");
		return 1;
	}
	r1 = mksock(SOCK_RAW, NETLINK_ROUTE);
	r2 = mksock(SOCK_RAW, NETLINK_ROUTE);
	d = mksock(SOCK_RAW, NETLINK_SOCK_DIAG);
	u = mksock(SOCK_DGRAM, NETLINK_KOBJECT_UEVENT);
	au = socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT); /* -1 without audit */
	if (r1 < 0 || r2 < 0 || d < 0 || u < 0)
		return 1;

	a.nl_groups = RTMGRP_LINK;
	if (bind(r1, (struct sockaddr *)&a, sizeof(a)) || name_of(r1, &g) ||
	    setsockopt(r1, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &stats, sizeof(stats)) ||
	    on(r1, NETLINK_PKTINFO) || on(r1, NETLINK_EXT_ACK)) {
		fail("set r1 up");
		return 1;
	}
	r1_portid = g.nl_pid;
	a.nl_pid = R2_PORTID;
	a.nl_groups = 0;
	n = R2_RCVBUF;
	if (setsockopt(r2, SOL_SOCKET, SO_RCVBUF, &n, sizeof(n)) || bind(r2, (struct sockaddr *)&a, sizeof(a)) ||
	    on(r2, NETLINK_NO_ENOBUFS)) {
		fail("set r2 up");
		return 1;
	}
	a.nl_pid = r1_portid;
	if (connect(r2, (struct sockaddr *)&a, sizeof(a))) {
		fail("connect r2 to r1");
		return 1;
	}
	a.nl_pid = 0;
	a.nl_groups = 2;
	if (on(d, NETLINK_CAP_ACK) || bind(u, (struct sockaddr *)&a, sizeof(a))) {
		fail("set d and u up");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		setsockopt(r1, SOL_NETLINK, NETLINK_DROP_MEMBERSHIP, &stats, sizeof(stats));

	struct {
		int fd, type, proto;
		const char *name;
	} socks[] = {
		{ r1, SOCK_RAW, NETLINK_ROUTE, "r1" }, { r2, SOCK_RAW, NETLINK_ROUTE, "r2" },
		{ d, SOCK_RAW, NETLINK_SOCK_DIAG, "d" }, { u, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT, "u" },
		{ au, SOCK_RAW, NETLINK_AUDIT, "a" },
	};
	for (unsigned i = 0; i < sizeof(socks) / sizeof(socks[0]); i++) {
		if (socks[i].fd < 0)
			continue;
		if (getint(socks[i].fd, SOL_SOCKET, SO_DOMAIN) != AF_NETLINK ||
		    getint(socks[i].fd, SOL_SOCKET, SO_TYPE) != socks[i].type ||
		    getint(socks[i].fd, SOL_SOCKET, SO_PROTOCOL) != socks[i].proto)
			fail("%s: family, type or protocol changed", socks[i].name);
	}

	if (name_of(r1, &g) || g.nl_pid != r1_portid || g.nl_groups != RTMGRP_LINK)
		fail("r1: port id %u groups %#x, want %u and %#x", g.nl_pid, g.nl_groups, r1_portid, RTMGRP_LINK);
	n = groups_of(r1, grp, 8);
	if (n < 2 || grp[0] != RTMGRP_LINK || grp[1] != 1u << (RTNLGRP_STATS - 33))
		fail("r1: groups %#x %#x, want %#x %#x", grp[0], grp[1], RTMGRP_LINK, 1u << (RTNLGRP_STATS - 33));
	if (getint(r1, SOL_NETLINK, NETLINK_PKTINFO) != 1 || getint(r1, SOL_NETLINK, NETLINK_EXT_ACK) != 1 ||
	    getint(r1, SOL_NETLINK, NETLINK_NO_ENOBUFS) != 0)
		fail("r1: netlink options lost");

	if (name_of(r2, &g) || g.nl_pid != R2_PORTID || g.nl_groups)
		fail("r2: port id %u groups %#x, want %u and none", g.nl_pid, g.nl_groups, R2_PORTID);
	socklen_t l = sizeof(g);
	if (getpeername(r2, (struct sockaddr *)&g, &l) || g.nl_pid != r1_portid)
		fail("r2: peer %u, want r1's port id %u", g.nl_pid, r1_portid);
	if (getint(r2, SOL_NETLINK, NETLINK_NO_ENOBUFS) != 1 || getint(r2, SOL_NETLINK, NETLINK_PKTINFO) != 0)
		fail("r2: netlink options lost");
	if (getint(r2, SOL_SOCKET, SO_RCVBUF) != 2 * R2_RCVBUF)
		fail("r2: SO_RCVBUF %d, want %d", getint(r2, SOL_SOCKET, SO_RCVBUF), 2 * R2_RCVBUF);

	if (name_of(d, &g) || g.nl_pid != 0 || getint(d, SOL_NETLINK, NETLINK_CAP_ACK) != 1)
		fail("d: port id %u (want none), NETLINK_CAP_ACK lost", g.nl_pid);
	if (name_of(u, &g) || g.nl_groups != 2 || groups_of(u, grp, 8) < 1 || grp[0] != 2)
		fail("u: groups %#x, want group 2", g.nl_groups);
	if (au >= 0 && (name_of(au, &g) || g.nl_pid != 0))
		fail("a: port id %u, want none", g.nl_pid);

	if (!test_failed()) {
		char buf[64];
		struct pollfd p = { .fd = r1, .events = POLLIN };
		ssize_t got;

		getlink(r1, r1_portid);
		l = sizeof(g);
		if (send(r2, "hello", 5, 0) != 5 || poll(&p, 1, 5000) != 1 ||
		    (got = recvfrom(r1, buf, sizeof(buf), 0, (struct sockaddr *)&g, &l)) != 5 || memcmp(buf, "hello", 5))
			fail("r2 to r1: nothing, or not what was sent");
		else if (g.nl_pid != R2_PORTID)
			fail("r2 to r1: came from port id %u, want %u", g.nl_pid, R2_PORTID);
	}
	pass();
	return test_exit();
}
