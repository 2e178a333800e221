package checkpoint

import (
	"strconv"
	"strings"

	"github.com/ckpt/ckpt/image"
)

func init() {
	registerFileKind(fileKind{name: "eventfd", is: anonKind("anon_inode:[eventfd]"),
		dump: func(_ *dumper, p *process, of *openFd, obj string) (image.Record, error) {
			return dumpEventFd(p, of, obj)
		}})
}

// dumpEventFd saves an eventfd's counter and mode from its fdinfo.
func dumpEventFd(p *process, of *openFd, obj string) (image.Record, error) {
	count, err := strconv.ParseUint(strings.TrimSpace(of.info.Extra["eventfd-count"]), 16, 64) // fdinfo prints it in hex
	if err != nil {
		return nil, unsupported(p.pid, obj, "unreadable eventfd-count %q", of.info.Extra["eventfd-count"])
	}
	rec := &image.EventFd{Flags: of.info.Flags & openFlagsMask, Count: count}
	if strings.TrimSpace(of.info.Extra["eventfd-semaphore"]) == "1" {
		rec.Semaphore = 1
	}
	return rec, nil
}
