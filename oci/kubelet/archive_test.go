package kubelet

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type entry struct {
	name, link string
	typ        byte
	data       string
}

func writeTar(t *testing.T, ents []entry, gz bool) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.data))}
		if e.typ == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := io.WriteString(tw, e.data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if gz {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(b)
		zw.Close()
		b = z.Bytes()
	}
	p := filepath.Join(t.TempDir(), "a.tar")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var good = []entry{
	{name: "checkpoint/", typ: tar.TypeDir},
	{name: "checkpoint/image.ckpt", data: "IMAGE"},
	{name: "config.dump", data: `{"id":"abc","name":"web","rootfsImageName":"busybox","runtime":"io.containerd.ckpt.v2","createdTime":"2026-01-02T03:04:05Z"}`},
	{name: "spec.dump", data: `{"ociVersion":"1.2.0"}`},
	{name: "status", data: `{}`},
	{name: "rootfs-diff.tar", data: "DIFF"},
	{name: "container.log", data: "log\n"},
}

func TestOpen(t *testing.T) {
	for _, gz := range []bool{false, true} {
		p := writeTar(t, good, gz)
		if !IsArchive(p) {
			t.Fatalf("gzip %v: not recognised as an archive", gz)
		}
		a, err := Open(p, Limits{})
		if err != nil {
			t.Fatalf("gzip %v: %v", gz, err)
		}
		if a.Config.Name != "web" || a.Config.OCIRuntime != "io.containerd.ckpt.v2" || a.Engine != "containerd" {
			t.Fatalf("config %+v engine %s", a.Config, a.Engine)
		}
		if a.CheckpointSize() != 5 || a.Size(RootfsDiff) != 4 {
			t.Fatalf("sizes %d %d", a.CheckpointSize(), a.Size(RootfsDiff))
		}
		var got []byte
		if err := a.Read(ImageMember, func(r io.Reader) error {
			var err error
			got, err = io.ReadAll(r)
			return err
		}); err != nil || string(got) != "IMAGE" {
			t.Fatalf("read image: %q %v", got, err)
		}
	}
}

func TestOpenRefuses(t *testing.T) {
	big := strings.Repeat("x", 100)
	for _, c := range []struct {
		name string
		add  entry
		lim  Limits
		want string
	}{
		{"traversal", entry{name: "../../etc/passwd", data: "x"}, Limits{}, "leads out"},
		{"traversal inside", entry{name: "checkpoint/../../x", data: "x"}, Limits{}, "leads out"},
		{"absolute", entry{name: "/etc/cron.d/x", data: "x"}, Limits{}, "absolute"},
		{"symlinked log", entry{name: "container.log", typ: tar.TypeSymlink, link: "/etc/shadow"}, Limits{}, "symbolic link"},
		{"hard link", entry{name: "checkpoint/x", typ: tar.TypeLink, link: "/etc/shadow"}, Limits{}, "hard link"},
		{"device", entry{name: "checkpoint/mem", typ: tar.TypeChar}, Limits{}, "device"},
		{"fifo", entry{name: "checkpoint/f", typ: tar.TypeFifo}, Limits{}, "FIFO"},
		{"twice", entry{name: "config.dump", data: `{"name":"evil"}`}, Limits{}, "twice"},
		{"oversized member", entry{name: "checkpoint/big", data: big}, Limits{Member: 50}, "more than 50"},
		{"oversized total", entry{name: "checkpoint/big", data: big}, Limits{Total: 100}, "more than 100"},
		{"oversized metadata", entry{name: "status.dump", data: `"` + big + `"`}, Limits{Metadata: 50}, "more than 50"},
	} {
		ents := append([]entry{}, good...)
		if c.add.name == "container.log" {
			ents = ents[:len(ents)-1]
		}
		ents = append(ents, c.add)
		_, err := Open(writeTar(t, ents, false), c.lim)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
	if _, err := Open(writeTar(t, good[:2], false), Limits{}); err == nil || !strings.Contains(err.Error(), "no config.dump") {
		t.Errorf("no config.dump: %v", err)
	}
}
