package checkpoint

import (
	"strings"

	"github.com/ckpt/ckpt/checkpoint/image"
)

// dumpPipe handles pipes. A pipe with only one end inside the checkpoint
// leads outside (a shell pipeline, the parent's log collector) and is
// external: restore connects it to what the caller gives. Pipes with both
// ends inside are found by checkPipes once every process is collected.
func dumpPipe(p *process, of *openFd, obj string) (image.Record, error) {
	if !strings.HasPrefix(of.link, "pipe:") {
		return nil, unsupported(p.pid, obj, "named pipes (FIFOs) are not supported yet")
	}
	p.pipeFds = append(p.pipeFds, pipeFd{fd: of.fd, link: of.link, write: of.info.Flags&3 != 0})
	return extFile(of, image.ExtPipe), nil
}
