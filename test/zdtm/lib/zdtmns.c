/*
 * zdtmns: the ns flavor of the zdtm contract (see zdtmtst.h) and the
 * helpers for tests made of several processes.
 *
 * In the ns flavor the launcher (the process the runner started) creates
 * the test's init: unshare(CLONE_NEWPID) and fork, or, for a leak test,
 * through an outside helper that forks it and stays. The init tells the
 * launcher it is ready through a FIFO beside the pidfile, opened by name
 * in test_daemon: a pipe inherited at fork would also sit in every child
 * the init forked before that, and the launcher would never see its end.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "zdtm_int.h"

#define MAX_KIDS 256

static int newns;
/* ready_fifo is set in the namespace's init only, until test_daemon. */
static char *ready_fifo;
static pid_t kids[MAX_KIDS];
static int nkids;
static int outside_set;
static unsigned long outside_flags;
static void (*outside_setup)(void);

int zdtm_ns_wanted(void)
{
	const char *v = getenv("ZDTM_NEWNS");

	newns = v && !strcmp(v, "1");
	if (outside_set && !newns) {
		fprintf(stderr, "zdtm: test_outside needs the ns flavor (ZDTM_NEWNS=1)\n");
		exit(2);
	}
	return newns;
}

int test_newns(void)
{
	return newns;
}

void test_outside(unsigned long clone_flags, void (*setup)(void))
{
	outside_set = 1;
	outside_flags = clone_flags;
	outside_setup = setup;
}

static void die(const char *what)
{
	fprintf(stderr, "zdtm: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* abs_path makes a runner-given path absolute: the test may chdir before
 * test_daemon opens the FIFO. */
static char *abs_path(const char *p, const char *suffix)
{
	char cwd[PATH_MAX], *r;

	if (p[0] == '/') {
		if (asprintf(&r, "%s%s", p, suffix) < 0)
			abort();
		return r;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		die("getcwd");
	if (asprintf(&r, "%s/%s%s", cwd, p, suffix) < 0)
		abort();
	return r;
}

static void describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "status %#x", status);
}

/* first_child reads the one child the outside helper made: the init. */
static pid_t first_child(pid_t pid)
{
	char path[64], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return atoi(buf);
}

static int write_outside_pid(pid_t pid)
{
	char *path = abs_path(zdtm_pidfile, ".outside"), *tmp = abs_path(zdtm_pidfile, ".outside.tmp");
	FILE *f = fopen(tmp, "w");

	if (!f)
		return -1;
	fprintf(f, "%d\n", pid);
	if (fclose(f))
		return -1;
	return rename(tmp, path);
}

/* ns_parent_wait is the launcher's life in the ns flavor: wait until the
 * init wrote its byte and closed the FIFO, publish the pids, exit. watch
 * is the init, or the outside helper that lives as long as it does. */
static void ns_parent_wait(pid_t watch, int rfd, int outside)
{
	int pidfd = syscall(SYS_pidfd_open, watch, 0), got = 0, status;
	struct pollfd pfd[2] = { { .fd = rfd, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
	char c, how[64];
	pid_t init = watch;
	ssize_t n;

	if (pidfd < 0)
		die("pidfd_open");
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pfd[0].revents) {
			n = read(rfd, &c, 1);
			if (n == 1 && c == 'R') {
				got = 1;
				continue;
			}
			if (n == 0 && got)
				break;
			if (n == 0 || n == 1) {
				fprintf(stderr, "zdtm: the test closed its ready FIFO without test_daemon\n");
				exit(1);
			}
		}
		if (pfd[1].revents) {
			if (waitpid(watch, &status, 0) == watch)
				describe(status, how, sizeof(how));
			else
				snprintf(how, sizeof(how), "gone");
			fprintf(stderr, "zdtm: test died before test_daemon (%s), see %s\n", how, zdtm_outfile);
			exit(1);
		}
	}
	unlink(ready_fifo);
	if (outside) {
		init = first_child(watch);
		if (init <= 0 || write_outside_pid(watch)) {
			fprintf(stderr, "zdtm: no init under the outside helper %d\n", watch);
			kill(watch, SIGKILL);
			exit(1);
		}
	}
	if (zdtm_write_pidfile(init)) {
		fprintf(stderr, "zdtm: write pidfile %s: %s\n", zdtm_pidfile, strerror(errno));
		kill(init, SIGKILL);
		exit(1);
	}
	exit(0);
}

/* ns_child makes the new init's mount namespace, as --mount-proc does:
 * private propagation first, or the /proc mount would reach the host. */
static void ns_child(void)
{
	if (getpid() != 1) {
		fprintf(stderr, "zdtm: the ns flavor's init is pid %d, not 1\n", getpid());
		exit(1);
	}
	/* Until test_daemon, a launcher killed by the runner (a test that
	 * never got ready) takes the init with it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL))
		die("prctl(PR_SET_PDEATHSIG)");
	if (unshare(CLONE_NEWNS))
		die("unshare(CLONE_NEWNS)");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		die("make / private");
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		die("mount /proc");
}

/* clone_vfork is clone(CLONE_VM | CLONE_VFORK) without a new stack: the
 * child goes on on this very stack, so the parent, once the child is gone,
 * must leave without touching it: it exits from here in assembly. */
static long clone_vfork(unsigned long flags)
{
	register long r10 asm("r10") = 0;
	register long r8 asm("r8") = 0;
	long ret;

	asm volatile("syscall\n\t"
		     "test %%rax, %%rax\n\t"
		     "jle 1f\n\t"
		     "mov %[exit], %%eax\n\t"
		     "xor %%edi, %%edi\n\t"
		     "syscall\n\t"
		     "1:\n\t"
		     : "=a"(ret)
		     : "0"((long)SYS_clone), "D"(flags), "S"(0L), "d"(0L), "r"(r10), "r"(r8),
		       [exit] "i"(SYS_exit_group)
		     : "rcx", "r11", "memory");
	return ret;
}

/* outside_main is the outside helper: it returns only in the init it
 * creates, and otherwise lives as long as that init does. */
static void outside_main(void)
{
	long pid;
	int fd, status;

	/* Off the runner's output pipe: the runner waits for its EOF. */
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, 0) < 0)
		die("outside helper: /dev/null");
	close(fd);
	fd = open(zdtm_outfile, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		die("outside helper: outfile");
	close(fd);
	setsid();
	if (outside_setup)
		outside_setup();
	if (unshare(CLONE_NEWPID))
		die("outside helper: unshare(CLONE_NEWPID)");
	if (outside_flags & CLONE_VM)
		pid = clone_vfork(outside_flags | CLONE_VFORK | SIGCHLD);
	else
		pid = syscall(SYS_clone, outside_flags | SIGCHLD, 0, 0, 0, 0);
	if (pid < 0)
		die("outside helper: clone");
	if (pid == 0)
		return;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	_exit(0);
}

void zdtm_ns_init(void)
{
	pid_t pid;
	int rfd;

	ready_fifo = abs_path(zdtm_pidfile, ".ready");
	unlink(ready_fifo);
	if (mkfifo(ready_fifo, 0600))
		die("mkfifo");
	rfd = open(ready_fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (rfd < 0)
		die("open the ready FIFO");
	if (outside_set) {
		pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			close(rfd);
			outside_main();
			ns_child();
			return;
		}
		ns_parent_wait(pid, rfd, 1);
	}
	if (unshare(CLONE_NEWPID))
		die("unshare(CLONE_NEWPID)");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid > 0)
		ns_parent_wait(pid, rfd, 0);
	close(rfd);
	ns_child();
}

int zdtm_ns_daemon(void)
{
	int fd;

	if (!ready_fifo)
		return 0;
	/* The launcher exits once it has the byte: that is no death to die
	 * of. */
	prctl(PR_SET_PDEATHSIG, 0);
	fd = open(ready_fifo, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "R", 1) != 1)
		fail("tell the launcher we are ready through %s", ready_fifo);
	if (fd >= 0)
		close(fd);
	free(ready_fifo);
	ready_fifo = NULL;
	return 1;
}

/* child_reset makes a fresh child forget what belongs to its parent. */
static void child_reset(void)
{
	if (zdtm_ready_fd >= 0)
		close(zdtm_ready_fd);
	zdtm_ready_fd = -1;
	ready_fifo = NULL;
	nkids = 0;
}

pid_t test_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		child_reset();
	return pid;
}

pid_t test_spawn(int (*fn)(void *), void *arg)
{
	int p[2], status, rc;
	char c, how[64];
	ssize_t n;
	pid_t pid;

	if (nkids == MAX_KIDS) {
		fail("more than %d spawned children", MAX_KIDS);
		return -1;
	}
	if (pipe2(p, O_CLOEXEC)) {
		fail("pipe for a child's ready byte");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		fail("fork");
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		child_reset();
		zdtm_ready_fd = p[1];
		rc = fn(arg);
		_exit(rc || zdtm_failed ? 1 : 0);
	}
	close(p[1]);
	do
		n = read(p[0], &c, 1);
	while (n < 0 && errno == EINTR);
	/* The child closes its end right after the byte: wait for that too,
	 * so that whoever looks at the tree next does not see the pipe. */
	for (ssize_t r = n; n == 1 && r != 0;) {
		r = read(p[0], &c, 1);
		if (r < 0 && errno != EINTR)
			break;
	}
	close(p[0]);
	if (n != 1) {
		if (waitpid(pid, &status, 0) == pid)
			describe(status, how, sizeof(how));
		else
			snprintf(how, sizeof(how), "not waitable");
		fail("child %d died before its test_daemon (%s)", pid, how);
		return -1;
	}
	kids[nkids++] = pid;
	return pid;
}

int test_stop_children(void)
{
	int bad = 0, status;
	char how[64];
	pid_t r;

	for (int i = 0; i < nkids; i++)
		kill(kids[i], SIGTERM);
	for (int i = 0; i < nkids; i++) {
		do
			r = waitpid(kids[i], &status, 0);
		while (r < 0 && errno == EINTR);
		if (r != kids[i]) {
			fail("child %d cannot be waited for", kids[i]);
			bad++;
			continue;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			describe(status, how, sizeof(how));
			fail("child %d ended with %s", kids[i], how);
			bad++;
		}
	}
	nkids = 0;
	return bad;
}
