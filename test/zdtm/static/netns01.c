/*
 * netns01: a private network namespace whose loopback has an address of
 * its own beyond the defaults (10.7.7.7 on the alias lo:1). Only a bare
 * loopback is supported yet: a checkpoint must refuse, naming the address,
 * and leave the namespace as it was. Sabotage changes the address.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

#define ADDR "10.7.7.7"

/* lo_ioctl runs one interface ioctl on name, with addr as the address
 * (SIOCSIFADDR) or into addr (SIOCGIFADDR); flags for SIOCSIFFLAGS. */
static int lo_ioctl(const char *name, unsigned long req, struct in_addr *addr, short flags)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (s < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, name);
	if (req == SIOCSIFFLAGS) {
		ifr.ifr_flags = flags;
	} else if (req == SIOCSIFADDR) {
		sin->sin_family = AF_INET;
		sin->sin_addr = *addr;
	}
	r = ioctl(s, req, &ifr);
	if (!r && req == SIOCGIFADDR)
		*addr = sin->sin_addr;
	close(s);
	return r;
}

int main(int argc, char **argv)
{
	struct in_addr want, got;

	test_init(argc, argv);
	inet_pton(AF_INET, ADDR, &want);
	if (unshare(CLONE_NEWNET) || lo_ioctl("lo", SIOCSIFFLAGS, NULL, IFF_UP) ||
	    lo_ioctl("lo:1", SIOCSIFADDR, &want, 0)) {
		fail("make the network namespace");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		inet_pton(AF_INET, "10.7.7.8", &got);
		lo_ioctl("lo:1", SIOCSIFADDR, &got, 0);
	}
	if (lo_ioctl("lo:1", SIOCGIFADDR, &got, 0) || got.s_addr != want.s_addr)
		fail("lo:1 lost its address " ADDR);
	pass();
	return test_exit();
}
