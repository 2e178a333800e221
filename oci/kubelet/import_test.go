package kubelet

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/ckpt/ckpt/image"
)

// containerImage is a minimal complete image of a container.
func containerImage(t *testing.T) string {
	t.Helper()
	var b bytes.Buffer
	w := image.NewWriter(&b)
	if err := w.Write(image.NewHeader()); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&image.Container{ID: "web"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestFilesTar: the CRI layer holds the archive's regular files with
// their directories (made even when the archive lists none), nothing
// else; a damaged image is refused while copied.
func TestFilesTar(t *testing.T) {
	ents := []entry{
		{name: "checkpoint/image.ckpt", data: containerImage(t)},
		{name: "config.dump", data: `{"id":"abc","name":"web"}`},
		{name: "spec.dump", data: `{}`},
		{name: "rootfs-diff.tar", data: "DIFF"},
	}
	a, err := Open(writeTar(t, ents, true), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := a.filesTar(&buf); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	var got []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeDir {
			t.Errorf("%s: type %c", h.Name, h.Typeflag)
		}
		got = append(got, h.Name)
	}
	if want := "checkpoint/ checkpoint/image.ckpt config.dump spec.dump rootfs-diff.tar"; strings.Join(got, " ") != want {
		t.Errorf("layer holds %q, want %q", got, want)
	}
	ents[0].data = "not an image, but long enough to be read as one's header......."
	a, err = Open(writeTar(t, ents, false), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.filesTar(io.Discard); err == nil {
		t.Error("a damaged image went into the CRI layer")
	}
}

// TestCheckTarNames: a rootfs diff whose entries lead out of the root
// file system (.., absolute names, hard links out) is refused by import.
func TestCheckTarNames(t *testing.T) {
	for _, c := range []struct {
		h    tar.Header
		want string
	}{
		{tar.Header{Name: "../etc/cron.d/x", Typeflag: tar.TypeReg}, "leads out"},
		{tar.Header{Name: "a/../../x", Typeflag: tar.TypeReg}, "leads out"},
		{tar.Header{Name: "/etc/x", Typeflag: tar.TypeReg}, "leads out"},
		{tar.Header{Name: "x", Typeflag: tar.TypeLink, Linkname: "/etc/shadow"}, "hard link"},
		{tar.Header{Name: "x", Typeflag: tar.TypeLink, Linkname: "a/../../etc/shadow"}, "hard link"},
		{tar.Header{Name: "ok", Typeflag: tar.TypeReg}, ""},
	} {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		if err := tw.WriteHeader(&c.h); err != nil {
			t.Fatal(err)
		}
		tw.Close()
		err := checkTarNames(&b)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s (%q): %v, want %q", c.h.Name, c.h.Linkname, err, c.want)
		}
	}
}

// TestImportSpec: the old pod's namespace paths are dropped; restore
// flags come from the importer only, never from the archive's spec.
func TestImportSpec(t *testing.T) {
	raw := `{"annotations":{"io.ckpt.restore.flag.ext-unix-sk":"true","io.ckpt.restore.rootfs-copy":"true","io.kubernetes.cri.container-name":"web"},
		"linux":{"namespaces":[{"type":"pid","path":"/proc/77/ns/pid"},{"type":"network","path":"/var/run/netns/cni-1"},{"type":"mount"}]}}`
	spec, err := importSpec([]byte(raw), []string{"tcp-established"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Path != "" {
			t.Errorf("namespace %s keeps the old pod's path %s", ns.Type, ns.Path)
		}
	}
	want := map[string]string{"io.ckpt.restore.flag.tcp-established": "true", "io.kubernetes.cri.container-name": "web"}
	if len(spec.Annotations) != len(want) {
		t.Errorf("annotations %v, want %v", spec.Annotations, want)
	}
	for k, v := range want {
		if spec.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, spec.Annotations[k], v)
		}
	}
}
