/*
 * aio00: Linux AIO contexts (io_setup(2)) survive C/R with the completions
 * not yet reaped. Three contexts:
 *   a: 6 reads submitted, 2 reaped: 4 completions wait in its ring;
 *   b: 3 reads submitted and reaped: nothing pending, head == tail == 3;
 *   c: its ring's tail has wrapped around below its head: 7 pending;
 *   d: a ring of several pages, 70 pending (more than restore submits at
 *      once), from its first page into the next.
 * After restore each context keeps its id (the ring's address), the pending
 * completions come back in order with their data, object and result, and
 * new reads on the same contexts complete after them. Raw syscalls: no
 * libaio, so the -static build needs nothing more.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define CHUNK 64
#define NCHUNK 32

/* From fs/aio.c (struct aio_ring): the header of the ring user space maps. */
struct ring {
	unsigned id, nr, head, tail, magic, compat, incompat, header_length;
	struct io_event events[];
};

static int fd;
static char bufs[4][256][CHUNK];

static long io_setup_(unsigned nr, aio_context_t *ctx)
{
	return syscall(SYS_io_setup, nr, ctx);
}

static long io_submit_(aio_context_t ctx, long n, struct iocb **iocbs)
{
	return syscall(SYS_io_submit, ctx, n, iocbs);
}

static long io_getevents_(aio_context_t ctx, long min, long max, struct io_event *ev, struct timespec *ts)
{
	return syscall(SYS_io_getevents, ctx, min, max, ev, ts);
}

/* submit reads chunk (seq % NCHUNK) into bufs[c][seq % 256], with data seq. */
static int submit(int c, aio_context_t ctx, unsigned seq)
{
	static struct iocb cbs[4][256];
	struct iocb *cb = &cbs[c][seq % 256];

	memset(cb, 0, sizeof(*cb));
	cb->aio_lio_opcode = IOCB_CMD_PREAD;
	cb->aio_fildes = fd;
	cb->aio_buf = (unsigned long)bufs[c][seq % 256];
	cb->aio_nbytes = CHUNK;
	cb->aio_offset = (seq % NCHUNK) * CHUNK;
	cb->aio_data = seq;
	if (io_submit_(ctx, 1, &cb) != 1) {
		fail("io_submit on context %d, seq %u", c, seq);
		return -1;
	}
	return 0;
}

/* reap takes n completions and checks they are seqs first, first+1, ... */
static int reap(int c, aio_context_t ctx, int n, unsigned first)
{
	struct io_event ev[256];
	struct timespec ts = { 5, 0 };
	long got = 0;

	while (got < n) {
		long r = io_getevents_(ctx, 1, n - got, ev + got, &ts);
		if (r <= 0) {
			fail("context %d: io_getevents gave %ld after %ld of %d", c, r, got, n);
			return -1;
		}
		got += r;
	}
	for (int i = 0; i < n; i++) {
		unsigned seq = first + i;
		char want[CHUNK];

		memset(want, 'A' + seq % NCHUNK, CHUNK);
		if (ev[i].data != seq || ev[i].res != CHUNK || ev[i].res2 != 0) {
			fail("context %d: event %d is data %llu res %lld, want %u %d", c, i,
			     (unsigned long long)ev[i].data, (long long)ev[i].res, seq, CHUNK);
			return -1;
		}
		if (memcmp(bufs[c][seq % 256], want, CHUNK)) {
			fail("context %d: read %u brought wrong data", c, seq);
			return -1;
		}
	}
	return 0;
}

static int nothing_left(int c, aio_context_t ctx)
{
	struct io_event ev;
	struct timespec ts = { 0, 0 };
	long r = io_getevents_(ctx, 0, 1, &ev, &ts);

	if (r != 0) {
		fail("context %d: %ld more events than expected", c, r);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	aio_context_t ctx[4] = { 0, 0, 0, 0 };
	aio_context_t saved[4];
	unsigned seq[4] = { 0, 0, 0, 0 }; /* next seq to submit */
	unsigned reaped[4] = { 0, 0, 0, 0 };
	char chunk[CHUNK];
	struct ring *rc;

	test_init(argc, argv);
	fd = open(test_path("data"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		fail("open the data file");
		return 1;
	}
	for (int i = 0; i < NCHUNK; i++) {
		memset(chunk, 'A' + i, CHUNK);
		if (write(fd, chunk, CHUNK) != CHUNK) {
			fail("write the data file");
			return 1;
		}
	}
	if (io_setup_(16, &ctx[0]) || io_setup_(4, &ctx[1]) || io_setup_(1, &ctx[2]) || io_setup_(200, &ctx[3])) {
		fail("io_setup");
		return 1;
	}
	/* a: 4 pending */
	for (; seq[0] < 6; seq[0]++)
		if (submit(0, ctx[0], seq[0]))
			return 1;
	if (reap(0, ctx[0], 2, 0))
		return 1;
	reaped[0] = 2;
	/* b: nothing pending, but not at its start */
	for (; seq[1] < 3; seq[1]++)
		if (submit(1, ctx[1], seq[1]))
			return 1;
	if (reap(1, ctx[1], 3, 0))
		return 1;
	reaped[1] = 3;
	/* c: run the ring almost once round, then wrap its tail past its end */
	rc = (struct ring *)ctx[2];
	while (seq[2] < rc->nr - 4) {
		int n = 0;

		for (; n < 16 && seq[2] < rc->nr - 4; n++, seq[2]++)
			if (submit(2, ctx[2], seq[2]))
				return 1;
		if (reap(2, ctx[2], n, reaped[2]))
			return 1;
		reaped[2] += n;
	}
	for (int i = 0; i < 10; i++, seq[2]++)
		if (submit(2, ctx[2], seq[2]))
			return 1;
	if (reap(2, ctx[2], 3, reaped[2]))
		return 1;
	reaped[2] += 3;
	if (rc->tail >= rc->head) {
		fail("context c's ring did not wrap (head %u tail %u nr %u)", rc->head, rc->tail, rc->nr);
		return 1;
	}
	/* d: 100 submitted, 30 reaped */
	for (; seq[3] < 100; seq[3]++)
		if (submit(3, ctx[3], seq[3]))
			return 1;
	if (reap(3, ctx[3], 30, 0))
		return 1;
	reaped[3] = 30;
	if (((struct ring *)ctx[3])->nr < 256) {
		fail("context d's ring is one page");
		return 1;
	}
	memcpy(saved, ctx, sizeof(ctx));

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		/* Reap one completion behind the checks' back. */
		struct io_event ev;
		io_getevents_(ctx[0], 1, 1, &ev, NULL);
	}
	if (memcmp(saved, ctx, sizeof(ctx))) {
		fail("the context ids changed");
		return 1;
	}
	for (int c = 0; c < 4; c++) {
		struct ring *r = (struct ring *)ctx[c];

		if (r->magic != 0xa10a10a1) {
			fail("context %d: no ring at %#lx", c, (unsigned long)ctx[c]);
			return 1;
		}
	}
	/* Two new reads on a before its old completions are reaped: they must
	 * come after them. */
	for (int i = 0; i < 2; i++, seq[0]++)
		if (submit(0, ctx[0], seq[0]))
			return 1;
	for (int c = 0; c < 4; c++) {
		if (reap(c, ctx[c], seq[c] - reaped[c], reaped[c]) || nothing_left(c, ctx[c]))
			return 1;
		reaped[c] = seq[c];
		/* and the context carries on */
		for (int i = 0; i < 5; i++, seq[c]++)
			if (submit(c, ctx[c], seq[c]))
				return 1;
		if (reap(c, ctx[c], 5, reaped[c]) || nothing_left(c, ctx[c]))
			return 1;
		if (syscall(SYS_io_destroy, ctx[c])) {
			fail("io_destroy context %d", c);
			return 1;
		}
	}
	pass();
	return 0;
}
