/*
 * membarrier00: membarrier(2) registrations survive C/R. The process
 * registers for private expedited barriers (plain, sync-core and rseq
 * where the kernel has them) and global expedited ones. After C/R the
 * registrations the kernel reports (MEMBARRIER_CMD_GET_REGISTRATIONS) are
 * the same, and the private expedited commands, which fail with EPERM in
 * an unregistered process, work.
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef MEMBARRIER_CMD_GET_REGISTRATIONS
#define MEMBARRIER_CMD_GET_REGISTRATIONS (1 << 9)
#endif

static long membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

static const struct {
	int reg, use;
} cmds[] = {
	{ MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, MEMBARRIER_CMD_PRIVATE_EXPEDITED },
	{ MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE },
	{ MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ },
	{ MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0 },
};
#define NCMDS (int)(sizeof(cmds) / sizeof(cmds[0]))

/* check returns the number of problems, reported with fail(). */
static int check(long want)
{
	long got = membarrier(MEMBARRIER_CMD_GET_REGISTRATIONS);
	int bad = 0;

	if (got != want) {
		fail("registrations %#lx, want %#lx", got, want);
		bad++;
	}
	for (int i = 0; i < NCMDS; i++) {
		if (!(want & cmds[i].reg) || !cmds[i].use)
			continue;
		if (membarrier(cmds[i].use)) {
			fail("membarrier(%#x) after registering %#x", cmds[i].use, cmds[i].reg);
			bad++;
		}
	}
	return bad;
}

int main(int argc, char **argv)
{
	long supported, want = 0;

	test_init(argc, argv);
	supported = membarrier(MEMBARRIER_CMD_QUERY);
	if (supported < 0 || membarrier(MEMBARRIER_CMD_GET_REGISTRATIONS) < 0) {
		fail("membarrier(QUERY/GET_REGISTRATIONS): the kernel is too old");
		return 1;
	}
	for (int i = 0; i < NCMDS; i++) {
		if (!(supported & cmds[i].reg))
			continue;
		if (membarrier(cmds[i].reg)) {
			fail("membarrier(%#x)", cmds[i].reg);
			return 1;
		}
		want |= cmds[i].reg;
	}
	if (!(want & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)) {
		fail("no private expedited membarrier on this kernel");
		return 1;
	}

	test_daemon();
	test_waitsig();

	/* Registrations cannot be undone, and a forked child inherits
	 * them: the sabotage expects one fewer than were made, as if the
	 * restore had added one, which the check must see. */
	if (test_sabotage())
		want &= ~MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE & ~MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;
	check(want);
	pass();
	return test_exit();
}
