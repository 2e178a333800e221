/*
 * perf_event00: a process holding a perf_event counter (perf_event_open). Its state lives in the kernel where
 * no syscall reads it back, so the checkpoint must be refused naming the
 * kind (perf_event, .desc crfail and refusal) and the process carry on: the
 * fd is still open and still the same file afterwards.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/perf_event.h>

#include "refusedfd.h"

static int open_it(void)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_SOFTWARE;
	a.size = sizeof(a);
	a.config = PERF_COUNT_SW_TASK_CLOCK;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	return syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

int main(int argc, char **argv)
{
	return refused_fd_main(argc, argv, "perf_event", open_it);
}
