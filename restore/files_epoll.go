package restore

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/remote"
)

func init() {
	o := inTaskOf(true, func(_ *restorer, t *taskPlan, _ image.Fd, x *image.Epoll, min int) (int, error) {
		return openEpoll(t.leader, x, min)
	})
	// Watches name fds by number.
	o.placed = func(_ *restorer, t *taskPlan, fd image.Fd, obj image.Record) error {
		if err := addEpollTargets(t.leader, int(fd.Fd), obj.(*image.Epoll)); err != nil {
			return fmt.Errorf("epoll fd %d: %w", fd.Fd, err)
		}
		return nil
	}
	registerKind(kind{name: "epoll", task: true, takes: []taker{object[*image.Epoll](nil)}, opens: []opener{o}})
}

// openEpoll creates an empty epoll instance; its watches are added by
// addEpollTargets once the fd table is complete.
func openEpoll(lt *remote.Task, ep *image.Epoll, min int) (int, error) {
	fd, err := lt.Syscall(unix.SYS_EPOLL_CREATE1, 0)
	if err != nil {
		return -1, fmt.Errorf("epoll_create1: %w", err)
	}
	if ep.Flags&unix.O_NONBLOCK != 0 {
		if _, err := lt.Syscall(unix.SYS_FCNTL, fd, unix.F_SETFL, unix.O_NONBLOCK); err != nil {
			return -1, fmt.Errorf("epoll O_NONBLOCK: %w", err)
		}
	}
	return moveAbove(lt, fd, min)
}

// addEpollTargets adds every saved watch to the epoll at epfd. struct
// epoll_event is packed on x86_64: u32 events, then u64 data.
func addEpollTargets(lt *remote.Task, epfd int, ep *image.Epoll) error {
	defer lt.Reset()
	buf, err := lt.Alloc(12)
	if err != nil {
		return err
	}
	for _, tg := range ep.Targets {
		ev := binary.LittleEndian.AppendUint32(nil, tg.Events)
		ev = binary.LittleEndian.AppendUint64(ev, tg.Data)
		if err := writeAt(lt, buf, ev); err != nil {
			return err
		}
		if _, err := lt.Syscall(unix.SYS_EPOLL_CTL, uintptr(epfd), unix.EPOLL_CTL_ADD, uintptr(tg.Fd), uintptr(buf)); err != nil {
			return fmt.Errorf("watch fd %d (events %#x): %w", tg.Fd, tg.Events, err)
		}
	}
	return nil
}
