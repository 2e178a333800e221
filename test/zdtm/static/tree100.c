/*
 * tree100: the first scenario. A tree of 100 tasks (the init
 * included) of mixed depth in a fresh pid namespace: chains and fans,
 * several sessions and process groups, zombies with distinct exit codes
 * held by their parents, and nodes that exit once their children are ready
 * so that those are orphans of the init. The runner compares the listing of
 * `ps -eo pid,ppid,pgid,sid,stat,comm` inside the namespace across C/R; the
 * init compares every task's ppid, pgid, sid and zombie state itself, and
 * each parent of zombies reaps them after C/R with their exit codes.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "nsutil.h"

#define N 100

enum role { PLAIN, SESSION, GROUP, ZOMBIE, EXITER };

static int parent[N], role[N];

static uint32_t h(int i)
{
	uint32_t x = (uint32_t)i * 2654435761u;

	return x ^ (x >> 15);
}

/* shape lays the tree out: it is the same in every process, so a node can
 * find its children by index. */
static void shape(void)
{
	int kids[N] = { 0 };

	parent[0] = -1;
	for (int i = 1; i < N; i++) {
		if (i < 5)
			parent[i] = 0;
		else if (h(i) % 3)
			parent[i] = i - 1 - (int)(h(i) / 3 % 4); /* chains: deep */
		else
			parent[i] = (int)(h(i) / 3 % i); /* fans: wide */
		kids[parent[i]]++;
	}
	for (int i = 1; i < N; i++) {
		if (!kids[i] && h(i) % 4 == 0 && role[parent[i]] != EXITER)
			role[i] = ZOMBIE;
		else if (kids[i] && h(i) % 7 == 0 && parent[i] != 0)
			role[i] = EXITER;
		else if (h(i) % 9 == 1)
			role[i] = SESSION;
		else if (h(i) % 5 == 2)
			role[i] = GROUP;
	}
}

static int exit_code(int i)
{
	return 1 + i % 200;
}

static int node_main(void *arg);

/* build makes node i's children (in index order) and returns its zombies. */
static int build(int i, pid_t *z, int *zi)
{
	int nz = 0;

	for (int c = i + 1; c < N; c++) {
		pid_t pid;

		if (parent[c] != i)
			continue;
		if (role[c] == ZOMBIE) {
			pid = test_fork();
			if (pid == 0)
				_exit(exit_code(c));
			if (pid < 0 || wait_zombie(pid)) {
				fail("node %d: zombie %d", i, c);
				return -1;
			}
			z[nz] = pid;
			zi[nz++] = c;
			continue;
		}
		pid = test_spawn(node_main, (void *)(long)c);
		if (pid < 0 || (role[c] == EXITER && wait_zombie(pid)))
			return -1;
	}
	return nz;
}

static void reap_zombies(int i, const pid_t *z, const int *zi, int nz)
{
	int status;

	for (int k = 0; k < nz; k++)
		if (waitpid(z[k], &status, WNOHANG) != z[k] || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != exit_code(zi[k]))
			fail("node %d: zombie %d (pid %d) not waitable with exit %d", i, zi[k], z[k],
			     exit_code(zi[k]));
}

static int node_main(void *arg)
{
	int i = (int)(long)arg, zi[N], nz;
	pid_t z[N];

	if (role[i] == SESSION && setsid() < 0)
		fail("node %d: setsid", i);
	if (role[i] == GROUP && setpgid(0, 0))
		fail("node %d: setpgid", i);
	nz = build(i, z, zi);
	if (nz < 0)
		return 1;
	test_daemon();
	if (role[i] == EXITER)
		return 0;
	test_waitsig();
	reap_zombies(i, z, zi, nz);
	test_stop_children();
	return 0;
}

int main(int argc, char **argv)
{
	static struct pstat before[2 * N], after[2 * N];
	int zi[N], nz, nb, na, count[5] = { 0 };
	pid_t z[N];

	test_init(argc, argv);
	shape();
	for (int i = 1; i < N; i++)
		count[role[i]]++;
	nz = build(0, z, zi);
	if (nz < 0)
		return 1;
	nb = snap_ns(before, 2 * N);
	if (nb != N)
		fail("%d tasks in the namespace, want %d", nb, N);
	test_msg("%d tasks: %d sessions, %d groups, %d zombies, %d exited parents", nb, count[SESSION],
		 count[GROUP], count[ZOMBIE], count[EXITER]);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		kill(before[N / 2].pid, SIGKILL);
	na = snap_ns(after, 2 * N);
	compare_ns(before, nb, after, na);
	reap_zombies(0, z, zi, nz);
	if (getpid() == 1)
		kill(-1, SIGTERM); /* the orphans are nobody's spawned children */
	test_stop_children();
	reap_rest();
	pass();
	return test_exit();
}
