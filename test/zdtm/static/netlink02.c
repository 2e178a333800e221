/*
 * netlink02: a netlink socket with a classic BPF filter attached
 * (SO_ATTACH_FILTER). Restore does not attach filters, so the checkpoint
 * must be refused, naming it (.desc crfail), and the process carries on
 * untouched: the filter is still there. Sabotage detaches it.
 */
#include <linux/filter.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

static int filter_len(int s)
{
	socklen_t l = 0;

	if (getsockopt(s, SOL_SOCKET, SO_GET_FILTER, NULL, &l))
		return -1;
	return l;
}

int main(int argc, char **argv)
{
	struct sock_filter accept_all = BPF_STMT(BPF_RET | BPF_K, 0xffff);
	struct sock_fprog prog = { .len = 1, .filter = &accept_all };
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };
	int s;

	test_init(argc, argv);
	s = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) ||
	    setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) || filter_len(s) != 1) {
		fail("attach a filter to a netlink socket");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		int zero = 0;

		setsockopt(s, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof(zero));
	}
	if (filter_len(s) != 1)
		fail("the filter is gone (%d instructions)", filter_len(s));
	pass();
	return test_exit();
}
