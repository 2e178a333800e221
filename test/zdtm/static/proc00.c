/*
 * proc00: files of /proc/PID of tasks of the tree held open come back
 * referring to the restored tasks: /proc/self/status (read to an offset),
 * the child's /proc/PID/stat, a /proc/PID directory fd of the test, and
 * /proc/self/task/PID/comm. After restore each reads what the restored
 * task shows (its pid, the child's pid, its name), at the saved offset,
 * and the directory fd is the restored task's /proc directory. (A file of
 * a task outside the tree is refused: proc01.) Sabotage replaces the
 * status fd with one of the child's.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

static int child(void *arg)
{
	(void)arg;
	test_daemon();
	test_waitsig();
	return 0;
}

/* field reads the value of "Key:" from an open status file. */
static long field(int fd, const char *key)
{
	char buf[4096], *p;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strstr(buf, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

int main(int argc, char **argv)
{
	int status, stat_fd, dir_fd, comm_fd, fd;
	char p[128], buf[256];
	struct stat st, want;
	pid_t kid;
	off_t off;

	test_init(argc, argv);
	kid = test_spawn(child, NULL);
	if (kid < 0)
		return 1;
	prctl(PR_SET_NAME, "proc00-main");
	status = open("/proc/self/status", O_RDONLY);
	snprintf(p, sizeof(p), "/proc/%d/stat", kid);
	stat_fd = open(p, O_RDONLY);
	snprintf(p, sizeof(p), "/proc/%d", getpid());
	dir_fd = open(p, O_RDONLY | O_DIRECTORY);
	snprintf(p, sizeof(p), "/proc/self/task/%d/comm", getpid());
	comm_fd = open(p, O_RDONLY);
	if (status < 0 || stat_fd < 0 || dir_fd < 0 || comm_fd < 0) {
		fail("open the /proc files");
		return 1;
	}
	if (read(status, buf, 10) != 10) {
		fail("read status");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		snprintf(p, sizeof(p), "/proc/%d/status", kid);
		fd = open(p, O_RDONLY);
		dup2(fd, status);
		lseek(status, 10, SEEK_SET);
	}
	if (field(status, "\nPid:") != getpid())
		fail("/proc/self/status says pid %ld, want %d", field(status, "\nPid:"), getpid());
	off = lseek(status, 0, SEEK_CUR);
	if (off != 10)
		fail("/proc/self/status at offset %lld, want 10", (long long)off);
	memset(buf, 0, sizeof(buf));
	if (pread(stat_fd, buf, sizeof(buf) - 1, 0) <= 0 || atoi(buf) != kid)
		fail("the child's stat reads %.20s, want pid %d", buf, kid);
	fd = openat(dir_fd, "status", O_RDONLY);
	if (fd < 0 || field(fd, "\nPid:") != getpid())
		fail("the /proc directory fd is not of pid %d", getpid());
	snprintf(p, sizeof(p), "/proc/%d", getpid());
	if (fstat(dir_fd, &st) || stat(p, &want) || st.st_ino != want.st_ino)
		fail("the /proc directory fd is not %s", p);
	memset(buf, 0, sizeof(buf));
	if (pread(comm_fd, buf, sizeof(buf) - 1, 0) <= 0 || strcmp(buf, "proc00-main\n"))
		fail("comm reads %s", buf);
	test_stop_children();
	pass();
	return test_exit();
}
