package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/ckpt/ckpt/checkpoint/image"
	"github.com/ckpt/ckpt/internal/guard"
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
	// FileLocks takes again the file locks of the image; an image with
	// locks is refused without it.
	FileLocks bool
	// ExtUnixSk accepts the image's external sockets other than fds 0, 1
	// and 2 (a checkpoint with --ext-unix-sk): each is connected to its
	// InheritFds entry.
	ExtUnixSk bool
	// ShellJob attaches terminals that were outside the checkpoint
	// (checkpointed with --shell-job) to the terminal on the restorer's
	// stdin: their files are opened again on it, and a session of the
	// image whose controlling terminal it was gets it, with its
	// foreground group.
	ShellJob bool
	// TcpEstablished allows restoring established TCP connections; an
	// image holding one is refused without it, as its checkpoint was.
	TcpEstablished bool
	Logger         *slog.Logger

	// Adopt, when set, restores a whole container into one a runtime
	// makes (adopt.go): the image must have a CONTAINER record.
	Adopt *Adopt

	// Journal is the guardian (internal/guard) of a caller that has more
	// to undo than the restore's tasks if ckpt dies (a container's state),
	// and that ends it itself. Without it Restore starts its own.
	Journal *guard.Journal
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
}

// Restore rebuilds the process in the image read from r and lets it run.
// When r is a regular file the whole image is validated (framing, tail,
// digest) before anything is created and pages are read by the restored
// task straight from the file; from a pipe the image is read once, in
// order, and the tail is checked before the process is released: a bad
// image never runs.
func Restore(ctx context.Context, r io.Reader, opts Options) (*Result, error) {
	start := time.Now()
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "restore")

	var ropts image.Options
	f, seekable := r.(*os.File)
	if seekable {
		if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
			seekable = false
		}
	}
	if seekable {
		if _, err := image.Validate(f); err != nil {
			return nil, fmt.Errorf("validate image: %w", err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		ropts.NoDigest = true
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
		pipes: map[uint32]*pipeEnds{}, pipeData: map[uint32][]byte{},
		shmFiles: map[uint64]*os.File{}, shmRecs: map[uint64]*image.Shmem{}}
	if seekable {
		rs.imageFile = f
	}
	rs.in = &spoolReader{r: r}
	defer rs.in.close()
	// All of it on the tracer's thread: ptrace calls are direct, not
	// handed to that thread and back.
	err = tr.Do(func() error {
		if err := rs.run(image.NewReader(rs.in, ropts)); err != nil {
			rs.abort()
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := &Result{Pid: rs.plans[0].pid, Tasks: len(rs.plans), Pages: rs.pages, Elapsed: time.Since(start)}
	for _, t := range rs.plans {
		res.Threads += len(t.threads)
	}
	log.Info("restore done", "pid", res.Pid, "tasks", res.Tasks, "threads", res.Threads, "pages", res.Pages, "elapsed", res.Elapsed)
	return res, nil
}

// ErrBadImage is wrapped when the image is consistent in framing but not in
// content (a record out of place, a missing object).
var ErrBadImage = errors.New("bad image")

func badImage(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadImage, fmt.Sprintf(format, args...))
}
