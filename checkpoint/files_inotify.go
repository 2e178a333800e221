package checkpoint

import (
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/proc"
)

func init() {
	registerFileKind(fileKind{name: "inotify", is: anonKind("anon_inode:inotify"), dump: (*dumper).dumpInotify})
}

// dumpInotify saves an inotify instance's watches. fdinfo has one line per
// watch:
//
//	inotify wd:4 ino:60948 sdev:fe00000 mask:2 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:4809060000000000
//
// A watch holds an inode, not a path: the path restore adds it by again is
// found from the file handle, opened on a mount of the same device in the
// owner task's mount namespace, and checked to lead back to that inode.
// Events queued and not read yet are dropped (the format document says so).
func (d *dumper) dumpInotify(p *process, of *openFd, obj string) (image.Record, error) {
	rec := &image.Inotify{Flags: of.info.Flags & openFlagsMask}
	var watches []*image.InotifyWatch
	var mounts []proc.MountInfo
	if lines := of.info.Extra["inotify wd"]; lines != "" {
		var err error
		if mounts, err = proc.MountInfos(p.pid); err != nil {
			return nil, err
		}
		for _, line := range strings.Split(lines, "\n") {
			w, err := inotifyWatch(p.pid, mounts, line)
			if err != nil {
				return nil, unsupported(p.pid, obj, "inotify watch %q: %v", line, err)
			}
			watches = append(watches, w)
		}
	}
	slices.SortFunc(watches, func(a, b *image.InotifyWatch) int { return int(a.Wd) - int(b.Wd) })
	rec.NrWatches = uint32(len(watches))
	extra := make([]image.Record, len(watches))
	for i, w := range watches {
		extra[i] = w
	}
	d.setExtra(rec, extra)
	return rec, nil
}

func inotifyWatch(pid int, mounts []proc.MountInfo, line string) (*image.InotifyWatch, error) {
	kv := map[string]string{}
	for i, f := range strings.Fields(line) {
		k, v, ok := strings.Cut(f, ":")
		if i == 0 && !ok {
			k, v = "wd", f // the "wd:" is part of the key fdinfo's parser cut at
		}
		kv[k] = v
	}
	wd, err1 := strconv.ParseInt(kv["wd"], 10, 32)
	ino, err2 := strconv.ParseUint(kv["ino"], 16, 64)
	sdev, err3 := strconv.ParseUint(kv["sdev"], 16, 32)
	mask, err4 := strconv.ParseUint(kv["mask"], 16, 32)
	ignored, err5 := strconv.ParseUint(kv["ignored_mask"], 16, 32)
	htype, err6 := strconv.ParseInt(kv["fhandle-type"], 16, 32)
	handle, err7 := hex.DecodeString(kv["f_handle"])
	for _, err := range []error{err1, err2, err3, err4, err5, err6, err7} {
		if err != nil {
			return nil, fmt.Errorf("unreadable: %w", err)
		}
	}
	// sdev is the kernel's dev_t: major in the bits above 20.
	major, minor := uint32(sdev>>20), uint32(sdev&(1<<20-1))
	path, err := handlePath(pid, mounts, major, minor, unix.NewFileHandle(int32(htype), handle))
	if err != nil {
		return nil, err
	}
	st, err := statInTask(pid, path)
	if err != nil || st.Ino != ino || st.Dev != unix.Mkdev(major, minor) {
		return nil, fmt.Errorf("the watched inode %d has no path the task sees it by (found %q)", ino, path)
	}
	return &image.InotifyWatch{Wd: int32(wd), Mask: uint32(mask), IgnoredMask: uint32(ignored),
		Dev: st.Dev, Ino: st.Ino, Path: path}, nil
}

// handlePath opens a file handle on a mount of device major:minor that the
// task has, and returns the path of what it opens as the task sees it.
func handlePath(pid int, mounts []proc.MountInfo, major, minor uint32, h unix.FileHandle) (string, error) {
	lastErr := fmt.Errorf("the task has no mount of device %d:%d", major, minor)
	for _, m := range mounts {
		if m.Major != major || m.Minor != minor {
			continue
		}
		// open_by_handle_at refuses an O_PATH fd as the mount fd.
		mfd, err := openInRoot(pid, m.MountPoint, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY)
		if err != nil {
			lastErr = fmt.Errorf("open mount %s: %w", m.MountPoint, err)
			continue
		}
		fd, err := unix.OpenByHandleAt(mfd, h, unix.O_PATH|unix.O_CLOEXEC)
		unix.Close(mfd)
		if err != nil {
			lastErr = fmt.Errorf("open_by_handle_at on mount %s: %w", m.MountPoint, err)
			continue
		}
		link, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
		unix.Close(fd)
		if err != nil {
			return "", err
		}
		if strings.HasSuffix(link, " (deleted)") {
			return "", fmt.Errorf("the watched file %s was deleted", link)
		}
		return link, nil
	}
	return "", lastErr
}

// setExtra keeps the records that follow rec in the image (INOTIFY_WATCH
// after INOTIFY) until collectFiles puts them in rec's fileObj.
func (d *dumper) setExtra(rec image.Record, extra []image.Record) {
	if d.fileExtra == nil {
		d.fileExtra = map[image.Record][]image.Record{}
	}
	d.fileExtra[rec] = extra
}
