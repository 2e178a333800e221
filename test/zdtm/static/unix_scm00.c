/*
 * unix_scm00: files in flight (SCM_RIGHTS) and sender credentials
 * (SCM_CREDENTIALS) queued on unix sockets survive C/R. The init's end of
 * a stream socketpair has SO_PASSCRED; its child A sends on it a message
 * carrying the read end of a pipe (with data in the pipe, A keeping the
 * write end) and a regular file moved to offset 4, then closes both.
 * A also sends two datagrams to the init's end of a datagram socketpair
 * with SO_PASSCRED. After restore the init receives the two files, still
 * usable (the pipe's data and more written by A after restore, the file
 * at its offset), and every message has A's pid as its sender. Sabotage
 * takes one of the datagrams.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "unixutil.h"

static int sp[2], dp[2];
static char *fpath;

/* recv_scm receives one message from fd without waiting: len bytes of
 * want, with up to 2 fds (returned in fds) and credentials naming pid. */
static int recv_scm(const char *what, int fd, const char *want, size_t len, int *fds, int nfds, pid_t pid)
{
	char buf[64], cbuf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int gotfds = 0, gotcred = 0;
	ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);

	if (n != (ssize_t)len || memcmp(buf, want, len)) {
		fail("%s: got %zd bytes, want %zu", what, n, len);
		return -1;
	}
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred u;

			memcpy(&u, CMSG_DATA(c), sizeof(u));
			gotcred = 1;
			if (u.pid != pid || u.uid != getuid())
				fail("%s: sender credentials pid %d uid %d, want %d %d", what, u.pid, u.uid, pid, getuid());
		} else if (c->cmsg_type == SCM_RIGHTS) {
			gotfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			if (gotfds <= nfds)
				memcpy(fds, CMSG_DATA(c), gotfds * sizeof(int));
		}
	}
	if (!gotcred)
		fail("%s: no credentials", what);
	if (gotfds != nfds) {
		fail("%s: %d files in flight, want %d", what, gotfds, nfds);
		return -1;
	}
	return 0;
}

static int child(void *arg)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { "files", 5 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	int p[2], f;

	(void)arg;
	close(sp[0]);
	close(dp[0]);
	f = open(fpath, O_RDONLY);
	if (pipe(p) || f < 0 || write(p[1], "in the pipe", 11) != 11 || lseek(f, 4, SEEK_SET) != 4) {
		fail("A: the files");
		return 1;
	}
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(c), (int[]){ p[0], f }, 2 * sizeof(int));
	if (sendmsg(sp[1], &m, 0) != 5 || send(dp[1], "dg1", 3, 0) != 3 || send(dp[1], "dg22", 4, 0) != 4) {
		fail("A: send");
		return 1;
	}
	close(p[0]);
	close(f);
	test_daemon();
	test_waitsig();
	if (write(p[1], " and more", 9) != 9)
		fail("A: write into the pipe after restore");
	return 0;
}

int main(int argc, char **argv)
{
	int on = 1, fds[2], fd, i;
	char buf[32];
	pid_t a;

	test_init(argc, argv);
	fpath = test_path("file");
	fd = open(fpath, O_CREAT | O_WRONLY, 0600);
	if (fd < 0 || write(fd, "0123456789", 10) != 10 || close(fd)) {
		fail("make %s", fpath);
		return 1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) || socketpair(AF_UNIX, SOCK_DGRAM, 0, dp) ||
	    setsockopt(sp[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) ||
	    setsockopt(dp[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on))) {
		fail("sockets");
		return 1;
	}
	a = test_spawn(child, NULL);
	if (a < 0)
		return 1;
	close(sp[1]);
	close(dp[1]);
	/* A sends the datagrams after the files. */
	for (i = 0; i < 2; i++)
		if (recv(dp[0], buf, 1, MSG_PEEK) != 1)
			fail("wait for A");

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		recv(dp[0], buf, sizeof(buf), MSG_DONTWAIT);
	recv_scm("the first datagram", dp[0], "dg1", 3, NULL, 0, a);
	recv_scm("the second datagram", dp[0], "dg22", 4, NULL, 0, a);
	if (recv_scm("the files", sp[0], "files", 5, fds, 2, a))
		return test_exit();
	if (lseek(fds[1], 0, SEEK_CUR) != 4)
		fail("the file in flight is at offset %ld, want 4", (long)lseek(fds[1], 0, SEEK_CUR));
	expect_data("the file in flight", fds[1], "456789", 6);
	expect_data("the pipe in flight", fds[0], "in the pipe", 11);
	test_stop_children();
	expect_data("the pipe in flight after restore", fds[0], " and more", 9);
	pass();
	return test_exit();
}
