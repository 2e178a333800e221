/*
 * packet01: a packet socket with an mmap'ed receive ring (PACKET_RX_RING,
 * TPACKET_V2). Restore does not rebuild rings with their frames and the
 * task's mapping of them, so the checkpoint must be refused, naming the
 * ring (.desc crfail), and the process carries on untouched: the ring is
 * still mapped and its first frame still the kernel's. Sabotage marks the
 * first frame as the task's.
 */
#define _GNU_SOURCE
#include <linux/if_packet.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct tpacket_req req = { .tp_block_size = 4096, .tp_block_nr = 2, .tp_frame_size = 2048, .tp_frame_nr = 4 };
	struct tpacket2_hdr *h;
	int v = TPACKET_V2, s;
	void *ring;

	test_init(argc, argv);
	/* protocol 0: it receives nothing, so the ring stays empty */
	s = socket(AF_PACKET, SOCK_RAW, 0);
	if (s < 0 || setsockopt(s, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) ||
	    setsockopt(s, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req))) {
		fail("set the ring up");
		return 1;
	}
	ring = mmap(NULL, req.tp_block_size * req.tp_block_nr, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0);
	if (ring == MAP_FAILED) {
		fail("map the ring");
		return 1;
	}
	h = ring;

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		h->tp_status = TP_STATUS_USER;
	if (h->tp_status != TP_STATUS_KERNEL)
		fail("the ring's first frame has status %#x, want the kernel's", h->tp_status);
	pass();
	return test_exit();
}
