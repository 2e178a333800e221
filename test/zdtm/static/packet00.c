/*
 * packet00: packet sockets keep their state across C/R, in a network
 * namespace of the test's own (only its own traffic on its loopback):
 *  - p1, SOCK_RAW made for ETH_P_ALL, bound to "lo" for ETH_P_IP, with
 *    PACKET_VERSION TPACKET_V2, PACKET_AUXDATA, PACKET_ORIGDEV,
 *    PACKET_RESERVE, PACKET_TIMESTAMP, PACKET_QDISC_BYPASS, PACKET_LOSS,
 *    a classic BPF filter (SO_ATTACH_FILTER) passing UDP only, and
 *    memberships of "lo": promiscuous twice, one multicast address;
 *  - p2, SOCK_DGRAM for ETH_P_ARP, not bound, PACKET_IGNORE_OUTGOING.
 * After restore the protocols, interface and options read back the same;
 * a UDP datagram sent to 127.0.0.1 reaches p1 with its PACKET_AUXDATA
 * control message, after a TCP segment the filter dropped; lo is
 * promiscuous (once: the kernel counts a socket's memberships) until both
 * promiscuous memberships are dropped, and the multicast address is held
 * until its membership is.
 * Sabotage turns PACKET_AUXDATA off.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

#define RESERVE 64
#define TSTAMP SOF_TIMESTAMPING_SOFTWARE

/* pass IPv4 packets of protocol UDP (byte 9 of the IP header, which is
 * where a SOCK_RAW packet socket on the loopback sees it after the 14
 * bytes of the Ethernet header) whole; drop the rest */
static struct sock_filter prog[] = {
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 9),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

static const unsigned char mcaddr[ETH_ALEN] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x42 };

static int getint(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, level, name, &v, &l))
		return -1;
	return v;
}

static int setint(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v));
}

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

static int membership(int fd, int op, int ifindex, int type, const unsigned char *addr)
{
	struct packet_mreq mr = { .mr_ifindex = ifindex, .mr_type = type };

	if (addr) {
		mr.mr_alen = ETH_ALEN;
		memcpy(mr.mr_address, addr, ETH_ALEN);
	}
	return setsockopt(fd, SOL_PACKET, op, &mr, sizeof(mr));
}

/* promiscuity asks rtnetlink how many times lo was made promiscuous
 * (IFLA_PROMISCUITY); -1 on error */
static int promiscuity(int ifindex)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = { .h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST },
		  .i = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex } };
	char buf[8192];
	int s = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), ret = -1;
	ssize_t n;

	if (s < 0)
		return -1;
	if (send(s, &req, sizeof(req), 0) == sizeof(req) && (n = recv(s, buf, sizeof(buf), 0)) > 0) {
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		if (NLMSG_OK(h, n) && h->nlmsg_type == RTM_NEWLINK) {
			struct rtattr *a = IFLA_RTA(NLMSG_DATA(h));
			int len = IFLA_PAYLOAD(h);
			for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
				if (a->rta_type == IFLA_PROMISCUITY)
					ret = *(unsigned *)RTA_DATA(a);
		}
	}
	close(s);
	return ret;
}

/* mc_users is how many hold the multicast address on lo, from
 * /proc/self/net/dev_mcast (ifindex name users global address) */
static int mc_users(void)
{
	FILE *f = fopen("/proc/self/net/dev_mcast", "r");
	char name[IFNAMSIZ], addr[64];
	int idx, users, global, ret = 0;

	if (!f)
		return -1;
	while (fscanf(f, "%d %15s %d %d %63s", &idx, name, &users, &global, addr) == 5)
		if (!strcmp(name, "lo") && !strcmp(addr, "01005e000042"))
			ret = users;
	fclose(f);
	return ret;
}

/* check_traffic sends a TCP connection attempt (dropped by the filter)
 * and a UDP datagram to 127.0.0.1: p1 must read the datagram, with its
 * PACKET_AUXDATA */
static void check_traffic(int p1)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(9) };
	unsigned char buf[256], cbuf[256];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct pollfd p = { .fd = p1, .events = POLLIN };
	struct cmsghdr *c;
	int t = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), u = socket(AF_INET, SOCK_DGRAM, 0), aux = 0;
	ssize_t n;

	if (t < 0 || u < 0) {
		fail("make the TCP and UDP sockets");
		return;
	}
	connect(t, (struct sockaddr *)&lo, sizeof(lo)); /* refused: nobody listens */
	if (sendto(u, "packet00", 8, 0, (struct sockaddr *)&lo, sizeof(lo)) != 8) {
		fail("send the UDP datagram");
		return;
	}
	if (poll(&p, 1, 5000) != 1) {
		fail("p1: nothing to read");
		return;
	}
	n = recvmsg(p1, &mh, MSG_DONTWAIT);
	if (n < 14 + 20 + 8 + 8 || buf[14 + 9] != IPPROTO_UDP || memcmp(buf + n - 8, "packet00", 8)) {
		fail("p1: read %zd bytes of IP protocol %d, want the UDP datagram", n, n > 14 + 9 ? buf[14 + 9] : -1);
		return;
	}
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA)
			aux = 1;
	if (!aux)
		fail("p1: no PACKET_AUXDATA with the packet");
	close(t);
	close(u);
}

int main(int argc, char **argv)
{
	struct sock_fprog fprog = { .len = sizeof(prog) / sizeof(prog[0]), .filter = prog };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP) };
	socklen_t l;
	int p1, p2, lo, i;

	test_init(argc, argv);
	if (unshare(CLONE_NEWNET) || lo_up()) {
		fail("make the network namespace");
		return 1;
	}
	lo = if_nametoindex("lo");
	p1 = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	p2 = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ARP));
	if (!lo || p1 < 0 || p2 < 0) {
		fail("make the packet sockets");
		return 1;
	}
	sll.sll_ifindex = lo;
	if (setint(p1, SOL_PACKET, PACKET_VERSION, TPACKET_V2) || setint(p1, SOL_PACKET, PACKET_AUXDATA, 1) ||
	    setint(p1, SOL_PACKET, PACKET_ORIGDEV, 1) || setint(p1, SOL_PACKET, PACKET_RESERVE, RESERVE) ||
	    setint(p1, SOL_PACKET, PACKET_TIMESTAMP, TSTAMP) || setint(p1, SOL_PACKET, PACKET_QDISC_BYPASS, 1) ||
	    setint(p1, SOL_PACKET, PACKET_LOSS, 1) ||
	    setsockopt(p1, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) ||
	    bind(p1, (struct sockaddr *)&sll, sizeof(sll)) ||
	    membership(p1, PACKET_ADD_MEMBERSHIP, lo, PACKET_MR_PROMISC, NULL) ||
	    membership(p1, PACKET_ADD_MEMBERSHIP, lo, PACKET_MR_PROMISC, NULL) ||
	    membership(p1, PACKET_ADD_MEMBERSHIP, lo, PACKET_MR_MULTICAST, mcaddr)) {
		fail("set p1 up");
		return 1;
	}
	if (setint(p2, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)) {
		fail("set p2 up");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		setint(p1, SOL_PACKET, PACKET_AUXDATA, 0);

	memset(&sll, 0, sizeof(sll));
	l = sizeof(sll);
	if (getsockname(p1, (struct sockaddr *)&sll, &l) || sll.sll_ifindex != lo || sll.sll_protocol != htons(ETH_P_IP))
		fail("p1: bound to interface %d protocol %#x, want %d and %#x", sll.sll_ifindex, ntohs(sll.sll_protocol),
		     lo, ETH_P_IP);
	if (getint(p1, SOL_SOCKET, SO_TYPE) != SOCK_RAW)
		fail("p1: type %d", getint(p1, SOL_SOCKET, SO_TYPE));
	if (getint(p1, SOL_PACKET, PACKET_VERSION) != TPACKET_V2 || getint(p1, SOL_PACKET, PACKET_ORIGDEV) != 1 ||
	    getint(p1, SOL_PACKET, PACKET_RESERVE) != RESERVE || getint(p1, SOL_PACKET, PACKET_TIMESTAMP) != TSTAMP ||
	    getint(p1, SOL_PACKET, PACKET_QDISC_BYPASS) != 1 || getint(p1, SOL_PACKET, PACKET_LOSS) != 1 ||
	    getint(p1, SOL_PACKET, PACKET_IGNORE_OUTGOING) != 0)
		fail("p1: packet options changed");
	if (getint(p2, SOL_SOCKET, SO_TYPE) != SOCK_DGRAM || getint(p2, SOL_PACKET, PACKET_IGNORE_OUTGOING) != 1 ||
	    getint(p2, SOL_PACKET, PACKET_AUXDATA) != 0)
		fail("p2: type or options changed");
	memset(&sll, 0, sizeof(sll));
	l = sizeof(sll);
	if (getsockname(p2, (struct sockaddr *)&sll, &l) || sll.sll_ifindex != 0 || sll.sll_protocol != htons(ETH_P_ARP))
		fail("p2: bound to interface %d protocol %#x, want none and %#x", sll.sll_ifindex, ntohs(sll.sll_protocol),
		     ETH_P_ARP);

	check_traffic(p1);

	/* the kernel counts the memberships of a socket, and makes the
	 * interface promiscuous once per socket */
	if ((i = promiscuity(lo)) != 1)
		fail("lo: promiscuity %d, want 1", i);
	if ((i = mc_users()) != 1)
		fail("lo: the multicast address has %d users, want 1", i);
	if (membership(p1, PACKET_DROP_MEMBERSHIP, lo, PACKET_MR_PROMISC, NULL) || (i = promiscuity(lo)) != 1)
		fail("lo: promiscuity %d after dropping one of two memberships, want 1", i);
	if (membership(p1, PACKET_DROP_MEMBERSHIP, lo, PACKET_MR_PROMISC, NULL) || (i = promiscuity(lo)) != 0)
		fail("lo: promiscuity %d after dropping both memberships, want 0", i);
	if (membership(p1, PACKET_DROP_MEMBERSHIP, lo, PACKET_MR_MULTICAST, mcaddr) || (i = mc_users()) != 0)
		fail("lo: the multicast address has %d users after the drop, want 0", i);
	pass();
	return test_exit();
}
