/*
 * oom_score_adj00: /proc/PID/oom_score_adj survives C/R, in the test and
 * in a child that set another value.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MINE 777
#define CHILDS 123

static int set_adj(int v)
{
	char buf[16];
	int fd = open("/proc/self/oom_score_adj", O_WRONLY);
	int n = snprintf(buf, sizeof(buf), "%d", v);

	if (fd < 0)
		return -1;
	if (write(fd, buf, n) != n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static int get_adj(pid_t pid)
{
	char path[64], buf[16] = "";
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
		return -9999;
	close(fd);
	return atoi(buf);
}

static int child(void *arg)
{
	(void)arg;
	if (set_adj(CHILDS)) {
		fail("child: set oom_score_adj");
		return 1;
	}
	test_daemon();
	test_waitsig();
	if (get_adj(getpid()) != CHILDS)
		fail("child: oom_score_adj %d, want %d", get_adj(getpid()), CHILDS);
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (set_adj(MINE)) {
		fail("set oom_score_adj");
		return 1;
	}
	if (test_spawn(child, NULL) < 0)
		return 1;

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		set_adj(0);
	if (get_adj(getpid()) != MINE)
		fail("oom_score_adj %d, want %d", get_adj(getpid()), MINE);
	test_stop_children();
	pass();
	return test_exit();
}
