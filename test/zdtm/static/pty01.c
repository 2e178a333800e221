/*
 * pty01: a session with a controlling pty and a foreground process group
 * inside the set survives C/R.
 *
 *	init: holds the pty master
 *	 └─ A: setsid, opens the slave (its controlling terminal)
 *	     ├─ B: its own group, the terminal's foreground group
 *	     └─ C: in A's group (background); holds /dev/tty only
 *
 * After restore: A's terminal is still its session's, with B in the
 * foreground (tcgetsid, tcgetpgrp, /proc/self/stat tty_nr); C still has
 * the controlling terminal it inherited (it opens /dev/tty again, and
 * the /dev/tty it held across C/R still leads to it); and the interrupt character typed on the master reaches
 * B, the foreground group.  (C compares its tty_nr with A's, and A its
 * tty_nr with the slave it holds.) The runner also compares `ps` inside the
 * namespace, whose stat column marks the foreground group with '+'.
 * Sabotage: A puts its own group in the foreground.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "nsutil.h"

static int master = -1;
static char slave_path[64];
static pid_t pid_a, pid_b;
static volatile sig_atomic_t got_int;

static void on_int(int sig)
{
	(void)sig;
	got_int = 1;
}

/* tty_nr is field 7 of /proc/PID/stat (0: self). */
static long stat_tty_nr(pid_t pid)
{
	char buf[1024], *p;
	long nr = -1;
	FILE *f;

	snprintf(buf, sizeof(buf), "/proc/%d/stat", pid ? pid : getpid());
	f = fopen(buf, "r");

	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		sscanf(p + 2, "%*c %*d %*d %*d %ld", &nr);
	fclose(f);
	return nr;
}

/* same_tty tells whether the controlling terminal in /proc/self/stat is
 * the device fd is open on. */
static int same_tty(int fd)
{
	struct stat st;
	long nr = stat_tty_nr(0);

	if (fstat(fd, &st) || nr <= 0)
		return 0;
	return (unsigned)((nr >> 8) & 0xfff) == major(st.st_rdev) &&
	       (unsigned)((nr & 0xff) | ((nr >> 12) & 0xfff00)) == minor(st.st_rdev);
}

static int task_b(void *arg)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	(void)arg;
	if (setpgid(0, 0)) {
		fail("B: setpgid");
		return 1;
	}
	signal(SIGINT, on_int);
	test_daemon();
	test_waitsig();
	/* The init typed the interrupt character before stopping us; the
	 * line discipline delivers it on its own time: wait for it. */
	for (int i = 0; i < 1000 && !got_int; i++)
		nanosleep(&ts, NULL);
	if (!got_int)
		fail("B: the interrupt character typed on the master did not reach the foreground group");
	return 0;
}

static int task_c(void *arg)
{
	int fd, held;

	(void)arg;
	held = open("/dev/tty", O_RDWR);
	if (held < 0) {
		fail("C: open /dev/tty");
		return 1;
	}
	test_daemon();
	test_waitsig();
	if (tcgetsid(held) != pid_a || tcgetpgrp(held) != pid_b)
		fail("C: the /dev/tty held across C/R leads to session %d, foreground %d; want %d, %d", tcgetsid(held),
		     tcgetpgrp(held), pid_a, pid_b);
	fd = open("/dev/tty", O_RDWR | O_NOCTTY);
	if (fd < 0)
		fail("C: no controlling terminal after restore");
	else {
		if (stat_tty_nr(0) <= 0 || stat_tty_nr(0) != stat_tty_nr(pid_a))
			fail("C: controlling terminal %#lx in /proc/self/stat, A's is %#lx", stat_tty_nr(0), stat_tty_nr(pid_a));
		if (tcgetsid(fd) != pid_a)
			fail("C: its terminal's session is %d, want A's %d", tcgetsid(fd), pid_a);
		if (tcgetpgrp(fd) != pid_b)
			fail("C: its terminal's foreground group is %d, want B's %d", tcgetpgrp(fd), pid_b);
		close(fd);
	}
	return 0;
}

static int task_a(void *arg)
{
	int s;

	(void)arg;
	close(master);
	/* Only B may get the interrupt; should it reach A's group (C
	 * inherits this), the test must still end, with B's verdict. */
	signal(SIGINT, SIG_IGN);
	if (setsid() < 0) {
		fail("A: setsid");
		return 1;
	}
	pid_a = getpid();
	s = open(slave_path, O_RDWR); /* no O_NOCTTY: it becomes our terminal */
	if (s < 0 || tcgetsid(s) != pid_a) {
		fail("A: %s did not become the controlling terminal", slave_path);
		return 1;
	}
	pid_b = test_spawn(task_b, NULL);
	if (pid_b < 0 || test_spawn(task_c, NULL) < 0)
		return 1;
	if (tcsetpgrp(s, pid_b)) {
		fail("A: tcsetpgrp");
		return 1;
	}
	test_daemon();
	test_waitsig();
	if (test_sabotage()) {
		signal(SIGTTOU, SIG_IGN);
		tcsetpgrp(s, pid_a);
	}
	if (tcgetsid(s) != pid_a)
		fail("A: the terminal's session is %d, want %d", tcgetsid(s), pid_a);
	if (tcgetpgrp(s) != pid_b)
		fail("A: the foreground group is %d, want B's %d", tcgetpgrp(s), pid_b);
	if (!same_tty(s))
		fail("A: the slave is not the controlling terminal in /proc/self/stat");
	test_stop_children();
	return 0;
}

int main(int argc, char **argv)
{
	struct termios tio;

	test_init(argc, argv);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master) || ptsname_r(master, slave_path, sizeof(slave_path))) {
		fail("posix_openpt");
		return 1;
	}
	if (test_spawn(task_a, NULL) < 0)
		return 1;

	test_daemon();
	test_waitsig();

	if (tcgetattr(master, &tio) || write(master, &tio.c_cc[VINTR], 1) != 1)
		fail("type the interrupt character");
	test_stop_children();
	reap_rest();
	pass();
	return test_exit();
}
