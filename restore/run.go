package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/checkpoint/image"
	"github.com/ckpt/ckpt/internal/ptrace"
	"github.com/ckpt/ckpt/internal/remote"
)

// restorer is the state of one restore run.
type restorer struct {
	ctx       context.Context
	log       *slog.Logger
	opts      Options
	tr        *ptrace.Tracer
	imageFile *os.File // the image when it is a regular file, else nil
	in        *spoolReader

	hdr   *image.Header
	objs  map[uint32]image.Record
	task  *taskPlan
	pages uint64
	buf   []byte
	done  bool // the tail was read
}

// taskPlan is one process: what the image says about it, then the live
// task being built.
type taskPlan struct {
	rec      image.Task
	creds    *image.Creds
	misc     *image.TaskMisc
	rlimits  *image.Rlimits
	pending  []*image.SigPending
	files    *image.Files
	fds      []image.Fd
	mm       *image.Mm
	vmas     []image.Vma
	taskObjs *image.TaskObjs
	threads  []image.Thread

	pid       int // in our pid namespace
	stub      *stub
	leader    *remote.Task
	memReady  bool
	scratch   uint64         // the injection page (syscall insn, then arguments)
	imageFd   int            // the image file's fd in the task, -1 if none
	extFds    map[uint32]int // external file objref -> fd in the task
	threadRTs map[int]*remote.Task
}

func (rs *restorer) run(r *image.Reader) error {
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := rs.handle(r, rec); err != nil {
			return err
		}
	}
	t := rs.task
	if t == nil {
		return badImage("the image holds no process")
	}
	if !t.memReady || t.taskObjs == nil || len(t.threads) == 0 {
		return badImage("the process section of task %d is incomplete", t.rec.Pid)
	}
	return rs.finish(t)
}

// handle takes one record. Records are checked as they come; the process is
// only created when its memory layout is known (first PAGES or TASK_OBJS),
// after every file it needs has been found.
func (rs *restorer) handle(r *image.Reader, rec image.Record) error {
	if h, ok := rec.(*image.Header); ok {
		return rs.checkHeader(h)
	}
	if _, ok := rec.(*image.Tail); ok {
		rs.done = true
		return nil
	}
	t := rs.task
	if tk, ok := rec.(*image.Task); ok {
		if t != nil {
			return badImage("more than one process in the image: process trees are not supported yet")
		}
		rs.task = &taskPlan{rec: *tk, imageFd: -1, extFds: map[uint32]int{}, threadRTs: map[int]*remote.Task{}}
		return nil
	}
	if t == nil {
		return badImage("record %v before any TASK", rec.Type())
	}
	switch x := rec.(type) {
	case *image.Creds:
		t.creds = x
	case *image.TaskMisc:
		t.misc = x
	case *image.Rlimits:
		t.rlimits = x
	case *image.SigPending:
		t.pending = append(t.pending, x)
	case *image.Sighand:
		rs.objs[x.Objref] = x
	case *image.Fs:
		rs.objs[x.Objref] = x
	case *image.RegFile:
		if err := checkRegFile(x); err != nil {
			return err
		}
		rs.objs[x.Objref] = x
	case *image.ExtFile:
		rs.objs[x.Objref] = x
	case *image.EventFd:
		rs.objs[x.Objref] = x
	case *image.Epoll:
		rs.objs[x.Objref] = x
	case *image.Files:
		rs.objs[x.Objref] = x
		t.files = x
	case *image.Fd:
		t.fds = append(t.fds, *x)
	case *image.Mm:
		if err := checkFile("executable", x.ExePath, x.ExeDev, x.ExeIno); err != nil {
			return err
		}
		rs.objs[x.Objref] = x
		t.mm = x
	case *image.Vma:
		if x.Kind == image.VmaFile {
			if err := checkFile(fmt.Sprintf("file mapped at %#x", x.Start), x.Path, x.Dev, x.Ino); err != nil {
				return err
			}
		}
		t.vmas = append(t.vmas, *x)
	case *image.Pages:
		if err := rs.ensureTask(t); err != nil {
			return err
		}
		return rs.fillPages(r, t, x)
	case *image.TaskObjs:
		if err := rs.ensureTask(t); err != nil {
			return err
		}
		t.taskObjs = x
	case *image.Thread:
		t.threads = append(t.threads, *x)
	default:
		return badImage("record %v is not supported by this restorer", rec.Type())
	}
	return nil
}

// checkHeader refuses images from another architecture or kernel ABI, and
// images whose FPU state this CPU cannot load.
func (rs *restorer) checkHeader(h *image.Header) error {
	rs.hdr = h
	want := image.NewHeader()
	if h.Arch != want.Arch {
		return fmt.Errorf("image is for architecture %d, this is %d", h.Arch, want.Arch)
	}
	got := h.Consts
	got.XStateLen = 0
	if got != want.Consts {
		return fmt.Errorf("image kernel constants %+v differ from this kernel's %+v", h.Consts, want.Consts)
	}
	return checkXState(h)
}

// checkFile makes sure what the image refers to by path is still there and
// is the same file; dev and ino 0 mean "any".
func checkFile(what, path string, dev, ino uint64) error {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return fmt.Errorf("%s %q: %w", what, path, err)
	}
	if ino != 0 && (st.Ino != ino || st.Dev != dev) {
		return fmt.Errorf("%s %q was replaced since the checkpoint (inode %d on %#x, image has %d on %#x)", what, path, st.Ino, st.Dev, ino, dev)
	}
	return nil
}

func checkRegFile(f *image.RegFile) error {
	var st unix.Stat_t
	if err := unix.Stat(f.Path, &st); err != nil {
		return fmt.Errorf("open file %q: %w", f.Path, err)
	}
	if st.Mode&unix.S_IFMT != f.Mode&unix.S_IFMT {
		return fmt.Errorf("open file %q changed type since the checkpoint (mode %#o, image has %#o)", f.Path, st.Mode, f.Mode)
	}
	return nil
}

// abort kills whatever was created. The stub and the task are traced with
// PTRACE_O_EXITKILL, so even if this never runs they die with the tracer.
func (rs *restorer) abort() {
	t := rs.task
	if t == nil {
		return
	}
	if t.stub != nil {
		t.stub.kill()
	}
	if t.pid > 0 {
		_ = rs.tr.Kill(t.pid)
	}
}
