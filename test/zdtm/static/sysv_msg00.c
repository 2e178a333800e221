/*
 * sysv_msg00: System V message queues of the namespace's own IPC namespace
 * survive C/R: the queue's id, key, mode and byte limit, the queued
 * messages with their types, sizes and bytes in order (one taken out of
 * the middle before C/R), and a task blocked in msgrcv for a type nobody
 * sent yet: it must wake on the init's message after restore. Sabotage
 * takes one message out early.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <unistd.h>

#include "nsutil.h"

#define KEY 0x7a647433
#define QBYTES 16384

struct msg {
	long type;
	char text[512];
};

static const struct {
	long type;
	int len;
} sent[] = { { 1, 10 }, { 2, 300 }, { 3, 1 }, { 2, 512 }, { 1, 77 } };
#define NSENT (int)(sizeof(sent) / sizeof(sent[0]))
#define TAKEN 1 /* the index taken out before C/R */

static int id;

static void fill(struct msg *m, int i)
{
	m->type = sent[i].type;
	for (int k = 0; k < sent[i].len; k++)
		m->text[k] = (char)(i * 31 + k);
}

static int receiver(void *arg)
{
	struct msg m;
	ssize_t n;

	(void)arg;
	test_daemon();
	n = msgrcv(id, &m, sizeof(m.text), 9, 0);
	if (n != 5 || memcmp(m.text, "late!", 5))
		fail("B: msgrcv(type 9) gave %zd bytes", n);
	test_waitsig();
	return 0;
}

int main(int argc, char **argv)
{
	struct msg m, want;
	struct msqid_ds ds;
	ssize_t n;
	pid_t b;

	test_init(argc, argv);
	if (unshare(CLONE_NEWIPC)) {
		fail("unshare(CLONE_NEWIPC)");
		return 1;
	}
	id = msgget(KEY, IPC_CREAT | IPC_EXCL | 0620);
	if (id < 0 || msgctl(id, IPC_STAT, &ds)) {
		fail("make the queue");
		return 1;
	}
	ds.msg_qbytes = QBYTES;
	if (msgctl(id, IPC_SET, &ds)) {
		fail("set msg_qbytes");
		return 1;
	}
	for (int i = 0; i < NSENT; i++) {
		fill(&m, i);
		if (msgsnd(id, &m, sent[i].len, 0)) {
			fail("msgsnd %d", i);
			return 1;
		}
	}
	/* Take the first type-2 message out of the middle of the queue. */
	if (msgrcv(id, &m, sizeof(m.text), sent[TAKEN].type, 0) != sent[TAKEN].len) {
		fail("take message %d", TAKEN);
		return 1;
	}
	b = test_spawn(receiver, NULL);
	if (b < 0)
		return 1;
	wait_in_syscall(b, SYS_msgrcv);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		msgrcv(id, &m, sizeof(m.text), 0, IPC_NOWAIT);
	if (msgget(KEY, 0) != id)
		fail("key %#x is queue %d, want %d", KEY, msgget(KEY, 0), id);
	if (msgctl(id, IPC_STAT, &ds) || ds.msg_qnum != NSENT - 1 || ds.msg_qbytes != QBYTES ||
	    (ds.msg_perm.mode & 0777) != 0620)
		fail("queue %d: %lu messages, limit %lu, mode %#o", id, (unsigned long)ds.msg_qnum,
		     (unsigned long)ds.msg_qbytes, ds.msg_perm.mode);
	for (int i = 0; i < NSENT; i++) {
		if (i == TAKEN)
			continue;
		fill(&want, i);
		n = msgrcv(id, &m, sizeof(m.text), 0, IPC_NOWAIT);
		if (n != sent[i].len || m.type != want.type || memcmp(m.text, want.text, n)) {
			fail("message %d: type %ld, %zd bytes; want type %ld, %d bytes", i, m.type, n, want.type,
			     sent[i].len);
			break;
		}
	}
	m.type = 9;
	memcpy(m.text, "late!", 5);
	if (msgsnd(id, &m, 5, 0))
		fail("msgsnd type 9");
	test_stop_children();
	pass();
	return test_exit();
}
