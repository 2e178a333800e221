package restore

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/proc"
	"github.com/ckpt/ckpt/internal/ptrace"
)

// checkSeccompFilter refuses a filter the kernel would refuse, or whose
// flags restore does not know, or that follows anything but a filter,
// before anything is created.
func (rs *restorer) checkSeccompFilter(f *image.SeccompFilter) error {
	n := len(f.Prog) / kernel.SockFilterLen
	if _, ok := rs.objs[f.Prev].(*image.SeccompFilter); f.Prev != 0 && !ok {
		return badImage("SECCOMP_FILTER %d: Prev %d is not a SECCOMP_FILTER record", f.Objref, f.Prev)
	}
	switch {
	case len(f.Prog)%kernel.SockFilterLen != 0:
		return badImage("SECCOMP_FILTER %d: program of %d bytes is not a whole number of instructions", f.Objref, len(f.Prog))
	case n == 0 || n > unix.BPF_MAXINSNS:
		return badImage("SECCOMP_FILTER %d: %d instructions (1 to %d)", f.Objref, n, unix.BPF_MAXINSNS)
	case f.Flags&^unix.SECCOMP_FILTER_FLAG_LOG != 0:
		return badImage("SECCOMP_FILTER %d: unknown flags %#x", f.Objref, f.Flags)
	}
	return nil
}

// addSeccomp takes a SECCOMP record of task t.
func (rs *restorer) addSeccomp(t *taskPlan, x *image.Seccomp) error {
	switch {
	case x.Mode == image.SeccompModeStrict && x.Filter == 0:
	case x.Mode == image.SeccompModeFilter:
		if _, ok := rs.objs[x.Filter].(*image.SeccompFilter); !ok {
			return badImage("SECCOMP of thread %d names filter %d, which is not a SECCOMP_FILTER record", x.Tid, x.Filter)
		}
	default:
		return badImage("SECCOMP of thread %d: mode %d with filter %d", x.Tid, x.Mode, x.Filter)
	}
	for _, y := range t.seccomp {
		if y.Tid == x.Tid {
			return badImage("a second SECCOMP for thread %d", x.Tid)
		}
	}
	if ptrace.SuspendSeccomp() == 0 {
		return fmt.Errorf("thread %d has seccomp mode %d: %w", x.Tid, x.Mode, ptrace.ErrNoSuspendSeccomp)
	}
	t.seccomp = append(t.seccomp, x)
	return nil
}

// checkTaskSeccomp checks what depends on the task's threads, once they
// are known.
func checkTaskSeccomp(t *taskPlan) error {
	for _, x := range t.seccomp {
		if !t.hasThread(x.Tid) {
			return badImage("task %d: SECCOMP for thread %d, which the task does not have", t.rec.Pid, x.Tid)
		}
	}
	return nil
}

// chain returns the filters of a thread's SECCOMP record, oldest first.
// Prev always names an earlier record (the reader checks), so the walk
// ends.
func (rs *restorer) chain(x *image.Seccomp) []*image.SeccompFilter {
	var c []*image.SeccompFilter
	for ref := x.Filter; ref != 0; {
		f := rs.objs[ref].(*image.SeccompFilter)
		c = append(c, f)
		ref = f.Prev
	}
	for i, j := 0, len(c)-1; i < j; i, j = i+1, j-1 {
		c[i], c[j] = c[j], c[i]
	}
	return c
}

// restoreSeccomp puts back each thread's seccomp mode and filters. The
// tasks are traced with PTRACE_O_SUSPEND_SECCOMP, so the filters leave
// alone every syscall restore injects after them, up to detach. They go in
// before the credentials, while the thread still has CAP_SYS_ADMIN: a task
// may have installed them with it and dropped it since, without
// no_new_privs.
//
// Threads share filters in the kernel, and that shows: SECCOMP_FILTER_FLAG_TSYNC
// succeeds only if every other thread's filter is an ancestor of the
// caller's. So the filters all threads have in common go in once, in the
// leader, with TSYNC, which gives every thread the very same ones; each
// thread then adds the rest of its own chain. (Filters shared by some
// threads only, past that common part, become copies.)
func (rs *restorer) restoreSeccomp(t *taskPlan) error {
	if len(t.seccomp) == 0 {
		return nil
	}
	base, err := rs.baseFilters(t)
	if err != nil {
		return err
	}
	chains := map[int32][]*image.SeccompFilter{}
	strict := map[int32]bool{}
	for _, x := range t.seccomp {
		chains[x.Tid] = stripBase(rs.chain(x), base)
		strict[x.Tid] = x.Mode == image.SeccompModeStrict
	}
	common := -1 // length of the chain prefix all threads share
	for i := range t.threads {
		c := chains[t.threads[i].Tid]
		if common < 0 || len(c) < common {
			common = len(c)
		}
		first := chains[t.threads[0].Tid]
		for j := 0; j < common; j++ {
			if c[j] != first[j] {
				common = j
			}
		}
	}
	lead := chains[t.threads[0].Tid]
	for _, f := range lead[:common] {
		if err := rs.installFilter(t, t.threads[0].Tid, f, unix.SECCOMP_FILTER_FLAG_TSYNC); err != nil {
			return err
		}
	}
	for i := range t.threads {
		tid := t.threads[i].Tid
		for _, f := range chains[tid][common:] {
			if err := rs.installFilter(t, tid, f, 0); err != nil {
				return err
			}
		}
		if strict[tid] {
			rt := t.threadRTs[int(tid)]
			if _, err := rt.Syscall(unix.SYS_PRCTL, unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_STRICT); err != nil {
				return fmt.Errorf("thread %d: prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT): %w", tid, err)
			}
		}
	}
	return nil
}

// installFilter installs filter f in thread tid with seccomp(2). The
// program goes in the leader's scratch area, which the threads share.
func (rs *restorer) installFilter(t *taskPlan, tid int32, f *image.SeccompFilter, flags uint32) error {
	lt := t.leader
	defer lt.Reset()
	prog, err := lt.Put(f.Prog)
	if err != nil {
		return err
	}
	// struct sock_fprog: len u16, padding, filter pointer.
	fprog := make([]byte, kernel.SockFprogLen)
	binary.LittleEndian.PutUint16(fprog[0:], uint16(len(f.Prog)/kernel.SockFilterLen))
	binary.LittleEndian.PutUint64(fprog[8:], prog)
	addr, err := lt.Put(fprog)
	if err != nil {
		return err
	}
	rt := t.threadRTs[int(tid)]
	ret, err := rt.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags|f.Flags), uintptr(addr))
	if err != nil {
		return fmt.Errorf("thread %d: seccomp filter %d: %w", tid, f.Objref, err)
	}
	if ret != 0 {
		// TSYNC answers with the thread that could not follow.
		return fmt.Errorf("thread %d: seccomp filter %d: thread %d could not be synchronized", tid, f.Objref, ret)
	}
	return nil
}

// baseFilter is a seccomp filter a task has before restore installs the
// image's.
type baseFilter struct {
	prog  []byte
	flags uint64
}

// baseFilters are the filters task t has from the stub it was made from,
// oldest first: when restoring into a container, the spec's seccomp
// profile, which libcontainer installed in the stub.
//
// Preconditions:
//   - must run on the tracer thread; no filter of the image is installed
//     in t yet.
func (rs *restorer) baseFilters(t *taskPlan) ([]baseFilter, error) {
	st, err := proc.ReadTaskStatus(t.pid, t.pid)
	if err != nil {
		return nil, err
	}
	if st.Seccomp != int(image.SeccompModeFilter) {
		return nil, nil
	}
	var base []baseFilter
	for i := 0; i < st.SeccompFilters; i++ {
		prog, flags, err := rs.tr.SeccompFilter(t.pid, i)
		if err != nil {
			return nil, fmt.Errorf("read the seccomp filters task %d starts with: %w", t.rec.Pid, err)
		}
		base = append(base, baseFilter{prog, flags})
	}
	return base, nil
}

// stripBase drops from a thread's chain the filters the task already has
// from its stub: a container checkpointed under its spec's profile has
// that profile as the oldest filters of its chain, and restoring it under
// the same profile must not stack a second copy (filters add up against
// the kernel's limit of instructions per chain).
func stripBase(chain []*image.SeccompFilter, base []baseFilter) []*image.SeccompFilter {
	k := 0
	for k < len(chain) && k < len(base) && uint64(chain[k].Flags) == base[k].flags && bytes.Equal(chain[k].Prog, base[k].prog) {
		k++
	}
	return chain[k:]
}
