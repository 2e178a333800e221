/*
 * sysv_msg01: the limits of the namespace's own IPC namespace survive C/R
 * (msgmax and msgmnb raised, shmmni and the sem limits lowered), and with
 * them a queue whose byte limit is above the default, holding a message
 * longer than the default msgmax. Sabotage lowers msgmax back.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <unistd.h>

#include "zdtmtst.h"

#define BIG 12000

static const struct {
	const char *name, *value;
} limits[] = {
	{ "msgmax", "16384" },
	{ "msgmnb", "65536" },
	{ "shmmni", "100" },
	{ "sem", "100\t2000\t50\t64" },
};
#define NLIMITS (int)(sizeof(limits) / sizeof(limits[0]))

static int rw(const char *name, char *buf, size_t len, int set)
{
	char path[64];
	int fd, n;

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s", name);
	fd = open(path, set ? O_WRONLY : O_RDONLY);
	if (fd < 0)
		return -1;
	n = set ? (int)write(fd, buf, len) : (int)read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	if (!set) {
		buf[n] = 0;
		if (n && buf[n - 1] == '\n')
			buf[n - 1] = 0;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct {
		long type;
		char text[BIG];
	} m, got;
	struct msqid_ds ds;
	char buf[128];
	int id;

	test_init(argc, argv);
	if (unshare(CLONE_NEWIPC)) {
		fail("unshare(CLONE_NEWIPC)");
		return 1;
	}
	for (int i = 0; i < NLIMITS; i++) {
		strcpy(buf, limits[i].value);
		if (rw(limits[i].name, buf, strlen(buf), 1)) {
			fail("set %s", limits[i].name);
			return 1;
		}
	}
	id = msgget(IPC_PRIVATE, 0600);
	if (id < 0 || msgctl(id, IPC_STAT, &ds) || (ds.msg_qbytes = 40000, msgctl(id, IPC_SET, &ds))) {
		fail("make the queue");
		return 1;
	}
	m.type = 3;
	for (int i = 0; i < BIG; i++)
		m.text[i] = (char)(i * 7);
	if (msgsnd(id, &m, BIG, IPC_NOWAIT)) {
		fail("send %d bytes", BIG);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		strcpy(buf, "8192");
		rw("msgmax", buf, strlen(buf), 1);
	}
	for (int i = 0; i < NLIMITS; i++)
		if (rw(limits[i].name, buf, sizeof(buf), 0) || strcmp(buf, limits[i].value))
			fail("%s is %s, want %s", limits[i].name, buf, limits[i].value);
	if (msgctl(id, IPC_STAT, &ds) || ds.msg_qbytes != 40000)
		fail("queue byte limit %lu, want 40000", (unsigned long)ds.msg_qbytes);
	if (msgrcv(id, &got, BIG, 0, IPC_NOWAIT) != BIG || got.type != 3 || memcmp(got.text, m.text, BIG))
		fail("the long message differs");
	pass();
	return test_exit();
}
