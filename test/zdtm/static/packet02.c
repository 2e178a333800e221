/*
 * packet02: two packet sockets in a fanout group (PACKET_FANOUT, load
 * balancing with PACKET_FANOUT_FLAG_DEFRAG), in a network namespace of the
 * test's own. After restore both are in the group with its id, mode and
 * flags; a third socket joins it with the same mode and flags but not with
 * another mode (so the group is there, as it was); a datagram sent to
 * 127.0.0.1 reaches one of the two. Sabotage puts a socket in no group at
 * the second one's fd.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

#define GROUP 0x77
#define FANOUT (GROUP | (PACKET_FANOUT_LB | PACKET_FANOUT_FLAG_DEFRAG) << 16)

static int lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s = socket(AF_INET, SOCK_DGRAM, 0), ret;

	if (s < 0)
		return -1;
	ret = ioctl(s, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (!ret)
		ret = ioctl(s, SIOCSIFFLAGS, &ifr);
	close(s);
	return ret;
}

/* member makes a socket bound to lo for IPv4 and puts it in the group
 * with fanout value v; -1 on error */
static int member(int ifindex, int v)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = ifindex };
	int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));

	/* a group takes running sockets only: bound, for a protocol */
	if (s < 0 || bind(s, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(s, SOL_PACKET, PACKET_FANOUT, &v, sizeof(v))) {
		if (s >= 0)
			close(s);
		return -1;
	}
	return s;
}

int main(int argc, char **argv)
{
	struct sockaddr_in lo4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(9) };
	struct pollfd p[2];
	int s[2], t, v, lo, u;
	socklen_t l;

	test_init(argc, argv);
	if (unshare(CLONE_NEWNET) || lo_up()) {
		fail("make the network namespace");
		return 1;
	}
	lo = if_nametoindex("lo");
	s[0] = member(lo, FANOUT);
	s[1] = member(lo, FANOUT);
	if (s[0] < 0 || s[1] < 0) {
		fail("make the group");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		t = socket(AF_PACKET, SOCK_RAW, 0);
		dup2(t, s[1]);
		close(t);
	}
	for (int i = 0; i < 2; i++) {
		l = sizeof(v);
		v = 0;
		if (getsockopt(s[i], SOL_PACKET, PACKET_FANOUT, &v, &l) || v != FANOUT)
			fail("socket %d: PACKET_FANOUT %#x, want %#x", i, v, FANOUT);
	}
	t = member(lo, GROUP | PACKET_FANOUT_HASH << 16);
	if (t >= 0 || errno != EINVAL)
		fail("a socket joined the group in another mode");
	if (t >= 0)
		close(t);
	t = member(lo, FANOUT);
	if (t < 0)
		fail("a third socket could not join the group");
	else
		close(t);

	u = socket(AF_INET, SOCK_DGRAM, 0);
	if (u < 0 || sendto(u, "packet02", 8, 0, (struct sockaddr *)&lo4, sizeof(lo4)) != 8)
		fail("send a datagram");
	p[0] = (struct pollfd){ .fd = s[0], .events = POLLIN };
	p[1] = (struct pollfd){ .fd = s[1], .events = POLLIN };
	if (poll(p, 2, 5000) < 1)
		fail("the datagram reached no member of the group");
	pass();
	return test_exit();
}
