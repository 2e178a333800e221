/*
 * counter: a counter in memory, appended as one line to a file every 10 ms
 * through an fd without O_APPEND (so the file position matters). After C/R
 * it must go on from its value: the file must read 1, 2, 3, ... with no
 * restart from zero, no repeat and no gap. The runner reads the same file
 * to see the program make progress (--leave-running, refusals).
 *
 * --hold=eventfd|signalfd|socketpair|udp|unix:PATH|userfaultfd|io_uring makes it
 * hold an fd of that kind (unix:PATH: a stream socket connected to PATH) at
 * number --holdfd (default 42), for the runner's refusal and external
 * socket checks.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/io_uring.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

static char *hold = "";
TEST_OPTION(hold, string, "eventfd, signalfd, socketpair, udp, unix:PATH, userfaultfd or io_uring: hold an fd of that kind");
static int holdfd = 42;
TEST_OPTION(holdfd, int, "the fd number of the held fd");

static int hold_fd(void)
{
	int fd = -1, sv[2];

	if (!strcmp(hold, "eventfd")) {
		fd = eventfd(7, 0);
	} else if (!strcmp(hold, "signalfd")) {
		sigset_t m;

		sigemptyset(&m);
		sigaddset(&m, SIGUSR2);
		fd = signalfd(-1, &m, 0);
	} else if (!strcmp(hold, "socketpair")) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
			return -1;
		close(sv[1]);
		fd = sv[0];
	} else if (!strcmp(hold, "userfaultfd")) {
		fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	} else if (!strcmp(hold, "io_uring")) {
		struct io_uring_params p;

		memset(&p, 0, sizeof(p));
		fd = syscall(SYS_io_uring_setup, 4, &p);
	} else if (!strcmp(hold, "udp")) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
	} else if (!strncmp(hold, "unix:", 5)) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };

		strncpy(a.sun_path, hold + 5, sizeof(a.sun_path) - 1);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)))
			return -1;
	} else if (*hold) {
		errno = EINVAL;
		return -1;
	} else {
		return 0;
	}
	if (fd < 0 || dup2(fd, holdfd) != holdfd)
		return -1;
	close(fd);
	return 0;
}

/* check_file reads the counter file back and checks it is exactly 1..last. */
static void check_file(const char *path, long long last)
{
	FILE *f = fopen(path, "r");
	long long want = 1, got;

	if (!f) {
		fail("reopen %s", path);
		return;
	}
	while (fscanf(f, "%lld", &got) == 1) {
		if (got != want) {
			fail("%s: line %lld reads %lld", path, want, got);
			fclose(f);
			return;
		}
		want++;
	}
	fclose(f);
	if (want - 1 != last)
		fail("%s ends at %lld, the counter is at %lld", path, want - 1, last);
}

static int put(int fd, long long v)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "%lld\n", v);

	return write(fd, line, n) == n ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	char *path;
	long long counter = 0;
	int fd;

	test_init(argc, argv);
	path = test_path("counter");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		fail("create %s", path);
		return 1;
	}
	if (hold_fd()) {
		fail("hold a %s at fd %d", hold, holdfd);
		return 1;
	}

	test_daemon();
	/* do-while: even a run stopped at once writes a line from the loop. */
	do {
		if (put(fd, ++counter)) {
			fail("write %lld to %s", counter, path);
			break;
		}
		if (test_sabotage() && counter == 1)
			counter++;
		nanosleep(&tick, NULL);
	} while (test_go());
	/* A last line after SIGTERM: even a run stopped at once has two. */
	if (put(fd, ++counter))
		fail("write %lld to %s", counter, path);
	check_file(path, counter);
	test_msg("counted to %lld", counter);
	pass();
	return test_exit();
}
