/*
 * fanotify00: a process holding a fanotify group with a mark on its test directory. Its state lives in the kernel where
 * no syscall reads it back, so the checkpoint must be refused naming the
 * kind (fanotify, .desc crfail and refusal) and the process carry on: the
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
#include <sys/fanotify.h>

#include "refusedfd.h"

static int open_it(void)
{
	int fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY);

	if (fd >= 0 && fanotify_mark(fd, FAN_MARK_ADD, FAN_MODIFY, AT_FDCWD, test_dir()))
		return -1;
	return fd;
}

int main(int argc, char **argv)
{
	return refused_fd_main(argc, argv, "fanotify", open_it);
}
