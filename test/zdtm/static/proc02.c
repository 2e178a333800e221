/*
 * proc02: a file of /proc/PID/task/TID of a thread other than the leader
 * is refused (restore makes threads after it opens files): not silently
 * reopened on something else.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

static pthread_barrier_t bar;
static pid_t tid;

static void *thread(void *arg)
{
	(void)arg;
	tid = (pid_t)syscall(SYS_gettid);
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	return NULL;
}

int main(int argc, char **argv)
{
	char p[64], buf[16];
	pthread_t th;
	int fd;

	test_init(argc, argv);
	pthread_barrier_init(&bar, NULL, 2);
	if (pthread_create(&th, NULL, thread, NULL)) {
		fail("pthread_create");
		return 1;
	}
	pthread_barrier_wait(&bar);
	snprintf(p, sizeof(p), "/proc/self/task/%d/stat", tid);
	fd = open(p, O_RDONLY);
	if (fd < 0) {
		fail("open %s", p);
		return 1;
	}
	test_daemon();
	test_waitsig();
	if (test_sabotage())
		close(fd);
	if (pread(fd, buf, sizeof(buf), 0) <= 0)
		fail("read the thread's stat");
	pthread_barrier_wait(&bar);
	pthread_join(th, NULL);
	pass();
	return test_exit();
}
