package kernel

import (
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// userRegsOrder is struct user_regs_struct (arch/x86/include/asm/user_64.h).
var userRegsOrder = strings.Fields("r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi " +
	"orig_rax rip cs eflags rsp ss fs_base gs_base ds es fs gs")

// fieldsByName gives each register a distinct value so a misplaced one shows.
func fieldsByName(t *testing.T) (Regs, map[string]uint64) {
	t.Helper()
	var r Regs
	v := reflect.ValueOf(&r).Elem()
	vals := map[string]uint64{}
	for i, name := range userRegsOrder {
		f := v.FieldByNameFunc(func(n string) bool { return strings.EqualFold(n, name) })
		if !f.IsValid() {
			t.Fatalf("Regs has no field for %s", name)
		}
		val := uint64(0x1000 + i*0x11)
		f.SetUint(val)
		vals[name] = val
	}
	return r, vals
}

func TestRegsArrayOrder(t *testing.T) {
	r, vals := fieldsByName(t)
	a := r.Array()
	for i, name := range userRegsOrder {
		if a[i] != vals[name] {
			t.Errorf("Array()[%d] = %#x, want %s = %#x", i, a[i], name, vals[name])
		}
	}
	if back := RegsFromArray(a); back != r {
		t.Errorf("RegsFromArray(Array()) = %+v, want %+v", back, r)
	}
}

func TestSetSyscall(t *testing.T) {
	r, _ := fieldsByName(t)
	r.SetSyscall(unix.SYS_MMAP, 1, 2, 3, 4, 5, 6)
	want := map[string]uint64{"rax": unix.SYS_MMAP, "orig_rax": ^uint64(0),
		"rdi": 1, "rsi": 2, "rdx": 3, "r10": 4, "r8": 5, "r9": 6}
	a := r.Array()
	for i, name := range userRegsOrder {
		if w, ok := want[name]; ok && a[i] != w {
			t.Errorf("%s = %#x, want %#x", name, a[i], w)
		}
	}
	r.SetSyscall(unix.SYS_GETPID)
	if r.Rdi != 0 || r.R9 != 0 || r.SyscallNo() != -1 || r.Rax != unix.SYS_GETPID {
		t.Errorf("SetSyscall(getpid) left %+v", r)
	}
}

func TestFixupRestart(t *testing.T) {
	const pc = 0x401002
	neg := func(e int64) uint64 { return uint64(-e) }
	for _, c := range []struct {
		name            string
		rax, orig       uint64
		wantRax, wantPC uint64
	}{
		{"ERESTARTSYS", neg(ERESTARTSYS), unix.SYS_READ, unix.SYS_READ, pc - 2},
		{"ERESTARTNOINTR", neg(ERESTARTNOINTR), unix.SYS_WAIT4, unix.SYS_WAIT4, pc - 2},
		{"ERESTARTNOHAND", neg(ERESTARTNOHAND), unix.SYS_PAUSE, unix.SYS_PAUSE, pc - 2},
		{"ERESTART_RESTARTBLOCK", neg(ERESTART_RESTARTBLOCK), unix.SYS_CLOCK_NANOSLEEP, neg(int64(unix.EINTR)), pc},
		{"ordinary error", neg(int64(unix.EAGAIN)), unix.SYS_READ, neg(int64(unix.EAGAIN)), pc},
		{"success", 5, unix.SYS_READ, 5, pc},
		{"not in a syscall", neg(ERESTARTSYS), ^uint64(0), neg(ERESTARTSYS), pc},
	} {
		r := Regs{Rax: c.rax, Orig_rax: c.orig, Rip: pc}
		r.FixupRestart()
		if r.Rax != c.wantRax || r.PC() != c.wantPC || r.Orig_rax != c.orig {
			t.Errorf("%s: rax=%#x rip=%#x orig_rax=%#x, want rax=%#x rip=%#x orig_rax=%#x",
				c.name, r.Rax, r.PC(), r.Orig_rax, c.wantRax, c.wantPC, c.orig)
		}
	}
}
