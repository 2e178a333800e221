/*
 * memfd02: a memfd's mode bits (fchmod) and owner survive C/R: one memfd
 * made read-only for everyone but its owner (0604), one held only open, the
 * other also mapped shared. Sabotage changes a mode after test_daemon.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

static void mode(const char *what, int fd, mode_t want)
{
	struct stat st;

	if (fstat(fd, &st))
		fail("%s: fstat", what);
	else if ((st.st_mode & 07777) != want)
		fail("%s: mode %#o, want %#o", what, st.st_mode & 07777, want);
}

int main(int argc, char **argv)
{
	int a, b;
	char *m;

	test_init(argc, argv);
	a = memfd_create("zdtm-mode-a", 0);
	b = memfd_create("zdtm-mode-b", 0);
	if (a < 0 || b < 0 || ftruncate(b, 4096) || fchmod(a, 0604) || fchmod(b, 0750)) {
		fail("make the memfds");
		return 1;
	}
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, b, 0);
	if (m == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	strcpy(m, "mapped");

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		fchmod(a, 0600);
	mode("open memfd", a, 0604);
	mode("mapped memfd", b, 0750);
	if (strcmp(m, "mapped"))
		fail("the mapping lost its content");
	pass();
	return test_exit();
}
