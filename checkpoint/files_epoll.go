package checkpoint

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

func init() {
	registerFileKind(fileKind{name: "epoll", is: anonKind("anon_inode:[eventpoll]"),
		dump: func(_ *dumper, p *process, of *openFd, obj string) (image.Record, error) {
			return dumpEpoll(p, of, obj)
		}})
}

// dumpEpoll saves an epoll instance's watches, as fdinfo lists them:
//
//	tfd:        6 events:       1c data:               4d  pos:0 ino:29d4b sdev:f
//
// A watch is kept by the kernel on the file, not the fd: it is restored
// through the fd number, so that fd must still hold the watched file.
func dumpEpoll(p *process, of *openFd, obj string) (image.Record, error) {
	rec := &image.Epoll{Flags: of.info.Flags & openFlagsMask}
	lines := of.info.Extra["tfd"]
	if lines == "" {
		return rec, nil
	}
	for _, line := range strings.Split(lines, "\n") {
		f := strings.Fields(line)
		// f: [N events: X data: Y pos:P ino:I sdev:S]
		if len(f) < 7 || f[1] != "events:" || f[3] != "data:" {
			return nil, unsupported(p.pid, obj, "unreadable epoll watch %q", line)
		}
		tfd, err1 := strconv.ParseInt(f[0], 10, 32)
		events, err2 := strconv.ParseUint(f[2], 16, 32)
		data, err3 := strconv.ParseUint(f[4], 16, 64)
		ino, err4 := strconv.ParseUint(strings.TrimPrefix(f[6], "ino:"), 16, 64)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			return nil, unsupported(p.pid, obj, "unreadable epoll watch %q", line)
		}
		var st unix.Stat_t
		if err := unix.Stat(fmt.Sprintf("/proc/%d/fd/%d", p.pid, tfd), &st); err != nil || st.Ino != ino {
			return nil, unsupported(p.pid, obj, "it watches a file (inode %d) that fd %d no longer holds", ino, tfd)
		}
		rec.Targets = append(rec.Targets, image.EpollTarget{Fd: int32(tfd), Events: uint32(events), Data: data})
	}
	return rec, nil
}
