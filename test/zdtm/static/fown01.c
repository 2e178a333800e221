/*
 * fown01: a socket whose SIGIO owner is a process outside the checkpointed
 * tree (pid 1 of the host): the checkpoint must be refused naming the owner
 * (.desc crfail and refusal), and the process carry on with its owner
 * unchanged.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct f_owner_ex own = {.type = F_OWNER_PID, .pid = 1};
	int sk[2];

	test_init(argc, argv);
	if (getpid() == 1) {
		fail("this test needs pid 1 to be outside the tree (no ns flavor)");
		return 1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sk) || fcntl(sk[0], F_SETOWN_EX, &own) || fcntl(sk[0], F_SETFL, O_ASYNC)) {
		fail("arm the socket");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		fcntl(sk[0], F_SETOWN, getpid());
	own.pid = 0;
	if (fcntl(sk[0], F_GETOWN_EX, &own) || own.type != F_OWNER_PID || own.pid != 1)
		fail("owner type %d pid %d, want the host's pid 1", own.type, own.pid);
	pass();
	return test_exit();
}
