/*
 * zdtmtst: the contract between a C/R test program and the runner.
 *
 * A test parses its options with test_init(), sets up the state it is about,
 * calls test_daemon() once that state is in place (the runner checkpoints
 * from then on), waits with test_waitsig() (static tests) or loops on
 * test_go() (transition tests), then checks its state and ends with pass()
 * or fail(). The runner requires a "PASS" line in the outfile.
 */
#ifndef ZDTMTST_H
#define ZDTMTST_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

/* test_init parses --pidfile=F --outfile=F --dirname=D (and the options a
 * test declared with TEST_OPTION), installs the SIGTERM handler and forks. It
 * returns in the child only; the parent exits once the child is ready. */
void test_init(int argc, char **argv);

/* test_daemon tells the runner the state is in place: the parent writes the
 * child's pid into the pidfile and exits. */
void test_daemon(void);

/* test_waitsig blocks until SIGTERM arrived. */
void test_waitsig(void);

/* test_go is true until SIGTERM arrived. */
int test_go(void);

/* test_sabotage is true when the runner asks the test to break its own state
 * after test_daemon (ZDTM_SABOTAGE=1): a test must then FAIL, which proves
 * its checks can fail. */
int test_sabotage(void);

/* test_dir returns --dirname, a directory the runner created for this test;
 * test_path joins a name to it (static buffer per call site is the caller's). */
const char *test_dir(void);
char *test_path(const char *name);

/* test_msg writes one line to the outfile, unbuffered. */
void test_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* pass prints the PASS line; fail prints "FAIL: ..." with errno appended and
 * makes the test's exit status non-zero. */
void pass(void);
#ifdef __FILE_NAME__
#define fail(fmt, ...) test_fail(__FILE_NAME__, __LINE__, errno, fmt, ##__VA_ARGS__)
#else
#define fail(fmt, ...) test_fail(__FILE__, __LINE__, errno, fmt, ##__VA_ARGS__)
#endif
void test_fail(const char *file, int line, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* test_exit returns the exit status main should return: 0 after pass() and
 * no fail(), 1 otherwise. */
int test_exit(void);

/* datagen fills buf with pseudo-random bytes seeded by *crc and leaves in
 * *crc the checksum that datachk expects; datachk returns 0 when buf still
 * has it. */
void datagen(void *buf, size_t len, uint32_t *crc);
int datachk(const void *buf, size_t len, uint32_t *crc);

/* TEST_OPTION declares a --name=value option of type int, long or string
 * (char *) parsed by test_init. */
struct test_option {
	const char *name;
	const char *type;
	void *ptr;
	const char *doc;
	struct test_option *next;
};
void test_register_option(struct test_option *opt);
#define TEST_OPTION(var, kind, description)                                        \
	static struct test_option __opt_##var = { #var, #kind, &var, description, NULL }; \
	static void __attribute__((constructor)) __reg_opt_##var(void)                 \
	{                                                                               \
		test_register_option(&__opt_##var);                                     \
	}

#endif
