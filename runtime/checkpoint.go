package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/checkpoint"
	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/allow"
	"github.com/ckpt/ckpt/internal/lockfile"
	"github.com/ckpt/ckpt/internal/logctx"
	"github.com/ckpt/ckpt/oci"
)

// CheckpointOpts are `checkpoint <id>`'s options.
type CheckpointOpts struct {
	ImagePath    string
	LeaveRunning bool
	// The engine's permissions for state leading outside the container
	// (runc's flags of the same names). ShellJob is always given: a
	// container's stdio, a console included, is its caller's.
	allow.Allow
}

// Checkpoint saves the whole container (every process of its pid
// namespace, the content of its tmpfs mounts, its host name) into
// ImagePath. Unless LeaveRunning, the container is gone afterwards.
func (r *Runtime) Checkpoint(ctx context.Context, id string, o CheckpointOpts) (err error) {
	c, err := r.Load(id)
	if err != nil {
		return err
	}
	st, err := c.Status()
	if err != nil {
		return err
	}
	// containerd pauses a container before checkpointing it (and resumes
	// it after): the engine's seize thaws the cgroup, so a paused
	// container left running is paused again once its image is written.
	paused := st == libcontainer.Paused
	if st != libcontainer.Running && !paused {
		return fmt.Errorf("container %s is %s: only a running or paused container can be checkpointed", id, st)
	}
	ls, err := c.State()
	if err != nil {
		return err
	}
	if !paused {
		if err := waitExeced(ls.InitProcessPid); err != nil {
			return err
		}
	}
	cfg := c.Config()
	// A container sharing a pid namespace (a pod's, shareProcessNamespace)
	// is the subtree under its init; the engine refuses whatever its tasks
	// share with the namespace's other processes.
	sharedPidns := !cfg.Namespaces.IsPrivate(configs.NEWPID)
	if sharedPidns && !cfg.Namespaces.Contains(configs.NEWPID) {
		return notSupported("checkpoint of container %s: it runs in the host's pid namespace", id)
	}
	rec, err := containerRecord(c, &cfg)
	if err != nil {
		return err
	}
	if o.ImagePath == "" {
		return fmt.Errorf("checkpoint needs --image-path DIR")
	}
	if err := os.MkdirAll(o.ImagePath, 0o700); err != nil {
		return err
	}
	// One checkpoint of a container at a time; the engine locks the
	// process tree and image.Create the image too. A container is its id
	// under one state root: the lock is named after the root's identity
	// (two runtimes with other roots may each have a c1).
	root, err := r.root()
	if err != nil {
		return err
	}
	var rootSt unix.Stat_t
	if err := unix.Stat(root, &rootSt); err != nil {
		return fmt.Errorf("state root %s: %w", root, err)
	}
	lk, err := lockfile.Acquire(fmt.Sprintf("container-%x-%x-%s", rootSt.Dev, rootSt.Ino, id), "container "+id)
	if err != nil {
		return err
	}
	defer lk.Release()
	f, err := image.Create(filepath.Join(o.ImagePath, image.FileName))
	if err != nil {
		return err
	}
	defer f.Abort()
	opts := checkpoint.Options{
		LeaveRunning: o.LeaveRunning,
		// Paused on entry (by containerd), it stays paused throughout.
		LeaveFrozen:    paused,
		FreezeCgroup:   freezerOf(ls.CgroupPaths),
		Container:      rec,
		ContainerTmpfs: tmpfsMounts(&cfg),
		SharedPidns:    sharedPidns,
		Allow:          containerAllow(o.Allow),
		Commit:         f.Commit,
	}
	res, err := checkpoint.Dump(logctx.With(ctx, r.log()), ls.InitProcessPid, f, opts)
	if err != nil {
		err = fmt.Errorf("checkpoint of container %s (init %d): %w", id, ls.InitProcessPid, err)
		// The engine resumed the tasks as it found them, thawed: a
		// container that came paused goes back to paused, where its
		// caller (containerd, which paused it) resumes it from.
		if paused {
			if perr := c.Pause(); perr != nil {
				err = fmt.Errorf("%w; pause it again: %w", err, perr)
			}
		}
		return err
	}
	r.noteStats(res)
	if o.LeaveRunning {
		// The engine left it frozen (LeaveFrozen); if that failed, it is
		// paused again now.
		if st, err := c.Status(); paused && (err != nil || st != libcontainer.Paused) {
			if err := c.Pause(); err != nil {
				return fmt.Errorf("container %s: pause again after checkpoint: %w", id, err)
			}
		}
		return nil
	}
	// The engine killed every task: the container is stopped; remove it
	// as runc does, so that its id can be used again.
	waitGone(c)
	if err := c.Destroy(); err != nil {
		return fmt.Errorf("container %s: destroy after checkpoint: %w", id, err)
	}
	return nil
}

// freezerOf picks the cgroup the engine freezes: the v1 freezer's, else
// the v2 one.
func freezerOf(paths map[string]string) string {
	if p := paths["freezer"]; p != "" {
		return p
	}
	return paths[""]
}

// tmpfsMounts are the container's tmpfs mounts whose content lives only
// in memory: all but /dev, which libcontainer fills with device nodes from
// the bundle.
func tmpfsMounts(cfg *configs.Config) []string {
	var out []string
	for _, m := range cfg.Mounts {
		if m.Device == "tmpfs" && m.Destination != "/dev" {
			out = append(out, m.Destination)
		}
	}
	return out
}

// containerRecord is the CONTAINER record: what restore checks a bundle
// against.
func containerRecord(c *libcontainer.Container, cfg *configs.Config) (*image.Container, error) {
	bundle := Bundle(c)
	rec := &image.Container{ID: c.ID(), Bundle: bundle, Rootfs: cfg.Rootfs, Hostname: cfg.Hostname,
		ConfigDigest: configDigest(bundle)}
	var st unix.Stat_t
	if err := unix.Stat(cfg.Rootfs, &st); err != nil {
		return nil, fmt.Errorf("container %s: rootfs: %w", c.ID(), err)
	}
	rec.RootfsDev, rec.RootfsIno = st.Dev, st.Ino
	var mounts []string
	for _, m := range cfg.Mounts {
		mounts = append(mounts, m.Destination)
	}
	rec.Mounts = strings.Join(mounts, "\n")
	return rec, nil
}

// openContainerImage opens and validates (once: the restore reads the
// same validated image) a container's image and returns its CONTAINER
// record.
func openContainerImage(path string) (*image.Image, *image.Container, error) {
	im, err := image.Open(path)
	if err != nil {
		return nil, nil, oci.CorruptImage(filepath.Dir(path), err)
	}
	if im.Container == nil {
		im.Close()
		return nil, nil, fmt.Errorf("image %s is not a container's (no CONTAINER record): restore it with 'ckpt restore --image-path DIR' without a container id", path)
	}
	return im, im.Container, nil
}

// checkBundle refuses a bundle the image cannot be restored into, before
// anything is made: a rootfs that is not a directory, or a mount the
// container had that the bundle lacks. A changed config.json is fine
// otherwise (limits, host name, environment may change), and noted in the
// log.
//
// The rootfs need not be the checkpointed directory: the bundle is the
// caller's, trusted as its spec is, and restoring into another copy of the
// same files is what containerd does (its runc shim and ours restore into
// a new snapshot of the image with the checkpointed rw diff applied;
// nerdctl remounts the container's snapshot), where an overlay mount has
// other device and inode numbers for the same content. What the processes
// need from it is checked file by file instead: copy says the rootfs is
// another directory than the checkpointed one (or the bundle says so with
// RootfsCopyAnnotation), and then the engine checks every file the image
// names there by path (executables and mapped files are regular files,
// reopened files have the type and size they had) instead of by device and
// inode. The same directory keeps the identity checks.
func (r *Runtime) checkBundle(rec *image.Container, cfg *configs.Config, annotated bool) (copy bool, err error) {
	var st unix.Stat_t
	if err := unix.Stat(cfg.Rootfs, &st); err != nil {
		return false, fmt.Errorf("bundle rootfs: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return false, fmt.Errorf("the bundle's rootfs %s is not a directory (mode %#o)", cfg.Rootfs, st.Mode)
	}
	if st.Dev != rec.RootfsDev || st.Ino != rec.RootfsIno {
		copy = true
		r.log().Info("the bundle's rootfs is another directory than the checkpointed container's: the image's files are checked there by path",
			"rootfs", cfg.Rootfs, "was", rec.Rootfs, "inode", st.Ino, "dev", st.Dev, "was_inode", rec.RootfsIno, "was_dev", rec.RootfsDev)
	} else if annotated {
		r.log().Info("the bundle's rootfs, marked as a copy, is the checkpointed directory: the image's files are checked by identity", "rootfs", cfg.Rootfs)
	}
	have := map[string]bool{}
	for _, m := range cfg.Mounts {
		have[m.Destination] = true
	}
	var missing []string
	for _, m := range strings.Split(rec.Mounts, "\n") {
		if m != "" && !have[m] {
			missing = append(missing, m)
		}
	}
	if len(missing) > 0 {
		return false, fmt.Errorf("the bundle lacks mounts the checkpointed container had: %s", strings.Join(missing, ", "))
	}
	return copy, nil
}

// configDigest is "sha256:" and the hex digest of the bundle's
// config.json, or "" if it cannot be read.
func configDigest(bundle string) string {
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// waitExit waits for a container's init that is our child and returns
// its exit code as a shell reports it.
func waitExit(pid int) (int, error) {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 255, fmt.Errorf("wait for %d: %w", pid, err)
		}
		break
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}

// since is for the log.
func since(t time.Time) string { return time.Since(t).Round(time.Millisecond).String() }

// containerAllow is a container's permissions as the engine takes them:
// its stdio, a console included, is its caller's, which restore connects
// to what its own caller gives (shell-job, always).
func containerAllow(a allow.Allow) allow.Allow {
	a.ShellJob = true
	return a
}
