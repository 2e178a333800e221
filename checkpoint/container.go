package checkpoint

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/proc"
)

// collectContainerMounts handles the mount namespace of a container
// checkpointed through the runtime (Options.Container): the runtime makes
// the namespace again from the bundle, so its mounts are not saved, but
// what lives only in memory is: the content of each tmpfs mount the
// runtime names (Options.ContainerTmpfs), as a MOUNT of kind MountTmpfs
// with its TMPFS_FILE and TMPFS_DATA records, which restore writes into
// the fresh tmpfs the bundle mounts at the same place.
func (d *dumper) collectContainerMounts(t *tree) error {
	root := t.procs[0]
	if root.task.Flags&image.TaskFlagPidnsInit == 0 && !d.opts.SharedPidns {
		return unsupported(root.pid, "container", "the container's init is not pid 1 of its own pid namespace: a container sharing its pid namespace cannot be checkpointed whole")
	}
	rootNs := mntnsOf(root.pid)
	for _, p := range t.live()[1:] {
		if mntnsOf(p.pid) != rootNs {
			return unsupported(p.pid, "mount namespace", "it differs from the container's (task %d): nested mount namespaces are not supported yet", root.pid)
		}
	}
	if rootNs == mntnsOf(int(root.stat.PPid)) || len(d.opts.ContainerTmpfs) == 0 {
		return nil
	}
	mounts, err := proc.MountInfos(root.pid)
	if err != nil {
		return fmt.Errorf("task %d: %w", root.pid, err)
	}
	root.task.Flags |= image.TaskFlagMntns
	d.mnt = &mntns{tmpfs: map[uint32]*tmpfsTree{}}
	for _, mp := range d.opts.ContainerTmpfs {
		// The last mount on the path is the one the container sees.
		i := -1
		for j := range mounts {
			if mounts[j].MountPoint == mp {
				i = j
			}
		}
		if i < 0 {
			return unsupported(root.pid, fmt.Sprintf("tmpfs mount on %q", mp), "the bundle mounts a tmpfs there but the container has no mount there now")
		}
		m := &mounts[i]
		obj := fmt.Sprintf("mount %d on %q (%s)", m.ID, m.MountPoint, m.FsType)
		if m.FsType != "tmpfs" || m.Root != "/" {
			return unsupported(root.pid, obj, "the bundle mounts a tmpfs there, but the container now has another mount on top of it")
		}
		flags, err := proc.MountFlags(m.Opts)
		if err != nil {
			return unsupported(root.pid, obj, "%v", err)
		}
		rec := image.Mount{ID: uint32(m.ID), ParentID: uint32(m.Parent), Kind: image.MountTmpfs, Flags: flags,
			MountPoint: m.MountPoint, Root: m.Root, FsType: m.FsType, Source: m.Source, SuperOpts: m.SuperOpts}
		if err := rec.Check(); err != nil {
			return unsupported(root.pid, obj, "%v", err)
		}
		rootFd, err := d.tmpfsRoot(root, mounts, i)
		if err != nil {
			return unsupported(root.pid, obj, "%v", err)
		}
		tree, err := walkTmpfs(root.pid, obj, rec.ID, rootFd, d.opts.LeaveRunning)
		_ = unix.Close(rootFd)
		if err != nil {
			return err
		}
		d.mnt.tmpfs[rec.ID] = tree
		d.mnt.mounts = append(d.mnt.mounts, rec)
	}
	return nil
}

// checkSharedPidns: a container sharing its pod's pid namespace is the
// subtree under its first task, so a process of the container that is not
// in that subtree (one started with exec: its parent is the shim, outside)
// would be left behind silently. The container's cgroup tells which
// processes are the container's: every one must be in the tree.
func (d *dumper) checkSharedPidns(t *tree, fz *freezer) error {
	if fz == nil {
		return unsupported(d.root, "container", "it shares its pid namespace and has no cgroup to freeze: which processes are the container's cannot be told")
	}
	b, err := os.ReadFile(filepath.Join(fz.dir, "cgroup.procs"))
	if err != nil {
		return fmt.Errorf("the container's cgroup %s: %w", fz.dir, err)
	}
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return fmt.Errorf("the container's cgroup %s: cgroup.procs: %q", fz.dir, f)
		}
		if _, ok := t.byPid[pid]; !ok {
			return unsupported(pid, "process", "it is in the container's cgroup %s but not a descendant of the container's first task %d (started with exec?): the checkpoint would leave it behind", fz.dir, d.root)
		}
	}
	return nil
}
