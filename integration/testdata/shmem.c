/*
 * shmem: shared memory between two processes for TestRestoreSharedMemory.
 * The parent maps MAP_SHARED|MAP_ANONYMOUS memory and a memfd (sealed
 * against shrinking), fills both with a pattern and forks a child, which
 * maps the memfd a second time at an offset. Then they take turns, forever:
 * the parent bumps a counter in each kind of memory, the child sees it and
 * answers through its own mappings. Every round is logged; a round where a
 * write is not seen by the other side, or a pattern byte is wrong, logs BAD.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define LEN (64 * 4096)
#define PAT(i) ((unsigned char)((i) * 7 + 3))

int main(int argc, char **argv)
{
	FILE *log = fopen(argv[1], "a");
	volatile unsigned char *anon, *mfd, *mfd2;
	volatile unsigned int *ping, *pong, *mping, *mpong;
	char path[64];
	int fd;

	setvbuf(log, NULL, _IOLBF, 0);
	anon = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fd = memfd_create("ckpt-test-mfd", MFD_ALLOW_SEALING);
	if (anon == MAP_FAILED || fd < 0 || ftruncate(fd, LEN))
		return 1;
	mfd = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mfd == MAP_FAILED || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK))
		return 1;
	close(fd);
	for (int i = 0; i < LEN / 2; i++)
		anon[i] = mfd[i] = PAT(i);
	ping = (void *)(anon + LEN - 8), pong = (void *)(anon + LEN - 4);
	mping = (void *)(mfd + LEN - 8), mpong = (void *)(mfd + LEN - 4);
	if (fork() == 0) {
		snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)mfd, (unsigned long)mfd + LEN);
		fd = open(path, O_RDWR);
		mfd2 = mmap(NULL, LEN / 2, PROT_READ | PROT_WRITE, MAP_SHARED, fd, LEN / 2);
		if (fd < 0 || mfd2 == MAP_FAILED)
			return 1;
		close(fd);
		for (;;) {
			if (*ping != *pong)
				*pong = *ping;
			if (*mping != *(volatile unsigned int *)(mfd2 + LEN / 2 - 4))
				*(volatile unsigned int *)(mfd2 + LEN / 2 - 4) = *mping;
			usleep(1000);
		}
	}
	for (unsigned int round = 1;; round++) {
		int bad = 0, i;

		*ping = round, *mping = round;
		for (i = 0; i < 2000 && (*pong != round || *mpong != round); i++)
			usleep(1000);
		for (int j = 0; j < LEN / 2; j++)
			if (anon[j] != PAT(j) || mfd[j] != PAT(j))
				bad = 1;
		fprintf(log, "%s %u\n", bad || i == 2000 ? "BAD" : "ok", round);
		usleep(20000);
	}
}
