/*
 * uts00: a private UTS namespace survives C/R: its hostname and domain
 * name, seen by the init and by its child A, and it is still a namespace
 * of its own, not the one the test started in. Sabotage changes the
 * hostname.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "nsutil.h"

#define HOST "zdtm-uts00-host"
#define DOMAIN "zdtm-uts00.example"

static void check(const char *who)
{
	struct utsname u;

	if (uname(&u) || strcmp(u.nodename, HOST) || strcmp(u.domainname, DOMAIN))
		fail("%s: hostname %s domain %s, want %s %s", who, u.nodename, u.domainname, HOST, DOMAIN);
}

static int child(void *arg)
{
	(void)arg;
	test_daemon();
	test_waitsig();
	check("A");
	return 0;
}

int main(int argc, char **argv)
{
	char host_ns[64], ns[64];
	ssize_t n;

	test_init(argc, argv);
	n = readlink("/proc/self/ns/uts", host_ns, sizeof(host_ns) - 1);
	if (n < 0 || unshare(CLONE_NEWUTS) || sethostname(HOST, strlen(HOST)) || setdomainname(DOMAIN, strlen(DOMAIN))) {
		fail("make the UTS namespace");
		return 1;
	}
	host_ns[n] = 0;
	if (test_spawn(child, NULL) < 0)
		return 1;

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		sethostname("sabotaged", 9);
	check("init");
	n = readlink("/proc/self/ns/uts", ns, sizeof(ns) - 1);
	if (n < 0 || (ns[n] = 0, !strcmp(ns, host_ns)))
		fail("the UTS namespace is %s again, the one the test started in", n < 0 ? "?" : ns);
	test_stop_children();
	pass();
	return test_exit();
}
