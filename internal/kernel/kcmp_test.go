package kernel

import (
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

// TestKcmp: a task's objects equal themselves, a dup'ed fd is the same
// description and a reopened file is not, and a child made by fork(2) has
// its own mm, which kcmp orders consistently against ours.
func TestKcmp(t *testing.T) {
	self := os.Getpid()
	if o, err := Kcmp(self, self, KCMP_VM, 0, 0); err != nil || o != KcmpEqual {
		t.Fatalf("Kcmp(self, self, KCMP_VM) = %d, %v; want equal", o, err)
	}
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	dup, err := unix.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dup)
	if o, err := Kcmp(self, self, KCMP_FILE, f.Fd(), uintptr(dup)); err != nil || o != KcmpEqual {
		t.Errorf("a dup'ed fd: Kcmp = %d, %v; want equal", o, err)
	}
	if o, err := Kcmp(self, self, KCMP_FILE, f.Fd(), g.Fd()); err != nil || o == KcmpEqual {
		t.Errorf("the file opened twice: Kcmp = %d, %v; want different", o, err)
	}

	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	child := cmd.Process.Pid
	ab, err1 := Kcmp(self, child, KCMP_VM, 0, 0)
	ba, err2 := Kcmp(child, self, KCMP_VM, 0, 0)
	if err1 != nil || err2 != nil {
		t.Fatalf("Kcmp with child %d: %v, %v", child, err1, err2)
	}
	if !(ab == KcmpLess && ba == KcmpGreater || ab == KcmpGreater && ba == KcmpLess) {
		t.Errorf("KCMP_VM of us and child %d: %d one way, %d the other; want an order", child, ab, ba)
	}
	if _, err := Kcmp(self, self, KCMP_FILE, 1<<20, 0); err == nil {
		t.Errorf("Kcmp of a closed fd succeeded")
	}
}
