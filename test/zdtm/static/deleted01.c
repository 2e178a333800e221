/*
 * deleted01: a file written, given set-user-ID and set-group-ID bits
 * (06604), an owner and times in the past, then deleted while open, comes
 * back with its contents, mode, owner and times: restore re-creates it and
 * writes its data, which must not show. Sabotage changes the mode after
 * test_daemon.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define LEN 100000
#define MODE 06604
#define UID 1234
#define GID 5678

static uint8_t want[LEN], got[LEN];

int main(int argc, char **argv)
{
	struct timespec ts[2] = {{1000000000, 111}, {123456, 222}};
	char path[512];
	struct stat st;
	uint32_t crc = 7;
	int fd;

	test_init(argc, argv);
	datagen(want, LEN, &crc);
	snprintf(path, sizeof(path), "%s/attr", test_dir());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, want, LEN) != LEN || fchown(fd, UID, GID) || fchmod(fd, MODE) ||
	    futimens(fd, ts) || unlink(path)) {
		fail("make the deleted file");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		fchmod(fd, 0644);
	if (fstat(fd, &st))
		fail("fstat");
	else {
		if ((st.st_mode & 07777) != MODE || st.st_uid != UID || st.st_gid != GID)
			fail("mode %#o owner %d:%d, want %#o %d:%d", st.st_mode & 07777, st.st_uid, st.st_gid, MODE, UID, GID);
		if (st.st_mtim.tv_sec != ts[1].tv_sec || st.st_mtim.tv_nsec != ts[1].tv_nsec ||
		    st.st_atim.tv_sec != ts[0].tv_sec || st.st_atim.tv_nsec != ts[0].tv_nsec)
			fail("atime %ld.%09ld mtime %ld.%09ld, want %ld.%09ld and %ld.%09ld", (long)st.st_atim.tv_sec,
			     st.st_atim.tv_nsec, (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (long)ts[0].tv_sec,
			     ts[0].tv_nsec, (long)ts[1].tv_sec, ts[1].tv_nsec);
		if (st.st_nlink != 0 || st.st_size != LEN)
			fail("links %ld size %ld", (long)st.st_nlink, (long)st.st_size);
	}
	if (pread(fd, got, LEN, 0) != LEN || memcmp(got, want, LEN))
		fail("the contents differ");
	pass();
	return test_exit();
}
