/*
 * pty00: a pseudo-terminal pair held by the task survives C/R with its
 * settings, its window size, its exclusive mode, the flags of each slave
 * description, and the data queued in both directions, then still works
 * as a pair.
 *
 * The slave is canonical, without echo, with ICRNL and OPOST|ONLCR. Typed
 * on the master and unread: two complete lines and a partial one. Written
 * on the slave and unread by the master: "out\n" (the master reads
 * "out\r\n") and "tab\there". After restore the slave reads the two lines
 * one by one, the partial line is still not readable until its end is
 * typed, the master reads the output, and more data goes both ways.
 * A second pty, whose slave nobody opened, is in packet mode and locked:
 * after restore it still is both, its master reads nothing (EAGAIN: no
 * slave was ever open), and once unlocked its master reads the slave's
 * output behind a packet header. A third pty's slave was opened, written
 * to and closed: its master reads that output, then EIO.
 * Sabotage reads one line off the slave before checking.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "zdtmtst.h"

#define TYPED "line one\nline two\npartial"
#define WRITTEN "out\ntab\there"
#define READ_BACK "out\r\ntab\there"

/* read_wait reads exactly len bytes from fd, waiting for them. */
static int read_wait(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 10000) != 1)
			return -1;
		n = read(fd, buf + got, len - got);
		if (n <= 0)
			return -1;
		got += n;
	}
	return 0;
}

/* expect_line reads one canonical line from the slave, waiting a while
 * for it: a missing line fails instead of blocking. */
static void expect_line(int fd, const char *want)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[256];
	ssize_t n = -1;

	if (poll(&p, 1, 5000) == 1)
		n = read(fd, buf, sizeof(buf));

	if (n != (ssize_t)strlen(want) || memcmp(buf, want, n))
		fail("the slave read %zd bytes %.*s, want %s", n, n > 0 ? (int)n : 0, buf, want);
}

int main(int argc, char **argv)
{
	struct termios tio, got;
	struct winsize ws = { .ws_row = 33, .ws_col = 111, .ws_xpixel = 7, .ws_ypixel = 9 }, gws;
	int m, s, s2, excl = 0, fl, idx, m2, one = 1, zero = 0, pkt = 0, lck = 0, s3, m3, t3;
	char buf[64];
	struct stat st;

	test_init(argc, argv);
	m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) || unlockpt(m)) {
		fail("posix_openpt");
		return 1;
	}
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	s2 = open(ptsname(m), O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (s < 0 || s2 < 0) {
		fail("open the slave %s", ptsname(m));
		return 1;
	}
	if (tcgetattr(s, &tio)) {
		fail("tcgetattr");
		return 1;
	}
	tio.c_iflag = ICRNL | IXON;
	tio.c_oflag = OPOST | ONLCR;
	tio.c_lflag = ICANON | ISIG | IEXTEN;
	tio.c_cc[VINTR] = 0x01;
	tio.c_cc[VERASE] = 'X'; /* a letter: the typed text must not be edited */
	cfsetspeed(&tio, B9600);
	if (tcsetattr(s, TCSANOW, &tio) || ioctl(m, TIOCSWINSZ, &ws) || ioctl(s, TIOCEXCL)) {
		fail("set up the slave");
		return 1;
	}
	if (tcgetattr(s, &tio)) {
		fail("tcgetattr");
		return 1;
	}
	m2 = posix_openpt(O_RDWR | O_NOCTTY);
	if (m2 < 0 || ioctl(m2, TIOCPKT, &one)) {
		fail("the packet-mode pty");
		return 1;
	}
	m3 = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (m3 < 0 || unlockpt(m3) || (t3 = open(ptsname(m3), O_RDWR | O_NOCTTY)) < 0 || write(t3, "bye", 3) != 3) {
		fail("the closed pty");
		return 1;
	}
	close(t3);
	if (write(m, TYPED, strlen(TYPED)) != (ssize_t)strlen(TYPED) ||
	    write(s, WRITTEN, strlen(WRITTEN)) != (ssize_t)strlen(WRITTEN)) {
		fail("queue the data");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		read(s, buf, sizeof(buf));
	if (tcgetattr(s, &got))
		fail("tcgetattr after restore");
	else if (got.c_iflag != tio.c_iflag || got.c_oflag != tio.c_oflag || got.c_cflag != tio.c_cflag ||
		 got.c_lflag != tio.c_lflag || memcmp(got.c_cc, tio.c_cc, NCCS) ||
		 cfgetispeed(&got) != cfgetispeed(&tio) || cfgetospeed(&got) != cfgetospeed(&tio))
		fail("termios changed: iflag %#x oflag %#x cflag %#x lflag %#x, want %#x %#x %#x %#x", got.c_iflag,
		     got.c_oflag, got.c_cflag, got.c_lflag, tio.c_iflag, tio.c_oflag, tio.c_cflag, tio.c_lflag);
	if (ioctl(s, TIOCGWINSZ, &gws) || memcmp(&gws, &ws, sizeof(ws)))
		fail("window size %dx%d (%dx%d px), want %dx%d (%dx%d px)", gws.ws_row, gws.ws_col, gws.ws_xpixel,
		     gws.ws_ypixel, ws.ws_row, ws.ws_col, ws.ws_xpixel, ws.ws_ypixel);
	if (ioctl(s, TIOCGEXCL, &excl) || excl != 1)
		fail("the slave is no longer in exclusive mode");
	fl = fcntl(s2, F_GETFL);
	if (fl < 0 || !(fl & O_NONBLOCK) || (fcntl(s, F_GETFL) & O_NONBLOCK))
		fail("slave description flags: %#x and %#x", fcntl(s, F_GETFL), fl);
	/* The slaves belong to the master. */
	if (ioctl(m, TIOCGPTN, &idx) || fstat(s, &st) || (int)minor(st.st_rdev) + ((int)major(st.st_rdev) - 136) * 256 != idx)
		fail("the slave is not the master's pty %d", idx);

	expect_line(s, "line one\n");
	expect_line(s, "line two\n");
	if (read(s2, buf, sizeof(buf)) != -1 || errno != EAGAIN)
		fail("the partial line became readable before its end");
	if (write(m, " end\n", 5) != 5)
		fail("type the end of the line");
	expect_line(s, "partial end\n");

	if (read_wait(m, buf, strlen(READ_BACK)) || memcmp(buf, READ_BACK, strlen(READ_BACK)))
		fail("the master did not read the queued output");
	fcntl(m, F_SETFL, O_NONBLOCK);
	if (read(m, buf, sizeof(buf)) != -1 || errno != EAGAIN)
		fail("the master read more than the queued output");
	fcntl(m, F_SETFL, 0);

	if (ioctl(m2, TIOCGPKT, &pkt) || pkt != 1)
		fail("the second pty lost packet mode");
	if (ioctl(m2, TIOCGPTLCK, &lck) || lck != 1)
		fail("the second pty is no longer locked");
	fcntl(m2, F_SETFL, O_NONBLOCK);
	if (read(m2, buf, sizeof(buf)) != -1 || errno != EAGAIN)
		fail("the second pty's master reads as if a slave had been open");
	fcntl(m2, F_SETFL, 0);
	if (read(m3, buf, sizeof(buf)) != 3 || memcmp(buf, "bye", 3))
		fail("the third pty's master lost the output of its closed slave");
	if (read(m3, buf, sizeof(buf)) != -1 || errno != EIO)
		fail("the third pty's master does not read EIO after the output: its slave is not closed");
	if (ioctl(m2, TIOCSPTLCK, &zero) || (s3 = ioctl(m2, TIOCGPTPEER, O_RDWR | O_NOCTTY)) < 0)
		fail("unlock and open the second pty's slave");
	else if (write(s3, "p", 1) != 1 || read_wait(m2, buf, 2) || buf[0] != TIOCPKT_DATA || buf[1] != 'p')
		fail("the second pty's master did not read a data packet");

	if (write(s, "ping\n", 5) != 5 || read_wait(m, buf, 6) || memcmp(buf, "ping\r\n", 6))
		fail("slave to master after restore");
	if (write(m, "pong\r", 5) != 5)
		fail("master to slave after restore");
	else
		expect_line(s, "pong\n");
	pass();
	return test_exit();
}
