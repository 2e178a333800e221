package checkpoint

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

// loDefaults are the addresses the kernel gives the loopback of a new
// network namespace when it is brought up.
var loDefaults = map[string]bool{"127.0.0.1/8": true, "::1/128": true}

// collectNetns records the tree's private network namespace, if its first
// task has one. Only a bare one is supported for now: the loopback alone,
// up or down, with its default addresses; any other interface or address is
// refused (sockets, which would be the namespace's other state, are refused
// with the files).
func (d *dumper) collectNetns(t *tree) error {
	private, err := privateNs(t, "net", "network namespace")
	if err != nil || !private {
		return err
	}
	if d.opts.Container != nil {
		// A container's network is its runtime's to make again from
		// the bundle (and whatever sets up its interfaces).
		return nil
	}
	root := t.procs[0]
	rec := &image.Netns{}
	err = inNamespace(root.pid, "net", unix.CLONE_NEWNET, func() error {
		ifs, err := net.Interfaces()
		if err != nil {
			return fmt.Errorf("list interfaces: %w", err)
		}
		for _, ifc := range ifs {
			obj := "network interface " + ifc.Name
			if ifc.Name != "lo" || ifc.Flags&net.FlagLoopback == 0 {
				return unsupported(root.pid, obj, "only the loopback is supported in a private network namespace")
			}
			addrs, err := ifc.Addrs()
			if err != nil {
				return fmt.Errorf("%s: addresses: %w", obj, err)
			}
			for _, a := range addrs {
				if !loDefaults[a.String()] {
					return unsupported(root.pid, obj, "address %s: only the loopback's default addresses are supported", a)
				}
			}
			if ifc.Flags&net.FlagUp != 0 {
				rec.LoFlags |= image.NetnsLoUp
			}
		}
		d.pingRange, err = readPingRange()
		return err
	})
	if err != nil {
		return fmt.Errorf("network namespace of task %d: %w", root.pid, err)
	}
	root.task.Flags |= image.TaskFlagNetns
	d.netns = rec
	return nil
}
