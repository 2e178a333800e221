/*
 * cgroup00: each task and thread of a tree comes back in its cgroups, in
 * cgroup v1 hierarchies (memory, pids) and in the v2 one. Below the test's
 * own cgroup it makes "zdtm-cgroup00-N-a" and "...-b/c" in each
 * hierarchy (N: the inode of the test's directory, unique among tests
 * running at once; its pid is 1 in its pid namespace), with limits (memory, pids), then: child A goes to "a" in
 * all, child B to "b/c", the test stays where it was with a thread alone
 * in the pids hierarchy's "a" (v1 lets threads part). After restore each
 * reads its /proc/self(/task/TID)/cgroup and the limits are read back.
 * The cgroups are removed at the end. Sabotage moves child A back to the
 * test's cgroup in the pids hierarchy.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NH 3
/* The hierarchies, as /proc/self/cgroup names them ("" is v2). */
static const char *hier[NH] = { "memory", "pids", "" };
static char mnt[NH][256], base[NH][512];
static char dir_a[NH][2560], dir_b[NH][2560], dir_bc[NH][2560];
static char rel_a[64], rel_bc[64];
static pthread_barrier_t bar;

/* find_mount finds where hierarchy h is mounted (mount root "/"). */
static int find_mount(int i)
{
	FILE *f = fopen("/proc/self/mounts", "r");
	char src[256], dir[256], type[64], opts[512];
	int found = 0;

	if (!f)
		return -1;
	while (!found && fscanf(f, "%255s %255s %63s %511s %*d %*d", src, dir, type, opts) == 4) {
		if (hier[i][0] == 0) {
			found = !strcmp(type, "cgroup2");
		} else if (!strcmp(type, "cgroup")) {
			char *o, *save = NULL;

			for (o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save))
				found |= !strcmp(o, hier[i]);
		}
		if (found)
			snprintf(mnt[i], sizeof(mnt[i]), "%s", dir);
	}
	fclose(f);
	return found ? 0 : -1;
}

/* cg_path reads the cgroup of tid (0: the process) in hierarchy i. */
static int cg_path(pid_t tid, int i, char *out, size_t len)
{
	char p[64], line[1024];
	FILE *f;
	int ok = -1;

	if (tid)
		snprintf(p, sizeof(p), "/proc/self/task/%d/cgroup", tid);
	else
		snprintf(p, sizeof(p), "/proc/self/cgroup");
	f = fopen(p, "r");
	if (!f)
		return -1;
	while (ok && fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		*c2 = 0;
		line[strcspn(c2 + 1, "\n") + (c2 + 1 - line)] = 0;
		if (!strcmp(c1 + 1, hier[i])) {
			snprintf(out, len, "%s", c2 + 1);
			ok = 0;
		}
	}
	fclose(f);
	return ok;
}

static int put(const char *dir, const char *file, const char *val)
{
	char p[2800];
	FILE *f;
	int ret;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	f = fopen(p, "w");
	if (!f)
		return -1;
	ret = fputs(val, f) < 0;
	return fclose(f) || ret ? -1 : 0;
}

static int get(const char *dir, const char *file, char *out, size_t len)
{
	char p[2800];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	f = fopen(p, "r");
	if (!f || !fgets(out, len, f)) {
		if (f)
			fclose(f);
		return -1;
	}
	out[strcspn(out, "\n")] = 0;
	fclose(f);
	return 0;
}

static int move_to(const char *dir, const char *file, pid_t pid)
{
	char v[32];

	snprintf(v, sizeof(v), "%d", pid);
	return put(dir, file, v);
}

/* expect checks that tid (0: the process) is in base[i]/rel ("" base). */
static void expect(const char *who, pid_t tid, int i, const char *rel)
{
	char got[1024], want[2560];

	snprintf(want, sizeof(want), "%s%s%s", strcmp(base[i], "/") ? base[i] : "", rel[0] ? "/" : "", rel);
	if (!want[0])
		snprintf(want, sizeof(want), "/");
	if (cg_path(tid, i, got, sizeof(got)))
		fail("%s: no cgroup of hierarchy '%s'", who, hier[i]);
	else if (strcmp(got, want))
		fail("%s: in cgroup %s of hierarchy '%s', want %s", who, got, hier[i], want);
}

static int child(void *arg)
{
	const char *which = arg;
	const char *rel = which[0] == 'A' ? rel_a : rel_bc;
	int i;

	for (i = 0; i < NH; i++)
		if (move_to(which[0] == 'A' ? dir_a[i] : dir_bc[i], "cgroup.procs", getpid())) {
			fail("%s: move to its cgroup of '%s'", which, hier[i]);
			return 1;
		}
	test_daemon();
	test_waitsig();
	for (i = 0; i < NH; i++)
		expect(which, 0, i, rel);
	return 0;
}

static void *thread(void *arg)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);

	(void)arg;
	if (move_to(dir_a[1], "tasks", tid))
		fail("thread: move to the pids cgroup a");
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	expect("thread", tid, 1, rel_a);
	expect("thread", tid, 0, "");
	return NULL;
}

static void check_limit(const char *dir, const char *file, const char *want)
{
	char got[128];

	if (get(dir, file, got, sizeof(got)))
		fail("read %s/%s", dir, file);
	else if (strcmp(got, want))
		fail("%s/%s is %s, want %s", dir, file, got, want);
}

int main(int argc, char **argv)
{
	pthread_t th;
	struct stat st;
	pid_t a;
	int i;

	test_init(argc, argv);
	if (stat(test_dir(), &st)) {
		fail("stat %s", test_dir());
		return 1;
	}
	snprintf(rel_a, sizeof(rel_a), "zdtm-cgroup00-%lu-a", (unsigned long)st.st_ino);
	snprintf(rel_bc, sizeof(rel_bc), "zdtm-cgroup00-%lu-b/c", (unsigned long)st.st_ino);
	for (i = 0; i < NH; i++) {
		if (find_mount(i) || cg_path(0, i, base[i], sizeof(base[i]))) {
			fail("hierarchy '%s' is not mounted or not ours", hier[i]);
			return 1;
		}
		snprintf(dir_a[i], sizeof(dir_a[i]), "%s%s/%s", mnt[i], base[i], rel_a);
		snprintf(dir_bc[i], sizeof(dir_bc[i]), "%s%s/%s", mnt[i], base[i], rel_bc);
		snprintf(dir_b[i], sizeof(dir_b[i]), "%s", dir_bc[i]);
		*strrchr(dir_b[i], '/') = 0;
		if (mkdir(dir_a[i], 0755) || mkdir(dir_b[i], 0755) || mkdir(dir_bc[i], 0755)) {
			fail("mkdir the cgroups of '%s'", hier[i]);
			return 1;
		}
	}
	if (put(dir_a[0], "memory.limit_in_bytes", "268435456") || put(dir_a[1], "pids.max", "40") ||
	    put(dir_bc[1], "pids.max", "30")) {
		fail("set limits");
		return 1;
	}
	a = test_spawn(child, "A");
	if (a < 0 || test_spawn(child, "B") < 0)
		return 1;
	pthread_barrier_init(&bar, NULL, 2);
	if (pthread_create(&th, NULL, thread, NULL)) {
		fail("pthread_create");
		return 1;
	}
	pthread_barrier_wait(&bar);

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		char home[2048];

		snprintf(home, sizeof(home), "%s%s", mnt[1], base[1]);
		move_to(home, "cgroup.procs", a);
	}
	for (i = 0; i < NH; i++)
		expect("test", 0, i, "");
	check_limit(dir_a[0], "memory.limit_in_bytes", "268435456");
	check_limit(dir_a[1], "pids.max", "40");
	check_limit(dir_bc[1], "pids.max", "30");
	pthread_barrier_wait(&bar);
	pthread_join(th, NULL);
	test_stop_children();
	for (i = 0; i < NH; i++)
		if (rmdir(dir_bc[i]) || rmdir(dir_b[i]) || rmdir(dir_a[i]))
			fail("rmdir the cgroups of '%s'", hier[i]);
	pass();
	return test_exit();
}
