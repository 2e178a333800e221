package ptrace

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// iovMax is IOV_MAX (UIO_MAXIOV in include/uapi/linux/uio.h), the most
// iovecs process_vm_readv(2) takes in one call.
const iovMax = 1024

// ReadMem fills b from address addr of process pid. It uses
// process_vm_readv(2) and falls back to /proc/PID/mem for what that cannot
// read: /proc/PID/mem reads with FOLL_FORCE, so it also sees pages mapped
// without PROT_READ.
func ReadMem(pid int, addr uint64, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	local := []unix.Iovec{{Base: &b[0]}}
	local[0].SetLen(len(b))
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(b)}}
	n, err := unix.ProcessVMReadv(pid, local, remote, 0)
	if err == nil && n == len(b) {
		return nil
	}
	if n < 0 {
		n = 0
	}
	f, err := openMem(pid, os.O_RDONLY)
	if err != nil {
		return fmt.Errorf("read %d bytes at %#x from process %d: %w", len(b), addr, pid, err)
	}
	defer f.Close()
	if _, err := f.ReadAt(b[n:], int64(addr)+int64(n)); err != nil {
		return fmt.Errorf("read %d bytes at %#x from process %d: %w", len(b)-n, addr+uint64(n), pid, err)
	}
	return nil
}

// WriteMem writes b at address addr of process pid through /proc/PID/mem.
// The kernel writes there with FOLL_FORCE, as for a debugger's breakpoint:
// read-only private pages (code, RELRO) are written too, through a
// copy-on-write copy.
func WriteMem(pid int, addr uint64, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	f, err := openMem(pid, os.O_RDWR)
	if err != nil {
		return fmt.Errorf("write %d bytes at %#x in process %d: %w", len(b), addr, pid, err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, int64(addr)); err != nil {
		return fmt.Errorf("write %d bytes at %#x in process %d: %w", len(b), addr, pid, err)
	}
	return nil
}

func openMem(pid int, flag int) (*os.File, error) {
	return os.OpenFile("/proc/"+strconv.Itoa(pid)+"/mem", flag|unix.O_CLOEXEC, 0)
}

// ReadMemVec reads the remote ranges of process pid, in order, into the
// local buffers, in order; both must add up to the same length. It splits
// the work into calls of at most IOV_MAX iovecs, continues after partial
// reads, and reads what process_vm_readv refuses (PROT_NONE pages, say)
// through /proc/PID/mem. It returns the number of bytes read, which is less
// than the total only with an error, and then counts the bytes read from
// the start without a gap.
func ReadMemVec(pid int, local [][]byte, remote []unix.RemoteIovec) (int, error) {
	var lsum, rsum int
	for _, b := range local {
		lsum += len(b)
	}
	for _, r := range remote {
		rsum += r.Len
	}
	if lsum != rsum {
		return 0, fmt.Errorf("read memory of process %d: local buffers hold %d bytes, remote ranges %d: %w", pid, lsum, rsum, unix.EINVAL)
	}
	lc := cursor{lens: func(i int) int { return len(local[i]) }, n: len(local)}
	rc := cursor{lens: func(i int) int { return remote[i].Len }, n: len(remote)}
	lc.skipEmpty()
	rc.skipEmpty()
	total := 0
	var mem *os.File
	defer func() {
		if mem != nil {
			mem.Close()
		}
	}()
	for total < lsum {
		liov := make([]unix.Iovec, 0, min(iovMax, lc.n-lc.i))
		for i := lc.i; i < lc.n && len(liov) < iovMax; i++ {
			b := local[i]
			if i == lc.i {
				b = b[lc.off:]
			}
			if len(b) == 0 {
				continue
			}
			v := unix.Iovec{Base: &b[0]}
			v.SetLen(len(b))
			liov = append(liov, v)
		}
		riov := make([]unix.RemoteIovec, 0, min(iovMax, rc.n-rc.i))
		for i := rc.i; i < rc.n && len(riov) < iovMax; i++ {
			r := remote[i]
			if i == rc.i {
				r.Base += uintptr(rc.off)
				r.Len -= rc.off
			}
			if r.Len > 0 {
				riov = append(riov, r)
			}
		}
		n, err := unix.ProcessVMReadv(pid, liov, riov, 0)
		if errors.Is(err, unix.ESRCH) {
			return total, fmt.Errorf("read memory of process %d: %w", pid, os.NewSyscallError("process_vm_readv", err))
		}
		if err == nil && n > 0 {
			lc.advance(n)
			rc.advance(n)
			total += n
			continue
		}
		// Nothing read at the current remote range: take the rest of it
		// from /proc/PID/mem.
		if mem == nil {
			if mem, err = openMem(pid, os.O_RDONLY); err != nil {
				return total, fmt.Errorf("read memory of process %d: %w", pid, err)
			}
		}
		r := remote[rc.i]
		addr := uint64(r.Base) + uint64(rc.off)
		buf := make([]byte, r.Len-rc.off)
		got, err := mem.ReadAt(buf, int64(addr))
		for done := 0; done < got; {
			b := local[lc.i][lc.off:]
			c := copy(b, buf[done:got])
			done += c
			lc.advance(c)
		}
		rc.advance(got)
		total += got
		if err != nil {
			return total, fmt.Errorf("read %d bytes at %#x from process %d: %w", len(buf)-got, addr+uint64(got), pid, err)
		}
	}
	return total, nil
}

// cursor is a position in a list of buffers: element i, offset off.
type cursor struct {
	lens   func(i int) int
	n      int
	i, off int
}

func (c *cursor) advance(k int) {
	for k > 0 && c.i < c.n {
		step := min(k, c.lens(c.i)-c.off)
		c.off += step
		k -= step
		if c.off == c.lens(c.i) {
			c.i, c.off = c.i+1, 0
		}
	}
	c.skipEmpty()
}

func (c *cursor) skipEmpty() {
	for c.i < c.n && c.lens(c.i) == c.off {
		c.i, c.off = c.i+1, 0
	}
}
