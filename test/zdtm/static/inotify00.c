/*
 * inotify00: an inotify instance keeps its watches, their masks and their
 * watch descriptors across C/R, gaps in the numbering included: a watch on
 * a directory (IN_CREATE | IN_DELETE, wd 1), one on a file (IN_MODIFY,
 * wd 3: wd 2 was removed) and one on another directory (IN_ATTRIB, wd 4).
 * After restore, changes to each watched inode come out of the file as
 * events of the right descriptor, and nothing else does (restore adds and
 * removes watches of its own: their IN_IGNORED must not show).
 * Events queued at checkpoint are dropped by design, so the test reads
 * them all before it is checkpointed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

static char path_a[PATH_MAX / 2], path_b[PATH_MAX / 2], path_c[PATH_MAX / 2], path_x[PATH_MAX / 2];

/* next_event reads one event into ev (with its name); 0 if there is none. */
static int next_event(int fd, struct inotify_event *ev, size_t size)
{
	ssize_t n = read(fd, ev, size);

	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n < (ssize_t)sizeof(*ev)) {
		fail("read inotify: %zd: %m", n);
		return 0;
	}
	if ((size_t)n != sizeof(*ev) + ev->len) {
		fail("read %zd bytes: more than one event at once (%u, mask %#x)", n, ev->wd, ev->mask);
		return 0;
	}
	return 1;
}

/* expect reads one event and checks it. */
static void expect(int fd, int wd, uint32_t mask, const char *name)
{
	char buf[sizeof(struct inotify_event) + NAME_MAX + 1] __attribute__((aligned(8)));
	struct inotify_event *ev = (struct inotify_event *)buf;

	if (!next_event(fd, ev, sizeof(struct inotify_event) + NAME_MAX + 1)) {
		fail("no event, want wd %d mask %#x", wd, mask);
		return;
	}
	if (ev->wd != wd || ev->mask != mask || (name && (!ev->len || strcmp(ev->name, name))))
		fail("event wd %d mask %#x name %s, want wd %d mask %#x name %s", ev->wd, ev->mask,
		     ev->len ? ev->name : "-", wd, mask, name ? name : "-");
}

int main(int argc, char **argv)
{
	char buf[PATH_MAX + 64] __attribute__((aligned(8)));
	int fd, wd_a, wd_x, wd_b, wd_c, f;

	test_init(argc, argv);
	snprintf(path_a, sizeof(path_a), "%s/a", test_dir());
	snprintf(path_b, sizeof(path_b), "%s/b", test_dir());
	snprintf(path_c, sizeof(path_c), "%s/c", test_dir());
	snprintf(path_x, sizeof(path_x), "%s/x", test_dir());
	if (mkdir(path_a, 0755) || mkdir(path_c, 0755) || mkdir(path_x, 0755)) {
		fail("mkdir");
		return 1;
	}
	f = open(path_b, O_CREAT | O_WRONLY, 0644);
	if (f < 0) {
		fail("create %s", path_b);
		return 1;
	}
	close(f);
	fd = inotify_init1(IN_NONBLOCK);
	if (fd < 0) {
		fail("inotify_init1");
		return 1;
	}
	wd_a = inotify_add_watch(fd, path_a, IN_CREATE | IN_DELETE);
	wd_x = inotify_add_watch(fd, path_x, IN_CREATE);
	wd_b = inotify_add_watch(fd, path_b, IN_MODIFY);
	wd_c = inotify_add_watch(fd, path_c, IN_ATTRIB | IN_ONLYDIR);
	if (wd_a != 1 || wd_x != 2 || wd_b != 3 || wd_c != 4) {
		fail("watch descriptors %d %d %d %d, want 1 2 3 4", wd_a, wd_x, wd_b, wd_c);
		return 1;
	}
	if (inotify_rm_watch(fd, wd_x)) {
		fail("inotify_rm_watch");
		return 1;
	}
	/* Read off the IN_IGNORED of wd 2. */
	while (read(fd, buf, sizeof(buf)) > 0)
		;

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		inotify_rm_watch(fd, wd_a);

	if (!(fcntl(fd, F_GETFL) & O_NONBLOCK))
		fail("the inotify file lost O_NONBLOCK");
	if (read(fd, buf, sizeof(buf)) != -1 || errno != EAGAIN)
		fail("events queued after restore before anything changed");
	snprintf(buf, sizeof(buf), "%s/new", path_a);
	f = open(buf, O_CREAT | O_WRONLY, 0644);
	if (f < 0)
		fail("create %s", buf);
	close(f);
	expect(fd, wd_a, IN_CREATE, "new");
	unlink(buf);
	expect(fd, wd_a, IN_DELETE, "new");
	f = open(path_b, O_WRONLY);
	if (f < 0 || write(f, "x", 1) != 1)
		fail("write %s", path_b);
	close(f);
	expect(fd, wd_b, IN_MODIFY, NULL);
	if (chmod(path_c, 0700))
		fail("chmod %s", path_c);
	expect(fd, wd_c, IN_ATTRIB | IN_ISDIR, NULL);
	/* x is not watched any more. */
	snprintf(buf, sizeof(buf), "%s/new", path_x);
	f = open(buf, O_CREAT | O_WRONLY, 0644);
	close(f);
	if (read(fd, buf, sizeof(buf)) != -1 || errno != EAGAIN)
		fail("an event from the removed watch, or one too many");
	pass();
	return test_exit();
}
