package checkpoint

import (
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

func init() {
	registerFileKind(fileKind{name: "regular file", modes: []uint32{unix.S_IFREG, unix.S_IFDIR}, fallback: true,
		dump: func(_ *dumper, p *process, of *openFd, obj string) (image.Record, error) {
			return dumpRegFile(p, of, obj)
		}})
	// Devices: /dev/null and the like, and terminals (files_tty.go).
	registerFileKind(fileKind{name: "character device", modes: []uint32{unix.S_IFCHR}, fallback: true,
		dump: (*dumper).dumpCharDev})
}

// openFlagsMask keeps the status flags an fd's description carries and a
// reopen can reproduce; O_CLOEXEC belongs to the fd, not the description.
const openFlagsMask = ^uint32(unix.O_CLOEXEC)

func dumpRegFile(p *process, of *openFd, obj string) (image.Record, error) {
	path := of.link
	if strings.HasSuffix(path, " (deleted)") {
		return nil, unsupported(p.pid, obj, "the file was deleted") // dumpFile sends them to dumpDeletedFile
	}
	if !strings.HasPrefix(path, "/") {
		return nil, unsupported(p.pid, obj, "no path to reopen it by")
	}
	if st, err := statInTask(p.pid, path); err != nil || st.Ino != of.st.Ino || st.Dev != of.st.Dev {
		return nil, unsupported(p.pid, obj, "its path no longer leads to the open file")
	}
	return &image.RegFile{
		Flags: of.info.Flags & openFlagsMask, Pos: of.info.Pos,
		Mode: of.st.Mode, Dev: of.st.Dev, Ino: of.st.Ino, Rdev: of.st.Rdev,
		Size: of.st.Size, Path: path,
	}, nil
}

// plainCharDevs are devices with no state worth saving: reopening them by
// path gives back an equivalent file.
var plainCharDevs = map[string]bool{
	"/dev/null": true, "/dev/zero": true, "/dev/full": true,
	"/dev/random": true, "/dev/urandom": true,
}

func (d *dumper) dumpCharDev(p *process, of *openFd, obj string) (image.Record, error) {
	switch {
	case plainCharDevs[of.link]:
		return dumpRegFile(p, of, obj)
	case kernel.IsTTY(of.st.Rdev):
		return d.dumpTty(p, of, obj)
	}
	return nil, unsupported(p.pid, obj, "character device %d:%d is not supported", unix.Major(of.st.Rdev), unix.Minor(of.st.Rdev))
}

func extFile(of *openFd, kind uint32) *image.ExtFile {
	return &image.ExtFile{Flags: of.info.Flags & openFlagsMask, Kind: kind, Key: of.link}
}
