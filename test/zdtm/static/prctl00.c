/*
 * prctl00: per-task settings survive C/R, each task with its own values:
 * capabilities (effective, permitted, inheritable, ambient, bounding),
 * securebits, personality, parent-death signal and umask. The init and
 * its children A and B each set different ones. Sabotage changes A's
 * umask.
 */
#define _GNU_SOURCE
#include <linux/capability.h>
#include <linux/securebits.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsutil.h"

struct props {
	const char *who;
	unsigned int caps, inh; /* low 32 capabilities, caps masking what root has */
	int ambient;		/* a capability raised in the ambient set, or -1 */
	int dropped;		/* a capability dropped from the bounding set */
	int secbits, persona, pdeath;
	mode_t umask;
};

static const struct props init_p = { "init", ~0u, 0, -1, CAP_SYS_BOOT, SECBIT_KEEP_CAPS, ADDR_NO_RANDOMIZE, 0, 027 },
	a_p = { "A", (1u << CAP_KILL) | (1u << CAP_CHOWN) | (1u << CAP_SETPCAP), 1u << CAP_KILL, CAP_KILL, CAP_MKNOD,
		SECBIT_NO_SETUID_FIXUP, ADDR_COMPAT_LAYOUT, SIGURG, 077 },
	b_p = { "B", ~0u & ~(1u << CAP_NET_RAW), 1u << CAP_CHOWN, -1, CAP_SYS_TIME,
		SECBIT_NOROOT | SECBIT_KEEP_CAPS, ADDR_NO_RANDOMIZE | MMAP_PAGE_ZERO, SIGWINCH, 002 };

/* want_caps is what this task set: its caps mask over what it had. */
static unsigned int want_caps;

static int caps(unsigned int *eff, unsigned int *prm, unsigned int *inh, int set)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	if (!set) {
		*eff = d[0].effective, *prm = d[0].permitted, *inh = d[0].inheritable;
		return 0;
	}
	d[0].effective = *eff, d[0].permitted = *prm, d[0].inheritable = *inh;
	return syscall(SYS_capset, &h, d);
}

static int apply(const struct props *p)
{
	unsigned int eff, prm, inh;

	if (caps(&eff, &prm, &inh, 0)) {
		fail("%s: capget", p->who);
		return -1;
	}
	want_caps = eff = prm = prm & p->caps;
	inh = p->inh;
	umask(p->umask);
	if (prctl(PR_CAPBSET_DROP, p->dropped, 0, 0, 0) || prctl(PR_SET_SECUREBITS, p->secbits, 0, 0, 0) ||
	    personality(p->persona) < 0 || prctl(PR_SET_PDEATHSIG, p->pdeath, 0, 0, 0)) {
		fail("%s: set bounding set, securebits, personality, pdeath signal", p->who);
		return -1;
	}
	if (caps(&eff, &prm, &inh, 1) ||
	    (p->ambient >= 0 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, p->ambient, 0, 0))) {
		fail("%s: set capabilities", p->who);
		return -1;
	}
	return 0;
}

static void check(const struct props *p)
{
	unsigned int eff = 0, prm = 0, inh = 0;
	mode_t m = umask(0);
	int sig = -1;

	umask(m);
	if (m != p->umask)
		fail("%s: umask %03o, want %03o", p->who, m, p->umask);
	if (caps(&eff, &prm, &inh, 0) || eff != want_caps || prm != want_caps || inh != p->inh)
		fail("%s: caps eff %#x prm %#x inh %#x, want %#x %#x %#x", p->who, eff, prm, inh, want_caps, want_caps,
		     p->inh);
	if (p->ambient >= 0 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, p->ambient, 0, 0) != 1)
		fail("%s: ambient capability %d lost", p->who, p->ambient);
	if (prctl(PR_CAPBSET_READ, p->dropped, 0, 0, 0) != 0 || prctl(PR_CAPBSET_READ, CAP_SETUID, 0, 0, 0) != 1)
		fail("%s: bounding set: %d should be dropped, CAP_SETUID kept", p->who, p->dropped);
	if (prctl(PR_GET_SECUREBITS, 0, 0, 0, 0) != p->secbits)
		fail("%s: securebits %#x, want %#x", p->who, prctl(PR_GET_SECUREBITS, 0, 0, 0, 0), p->secbits);
	if (personality(0xffffffff) != p->persona)
		fail("%s: personality %#x, want %#x", p->who, personality(0xffffffff), p->persona);
	if (prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) || sig != p->pdeath)
		fail("%s: pdeath signal %d, want %d", p->who, sig, p->pdeath);
}

static int child(void *arg)
{
	const struct props *p = arg;

	if (apply(p))
		return 1;
	test_daemon();
	test_waitsig();
	if (test_sabotage() && p == &a_p)
		umask(0);
	check(p);
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	/* The children change their own settings from the init's. */
	if (test_spawn(child, (void *)&a_p) < 0 || test_spawn(child, (void *)&b_p) < 0 || apply(&init_p))
		return 1;

	test_daemon();
	test_waitsig();

	check(&init_p);
	test_stop_children();
	pass();
	return test_exit();
}
