package integration

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/image/imagetest"
)

// Issue 11, "no host path operations on container-controlled paths": a
// container's process leads its paths through an absolute symlink, /x ->
// DIR, where DIR is also a directory of the host holding files of the
// host's own. Checkpoint and restore must act on the container's DIR (its
// root's), never on the host's: the host's files keep their content and
// mode, and an inotify watcher on the host's DIR sees nothing at all.

var hostDirSeq atomic.Int32

// hostVictims is a host directory with files a restore must not touch,
// watched by inotify from before the container starts.
type hostVictims struct {
	t     *testing.T
	dir   string
	inFd  int
	fifo  string
	files map[string]string // name -> content, mode 0644
}

func newHostVictims(t *testing.T) *hostVictims {
	t.Helper()
	dir := fmt.Sprintf("/tmp/ckpt-victim-%d-%d", os.Getpid(), hostDirSeq.Add(1))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h := &hostVictims{t: t, dir: dir, files: map[string]string{"victim": "host file\n", "sock2": "host file 2\n"}}
	t.Cleanup(func() {
		unix.Close(h.inFd)
		os.RemoveAll(dir)
	})
	for name, content := range h.files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h.fifo = filepath.Join(dir, "hostfifo")
	if err := unix.Mkfifo(h.fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	h.inFd = fd
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_ALL_EVENTS); err != nil {
		t.Fatal(err)
	}
	return h
}

// untouched fails the test if anything happened in the host directory:
// an inotify event (open, access, attribute change, create, delete...), a
// file gone, another mode or content, data in the host's FIFO.
func (h *hostVictims) untouched(when string) {
	h.t.Helper()
	buf := make([]byte, 64<<10)
	n, err := unix.Read(h.inFd, buf)
	if err == nil && n > 0 {
		var evs []string
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := strings.TrimRight(string(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)]), "\x00")
			evs = append(evs, fmt.Sprintf("%#x on %q", ev.Mask, name))
			off += unix.SizeofInotifyEvent + int(ev.Len)
		}
		h.t.Fatalf("%s: the host directory %s saw events: %v", when, h.dir, evs)
	} else if err != nil && !errors.Is(err, unix.EAGAIN) {
		h.t.Fatal(err)
	}
	ents, err := os.ReadDir(h.dir)
	if err != nil {
		h.t.Fatal(err)
	}
	if len(ents) != len(h.files)+1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		h.t.Fatalf("%s: the host directory holds %v", when, names)
	}
	for name, content := range h.files {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(h.dir, name), &st); err != nil {
			h.t.Fatalf("%s: host file %s: %v", when, name, err)
		}
		if st.Mode != unix.S_IFREG|0o644 || st.Size != int64(len(content)) {
			h.t.Fatalf("%s: host file %s has mode %#o, size %d", when, name, st.Mode, st.Size)
		}
	}
	// Reading them shows up as events: the watcher has been read above,
	// and is drained again after.
	for name, content := range h.files {
		if b, err := os.ReadFile(filepath.Join(h.dir, name)); err != nil || string(b) != content {
			h.t.Fatalf("%s: host file %s holds %q (%v)", when, name, b, err)
		}
	}
	fd, err := unix.Open(h.fifo, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	queued, err := unix.IoctlGetInt(fd, unix.TIOCINQ)
	unix.Close(fd)
	if err != nil || queued != 0 {
		h.t.Fatalf("%s: the host FIFO holds %d bytes (%v)", when, queued, err)
	}
	for {
		if _, err := unix.Read(h.inFd, buf); err != nil {
			break
		}
	}
}

// pathEscapeBundle builds testdata/pathescape.c into a busybox bundle that
// runs it with the host directory's path and features.
func pathEscapeBundle(t *testing.T, rt *ociRuntime, name, hostDir, features string) string {
	t.Helper()
	b := rt.bundle(name, nil, "/bin/pathescape", hostDir, features)
	bin := filepath.Join(b, "rootfs", "bin", "pathescape")
	if out, err := exec.Command("gcc", "-O2", "-static", "-o", bin, "testdata/pathescape.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc pathescape.c: %v\n%s", err, out)
	}
	return b
}

// pathEscapeCheck has the container check its own state and fails the
// test unless it says PASS.
func pathEscapeCheck(t *testing.T, b, id string) {
	t.Helper()
	rootfs := filepath.Join(b, "rootfs")
	os.Remove(filepath.Join(rootfs, "result"))
	if err := os.WriteFile(filepath.Join(rootfs, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var res []byte
	waitFor(t, id+" to check itself", func() bool {
		var err error
		res, err = os.ReadFile(filepath.Join(rootfs, "result"))
		return err == nil
	})
	if string(res) != "PASS" {
		t.Fatalf("%s after restore: %s", id, res)
	}
}

func startPathEscape(t *testing.T, rt *ociRuntime, b, id string) {
	t.Helper()
	rt.ok("run", "-d", "--bundle", b, id)
	waitFor(t, id+" to set up", func() bool {
		_, err := os.Stat(filepath.Join(b, "rootfs", "ready"))
		return err == nil
	})
}

// TestRuntimePathEscape is reproduction 1 of issue 11: bind(AF_UNIX,
// "/x/victim") then unlink it, through the container's /x -> DIR; the
// restore re-binds the socket inside the container and removes its file
// there, not the host's DIR/victim.
func TestRuntimePathEscape(t *testing.T) {
	rt := newOCIRuntime(t)
	host := newHostVictims(t)
	b := pathEscapeBundle(t, rt, "escape", host.dir, "sock")
	id := fmt.Sprintf("esc%d", os.Getpid())
	startPathEscape(t, rt, b, id)
	img := filepath.Join(rt.dir, "img")
	rt.ok("checkpoint", "--image-path", img, id)
	host.untouched("checkpoint")
	rt.ok("restore", "--bundle", b, "--image-path", img, "-d", id+"r")
	host.untouched("restore")
	pathEscapeCheck(t, b, id+"r")
	rt.ok("delete", "--force", id+"r")
	host.untouched("the end")
}

// TestRuntimePathEscapeFiles: a socket still bound through the symlink
// (its file's mode restored inside the container), a FIFO reached through
// it, an inotify watch; then the container's file system changed between
// checkpoint and restore (the watched directory swapped for a symlink to
// the host's DIR), and images rewritten with hostile paths. Each restore
// either works inside the container or is refused; the host never sees a
// thing.
func TestRuntimePathEscapeFiles(t *testing.T) {
	rt := newOCIRuntime(t)
	host := newHostVictims(t)
	b := pathEscapeBundle(t, rt, "escape", host.dir, "sock2,fifo,inotify,deleted")
	id := fmt.Sprintf("escf%d", os.Getpid())
	startPathEscape(t, rt, b, id)
	img := filepath.Join(rt.dir, "img")
	rt.ok("checkpoint", "--image-path", img, id)
	host.untouched("checkpoint")

	// The watched directory is now a symlink to the host's: refused.
	w := filepath.Join(b, "rootfs", "w")
	if err := os.Rename(w, w+".saved"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(host.dir, w); err != nil {
		t.Fatal(err)
	}
	rt.fails("was replaced since the checkpoint", "restore", "--bundle", b, "--image-path", img, "-d", id+"w")
	rt.gone(id + "w")
	host.untouched("restore with /w swapped")
	if err := os.Remove(w); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(w+".saved", w); err != nil {
		t.Fatal(err)
	}

	// The directory the deleted file was in, and the FIFO is in, is now
	// a symlink to the host's: nothing is made or opened there.
	v := filepath.Join(b, "rootfs", host.dir)
	if err := os.Rename(v, v+".saved"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(host.dir, v); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := rt.try("restore", "--bundle", b, "--image-path", img, "-d", id+"v"); err == nil {
		t.Fatalf("restore with %s swapped for a symlink worked", host.dir)
	} else {
		t.Logf("restore with %s swapped for a symlink: %s", host.dir, strings.TrimSpace(stderr))
	}
	rt.gone(id + "v")
	host.untouched("restore with the directory swapped")
	if err := os.Remove(v); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(v+".saved", v); err != nil {
		t.Fatal(err)
	}

	rt.ok("restore", "--bundle", b, "--image-path", img, "-d", id+"r")
	host.untouched("restore")
	pathEscapeCheck(t, b, id+"r")
	rt.ok("delete", "--force", id+"r")
	host.untouched("delete")

	var fifoSt unix.Stat_t
	if err := unix.Stat(host.fifo, &fifoSt); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		edit func(image.Record) image.Record
		want string // "" when the restore may work (inside the container)
	}{
		{"socket mode setuid", func(r image.Record) image.Record {
			if u, ok := r.(*image.UnixSk); ok && len(u.Name) > 0 {
				u.Mode = 0o4777
			}
			return r
		}, ""},
		{"socket name through ..", func(r image.Record) image.Record {
			if u, ok := r.(*image.UnixSk); ok && len(u.Name) > 0 {
				u.Name = []byte("/../../../.." + host.dir + "/sock2")
			}
			return r
		}, ""},
		{"FIFO at a host FIFO", func(r image.Record) image.Record {
			if f, ok := r.(*image.Fifo); ok {
				f.Path, f.Dev, f.Ino = host.fifo, fifoSt.Dev, fifoSt.Ino
			}
			return r
		}, "hostfifo"},
		{"FIFO path with ..", func(r image.Record) image.Record {
			if f, ok := r.(*image.Fifo); ok {
				f.Path = "/../../../.." + host.fifo
			}
			return r
		}, "FIFO path"},
		{"deleted file in a host directory", func(r image.Record) image.Record {
			if d, ok := r.(*image.DeletedFile); ok {
				d.Path = "/../../../.." + host.dir + "/victim"
			}
			return r
		}, "DELETED_FILE path"},
		{"watch of a host directory", func(r image.Record) image.Record {
			if iw, ok := r.(*image.InotifyWatch); ok {
				iw.Path = "/../.." + host.dir
			}
			return r
		}, "INOTIFY_WATCH path"},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			bad := filepath.Join(rt.dir, "img-"+strings.ReplaceAll(c.name, " ", "_"))
			rewriteImage(t, filepath.Join(img, "image.ckpt"), filepath.Join(bad, "image.ckpt"), c.edit)
			cid := fmt.Sprintf("%s-%d", strings.ReplaceAll(c.name, " ", "_"), os.Getpid())
			if c.want == "" {
				_, stderr, err := rt.try("restore", "--bundle", b, "--image-path", bad, "-d", cid)
				if err == nil {
					rt.ok("delete", "--force", cid)
				}
				t.Logf("restore: %v %s", err, strings.TrimSpace(stderr))
			} else {
				rt.fails(c.want, "restore", "--bundle", b, "--image-path", bad, "-d", cid)
			}
			rt.gone(cid)
			host.untouched(c.name)
		})
	}
}

// rewriteImage copies the image at in to out, each record through edit,
// with a valid digest: only the content is hostile.
func rewriteImage(t *testing.T, in, out string, edit func(image.Record) image.Record) {
	t.Helper()
	if err := imagetest.Rewrite(in, out, edit); err != nil {
		t.Fatal(err)
	}
}
