package checkpoint

import (
	"strconv"
	"strings"

	"github.com/ckpt/ckpt/image"
)

func init() {
	registerFileKind(fileKind{name: "signalfd", is: anonKind("anon_inode:[signalfd]"),
		dump: func(_ *dumper, p *process, of *openFd, obj string) (image.Record, error) {
			return dumpSignalFd(p, of, obj)
		}})
}

// dumpSignalFd saves a signalfd's mask, which fdinfo prints as 16 hex
// digits ("sigmask: 0000000800000200"). Which signals it reads is the
// reader's business (its own and its process's pending ones), not the
// file's, so the mask is all there is.
func dumpSignalFd(p *process, of *openFd, obj string) (image.Record, error) {
	mask, err := strconv.ParseUint(strings.TrimSpace(of.info.Extra["sigmask"]), 16, 64)
	if err != nil {
		return nil, unsupported(p.pid, obj, "unreadable signalfd sigmask %q", of.info.Extra["sigmask"])
	}
	return &image.SignalFd{Flags: of.info.Flags & openFlagsMask, Sigmask: mask}, nil
}
