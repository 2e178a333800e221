/*
 * sysv_shm01: System V shared memory attachments that are not one whole
 * segment survive C/R, with the segments' owners and creators: segment A
 * is attached twice, the first attachment split in three by mprotect and
 * its last page unmapped, the second (read-only) lacking its first page;
 * segment B was made by another user (cuid/cgid) and given to a third
 * (uid/gid by IPC_SET); segment C was removed while attached and its key
 * given to a new segment D. After restore a write through the first
 * attachment shows through the second, every attachment keeps its
 * protection, the key still names D and C is still removed.
 * Sabotage unmaps the split attachment's middle page.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <setjmp.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PAGE 4096
#define A_LEN (4 * PAGE)
#define KEY_C 0x7a647435

struct seg {
	unsigned long nattch;
	unsigned uid, gid, cuid, cgid, mode;
	size_t size;
};

static int seg_stat(int id, struct seg *s)
{
	struct shmid_ds ds;

	if (shmctl(id, IPC_STAT, &ds) < 0)
		return -1;
	*s = (struct seg){ ds.shm_nattch, ds.shm_perm.uid, ds.shm_perm.gid, ds.shm_perm.cuid, ds.shm_perm.cgid,
			   ds.shm_perm.mode, ds.shm_segsz };
	return 0;
}

static int seg_eq(const struct seg *a, const struct seg *b)
{
	return a->nattch == b->nattch && a->uid == b->uid && a->gid == b->gid && a->cuid == b->cuid &&
	       a->cgid == b->cgid && a->mode == b->mode && a->size == b->size;
}

static sigjmp_buf jb;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(jb, 1);
}

/* writable reports whether a byte at p can be written. */
static int writable(volatile uint8_t *p)
{
	if (sigsetjmp(jb, 1))
		return 0;
	*p = *p;
	return 1;
}

int main(int argc, char **argv)
{
	struct seg a0, b0, a1, b1, c0, c1, d0, d1;
	uint8_t *a, *a2, *b, *c, *d;
	int ida, idb, idc, idd;

	test_init(argc, argv);
	signal(SIGSEGV, on_segv);
	if (unshare(CLONE_NEWIPC)) {
		fail("unshare(CLONE_NEWIPC)");
		return 1;
	}
	ida = shmget(0x7a647434, A_LEN, IPC_CREAT | IPC_EXCL | 0660);
	/* B is made by uid 2000 gid 3000, then given to 4000:5000. */
	if (setegid(3000) || seteuid(2000)) {
		fail("become uid 2000");
		return 1;
	}
	idb = shmget(IPC_PRIVATE, 3 * PAGE + 100, 0644);
	if (seteuid(0) || setegid(0)) {
		fail("become root again");
		return 1;
	}
	if (ida < 0 || idb < 0) {
		fail("make the segments");
		return 1;
	}
	{
		struct shmid_ds ds;

		if (shmctl(idb, IPC_STAT, &ds) || (ds.shm_perm.uid = 4000, ds.shm_perm.gid = 5000, 0) ||
		    shmctl(idb, IPC_SET, &ds)) {
			fail("give B away");
			return 1;
		}
	}
	a = shmat(ida, NULL, 0);
	a2 = shmat(ida, NULL, SHM_RDONLY);
	b = shmat(idb, NULL, SHM_RDONLY);
	if (a == (void *)-1 || a2 == (void *)-1 || b == (void *)-1) {
		fail("attach");
		return 1;
	}
	memset(a, 0x11, A_LEN);
	if (mprotect(a + PAGE, PAGE, PROT_READ) || munmap(a + 3 * PAGE, PAGE) || munmap(a2, PAGE)) {
		fail("split the attachments");
		return 1;
	}
	idc = shmget(KEY_C, PAGE, IPC_CREAT | IPC_EXCL | 0600);
	c = idc < 0 ? (void *)-1 : shmat(idc, NULL, 0);
	if (c == (void *)-1 || (memset(c, 0xcc, PAGE), shmctl(idc, IPC_RMID, NULL))) {
		fail("make and remove C");
		return 1;
	}
	idd = shmget(KEY_C, 2 * PAGE, IPC_CREAT | IPC_EXCL | 0600);
	d = idd < 0 ? (void *)-1 : shmat(idd, NULL, 0);
	if (d == (void *)-1) {
		fail("make D with C's key");
		return 1;
	}
	memset(d, 0xdd, 2 * PAGE);
	if (seg_stat(ida, &a0) || seg_stat(idb, &b0) || seg_stat(idc, &c0) || seg_stat(idd, &d0)) {
		fail("IPC_STAT");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		munmap(a + PAGE, PAGE);
	if (seg_stat(ida, &a1) || seg_stat(idb, &b1) || seg_stat(idc, &c1) || seg_stat(idd, &d1)) {
		fail("IPC_STAT after restore");
		return 1;
	}
	if (!seg_eq(&a0, &a1))
		fail("A: nattch %lu uid %u gid %u cuid %u cgid %u mode %#o size %zu, want %lu %u %u %u %u %#o %zu",
		     a1.nattch, a1.uid, a1.gid, a1.cuid, a1.cgid, a1.mode, a1.size, a0.nattch, a0.uid, a0.gid,
		     a0.cuid, a0.cgid, a0.mode, a0.size);
	if (!seg_eq(&b0, &b1))
		fail("B: nattch %lu uid %u gid %u cuid %u cgid %u mode %#o size %zu, want %lu %u %u %u %u %#o %zu",
		     b1.nattch, b1.uid, b1.gid, b1.cuid, b1.cgid, b1.mode, b1.size, b0.nattch, b0.uid, b0.gid,
		     b0.cuid, b0.cgid, b0.mode, b0.size);
	if (!seg_eq(&c0, &c1) || !(c1.mode & SHM_DEST))
		fail("C: nattch %lu mode %#o, want %lu %#o", c1.nattch, c1.mode, c0.nattch, c0.mode);
	if (!seg_eq(&d0, &d1) || shmget(KEY_C, 0, 0) != idd)
		fail("D: nattch %lu size %zu, key names %d; want %lu %zu %d", d1.nattch, d1.size, shmget(KEY_C, 0, 0),
		     d0.nattch, d0.size, idd);
	if (c[PAGE - 1] != (uint8_t)0xcc || d[2 * PAGE - 1] != (uint8_t)0xdd)
		fail("C or D lost its content");
	if (b0.cuid != 2000 || b0.cgid != 3000 || b0.uid != 4000 || b0.gid != 5000)
		fail("B was not made as the test meant");
	if (!writable(a) || writable(a + PAGE) || !writable(a + 2 * PAGE) || writable(a2 + PAGE) || writable(b))
		fail("an attachment lost its protection");
	a[2 * PAGE + 5] = 0x22;
	if (a2[2 * PAGE + 5] != 0x22 || a2[PAGE] != 0x11 || a2[3 * PAGE] != 0x11)
		fail("A's attachments do not share its memory");
	pass();
	return test_exit();
}
