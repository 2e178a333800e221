/* rlimit00: lowered resource limits survive C/R, soft and hard. */
#include <stdio.h>
#include <sys/resource.h>

#include "zdtmtst.h"

static struct {
	int res;
	const char *name;
	struct rlimit want;
} limits[] = {
	{ RLIMIT_NOFILE, "NOFILE", { 1000, 0 } },
	{ RLIMIT_CORE, "CORE", { 0, 1 << 20 } },
	{ RLIMIT_STACK, "STACK", { 4 << 20, 0 } },
	{ RLIMIT_NPROC, "NPROC", { 5000, 0 } },
	{ RLIMIT_MSGQUEUE, "MSGQUEUE", { 4096, 0 } },
	{ RLIMIT_FSIZE, "FSIZE", { 1 << 30, 0 } },
};

#define N (sizeof(limits) / sizeof(limits[0]))

int main(int argc, char **argv)
{
	struct rlimit cur;

	test_init(argc, argv);
	for (unsigned i = 0; i < N; i++) {
		if (getrlimit(limits[i].res, &cur)) {
			fail("getrlimit %s", limits[i].name);
			return 1;
		}
		/* A zero hard limit in the table means: keep the current one.
		 * Lowering hard limits needs no privilege; raising them back
		 * on restore needs CAP_SYS_RESOURCE only above the current. */
		if (!limits[i].want.rlim_max)
			limits[i].want.rlim_max = cur.rlim_max;
		if (limits[i].want.rlim_cur > limits[i].want.rlim_max)
			limits[i].want.rlim_cur = limits[i].want.rlim_max;
		if (setrlimit(limits[i].res, &limits[i].want)) {
			fail("setrlimit %s", limits[i].name);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		struct rlimit r = limits[0].want;
		r.rlim_cur--;
		setrlimit(limits[0].res, &r);
	}
	for (unsigned i = 0; i < N; i++) {
		if (getrlimit(limits[i].res, &cur)) {
			fail("getrlimit %s", limits[i].name);
			continue;
		}
		if (cur.rlim_cur != limits[i].want.rlim_cur || cur.rlim_max != limits[i].want.rlim_max)
			fail("RLIMIT_%s = %llu:%llu, want %llu:%llu", limits[i].name,
			     (unsigned long long)cur.rlim_cur, (unsigned long long)cur.rlim_max,
			     (unsigned long long)limits[i].want.rlim_cur,
			     (unsigned long long)limits[i].want.rlim_max);
	}
	pass();
	return test_exit();
}
