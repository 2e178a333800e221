/*
 * zdtmtst: see zdtmtst.h for the contract. The daemon handshake is a pipe:
 * the parent stays until the child wrote one byte into it from test_daemon,
 * so the pidfile exists only once the state under test is in place.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "zdtm_int.h"

/* sig_received is a futex word: test_waitsig sleeps on it, so a SIGTERM
 * arriving between the check and the sleep cannot be lost, and the signal
 * mask never changes while waiting (the runner compares SigBlk across C/R). */
static volatile uint32_t sig_received;
int zdtm_ready_fd = -1;
int zdtm_failed;
static int passed, sabotage;
char *zdtm_pidfile, *zdtm_outfile;
static char *dirname_opt;
static struct test_option *options;

void test_register_option(struct test_option *opt)
{
	opt->next = options;
	options = opt;
}

static void sigterm_handler(int sig)
{
	(void)sig;
	__atomic_store_n(&sig_received, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &sig_received, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void usage_exit(const char *prog, const char *bad)
{
	struct test_option *o;

	fprintf(stderr, "%s: bad option %s\nusage: %s --pidfile=F --outfile=F [--dirname=D]", prog, bad, prog);
	for (o = options; o; o = o->next)
		fprintf(stderr, " [--%s=%s]", o->name, o->type);
	fprintf(stderr, "\n");
	exit(2);
}

static int set_option(const char *name, size_t nlen, const char *val)
{
	struct test_option *o;
	char *end;

	for (o = options; o; o = o->next) {
		if (strlen(o->name) != nlen || strncmp(o->name, name, nlen))
			continue;
		if (!strcmp(o->type, "string")) {
			*(char **)o->ptr = strdup(val);
			return 0;
		}
		errno = 0;
		long v = strtol(val, &end, 0);
		if (errno || *end || end == val)
			return -1;
		if (!strcmp(o->type, "int"))
			*(int *)o->ptr = (int)v;
		else
			*(long *)o->ptr = v;
		return 0;
	}
	return -1;
}

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq;

		if (strncmp(a, "--", 2) || !(eq = strchr(a, '=')))
			usage_exit(argv[0], a);
		a += 2;
		if (!strncmp(a, "pidfile=", 8))
			zdtm_pidfile = strdup(eq + 1);
		else if (!strncmp(a, "outfile=", 8))
			zdtm_outfile = strdup(eq + 1);
		else if (!strncmp(a, "dirname=", 8))
			dirname_opt = strdup(eq + 1);
		else if (set_option(a, eq - a, eq + 1))
			usage_exit(argv[0], argv[i]);
	}
	if (!zdtm_pidfile || !zdtm_outfile)
		usage_exit(argv[0], "(--pidfile and --outfile are required)");
}

/* zdtm_write_pidfile writes through a temporary name so the runner never reads a
 * half-written pid. */
int zdtm_write_pidfile(pid_t pid)
{
	char tmp[PATH_MAX];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", zdtm_pidfile);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%d\n", pid);
	if (fclose(f))
		return -1;
	return rename(tmp, zdtm_pidfile);
}

/* parent_wait is the parent's whole life: wait for the ready byte, publish
 * the pid, exit. A child dying before test_daemon fails the start. */
static void parent_wait(pid_t child, int rfd)
{
	char c;
	ssize_t n;
	int status;

	do
		n = read(rfd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1) {
		/* Wait for EOF too: the child closes its end right after the
		 * byte, and the runner must not see that pipe among the
		 * test's fds. */
		do
			n = read(rfd, &c, 1);
		while (n > 0 || (n < 0 && errno == EINTR));
		if (zdtm_write_pidfile(child)) {
			fprintf(stderr, "zdtm: write pidfile %s: %s\n", zdtm_pidfile, strerror(errno));
			kill(child, SIGKILL);
			exit(1);
		}
		exit(0);
	}
	if (waitpid(child, &status, 0) == child)
		fprintf(stderr, "zdtm: test died before test_daemon (status %#x), see %s\n", status, zdtm_outfile);
	else
		fprintf(stderr, "zdtm: test closed its ready pipe without test_daemon\n");
	exit(1);
}

void test_init(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = sigterm_handler, .sa_flags = SA_RESTART };
	int p[2], fd;
	pid_t pid;

	parse_args(argc, argv);
	/* Whatever the launcher leaked (a shell's fds, a pipe of a CI job)
	 * would be state outside the test; the test owns only what it opens. */
	close_range(3, ~0U, 0);
	sabotage = getenv("ZDTM_SABOTAGE") && !strcmp(getenv("ZDTM_SABOTAGE"), "1");
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL)) {
		perror("zdtm: sigaction(SIGTERM)");
		exit(1);
	}
	if (zdtm_ns_wanted()) {
		/* Returns in the namespace's init only. */
		zdtm_ns_init();
	} else {
		if (pipe2(p, O_CLOEXEC)) {
			perror("zdtm: pipe");
			exit(1);
		}
		pid = fork();
		if (pid < 0) {
			perror("zdtm: fork");
			exit(1);
		}
		if (pid > 0) {
			close(p[1]);
			parent_wait(pid, p[0]);
		}
		close(p[0]);
		zdtm_ready_fd = p[1];
	}
	if (setsid() < 0) {
		perror("zdtm: setsid");
		exit(1);
	}
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, 0) < 0) {
		perror("zdtm: /dev/null");
		exit(1);
	}
	if (fd != 0)
		close(fd);
	fd = open(zdtm_outfile, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) {
		perror("zdtm: outfile");
		exit(1);
	}
	if (fd > 2)
		close(fd);
	setvbuf(stdout, NULL, _IONBF, 0);
	setvbuf(stderr, NULL, _IONBF, 0);
}

void test_daemon(void)
{
	if (zdtm_ns_daemon())
		return;
	if (zdtm_ready_fd < 0)
		return;
	if (write(zdtm_ready_fd, "R", 1) != 1)
		fail("tell the parent we are ready");
	close(zdtm_ready_fd);
	zdtm_ready_fd = -1;
}

void test_waitsig(void)
{
	while (!__atomic_load_n(&sig_received, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &sig_received, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

int test_go(void)
{
	return !__atomic_load_n(&sig_received, __ATOMIC_SEQ_CST);
}

int test_sabotage(void)
{
	return sabotage;
}

const char *test_dir(void)
{
	return dirname_opt ? dirname_opt : ".";
}

char *test_path(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", test_dir(), name) < 0)
		abort();
	return p;
}

static void vmsg(const char *prefix, const char *fmt, va_list ap, const char *suffix)
{
	char buf[8192];
	int n;

	n = snprintf(buf, sizeof(buf), "%s", prefix);
	n += vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	if (n >= (int)sizeof(buf) - 1)
		n = sizeof(buf) - 2;
	n += snprintf(buf + n, sizeof(buf) - n, "%s\n", suffix);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	if (write(2, buf, n) < 0)
		abort();
}

void test_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap, "");
	va_end(ap);
}

void test_fail(const char *file, int line, int err, const char *fmt, ...)
{
	char prefix[256], suffix[128];
	va_list ap;

	zdtm_failed = 1;
	snprintf(prefix, sizeof(prefix), "FAIL: %s:%d: ", file, line);
	snprintf(suffix, sizeof(suffix), " (errno %d: %s)", err, strerror(err));
	va_start(ap, fmt);
	vmsg(prefix, fmt, ap, suffix);
	va_end(ap);
}

void pass(void)
{
	if (zdtm_failed) {
		test_msg("FAIL: pass() called after a failure");
		return;
	}
	passed = 1;
	test_msg("PASS");
}

int test_failed(void)
{
	return zdtm_failed;
}

int test_exit(void)
{
	return passed && !zdtm_failed ? 0 : 1;
}

/* crc32 is the IEEE one, bit by bit: speed does not matter here. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t len)
{
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

void datagen(void *buf, size_t len, uint32_t *crc)
{
	uint64_t x = 0x9e3779b97f4a7c15ull ^ *crc;
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		/* xorshift64: cheap, and never the all-zero page a lost
		 * page would read back as. */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)(x >> 24);
	}
	*crc = crc32_update(0, p, len);
}

int datachk(const void *buf, size_t len, uint32_t *crc)
{
	return crc32_update(0, buf, len) == *crc ? 0 : -1;
}
