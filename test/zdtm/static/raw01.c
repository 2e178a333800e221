/*
 * raw01: a raw socket with a packet queued for reading (one another raw
 * socket sent it over the loopback of the test's own network namespace).
 * Restore could not queue it again, so the checkpoint must be refused,
 * naming it (.desc crfail), and the process carries on untouched: the
 * packet is still there. Sabotage reads it first.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PROTO 253

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
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct pollfd p;
	char buf[128];
	ssize_t n;
	int r, w;

	test_init(argc, argv);
	if (unshare(CLONE_NEWNET) || lo_up()) {
		fail("make the network namespace");
		return 1;
	}
	r = socket(AF_INET, SOCK_RAW, PROTO);
	w = socket(AF_INET, SOCK_RAW, PROTO);
	if (r < 0 || w < 0 || sendto(w, "raw01", 5, 0, (struct sockaddr *)&lo, sizeof(lo)) != 5) {
		fail("queue a packet");
		return 1;
	}
	close(w); /* it got its own packet too */
	p = (struct pollfd){ .fd = r, .events = POLLIN };
	if (poll(&p, 1, 5000) != 1) {
		fail("the packet did not arrive");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		recv(r, buf, sizeof(buf), MSG_DONTWAIT);
	n = recv(r, buf, sizeof(buf), MSG_DONTWAIT);
	if (n != (ssize_t)sizeof(struct iphdr) + 5 || memcmp(buf + sizeof(struct iphdr), "raw01", 5))
		fail("the queued packet is gone (%zd bytes)", n);
	pass();
	return test_exit();
}
