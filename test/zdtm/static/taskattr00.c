/*
 * taskattr00: per-process settings of /proc and prctl survive C/R: the
 * core dump filter (of the address space), the timer slack and the I/O
 * priority. A thread made before the checkpoint keeps the leader's timer
 * slack and I/O priority, which it started with.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define FILTER 0x7b
#define SLACK 123456
/* IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0) */
#define PRIO (3 << 13)

static int ioprio(int who)
{
	return syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, who);
}

static unsigned long read_filter(void)
{
	char buf[32] = "";
	int fd = open("/proc/self/coredump_filter", O_RDONLY);

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
		return ~0ul;
	close(fd);
	return strtoul(buf, NULL, 16);
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int go, thread_prio, thread_slack;

static void *thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!go)
		pthread_cond_wait(&cond, &lock);
	thread_prio = ioprio(syscall(SYS_gettid));
	thread_slack = prctl(PR_GET_TIMERSLACK);
	go = 2;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return NULL;
}

int main(int argc, char **argv)
{
	char buf[16];
	pthread_t th;
	int fd, n;

	test_init(argc, argv);
	fd = open("/proc/self/coredump_filter", O_WRONLY);
	n = snprintf(buf, sizeof(buf), "%#x", FILTER);
	if (fd < 0 || write(fd, buf, n) != n || close(fd)) {
		fail("write coredump_filter");
		return 1;
	}
	if (prctl(PR_SET_TIMERSLACK, SLACK) || syscall(SYS_ioprio_set, 1, 0, PRIO)) {
		fail("set timer slack and I/O priority");
		return 1;
	}
	if (pthread_create(&th, NULL, thread, NULL)) {
		fail("pthread_create");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		prctl(PR_SET_TIMERSLACK, SLACK + 1);
	if (read_filter() != FILTER)
		fail("coredump_filter %#lx, want %#x", read_filter(), FILTER);
	if (prctl(PR_GET_TIMERSLACK) != SLACK)
		fail("timer slack %d, want %d", prctl(PR_GET_TIMERSLACK), SLACK);
	if (ioprio(0) != PRIO)
		fail("I/O priority %#x, want %#x", ioprio(0), PRIO);
	pthread_mutex_lock(&lock);
	go = 1;
	pthread_cond_broadcast(&cond);
	while (go != 2)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	pthread_join(th, NULL);
	if (thread_prio != PRIO || thread_slack != SLACK)
		fail("thread: I/O priority %#x timer slack %d, want %#x %d", thread_prio, thread_slack, PRIO, SLACK);
	pass();
	return test_exit();
}
