package checkpoint

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/ptrace"
)

// collectSeccomp takes the seccomp mode of each thread (collectThread read
// it) and, in filter mode, reads its filters, oldest first, with
// PTRACE_SECCOMP_GET_FILTER.
//
// The kernel does not tell whether two threads or tasks share a filter
// (a child inherits its parent's chain, TSYNC gives a thread group one):
// filters are taken to be the same object when they are the same program
// with the same flags on top of the same older filter. Such a chain is
// written once, however many threads and tasks use it, and restore
// rebuilds sharing within a process from it.
func (d *dumper) collectSeccomp(p *process) error {
	for _, t := range p.threads {
		what := fmt.Sprintf("seccomp of thread %d", t.tid)
		if t.seccomp == 0 {
			continue
		}
		if ptrace.SuspendSeccomp() == 0 {
			return unsupported(p.pid, what, "%v", ptrace.ErrNoSuspendSeccomp)
		}
		rec := &image.Seccomp{Tid: t.rec.Tid, Mode: uint32(t.seccomp)}
		switch rec.Mode {
		case image.SeccompModeStrict:
		case image.SeccompModeFilter:
			if t.seccompFilters <= 0 {
				return fmt.Errorf("%s: filter mode with %d filters", what, t.seccompFilters)
			}
			prev := uint32(0)
			// Index 0 is the oldest filter (kernel/seccomp.c:
			// get_nth_filter() counts back from the newest).
			for i := range t.seccompFilters {
				prog, flags, err := d.tr.SeccompFilter(t.tid, i)
				if err != nil {
					return fmt.Errorf("%s: %w", what, err)
				}
				if flags&^unix.SECCOMP_FILTER_FLAG_LOG != 0 {
					return unsupported(p.pid, what, "filter %d has flags %#x", i, flags)
				}
				if pc, ok := userNotif(prog); ok {
					return unsupported(p.pid, what, "filter %d (instruction %d) hands syscalls to a user-space supervisor (SECCOMP_RET_USER_NOTIF), whose listener cannot be restored", i, pc)
				}
				key := seccompKey{prev: prev, flags: uint32(flags), prog: string(prog)}
				ref, ok := d.seccompFilters[key]
				if !ok {
					ref = d.nextObjref()
					if d.seccompFilters == nil {
						d.seccompFilters = map[seccompKey]uint32{}
					}
					d.seccompFilters[key] = ref
					p.seccomp = append(p.seccomp, &image.SeccompFilter{Objref: ref, Prev: prev, Flags: uint32(flags), Prog: prog})
				}
				prev = ref
			}
			rec.Filter = prev
		default:
			return unsupported(p.pid, what, "unknown seccomp mode %d", t.seccomp)
		}
		p.seccomp = append(p.seccomp, rec)
	}
	return nil
}

// seccompKey identifies a filter object: its program and flags, and the
// filter before it in the chain.
type seccompKey struct {
	prev  uint32
	flags uint32
	prog  string
}

// userNotif reports whether a classic BPF program may return
// SECCOMP_RET_USER_NOTIF: a BPF_RET|BPF_K instruction with that action.
// (A program returning the accumulator is not inspected.)
func userNotif(prog []byte) (pc int, found bool) {
	const bpfRetK = unix.BPF_RET | unix.BPF_K
	for pc := 0; pc+kernel.SockFilterLen <= len(prog); pc += kernel.SockFilterLen {
		code := binary.LittleEndian.Uint16(prog[pc:])
		k := binary.LittleEndian.Uint32(prog[pc+4:])
		if code == bpfRetK && k&unix.SECCOMP_RET_ACTION_FULL == unix.SECCOMP_RET_USER_NOTIF {
			return pc / kernel.SockFilterLen, true
		}
	}
	return 0, false
}
