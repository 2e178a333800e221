// Package kubelet reads the checkpoint archives the kubelet's checkpoint
// API has a container runtime write (KEP-2008; containerd's CRI plugin
// and CRI-O write the same layout): a tar holding checkpoint/ (for ckpt,
// checkpoint/image.ckpt), config.dump, spec.dump, status.dump,
// rootfs-diff.tar, container.log and a few more.
//
// An archive is untrusted: it comes off a node and is read by people and
// tools as root. Open checks every member before anything is used: names
// relative, clean and without "..", only directories and regular files
// (no symbolic or hard links, which could lead out of wherever it is
// unpacked, no devices or FIFOs), no name twice, sizes bounded. Nothing is
// unpacked: members are read straight out of the tar, so a hostile
// archive cannot make anything be written or read outside it.
package kubelet

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"
)

// Member names of a kubelet checkpoint archive.
const (
	CheckpointDir = "checkpoint"
	// ImageMember is ckpt's image (oci.ImageName) in the checkpoint
	// directory.
	ImageMember      = CheckpointDir + "/image.ckpt"
	ConfigDump       = "config.dump"
	SpecDump         = "spec.dump"
	StatusDump       = "status.dump"
	RootfsDiff       = "rootfs-diff.tar"
	ContainerLog     = "container.log"
	DefaultDirectory = "/var/lib/kubelet/checkpoints"
)

// Limits bound what an archive may hold.
type Limits struct {
	// Metadata bounds each JSON member read into memory (config.dump,
	// spec.dump, status.dump, status).
	Metadata int64
	// Member bounds any other member (the image, the rootfs diff, the log).
	Member int64
	// Total bounds the sum of all members.
	Total int64
	// Members bounds their number.
	Members int
}

// DefaultLimits fit any container a node can run: the image holds its
// memory.
var DefaultLimits = Limits{Metadata: 4 << 20, Member: 64 << 30, Total: 128 << 30, Members: 10000}

// Member is one entry of the archive.
type Member struct {
	Name string    `json:"name"`
	Dir  bool      `json:"dir,omitempty"`
	Size int64     `json:"size"`
	Mode int64     `json:"mode"`
	Time time.Time `json:"time"`
}

// Config is config.dump: what the container engine says of the container.
// Field names are the engine's (containerd's and CRI-O's are the same).
type Config struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	RootfsImage     string    `json:"rootfsImage,omitempty"`
	RootfsImageRef  string    `json:"rootfsImageRef,omitempty"`
	RootfsImageName string    `json:"rootfsImageName,omitempty"`
	OCIRuntime      string    `json:"runtime,omitempty"`
	CreatedTime     time.Time `json:"createdTime"`
	CheckpointedAt  time.Time `json:"checkpointedTime"`
	RestoredAt      time.Time `json:"restoredTime"`
	Restored        bool      `json:"restored"`
}

// Archive is an opened, checked archive.
type Archive struct {
	Path    string
	Members []Member
	Config  Config
	// Spec, Status are spec.dump and status.dump as they are (JSON), nil
	// when absent.
	Spec, Status []byte
	// Engine is the container engine that wrote it, as far as the
	// members tell (containerd writes a "status" file, CRI-O does not).
	Engine string
	lim    Limits
	byName map[string]*Member
}

// Open reads and checks the archive at p (a tar, or a gzip-compressed
// one) with the given limits (zero fields: DefaultLimits').
func Open(p string, lim Limits) (*Archive, error) {
	d := DefaultLimits
	if lim.Metadata == 0 {
		lim.Metadata = d.Metadata
	}
	if lim.Member == 0 {
		lim.Member = d.Member
	}
	if lim.Total == 0 {
		lim.Total = d.Total
	}
	if lim.Members == 0 {
		lim.Members = d.Members
	}
	a := &Archive{Path: p, lim: lim, byName: map[string]*Member{}}
	meta := map[string][]byte{}
	err := a.walk(func(m *Member, r io.Reader) error {
		switch m.Name {
		case ConfigDump, SpecDump, StatusDump, "status":
			if m.Size > lim.Metadata {
				return fmt.Errorf("archive %s: member %s: %d bytes, more than %d", p, m.Name, m.Size, lim.Metadata)
			}
			b, err := io.ReadAll(io.LimitReader(r, lim.Metadata+1))
			if err != nil {
				return fmt.Errorf("archive %s: member %s: %w", p, m.Name, err)
			}
			meta[m.Name] = b
		}
		return nil
	}, true)
	if err != nil {
		return nil, err
	}
	cfg, ok := meta[ConfigDump]
	if !ok {
		return nil, fmt.Errorf("archive %s: no %s: not a container checkpoint archive", p, ConfigDump)
	}
	if err := json.Unmarshal(cfg, &a.Config); err != nil {
		return nil, fmt.Errorf("archive %s: %s: %w", p, ConfigDump, err)
	}
	a.Spec, a.Status = meta[SpecDump], meta[StatusDump]
	for _, b := range [][]byte{a.Spec, a.Status} {
		if b != nil && !json.Valid(b) {
			return nil, fmt.Errorf("archive %s: a metadata member is not JSON", p)
		}
	}
	a.Engine = "CRI-O"
	if _, ok := meta["status"]; ok {
		a.Engine = "containerd"
	}
	return a, nil
}

// walk reads the archive's members in order, checking each (with check:
// names, kinds, sizes, duplicates, counted into a.Members), and calls fn
// with each regular file's content.
func (a *Archive) walk(fn func(*Member, io.Reader) error, check bool) error {
	f, err := os.Open(a.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("archive %s is not a regular file", a.Path)
	}
	br := bufio.NewReader(f)
	var src io.Reader = br
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("archive %s: %w", a.Path, err)
		}
		defer zr.Close()
		src = zr
	}
	tr := tar.NewReader(src)
	var total int64
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if n == 0 {
				return fmt.Errorf("archive %s is empty", a.Path)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("archive %s: member %d: %w", a.Path, n+1, err)
		}
		m, err := member(h)
		if err != nil {
			return fmt.Errorf("archive %s: %w", a.Path, err)
		}
		if check {
			if n >= a.lim.Members {
				return fmt.Errorf("archive %s: more than %d members", a.Path, a.lim.Members)
			}
			if _, dup := a.byName[m.Name]; dup {
				return fmt.Errorf("archive %s: member %s appears twice", a.Path, m.Name)
			}
			if m.Size > a.lim.Member {
				return fmt.Errorf("archive %s: member %s: %d bytes, more than %d", a.Path, m.Name, m.Size, a.lim.Member)
			}
			if total += m.Size; total > a.lim.Total {
				return fmt.Errorf("archive %s: members hold more than %d bytes", a.Path, a.lim.Total)
			}
			a.Members = append(a.Members, *m)
			a.byName[m.Name] = &a.Members[len(a.Members)-1]
		}
		if m.Dir {
			continue
		}
		// The tar reader stops at the header's size: a member is never
		// read past what was checked.
		if err := fn(m, tr); err != nil {
			return err
		}
	}
}

// member checks one header: a directory or a regular file with a clean
// relative name.
func member(h *tar.Header) (*Member, error) {
	name := h.Name
	switch {
	case name == "" || strings.ContainsRune(name, 0):
		return nil, fmt.Errorf("member with an empty or NUL-bearing name")
	case strings.HasPrefix(name, "/"):
		return nil, fmt.Errorf("member %q: absolute name", name)
	}
	trimmed := strings.TrimSuffix(strings.TrimPrefix(name, "./"), "/")
	for _, part := range strings.Split(trimmed, "/") {
		if part == ".." {
			return nil, fmt.Errorf("member %q: name leads out of the archive (..)", name)
		}
	}
	clean := path.Clean(trimmed)
	if clean != trimmed || clean == "." {
		return nil, fmt.Errorf("member %q: name is not clean", name)
	}
	m := &Member{Name: clean, Mode: h.Mode, Time: h.ModTime}
	switch h.Typeflag {
	case tar.TypeDir:
		m.Dir = true
	case tar.TypeReg, tar.TypeRegA: //nolint:staticcheck // old tars write TypeRegA
		if h.Size < 0 {
			return nil, fmt.Errorf("member %s: negative size", clean)
		}
		m.Size = h.Size
	case tar.TypeSymlink:
		return nil, fmt.Errorf("member %s: a symbolic link (to %q): refused, it could lead out of the archive", clean, h.Linkname)
	case tar.TypeLink:
		return nil, fmt.Errorf("member %s: a hard link (to %q): refused, it could lead out of the archive", clean, h.Linkname)
	case tar.TypeChar, tar.TypeBlock:
		return nil, fmt.Errorf("member %s: a device node: refused", clean)
	case tar.TypeFifo:
		return nil, fmt.Errorf("member %s: a FIFO: refused", clean)
	default:
		return nil, fmt.Errorf("member %s: entry type %q: refused", clean, h.Typeflag)
	}
	return m, nil
}

// Member returns the member named name, or nil.
func (a *Archive) Member(name string) *Member { return a.byName[name] }

// Size is the size of member name, 0 if absent.
func (a *Archive) Size(name string) int64 {
	if m := a.byName[name]; m != nil {
		return m.Size
	}
	return 0
}

// CheckpointSize is the size of everything under checkpoint/.
func (a *Archive) CheckpointSize() int64 {
	var n int64
	for _, m := range a.Members {
		if strings.HasPrefix(m.Name, CheckpointDir+"/") {
			n += m.Size
		}
	}
	return n
}

// ErrStop, returned by an Open callback, ends the walk without error.
var errStop = errors.New("stop")

// Read calls fn with the content of member name (a regular file checked
// by Open), read straight from the archive.
func (a *Archive) Read(name string, fn func(io.Reader) error) error {
	m := a.byName[name]
	if m == nil || m.Dir {
		return fmt.Errorf("archive %s has no file %s", a.Path, name)
	}
	found := false
	err := a.walk(func(x *Member, r io.Reader) error {
		if x.Name != name {
			return nil
		}
		found = true
		// The archive may have changed since Open: the size is checked
		// again.
		if x.Size != m.Size {
			return fmt.Errorf("archive %s: member %s changed since it was checked", a.Path, name)
		}
		if err := fn(io.LimitReader(r, x.Size)); err != nil {
			return err
		}
		return errStop
	}, false)
	if errors.Is(err, errStop) {
		err = nil
	}
	if err == nil && !found {
		err = fmt.Errorf("archive %s: member %s gone since it was checked", a.Path, name)
	}
	return err
}

// IsArchive tells whether the file at p looks like a tar (ustar magic) or
// a gzip stream, without reading more than its first block.
func IsArchive(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	var b [512]byte
	n, _ := io.ReadFull(f, b[:])
	if n >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		return true
	}
	return n == 512 && bytes.HasPrefix(b[257:], []byte("ustar"))
}
