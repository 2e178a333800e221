package checkpoint

import (
	"fmt"
	"path"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/fsroot"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/proc"
)

// A unix socket's path name is what bind(2) was given, resolved against
// the binder's current directory and root at the time: the kernel keeps
// the string (unix_bind_bsd() copies sun_path as it is), and the socket
// file (UNIX_DIAG_VFS: its inode and device) where the resolution led.
// Both may have moved apart since: the binder changed directory (a
// relative name), the file was removed or renamed, its directory too.
// Here the file is looked for where the name leads now and the result
// saved (UNIX_SK Mode, UNIX_BIND), or the socket refused.

// vfsMatch tells whether st is the socket file sock_diag reported: the
// device comes in the kernel's internal encoding (sb->s_dev, MAJOR << 20
// | MINOR), stat(2)'s in the user one.
func vfsMatch(st *unix.Stat_t, ds *kernel.UnixSock) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFSOCK && st.Ino == uint64(ds.VfsIno) &&
		st.Dev == unix.Mkdev(ds.VfsDev>>20, ds.VfsDev&0xfffff)
}

// lookupSockFile stats name inside task pid's root (following the
// task's own symlinks there, never the host's) and tells whether it is
// the socket's file, with its permission bits.
func lookupSockFile(pid int, name string, ds *kernel.UnixSock) (uint32, bool) {
	root, err := fsroot.OpenTask(pid)
	if err != nil {
		return 0, false
	}
	defer root.Close()
	st, err := root.Stat(name)
	if err != nil || !vfsMatch(&st, ds) {
		return 0, false
	}
	return st.Mode & 0o7777, true
}

// checkPathName looks at a socket bound to an absolute path: its file
// there (Mode), removed (Mode 0: restore removes it again), or refused
// when the name's directory is gone (removed or renamed: where the file
// is now, if anywhere, cannot be told). An accepted end has no file of
// its own (no UNIX_DIAG_VFS) and is left to its listener.
func checkPathName(p *process, obj string, rec *image.UnixSk, ds *kernel.UnixSock) error {
	if ds.VfsIno == 0 {
		return nil
	}
	name := string(rec.Name)
	if mode, ok := lookupSockFile(p.pid, name, ds); ok {
		rec.Mode = mode
		return nil
	}
	dir := path.Dir(name)
	if st, err := statInTask(p.pid, dir); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return unsupported(p.pid, obj, "bound to %s in directory %s, which was removed or renamed since: where its socket file is now, if anywhere, cannot be told", name, dir)
	}
	return nil
}

// bindDirs finds, for every socket bound to a relative path, the
// directory its name was resolved from, and adds its UNIX_BIND: the
// current directory of a task of the tree (the holder's first) or "/"
// from which the name leads to the socket's file. An accepted end takes
// its listener's. Listeners and other sockets with a file go first.
func (d *dumper) bindDirs(t *tree) error {
	dirs := map[uint32]string{} // by Ino
	for _, accepted := range []bool{false, true} {
		for _, s := range d.ux.order {
			r := s.rec
			if len(r.Name) == 0 || r.Name[0] == 0 || r.Name[0] == '/' || (s.diag.VfsIno == 0) != accepted ||
				s.obj == nil || s.obj.rec != image.Record(r) { // made external
				continue
			}
			dir, err := d.bindDir(t, s, dirs)
			if err != nil {
				return err
			}
			if len(path.Join(dir, string(r.Name))) > 107 {
				return unsupported(s.pid, s.what(), "bound to the relative path %q from %s: the whole path is longer than sun_path holds, which restore needs to connect to it", r.Name, dir)
			}
			dirs[r.Ino] = dir
			s.obj.extra = append(s.obj.extra, &image.UnixBind{Ino: r.Ino, Dir: []byte(dir)})
		}
	}
	return nil
}

// bindDir is the directory s's relative name leads from to its file.
func (d *dumper) bindDir(t *tree, s *unixSock, dirs map[uint32]string) (string, error) {
	name := string(s.rec.Name)
	if s.diag.VfsIno == 0 {
		// An accepted end: its name is its listener's.
		for _, o := range d.ux.order {
			if o.diag.State == kernel.UnixStateListen && string(o.rec.Name) == name && dirs[o.rec.Ino] != "" {
				return dirs[o.rec.Ino], nil
			}
		}
		return "", unsupported(s.pid, s.what(), "accepted from a listener bound to the relative path %q that is not in the checkpointed tree: where that name leads cannot be told", name)
	}
	var cwds []string
	seen := map[string]bool{}
	for _, p := range append([]*process{t.byPid[s.pid]}, t.live()...) {
		if p == nil {
			continue
		}
		if cwd, err := proc.Cwd(p.pid); err == nil && len(cwd) > 0 && cwd[0] == '/' && !seen[cwd] {
			seen[cwd] = true
			cwds = append(cwds, cwd)
		}
	}
	root, err := fsroot.OpenTask(s.pid)
	if err != nil {
		return "", fmt.Errorf("task %d %s: %w", s.pid, s.what(), err)
	}
	defer root.Close()
	found := ""
	searchDirs(root, cwds, func(dir string) bool {
		st, err := root.Stat(path.Join(dir, name))
		if err == nil && vfsMatch(&st, s.diag) {
			s.rec.Mode, found = st.Mode&0o7777, dir
			return true
		}
		return false
	})
	if found != "" {
		return found, nil
	}
	return "", unsupported(s.pid, s.what(), "bound to the relative path %q, which leads to its socket file from no directory near a task's current directory (searched: each, its parents and what is below them, %d directories at most): its file was removed or moved, or it was bound further away: where it was bound cannot be told", name, searchBudget)
}

// searchBudget bounds the directories searchDirs visits: the file system
// is the container's, as large as it likes.
const searchBudget = 4096

// searchDepth is how far below a directory searchDirs goes.
const searchDepth = 3

// searchDirs calls try on directories inside root, nearest to the
// current directories cwds first, until it returns true: each cwd, then
// its parents up to "/", then breadth first below each of these (nearest
// first), searchDepth levels down, searchBudget directories in all. A
// relative name was bound from the binder's current directory of the
// time; programs move from there up, down or aside, seldom far.
func searchDirs(root *fsroot.Root, cwds []string, try func(dir string) bool) {
	var starts []string
	seen := map[string]bool{}
	budget := searchBudget
	visit := func(dir string) bool {
		if seen[dir] || budget <= 0 {
			return false
		}
		seen[dir] = true
		budget--
		return try(dir)
	}
	for _, cwd := range cwds {
		for dir := cwd; ; dir = path.Dir(dir) {
			starts = append(starts, dir)
			if visit(dir) {
				return
			}
			if dir == "/" {
				break
			}
		}
	}
	below := map[string]bool{}
	for _, start := range starts {
		level := []string{start}
		for depth := 0; depth < searchDepth && len(level) > 0 && budget > 0; depth++ {
			var next []string
			for _, dir := range level {
				if below[dir] {
					continue
				}
				below[dir] = true
				for _, sub := range subdirs(root, dir, budget) {
					if visit(sub) {
						return
					}
					next = append(next, sub)
				}
			}
			level = next
		}
	}
}

// subdirs lists at most n directories in dir (inside root; symlinks are
// not followed: a directory's own name is what bind resolved).
func subdirs(root *fsroot.Root, dir string, n int) []string {
	f, err := root.OpenFile(dir, unix.S_IFDIR, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil
	}
	defer f.Close()
	ents, _ := f.ReadDir(n)
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, path.Join(dir, e.Name()))
		}
	}
	return out
}

// checkSender refuses a datagram queued on s whose sender, closed since,
// restore could not bind again to send it: one bound to a relative name
// (from where?), or one sending to an unnamed socket (only its peer could,
// and s is connected to a closed one now). Restore binds a closed
// sender's abstract or absolute name again for the time of the send.
func (d *dumper) checkSender(s *unixSock, q *image.UnixQueue) error {
	if len(q.Sender) == 0 || s.rec.SockType != unix.SOCK_DGRAM {
		return nil
	}
	for _, o := range d.ux.order {
		if o.rec.SockType == unix.SOCK_DGRAM && string(o.rec.Name) == string(q.Sender) {
			return nil // a socket of the tree sends it again
		}
	}
	switch {
	case q.Sender[0] != 0 && q.Sender[0] != '/':
		return unsupported(s.pid, s.what(), "a queued datagram from %q, a relative name whose socket was closed: where that name was bound cannot be told", q.Sender)
	case len(s.rec.Name) == 0:
		return unsupported(s.pid, s.what(), "a queued datagram from %s, closed since, on an unnamed socket: nothing but its closed peer could send it", printName(q.Sender))
	}
	return nil
}
