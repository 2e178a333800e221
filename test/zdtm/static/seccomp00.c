/*
 * seccomp00: seccomp filters and no_new_privs survive C/R, per task, with
 * their order. The init stacks two filters that both answer getcpu with
 * an errno (the newer one wins: 22) and one that answers mincore with 33;
 * its child A inherits them and adds a third that answers mincore with 44.
 * After restore each task's filter count, mode and answers are the same.
 * Sabotage stacks one more filter on the init.
 */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsutil.h"

/* add_filter answers syscall nr with errno err, and allows the rest. */
static int add_filter(int nr, int err)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

static int answer(int nr)
{
	errno = 0;
	return syscall(nr, 0, 0, 0) < 0 ? errno : 0;
}

static int filters(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	int n = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Seccomp_filters:", 16))
			n = atoi(line + 16);
	if (f)
		fclose(f);
	return n;
}

static void check(const char *who, int nfilters, int getcpu_err, int mincore_err)
{
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		fail("%s: no_new_privs is off", who);
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != SECCOMP_MODE_FILTER)
		fail("%s: seccomp mode %d", who, prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
	if (filters() != nfilters)
		fail("%s: %d filters, want %d", who, filters(), nfilters);
	if (answer(SYS_getcpu) != getcpu_err)
		fail("%s: getcpu answers errno %d, want %d", who, answer(SYS_getcpu), getcpu_err);
	if (answer(SYS_mincore) != mincore_err)
		fail("%s: mincore answers errno %d, want %d", who, answer(SYS_mincore), mincore_err);
}

static int child(void *arg)
{
	(void)arg;
	if (add_filter(SYS_mincore, 44)) {
		fail("A: add a filter");
		return 1;
	}
	test_daemon();
	test_waitsig();
	check("A", 4, 22, 44);
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || add_filter(SYS_getcpu, 11) || add_filter(SYS_mincore, 33) ||
	    add_filter(SYS_getcpu, 22)) {
		fail("install the filters");
		return 1;
	}
	if (test_spawn(child, NULL) < 0)
		return 1;

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		add_filter(SYS_getcpu, 55);
	check("init", 3, 22, 33);
	test_stop_children();
	pass();
	return test_exit();
}
