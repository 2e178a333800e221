package restore

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRefillPipeNeverBlocks: data beyond what a pipe holds fails at once
// instead of blocking the restore; data that fits goes in whole, and the
// description is blocking again afterwards.
func TestRefillPipeNeverBlocks(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	r, w := os.NewFile(uintptr(p[0]), "r"), os.NewFile(uintptr(p[1]), "w")
	defer r.Close()
	defer w.Close()
	size, err := unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if err := refillPipe(w, make([]byte, size)); err != nil {
		t.Fatalf("%d bytes into a pipe of %d: %v", size, size, err)
	}
	if err := refillPipe(w, []byte{1}); err == nil {
		t.Fatal("a byte more than the pipe holds was written")
	}
	fl, err := unix.FcntlInt(w.Fd(), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_NONBLOCK != 0 {
		t.Fatalf("flags %#x (%v) after the refill, want blocking", fl, err)
	}
}
