/*
 * packet02: a packet socket in a fanout group (PACKET_FANOUT, hash mode).
 * Restore does not rebuild fanout groups, so the checkpoint must be
 * refused, naming the group (.desc crfail), and the process carries on
 * untouched: the socket is still in the group, and a second socket can
 * still join it. Sabotage closes the socket.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

#define GROUP 0x77
#define FANOUT (GROUP | PACKET_FANOUT_HASH << 16)

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

int main(int argc, char **argv)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP) };
	int v = FANOUT, s, t;
	socklen_t l = sizeof(v);

	test_init(argc, argv);
	/* a network namespace of its own: only its own traffic reaches it */
	if (unshare(CLONE_NEWNET) || lo_up()) {
		fail("make the network namespace");
		return 1;
	}
	sll.sll_ifindex = if_nametoindex("lo");
	/* a group takes running sockets only: bound, for a protocol */
	s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
	if (s < 0 || bind(s, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(s, SOL_PACKET, PACKET_FANOUT, &v, sizeof(v))) {
		fail("join the fanout group");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		close(s);
	if (getsockopt(s, SOL_PACKET, PACKET_FANOUT, &v, &l) || v != FANOUT)
		fail("PACKET_FANOUT is %#x, want %#x", v, FANOUT);
	t = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
	v = FANOUT;
	if (t < 0 || bind(t, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(t, SOL_PACKET, PACKET_FANOUT, &v, sizeof(v)))
		fail("join the group a second time");
	pass();
	return test_exit();
}
