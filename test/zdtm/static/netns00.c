/*
 * netns00: a private network namespace survives C/R: it still is not the
 * namespace the test started in, its only interface is the loopback,
 * which is up with 127.0.0.1, and it works: after restore the init and
 * its child A exchange a datagram over 127.0.0.1 (the sockets are made
 * after restore: sockets are not this test's subject). Sabotage takes the
 * loopback down.
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

#include "nsutil.h"

#define PORT 7337

static int lo_flags(int set, short flags)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (s < 0)
		return -1;
	r = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (!r && set) {
		ifr.ifr_flags = flags;
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	if (!r && !set) {
		r = ifr.ifr_flags;
		if (!ioctl(s, SIOCGIFADDR, &ifr) &&
		    ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr != htonl(INADDR_LOOPBACK))
			r = -1;
	}
	close(s);
	return r;
}

static void check(const char *who)
{
	struct if_nameindex *ifs = if_nameindex();
	int n = 0, fl = lo_flags(0, 0);

	for (struct if_nameindex *i = ifs; i && i->if_index; i++)
		n++;
	if (!ifs || n != 1 || strcmp(ifs[0].if_name, "lo"))
		fail("%s: %d interfaces, want the loopback alone", who, n);
	if (ifs)
		if_freenameindex(ifs);
	if (fl < 0 || !(fl & IFF_UP))
		fail("%s: lo flags %#x, want it up with 127.0.0.1", who, fl);
}

static int child(void *arg)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int s;

	(void)arg;
	test_daemon();
	test_waitsig();
	check("A");
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || sendto(s, "ping", 4, 0, (struct sockaddr *)&to, sizeof(to)) != 4)
		fail("A: send over the loopback");
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	char start_ns[64], ns[64], buf[8];
	ssize_t n;
	int s;

	test_init(argc, argv);
	n = readlink("/proc/self/ns/net", start_ns, sizeof(start_ns) - 1);
	if (n < 0 || unshare(CLONE_NEWNET) || lo_flags(1, IFF_UP)) {
		fail("make the network namespace");
		return 1;
	}
	start_ns[n] = 0;
	if (test_spawn(child, NULL) < 0)
		return 1;

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		lo_flags(1, 0);
	n = readlink("/proc/self/ns/net", ns, sizeof(ns) - 1);
	if (n < 0 || (ns[n] = 0, !strcmp(ns, start_ns)))
		fail("the network namespace is the one the test started in");
	check("init");
	at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&at, sizeof(at)))
		fail("bind 127.0.0.1:%d", PORT);
	test_stop_children();
	if (s >= 0 && (recv(s, buf, sizeof(buf), MSG_DONTWAIT) != 4 || memcmp(buf, "ping", 4)))
		fail("A's datagram did not come through the loopback");
	pass();
	return test_exit();
}
