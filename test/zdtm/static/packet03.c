/*
 * packet03: a packet socket in a fanout group that a process outside the
 * tree is in too (its own socket, made by the test_outside helper). Restore
 * could only rebuild the tree's part of the group, so the checkpoint must
 * be refused, naming the outside process (.desc crfail), and the socket
 * stays in the group. The sockets listen to ARP on the loopback, which has
 * none, so nothing is queued. Sabotage puts a socket in no group at its fd.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

static int outside = -1, inside = -1, fanout;

static int member(void)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP),
				   .sll_ifindex = if_nametoindex("lo") };
	int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ARP));

	if (s < 0 || bind(s, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(s, SOL_PACKET, PACKET_FANOUT, &fanout, sizeof(fanout)))
		return -1;
	return s;
}

/* runs in the helper outside: its socket and the init's, both in the group
 * (an id of this run's own: group ids are the network namespace's) */
static void group(void)
{
	fanout = (getpid() & 0xffff) | PACKET_FANOUT_HASH << 16;
	outside = member();
	inside = member();
}

int main(int argc, char **argv)
{
	int v = 0, t;
	socklen_t l = sizeof(v);

	test_outside(0, group);
	test_init(argc, argv);
	if (outside < 0 || inside < 0) {
		fail("the helper could not make the group");
		return 1;
	}
	close(outside); /* the helper's own copy stays in the group */

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		t = socket(AF_PACKET, SOCK_RAW, 0);
		dup2(t, inside);
		close(t);
	}
	if (getsockopt(inside, SOL_PACKET, PACKET_FANOUT, &v, &l) || v != fanout)
		fail("PACKET_FANOUT %#x, want %#x", v, fanout);
	pass();
	return test_exit();
}
