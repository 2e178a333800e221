/*
 * userfaultfd00: a process holding a userfaultfd. Its state lives in the kernel where
 * no syscall reads it back, so the checkpoint must be refused naming the
 * kind (userfaultfd, .desc crfail and refusal) and the process carry on: the
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
#include <linux/userfaultfd.h>

#include "refusedfd.h"

static int open_it(void)
{
	return syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
}

int main(int argc, char **argv)
{
	return refused_fd_main(argc, argv, "userfaultfd", open_it);
}
