package restore

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/addrspace"
	"github.com/ckpt/ckpt/internal/proc"
	"github.com/ckpt/ckpt/internal/ptrace"
	"github.com/ckpt/ckpt/internal/remote"
)

// scratchPages is the size of the injection area: one page holding the
// syscall instruction, the rest for syscall arguments.
const scratchPages = 17

// layout turns the fresh task's address space (a copy of the stub's) into
// the image's: a scratch page to inject from, the stub and its stack gone,
// the vDSO where it was, every VMA mapped.
func (rs *restorer) layout(t *taskPlan) error {
	lt := t.leader
	cur, err := proc.Maps(t.pid)
	if err != nil {
		return err
	}
	curRanges := make([]addrspace.Range, len(cur))
	for i, v := range cur {
		curRanges[i] = addrspace.Range{Start: v.Start, End: v.End}
	}
	size := uint64(scratchPages * pageSize)
	t.scratch = addrspace.FindGap(size, imageRanges(t.vmas), append(curRanges, aioRanges(t.aios)...))
	if t.scratch == 0 {
		return fmt.Errorf("no room for the scratch area")
	}
	if err := lt.MapScratch(t.scratch, size, unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC); err != nil {
		return err
	}
	if err := ptrace.WriteMem(t.pid, t.scratch, syscallInsn); err != nil {
		return fmt.Errorf("write syscall instruction: %w", err)
	}
	lt.Session().SetInsn(t.scratch)
	lt.UseScratch(t.scratch+pageSize, size-pageSize)

	// A late task keeps what it inherited from its parent and has too
	// (mm_fork.go); everything else of the stub's, or the parent's, goes.
	keep := rs.inherited(t)
	kept := keptRanges(t.vmas, keep)
	t.kept = kept
	for _, v := range cur {
		if v.Start == t.scratch || isKernelSpecial(v.Path) {
			continue
		}
		for _, r := range minus(addrspace.Range{Start: v.Start, End: v.End}, kept) {
			if _, err := lt.Syscall(unix.SYS_MUNMAP, uintptr(r.Start), uintptr(r.End-r.Start)); err != nil {
				return fmt.Errorf("unmap inherited mapping %#x-%#x %s: %w", r.Start, r.End, v.Path, err)
			}
		}
	}
	if err := rs.moveSpecials(t, cur); err != nil {
		return fmt.Errorf("vdso: %w", err)
	}
	if err := rs.mapVmas(t, keep); err != nil {
		return err
	}
	if keep != nil {
		if err := dropUnshared(lt, t.vmas, keep, t.forkRuns); err != nil {
			return err
		}
	}
	if err := rs.restoreAios(t); err != nil {
		return err
	}
	if rs.opts.Lazy {
		// Before any page is filled (lazy.go).
		if err := rs.lazyRegister(t); err != nil {
			return err
		}
	}
	if rs.imageFile != nil {
		// The task reads its pages straight from the image file.
		fd, err := t.pull(rs.imageFile.Fd())
		if err != nil {
			return fmt.Errorf("take the image file from the restorer: %w", err)
		}
		t.imageFd = int(fd)
	}
	return nil
}

func isKernelSpecial(path string) bool {
	switch path {
	case "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]":
		return true
	}
	return false
}

var specialKinds = map[string]uint32{
	"[vdso]": image.VmaVdso, "[vvar]": image.VmaVvar, "[vvar_vclock]": image.VmaVvarVclock,
}

// moveSpecials moves the kernel's vDSO and vvar mappings to where the image
// had them: code in the image may hold pointers into the vDSO (the C
// library caches its function addresses). Each piece moves on its own,
// first out of the way if the old and new places overlap.
func (rs *restorer) moveSpecials(t *taskPlan, cur []proc.Vma) error {
	lt := t.leader
	type move struct{ from, to addrspace.Range }
	var moves []move
	for _, v := range cur {
		kind, ok := specialKinds[v.Path]
		if !ok {
			continue
		}
		var want *image.Vma
		for i := range t.vmas {
			if t.vmas[i].Kind == kind {
				want = &t.vmas[i]
			}
		}
		if want == nil {
			// The process had unmapped it; so do we.
			if _, err := lt.Syscall(unix.SYS_MUNMAP, uintptr(v.Start), uintptr(v.End-v.Start)); err != nil {
				return err
			}
			continue
		}
		if want.End-want.Start != v.End-v.Start {
			return fmt.Errorf("%s is %d bytes here but %d in the image: this kernel's vDSO differs from the checkpointed one", v.Path, v.End-v.Start, want.End-want.Start)
		}
		moves = append(moves, move{addrspace.Range{Start: v.Start, End: v.End}, addrspace.Range{Start: want.Start, End: want.End}})
	}
	mremap := func(from, to addrspace.Range) error {
		if from == to {
			return nil
		}
		_, err := lt.Syscall(unix.SYS_MREMAP, uintptr(from.Start), uintptr(from.End-from.Start),
			uintptr(from.End-from.Start), unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, uintptr(to.Start))
		if err != nil {
			return fmt.Errorf("mremap %#x -> %#x: %w", from.Start, to.Start, err)
		}
		return nil
	}
	var all []addrspace.Range
	for _, m := range moves {
		all = append(all, m.from, m.to)
	}
	all = append(all, addrspace.Range{Start: t.scratch, End: t.scratch + scratchPages*pageSize})
	// A piece whose place lies where one of them goes (its own new place
	// included: mremap refuses overlapping ranges, and MREMAP_FIXED would
	// unmap another piece) is parked first in a hole that collides with
	// nothing. The others go straight to their places: the destinations
	// are the image's, disjoint from each other and from the scratch
	// area. (Every piece used to be parked, as each destination was
	// compared with itself: twice the mremaps.)
	for i, m := range moves {
		if m.from == m.to {
			continue
		}
		for _, o := range moves {
			if addrspace.Overlaps(m.from, o.to) {
				tmp := addrspace.FindGap(m.from.End-m.from.Start, imageRanges(t.vmas), all)
				park := addrspace.Range{Start: tmp, End: tmp + m.from.End - m.from.Start}
				if err := mremap(m.from, park); err != nil {
					return err
				}
				moves[i].from = park
				all = append(all, park)
				break
			}
		}
	}
	for _, m := range moves {
		if err := mremap(m.from, m.to); err != nil {
			return err
		}
	}
	return nil
}

// madvAdvice maps the image's madvise bits to the advice that recreates them.
var madvAdvice = []struct {
	bit    uint64
	advice int
}{
	{image.VmaMadvDontFork, unix.MADV_DONTFORK},
	{image.VmaMadvWipeOnFork, unix.MADV_WIPEONFORK},
	{image.VmaMadvHugePage, unix.MADV_HUGEPAGE},
	{image.VmaMadvNoHugePage, unix.MADV_NOHUGEPAGE},
	{image.VmaMadvDontDump, unix.MADV_DONTDUMP},
	{image.VmaMadvMergeable, unix.MADV_MERGEABLE},
	{image.VmaMadvSequential, unix.MADV_SEQUENTIAL},
	{image.VmaMadvRandom, unix.MADV_RANDOM},
}

// madvise replays the VMA's madvise(2) state.
func madvise(lt *remote.Task, v *image.Vma) error {
	for _, m := range madvAdvice {
		if v.Madv&m.bit == 0 {
			continue
		}
		if _, err := lt.Syscall(unix.SYS_MADVISE, uintptr(v.Start), uintptr(v.End-v.Start), uintptr(m.advice)); err != nil {
			return fmt.Errorf("madvise(%d) vma %#x-%#x: %w", m.advice, v.Start, v.End, err)
		}
	}
	return nil
}

// mapVmas maps every VMA of the image with its own protections, but those
// keep marks (a late task has them from its parent). A mapping that is not
// writable is made so only when pages arrive for it (unlockFor), and
// finishMemory puts back the protections of those: most read-only mappings
// (a library's text and constants) receive none, and each mprotect is an
// injected syscall. In a lazy restore every mapping that takes pages is
// writable from the start, as the page server fills it later (lazy.go).
func (rs *restorer) mapVmas(t *taskPlan, keep []bool) error {
	lt := t.leader
	t.unlocked = make([]bool, len(t.vmas))
	openFiles := map[string]int{}
	defer func() {
		for _, fd := range openFiles {
			_, _ = lt.Syscall(unix.SYS_CLOSE, uintptr(fd))
		}
	}()
	for i := range t.vmas {
		v := &t.vmas[i]
		if keep != nil && keep[i] {
			// Inherited as the parent had it before its finishMemory:
			// possibly made writable for its pages. Ours puts it back.
			t.unlocked[i] = true
			continue
		}
		switch v.Kind {
		case image.VmaVdso, image.VmaVvar, image.VmaVvarVclock, image.VmaVsyscall:
			continue
		case image.VmaSysvShm:
			if err := rs.attachSysvShm(t, v); err != nil {
				return err
			}
			if err := madvise(lt, v); err != nil {
				return err
			}
			continue
		}
		prot := uintptr(v.Prot)
		if v.TakesPages() && rs.opts.Lazy {
			prot |= unix.PROT_WRITE
			t.unlocked[i] = true
		}
		flags := uintptr(v.Flags) | unix.MAP_FIXED
		fd := ^uintptr(0)
		var off uintptr
		switch v.Kind {
		case image.VmaAnon, image.VmaStack, image.VmaHeap:
			flags |= unix.MAP_ANONYMOUS
		case image.VmaShmem:
			f, ok := rs.shmFiles[v.Ino]
			if !ok {
				return badImage("vma %#x-%#x maps shared memory %d, which the image does not hold", v.Start, v.End, v.Ino)
			}
			got, err := t.pull(f.Fd())
			if err != nil {
				return fmt.Errorf("vma %#x-%#x: take shared memory %d: %w", v.Start, v.End, v.Ino, err)
			}
			openFiles[fmt.Sprintf("shmem:%d:%d", v.Ino, got)] = int(got)
			fd, off = got, uintptr(v.Pgoff)
		case image.VmaDeleted:
			got, err := t.pull(rs.deletedForVma(v).Fd())
			if err != nil {
				return fmt.Errorf("vma %#x-%#x: take deleted file %s: %w", v.Start, v.End, v.Path, err)
			}
			openFiles[fmt.Sprintf("deleted:%d:%d", v.Ino, got)] = int(got)
			fd, off = got, uintptr(v.Pgoff)
		case image.VmaFile:
			shared := v.Flags&unix.MAP_SHARED != 0
			key := fmt.Sprintf("%v:%s", shared, v.Path)
			f, ok := openFiles[key]
			if !ok {
				var err error
				if f, err = openInTask(lt, v.Path, shared); err != nil {
					return fmt.Errorf("vma %#x-%#x: %w", v.Start, v.End, err)
				}
				openFiles[key] = f
			}
			fd, off = uintptr(f), uintptr(v.Pgoff)
		default:
			return badImage("vma %#x-%#x has unknown kind %d", v.Start, v.End, v.Kind)
		}
		ret, err := lt.Syscall(unix.SYS_MMAP, uintptr(v.Start), uintptr(v.End-v.Start), prot, flags, fd, off)
		if err != nil {
			return fmt.Errorf("mmap vma %#x-%#x %s: %w", v.Start, v.End, v.Path, err)
		}
		if uint64(ret) != v.Start {
			return fmt.Errorf("mmap vma %#x-%#x landed at %#x", v.Start, v.End, ret)
		}
		if err := madvise(lt, v); err != nil {
			return err
		}
		if name, ok := strings.CutPrefix(v.Path, "[anon:"); ok && v.Kind == image.VmaAnon {
			if err := nameVma(lt, v, strings.TrimSuffix(name, "]")); err != nil {
				return err
			}
		}
	}
	return nil
}
