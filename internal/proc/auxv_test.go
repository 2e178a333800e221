package proc

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// Auxiliary vector types, from include/uapi/linux/auxvec.h and
// arch/x86/include/uapi/asm/auxvec.h; x/sys/unix has none.
const (
	atNull        = 0
	atPhdr        = 3
	atPagesz      = 6
	atEntry       = 9
	atUID         = 11
	atEGID        = 14
	atRandom      = 25
	atExecfn      = 31
	atSysinfoEhdr = 33
)

func auxval(auxv []uint64, typ uint64) uint64 {
	for i := 0; i+1 < len(auxv); i += 2 {
		if auxv[i] == typ {
			return auxv[i+1]
		}
	}
	return 0
}

func TestAuxv(t *testing.T) {
	for _, pid := range []int{os.Getpid(), startSleep(t).Process.Pid} {
		auxv, err := Auxv(pid)
		if err != nil {
			t.Fatal(err)
		}
		n := len(auxv)
		if n < 20 || n%2 != 0 || auxv[n-2] != atNull || auxv[n-1] != 0 {
			t.Fatalf("pid %d: auxv %v does not end in the AT_NULL pair", pid, auxv)
		}
		if auxval(auxv, atPagesz) != pageSize || auxval(auxv, atUID) != uint64(os.Getuid()) ||
			auxval(auxv, atEGID) != uint64(os.Getegid()) {
			t.Errorf("pid %d: AT_PAGESZ %d AT_UID %d AT_EGID %d", pid, auxval(auxv, atPagesz), auxval(auxv, atUID), auxval(auxv, atEGID))
		}
		// The vdso, the random bytes and the exec name lie in mappings
		// of the kind they should.
		vmas, err := Maps(pid)
		if err != nil {
			t.Fatal(err)
		}
		in := func(addr uint64) Vma {
			for _, v := range vmas {
				if addr >= v.Start && addr < v.End {
					return v
				}
			}
			return Vma{}
		}
		if v := in(auxval(auxv, atSysinfoEhdr)); v.Path != "[vdso]" {
			t.Errorf("pid %d: AT_SYSINFO_EHDR %#x in %+v", pid, auxval(auxv, atSysinfoEhdr), v)
		}
		for _, typ := range []uint64{atRandom, atExecfn} {
			if v := in(auxval(auxv, typ)); v.Path != "[stack]" {
				t.Errorf("pid %d: auxv type %d at %#x in %+v", pid, typ, auxval(auxv, typ), v)
			}
		}
		if v := in(auxval(auxv, atPhdr)); v.Prot&unix.PROT_READ == 0 || v.Inode == 0 {
			t.Errorf("pid %d: AT_PHDR %#x in %+v", pid, auxval(auxv, atPhdr), v)
		}
	}
}
