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
#include <sys/types.h>

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

/*
 * The ns flavor. With ZDTM_NEWNS=1 (the runner sets it for a .desc saying
 * "flavor": "ns") test_init's fork is the one that creates the test: it
 * comes to life as pid 1 of a new pid namespace, in a mount namespace of its
 * own with /proc mounted for that pid namespace, like the init of
 * `unshare --pid --fork --mount-proc`; the pidfile gets its pid as the
 * runner sees it. The ready signal then travels through a FIFO that
 * test_daemon opens by name, so children forked before it inherit nothing
 * of the handshake. As pid 1 the test is the only task the runner signals
 * (it forwards SIGTERM itself, see test_stop_children) and it inherits
 * every orphan of its namespace (it reaps them, or they stay zombies).
 */
int test_newns(void);

/* test_fork is fork() for the children a test makes before test_daemon: the
 * child drops the handshake with the runner and its parent's list of
 * spawned children. */
pid_t test_fork(void);

/* test_spawn forks a child that runs fn(arg) and exits 0 if fn returned 0
 * and called no fail(), 1 otherwise. fn sets its state up and calls
 * test_daemon(), which in a spawned child tells the parent; test_spawn
 * returns once it did (or -1 after a fail() if the child died first). fn
 * then waits with test_waitsig() and checks. The parent must not reap a
 * spawned child itself: test_stop_children does. */
pid_t test_spawn(int (*fn)(void *), void *arg);

/* test_stop_children sends SIGTERM to each child test_spawn made, reaps
 * them all and fails the test for each one that did not exit 0. It returns
 * how many did not. */
int test_stop_children(void);

/* test_outside, called before test_init (ns flavor only), makes the init
 * share something with a task outside its namespace: leak tests, whose
 * checkpoint must be refused. A helper process outside the namespace runs
 * setup() (opening what the init is to share, which it then keeps), and
 * creates the init with clone(clone_flags): CLONE_VM (the helper then
 * waits as a vfork parent, untouched, until the init exits), CLONE_FILES,
 * or 0 for a plain fork. The helper's pid goes to "<pidfile>.outside", for
 * the runner to clean up and to find in the refusal message. */
void test_outside(unsigned long clone_flags, void (*setup)(void));

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

/* test_failed is true once fail() was called in this process: the verdict
 * of a child that is not a test_spawn one (made with clone, say). */
int test_failed(void);

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
