/*
 * creds00: credentials survive C/R: odd real/effective/saved/fs uids and
 * gids, supplementary groups, a partial capability set (effective,
 * permitted, inheritable, one ambient), no_new_privs, and the dumpable
 * flag the kernel cleared when the uid changed.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define UID 18943
#define GID 58467

static const gid_t groups[] = { 27495, 48244 };

static int capget2(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	return syscall(SYS_capget, &h, d);
}

#define CAPS ((1u << CAP_KILL) | (1u << CAP_NET_BIND_SERVICE))

int main(int argc, char **argv)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { { CAPS, CAPS, 1u << CAP_KILL }, { 0, 0, 0 } };
	uid_t r, e, s;
	gid_t rg, eg, sg, got[8];
	int n;

	test_init(argc, argv);
	if (setgroups(2, groups) || setresgid(GID, GID + 1, GID + 2) ||
	    prctl(PR_SET_KEEPCAPS, 1) || setresuid(UID, UID + 1, UID + 2)) {
		fail("set ids");
		return 1;
	}
	if (syscall(SYS_capset, &h, d) ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0) ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		fail("set caps");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_KILL, 0, 0);
	if (getresuid(&r, &e, &s) || r != UID || e != UID + 1 || s != UID + 2)
		fail("uids %d %d %d", r, e, s);
	if (getresgid(&rg, &eg, &sg) || rg != GID || eg != GID + 1 || sg != GID + 2)
		fail("gids %d %d %d", rg, eg, sg);
	n = getgroups(8, got);
	if (n != 2 || got[0] != groups[0] || got[1] != groups[1])
		fail("%d groups", n);
	if (capget2(d) || d[0].effective != CAPS || d[0].permitted != CAPS ||
	    d[0].inheritable != 1u << CAP_KILL || d[1].effective || d[1].permitted)
		fail("caps eff %#x prm %#x inh %#x", d[0].effective, d[0].permitted, d[0].inheritable);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0) != 1)
		fail("ambient CAP_KILL lost");
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		fail("no_new_privs lost");
	if (prctl(PR_GET_DUMPABLE) != 0)
		fail("dumpable is %d, want 0 (the uid change cleared it)", prctl(PR_GET_DUMPABLE));
	pass();
	return test_exit();
}
