/*
 * aio01: a child forked after io_setup(2) inherits the mapping of its
 * parent's AIO ring, but not the context (the kernel gives a new address
 * space no AIO contexts): the child sees the parent's ring through it.
 * That is not restored yet: the checkpoint is refused, naming the child's
 * ring (crfail). The parent checks its context still works, and the
 * child that it still sees the parent's completions through the mapping.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

struct ring {
	unsigned id, nr, head, tail, magic, compat, incompat, header_length;
};

static aio_context_t ctx;

static int child(void *arg)
{
	volatile struct ring *r = (struct ring *)ctx;
	struct io_event ev;

	(void)arg;
	test_daemon();
	test_waitsig();
	/* Not this address space's context: io_getevents refuses it. */
	if (syscall(SYS_io_getevents, ctx, 0, 1, &ev, NULL) != -1 || errno != EINVAL)
		fail("the child has an AIO context of its own");
	if (r->magic != 0xa10a10a1 || r->tail != 1)
		fail("the child no longer sees its parent's ring");
	return 0;
}

int main(int argc, char **argv)
{
	static char buf[16];
	struct iocb cb, *cbp = &cb;
	struct io_event ev;
	int fd;

	test_init(argc, argv);
	fd = open("/dev/zero", O_RDONLY);
	if (fd < 0 || syscall(SYS_io_setup, 8, &ctx)) {
		fail("io_setup");
		return 1;
	}
	memset(&cb, 0, sizeof(cb));
	cb.aio_lio_opcode = IOCB_CMD_PREAD;
	cb.aio_fildes = fd;
	cb.aio_buf = (unsigned long)buf;
	cb.aio_nbytes = sizeof(buf);
	cb.aio_data = 42;
	if (syscall(SYS_io_submit, ctx, 1, &cbp) != 1) {
		fail("io_submit");
		return 1;
	}
	if (test_spawn(child, NULL) < 0)
		return 1;

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		syscall(SYS_io_destroy, ctx);
	if (syscall(SYS_io_getevents, ctx, 1, 1, &ev, NULL) != 1 || ev.data != 42 || ev.res != sizeof(buf))
		fail("the parent's completion is gone");
	if (test_stop_children())
		return 1;
	pass();
	return 0;
}
