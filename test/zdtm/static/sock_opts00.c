/*
 * sock_opts00: socket-level state of UDP sockets survives C/R: a classic
 * BPF filter (SO_ATTACH_FILTER) that drops datagrams shorter than 4 bytes,
 * locked with SO_LOCK_FILTER; SO_BINDTODEVICE to the loopback; SO_BUF_LOCK;
 * and shutdown(2) of a connected socket's reading (one socket) and of
 * another's writing. After restore the options read back the same, the
 * filter program is the same and still drops short datagrams, it cannot be
 * detached, a read-shut socket polls POLLRDHUP and reads EOF, and a
 * write-shut one fails with EPIPE without polling readable. A listening TCP
 * socket bound to the loopback device with a filter keeps both and still
 * accepts a connection. Sabotage shuts
 * the write-shut socket's reading too after test_daemon.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif

/* accept a datagram of 4 bytes or more, whole; drop shorter ones (the
 * filter sees the UDP header, 8 bytes, before the data) */
static struct sock_filter prog[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 8 + 4, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};
#define PROG_LEN (sizeof(prog) / sizeof(prog[0]))

static int getint(int fd, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, name, &v, &l))
		return -1;
	return v;
}

static int udp(struct sockaddr_in *a)
{
	socklen_t l = sizeof(*a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	a->sin_family = AF_INET;
	a->sin_port = 0;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof(*a)) || getsockname(fd, (struct sockaddr *)a, &l))
		return -1;
	return fd;
}

int main(int argc, char **argv)
{
	struct sock_fprog fp = {PROG_LEN, prog};
	struct sock_filter got[16];
	struct sockaddr_in fa, da, ra, wa, sa;
	int f, dev, rd, wr, snd, tl, tc, ta, one = 1, lock = 1;
	struct sockaddr_in ta_addr;
	char name[IFNAMSIZ] = "", buf[16];
	socklen_t l;
	struct pollfd p;

	test_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	f = udp(&fa);
	dev = udp(&da);
	rd = udp(&ra);
	wr = udp(&wa);
	snd = udp(&sa);
	if (f < 0 || dev < 0 || rd < 0 || wr < 0 || snd < 0) {
		fail("make the sockets");
		return 1;
	}
	if (setsockopt(f, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) ||
	    setsockopt(f, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof(one))) {
		fail("attach and lock the filter");
		return 1;
	}
	if (setsockopt(dev, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) ||
	    setsockopt(dev, SOL_SOCKET, SO_BUF_LOCK, &lock, sizeof(lock))) {
		fail("bind to lo, lock the buffers");
		return 1;
	}
	tl = socket(AF_INET, SOCK_STREAM, 0);
	ta_addr.sin_family = AF_INET;
	ta_addr.sin_port = 0;
	ta_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = sizeof(ta_addr);
	if (tl < 0 || setsockopt(tl, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) ||
	    setsockopt(tl, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) ||
	    bind(tl, (struct sockaddr *)&ta_addr, sizeof(ta_addr)) || listen(tl, 4) ||
	    getsockname(tl, (struct sockaddr *)&ta_addr, &l)) {
		fail("the TCP listener");
		return 1;
	}
	if (connect(rd, (struct sockaddr *)&sa, sizeof(sa)) || connect(wr, (struct sockaddr *)&sa, sizeof(sa)) ||
	    shutdown(rd, SHUT_RD) || shutdown(wr, SHUT_WR)) {
		fail("connect and shut down");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		shutdown(wr, SHUT_RD);
	l = sizeof(got);
	memset(got, 0, sizeof(got));
	if (getsockopt(f, SOL_SOCKET, SO_GET_FILTER, got, &l) || l != PROG_LEN || memcmp(got, prog, sizeof(prog)))
		fail("filter: %u instructions, or a different program", l);
	if (getint(f, SO_LOCK_FILTER) != 1)
		fail("SO_LOCK_FILTER %d, want 1", getint(f, SO_LOCK_FILTER));
	if (setsockopt(f, SOL_SOCKET, SO_DETACH_FILTER, &one, sizeof(one)) == 0 || errno != EPERM)
		fail("the locked filter could be detached");
	if (sendto(snd, "ab", 2, 0, (struct sockaddr *)&fa, sizeof(fa)) != 2 ||
	    sendto(snd, "long", 4, 0, (struct sockaddr *)&fa, sizeof(fa)) != 4)
		fail("send to the filtered socket");
	p.fd = f;
	p.events = POLLIN;
	if (poll(&p, 1, 5000) != 1 || recv(f, buf, sizeof(buf), 0) != 4 || recv(f, buf, sizeof(buf), MSG_DONTWAIT) != -1)
		fail("the filter did not drop the short datagram, or the long one did not pass");
	l = sizeof(name);
	if (getsockopt(dev, SOL_SOCKET, SO_BINDTODEVICE, name, &l) || strcmp(name, "lo"))
		fail("SO_BINDTODEVICE \"%s\", want \"lo\"", name);
	if (getint(dev, SO_BUF_LOCK) != 1)
		fail("SO_BUF_LOCK %d, want 1", getint(dev, SO_BUF_LOCK));
	if (getint(f, SO_BUF_LOCK) != 0)
		fail("SO_BUF_LOCK of an unlocked socket %d, want 0", getint(f, SO_BUF_LOCK));
	p.fd = rd;
	p.events = POLLRDHUP;
	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLRDHUP) || recv(rd, buf, sizeof(buf), 0) != 0)
		fail("the read-shut socket does not poll POLLRDHUP and read EOF");
	if (send(wr, "x", 1, 0) != -1 || errno != EPIPE)
		fail("the write-shut socket can send");
	p.fd = wr;
	p.events = POLLIN | POLLRDHUP;
	if (poll(&p, 1, 0) != 0)
		fail("the write-shut socket polls %#x, want nothing", p.revents);
	l = sizeof(name);
	memset(name, 0, sizeof(name));
	if (getsockopt(tl, SOL_SOCKET, SO_BINDTODEVICE, name, &l) || strcmp(name, "lo"))
		fail("TCP listener: SO_BINDTODEVICE \"%s\", want \"lo\"", name);
	l = sizeof(got);
	if (getsockopt(tl, SOL_SOCKET, SO_GET_FILTER, got, &l) || l != PROG_LEN || memcmp(got, prog, sizeof(prog)))
		fail("TCP listener: filter of %u instructions, or a different program", l);
	tc = socket(AF_INET, SOCK_STREAM, 0);
	if (tc < 0 || connect(tc, (struct sockaddr *)&ta_addr, sizeof(ta_addr)) || (ta = accept(tl, NULL, NULL)) < 0)
		fail("TCP listener: no connection");
	pass();
	return test_exit();
}
