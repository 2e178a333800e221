package restore

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/fsroot"
)

func init() {
	// An INOTIFY's watches come right after it: any other record, and the
	// end of the image, first checks none is missing.
	registerKind(kind{name: "inotify", task: true,
		takes: []taker{object((*restorer).addInotify), on((*restorer).addInotifyWatch)},
		follow: func(rs *restorer, _ *image.Reader, rec image.Record) (bool, error) {
			if _, w := rec.(*image.InotifyWatch); w {
				return false, nil
			}
			return false, rs.inotifyComplete()
		},
		check: (*restorer).inotifyComplete,
		opens: []opener{fileOf(func(rs *restorer, t *taskPlan, _ image.Fd, x *image.Inotify) (*os.File, error) {
			return rs.openInotify(t, x)
		})}})
}

// maxInotifyGap bounds the unused watch descriptors restore burns to give a
// watch its saved number (see openInotify).
const maxInotifyGap = 1 << 16

// inotifyState collects the INOTIFY_WATCH records of each INOTIFY.
type inotifyState struct {
	watches map[uint32][]*image.InotifyWatch // by INOTIFY objref
	cur     *image.Inotify                   // the INOTIFY whose watches come next
}

// addInotify takes an INOTIFY; its watches must follow it.
func (rs *restorer) addInotify(in *image.Inotify) error {
	if err := rs.inotifyComplete(); err != nil {
		return err
	}
	if in.NrWatches > 0 {
		rs.inotify.cur = in
	}
	if rs.inotify.watches == nil {
		rs.inotify.watches = map[uint32][]*image.InotifyWatch{}
	}
	return nil
}

// addInotifyWatch takes an INOTIFY_WATCH: it belongs to the INOTIFY before
// it, which is still missing watches, and comes in ascending Wd order.
func (rs *restorer) addInotifyWatch(w *image.InotifyWatch) error {
	in := rs.inotify.cur
	if in == nil {
		return badImage("INOTIFY_WATCH (wd %d) does not follow an INOTIFY that has watches left", w.Wd)
	}
	ws := rs.inotify.watches[in.Objref]
	if w.Wd <= 0 || (len(ws) > 0 && w.Wd <= ws[len(ws)-1].Wd) {
		return badImage("INOTIFY %d: watch descriptor %d out of order", in.Objref, w.Wd)
	}
	if w.Path == "" || w.Path[0] != '/' {
		return badImage("INOTIFY %d: watch %d has path %q, not an absolute one", in.Objref, w.Wd, w.Path)
	}
	rs.inotify.watches[in.Objref] = append(ws, w)
	if len(ws)+1 == int(in.NrWatches) {
		rs.inotify.cur = nil
	}
	return nil
}

// inotifyComplete fails when an INOTIFY still expects watches: any record
// other than INOTIFY_WATCH ends them.
func (rs *restorer) inotifyComplete() error {
	if in := rs.inotify.cur; in != nil {
		return badImage("INOTIFY %d has %d INOTIFY_WATCH records, NrWatches says %d", in.Objref, len(rs.inotify.watches[in.Objref]), in.NrWatches)
	}
	return nil
}

// openInotify makes the inotify instance in the restorer and adds its
// watches by path, resolved inside the owner task's root. A watch
// must get its saved descriptor, which the program knows it by. The kernel
// hands descriptors out cyclically (the next one above the last given),
// so a gap before a saved descriptor is used up by adding and removing a
// throw-away watch on a memfd; removing a watch queues an IN_IGNORED event,
// and those are read off before the task gets the file. (Events queued at
// checkpoint are not in the image.)
func (rs *restorer) openInotify(t *taskPlan, in *image.Inotify) (_ *os.File, err error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify_init1: %w", err)
	}
	f := os.NewFile(uintptr(fd), "inotify")
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	watches := rs.inotify.watches[in.Objref]
	if len(watches) > 0 && watches[len(watches)-1].Wd > maxInotifyGap+int32(len(watches)) {
		return nil, fmt.Errorf("inotify watch descriptor %d: restoring descriptors this far apart is not supported", watches[len(watches)-1].Wd)
	}
	// The watched paths are resolved inside the owner's root, never as
	// host paths: the task's own symlinks must not lead a watch to the
	// host's files.
	root, err := fsroot.OpenTask(t.pid)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	defer root.Close()
	var filler *os.File
	defer func() {
		if filler != nil {
			filler.Close()
		}
	}()
	next := int32(1)
	for _, w := range watches {
		for ; next < w.Wd; next++ {
			if filler == nil {
				mfd, err := unix.MemfdCreate("ckpt-inotify-filler", unix.MFD_CLOEXEC)
				if err != nil {
					return nil, fmt.Errorf("memfd_create: %w", err)
				}
				filler = os.NewFile(uintptr(mfd), "inotify-filler")
			}
			got, err := unix.InotifyAddWatch(fd, "/proc/self/fd/"+strconv.Itoa(int(filler.Fd())), unix.IN_MODIFY)
			if err != nil {
				return nil, fmt.Errorf("inotify: use up watch descriptor %d: %w", next, err)
			}
			if _, err := unix.InotifyRmWatch(fd, uint32(got)); err != nil {
				return nil, fmt.Errorf("inotify: remove watch %d: %w", got, err)
			}
		}
		// A file the restore makes anew (a restored tmpfs) or the
		// runtime mounts has a new inode: checked by path only.
		_, check, _ := rs.imagePath(w.Path)
		byPath := !check || (rs.opts.Adopt != nil && rs.opts.Adopt.RootfsCopy)
		got, err := addWatchInRoot(fd, root, w, byPath)
		if err != nil {
			return nil, fmt.Errorf("inotify watch %d on %q (mask %#x): %w", w.Wd, w.Path, w.Mask, err)
		}
		if int32(got) != w.Wd {
			return nil, fmt.Errorf("inotify watch on %q got descriptor %d, the image has %d (is the file also watched as another descriptor?)", w.Path, got, w.Wd)
		}
		next = w.Wd + 1
	}
	buf := make([]byte, 64<<10)
	for {
		_, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("inotify: read off the IN_IGNORED events: %w", err)
		}
	}
	if in.Flags&unix.O_NONBLOCK == 0 {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, int(in.Flags&^uint32(unix.O_NONBLOCK|unix.O_ACCMODE|unix.O_CLOEXEC))); err != nil {
			return nil, fmt.Errorf("inotify: set flags %#o: %w", in.Flags, err)
		}
	}
	return f, nil
}

// addWatchInRoot adds w's watch on the file its path names inside root:
// the file is resolved to an O_PATH fd (with IN_DONT_FOLLOW, its last
// name not followed), checked to be the inode the image watched (unless
// byPath: see Adopt.RootfsCopy) and watched through /proc/self/fd, which
// leads to that very file.
func addWatchInRoot(fd int, root *fsroot.Root, w *image.InotifyWatch, byPath bool) (int, error) {
	var h *os.File
	if w.Mask&unix.IN_DONT_FOLLOW != 0 && w.Path != "/" {
		d, err := root.Parent(w.Path)
		if err != nil {
			return -1, err
		}
		hfd, err := unix.Openat(d.Fd(), d.Name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		d.Close()
		if err != nil {
			return -1, fmt.Errorf("open %q in %v: %w", w.Path, root, err)
		}
		h = os.NewFile(uintptr(hfd), w.Path)
	} else {
		var err error
		if h, err = root.Lookup(w.Path); err != nil {
			return -1, err
		}
	}
	defer h.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(h.Fd()), &st); err != nil {
		return -1, fmt.Errorf("stat %q in %v: %w", w.Path, root, err)
	}
	if !byPath && w.Ino != 0 && (st.Ino != w.Ino || st.Dev != w.Dev) {
		return -1, fmt.Errorf("%q was replaced since the checkpoint (inode %d on %#x, the image watched %d on %#x)", w.Path, st.Ino, st.Dev, w.Ino, w.Dev)
	}
	return unix.InotifyAddWatch(fd, "/proc/self/fd/"+strconv.Itoa(int(h.Fd())), w.Mask&^unix.IN_DONT_FOLLOW)
}
