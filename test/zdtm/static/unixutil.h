/*
 * unixutil.h: helpers the unix socket programs share: reading exactly the
 * expected data, the name a socket is bound to, its peer's pid.
 * Header-only (static inline), like nsutil.h.
 */
#ifndef UNIXUTIL_H
#define UNIXUTIL_H

#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "nsutil.h"
#include "zdtmtst.h"

/* expect_data reads len bytes from fd and fails unless they are want. */
static inline void expect_data(const char *what, int fd, const void *want, size_t len)
{
	static char buf[1 << 20];

	if (len > sizeof(buf) || read_full(fd, buf, len) != (ssize_t)len)
		fail("%s: short read", what);
	else if (memcmp(buf, want, len))
		fail("%s: the data differs", what);
}

/* expect_name fails unless fd is bound to name (len bytes: an abstract
 * name starts with a NUL; 0 for unbound). peer: the peer's name. */
static inline void expect_name(const char *what, int fd, int peer, const char *name, size_t len)
{
	struct sockaddr_un a;
	socklen_t l = sizeof(a);
	int r = peer ? getpeername(fd, (struct sockaddr *)&a, &l) : getsockname(fd, (struct sockaddr *)&a, &l);

	if (r) {
		fail("%s: get%sname", what, peer ? "peer" : "sock");
		return;
	}
	if (l < offsetof(struct sockaddr_un, sun_path))
		l = offsetof(struct sockaddr_un, sun_path);
	l -= offsetof(struct sockaddr_un, sun_path);
	if (len && name[0] && l > 0 && a.sun_path[l - 1] == 0)
		l--; /* a path's trailing NUL */
	if (l != len || memcmp(a.sun_path, name, len))
		fail("%s: %s name %.*s (%u bytes), want %.*s", what, peer ? "peer" : "own",
		     (int)l, a.sun_path[0] ? a.sun_path : a.sun_path + 1, (unsigned)l,
		     (int)len, len && name[0] ? name : (len ? name + 1 : ""));
}

/* expect_peer_pid fails unless SO_PEERCRED names pid. */
static inline void expect_peer_pid(const char *what, int fd, pid_t pid)
{
	struct ucred c;
	socklen_t l = sizeof(c);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &l))
		fail("%s: SO_PEERCRED", what);
	else if (c.pid != pid)
		fail("%s: SO_PEERCRED names pid %d, want %d", what, c.pid, pid);
}

/* expect_msg takes the next message queued on fd without waiting and
 * fails unless it is want, from the sender named from (fromlen bytes as
 * in expect_name; 0: unnamed; -1: do not check). */
static inline void expect_msg(const char *what, int fd, const void *want, size_t len, const char *from, int fromlen)
{
	static char buf[1 << 17];
	struct sockaddr_un a;
	socklen_t l = sizeof(a);
	ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&a, &l);

	if (n < 0) {
		fail("%s: no message", what);
		return;
	}
	if ((size_t)n != len || memcmp(buf, want, len)) {
		fail("%s: a message of %zd bytes, not the %zu expected", what, n, len);
		return;
	}
	if (fromlen < 0)
		return;
	if (l < offsetof(struct sockaddr_un, sun_path))
		l = offsetof(struct sockaddr_un, sun_path);
	l -= offsetof(struct sockaddr_un, sun_path);
	if (fromlen && from[0] && l > 0 && a.sun_path[l - 1] == 0)
		l--;
	if (l != (socklen_t)fromlen || memcmp(a.sun_path, from, fromlen))
		fail("%s: from a sender named %.*s (%u bytes), want %d bytes", what, (int)l,
		     l && a.sun_path[0] ? a.sun_path : "", (unsigned)l, fromlen);
}

#endif
