/*
 * unix_ext00: a unix socket whose peer is outside the checkpointed tree
 * is external: without --ext-unix-sk the checkpoint must refuse, naming
 * the socket and its peer, and leave it as it was. A helper outside the
 * namespace makes a socketpair and queues data on one end; the init keeps
 * that end only. After the refusal the data is still all there, and the
 * socket still reaches the helper's end. Sabotage takes one byte.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

#define LEN 3000

static int sv[2] = { -1, -1 };
static uint8_t data[LEN];

static void connected(void)
{
	uint32_t crc = 17;

	datagen(data, LEN, &crc);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || write(sv[1], data, LEN) != LEN)
		sv[0] = -1;
}

int main(int argc, char **argv)
{
	uint8_t buf[LEN], c;

	test_outside(0, connected);
	test_init(argc, argv);
	if (sv[0] < 0) {
		fail("the helper could not make the socketpair");
		return 1;
	}
	close(sv[1]);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		read(sv[0], &c, 1);
	if (recv(sv[0], buf, LEN, MSG_DONTWAIT | MSG_WAITALL) != LEN || memcmp(buf, data, LEN))
		fail("the socket's queued data changed");
	if (recv(sv[0], buf, 1, MSG_DONTWAIT) != -1)
		fail("more data than was queued");
	/* The helper still holds the peer: the connection is not broken. */
	if (send(sv[0], "x", 1, MSG_DONTWAIT) != 1)
		fail("the socket no longer reaches its peer");
	pass();
	return test_exit();
}
