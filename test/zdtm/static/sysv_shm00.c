/*
 * sysv_shm00: System V shared memory of the namespace's own IPC namespace
 * survives C/R: ids, keys, sizes, modes, content, attachments (inherited
 * at fork, attached twice by one task), and a segment removed while still
 * attached. After restore the init writes to segment 1 and its child A
 * sees it at both its addresses; an unattached segment keeps its bytes.
 * Sabotage detaches the init from segment 1.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include "nsutil.h"

#define KEY 0x7a647431
#define LEN (64 * 1024)
#define IDLE_LEN 8192

static int id1, idle, gone;
static uint8_t *seg1, *gone_at, want[LEN];

struct shm_state {
	int id;
	size_t size;
	unsigned short mode;
	unsigned long nattch;
};

static int state(int id, struct shm_state *s)
{
	struct shmid_ds ds;

	if (shmctl(id, IPC_STAT, &ds) < 0)
		return -1;
	*s = (struct shm_state){ id, ds.shm_segsz, ds.shm_perm.mode, ds.shm_nattch };
	return 0;
}

static void expect(const char *what, const struct shm_state *was)
{
	struct shm_state now;

	if (state(was->id, &now))
		fail("%s: segment %d is gone", what, was->id);
	else if (now.size != was->size || now.mode != was->mode || now.nattch != was->nattch)
		fail("%s: segment %d size %zu mode %#o nattch %lu, want %zu %#o %lu", what, was->id, now.size,
		     now.mode, now.nattch, was->size, was->mode, was->nattch);
}

static int child(void *arg)
{
	uint8_t *again = shmat(id1, NULL, SHM_RDONLY);

	(void)arg;
	if (again == (void *)-1) {
		fail("A: attach segment 1 again");
		return 1;
	}
	test_daemon();
	test_waitsig();
	if (memcmp(seg1 + 1000, "init", 4) || memcmp(again + 1000, "init", 4))
		fail("A: segment 1 does not show the init's write at both addresses");
	if (memcmp(again + 2000, want + 2000, 1000))
		fail("A: segment 1's content differs");
	return 0;
}

int main(int argc, char **argv)
{
	struct shm_state s1, s_idle, s_gone;
	uint32_t crc = 41;
	uint8_t *p;

	test_init(argc, argv);
	datagen(want, LEN, &crc);
	if (unshare(CLONE_NEWIPC)) {
		fail("unshare(CLONE_NEWIPC)");
		return 1;
	}
	id1 = shmget(KEY, LEN, IPC_CREAT | IPC_EXCL | 0640);
	idle = shmget(IPC_PRIVATE, IDLE_LEN, 0600);
	gone = shmget(IPC_PRIVATE, 4096, 0604);
	seg1 = shmat(id1, NULL, 0);
	gone_at = shmat(gone, NULL, 0);
	p = shmat(idle, NULL, 0);
	if (id1 < 0 || idle < 0 || gone < 0 || seg1 == (void *)-1 || p == (void *)-1 || gone_at == (void *)-1) {
		fail("make the segments");
		return 1;
	}
	memcpy(seg1, want, LEN);
	memcpy(p, want, IDLE_LEN);
	memcpy(gone_at, "still here", 10);
	if (shmdt(p) || shmctl(gone, IPC_RMID, NULL)) {
		fail("detach, remove");
		return 1;
	}
	if (test_spawn(child, NULL) < 0)
		return 1;
	if (state(id1, &s1) || state(idle, &s_idle) || state(gone, &s_gone)) {
		fail("IPC_STAT");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		shmdt(seg1);
	if (shmget(KEY, 0, 0) != id1)
		fail("key %#x is segment %d, want %d", KEY, shmget(KEY, 0, 0), id1);
	expect("segment 1", &s1);
	expect("the unattached segment", &s_idle);
	expect("the removed segment", &s_gone);
	if (!(s_gone.mode & SHM_DEST))
		fail("the removed segment is not marked SHM_DEST");
	if (memcmp(gone_at, "still here", 10))
		fail("the removed segment's content differs");
	p = shmat(idle, NULL, SHM_RDONLY);
	if (p == (void *)-1 || memcmp(p, want, IDLE_LEN))
		fail("the unattached segment's content differs");
	if (!test_sabotage()) {
		memcpy(seg1 + 1000, "init", 4);
		if (memcmp(seg1 + 2000, want + 2000, 1000))
			fail("segment 1's content differs");
	}
	test_stop_children();
	pass();
	return test_exit();
}
