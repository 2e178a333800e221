/*
 * cgroup01: a thread in a threaded cgroup v2 comes back there. Below the
 * test's own v2 cgroup (which becomes a threaded domain) it makes
 * "zdtm-cgroup01-N-t" (N: the inode of the test's directory) of type
 * threaded, and a second thread moves itself in (cgroup.threads). After
 * restore the thread is there, the process where it was, and the cgroup is
 * still threaded. Sabotage moves the thread back to the process's cgroup.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

static char mnt[256], base[1024], dom[2048], thr[2560], rel[64];
/* dom: the test's own cgroup; thr: the threaded one below it. */
static pthread_barrier_t bar;

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

static int get(const char *path, const char *prefix, char *out, size_t len)
{
	char line[2048];
	FILE *f = fopen(path, "r");
	int ok = -1;

	if (!f)
		return -1;
	while (ok && fgets(line, sizeof(line), f))
		if (!strncmp(line, prefix, strlen(prefix))) {
			snprintf(out, len, "%s", line + strlen(prefix));
			out[strcspn(out, "\n")] = 0;
			ok = 0;
		}
	fclose(f);
	return ok;
}

static void expect(const char *who, pid_t tid, const char *want_rel)
{
	char p[64], got[2048], want[2048];

	snprintf(p, sizeof(p), "/proc/self/task/%d/cgroup", tid);
	if (!want_rel[0])
		snprintf(want, sizeof(want), "%s", base);
	else
		snprintf(want, sizeof(want), "%s/%s", strcmp(base, "/") ? base : "", want_rel);
	if (get(p, "0::", got, sizeof(got)))
		fail("%s: no v2 cgroup", who);
	else if (strcmp(got, want))
		fail("%s: in %s, want %s", who, got, want);
}

static void *thread(void *arg)
{
	char v[32];
	pid_t tid = (pid_t)syscall(SYS_gettid);

	(void)arg;
	snprintf(v, sizeof(v), "%d", tid);
	if (put(thr, "cgroup.threads", v))
		fail("move the thread to %s", thr);
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	if (test_sabotage()) {
		char home[2600];

		snprintf(home, sizeof(home), "%s", dom);
		put(home, "cgroup.threads", v);
	}
	{
		expect("thread", tid, rel);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	char v[32], type[64], p[2800];
	struct stat st;
	pthread_t th;
	FILE *f;
	int found = 0;

	test_init(argc, argv);
	f = fopen("/proc/self/mounts", "r");
	while (f && !found) {
		char src[256], dir[256], fstype[64], opts[512];

		if (fscanf(f, "%255s %255s %63s %511s %*d %*d", src, dir, fstype, opts) != 4)
			break;
		if (!strcmp(fstype, "cgroup2")) {
			snprintf(mnt, sizeof(mnt), "%s", dir);
			found = 1;
		}
	}
	if (f)
		fclose(f);
	if (!found || get("/proc/self/cgroup", "0::", base, sizeof(base)) || stat(test_dir(), &st)) {
		fail("no cgroup v2 hierarchy");
		return 1;
	}
	snprintf(rel, sizeof(rel), "zdtm-cgroup01-%lu-t", (unsigned long)st.st_ino);
	snprintf(dom, sizeof(dom), "%s%s", mnt, strcmp(base, "/") ? base : "");
	snprintf(thr, sizeof(thr), "%s/%s", dom, rel);
	snprintf(v, sizeof(v), "%d", getpid());
	if (mkdir(thr, 0755) || put(thr, "cgroup.type", "threaded")) {
		fail("make the threaded cgroups %s", thr);
		return 1;
	}
	pthread_barrier_init(&bar, NULL, 2);
	if (pthread_create(&th, NULL, thread, NULL)) {
		fail("pthread_create");
		return 1;
	}
	pthread_barrier_wait(&bar);

	test_daemon();
	test_waitsig();

	expect("test", getpid(), "");
	snprintf(p, sizeof(p), "%s/cgroup.type", thr);
	f = fopen(p, "r");
	if (!f || !fgets(type, sizeof(type), f) || strcmp(type, "threaded\n"))
		fail("%s is not threaded", thr);
	if (f)
		fclose(f);
	pthread_barrier_wait(&bar);
	pthread_join(th, NULL);
	/*
	 * pthread_join returns once the kernel cleared the thread's tid,
	 * before the thread has left its cgroup: rmdir may find it busy
	 * for a moment.
	 */
	for (int i = 0; rmdir(thr); i++) {
		if (errno != EBUSY || i == 2000) {
			fail("remove %s", thr);
			break;
		}
		usleep(1000);
	}
	pass();
	return test_exit();
}
