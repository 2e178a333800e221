/*
 * file_times00: the restore leaves the times of the files the task holds
 * as they were: a file open for reading and writing at an offset, one
 * open O_APPEND, one read-only and one write-only, each with an access and
 * a modification time set in the past (older than a day, so any read or
 * write by the restore would move them). After restore each file's
 * atime, mtime and size are unchanged and its description still works.
 * Sabotage touches one file after test_daemon.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define N 4

static const int flags[N] = {O_RDWR, O_WRONLY | O_APPEND, O_RDONLY, O_WRONLY};

int main(int argc, char **argv)
{
	struct timespec ts[2] = {{1000000000, 123456789}, {1100000000, 987654321}};
	char path[N][512], buf[8];
	struct stat before[N], st;
	int fd[N], i;

	test_init(argc, argv);
	for (i = 0; i < N; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/times%d", test_dir(), i);
		int w = open(path[i], O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (w < 0 || write(w, "0123456789", 10) != 10 || close(w)) {
			fail("create %s", path[i]);
			return 1;
		}
		fd[i] = open(path[i], flags[i]);
		if (fd[i] < 0 || futimens(fd[i], ts) || fstat(fd[i], &before[i])) {
			fail("open and set the times of %s", path[i]);
			return 1;
		}
	}
	if (lseek(fd[0], 3, SEEK_SET) != 3) {
		fail("lseek");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		utimensat(AT_FDCWD, path[2], NULL, 0);
	for (i = 0; i < N; i++) {
		if (stat(path[i], &st)) {
			fail("stat %s", path[i]);
			continue;
		}
		if (st.st_atim.tv_sec != before[i].st_atim.tv_sec || st.st_atim.tv_nsec != before[i].st_atim.tv_nsec ||
		    st.st_mtim.tv_sec != before[i].st_mtim.tv_sec || st.st_mtim.tv_nsec != before[i].st_mtim.tv_nsec)
			fail("%s: atime %ld.%09ld mtime %ld.%09ld, want %ld.%09ld and %ld.%09ld", path[i],
			     (long)st.st_atim.tv_sec, st.st_atim.tv_nsec, (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			     (long)before[i].st_atim.tv_sec, before[i].st_atim.tv_nsec,
			     (long)before[i].st_mtim.tv_sec, before[i].st_mtim.tv_nsec);
		if (st.st_size != 10)
			fail("%s: size %ld, want 10", path[i], (long)st.st_size);
	}
	if (read(fd[0], buf, 2) != 2 || memcmp(buf, "34", 2))
		fail("the read-write file lost its offset");
	if (write(fd[1], "x", 1) != 1 || lseek(fd[1], 0, SEEK_CUR) != 11)
		fail("the O_APPEND file does not append");
	pass();
	return test_exit();
}
