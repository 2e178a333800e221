// Package cgroup reads which cgroups a task is in and acts on cgroup
// directories below one the caller may manage, for checkpoint (reading a
// process tree's cgroups and their limits) and restore (making them again
// and putting tasks back). Both cgroup versions are handled: each cgroup v1
// hierarchy is named by its controllers as /proc/PID/cgroup lists them
// ("cpu,cpuacct", "name=systemd"), the v2 hierarchy by "" (its line is
// "0::PATH"). A container's cgroup is not made here: libcontainer makes it
// from the bundle's spec (runtime/).
//
// Containment: a directory below a base is reached from an O_PATH fd of
// the base, one plain component at a time with O_NOFOLLOW, and every
// control file is opened from a directory fd with O_NOFOLLOW; a path
// from an image (checked by image.CheckCgroupPath) never becomes a host
// path string joined to the base.
package cgroup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/proc"
)

// Membership is one line of /proc/PID/cgroup: the task's cgroup in one
// hierarchy, as a path from that hierarchy's root (as the reader's cgroup
// namespace sees it).
type Membership struct {
	Controllers string // "" for cgroup v2
	Path        string
}

// Parse parses the content of /proc/PID/cgroup
// ("hierarchy-ID:controller-list:cgroup-path" lines). A v1 hierarchy with
// no controller and no name cannot exist; the v2 one has ID 0.
func Parse(b []byte) ([]Membership, error) {
	var out []Membership
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), ":", 3)
		if len(f) != 3 || !strings.HasPrefix(f[2], "/") {
			return nil, fmt.Errorf("cgroup line %q", sc.Text())
		}
		if (f[0] == "0") != (f[1] == "") {
			return nil, fmt.Errorf("cgroup line %q: hierarchy %s with controllers %q", sc.Text(), f[0], f[1])
		}
		out = append(out, Membership{Controllers: f[1], Path: f[2]})
	}
	return out, sc.Err()
}

// Read reads /proc/PID/task/TID/cgroup.
func Read(pid, tid int) ([]Membership, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/cgroup", pid, tid))
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Rel gives p relative to base ("" when equal), and false when p is not
// base or below it.
func Rel(base, p string) (string, bool) {
	if p == base {
		return "", true
	}
	prefix := strings.TrimSuffix(base, "/") + "/"
	if !strings.HasPrefix(p, prefix) {
		return "", false
	}
	return strings.TrimPrefix(p, prefix), true
}

// Hierarchy is where a hierarchy is mounted in the caller's mount
// namespace.
type Hierarchy struct {
	Controllers string
	MountPoint  string
	Root        string // the cgroup path mounted there ("/" normally)
}

// Find finds the mount of the hierarchy named controllers: the cgroup2
// mount for "", else a cgroup (v1) mount whose options hold every one of
// the controllers (a controller is in one hierarchy at most).
func Find(mounts []proc.MountInfo, controllers string) (Hierarchy, bool) {
	for _, m := range mounts {
		ok := false
		switch {
		case controllers == "":
			ok = m.FsType == "cgroup2"
		case m.FsType == "cgroup":
			ok = true
			for _, c := range strings.Split(controllers, ",") {
				ok = ok && hasOpt(m.SuperOpts, c)
			}
		}
		if ok {
			return Hierarchy{Controllers: controllers, MountPoint: m.MountPoint, Root: m.Root}, true
		}
	}
	return Hierarchy{}, false
}

func hasOpt(list, opt string) bool {
	for _, o := range strings.Split(list, ",") {
		if o == opt {
			return true
		}
	}
	return false
}

// Dir is the directory of cgroup p (a path from the hierarchy's root) in
// the caller's mount namespace: the mount point and the part of p below
// the mounted root. p must be a cgroup path the kernel gave (/proc), not
// one from an image.
func (h Hierarchy) Dir(p string) (string, error) {
	if !path.IsAbs(p) || path.Clean(p) != p {
		return "", fmt.Errorf("cgroup path %q of hierarchy %q is not clean and absolute", p, h.Controllers)
	}
	rel, ok := Rel(h.Root, p)
	if !ok {
		return "", fmt.Errorf("cgroup %s of hierarchy %q is not below %s, mounted on %s", p, h.Controllers, h.Root, h.MountPoint)
	}
	return path.Join(h.MountPoint, rel), nil
}

// Base is an open cgroup directory that the caller may manage: cgroups
// below it are reached only through it.
type Base struct {
	fd   int
	Name string // for messages
}

// OpenBase opens dir, a cgroup directory named by a trusted party (the
// caller, or /proc/self/cgroup).
func OpenBase(dir string) (*Base, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open cgroup", Path: dir, Err: err}
	}
	return &Base{fd: fd, Name: dir}, nil
}

// Close closes the base.
func (b *Base) Close() error {
	if b == nil || b.fd < 0 {
		return nil
	}
	err := unix.Close(b.fd)
	b.fd = -1
	return err
}

// Cgroup is an open cgroup directory at or below a base.
type Cgroup struct {
	fd   int
	Name string // base/rel, for messages
}

// Close closes the directory.
func (c *Cgroup) Close() error { return unix.Close(c.fd) }

// Open opens the cgroup rel below b ("" is b itself), one component at a
// time; with create, missing components are made (mode 0755), and made
// lists them, parents first, relative to b. rel must be plain and
// relative (image.CheckCgroupPath): anything else is refused here too.
func (b *Base) Open(rel string, create bool) (c *Cgroup, made []string, err error) {
	fd, err := unix.Openat(b.fd, ".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, &os.PathError{Op: "open cgroup", Path: b.Name, Err: err}
	}
	if rel == "" {
		return &Cgroup{fd: fd, Name: b.Name}, nil, nil
	}
	defer func() {
		if err != nil {
			unix.Close(fd)
		}
	}()
	done := ""
	for _, comp := range strings.Split(rel, "/") {
		if comp == "" || comp == "." || comp == ".." || strings.ContainsRune(comp, 0) {
			return nil, made, fmt.Errorf("cgroup path %q below %s: not plain and relative", rel, b.Name)
		}
		done = path.Join(done, comp)
		next, err := unix.Openat(fd, comp, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) && create {
			if err = unix.Mkdirat(fd, comp, 0o755); err == nil || errors.Is(err, unix.EEXIST) {
				if err == nil {
					made = append(made, done)
				}
				next, err = unix.Openat(fd, comp, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			}
		}
		if err != nil {
			return nil, made, &os.PathError{Op: "open cgroup", Path: path.Join(b.Name, done), Err: err}
		}
		unix.Close(fd)
		fd = next
	}
	return &Cgroup{fd: fd, Name: path.Join(b.Name, rel)}, made, nil
}

// Remove removes the empty cgroup rel below b (rmdir).
func (b *Base) Remove(rel string) error {
	dir, name := path.Split(rel)
	c, _, err := b.Open(strings.TrimSuffix(dir, "/"), false)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := unix.Unlinkat(c.fd, name, unix.AT_REMOVEDIR); err != nil {
		return &os.PathError{Op: "rmdir", Path: path.Join(b.Name, rel), Err: err}
	}
	return nil
}

// ReadFile reads the control file name of c, without its trailing
// newline; ok is false if c has no such file (its controller is not
// enabled there).
func (c *Cgroup) ReadFile(name string) (val string, ok bool, err error) {
	fd, err := unix.Openat(c.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return "", false, nil
	}
	if err != nil {
		return "", false, &os.PathError{Op: "open", Path: path.Join(c.Name, name), Err: err}
	}
	f := os.NewFile(uintptr(fd), path.Join(c.Name, name))
	defer f.Close()
	b := make([]byte, 8192)
	n, err := f.Read(b)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, err
	}
	return strings.TrimSuffix(string(b[:n]), "\n"), true, nil
}

// WriteFile writes val to the control file name of c, in one write(2),
// as the kernel wants.
func (c *Cgroup) WriteFile(name, val string) error {
	fd, err := unix.Openat(c.fd, name, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path.Join(c.Name, name), Err: err}
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, []byte(val)); err != nil {
		return &os.PathError{Op: fmt.Sprintf("write %q to", val), Path: path.Join(c.Name, name), Err: err}
	}
	return nil
}

// MoveProcess puts the whole process pid (all its threads) in c.
func (c *Cgroup) MoveProcess(pid int) error {
	return c.WriteFile("cgroup.procs", strconv.Itoa(pid))
}

// MoveThread puts thread tid alone in c: the v1 "tasks" file, or the v2
// "cgroup.threads" (c and the thread's current cgroup must then be of
// one threaded subtree).
func (c *Cgroup) MoveThread(tid int, v2 bool) error {
	if v2 {
		return c.WriteFile("cgroup.threads", strconv.Itoa(tid))
	}
	return c.WriteFile("tasks", strconv.Itoa(tid))
}
