// Package remote runs system calls inside a ptrace-stopped task, with a
// small scratch area in the task's memory for their in and out arguments.
// It is how the checkpointer asks a task what only the task can answer and
// how the restorer builds a task from a stub: no code is left behind.
package remote

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/ptrace"
)

// Task is one stopped thread we inject syscalls into.
type Task struct {
	Tid  int
	sess *ptrace.Session

	scratch    uint64 // start of the scratch area, 0 if none
	scratchLen uint64
	used       uint64 // bump allocator within the scratch area
}

// New opens an injection session on tid; insn is the address of a syscall
// instruction executable in the task.
func New(tr *ptrace.Tracer, tid int, insn uint64) (*Task, error) {
	s, err := tr.NewSession(tid, insn)
	if err != nil {
		return nil, err
	}
	return &Task{Tid: tid, sess: s}, nil
}

// UseTrampoline makes the task's injected syscalls safe if the tracer
// dies (ptrace.Session.UseTrampoline).
func (t *Task) UseTrampoline(addr uint64) error { return t.sess.UseTrampoline(addr) }

// Session exposes the underlying ptrace session.
func (t *Task) Session() *ptrace.Session { return t.sess }

// Syscall runs one system call in the task.
func (t *Task) Syscall(nr uintptr, args ...uintptr) (uintptr, error) {
	return t.sess.Syscall(nr, args...)
}

// UseScratch points the allocator at an area already mapped writable in the
// task (for example one shared by the threads of a process).
func (t *Task) UseScratch(addr, size uint64) {
	t.scratch, t.scratchLen, t.used = addr, size, 0
}

// MapScratch maps a private anonymous scratch area of size bytes at addr,
// which must be free: MAP_FIXED_NOREPLACE refuses to clobber anything.
func (t *Task) MapScratch(addr, size uint64, prot int) error {
	ret, err := t.Syscall(unix.SYS_MMAP, uintptr(addr), uintptr(size), uintptr(prot),
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED_NOREPLACE, ^uintptr(0), 0)
	if err != nil {
		return fmt.Errorf("map scratch at %#x in task %d: %w", addr, t.Tid, err)
	}
	if uint64(ret) != addr {
		return fmt.Errorf("map scratch in task %d: got %#x, want %#x", t.Tid, ret, addr)
	}
	t.UseScratch(addr, size)
	return nil
}

// UnmapScratch removes the scratch area mapped by MapScratch.
func (t *Task) UnmapScratch() error {
	if t.scratch == 0 {
		return nil
	}
	if _, err := t.Syscall(unix.SYS_MUNMAP, uintptr(t.scratch), uintptr(t.scratchLen)); err != nil {
		return fmt.Errorf("unmap scratch %#x in task %d: %w", t.scratch, t.Tid, err)
	}
	t.scratch, t.scratchLen, t.used = 0, 0, 0
	return nil
}

// Reset frees everything allocated in the scratch area.
func (t *Task) Reset() { t.used = 0 }

// Alloc reserves n bytes (8-byte aligned) of scratch and returns their
// address in the task.
func (t *Task) Alloc(n int) (uint64, error) {
	size := (uint64(n) + 7) &^ 7
	if t.scratch == 0 || t.used+size > t.scratchLen {
		return 0, fmt.Errorf("task %d: scratch area exhausted (%d of %d bytes used, %d wanted)", t.Tid, t.used, t.scratchLen, n)
	}
	addr := t.scratch + t.used
	t.used += size
	return addr, nil
}

// Put copies b into fresh scratch and returns its address in the task.
func (t *Task) Put(b []byte) (uint64, error) {
	addr, err := t.Alloc(len(b))
	if err != nil {
		return 0, err
	}
	if err := ptrace.WriteMem(t.Tid, addr, b); err != nil {
		return 0, fmt.Errorf("write scratch %#x in task %d: %w", addr, t.Tid, err)
	}
	return addr, nil
}

// PutString copies s with a terminating NUL into scratch.
func (t *Task) PutString(s string) (uint64, error) {
	return t.Put(append([]byte(s), 0))
}

// Read copies len(b) bytes at addr in the task into b.
func (t *Task) Read(addr uint64, b []byte) error {
	if err := ptrace.ReadMem(t.Tid, addr, b); err != nil {
		return fmt.Errorf("read %#x in task %d: %w", addr, t.Tid, err)
	}
	return nil
}

// ReadU64s reads n little-endian 64-bit words at addr.
func (t *Task) ReadU64s(addr uint64, n int) ([]uint64, error) {
	b := make([]byte, 8*n)
	if err := t.Read(addr, b); err != nil {
		return nil, err
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return out, nil
}

// Close ends the session, restoring the task's registers and signal mask.
func (t *Task) Close() error { return t.sess.Close() }
