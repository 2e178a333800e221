package restore

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

// utsKind is the restore state of the tree's private UTS namespace.
type utsKind struct {
	uts *image.Uts // the UTS record; nil when the tree shares ours
}

func init() {
	registerKind(kind{name: "UTS namespace",
		takes: []taker{on(func(rs *restorer, x *image.Uts) error {
			if !rs.tree || rs.cur != nil || rs.uts != nil {
				return badImage("UTS out of place: it follows the PSTREE, once")
			}
			rs.uts = x
			return nil
		})}})
}

// setupUtsns names the root's new UTS namespace.
func (rs *restorer) setupUtsns(t *taskPlan) error {
	if t.rec.Flags&image.TaskFlagUtsns == 0 {
		return nil
	}
	lt := t.leader
	defer lt.Reset()
	for _, n := range []struct {
		nr   uintptr
		name string
	}{{unix.SYS_SETHOSTNAME, rs.uts.Hostname}, {unix.SYS_SETDOMAINNAME, rs.uts.Domainname}} {
		addr, err := lt.Put([]byte(n.name))
		if err != nil {
			return err
		}
		if _, err := lt.Syscall(n.nr, uintptr(addr), uintptr(len(n.name))); err != nil {
			return fmt.Errorf("set name %q: %w", n.name, err)
		}
	}
	return nil
}
