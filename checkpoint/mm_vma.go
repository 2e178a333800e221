package checkpoint

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/proc"
)

// refusedVmFlags are smaps VmFlags of mappings we cannot rebuild: device
// and PFN maps, hugetlb, userfaultfd-registered ranges, shadow stacks.
var refusedVmFlags = []struct{ code, why string }{
	{"io", "memory-mapped I/O"},
	{"pf", "a PFN mapping of a device"},
	{"ht", "a hugetlbfs mapping"},
	{"um", "registered with userfaultfd (missing)"},
	{"uw", "registered with userfaultfd (write-protect): if by ckpt checkpoint --pre-dump, checkpoint with --parent-path naming its image"},
	{"ss", "a shadow stack"},
	{"ui", "registered with userfaultfd (minor faults)"},
	{"dp", "droppable (MAP_DROPPABLE)"},
	{"sf", "a synchronous DAX mapping (MAP_SYNC)"},
}

// madvBits maps smaps VmFlags to the madvise(2) advice we replay.
var madvBits = []struct {
	code string
	bit  uint64
}{
	{"dc", image.VmaMadvDontFork},
	{"wf", image.VmaMadvWipeOnFork},
	{"hg", image.VmaMadvHugePage},
	{"nh", image.VmaMadvNoHugePage},
	{"dd", image.VmaMadvDontDump},
	{"lo", image.VmaMadvLocked},
	{"lf", image.VmaMadvLockOnFault},
	{"mg", image.VmaMadvMergeable},
	{"sr", image.VmaMadvSequential},
	{"rr", image.VmaMadvRandom},
	{"sl", image.VmaMadvSealed},
}

func (d *dumper) collectVmas(p *process) error {
	vmas, err := proc.Smaps(p.pid)
	if err != nil {
		return err
	}
	p.vmas = vmas
	for _, v := range vmas {
		if sharedOwner(p, image.ShareVM).track != nil && v.Flags.Has("uw") && !v.Flags.Has("um") {
			// Registered by the parent image's tracking: the process's
			// own, restored without it.
			v.Flags &^= proc.VmUw
		}
		iv, err := classifyVma(p.paths, v)
		if errors.Is(err, errAioVma) {
			if iv.Madv != 0 {
				return unsupported(p.pid, fmt.Sprintf("AIO ring %#x-%#x", v.Start, v.End), "its madvise or mlock state (VmFlags %s) is not restored", v.Flags)
			}
			a, err := aioRing(p.pid, v)
			if err != nil {
				return err
			}
			p.aios = append(p.aios, a)
			continue
		}
		if errors.Is(err, errDeletedVma) {
			err = d.deletedVma(p, v, &iv)
		}
		if err != nil {
			return err
		}
		p.imgVmas = append(p.imgVmas, iv)
	}
	if err := refuseGuards(p.pid, vmas); err != nil {
		return err
	}
	if p.track != nil {
		if err := d.scanTracked(p, d.opts.PreDump); err != nil {
			return fmt.Errorf("dirty tracking: %w", err)
		}
	}
	return nil
}

func classifyVma(paths *taskPaths, v proc.Vma) (image.Vma, error) {
	pid := paths.pid
	obj := fmt.Sprintf("vma %x-%x %s", v.Start, v.End, v.Path)
	iv := image.Vma{
		Start: v.Start, End: v.End, Pgoff: v.Offset, Prot: uint32(v.Prot),
		Dev: v.Dev, Ino: v.Inode, Path: v.Path,
	}
	for _, f := range refusedVmFlags {
		if v.Flags.Has(f.code) && !isKernelSpecial(v.Path) {
			return iv, unsupported(pid, obj, "%s", f.why)
		}
	}
	if v.Flags&proc.VmUnknown != 0 {
		return iv, unsupported(pid, obj, "its VmFlags (%s) include one this version does not know", v.Flags)
	}
	for _, m := range madvBits {
		if v.Flags.Has(m.code) {
			iv.Madv |= m.bit
		}
	}
	if v.Shared {
		iv.Flags = unix.MAP_SHARED
	} else {
		iv.Flags = unix.MAP_PRIVATE
	}
	if v.Flags.Has("gd") {
		iv.Flags |= unix.MAP_GROWSDOWN
	}
	// VM_NORESERVE: mapped with MAP_NORESERVE (under overcommit modes 0
	// and 1), no swap space accounted for it.
	if v.Flags.Has("nr") && !v.Shared {
		iv.Flags |= unix.MAP_NORESERVE
	}
	switch {
	case v.Shared && v.Deleted && strings.HasPrefix(v.Path, "/SYSV"):
		// A System V shared memory attachment (shmat): its inode number
		// is the segment's id (ipc/shm.c: newseg()). The segment is saved
		// with the IPC namespace, see collectIpcns.
		iv.Kind = image.VmaSysvShm
	case v.Shared && v.Deleted && (v.Path == "/dev/zero" || strings.HasPrefix(v.Path, "/memfd:") || onTmpfs(pid, v)):
		// Shared anonymous memory (inherited across fork) or a memfd: its
		// contents are saved once, as a SHMEM object.
		iv.Kind = image.VmaShmem
	case v.Deleted && strings.HasPrefix(v.Path, "/memfd:") && onTmpfs(pid, v):
		// A memfd mapped private: the memfd is a SHMEM object as above,
		// and the pages the task wrote over it (its private copies) are
		// saved with its memory, as for a private file mapping.
		iv.Kind = image.VmaShmem
	case v.Path == "[vdso]":
		iv.Kind = image.VmaVdso
	case v.Path == "[vvar]":
		iv.Kind = image.VmaVvar
	case v.Path == "[vvar_vclock]":
		iv.Kind = image.VmaVvarVclock
	case v.Path == "[vsyscall]":
		iv.Kind = image.VmaVsyscall
	case v.Path == "[stack]":
		iv.Kind, iv.Flags = image.VmaStack, iv.Flags|unix.MAP_ANONYMOUS
	case v.Path == "[heap]":
		iv.Kind, iv.Flags = image.VmaHeap, iv.Flags|unix.MAP_ANONYMOUS
	case v.Path == "" || strings.HasPrefix(v.Path, "[anon:"):
		if v.Shared {
			return iv, unsupported(pid, obj, "shared anonymous memory is not supported yet")
		}
		iv.Kind, iv.Flags = image.VmaAnon, iv.Flags|unix.MAP_ANONYMOUS
	case strings.HasPrefix(v.Path, "["):
		return iv, unsupported(pid, obj, "unknown special mapping")
	case isAioRing(pid, v):
		return iv, errAioVma
	case strings.HasPrefix(v.Path, "socket:["):
		// Only a packet socket's PACKET_RX_RING/PACKET_TX_RING can be
		// mapped (net/packet/af_packet.c packet_mmap).
		return iv, unsupported(pid, obj, "a packet socket's mmap'ed ring (PACKET_RX_RING/PACKET_TX_RING): its frames and this mapping of them are not restored")
	case v.Deleted:
		return iv, errDeletedVma
	case v.Inode == 0:
		return iv, unsupported(pid, obj, "mapping of a file with no inode (%q)", v.Path)
	default:
		st, err := paths.stat(v.Path)
		if err != nil {
			return iv, unsupported(pid, obj, "the mapped file is not reachable by this path: %v", err)
		}
		if st.Ino != v.Inode || st.Dev != v.Dev {
			return iv, unsupported(pid, obj, "the path now names another file (inode %d, want %d)", st.Ino, v.Inode)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == unix.Mkdev(1, 5) && !v.Shared {
			// MAP_PRIVATE of /dev/zero: private anonymous memory
			// (mmap_zero() in drivers/char/mem.c calls
			// vma_set_anonymous()) that keeps the file for /proc. Its
			// written pages are anonymous and saved; mapping /dev/zero
			// again makes the same. (MAP_SHARED of it is shared memory,
			// "/dev/zero (deleted)".)
			iv.Kind = image.VmaFile
			return iv, nil
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			return iv, unsupported(pid, obj, "mapping of a non-regular file (mode %#o)", st.Mode)
		}
		iv.Kind = image.VmaFile
	}
	return iv, nil
}

// isKernelSpecial tells the mappings the kernel sets up and restores itself.
func isKernelSpecial(path string) bool {
	switch path {
	case "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]":
		return true
	}
	return false
}

// onTmpfs tells whether a mapping's file lives on tmpfs (or is shmem):
// then a deleted one is memory, saved like a memfd.
func onTmpfs(pid int, v proc.Vma) bool {
	var fs unix.Statfs_t
	if err := unix.Statfs(proc.MapFilesPath(pid, v.Start, v.End), &fs); err != nil {
		return false
	}
	return fs.Type == unix.TMPFS_MAGIC
}
