/*
 * nsutil.h: small helpers the multi-process (ns flavor) programs share:
 * reading a task's identity from /proc, listing the namespace, waiting
 * until a task sleeps in a given syscall, reaping what is left.
 * Header-only (static inline) because the runner builds each program from
 * its one .c file and the library.
 */
#ifndef NSUTIL_H
#define NSUTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

struct pstat {
	int pid, ppid, pgid, sid;
	char state;
};

/* pstat_read fills s from /proc/PID/stat (the namespace's own /proc in
 * the ns flavor, so the numbers are the ones inside). */
static inline int pstat_read(int pid, struct pstat *s)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%c %d %d %d", &s->state, &s->ppid, &s->pgid, &s->sid) != 4)
		return -1;
	s->pid = pid;
	return 0;
}

static inline int int_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* list_pids fills pids (sorted) with every pid /proc lists; it returns how
 * many, or -1. */
static inline int list_pids(int *pids, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (atoi(e->d_name) > 0 && n < max)
			pids[n++] = atoi(e->d_name);
	closedir(d);
	qsort(pids, n, sizeof(int), int_cmp);
	return n;
}

/* snap_ns reads the identity of every task of the namespace. */
static inline int snap_ns(struct pstat *s, int max)
{
	int pids[1024], n = list_pids(pids, 1024), k = 0;

	for (int i = 0; i < n && k < max; i++)
		if (!pstat_read(pids[i], &s[k]))
			k++;
	return n < 0 ? -1 : k;
}

/* compare_ns fails the test for each difference between two snap_ns
 * results, and returns how many there were. */
static inline int compare_ns(const struct pstat *a, int na, const struct pstat *b, int nb)
{
	int bad = 0, i = 0, j = 0;

	while (i < na || j < nb) {
		if (j == nb || (i < na && a[i].pid < b[j].pid)) {
			fail("pid %d (state %c) is gone", a[i].pid, a[i].state);
			i++, bad++;
		} else if (i == na || b[j].pid < a[i].pid) {
			fail("pid %d (state %c) appeared", b[j].pid, b[j].state);
			j++, bad++;
		} else {
			if (a[i].ppid != b[j].ppid || a[i].pgid != b[j].pgid || a[i].sid != b[j].sid ||
			    (a[i].state == 'Z') != (b[j].state == 'Z')) {
				fail("pid %d: ppid %d pgid %d sid %d state %c, want ppid %d pgid %d sid %d state %c",
				     a[i].pid, b[j].ppid, b[j].pgid, b[j].sid, b[j].state, a[i].ppid, a[i].pgid,
				     a[i].sid, a[i].state);
				bad++;
			}
			i++, j++;
		}
	}
	return bad;
}

/* wait_zombie waits until pid has exited, without reaping it. */
static inline int wait_zombie(pid_t pid)
{
	siginfo_t si;

	while (waitid(P_PID, pid, &si, WEXITED | WNOWAIT) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* reap_rest reaps every remaining child (orphans an init inherited, say),
 * failing the test for each that did not exit 0. It returns how many. */
static inline int reap_rest(void)
{
	int bad = 0, status;
	pid_t pid;

	for (;;) {
		pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fail("pid %d ended with status %#x", pid, status);
			bad++;
		}
	}
	return bad;
}

/* in_syscall is true when task tid sleeps in syscall nr. */
static inline int in_syscall(pid_t tid, long nr)
{
	char path[64], buf[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/syscall", tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return atol(buf) == nr && strncmp(buf, "running", 7);
}

/* wait_in_syscall waits until task tid (any thread, any process) sleeps in
 * syscall nr: a wake-up aimed at it must then find it there. */
static inline void wait_in_syscall(pid_t tid, long nr)
{
	struct timespec ms = { 0, 1000000 };

	while (!in_syscall(tid, nr))
		nanosleep(&ms, NULL);
}

/* read_full reads exactly len bytes unless EOF or an error comes first;
 * it returns what it got. */
static inline ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	return got;
}

static inline ssize_t write_full(int fd, const void *buf, size_t len)
{
	size_t put = 0;

	while (put < len) {
		ssize_t n = write(fd, (const char *)buf + put, len - put);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		put += n;
	}
	return put;
}

#endif
