// Package lazypages is the page server of a lazy restore (restore/lazy.go):
// it holds the image file and the userfaultfd of every lazily restored
// task, fills a page when a task first touches it, streams the others in
// the background, and exits when every page is in.
//
// It runs as its own process (`ckpt lazy-pages`, started by the restorer
// in a session of its own) so that it outlives `ckpt restore --detach`.
// The restorer writes the Plan as JSON on its stdin and hands it, from fd
// 3 on, the image file, then a uffd and a pidfd for each task of the plan
// in order; the server answers Ready on stdout once it has them.
//
// The image was validated whole before restoring, but the file may change
// under us (truncated, rewritten): a page that cannot be read in full is
// never filled with anything else. Every process served is then killed
// (SIGKILL through its pidfd) and every page it still lacks poisoned
// (UFFDIO_POISON: a touch raises SIGBUS), with the reason in the log; the
// server exits. Nothing outside the restored processes is touched.
//
// The tasks' own events reach the server before they take effect
// (non-cooperative userfaultfd events: the task waits until the server has
// read them): madvise(MADV_DONTNEED/REMOVE) and munmap forget the pages of
// the range (the task now sees zeros, or nothing, there), mremap moves
// them, and fork gives the server a uffd of the child, whose missing pages
// are those of the parent at the fork.
package lazypages

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/kernel"
)

// Ready is the line the server writes on stdout once it serves.
const Ready = "ready"

const pageSize = 4096

// Run is Pages pages at Addr whose data is at Off in the image file.
type Run struct {
	Addr  uint64 `json:"addr"`
	Pages uint64 `json:"pages"`
	Off   int64  `json:"off"`
}

// Task is one lazily restored process.
type Task struct {
	Pid  int   `json:"pid"`
	Runs []Run `json:"runs"`
}

// Plan is what the restorer hands the server.
type Plan struct {
	Tasks []Task `json:"tasks"`
	// OnTouchOnly: fill pages only when touched, stream none (tests use it
	// to change the image while pages are still missing). The server then
	// lives as long as the processes it was given.
	OnTouchOnly bool `json:"on_touch_only"`
	// PageServer, when set, is where the pages are read from instead of
	// the image file (`ckpt page-server`, remote.go); the image file names
	// the image the server must be serving.
	PageServer string `json:"page_server,omitempty"`
}

// batch is the most pages filled by one UFFDIO_COPY in the background;
// a fault fills up to faultAround pages from the faulting one.
const (
	batch       = 256
	faultAround = 16
)

// mmState is one address space being filled.
type mmState struct {
	name  string // for the log
	uffd  int
	pidfd int // -1 for a child known only from a fork event
	pid   int
	// pages: the image's data offset of every page still to come, by
	// address; done when it is in (the entry stays: a child forked before
	// the fill completed may still miss the page).
	pages  map[uint64]page
	undone int
	order  []uint64 // background order: sorted addresses, from cursor on
	cursor int
	faults []uint64 // faulting addresses not served yet (EAGAIN)
	gone   bool
}

type page struct {
	off  int64
	done bool
}

type server struct {
	log   *slog.Logger
	image *os.File
	// src is where page data is read: the image file, or a page server.
	src    io.ReaderAt
	mms    []*mmState
	buf    []byte
	stream bool
}

// errFatal wraps a failure to read the image: every process is stopped.
var errFatal = errors.New("cannot read the image")

// Main runs the server: plan on stdin, files from fd 3, log to stderr.
func Main(log *slog.Logger) error {
	var plan Plan
	if err := json.NewDecoder(os.Stdin).Decode(&plan); err != nil {
		fmt.Println("bad plan:", err)
		return fmt.Errorf("read the plan: %w", err)
	}
	s := &server{log: log, image: os.NewFile(3, "image"), buf: make([]byte, batch*pageSize), stream: !plan.OnTouchOnly}
	s.src = s.image
	if plan.PageServer != "" {
		rs, err := dialSource(plan.PageServer, s.image)
		if err != nil {
			fmt.Println(err)
			return err
		}
		defer rs.Close()
		s.src = rs
		log.Info("pages from a page server", "address", plan.PageServer)
	}
	for i, t := range plan.Tasks {
		m := &mmState{name: fmt.Sprintf("task %d", t.Pid), uffd: 4 + 2*i, pidfd: 5 + 2*i, pid: t.Pid, pages: map[uint64]page{}}
		for _, r := range t.Runs {
			for j := uint64(0); j < r.Pages; j++ {
				m.pages[r.Addr+j*pageSize] = page{off: r.Off + int64(j*pageSize)}
			}
		}
		m.undone = len(m.pages)
		m.resort()
		s.mms = append(s.mms, m)
	}
	s.onTerm()
	fmt.Println(Ready)
	os.Stdout.Close()
	log.Info("serving", "tasks", len(s.mms), "stream", s.stream)
	defer func() {
		// Whatever stops the server stops what it serves: once it is
		// gone, a missing page would read as zeros.
		if r := recover(); r != nil {
			s.fail(fmt.Errorf("page server panic: %v", r))
			panic(r)
		}
	}()
	if err := s.loop(); err != nil {
		s.fail(err)
		return err
	}
	return nil
}

// onTerm: a page server told to stop (SIGTERM, SIGINT) kills the processes
// of the plan first, as it does when it cannot read a page. (A child they
// forked is not known here; SIGKILL of the server cannot be caught at all:
// docs/lazy-restore.md.)
func (s *server) onTerm() {
	pidfds := make([]int, 0, len(s.mms))
	for _, m := range s.mms {
		pidfds = append(pidfds, m.pidfd)
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, unix.SIGTERM, unix.SIGINT)
	go func() {
		sig := <-ch
		s.log.Error("page server stopped by a signal: killing the processes it serves", "signal", sig)
		for _, fd := range pidfds {
			_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
		}
		os.Exit(1)
	}()
}

func (m *mmState) resort() {
	m.order = m.order[:0]
	for a, p := range m.pages {
		if !p.done {
			m.order = append(m.order, a)
		}
	}
	slices.Sort(m.order)
	m.cursor = 0
}

func (s *server) loop() error {
	for {
		s.mms = slices.DeleteFunc(s.mms, func(m *mmState) bool {
			if m.gone {
				s.drop(m)
			}
			return m.gone
		})
		if s.finished() {
			for _, m := range s.mms {
				s.drop(m)
			}
			if len(s.mms) == 0 {
				s.log.Info("every process served has exited: exiting")
			} else {
				s.log.Info("every page is in: exiting")
			}
			return nil
		}
		timeout := -1
		if s.stream || s.pendingFaults() {
			timeout = 0
		}
		fds := make([]unix.PollFd, 0, 2*len(s.mms))
		for _, m := range s.mms {
			fds = append(fds, unix.PollFd{Fd: int32(m.uffd), Events: unix.POLLIN})
			if m.pidfd >= 0 {
				fds = append(fds, unix.PollFd{Fd: int32(m.pidfd), Events: unix.POLLIN})
			}
		}
		if _, err := unix.Poll(fds, timeout); err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("poll: %w", err)
		}
		if err := s.round(); err != nil {
			return err
		}
	}
}

// finished: nothing left to fill, or nobody left to fill it for. With
// nothing streamed, a forked child is served while a process of the plan
// lives (its pid is not known here, so neither is its end).
func (s *server) finished() bool {
	for _, m := range s.mms {
		if len(m.faults) > 0 {
			return false
		}
		if m.undone > 0 && (s.stream || m.pidfd >= 0) {
			return false
		}
	}
	return true
}

func (s *server) pendingFaults() bool {
	for _, m := range s.mms {
		if len(m.faults) > 0 {
			return true
		}
	}
	return false
}

// round reads every event, serves every fault, then streams one batch.
func (s *server) round() error {
	for i := 0; i < len(s.mms); i++ { // fork events append to s.mms
		m := s.mms[i]
		if m.pidfd >= 0 && exited(m.pidfd) {
			s.log.Info("process exited", "mm", m.name)
			m.gone = true
			continue
		}
		if err := s.readEvents(m); err != nil {
			return err
		}
	}
	for _, m := range s.mms {
		if m.gone {
			continue
		}
		left := m.faults[:0]
		for _, addr := range m.faults {
			err := s.serveFault(m, addr)
			if errors.Is(err, unix.EAGAIN) {
				left = append(left, addr)
				continue
			}
			if err != nil {
				return err
			}
		}
		m.faults = left
	}
	if !s.stream {
		return nil
	}
	for _, m := range s.mms {
		if !m.gone && len(m.faults) == 0 && m.undone > 0 {
			if err := s.streamBatch(m); err != nil && !errors.Is(err, unix.EAGAIN) {
				return err
			}
		}
	}
	return nil
}

func exited(pidfd int) bool {
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0
}

// readEvents reads every message queued on m's uffd.
func (s *server) readEvents(m *mmState) error {
	var b [64 * kernel.UffdMsgSize]byte
	for {
		n, err := unix.Read(m.uffd, b[:])
		if errors.Is(err, unix.EAGAIN) {
			return nil
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			s.log.Warn("read uffd", "mm", m.name, "err", err)
			m.gone = true
			return nil
		}
		if n == 0 {
			return nil
		}
		for off := 0; off+kernel.UffdMsgSize <= n; off += kernel.UffdMsgSize {
			s.event(m, kernel.ParseUffdMsg(b[off:]))
		}
	}
}

func (s *server) event(m *mmState, msg kernel.UffdMsg) {
	switch msg.Event {
	case kernel.UffdEventPagefault:
		m.faults = append(m.faults, msg.B&^(pageSize-1))
	case kernel.UffdEventFork:
		child := &mmState{name: fmt.Sprintf("child of %s (uffd %d)", m.name, int(uint32(msg.A))), uffd: int(uint32(msg.A)), pidfd: -1,
			pages: make(map[uint64]page, len(m.pages))}
		// What the parent lacked at the fork the child lacks too; what
		// it had, the child has (a fill finds it there: EEXIST).
		for a, p := range m.pages {
			child.pages[a] = page{off: p.off}
		}
		child.undone = len(child.pages)
		child.resort()
		s.mms = append(s.mms, child)
		s.log.Debug("fork", "mm", m.name, "child", child.name)
	case kernel.UffdEventRemove, kernel.UffdEventUnmap:
		m.forget(msg.A, msg.B)
	case kernel.UffdEventRemap:
		m.move(msg.A, msg.B, msg.C)
	}
}

// forget drops the pages of [start, end): they are gone, or zero.
func (m *mmState) forget(start, end uint64) {
	if (end-start)/pageSize < uint64(len(m.pages)) {
		for a := start &^ (pageSize - 1); a < end; a += pageSize {
			m.del(a)
		}
		return
	}
	for a := range m.pages {
		if a >= start && a < end {
			m.del(a)
		}
	}
}

func (m *mmState) del(a uint64) {
	if p, ok := m.pages[a]; ok {
		if !p.done {
			m.undone--
		}
		delete(m.pages, a)
	}
}

// move follows mremap: the pages of [from, from+n) are now at to.
func (m *mmState) move(from, to, n uint64) {
	moved := map[uint64]page{}
	for a, p := range m.pages {
		if a >= from && a < from+n {
			moved[a-from+to] = p
		}
	}
	m.forget(from, from+n)
	m.forget(to, to+n)
	var todo []uint64
	for a, p := range moved {
		m.pages[a] = p
		if !p.done {
			m.undone++
			todo = append(todo, a)
		}
	}
	// Streamed after the rest: realloc moves big buffers with mremap,
	// and sorting every address again each time would cost too much.
	slices.Sort(todo)
	m.order = append(m.order, todo...)
}

// serveFault fills the page at addr: from the image if it has it (and up
// to faultAround pages after it), zeros otherwise.
func (s *server) serveFault(m *mmState, addr uint64) error {
	p, ok := m.pages[addr]
	if !ok {
		z := kernel.UffdioFillArg{Range: kernel.UffdioRange{Start: addr, Len: pageSize}}
		err := kernel.UffdIoctl(m.uffd, kernel.UffdioZeropage, unsafe.Pointer(&z))
		return s.filled(m, addr, err)
	}
	n := uint64(1)
	for n < faultAround {
		q, ok := m.pages[addr+n*pageSize]
		if !ok || q.done || q.off != p.off+int64(n*pageSize) {
			break
		}
		n++
	}
	return s.fill(m, addr, p.off, n)
}

// streamBatch fills the next run of missing pages in address order.
func (s *server) streamBatch(m *mmState) error {
	for m.cursor < len(m.order) {
		a := m.order[m.cursor]
		p, ok := m.pages[a]
		if !ok || p.done {
			m.cursor++
			continue
		}
		n := uint64(1)
		for n < batch && m.cursor+int(n) < len(m.order) {
			next := m.order[m.cursor+int(n)]
			q, ok := m.pages[next]
			if next != a+n*pageSize || !ok || q.done || q.off != p.off+int64(n*pageSize) {
				break
			}
			n++
		}
		err := s.fill(m, a, p.off, n)
		if err == nil {
			m.cursor += int(n)
		}
		return err
	}
	if m.undone > 0 {
		m.resort() // pages moved or a fill was cut short
	}
	return nil
}

// fill copies n pages of image data at off to addr, page by page where
// some are already there.
func (s *server) fill(m *mmState, addr uint64, off int64, n uint64) error {
	buf := s.buf[:n*pageSize]
	got, err := s.src.ReadAt(buf, off)
	if err != nil || got != len(buf) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("%w: %d pages at %#x of %s, image offset %d: %w", errFatal, n, addr, m.name, off, err)
	}
	for len(buf) > 0 {
		c := kernel.UffdioCopyArg{Dst: addr, Src: uint64(uintptr(unsafe.Pointer(&buf[0]))), Len: uint64(len(buf))}
		err := kernel.UffdIoctl(m.uffd, kernel.UffdioCopy, unsafe.Pointer(&c))
		done := uint64(0)
		if c.Copy > 0 {
			done = uint64(c.Copy)
		}
		for a := addr; a < addr+done; a += pageSize {
			m.mark(a)
		}
		addr, buf = addr+done, buf[done:]
		if err == nil {
			if done == 0 {
				return fmt.Errorf("UFFDIO_COPY at %#x of %s copied nothing", addr, m.name)
			}
			continue
		}
		if len(buf) > pageSize && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EINVAL)) {
			// The range spans mappings (the task split one with
			// mprotect, or the image's run went on into the next):
			// one page at a time, each in its own.
			for len(buf) > 0 {
				if err := s.fillOne(m, addr, buf[:pageSize]); err != nil {
					return err
				}
				addr, buf = addr+pageSize, buf[pageSize:]
			}
			return nil
		}
		if errors.Is(err, unix.EEXIST) {
			// Already there (the task wrote it, or another fill did).
			if err := s.filled(m, addr, err); err != nil {
				return err
			}
			addr, buf = addr+pageSize, buf[pageSize:]
			continue
		}
		return s.filled(m, addr, err)
	}
	return nil
}

// fillOne copies one page.
func (s *server) fillOne(m *mmState, addr uint64, page []byte) error {
	c := kernel.UffdioCopyArg{Dst: addr, Src: uint64(uintptr(unsafe.Pointer(&page[0]))), Len: pageSize}
	return s.filled(m, addr, kernel.UffdIoctl(m.uffd, kernel.UffdioCopy, unsafe.Pointer(&c)))
}

// filled takes the outcome of filling the page at addr.
func (s *server) filled(m *mmState, addr uint64, err error) error {
	switch {
	case err == nil:
		m.mark(addr)
		return nil
	case errors.Is(err, unix.EEXIST):
		// Someone may wait on it: whoever filled it woke them, but a
		// wake too many costs nothing.
		m.mark(addr)
		r := kernel.UffdioRange{Start: addr, Len: pageSize}
		_ = kernel.UffdIoctl(m.uffd, kernel.UffdioWake, unsafe.Pointer(&r))
		return nil
	case errors.Is(err, unix.EAGAIN):
		// The mappings are changing: the event comes first.
		return unix.EAGAIN
	case errors.Is(err, unix.ESRCH):
		// The address space is gone: the process exited.
		m.gone = true
		return nil
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.EINVAL), errors.Is(err, unix.EFAULT):
		// Nothing registered there any more (unmapped while an event
		// was on its way); it is not ours to fill. Wake whoever waits.
		m.del(addr)
		r := kernel.UffdioRange{Start: addr, Len: pageSize}
		_ = kernel.UffdIoctl(m.uffd, kernel.UffdioWake, unsafe.Pointer(&r))
		return nil
	}
	return fmt.Errorf("fill %#x of %s: %w", addr, m.name, err)
}

func (m *mmState) mark(a uint64) {
	if p, ok := m.pages[a]; ok && !p.done {
		p.done = true
		m.pages[a] = p
		m.undone--
	}
}

// fail stops every process served: the pages they lack cannot be had (or
// the server cannot go on).
func (s *server) fail(cause error) {
	s.log.Error("lazy restore failed: killing the processes it serves", "err", cause)
	for _, m := range s.mms {
		if m.gone {
			continue
		}
		if m.pidfd >= 0 {
			if err := unix.PidfdSendSignal(m.pidfd, unix.SIGKILL, nil, 0); err != nil {
				s.log.Warn("kill", "mm", m.name, "err", err)
			} else {
				s.log.Error("killed", "mm", m.name, "pid", m.pid)
			}
		}
		// A page it lacks raises SIGBUS, never reads zeros: the one
		// process we cannot kill by pidfd (a fork child) fails there.
		poisoned := 0
		for a, p := range m.pages {
			if p.done {
				continue
			}
			z := kernel.UffdioFillArg{Range: kernel.UffdioRange{Start: a, Len: pageSize}}
			if kernel.UffdIoctl(m.uffd, kernel.UffdioPoison, unsafe.Pointer(&z)) == nil {
				poisoned++
			}
		}
		if poisoned > 0 {
			s.log.Error("poisoned missing pages", "mm", m.name, "pages", poisoned)
		}
		s.drop(m)
	}
}

func (s *server) drop(m *mmState) {
	unix.Close(m.uffd)
	if m.pidfd >= 0 {
		unix.Close(m.pidfd)
	}
	m.uffd, m.pidfd = -1, -1
}
