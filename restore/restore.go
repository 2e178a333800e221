package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/allow"
	"github.com/ckpt/ckpt/internal/guard"
	"github.com/ckpt/ckpt/internal/logctx"
	"github.com/ckpt/ckpt/internal/ptrace"
)

const pageSize = image.PageSize

// Options control a restore.
type Options struct {
	// InheritFds connects external files of the image (a terminal, a pipe
	// to the parent) to files the caller holds, by the external file's key
	// as recorded in the image ("pipe:[1234]", "/dev/pts/3"). External
	// files without an entry that were fd 0, 1 or 2 get the restorer's own
	// stdin, stdout or stderr.
	InheritFds map[string]*os.File
	// Detached means the caller will not wait for the restored process: a
	// parent-death signal would fire as soon as the caller exits, so it is
	// not restored on the root task.
	Detached bool
	// Allow: FileLocks takes again the file locks of the image; ExtUnixSk
	// accepts the image's external sockets other than fds 0, 1 and 2,
	// each connected to its InheritFds entry; ShellJob attaches terminals
	// that were outside the checkpoint to the terminal on the restorer's
	// stdin (their files are opened again on it, and a session whose
	// controlling terminal it was gets it, with its foreground group);
	// TcpEstablished restores established TCP connections. An image
	// holding such state is refused without its permission, as its
	// checkpoint was.
	allow.Allow
	// ImageDir is the directory of the image file, where the parent image
	// of a pre-copy image is looked for when its PARENT record names it by
	// a relative path; ParentPath, when set, is the parent image (file or
	// directory) wherever the record says it was.
	ImageDir   string
	ParentPath string

	// Adopt, when set, restores a whole container into one a runtime
	// makes (adopt.go): the image must have a CONTAINER record.
	Adopt *Adopt

	// Journal is the guardian (internal/guard) of a caller that has more
	// to undo than the restore's tasks if ckpt dies (a container's state),
	// and that ends it itself. Without it Restore starts its own.
	Journal *guard.Journal
	// Grant is the most privilege any task may get (privs.go): the
	// bundle's spec's, which a restore into a container must give; nil
	// for a process means the caller's own credentials.
	Grant *Grant

	// Lazy: private anonymous pages arrive on first touch, and in the
	// background, from a page server that outlives the restore (lazy.go).
	// LazyOnTouchOnly (for tests) streams none in the background: the
	// server then lives as long as the restored processes. The server logs
	// to LazyLog (the restorer's stderr if nil); PageServerExe is the ckpt
	// binary that runs it (this one if empty). LazyPageServer, when set,
	// is the address of a `ckpt page-server` serving the same image: the
	// pages are read from there (restore/lazypages/remote.go).
	Lazy            bool
	LazyOnTouchOnly bool
	// CgroupMode says what becomes of a process tree's cgroups (cgroup.go;
	// "" is CgroupSoft); CgroupRoot, when set, is the cgroup (a path from
	// each hierarchy's root, the same in all) that restore manages and
	// puts the first task in, instead of its own.
	CgroupMode     CgroupMode
	CgroupRoot     string
	LazyLog        *os.File
	PageServerExe  string
	LazyPageServer string
}

// Result describes the restored process.
type Result struct {
	Pid     int // the root task, in the restorer's pid namespace
	Tasks   int
	Threads int
	Pages   uint64
	// Elapsed is the time from the start of the restore until the
	// process was released.
	Elapsed time.Duration
	// PageServer is the lazy page server's pid (0 if none).
	PageServer int
}

// Restore rebuilds the process in the image read from r and lets it run.
// The whole image is validated (framing, bounds, tail, digest) before
// anything is created (image.OpenReader): a regular file in place, a
// stream through an unlinked temporary copy. A bad image never runs.
func Restore(ctx context.Context, r io.Reader, opts Options) (*Result, error) {
	im, err := image.OpenReader(r)
	if err != nil {
		return nil, fmt.Errorf("validate image: %w", err)
	}
	defer im.Close()
	return RestoreImage(ctx, im, opts)
}

// RestoreImage rebuilds the process in an image already validated by
// image.Open or image.OpenReader (which the caller closes). Progress goes
// to the context's logger (internal/logctx); a cancelled context stops the
// restore at its next record or step and kills what it made.
func RestoreImage(ctx context.Context, im *image.Image, opts Options) (*Result, error) {
	start := time.Now()
	log := logctx.G(ctx).With("component", "restore")
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}

	grant, err := restoreGrant(&opts)
	if err != nil {
		return nil, err
	}
	opts.Grant = grant
	if opts.CgroupMode, err = ParseCgroupMode(string(opts.CgroupMode)); err != nil {
		return nil, err
	}
	if opts.Adopt != nil && grant.Seccomp && ptrace.SuspendSeccomp() == 0 {
		// The stub runs under the spec's filter: the syscalls restore
		// injects must not.
		return nil, fmt.Errorf("the spec has a seccomp profile, and this restorer cannot suspend seccomp filters while it injects syscalls: %w", ptrace.ErrNoSuspendSeccomp)
	}
	// Privileges are checked before the first task exists (and again as
	// each record arrives, run.go).
	if err := CheckPrivileges(im.File(), grant); err != nil {
		return nil, err
	}
	rd, err := im.Reader()
	if err != nil {
		return nil, fmt.Errorf("read image: %w", err)
	}

	if opts.Journal == nil {
		j, err := guard.Start()
		if err != nil {
			return nil, err
		}
		defer j.Done()
		opts.Journal = j
	}
	tr, err := ptrace.New()
	if err != nil {
		return nil, fmt.Errorf("start tracer: %w", err)
	}
	defer tr.Close()

	rs := &restorer{ctx: ctx, log: log, opts: opts, tr: tr, objs: map[uint32]image.Record{},
		byPid: map[int32]*taskPlan{}, ctlFiles: map[uint32]*os.File{},
		privs: privScan{g: grant}}
	rs.startKinds()
	defer rs.closeChain()
	// Tasks read their pages straight from the image file.
	rs.imageFile = im.File()
	rs.forkPids = im.Summary.ForkPids
	if err := rs.checkLazy(); err != nil {
		return nil, err
	}
	// All of it on the tracer's thread: ptrace calls are direct, not
	// handed to that thread and back.
	err = tr.Do(func() error {
		if err := rs.run(rd); err != nil {
			rs.abort()
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := &Result{Pid: rs.plans[0].pid, Tasks: len(rs.plans), Pages: rs.pages, Elapsed: time.Since(start), PageServer: rs.pageServer}
	for _, t := range rs.plans {
		res.Threads += len(t.threads)
	}
	inj, waited := ptrace.Stats()
	log.Debug("tracer work", "injected syscalls", inj, "ptrace stops waited for", waited)
	log.Info("restore done", "pid", res.Pid, "tasks", res.Tasks, "threads", res.Threads, "pages", res.Pages, "elapsed", res.Elapsed)
	return res, nil
}

// ErrBadImage is wrapped when the image is consistent in framing but not in
// content (a record out of place, a missing object).
var ErrBadImage = errors.New("bad image")

func badImage(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadImage, fmt.Sprintf(format, args...))
}
