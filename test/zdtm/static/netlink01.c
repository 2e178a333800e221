/*
 * netlink01: a netlink socket with a message queued for reading (the
 * kernel's answer to RTM_GETLINK, not read yet). Restore could not queue it
 * again, so the checkpoint must be refused, naming it (.desc crfail), and
 * the process carries on untouched: the answer is still there, addressed
 * to the socket's port id. Sabotage reads it first.
 */
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 9 },
		.i = { .ifi_family = AF_UNSPEC, .ifi_index = 1 },
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK }, self;
	socklen_t l = sizeof(self);
	char buf[8192];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	int s;

	test_init(argc, argv);
	s = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (s < 0 || sendto(s, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) != sizeof(req) ||
	    getsockname(s, (struct sockaddr *)&self, &l)) {
		fail("ask the kernel for the loopback");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		recv(s, buf, sizeof(buf), MSG_DONTWAIT);
	if (recv(s, buf, sizeof(buf), MSG_DONTWAIT) < (ssize_t)sizeof(*h))
		fail("the queued answer is gone");
	else if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_seq != 9 || h->nlmsg_pid != self.nl_pid)
		fail("the queued answer changed: type %d seq %u port id %u", h->nlmsg_type, h->nlmsg_seq, h->nlmsg_pid);
	pass();
	return test_exit();
}
