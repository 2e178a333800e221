package restore

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/remote"
)

// checkVmaMadv refuses Madv bits this restorer does not know: they are
// state it would drop.
func checkVmaMadv(v *image.Vma) error {
	if extra := v.Madv &^ image.VmaMadvAll; extra != 0 {
		return badImage("VMA %#x-%#x: unknown Madv bits %#x", v.Start, v.End, extra)
	}
	if v.Madv&image.VmaMadvLockOnFault != 0 && v.Madv&image.VmaMadvLocked == 0 {
		return badImage("VMA %#x-%#x: lock-on-fault without locked", v.Start, v.End)
	}
	return nil
}

// lockAndSeal locks the VMAs that were locked (mlock, MAP_LOCKED,
// mlock2 with MLOCK_ONFAULT) and seals the sealed ones, once their pages
// and protections are in place: a sealed VMA can no longer change, and a
// locked one keeps the pages it has (and, without lock-on-fault, faults
// the rest in, as mlock did).
func lockAndSeal(lt *remote.Task, vmas []image.Vma) error {
	for i := range vmas {
		v := &vmas[i]
		if v.Madv&image.VmaMadvLocked == 0 {
			continue
		}
		var flags uintptr
		if v.Madv&image.VmaMadvLockOnFault != 0 {
			flags = unix.MLOCK_ONFAULT
		}
		if _, err := lt.Syscall(unix.SYS_MLOCK2, uintptr(v.Start), uintptr(v.End-v.Start), flags); err != nil {
			return fmt.Errorf("mlock2 vma %#x-%#x: %w", v.Start, v.End, err)
		}
	}
	for i := range vmas {
		v := &vmas[i]
		if v.Madv&image.VmaMadvSealed == 0 || !v.TakesPages() && v.Kind != image.VmaShmem && v.Kind != image.VmaSysvShm {
			continue // the kernel's own mappings are the kernel's to seal
		}
		if _, err := lt.Syscall(unix.SYS_MSEAL, uintptr(v.Start), uintptr(v.End-v.Start), 0); err != nil {
			return fmt.Errorf("mseal vma %#x-%#x: %w", v.Start, v.End, err)
		}
	}
	return nil
}
