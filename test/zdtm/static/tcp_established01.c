/*
 * tcp_established01: a TCP connection to a peer outside the checkpointed
 * tree survives C/R with --tcp-established. The peer is a grandchild the
 * test orphans (its parent exits at once), so it is not in the tree; the
 * test connects to it over 127.0.0.1. The peer writes
 * a greeting, then sends back every byte it gets xor 0x5a. Before the
 * checkpoint the init sends a block and lets the greeting and the echo
 * pile up unread; after restore it reads them to the last byte and does
 * one more round trip on the same connection: the peer never noticed.
 * tcp_established02 is the same program, whose checkpoint without
 * --tcp-established must be refused.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define GREET 5000
#define BLOCK 3000
#define MORE 1000

static struct sockaddr_in peer_addr = { .sin_family = AF_INET };
static int peer_ok;

static unsigned char greet(size_t i)
{
	return (unsigned char)(i * 31 + 7);
}

static unsigned char mine(size_t i)
{
	return (unsigned char)(i * 11 + i / 257);
}

static void peer(int lfd)
{
	unsigned char buf[4096];
	int c = accept(lfd, NULL, NULL);

	close(lfd);
	if (c < 0)
		_exit(1);
	for (size_t i = 0; i < GREET; i++)
		buf[i % sizeof(buf)] = greet(i), (i % sizeof(buf) == sizeof(buf) - 1 || i == GREET - 1) &&
						     write(c, buf, i % sizeof(buf) + 1);
	for (;;) {
		ssize_t n = read(c, buf, sizeof(buf));
		if (n <= 0)
			_exit(n == 0 ? 0 : 1);
		for (ssize_t i = 0; i < n; i++)
			buf[i] ^= 0x5a;
		if (write(c, buf, n) != n)
			_exit(1);
	}
}

/* start_peer forks a child that forks the peer and exits: the peer is
 * then no descendant of the test. Only the peer keeps the listening
 * socket, and only until it accepted. */
static void start_peer(void)
{
	socklen_t l = sizeof(peer_addr);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	peer_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&peer_addr, l) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&peer_addr, &l))
		return;
	pid_t pid = fork();
	if (pid == 0) {
		if (fork() == 0) {
			/* off every fd of the test: the runner waits for its
			 * output pipe's end, the peer must not hold it */
			for (int fd = 0; fd < 1024; fd++)
				if (fd != lfd)
					close(fd);
			open("/dev/null", O_RDONLY);
			open("/dev/null", O_WRONLY);
			open("/dev/null", O_WRONLY);
			/* nor the test's session: restore needs its number */
			setsid();
			signal(SIGTERM, SIG_DFL); /* test_init caught it */
			peer(lfd);
		}
		_exit(0);
	}
	close(lfd);
	peer_ok = pid > 0 && waitpid(pid, NULL, 0) == pid;
}

static int readall(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 10000) != 1)
			return got;
		ssize_t n = read(fd, buf + got, len - got);
		if (n <= 0)
			return got;
		got += n;
	}
	return got;
}

int main(int argc, char **argv)
{
	static unsigned char buf[GREET + BLOCK];
	int fd, avail = 0;

	test_init(argc, argv);
	start_peer();
	if (!peer_ok) {
		fail("the outside helper could not start the peer");
		return 1;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&peer_addr, sizeof(peer_addr))) {
		fail("connect to the peer");
		return 1;
	}
	for (size_t i = 0; i < BLOCK; i++)
		buf[i] = mine(i);
	if (write(fd, buf, BLOCK) != BLOCK) {
		fail("write");
		return 1;
	}
	/* wait until the greeting and the whole echo are queued here, unread */
	for (int i = 0; i < 10000 && avail < GREET + BLOCK; i++) {
		usleep(1000);
		ioctl(fd, FIONREAD, &avail);
	}
	if (avail != GREET + BLOCK) {
		fail("%d bytes arrived, want %d", avail, GREET + BLOCK);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		read(fd, buf, 1);
	/* all of it was queued at checkpoint time, so it is all here now */
	ioctl(fd, FIONREAD, &avail);
	if (avail != GREET + BLOCK) {
		fail("%d bytes queued after restore, want %d", avail, GREET + BLOCK);
	} else if (readall(fd, buf, GREET + BLOCK) != GREET + BLOCK) {
		fail("the queued greeting and echo did not arrive whole");
	} else {
		for (size_t i = 0; i < GREET; i++)
			if (buf[i] != greet(i)) {
				fail("greeting byte %zu is %#x, want %#x", i, buf[i], greet(i));
				break;
			}
		for (size_t i = 0; i < BLOCK; i++)
			if (buf[GREET + i] != (mine(i) ^ 0x5a)) {
				fail("echo byte %zu is %#x, want %#x", i, buf[GREET + i], mine(i) ^ 0x5a);
				break;
			}
	}
	for (size_t i = 0; i < MORE; i++)
		buf[i] = mine(BLOCK + i);
	if (write(fd, buf, MORE) != MORE || readall(fd, buf, MORE) != MORE)
		fail("no round trip with the peer after restore");
	for (size_t i = 0; i < MORE; i++)
		if (buf[i] != (mine(BLOCK + i) ^ 0x5a)) {
			fail("echo after restore: byte %zu is %#x", i, buf[i]);
			break;
		}
	close(fd);
	pass();
	return test_exit();
}
