package oci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckDirRefuses(t *testing.T) {
	empty := t.TempDir()
	if _, err := CheckDir(empty); err == nil || !strings.Contains(err.Error(), "holds no image.ckpt") {
		t.Errorf("a directory without the image: %v", err)
	}
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, ImageName), []byte("not an image at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckDir(bad); err == nil || !strings.Contains(err.Error(), "corrupt image image.ckpt") {
		t.Errorf("a corrupt image: %v", err)
	}
}

// TestCheckPidns: a shared pid namespace's container goes back only into
// a shared one, a container with its own pid namespace only into its own.
func TestCheckPidns(t *testing.T) {
	own := &specs.Spec{Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}}}}
	pod := &specs.Spec{Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace, Path: "/proc/1/ns/pid"}}}}
	for _, c := range []struct {
		shared bool
		spec   *specs.Spec
		want   string
	}{
		{false, own, ""},
		{true, pod, ""},
		{true, own, "shared its pod's pid namespace"},
		{false, pod, "cannot be restored into a shared pid namespace"},
	} {
		err := CheckPidns(&Checkpoint{FirstPid: 7, SharedPidns: c.shared}, c.spec)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("shared %v, spec path %q: %v, want %q", c.shared, c.spec.Linux.Namespaces[0].Path, err, c.want)
		}
	}
}
