/*
 * unix_filter00: a unix datagram socket with a classic BPF filter attached
 * (SO_ATTACH_FILTER, dropping datagrams shorter than 4 bytes). UNIX_SK does
 * not hold filters, so the checkpoint must be refused, naming it (.desc
 * crfail), and the process carries on untouched: its filter still drops
 * short datagrams. Sabotage detaches the filter.
 */
#include <linux/filter.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

static struct sock_filter prog[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 4, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

int main(int argc, char **argv)
{
	struct sock_fprog fp = {sizeof(prog) / sizeof(prog[0]), prog};
	char buf[16];
	int sk[2], one = 1;

	test_init(argc, argv);
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sk) || setsockopt(sk[0], SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp))) {
		fail("make the filtered socket");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		setsockopt(sk[0], SOL_SOCKET, SO_DETACH_FILTER, &one, sizeof(one));
	if (send(sk[1], "ab", 2, 0) != 2 || send(sk[1], "long", 4, 0) != 4)
		fail("send");
	if (recv(sk[0], buf, sizeof(buf), MSG_DONTWAIT) != 4 || recv(sk[0], buf, sizeof(buf), MSG_DONTWAIT) != -1)
		fail("the filter no longer drops the short datagram");
	pass();
	return test_exit();
}
