package restore

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

func init() {
	registerKind(kind{name: "signalfd", task: true,
		takes: []taker{object[*image.SignalFd](nil)},
		opens: []opener{fileOf(func(_ *restorer, _ *taskPlan, _ image.Fd, x *image.SignalFd) (*os.File, error) {
			return openSignalFd(x)
		})}})
}

// openSignalFd makes the signalfd in the restorer: the file holds only the
// mask; the signals it reads are those of whichever task reads it.
func openSignalFd(sf *image.SignalFd) (*os.File, error) {
	flags := unix.SFD_CLOEXEC
	if sf.Flags&unix.O_NONBLOCK != 0 {
		flags |= unix.SFD_NONBLOCK
	}
	mask := unix.Sigset_t{Val: [16]uint64{sf.Sigmask}}
	fd, err := unix.Signalfd(-1, &mask, flags)
	if err != nil {
		return nil, fmt.Errorf("signalfd(mask %#x): %w", sf.Sigmask, err)
	}
	return os.NewFile(uintptr(fd), "signalfd"), nil
}
