/*
 * pty02: a pty's slave keeps its owner and mode (fchown and fchmod on the
 * slave, as login programs and terminal servers do) across C/R. Sabotage
 * gives the slave back to root after test_daemon.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define UID 4321
#define GID 8765
#define MODE 0620

int main(int argc, char **argv)
{
	struct stat st;
	int m, s;

	test_init(argc, argv);
	m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) || unlockpt(m)) {
		fail("posix_openpt");
		return 1;
	}
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	if (s < 0 || fchown(s, UID, GID) || fchmod(s, MODE)) {
		fail("open and chown the slave");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		fchown(s, 0, 0);
	if (fstat(s, &st))
		fail("fstat the slave");
	else if (st.st_uid != UID || st.st_gid != GID || (st.st_mode & 07777) != MODE)
		fail("slave owner %d:%d mode %#o, want %d:%d %#o", st.st_uid, st.st_gid, st.st_mode & 07777, UID, GID, MODE);
	if (write(s, "x", 1) != 1)
		fail("write to the slave");
	pass();
	return test_exit();
}
