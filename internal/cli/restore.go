package cli

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"

	ucli "github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/atomicfile"
	"github.com/ckpt/ckpt/internal/logctx"
	"github.com/ckpt/ckpt/restore"
	"github.com/ckpt/ckpt/restore/lazypages"
)

func restoreCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "restore",
		Usage:     "restore a process from an image",
		UsageText: "ckpt restore (--image FILE | --image - | --image-path DIR) [--detach] [--pid-file FILE] [--inherit-fd fd[N]:KEY ...] [--ext-unix-sk] [--shell-job] [--tcp-established] [--file-locks] [--manage-cgroups-mode MODE] [--cgroup-root PATH]\n   ckpt restore --bundle DIR --image-path DIR [--detach] [--pid-file FILE] <container-id>",
		Description: `Rebuilds the process with its original pid and lets it run on from where
it was checkpointed. Without --detach, waits for it and exits with its exit
status (128+N if killed by signal N); with --detach, returns once it runs.

Files that led outside the checkpointed process (its terminal, a pipe to
the shell that started it) are external: each is connected to a file of
ckpt restore. By default an external file that was fd 0, 1 or 2 gets ckpt
restore's own stdin, stdout or stderr; --inherit-fd fd[N]:KEY connects the
external file whose key is KEY (as 'ckpt inspect' shows it, e.g.
pipe:[12345] or /dev/pts/3) to ckpt restore's fd N instead. A terminal
outside (checkpointed with --shell-job) needs --shell-job here too: every
file on it is opened again on the terminal ckpt restore's stdin is, and a
session whose controlling terminal it was gets that terminal, with its
foreground process group.

With a container id, restores a container checkpointed with 'ckpt
checkpoint <id>' into a new container of that id made from --bundle (see
'ckpt run'); the container's stdio is ckpt restore's.`,
		Flags: append([]ucli.Flag{
			&ucli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the process runs"},
			&ucli.StringFlag{Name: "pid-file", Usage: "write the restored process's pid to `FILE`"},
			&ucli.StringSliceFlag{Name: "inherit-fd", Usage: "connect external file KEY to our fd N: fd[N]:KEY"},
			&ucli.StringFlag{Name: "parent-path", Usage: "the parent image (`DIR` or file) of a pre-copy image, if not where the image says"},
			&ucli.BoolFlag{Name: "lazy", Usage: "let the process run before its private anonymous memory is in: pages arrive on first touch, and in the background, from a page server (ckpt lazy-pages) that exits when all are in"},
			&ucli.StringFlag{Name: "lazy-log", Usage: "with --lazy, the page server logs to `FILE` (default: stderr, or nowhere with --detach)"},
			&ucli.BoolFlag{Name: "lazy-on-touch-only", Hidden: true, Usage: "with --lazy, stream no page in the background (for tests)"},
			&ucli.StringFlag{Name: "page-server", Usage: "with --lazy, read the pages from the ckpt page-server at `ADDR` (host:port, or unix:PATH) serving this same image (docs/lazy-restore.md)"},
			&ucli.StringFlag{Name: "cgroup-root", Usage: "put the first task in cgroup `PATH` (from each hierarchy's root, as /proc/PID/cgroup names it) and the others below it, instead of ckpt's own cgroups"},
			&ucli.BoolFlag{Name: "dry-run", Usage: "validate the whole image against this host (free pids, our capabilities; with a container id, the bundle) and print what would be restored, creating nothing"},
		}, append(allowFlags(true), imageFlags...)...),
		Action: runRestore,
	}
}

func parseInheritFds(specs []string) (map[string]*os.File, error) {
	m := map[string]*os.File{}
	for _, s := range specs {
		fdPart, key, ok := strings.Cut(s, ":")
		fdPart = strings.TrimSuffix(strings.TrimPrefix(fdPart, "fd["), "]")
		n, err := strconv.Atoi(fdPart)
		if !ok || err != nil || n < 0 || key == "" {
			return nil, fmt.Errorf("--inherit-fd %q: want fd[N]:KEY", s)
		}
		m[key] = os.NewFile(uintptr(n), key)
	}
	return m, nil
}

func runRestore(c *ucli.Context) error {
	if c.NArg() > 0 {
		return restoreContainer(c)
	}
	if err := containerOnly(c, containerRestoreFlags); err != nil {
		return err
	}
	path, err := imagePath(c)
	if err != nil {
		return err
	}
	inherit, err := parseInheritFds(c.StringSlice("inherit-fd"))
	if err != nil {
		return err
	}
	in, err := openImage(path)
	if err != nil {
		return err
	}
	defer in.Close()
	imageDir := ""
	if path != "-" {
		file := path
		if fi, err := os.Stat(file); err == nil && fi.IsDir() {
			file = filepath.Join(file, image.FileName)
		}
		imageDir = filepath.Dir(file)
	}
	mode, err := restore.ParseCgroupMode(c.String("manage-cgroups-mode"))
	if err != nil {
		return err
	}
	if c.Bool("dry-run") {
		im, err := image.OpenReader(in)
		if err != nil {
			return ucli.Exit(fmt.Sprintf("dry run: invalid image: %v", err), 1)
		}
		defer im.Close()
		out, err := restore.DryRun(im, restore.Options{ImageDir: imageDir, ParentPath: c.String("parent-path"),
			CgroupMode: mode, CgroupRoot: c.String("cgroup-root")})
		if err != nil {
			return ucli.Exit(fmt.Sprintf("dry run: restore would fail: %v", err), 1)
		}
		fmt.Fprint(c.App.Writer, out)
		return nil
	}
	opts := restore.Options{InheritFds: inherit, Detached: c.Bool("detach"), Allow: allowOf(c),
		ParentPath: c.String("parent-path"), ImageDir: imageDir,
		Lazy: c.Bool("lazy"), LazyOnTouchOnly: c.Bool("lazy-on-touch-only"), LazyPageServer: c.String("page-server"),
		CgroupMode: mode, CgroupRoot: c.String("cgroup-root")}
	if opts.LazyOnTouchOnly && !opts.Lazy {
		return ucli.Exit("--lazy-on-touch-only needs --lazy", 2)
	}
	if opts.LazyPageServer != "" && !opts.Lazy {
		return ucli.Exit("--page-server needs --lazy", 2)
	}
	if opts.Lazy {
		lf, err := lazyLog(c)
		if err != nil {
			return err
		}
		defer lf.Close()
		opts.LazyLog = lf
	}
	res, err := restore.Restore(logctx.With(c.Context, logger(c)), in, opts)
	if err != nil {
		return ucli.Exit(fmt.Sprintf("restore failed: %v", err), 1)
	}
	if pf := c.String("pid-file"); pf != "" {
		if err := atomicfile.WriteFile(pf, []byte(strconv.Itoa(res.Pid)), 0o644); err != nil {
			return err
		}
	}
	if c.Bool("detach") {
		return nil
	}
	// The restored process is our child (the stub cloned it with
	// CLONE_PARENT): wait for it like a shell would.
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(res.Pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for restored process %d: %w", res.Pid, err)
		}
		break
	}
	switch {
	case ws.Exited():
		return ucli.Exit("", ws.ExitStatus())
	case ws.Signaled():
		return ucli.Exit("", 128+int(ws.Signal()))
	}
	return nil
}

// lazyLog opens where the page server logs. With --detach and no
// --lazy-log, nowhere: a server holding our stderr would keep whoever reads
// it waiting until every page is in.
func lazyLog(c *ucli.Context) (*os.File, error) {
	name := c.String("lazy-log")
	switch {
	case name != "":
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("--lazy-log: %w", err)
		}
		return f, nil
	case c.Bool("detach"):
		return os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	}
	fd, err := unix.FcntlInt(2, unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return nil, fmt.Errorf("page server log: %w", err)
	}
	return os.NewFile(uintptr(fd), "stderr"), nil
}

// lazyPagesCommand is the page server of a lazy restore, started by
// ckpt restore --lazy itself (restore/lazypages).
func lazyPagesCommand() *ucli.Command {
	return &ucli.Command{
		Name:   "lazy-pages",
		Hidden: true,
		Usage:  "serve the pages of a lazy restore (started by ckpt restore --lazy)",
		Flags:  []ucli.Flag{&ucli.StringFlag{Name: "image", Usage: "the image file's name, for the log"}},
		Action: func(c *ucli.Context) error {
			// Its stderr may be a pipe nobody reads any more.
			signal.Ignore(unix.SIGPIPE, unix.SIGHUP)
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).
				With("component", "lazy-pages", "pid", os.Getpid(), "image", c.String("image"))
			if err := lazypages.Main(log); err != nil {
				log.Error("page server failed", "err", err)
				return ucli.Exit("", 1)
			}
			return nil
		},
	}
}
