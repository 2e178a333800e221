package restore

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/remote"
)

func init() {
	registerKind(kind{name: "eventfd", task: true,
		takes: []taker{object[*image.EventFd](nil)},
		opens: []opener{inTaskOf(true, func(_ *restorer, t *taskPlan, _ image.Fd, x *image.EventFd, min int) (int, error) {
			return openEventFd(t.leader, x, min)
		})}})
}

// openEventFd creates an eventfd with the saved counter and mode. eventfd2
// takes only a 32-bit initial value, so the counter is written instead.
func openEventFd(lt *remote.Task, ev *image.EventFd, min int) (int, error) {
	defer lt.Reset()
	flags := uintptr(ev.Flags & unix.O_NONBLOCK)
	if ev.Semaphore != 0 {
		flags |= unix.EFD_SEMAPHORE
	}
	fd, err := lt.Syscall(unix.SYS_EVENTFD2, 0, flags)
	if err != nil {
		return -1, fmt.Errorf("eventfd2: %w", err)
	}
	if ev.Count != 0 {
		buf, err := lt.Put(binary.LittleEndian.AppendUint64(nil, ev.Count))
		if err != nil {
			return -1, err
		}
		if _, err := lt.Syscall(unix.SYS_WRITE, fd, uintptr(buf), 8); err != nil {
			return -1, fmt.Errorf("set eventfd counter to %d: %w", ev.Count, err)
		}
	}
	return moveAbove(lt, fd, min)
}
