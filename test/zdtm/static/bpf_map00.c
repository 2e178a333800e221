/*
 * bpf_map00: a process holding a bpf array map (bpf BPF_MAP_CREATE). Its state lives in the kernel where
 * no syscall reads it back, so the checkpoint must be refused naming the
 * kind (bpf map, .desc crfail and refusal) and the process carry on: the
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
#include <linux/bpf.h>

#include "refusedfd.h"

static int open_it(void)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 4;
	return syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
}

int main(int argc, char **argv)
{
	return refused_fd_main(argc, argv, "bpf map", open_it);
}
