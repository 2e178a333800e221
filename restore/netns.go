package restore

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

// netnsKind is the tree's private network namespace, made while reading
// the image.
type netnsKind struct {
	netNs     *os.File
	pingRange bool // its PING_RANGE was taken (netns_ping.go)
}

func init() {
	registerKind(kind{name: "network namespace",
		takes: []taker{on((*restorer).handleNetns)},
		// The namespace records are all in before the first task's section.
		follow: func(rs *restorer, _ *image.Reader, rec image.Record) (bool, error) {
			if _, ok := rec.(*image.Task); ok && rs.tree && rs.cur == nil && rs.plans[0].rec.Flags&image.TaskFlagNetns != 0 && rs.netNs == nil {
				return true, badImage("the first task had its own network namespace, but the image has no NETNS record")
			}
			return false, nil
		},
		close: func(rs *restorer) {
			if rs.netNs != nil {
				rs.netNs.Close()
			}
		}})
}

// nsNames are the /proc/thread-self/ns names of the namespaces we make.
var nsNames = map[int]string{unix.CLONE_NEWIPC: "ipc", unix.CLONE_NEWNET: "net"}

// newNamespace makes a namespace of type nstype (CLONE_NEWIPC or
// CLONE_NEWNET) on an OS thread of our own, runs setup in it and returns a
// file that keeps it alive: the root task enters it later (enterNamespaces).
// The thread is never given back to the Go scheduler: it exits with the
// goroutine, namespace and all (unshare of these namespaces only changes
// the calling thread).
func newNamespace(nstype int, setup func() error) (*os.File, error) {
	type result struct {
		f   *os.File
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(nstype); err != nil {
			done <- result{err: fmt.Errorf("unshare %s namespace: %w", nsNames[nstype], err)}
			return
		}
		if setup != nil {
			if err := setup(); err != nil {
				done <- result{err: err}
				return
			}
		}
		f, err := os.Open("/proc/thread-self/ns/" + nsNames[nstype])
		done <- result{f, err}
	}()
	r := <-done
	return r.f, r.err
}

// inNamespace runs fn on an OS thread of our own that has entered ns (of
// type nstype); like newNamespace's, the thread dies with the goroutine.
func inNamespace(ns *os.File, nstype int, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(int(ns.Fd()), nstype); err != nil {
			done <- fmt.Errorf("setns into our new %s namespace: %w", nsNames[nstype], err)
			return
		}
		done <- fn()
	}()
	return <-done
}

// handleNetns takes the NETNS record: it makes the new network namespace
// right away, its loopback up or down as it was.
func (rs *restorer) handleNetns(n *image.Netns) error {
	if !rs.tree || rs.cur != nil || rs.netNs != nil {
		return badImage("NETNS out of place: it follows the PSTREE, once")
	}
	if rs.plans[0].rec.Flags&image.TaskFlagNetns == 0 {
		return badImage("NETNS, but the first task had no network namespace of its own")
	}
	if n.LoFlags&^image.NetnsLoUp != 0 {
		return badImage("NETNS loopback flags %#x: unknown bits", n.LoFlags)
	}
	var err error
	rs.netNs, err = newNamespace(unix.CLONE_NEWNET, func() error {
		if n.LoFlags&image.NetnsLoUp == 0 {
			return nil
		}
		return loUp()
	})
	if err != nil {
		return fmt.Errorf("network namespace: %w", err)
	}
	return nil
}

// loUp brings up the loopback of the calling thread's network namespace;
// the kernel gives it its addresses.
func loUp() error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket for the loopback: %w", err)
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("lo: SIOCGIFFLAGS: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("lo: bring it up: %w", err)
	}
	return nil
}

// enterNamespaces moves the root task, before it has children, into the
// IPC and network namespaces made while reading the image: it takes our
// fd of each with pidfd_getfd and setns()es into it.
func (rs *restorer) enterNamespaces(t *taskPlan) error {
	for _, ns := range []struct {
		flag   uint32
		nstype int
		f      *os.File
		rec    string
	}{
		{image.TaskFlagIpcns, unix.CLONE_NEWIPC, rs.ipcNs, "no IPC record"},
		{image.TaskFlagNetns, unix.CLONE_NEWNET, rs.netNs, "no NETNS record"},
	} {
		if t.rec.Flags&ns.flag == 0 {
			if ns.f != nil {
				return badImage("the image describes a %s namespace, but the first task had none of its own", nsNames[ns.nstype])
			}
			continue
		}
		f := ns.f
		if f == nil && ns.nstype == unix.CLONE_NEWIPC {
			// An IPC namespace with no objects in it.
			var err error
			if f, err = rs.ipcNamespace(); err != nil {
				return err
			}
		} else if f == nil {
			return badImage("the first task had its own %s namespace, but the image has %s", nsNames[ns.nstype], ns.rec)
		}
		lt := t.leader
		fd, err := t.pull(f.Fd())
		if err != nil {
			return fmt.Errorf("take the %s namespace from the restorer: %w", nsNames[ns.nstype], err)
		}
		_, err = lt.Syscall(unix.SYS_SETNS, fd, uintptr(ns.nstype))
		_, _ = lt.Syscall(unix.SYS_CLOSE, fd)
		if err != nil {
			return fmt.Errorf("setns into the new %s namespace: %w", nsNames[ns.nstype], err)
		}
	}
	return nil
}
