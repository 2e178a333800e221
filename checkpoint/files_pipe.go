package checkpoint

import (
	"strings"

	"github.com/ckpt/ckpt/checkpoint/image"
	"github.com/ckpt/ckpt/internal/proc"
)

// dumpPipe handles pipes. With one process checkpointed, a pipe whose other
// end the process does not hold leads outside (a shell pipeline, the
// parent's log collector) and is external: restore connects it to what the
// caller gives. A pipe with both ends inside carries data that would have
// to be saved; that comes with process trees.
func dumpPipe(p *process, of *openFd, obj string) (image.Record, error) {
	if !strings.HasPrefix(of.link, "pipe:") {
		return nil, unsupported(p.pid, obj, "named pipes (FIFOs) are not supported yet")
	}
	fds, err := proc.Fds(p.pid)
	if err != nil {
		return nil, err
	}
	for _, fd := range fds {
		if fd == of.fd {
			continue
		}
		link, err := proc.FdLink(p.pid, fd)
		if err == nil && link == of.link {
			info, err := proc.ReadFdInfo(p.pid, fd)
			if err == nil && info.Flags&3 != of.info.Flags&3 {
				return nil, unsupported(p.pid, obj, "the process holds both ends of this pipe (fd %d too); in-flight pipe data is not supported yet", fd)
			}
		}
	}
	return extFile(of, image.ExtPipe), nil
}
