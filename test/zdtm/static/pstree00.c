/*
 * pstree00: a process tree keeps its shape across C/R: every task its pid,
 * its parent, its children (in /proc/PID/task/TID/children), its process
 * group and session. Some nodes exit once their own children are ready,
 * so those children are orphans reparented to the init, and the exited
 * node stays a zombie of its parent until the end.
 *
 *	1 ─┬─ n1 ─┬─ n3 ─── n7
 *	   │      └─ n4 (exits: n8, n9 go to 1)
 *	   ├─ n2 ─── n5 ─── n6 ─── n10 ─── n11
 *	   └─ (n8, n9 after n4 exits)
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nsutil.h"

#define NODES 12

/* parent[i] is node i's parent (node 0 is the init); exits[i] marks the
 * nodes that exit once their children are ready. */
static const int parent[NODES] = { -1, 0, 0, 1, 1, 2, 5, 3, 4, 4, 6, 10 };
static const int exits[NODES] = { [4] = 1 };

struct self {
	int pid, ppid, pgid, sid;
	int kids[16], nkids;
};

static int node_main(void *arg);

static int read_children(struct self *s)
{
	char path[64], buf[512], *p, *end;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", getpid(), getpid());
	f = fopen(path, "r");
	if (!f)
		return -1;
	s->nkids = 0;
	if (fgets(buf, sizeof(buf), f))
		for (p = buf; s->nkids < 16; p = end) {
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			s->kids[s->nkids++] = (int)v;
		}
	fclose(f);
	qsort(s->kids, s->nkids, sizeof(int), int_cmp);
	return 0;
}

static int record(struct self *s)
{
	s->pid = getpid();
	s->ppid = getppid();
	s->pgid = getpgid(0);
	s->sid = getsid(0);
	return read_children(s);
}

/* check compares what this task is now with what it was. */
static void check(int node, const struct self *was)
{
	struct self now;

	if (record(&now)) {
		fail("node %d: read its identity", node);
		return;
	}
	/* An orphan was reparented to the init after it recorded itself. */
	if (node > 0 && exits[parent[node]] && now.ppid == 1)
		now.ppid = was->ppid;
	if (now.pid != was->pid || now.ppid != was->ppid || now.pgid != was->pgid || now.sid != was->sid)
		fail("node %d: pid %d ppid %d pgid %d sid %d, want %d %d %d %d", node, now.pid, now.ppid, now.pgid,
		     now.sid, was->pid, was->ppid, was->pgid, was->sid);
	if (now.nkids != was->nkids || memcmp(now.kids, was->kids, now.nkids * sizeof(int)))
		fail("node %d (pid %d): %d children, want %d (or other pids)", node, now.pid, now.nkids, was->nkids);
}

static int spawn_children(int node)
{
	for (int i = 1; i < NODES; i++) {
		if (parent[i] != node)
			continue;
		pid_t pid = test_spawn(node_main, (void *)(long)i);

		if (pid < 0)
			return -1;
		if (exits[i] && wait_zombie(pid))
			return -1;
	}
	return 0;
}

static int node_main(void *arg)
{
	int node = (int)(long)arg;
	struct self was;

	if (spawn_children(node))
		return 1;
	if (record(&was)) {
		fail("node %d: read its identity", node);
		return 1;
	}
	test_daemon();
	if (exits[node])
		return 0;
	test_waitsig();
	if (test_sabotage() && node == 6)
		setpgid(0, 0);
	check(node, &was);
	test_stop_children();
	return 0;
}

int main(int argc, char **argv)
{
	struct self was;

	test_init(argc, argv);
	if (spawn_children(0) || record(&was)) {
		fail("build the tree");
		return 1;
	}

	test_daemon();
	test_waitsig();

	check(0, &was);
	/* The orphans are no spawned children of ours: reach them too. */
	if (getpid() == 1)
		kill(-1, SIGTERM);
	test_stop_children();
	reap_rest();
	pass();
	return test_exit();
}
