/*
 * shm_anon00: shared memory stays shared across C/R. A parent maps
 * MAP_SHARED|MAP_ANONYMOUS memory and a memfd (sealed against shrinking),
 * fills them and forks; the child maps the memfd a second time at an
 * offset. After restore, writes by either process are seen by the other
 * through both kinds of memory, the contents are intact, and the memfd
 * kept its name and seals.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define LEN (64 * 4096)

int main(int argc, char **argv)
{
	uint32_t crc_anon, crc_mfd;
	volatile unsigned char *anon, *mfd, *mfd2;
	int fd, pipefd[2], readyfd[2], st;
	char c, path[64], link[256];
	pid_t child;
	ssize_t n;

	test_init(argc, argv);
	anon = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fd = memfd_create("ckpt-test-mfd", MFD_ALLOW_SEALING);
	if (anon == MAP_FAILED || fd < 0 || ftruncate(fd, LEN)) {
		fail("setup");
		return 1;
	}
	mfd = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mfd == MAP_FAILED || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		fail("memfd");
		return 1;
	}
	close(fd);
	datagen((void *)anon, LEN / 2, &crc_anon);
	datagen((void *)mfd, LEN / 2, &crc_mfd);
	if (pipe(pipefd) || pipe(readyfd)) {
		fail("pipe");
		return 1;
	}
	child = fork();
	if (child == 0) {
		/* Map the memfd again, at an offset, through the parent's mapping. */
		snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
			 (unsigned long)mfd, (unsigned long)mfd + LEN);
		fd = open(path, O_RDWR);
		mfd2 = mmap(NULL, LEN / 2, PROT_READ | PROT_WRITE, MAP_SHARED, fd, LEN / 2);
		if (fd < 0 || mfd2 == MAP_FAILED)
			_exit(1);
		close(fd);
		close(pipefd[1]);
		close(readyfd[0]);
		/* Set up: the checkpoint may come now. */
		if (write(readyfd[1], "r", 1) != 1)
			_exit(3);
		close(readyfd[1]);
		/* Wait for the parent's word, then answer through shared memory. */
		while ((n = read(pipefd[0], &c, 1)) == 1) {
			if (anon[LEN - 1] != 0x5a || mfd[LEN - 1] != 0xa5)
				_exit(2);
			anon[LEN - 2] = 0x11;
			mfd2[LEN / 2 - 2] = 0x22;
		}
		_exit(0);
	}
	close(pipefd[0]);
	close(readyfd[1]);
	if (read(readyfd[0], &c, 1) != 1) {
		fail("the child did not get ready");
		return 1;
	}
	/* And wait until it has closed its end: the outside view taken
	 * before the checkpoint must not catch it still open. */
	while (read(readyfd[0], &c, 1) > 0)
		;
	close(readyfd[0]);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		anon[3] ^= 1;
	if (datachk((void *)anon, LEN / 2, &crc_anon))
		fail("anonymous shared memory changed");
	if (datachk((void *)mfd, LEN / 2, &crc_mfd))
		fail("memfd memory changed");
	anon[LEN - 1] = 0x5a;
	mfd[LEN - 1] = 0xa5;
	if (write(pipefd[1], "x", 1) != 1)
		fail("write to the child");
	for (int i = 0; i < 1000 && (anon[LEN - 2] != 0x11 || mfd[LEN - 2] != 0x22); i++)
		usleep(1000);
	if (anon[LEN - 2] != 0x11)
		fail("the child's write to anonymous shared memory was not seen");
	if (mfd[LEN - 2] != 0x22)
		fail("the child's write to the memfd was not seen");
	close(pipefd[1]);
	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st))
		fail("child status %#x", st);
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)mfd, (unsigned long)mfd + LEN);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	if (!strstr(link, "memfd:ckpt-test-mfd"))
		fail("memfd is now %s", link);
	fd = open(path, O_RDWR);
	if (fd < 0 || fcntl(fd, F_GET_SEALS) != F_SEAL_SHRINK)
		fail("memfd seals %#x, want F_SEAL_SHRINK", fd < 0 ? -1 : fcntl(fd, F_GET_SEALS));
	pass();
	return test_exit();
}
