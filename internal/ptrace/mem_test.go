package ptrace

import (
	"bytes"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// ReadMemVec over more than IOV_MAX ranges, with local buffers cut at other
// places than the remote ranges, across a PROT_NONE page that
// process_vm_readv cannot read. Our own process is the target.
func TestReadMemVec(t *testing.T) {
	const pages = 4
	m, err := unix.Mmap(-1, 0, pages*pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	for i := range m {
		m[i] = byte(i*7 + i/251)
	}
	snapshot := bytes.Clone(m)
	if err := unix.Mprotect(m[2*pageSize:3*pageSize], unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	base := uintptr(addrOf(m))
	// 5-byte ranges, alternately 5 and 10 bytes apart, over all four pages
	// (some straddle into and out of the PROT_NONE one).
	var remote []unix.RemoteIovec
	var want []byte
	for off := 0; off+5 <= pages*pageSize; off += 5 + 5*(len(remote)%2) {
		remote = append(remote, unix.RemoteIovec{Base: base + uintptr(off), Len: 5})
		want = append(want, snapshot[off:off+5]...)
	}
	if len(remote) < 2*iovMax {
		t.Fatalf("only %d ranges", len(remote))
	}
	total := len(want)
	sizes := []int{1, 4095, 3, total - 1 - 4095 - 3 - 7, 7}
	var local [][]byte
	for _, n := range sizes {
		local = append(local, make([]byte, n))
	}
	n, err := ReadMemVec(os.Getpid(), local, remote)
	if err != nil || n != total {
		t.Fatalf("ReadMemVec = %d, %v; want %d", n, err, total)
	}
	if got := bytes.Join(local, nil); !bytes.Equal(got, want) {
		t.Error("ReadMemVec read the wrong bytes")
	}

	// A hole in the address space ends the read with an error and a count.
	if _, _, e := unix.Syscall(unix.SYS_MUNMAP, base+3*pageSize, pageSize, 0); e != 0 {
		t.Fatal(e)
	}
	buf := make([]byte, 2*pageSize)
	n, err = ReadMemVec(os.Getpid(), [][]byte{buf}, []unix.RemoteIovec{{Base: base + 2*pageSize, Len: 2 * pageSize}})
	if err == nil || n != pageSize {
		t.Errorf("read over an unmapped page = %d, %v; want %d and an error", n, err, pageSize)
	}
	if _, err := ReadMemVec(os.Getpid(), [][]byte{buf}, []unix.RemoteIovec{{Base: base, Len: 1}}); err == nil {
		t.Error("mismatched lengths accepted")
	}
}

func TestReadWriteMemSelf(t *testing.T) {
	m, err := unix.Mmap(-1, 0, pageSize, unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	addr := addrOf(m)
	// Read-only to us, yet /proc/self/mem writes it (FOLL_FORCE).
	if err := WriteMem(os.Getpid(), addr+8, []byte("forced")); err != nil {
		t.Fatal(err)
	}
	if string(m[8:14]) != "forced" {
		t.Errorf("page holds %q", m[8:14])
	}
	got := make([]byte, 6)
	if err := ReadMem(os.Getpid(), addr+8, got); err != nil || string(got) != "forced" {
		t.Errorf("ReadMem = %q, %v", got, err)
	}
	if err := ReadMem(os.Getpid(), 8, got); err == nil {
		t.Error("ReadMem at address 8 succeeded")
	}
}

func TestVdsoSyscallOffset(t *testing.T) {
	off, err := VdsoSyscallOffset()
	if err != nil {
		t.Fatal(err)
	}
	start := vdsoStart(t, os.Getpid())
	b := make([]byte, 2)
	if err := ReadMem(os.Getpid(), start+off, b); err != nil {
		t.Fatal(err)
	}
	if b[0] != 0x0f || b[1] != 0x05 {
		t.Errorf("bytes at vdso+%#x are % x, want 0f 05", off, b)
	}
}
