/*
 * mntns02: a mount ckpt cannot re-create is refused, not dropped: the
 * namespace mounts an mqueue instance, which the checkpoint must refuse,
 * naming the mount, and leave the task running with its mount in place.
 * Sabotage unmounts it.
 */
#define _GNU_SOURCE
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "nsutil.h"

#define MQUEUE_MAGIC 0x19800202 /* include/uapi/linux/magic.h */

int main(int argc, char **argv)
{
	struct statfs fs;
	char *mq;

	test_init(argc, argv);
	mq = test_path("mq");
	if (mkdir(mq, 0755) || mount("zdtm-mq", mq, "mqueue", 0, NULL)) {
		fail("mount mqueue");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		umount2(mq, MNT_DETACH);
	if (statfs(mq, &fs) || fs.f_type != MQUEUE_MAGIC)
		fail("%s is no longer an mqueue mount", mq);
	pass();
	return test_exit();
}
