/*
 * epoll00: an epoll instance keeps its watches across C/R: events masks,
 * user data, edge-triggered mode and readiness. It watches an eventfd for
 * input, edge-triggered (ready), an empty eventfd for input (not ready)
 * and a third for output (ready), whose watch was removed and added again
 * with new data before the checkpoint.
 */
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "zdtmtst.h"

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event e = { .events = events, .data.u64 = data };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

int main(int argc, char **argv)
{
	struct epoll_event got[8];
	int ep, ev, idle, out, n, seen_ev = 0, seen_w = 0;
	uint64_t one = 1;

	test_init(argc, argv);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev = eventfd(0, EFD_NONBLOCK);
	idle = eventfd(0, EFD_NONBLOCK);
	out = eventfd(0, EFD_NONBLOCK);
	if (ep < 0 || ev < 0 || idle < 0 || out < 0) {
		fail("setup");
		return 1;
	}
	if (add(ep, ev, EPOLLIN | EPOLLET, 0x1122334455667788ULL) ||
	    add(ep, idle, EPOLLIN, 0xaaaa) || add(ep, out, EPOLLOUT, 0xbbbb) ||
	    epoll_ctl(ep, EPOLL_CTL_DEL, out, NULL) || add(ep, out, EPOLLOUT, 0xcccc)) {
		fail("epoll_ctl");
		return 1;
	}
	write(ev, &one, 8);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		epoll_ctl(ep, EPOLL_CTL_DEL, ev, NULL);
	n = epoll_wait(ep, got, 8, 0);
	for (int i = 0; i < n; i++) {
		if (got[i].data.u64 == 0x1122334455667788ULL && (got[i].events & EPOLLIN))
			seen_ev++;
		else if (got[i].data.u64 == 0xcccc && (got[i].events & EPOLLOUT))
			seen_w++;
		else
			fail("unexpected event %#x data %#llx", got[i].events, (unsigned long long)got[i].data.u64);
	}
	if (seen_ev != 1 || seen_w != 1)
		fail("got %d events: input eventfd seen %d, output eventfd seen %d, want 1 and 1", n, seen_ev, seen_w);
	/* Edge-triggered: no new edge, no new event for the eventfd. */
	n = epoll_wait(ep, got, 8, 0);
	for (int i = 0; i < n; i++)
		if (got[i].data.u64 == 0x1122334455667788ULL)
			fail("edge-triggered eventfd reported twice");
	pass();
	return test_exit();
}
