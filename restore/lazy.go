package restore

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/restore/lazypages"
)

// Lazy restore (Options.Lazy): the private anonymous memory of every task
// (anon, heap and stack VMAs) is not filled while restoring. Right after
// its VMAs are mapped, the task makes a userfaultfd (an injected syscall:
// a userfaultfd belongs to the mm of whoever creates it), we take it with
// pidfd_getfd and register those VMAs in missing mode; their PAGES runs are
// only noted. Before the first task state is restored (which may have the
// kernel write into that memory, rseq for one), a page server is started
// (package lazypages, run as the hidden `ckpt lazy-pages` command in a
// session of its own so that it outlives `restore --detach`) with the
// image file, the uffds and a pidfd of each task; it fills pages on first
// touch and streams the rest in the background, and exits when all are in.
//
// What stays eager: private file-backed pages (a private file mapping's
// dirty pages), shared memory and SysV shm. Those are filled while
// restoring, as without --lazy.

// lazyFeatures are the userfaultfd features lazy restore needs: the
// task's own fork, mremap, munmap and madvise(DONTNEED) reach the server
// (so it never fills a page that is gone, nor leaves a child's page empty),
// and UFFDIO_POISON, so that a page it cannot read makes the task that
// touches it fail (SIGBUS) instead of seeing zeros.
const lazyFeatures = kernel.UffdFeatureEventFork | kernel.UffdFeatureEventRemap |
	kernel.UffdFeatureEventRemove | kernel.UffdFeatureEventUnmap | kernel.UffdFeaturePoison

// lazyTask is a task whose private anonymous memory arrives lazily.
type lazyTask struct {
	uffd  *os.File
	pidfd *os.File
	runs  []lazypages.Run
}

// lazyVma reports whether v's pages arrive lazily.
func lazyVma(v *image.Vma) bool {
	switch v.Kind {
	case image.VmaAnon, image.VmaStack, image.VmaHeap:
		return v.Flags&unix.MAP_PRIVATE != 0
	}
	return false
}

// lazyRegister gives the task a userfaultfd and registers its private
// anonymous VMAs with it, before any of their pages is filled.
func (rs *restorer) lazyRegister(t *taskPlan) error {
	lt := t.leader
	fd, err := lt.Syscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC|unix.O_NONBLOCK)
	if err != nil {
		return fmt.Errorf("lazy: userfaultfd in task %d: %w", t.rec.Pid, err)
	}
	got, err := kernel.TakeFd(t.pid, int(fd))
	if _, cerr := lt.Syscall(unix.SYS_CLOSE, fd); err == nil && cerr != nil {
		err = fmt.Errorf("close it in the task: %w", cerr)
	}
	if err != nil {
		return fmt.Errorf("lazy: take the userfaultfd of task %d: %w", t.rec.Pid, err)
	}
	lz := &lazyTask{uffd: os.NewFile(uintptr(got), fmt.Sprintf("uffd:%d", t.rec.Pid))}
	t.lazy = lz
	api := kernel.UffdioAPIArg{API: kernel.UffdAPI, Features: lazyFeatures}
	if err := kernel.UffdIoctl(got, kernel.UffdioAPI, unsafe.Pointer(&api)); err != nil {
		return fmt.Errorf("lazy: UFFDIO_API with features %#x (fork, remap, remove, unmap events and poison): %w", uint64(lazyFeatures), err)
	}
	for i := range t.vmas {
		v := &t.vmas[i]
		if !lazyVma(v) {
			continue
		}
		reg := kernel.UffdioRegisterArg{Range: kernel.UffdioRange{Start: v.Start, Len: v.End - v.Start}, Mode: kernel.UffdioRegisterModeMissing}
		if err := kernel.UffdIoctl(got, kernel.UffdioRegister, unsafe.Pointer(&reg)); err != nil {
			return fmt.Errorf("lazy: register vma %#x-%#x of task %d: %w", v.Start, v.End, t.rec.Pid, err)
		}
	}
	pidfd, err := unix.PidfdOpen(t.pid, 0)
	if err != nil {
		return fmt.Errorf("lazy: pidfd_open(%d): %w", t.pid, err)
	}
	lz.pidfd = os.NewFile(uintptr(pidfd), fmt.Sprintf("pidfd:%d", t.pid))
	return nil
}

// fillLazy takes a PAGES record in a lazy restore: runs in registered VMAs
// are noted for the page server, the others filled now. Runs were checked
// to fit in mappings that take pages.
func (rs *restorer) fillLazy(t *taskPlan, p *image.Pages) error {
	off := p.DataOffset
	for _, run := range p.Runs {
		addr, end := run.Vaddr, run.Vaddr+uint64(run.Pages)*pageSize
		for addr < end {
			v := vmaAt(t.vmas, addr)
			if v == nil {
				return badImage("pages at %#x are outside every mapping", addr)
			}
			stop := min(end, v.End)
			n := (stop - addr) / pageSize
			if lazyVma(v) {
				t.lazy.runs = append(t.lazy.runs, lazypages.Run{Addr: addr, Pages: n, Off: off})
			} else {
				one := &image.Pages{NrPages: uint32(n), Runs: []image.PageRun{{Vaddr: addr, Pages: uint32(n)}}, Vaddr: addr, DataOffset: off}
				if err := rs.preadRuns(t, one); err != nil {
					return err
				}
			}
			off += int64(stop - addr)
			addr = stop
		}
	}
	rs.pages += uint64(p.NrPages)
	return nil
}

func vmaAt(vmas []image.Vma, addr uint64) *image.Vma {
	for i := range vmas {
		if addr >= vmas[i].Start && addr < vmas[i].End {
			return &vmas[i]
		}
	}
	return nil
}

// startPageServer hands every lazy task to a new page server. It runs
// before anything may touch the registered memory: until the server has
// the uffds, a fault would wait for nobody.
func (rs *restorer) startPageServer() error {
	plan := lazypages.Plan{OnTouchOnly: rs.opts.LazyOnTouchOnly, PageServer: rs.opts.LazyPageServer}
	files := []*os.File{rs.imageFile}
	var lazy []*lazyTask
	for _, t := range rs.plans {
		if t.lazy == nil {
			continue
		}
		lazy = append(lazy, t.lazy)
		plan.Tasks = append(plan.Tasks, lazypages.Task{Pid: t.pid, Runs: t.lazy.runs})
		files = append(files, t.lazy.uffd, t.lazy.pidfd)
	}
	if len(lazy) == 0 {
		return nil
	}
	defer func() {
		// The server has its own copies now (or never will).
		for _, lz := range lazy {
			lz.uffd.Close()
			lz.pidfd.Close()
		}
	}()
	exe := rs.opts.PageServerExe
	if exe == "" {
		exe = "/proc/self/exe"
	}
	cmd := exec.Command(exe, "lazy-pages", "--image", rs.imageFile.Name())
	cmd.ExtraFiles = files
	cmd.Dir = "/" // it may outlive us: it keeps no directory busy
	cmd.Stderr = rs.opts.LazyLog
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	// Its own session: it must outlive `ckpt restore --detach` and not get
	// the terminal's signals.
	cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true}
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("lazy: start the page server %s: %w", exe, err)
	}
	err = json.NewEncoder(in).Encode(&plan)
	in.Close()
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("lazy: send the page server its plan: %w", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	// Reaped here if the restorer lives longer than the server; the
	// restorer does not wait for it.
	go func() { _ = cmd.Wait() }()
	if strings.TrimSpace(line) != lazypages.Ready {
		_ = cmd.Process.Kill()
		if err == nil {
			err = errors.New(strings.TrimSpace(line))
		}
		return fmt.Errorf("lazy: the page server (pid %d) did not start: %w", cmd.Process.Pid, err)
	}
	rs.pageServer = cmd.Process.Pid
	n := uint64(0)
	for _, lz := range lazy {
		for _, r := range lz.runs {
			n += r.Pages
		}
	}
	rs.log.Info("page server started", "pid", rs.pageServer, "tasks", len(lazy), "lazy_pages", n)
	return nil
}

// closeLazy closes the uffds and pidfds a failed restore still holds.
func (rs *restorer) closeLazy() {
	for _, t := range rs.plans {
		if lz := t.lazy; lz != nil {
			lz.uffd.Close()
			if lz.pidfd != nil {
				lz.pidfd.Close()
			}
		}
	}
}

// checkLazy refuses a lazy restore this restorer cannot do.
func (rs *restorer) checkLazy() error {
	if !rs.opts.Lazy {
		return nil
	}
	if rs.opts.Adopt != nil {
		return errors.New("lazy restore into a container is not supported")
	}
	if rs.imageFile == nil {
		return errors.New("lazy restore needs the image in a file")
	}
	return nil
}
