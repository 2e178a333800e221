package checkpoint

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/guard"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/netlock"
	"github.com/ckpt/ckpt/internal/proc"
	"github.com/ckpt/ckpt/internal/ptrace"
)

// What the guardian (internal/guard) undoes for a checkpoint ckpt did not
// finish. The tasks themselves need nothing: ckpt seizes them without
// PTRACE_O_EXITKILL, so the kernel detaches them when it dies, and they
// carry on from the registers they had (see doc.go, "If ckpt dies", for
// the window where they do not).
func init() {
	guard.Register("thaw", func(args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("thaw: want a cgroup, got %q", args)
		}
		fz, err := newFreezer(args[0])
		if err != nil {
			return err
		}
		return fz.thaw()
	})
	guard.Register("tcp-repair-off", undoTcpRepair)
	guard.Register("unlock", func(args []string) error {
		if len(args) < 1 {
			return fmt.Errorf("unlock: want a pid and connections, got %q", args)
		}
		pid, err := strconv.Atoi(args[0])
		if err != nil {
			return fmt.Errorf("unlock: pid %q: %w", args[0], err)
		}
		var conns []netlock.Conn
		for _, a := range args[1:] {
			l, p, _ := strings.Cut(a, " ")
			c := netlock.Conn{}
			if c.Local, err = netip.ParseAddrPort(l); err != nil {
				return fmt.Errorf("unlock: %q: %w", a, err)
			}
			if c.Peer, err = netip.ParseAddrPort(p); err != nil {
				return fmt.Errorf("unlock: %q: %w", a, err)
			}
			conns = append(conns, c)
		}
		return netlock.Unlock(pid, conns)
	})
	guard.Register("snapshot", undoSnapshot)
}

// connArgs writes connections for the "unlock" action.
func connArgs(conns []netlock.Conn) []string {
	var out []string
	for _, c := range conns {
		out = append(out, c.Local.String()+" "+c.Peer.String())
	}
	return out
}

// undoTcpRepair takes a socket of a task out of TCP repair mode, as
// endTcpRepair would have: args are the task, its fd and the SO_REUSEADDR
// to put back.
func undoTcpRepair(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("tcp-repair-off: want pid, fd, reuseaddr; got %q", args)
	}
	var n [3]int
	for i, a := range args {
		var err error
		if n[i], err = strconv.Atoi(a); err != nil {
			return fmt.Errorf("tcp-repair-off: %q: %w", a, err)
		}
	}
	fd, err := kernel.TakeFd(n[0], n[1])
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return nil // the task is gone, and its socket with it
		}
		return err
	}
	defer unix.Close(fd)
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR, unix.TCP_REPAIR_OFF_NO_WP); err != nil {
		return fmt.Errorf("task %d fd %d: leave TCP repair mode: %w", n[0], n[1], err)
	}
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, n[2])
}

// undoSnapshot ends a --leave-running snapshot copy and has its parent,
// the checkpointed process, reap it (args: the process, the copy, the
// copy's pid as the process sees it). The copy is traced with
// PTRACE_O_EXITKILL, so the kernel has killed it already; only its parent
// can reap it (its exit signal is 0), which takes a stop of the process
// once the dead ckpt no longer traces it.
func undoSnapshot(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("snapshot: want parent, copy, copy's pid in its namespace; got %q", args)
	}
	var n [3]int
	for i, a := range args {
		var err error
		if n[i], err = strconv.Atoi(a); err != nil {
			return fmt.Errorf("snapshot: %q: %w", a, err)
		}
	}
	parent, child, nsPid := n[0], n[1], n[2]
	st, err := proc.ReadStatus(child)
	if err != nil {
		if proc.IsGone(err) {
			return nil // reaped already
		}
		return err
	}
	if st.PPid != parent {
		return nil // not the copy: reaped, and its pid used again
	}
	_ = unix.Kill(child, unix.SIGKILL)
	// The kernel detaches the process from the dead ckpt as ckpt's last
	// thread exits, which can be after the journal's end reached us.
	for deadline := time.Now().Add(time.Second); ; time.Sleep(5 * time.Millisecond) {
		st, err := proc.ReadStatus(parent)
		if err != nil {
			return err
		}
		if st.TracerPid == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d is still traced by %d", parent, st.TracerPid)
		}
	}
	tr, err := ptrace.New()
	if err != nil {
		return err
	}
	defer tr.Close()
	d := &dumper{tr: tr, log: slog.New(slog.NewTextHandler(os.Stderr, nil)).With("component", "guardian")}
	return tr.Do(func() error {
		d.reap(&process{pid: parent}, &snapshot{pid: child, nsPid: nsPid})
		return nil
	})
}
