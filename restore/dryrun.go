package restore

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

// DryRun checks what a restore of the validated image im would need from
// this host and this caller, and describes what it would make, creating
// nothing: the caller's capabilities for making tasks with given pids and
// tracing them, and (in process form, without its own pid namespace) that
// every pid of the image is free. The image itself (framing, bounds,
// objrefs, digest) was checked by image.Open; the privileges each task
// would get are checked against the caller's (process form); the container
// form's bundle and the privileges its spec grants are checked by the
// runtime before it calls this.
func DryRun(im *image.Image, opts Options) (string, error) {
	s := im.Summary
	if len(s.Tasks) == 0 {
		return "", badImage("no PSTREE: the image lists no task")
	}
	if err := callerCanRestore(); err != nil {
		return "", err
	}
	if opts.Adopt == nil && im.Container != nil {
		return "", fmt.Errorf("the image is container %s's: restore it with a bundle and a container id", im.Container.ID)
	}
	if opts.Adopt != nil && im.Container == nil {
		return "", fmt.Errorf("the image is a process's, not a container's (no CONTAINER record)")
	}
	if opts.Adopt == nil {
		grant, err := restoreGrant(&opts)
		if err != nil {
			return "", err
		}
		if err := CheckPrivileges(im.File(), grant); err != nil {
			return "", err
		}
	}
	if !s.PidNs() {
		// Every task and thread is made with its pid (clone3 set_tid).
		var taken []string
		seen := map[int32]bool{}
		ids := append([]int32(nil), s.Tids...)
		for _, t := range s.Tasks {
			ids = append(ids, t.Pid)
		}
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", id)); err == nil {
				taken = append(taken, fmt.Sprint(id))
			}
		}
		if len(taken) > 0 {
			return "", fmt.Errorf("pids %s of the image are in use here: stop those processes or restore elsewhere", strings.Join(taken, ", "))
		}
	}
	if opts.Adopt == nil {
		if err := checkCgroupsDry(im.File(), opts); err != nil {
			return "", err
		}
	}
	if s.Parent != nil {
		// A pre-copy image: its chain must be there and be its own.
		rs := &restorer{opts: opts}
		err := rs.openChain(s.Parent)
		rs.closeChain()
		if err != nil {
			return "", err
		}
	}
	return s.Describe(), nil
}

// callerCanRestore refuses a caller that could not make the tasks:
// clone3 with set_tid needs CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN),
// tracing them CAP_SYS_PTRACE.
func callerCanRestore() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	has := func(c int) bool { return data[c/32].Effective&(1<<(c%32)) != 0 }
	if !has(unix.CAP_CHECKPOINT_RESTORE) && !has(unix.CAP_SYS_ADMIN) {
		return fmt.Errorf("the caller lacks CAP_CHECKPOINT_RESTORE and CAP_SYS_ADMIN: it cannot give tasks their pids")
	}
	if !has(unix.CAP_SYS_PTRACE) {
		return fmt.Errorf("the caller lacks CAP_SYS_PTRACE: it cannot trace the tasks it makes")
	}
	return nil
}
