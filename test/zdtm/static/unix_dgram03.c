/*
 * unix_dgram03: datagrams from named senders closed since come back with
 * their senders' names. R (bound to a path, SO_PASSCRED on) holds one
 * datagram from A (an abstract name), one from P (bound to DIR/p.sock: its
 * socket file stays, stale), one from Q (bound to DIR/q.sock, its file
 * removed) and one from U (unbound, with SO_PASSCRED on: the kernel
 * autobound it to an abstract name when it sent); all four were closed. After restore
 * the four come out in order with those names and R's credentials, P's
 * stale file is the same inode and q.sock does not exist. Sabotage takes
 * R's first datagram.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "unixutil.h"

int main(int argc, char **argv)
{
	struct sockaddr_un ra = { .sun_family = AF_UNIX }, aa = { .sun_family = AF_UNIX }, pa = { .sun_family = AF_UNIX },
			   qa = { .sun_family = AF_UNIX }, ua;
	socklen_t al, ul = sizeof(ua);
	int r, a, p, q, u, one = 1;
	struct stat pst, st;
	char buf[8], aname[32];

	test_init(argc, argv);
	snprintf(ra.sun_path, sizeof(ra.sun_path), "%.90s/r.sock", test_dir());
	snprintf(pa.sun_path, sizeof(pa.sun_path), "%.90s/p.sock", test_dir());
	snprintf(qa.sun_path, sizeof(qa.sun_path), "%.90s/q.sock", test_dir());
	snprintf(aname, sizeof(aname), "ckpt-a-%d", getpid());
	memcpy(aa.sun_path + 1, aname, strlen(aname));
	al = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(aname);
	r = socket(AF_UNIX, SOCK_DGRAM, 0);
	a = socket(AF_UNIX, SOCK_DGRAM, 0);
	p = socket(AF_UNIX, SOCK_DGRAM, 0);
	q = socket(AF_UNIX, SOCK_DGRAM, 0);
	u = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (r < 0 || a < 0 || p < 0 || q < 0 || u < 0 || bind(r, (struct sockaddr *)&ra, sizeof(ra)) ||
	    setsockopt(r, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) || bind(a, (struct sockaddr *)&aa, al) ||
	    bind(p, (struct sockaddr *)&pa, sizeof(pa)) || bind(q, (struct sockaddr *)&qa, sizeof(qa)) ||
	    sendto(a, "from a", 6, 0, (struct sockaddr *)&ra, sizeof(ra)) != 6 ||
	    sendto(p, "from p", 6, 0, (struct sockaddr *)&ra, sizeof(ra)) != 6 ||
	    sendto(q, "from q", 6, 0, (struct sockaddr *)&ra, sizeof(ra)) != 6 ||
	    setsockopt(u, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ||
	    sendto(u, "from u", 6, 0, (struct sockaddr *)&ra, sizeof(ra)) != 6 ||
	    getsockname(u, (struct sockaddr *)&ua, &ul) || ul <= offsetof(struct sockaddr_un, sun_path) + 1 ||
	    close(a) || close(p) || close(q) || close(u) || unlink(qa.sun_path) || lstat(pa.sun_path, &pst)) {
		fail("the sockets");
		return 1;
	}
	ul -= offsetof(struct sockaddr_un, sun_path);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		recv(r, buf, sizeof(buf), MSG_DONTWAIT);
	expect_msg("R: from A", r, "from a", 6, aa.sun_path, strlen(aname) + 1);
	expect_msg("R: from P", r, "from p", 6, pa.sun_path, strlen(pa.sun_path));
	expect_msg("R: from Q", r, "from q", 6, qa.sun_path, strlen(qa.sun_path));
	expect_msg("R: from U", r, "from u", 6, ua.sun_path, ul);
	if (lstat(pa.sun_path, &st) || st.st_ino != pst.st_ino || !S_ISSOCK(st.st_mode))
		fail("P's stale socket file is gone or another");
	if (access(qa.sun_path, F_OK) == 0)
		fail("Q's removed socket file is back");
	pass();
	return test_exit();
}
